using System.Diagnostics;
using System.Globalization;

namespace NeuralPure.Fuzz;

/// <summary>
/// The hostile-input fuzzer for NeuralPure's readers.
/// <code>
/// dotnet run --project fuzz/Pure.Fuzz -c Release -- safetensors|csv|idx|model|checkpoint|all [--seconds 180] [--seed 1] [--timeout 10]
/// dotnet run --project fuzz/Pure.Fuzz -c Release -- replay &lt;target&gt; &lt;file&gt;...
/// dotnet run --project fuzz/Pure.Fuzz -c Release -- bigcsv [--gb 1] [--dir /tmp] [--keep]
/// </code>
/// A fuzz run mutates the corpus (fuzz/corpus/&lt;target&gt;/; seeded on first use) and accepts only a success or a
/// DataFormatException. Anything else, a hang (no result within the timeout) or an allocation above the target's bound (a multiple
/// of the input's real size plus a constant) is a finding, written to fuzz/findings/&lt;target&gt;/ with a note. Exit code 1 when
/// there are findings.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: Pure.Fuzz <safetensors|csv|idx|model|checkpoint|all> [--seconds N] [--seed S] [--timeout SECONDS] [--root DIR]\n" +
                              "       Pure.Fuzz replay <target> <file>...\n" +
                              "       Pure.Fuzz bigcsv [--gb 1] [--dir DIR] [--keep]");
            return args.Length == 0 ? 2 : 0;
        }
        string Opt(string name, string def) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : def; }
        string root = Opt("--root", FindFuzzRoot());

        if (args[0] == "bigcsv") return BigCsv.Run(double.Parse(Opt("--gb", "1")), Opt("--dir", Path.GetTempPath()), args.Contains("--keep"));

        var timeout = TimeSpan.FromSeconds(double.Parse(Opt("--timeout", "10")));
        if (args[0] == "replay")
        {
            var t = Target.Create(args[1]);
            var e = new Engine(t, Path.Combine(Path.GetTempPath(), "fuzz-replay-corpus"), Path.Combine(Path.GetTempPath(), "fuzz-replay-findings"), 0, timeout, 0);
            foreach (var f in args.Skip(2)) Console.WriteLine($"{f}:\n{e.Replay(File.ReadAllBytes(f))}");
            e.Cleanup();
            return 0;
        }

        double seconds = double.Parse(Opt("--seconds", "180"));
        int seed = int.Parse(Opt("--seed", Environment.TickCount.ToString(CultureInfo.InvariantCulture)));
        var targets = args[0] == "all" ? Target.All : [args[0]];
        int findings = 0;
        Console.WriteLine($"fuzzing {string.Join(", ", targets)} for {seconds} s each, seed {seed}, per-input timeout {timeout.TotalSeconds} s; corpus and findings under {root}");
        foreach (var name in targets)
        {
            var target = Target.Create(name);
            var engine = new Engine(target, Path.Combine(root, "corpus", name), Path.Combine(root, "findings", name), seed, timeout, maxSaved: 60);
            var clock = Stopwatch.StartNew();
            engine.LoadCorpus();
            int startCorpus = engine.CorpusSize;
            engine.Run(TimeSpan.FromSeconds(seconds), Console.WriteLine);
            double s = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"{name}: {engine.Executions:N0} executions in {s:F0} s ({engine.Executions / s:N0}/s); " +
                              $"ok {engine.Outcomes[Outcome.Ok]:N0}, DataFormatException {engine.Outcomes[Outcome.DataFormat]:N0}, other {engine.Outcomes[Outcome.Other]:N0}; " +
                              $"corpus {startCorpus} → {engine.CorpusSize}, behaviours {engine.Signatures}; largest input {engine.LargestInput:N0} B, " +
                              $"max allocation {engine.MaxAllocated:N0} B, max allocation/input (inputs ≥ 1 KB) {engine.MaxAllocationRatio:F1}×, slowest {engine.SlowestMs:F0} ms; findings {engine.Findings}");
            findings += engine.Findings;
            engine.Cleanup();
        }
        return findings == 0 ? 0 : 1;
    }

    /// <summary>The repository's fuzz/ folder (found by walking up to NeuralPure.sln), or ./fuzz.</summary>
    private static string FindFuzzRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "NeuralPure.sln"))) return Path.Combine(d.FullName, "fuzz");
        return Path.GetFullPath("fuzz");
    }
}
