using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralPure.Bench.Support;

namespace NeuralPure.Bench.Report;

/// <summary>One configuration on one thread count: NeuralPure's fit and PyTorch's step, measured in the same run.</summary>
public sealed record TorchComparison(string Config, string Model, int Batch, int Threads,
    double NeuralPureMedian, double NeuralPureMin, double NeuralPureMax,
    double TorchMedian, double TorchMin, double TorchMax, string TorchVersion, double Ratio);

/// <summary><c>compare-torch [--quick] [--json] [--python PATH] [--configs a,b,…]</c>: examples/s of NeuralPure's training
/// step in the fold (the workspaces <c>Trainer.Fit</c> runs its steps in, created once; no allocation per step) and of PyTorch's training step (<c>torch/step.py</c>, run by <c>/usr/bin/python3</c> unless told otherwise) for each
/// configuration on 1 and 2 threads, side by side with their ratio.</summary>
/// <remarks>Both sides cycle through 64 batches of random data, so the input is not cache-resident, and time repeats of about
/// 0.4 s after a warm-up of at least 40 steps. PyTorch runs with <c>torch.set_num_threads(n)</c> and
/// <c>OMP_WAIT_POLICY=PASSIVE</c>. The two sides run one after the other, not at once: on a shared machine the ratio carries
/// whatever the load did in between. Nothing in CI runs this.</remarks>
public static class CompareTorch
{
    private const int Batches = 64;
    private static readonly int[] ThreadCounts = [1, 2];

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick"), json = args.Contains("--json");
        string python = Option(args, "--python") ?? Environment.GetEnvironmentVariable("NEURALPURE_TORCH_PYTHON") ?? "/usr/bin/python3";
        var configs = (Option(args, "--configs")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [.. BenchConfig.Names])
            .Select(BenchConfig.Get).ToList();
        string script = Path.Combine(AppContext.BaseDirectory, "torch", "step.py");
        if (!File.Exists(script)) { Console.Error.WriteLine($"compare-torch: {script} is missing (it is copied there by the build)"); return 1; }
        int repeats = quick ? 3 : 7;
        var rows = new List<TorchComparison>();
        foreach (var config in configs)
        {
            var variants = ThreadCounts.Select(t => Report.Variant.Fold(config, t, Batches)).ToList();
            Report.Measure(variants, repeats);
            foreach (var v in variants)
            {
                var torch = RunTorch(python, script, config.Name, v.Threads, quick, out string? error);
                if (torch is null) { Console.Error.WriteLine($"compare-torch: PyTorch failed on {config.Name}, {v.Threads} thread(s): {error}"); return 1; }
                var (median, min, max) = v.Summary();
                var t = torch.Value.Rates.Order().ToArray();
                double tm = t[t.Length / 2];
                rows.Add(new TorchComparison(config.Name, config.Model, config.Batch, v.Threads, median, min, max, tm, t[0], t[^1], torch.Value.Version, median / tm));
                if (!json) Console.Error.WriteLine($"  measured {config.Name} on {v.Threads} thread(s): NeuralPure {median:N0}, PyTorch {tm:N0} examples/s");
            }
        }
        if (json) Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        else Print(rows);
        return 0;
    }

    internal static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>Runs the script once and reads its JSON line: the torch version and the examples/s of each repeat.</summary>
    private static (string Version, double[] Rates)? RunTorch(string python, string script, string config, int threads, bool quick, out string? error)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("--config"); psi.ArgumentList.Add(config);
        psi.ArgumentList.Add("--threads"); psi.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        if (quick) psi.ArgumentList.Add("--quick");
        psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        try
        {
            using var p = Process.Start(psi);
            if (p is null) { error = $"could not start {python}"; return null; }
            var stderr = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { error = $"exit code {p.ExitCode}: {stderr.Result.Trim()}"; return null; }
            using var doc = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            var root = doc.RootElement;
            error = null;
            return (root.GetProperty("torch").GetString() ?? "?", [.. root.GetProperty("examples_per_second").EnumerateArray().Select(e => e.GetDouble())]);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            error = e.Message;
            return null;
        }
    }

    private static void Print(List<TorchComparison> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        string version = rows.Count > 0 ? rows[0].TorchVersion : "?";
        Console.WriteLine($"NeuralPure fold step (what Trainer.Fit runs) vs PyTorch {version} (Debian, CPU) training step, float32, measured one after the other in this run.");
        Console.WriteLine($"Both cycle through {Batches} batches of random data; PyTorch with torch.set_num_threads(n), OMP_WAIT_POLICY=PASSIVE. ratio = NeuralPure median / PyTorch median.");
        Console.WriteLine();
        Console.WriteLine("cfg | model                              | batch | thr | NeuralPure ex/s median (min–max)  | PyTorch ex/s median (min–max)     | ratio");
        Console.WriteLine("----|------------------------------------|-------|-----|-----------------------------------|-----------------------------------|-------");
        foreach (var r in rows)
            Console.WriteLine(string.Create(inv,
                $"{r.Config,-3} | {r.Model,-34} | {r.Batch,5} | {r.Threads,3} | {r.NeuralPureMedian,10:N0} ({r.NeuralPureMin,9:N0}–{r.NeuralPureMax,9:N0}) | {r.TorchMedian,10:N0} ({r.TorchMin,9:N0}–{r.TorchMax,9:N0}) | {r.Ratio,5:F2}×"));
    }
}
