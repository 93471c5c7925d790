using System.Diagnostics;
using NeuralPure.Facade.Data;

namespace NeuralPure.Fuzz;

/// <summary>Writes a large numeric CSV on the fly (never committed), loads it with <see cref="CsvReader"/>, and reports peak memory
/// against the size of the numbers it holds (8 bytes per value): the streaming claim, measured.</summary>
internal static class BigCsv
{
    private const int Features = 10;

    public static int Run(double gigabytes, string dir, bool keep)
    {
        string path = Path.Combine(dir, $"neuralpure-big-{Environment.ProcessId}.csv");
        try
        {
            var write = Stopwatch.StartNew();
            long rows = Write(path, (long)(gigabytes * (1L << 30)));
            long fileBytes = new FileInfo(path).Length;
            Console.WriteLine($"wrote {path}: {fileBytes:N0} bytes, {rows:N0} rows × {Features + 1} columns in {write.Elapsed.TotalSeconds:F1} s");

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            long baseWs = self.WorkingSet64, baseHeap = GC.GetTotalMemory(false), basePeak = self.PeakWorkingSet64;
            long peakWs = baseWs, peakHeap = baseHeap;
            using var stop = new CancellationTokenSource();
            var sampler = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    peakWs = Math.Max(peakWs, Environment.WorkingSet);
                    peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                    Thread.Sleep(5);
                }
            }) { IsBackground = true };
            sampler.Start();

            var load = Stopwatch.StartNew();
            var t = CsvReader.Load(path);
            double seconds = load.Elapsed.TotalSeconds;
            stop.Cancel();
            sampler.Join();
            self.Refresh();
            long values = (long)t.X.Length + t.Y.Length;
            long numbers = values * 8;
            long osPeak = Math.Max(self.PeakWorkingSet64, peakWs);
            Console.WriteLine($"loaded {t.Rows:N0} rows × {t.Features} features + target = {values:N0} values = {numbers:N0} bytes of doubles, in {seconds:F1} s ({fileBytes / seconds / 1e6:F0} MB/s)");
            Console.WriteLine($"baseline before loading: working set {baseWs:N0} B, managed heap {baseHeap:N0} B (process peak so far {basePeak:N0} B)");
            Console.WriteLine($"peak working set {osPeak:N0} B: {osPeak - baseWs:N0} B above the baseline = {(double)(osPeak - baseWs) / numbers:F2}× the numbers ({(double)osPeak / numbers:F2}× counting the whole process)");
            Console.WriteLine($"peak managed heap (sampled every 5 ms) {peakHeap:N0} B = {(double)(peakHeap - baseHeap) / numbers:F2}× the numbers above the baseline");
            Console.WriteLine($"after loading: managed heap {GC.GetTotalMemory(false):N0} B; GCs gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}");
            GC.KeepAlive(t);
            return 0;
        }
        finally
        {
            if (!keep) File.Delete(path);
        }
    }

    /// <summary>Rows of ten values like 0.1234 and a class label 0–9, until the file reaches <paramref name="targetBytes"/>.</summary>
    private static long Write(string path, long targetBytes)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var header = System.Text.Encoding.ASCII.GetBytes(string.Join(",", Enumerable.Range(0, Features).Select(i => $"f{i}")) + ",label\n");
        fs.Write(header);
        var line = new byte[Features * 7 + 2];
        long written = header.Length, rows = 0;
        uint state = 12345;
        while (written < targetBytes)
        {
            int p = 0;
            for (int j = 0; j < Features; j++)
            {
                state = state * 1664525 + 1013904223;
                uint v = (state >> 8) % 10000;
                line[p++] = (byte)'0'; line[p++] = (byte)'.';
                line[p++] = (byte)('0' + v / 1000); line[p++] = (byte)('0' + v / 100 % 10); line[p++] = (byte)('0' + v / 10 % 10); line[p++] = (byte)('0' + v % 10);
                line[p++] = (byte)',';
            }
            line[p++] = (byte)('0' + (state >> 28) % 10);
            line[p++] = (byte)'\n';
            fs.Write(line, 0, p);
            written += p;
            rows++;
        }
        return rows;
    }
}
