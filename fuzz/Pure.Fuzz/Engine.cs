using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NeuralPure.Facade.Data;

namespace NeuralPure.Fuzz;

/// <summary>What one input did.</summary>
internal enum Outcome { Ok, DataFormat, Other }

internal sealed record ExecResult(Outcome Outcome, string Signature, Exception? Error, long Allocated, double Milliseconds);

/// <summary>Runs inputs on the calling thread, measuring allocation per input (GC.GetAllocatedBytesForCurrentThread); a watchdog
/// thread notices an input that runs longer than the timeout (a hang), records it and ends the process, since a managed thread
/// cannot be aborted. The input being run is also kept in a memory-mapped file, so that an input that kills the process (stack
/// overflow, fail-fast) is reported by the next run instead of being lost.</summary>
internal sealed class Runner : IDisposable
{
    private const int MaxInput = 1 << 20;
    private readonly System.IO.MemoryMappedFiles.MemoryMappedFile _map;
    private readonly System.IO.MemoryMappedFiles.MemoryMappedViewAccessor _view;
    private long _startedTicks; // 0 when idle
    private readonly Thread _watchdog;

    public Runner(string findingsDir, string target, TimeSpan timeout, Action<byte[], string> onHang)
    {
        Directory.CreateDirectory(findingsDir);
        string path = Path.Combine(findingsDir, ".in-flight");
        Died = ReadInFlight(path);
        _map = System.IO.MemoryMappedFiles.MemoryMappedFile.CreateFromFile(path, FileMode.OpenOrCreate, null, 8 + MaxInput);
        _view = _map.CreateViewAccessor();
        _view.Write(0, -1L);
        _watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(250);
                long t = Interlocked.Read(ref _startedTicks);
                if (t != 0 && Stopwatch.GetElapsedTime(t) > timeout)
                {
                    long len = _view.ReadInt64(0);
                    var input = new byte[Math.Max(0, len)];
                    _view.ReadArray(8, input, 0, input.Length);
                    onHang(input, $"{target}: no result after {timeout.TotalSeconds} s");
                    _view.Write(0, -1L);
                    _view.Flush();
                    Environment.Exit(3);
                }
            }
        }) { IsBackground = true, Name = "fuzz-watchdog" };
        _watchdog.Start();
    }

    /// <summary>The input a previous run was executing when its process died, if any.</summary>
    public byte[]? Died { get; }

    private static byte[]? ReadInFlight(string path)
    {
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) return null;
        long len = BitConverter.ToInt64(bytes, 0);
        return len >= 0 && len <= bytes.Length - 8 ? bytes[8..(8 + (int)len)] : null;
    }

    public ExecResult Run(byte[] input, Func<string> action)
    {
        int n = Math.Min(input.Length, MaxInput);
        _view.WriteArray(8, input, 0, n);
        _view.Write(0, (long)n);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _startedTicks, start);
        ExecResult r;
        try
        {
            string sig = action();
            r = new ExecResult(Outcome.Ok, sig, null, 0, 0);
        }
        catch (DataFormatException e) { r = new ExecResult(Outcome.DataFormat, "dfe:" + ThrowSite(e) + (e.InnerException is { } inner ? "<" + ThrowSite(inner) : ""), e, 0, 0); }
        catch (Exception e) { r = new ExecResult(Outcome.Other, $"other:{e.GetType().Name}", e, 0, 0); }
        Interlocked.Exchange(ref _startedTicks, 0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        _view.Write(0, -1L);
        return r with { Allocated = allocated, Milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds };
    }

    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }

    /// <summary>Where an exception was thrown (method and IL offset): which check refused the input. It is the coverage signal:
    /// an input refused by a check no input reached before joins the corpus.</summary>
    public static string ThrowSite(Exception e)
    {
        var f = new StackTrace(e, false).GetFrame(0);
        var m = f?.GetMethod();
        return m is null ? e.GetType().Name : $"{m.DeclaringType?.Name}.{m.Name}+{f!.GetILOffset()}";
    }

    /// <summary>The shape of an error message: numbers, quoted text and the source name removed, so two inputs failing the same
    /// check for different values count as one behaviour.</summary>
    public static string Normalize(string message)
    {
        var m = message.StartsWith("fuzz: ", StringComparison.Ordinal) ? message[6..] : message;
        var i = m.IndexOf(": ", StringComparison.Ordinal);
        if (i > 0 && (m.StartsWith('/') || m.Contains(Path.DirectorySeparatorChar))) m = m[(i + 2)..];
        m = Regex.Replace(m, @"'(?:[^']|'')*'( \(\d+ characters\))?", "Q");
        m = Regex.Replace(m, @"\d+(\.\d+)?(E[+-]?\d+)?", "#");
        m = Regex.Replace(m, @"\[[#, ]*\]", "[#]");
        return m.Length > 140 ? m[..140] : m;
    }
}

/// <summary>Mutation-based fuzzing with error-message coverage: an input that reaches a behaviour not seen before (a new success
/// shape, or a new kind of DataFormatException) joins the corpus and is mutated further.</summary>
internal sealed class Engine(Target target, string corpusDir, string findingsDir, int seed, TimeSpan timeout, int maxSaved)
{
    private readonly System.Random _rng = new(seed);
    private readonly List<byte[]> _corpus = [];
    private readonly HashSet<string> _signatures = [];
    private readonly HashSet<string> _findingKeys = [];
    private readonly Dictionary<Outcome, long> _outcomes = new() { [Outcome.Ok] = 0, [Outcome.DataFormat] = 0, [Outcome.Other] = 0 };
    private int _saved;

    public long Executions { get; private set; }
    public int Findings => _findingKeys.Count;
    public double MaxAllocationRatio { get; private set; }
    public long MaxAllocated { get; private set; }
    public double SlowestMs { get; private set; }
    public long LargestInput { get; private set; }

    public void LoadCorpus()
    {
        Directory.CreateDirectory(corpusDir);
        foreach (var f in Directory.EnumerateFiles(corpusDir).Order(StringComparer.Ordinal)) _corpus.Add(File.ReadAllBytes(f));
        if (_corpus.Count == 0)
            foreach (var (name, bytes) in target.Seeds())
            {
                _corpus.Add(bytes);
                File.WriteAllBytes(Path.Combine(corpusDir, $"seed-{name}.bin"), bytes);
            }
        foreach (var c in _corpus.ToList()) Execute(c, save: false); // learn the seeds' signatures
    }

    public int CorpusSize => _corpus.Count;

    public int Signatures => _signatures.Count;

    public IReadOnlyDictionary<Outcome, long> Outcomes => _outcomes;

    public void Run(TimeSpan duration, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (clock.Elapsed < duration)
        {
            var parent = _corpus[_rng.Next(_corpus.Count)];
            var input = Mutator.Mutate(parent, _corpus, target, _rng);
            Execute(input, save: true);
            if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(30))
            {
                lastReport = clock.Elapsed;
                log($"  {target.Name}: {clock.Elapsed.TotalSeconds:F0} s, {Executions:N0} executions ({Executions / clock.Elapsed.TotalSeconds:N0}/s), corpus {_corpus.Count}, behaviours {_signatures.Count}, findings {Findings}");
            }
        }
    }

    private Runner? _runner;
    private string? _scratch;

    private Runner Runner => _runner ??= CreateRunner();

    private Runner CreateRunner()
    {
        var r = new Runner(findingsDir, target.Name, timeout, (input, detail) => Report("hang", input, -1, detail));
        if (r.Died is { } died) Report("died", died, -1, "the previous run's process died while running this input (stack overflow or fail-fast)");
        return r;
    }

    private string Scratch => _scratch ??= Directory.CreateTempSubdirectory($"fuzz-{target.Name}-").FullName;

    public void Execute(byte[] input, bool save)
    {
        int variant = (int)(Fnv(input) % (uint)target.Variants);
        string scratch = Scratch;
        var r = Runner.Run(input, () => target.Run(input, variant, scratch));
        Executions++;
        LargestInput = Math.Max(LargestInput, input.Length);
        _outcomes[r.Outcome]++;
        SlowestMs = Math.Max(SlowestMs, r.Milliseconds);
        if (r.Outcome == Outcome.Other)
        {
            var frame = new StackTrace(r.Error!, false).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("NeuralPure", StringComparison.Ordinal) == true);
            Report($"crash-{r.Error!.GetType().Name}", input, variant, r.Error.ToString(), $"{r.Error.GetType().Name}@{frame?.GetMethod()?.Name}");
        }
        long real = target.RealSize(input);
        long bound = target.AllocationBound(input);
        double ratio = (double)r.Allocated / Math.Max(1, real);
        if (r.Allocated > MaxAllocated) MaxAllocated = r.Allocated;
        if (real >= 16384) MaxAllocationRatio = Math.Max(MaxAllocationRatio, ratio); // small inputs are dominated by the constant
        if (r.Allocated > bound) Report("alloc", input, variant, $"allocated {r.Allocated:N0} bytes for a {input.Length:N0}-byte input holding {real:N0} bytes (bound {bound:N0}); outcome {r.Outcome}: {r.Error?.Message ?? r.Signature}", $"alloc:{r.Signature}");
        if (_signatures.Add(r.Signature) && save)
        {
            _corpus.Add(input);
            if (input.Length <= 4096 && _saved < maxSaved)
            {
                _saved++;
                File.WriteAllBytes(Path.Combine(corpusDir, $"find-{Hash(input)}.bin"), input);
            }
        }
    }

    private void Report(string kind, byte[] input, int variant, string detail, string? key = null)
    {
        if (!_findingKeys.Add(key ?? kind)) return;
        Directory.CreateDirectory(findingsDir);
        string name = $"{kind}-{Hash(input)}";
        File.WriteAllBytes(Path.Combine(findingsDir, name + ".bin"), input);
        File.WriteAllText(Path.Combine(findingsDir, name + ".txt"), $"target {target.Name}, variant {variant}, {input.Length} bytes\n{detail}\n");
        Console.WriteLine($"  FINDING {target.Name}/{name} (variant {variant}): {detail.Split('\n')[0]}");
    }

    /// <summary>Replays one file and describes what happened (for turning findings into tests).</summary>
    public string Replay(byte[] input)
    {
        var sb = new StringBuilder();
        for (int v = 0; v < target.Variants; v++)
        {
            int variant = v;
            string scratch = Scratch;
            var r = Runner.Run(input, () => target.Run(input, variant, scratch));
            sb.AppendLine($"variant {v}: {r.Outcome} {r.Signature} allocated {r.Allocated:N0} (bound {target.AllocationBound(input):N0}) {r.Milliseconds:F1} ms{(r.Outcome == Outcome.Other ? "\n" + r.Error : "")}");
        }
        return sb.ToString();
    }

    public void Cleanup()
    {
        _runner?.Dispose();
        if (_scratch is not null) try { Directory.Delete(_scratch, true); } catch (IOException) { }
    }

    private static uint Fnv(byte[] b)
    {
        uint h = 2166136261;
        foreach (var x in b) h = (h ^ x) * 16777619;
        return h;
    }

    private static string Hash(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b))[..12];
}

/// <summary>Byte-level mutations (AFL's havoc, in spirit) stacked 1–8 deep, mixed with the target's structure-aware ones.</summary>
internal static class Mutator
{
    private const int MaxSize = 1 << 20;

    private static readonly byte[] InterestingBytes = [0, 1, 0x7f, 0x80, 0xff, 0x20, (byte)'"', (byte)',', (byte)'\n', (byte)'\r', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)'0', (byte)'9', (byte)'-', (byte)'e', (byte)'.'];

    private static readonly long[] InterestingInts = [0, 1, -1, 127, 128, 255, 256, 32767, 65535, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 31, 1L << 32, long.MaxValue, long.MinValue, 1L << 60];

    public static byte[] Mutate(byte[] parent, List<byte[]> corpus, Target target, System.Random rng)
    {
        var data = parent;
        int stack = 1 << rng.Next(4); // 1, 2, 4 or 8 edits
        for (int i = 0; i < stack; i++)
        {
            data = rng.Next(10) < 4 && TryStructure(target, data, rng) is { } s ? s : Havoc(data, corpus, target, rng);
            if (data.Length > target.MaxInput) data = data[..target.MaxInput]; // after every edit: repeated growth must not compound
        }
        return data;
    }

    /// <summary>A structure-aware edit; a mutator that trips over an input it cannot parse just declines.</summary>
    private static byte[]? TryStructure(Target target, byte[] data, System.Random rng)
    {
        try { return target.MutateStructure(data, rng); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or FormatException) { return null; }
    }

    private static byte[] Havoc(byte[] input, List<byte[]> corpus, Target target, System.Random rng)
    {
        var b = new List<byte>(input);
        int n = b.Count;
        switch (rng.Next(11))
        {
            case 0 when n > 0: { int p = rng.Next(n); b[p] ^= (byte)(1 << rng.Next(8)); break; }
            case 1 when n > 0: b[rng.Next(n)] = InterestingBytes[rng.Next(InterestingBytes.Length)]; break;
            case 2 when n >= 8:
            {
                int width = new[] { 2, 4, 8 }[rng.Next(3)];
                int p = rng.Next(n - width + 1);
                long v = InterestingInts[rng.Next(InterestingInts.Length)];
                var bytes = BitConverter.GetBytes(v)[..width];
                if (rng.Next(2) == 0) Array.Reverse(bytes); // big-endian too (IDX)
                for (int k = 0; k < width; k++) b[p + k] = bytes[k];
                break;
            }
            case 3: { var r = new byte[rng.Next(1, 17)]; rng.NextBytes(r); b.InsertRange(rng.Next(n + 1), r); break; }
            case 4 when target.Dictionary.Count > 0: b.InsertRange(rng.Next(n + 1), target.Dictionary[rng.Next(target.Dictionary.Count)]); break;
            case 5 when n > 1: { int p = rng.Next(n); b.RemoveRange(p, Math.Min(n - p, rng.Next(1, 65))); break; }
            case 6 when n > 1: { int p = rng.Next(n), len = Math.Min(n - p, rng.Next(1, 65)); b.InsertRange(rng.Next(n + 1), b.GetRange(p, len)); break; }
            case 7 when n > 0: { int p = rng.Next(n); b.RemoveRange(p, n - p); break; } // truncate
            case 8 when corpus.Count > 1:
            {
                var other = corpus[rng.Next(corpus.Count)];
                int cut = rng.Next(n + 1), from = rng.Next(other.Length + 1);
                b.RemoveRange(cut, n - cut);
                b.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 9 when n > 1:
            {
                int p = rng.Next(n), len = Math.Min(n - p, rng.Next(1, 33)), times = rng.Next(2, 2000);
                var chunk = b.GetRange(p, len);
                var rep = new List<byte>(len * times);
                for (int t = 0; t < times && rep.Count < MaxSize; t++) rep.AddRange(chunk);
                b.InsertRange(p, rep);
                break;
            }
            default: { var r = new byte[rng.Next(1, 9)]; rng.NextBytes(r); b.AddRange(r); break; }
        }
        return [.. b];
    }
}
