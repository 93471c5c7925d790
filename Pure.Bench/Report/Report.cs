using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Text.Json.Serialization;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Tensors;
using NeuralPure.Models;
using NeuralPure.Training;

namespace NeuralPure.Bench.Report;

/// <summary>One configuration's numbers in the report.</summary>
/// <remarks>FLOPs are the executed products' (<see cref="ExecutedFlops"/>); <see cref="PercentOfPeak"/> is GFLOP/s over the
/// FMA peak measured in the same run on the same thread count. A figure that does not exist is null: the scalar reference for
/// the CNN (<see cref="ReferenceStep"/> knows Dense and ReLU only), the first step under <c>--quick</c>. The time outside the
/// kernels (<see cref="OutsideMicroseconds"/>, fit rows) is the configuration's parts table's: its warm fold step minus the sum
/// of its parts timed alone on that thread count, and <see cref="OutsidePercent"/> that share of the fold step.</remarks>
public sealed record ConfigResult(
    string Config, string Model, string Optimizer, int Batch, long Parameters, string Path, int Threads,
    double ExamplesPerSecondMedian, double ExamplesPerSecondMin, double ExamplesPerSecondMax,
    double MicrosecondsPerStep, double FlopsPerStep, double GflopsPerSecond, double? PercentOfPeak,
    double ExamplesPerCpuSecondMedian, double BytesPerStep, int Repeats, int StepsPerRepeat,
    double? TimeToFirstStepMs, double? FirstStepMs, double? PeakWorkingSetMB,
    double? ScalarReferenceExamplesPerSecond, double? SpeedupVsScalarReference,
    double? OutsideMicroseconds = null, double? OutsidePercent = null,
    double? AotTimeToFirstStepMs = null, double? AotFirstStepMs = null, double? AotPeakWorkingSetMB = null, bool? AotSameParameters = null, string? AotVector = null);

/// <summary>One part of an MLP's step timed alone: a matrix product (GFLOP/s from 2·m·n·k), a ReLU pass, the loss, the Adam
/// update; then their sum, and the measured step's time outside them (step − sum, which the parts do not explain).
/// <paramref name="Config"/> names the configuration the part belongs to.</summary>
public sealed record ProductResult(string Config, string Product, string Shape, int Threads, double Microseconds, double GflopsPerSecond, double? PercentOfPeak,
    double? InsideStepMicroseconds = null);

/// <summary>The whole report: machine, the FMA peak measured in this run (null where no probe fits the machine), one row
/// per configuration, path and thread count, and the parts of one step.</summary>
public sealed record ReportResult(string Machine, int ProcessorCount, string Runtime, string VectorWidth, string Note, DateTime StartedUtc, double ElapsedSeconds,
    PeakResult? Peak, IReadOnlyList<ConfigResult> Results, IReadOnlyList<ProductResult> Products, string? Aot = null);

/// <summary><c>report [--json] [--quick] [--no-aot] [--configs …] [--parts [cfg]] [--by-layer]</c>: steady-state throughput of a whole training step for configs a–d, with the
/// scalar-reference step as the baseline and a fresh process per configuration for the time to the first step.</summary>
/// <remarks>
/// Per configuration and thread count: warm up (0.4 s and at least 40 steps), then time <c>repeats</c> runs of about 0.4 s each and report the
/// median and range of examples/s. The fit rows run <see cref="Trainer.Fit{T}(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/>
/// over a data set of 64 batches (as the peers in <c>compare-torch</c> cycle theirs: the input is not cache-resident); the step
/// row runs <see cref="Trainer.Step{T}"/> on a fixed set of four batches.
/// Bytes per step come from <see cref="GC.GetTotalAllocatedBytes(bool)"/> around the timed runs (every thread).
/// </remarks>
public static class Report
{
    public static int Run(string[] args)
    {
        bool json = args.Contains("--json"), quick = args.Contains("--quick"), byLayer = args.Contains("--by-layer"), noAot = args.Contains("--no-aot");
        int at = Array.IndexOf(args, "--parts");
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--json" or "--quick" or "--by-layer" or "--no-aot" or "--parts") continue;
            if (args[i] == "--configs")
            {
                if (i + 1 < args.Length && !args[i + 1].StartsWith('-')) { i++; continue; }
                Console.Error.WriteLine("report: --configs needs a list of configurations, e.g. --configs b,d (known: a, b, c, d, cnn)");
                return 2;
            }
            if (i > 0 && args[i - 1] == "--parts" && !args[i].StartsWith('-')) continue;
            Console.Error.WriteLine($"report: unknown option '{args[i]}' (known: --json, --quick, --no-aot, --configs a,b,…, --parts [a|b|c|d|cnn], --by-layer)");
            return 2;
        }
        bool partsOnly = at >= 0;
        BenchConfig partsOf;
        List<BenchConfig> configs;
        try
        {
            partsOf = BenchConfig.Get(partsOnly && at + 1 < args.Length && !args[at + 1].StartsWith('-') ? args[at + 1] : "d");
            configs = CompareTorch.Option(args, "--configs") is { } names
                ? [.. names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchConfig.Get)]
                : [.. BenchConfig.All];
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"report: {e.Message}");
            return 2;
        }
        int repeats = quick ? 3 : 7;
        var started = DateTime.UtcNow;
        var total = Stopwatch.StartNew();
        var threadCounts = ThreadCounts();
        // The NativeAOT first-step child is published first, before anything is timed (the compile takes both cores ~10 s).
        (string? Executable, string Description) aot = (null, $"NativeAOT first step: not measured ({(noAot ? "--no-aot" : quick ? "--quick" : "--parts")})");
        if (!noAot && !quick && !partsOnly)
        {
            if (!json) Console.Error.WriteLine($"  publishing the NativeAOT first-step child (Pure.Bench/Aot, instruction set {AotChild.InstructionSet()})");
            aot = AotChild.Publish();
        }
        if (!json) Console.Error.WriteLine("  measuring the FMA peak (again at the end; the report keeps the higher)");
        var peakBefore = FmaPeak.Measure(quick);
        var results = new List<ConfigResult>();
        foreach (var config in partsOnly ? [] : configs)
        {
            var first = quick ? null : FirstStepMedian(config.Name, FirstStepRuns);
            var aotFirst = aot.Executable is { } exe ? FirstStepMedian(config.Name, FirstStepRuns, exe) : null;
            double? scalar = ScalarReferenceThroughput(config, quick);
            var variants = threadCounts.Select(t => Variant.Fit(config, t)).Append(Variant.Train(config, threadCounts[0])).Append(Variant.Step(config, threadCounts[0])).ToList();
            Measure(variants, repeats);
            foreach (var v in variants)
            {
                var (median, min, max) = v.Summary();
                var cpu = v.CpuRates.Order().ToArray();
                double usPerStep = config.Batch / median * 1e6, gflops = config.FlopsPerStep / (usPerStep * 1e-6) / 1e9;
                results.Add(new ConfigResult(config.Name, config.Model, config.OptimizerName, config.Batch, config.Parameters, v.Path, v.Threads,
                    median, min, max, usPerStep, config.FlopsPerStep, gflops, null,
                    cpu[cpu.Length / 2], v.BytesPerStep, repeats, v.StepsPerRepeat,
                    first?.TimeToFirstStepMs, first?.FirstStepMs, first?.PeakWorkingSetMB,
                    scalar, scalar is { } s ? median / s : null,
                    AotTimeToFirstStepMs: aotFirst?.TimeToFirstStepMs, AotFirstStepMs: aotFirst?.FirstStepMs, AotPeakWorkingSetMB: aotFirst?.PeakWorkingSetMB,
                    AotSameParameters: aotFirst is null || first is null ? null : aotFirst.ParameterHash is not null && aotFirst.ParameterHash == first.ParameterHash,
                    AotVector: aotFirst?.Vectors));
                if (!json) Console.Error.WriteLine($"  measured {config.Name} {v.Path} on {v.Threads} thread(s): {median:N0} examples/s");
            }
        }
        // The parts of every configuration the report measured (or of the one --parts names), so that each one's time outside
        // its kernels comes from this run.
        var products = new List<ProductResult>();
        foreach (var config in partsOnly ? [partsOf] : configs)
        {
            if (!json) Console.Error.WriteLine($"  timing the parts of one step of {config.Name}");
            products.AddRange(Products(config, threadCounts, byLayer));
        }
        var peak = PeakResult.Max(peakBefore, FmaPeak.Measure(quick));
        results = [.. results.Select(c => c with { PercentOfPeak = PercentOf(c.GflopsPerSecond, peak?.For(c.Threads)) })];
        results = [.. results.Select(c => c.Path != "fit" ? c : Outside(products, c.Config, c.Threads) is var (us, share) ? c with { OutsideMicroseconds = us, OutsidePercent = share } : c)];
        products = [.. products.Select(p => p.GflopsPerSecond > 0 ? p with { PercentOfPeak = PercentOf(p.GflopsPerSecond, peak?.For(p.Threads)) } : p)];
        var report = new ReportResult(Machine(), Environment.ProcessorCount, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            Gemm.Resolve<float>(VectorWidth.Best).ToString(),
            "Wall-clock numbers on a machine that may be shared; the variants of a configuration are timed in turn, repeat by repeat, so their ratios are comparable.",
            started, total.Elapsed.TotalSeconds, peak, results, products, aot.Description);
        if (json) Console.WriteLine(JsonSerializer.Serialize(report, JsonOptions));
        else PrintTable(report);
        return 0;
    }

    /// <summary><c>step-rate cfg [threads] [windows]</c>: one configuration's step in a warm fold over 64 batches (the data
    /// path the report's fit rows use), timed in <c>windows</c> windows of ~0.2 s (15 by default) on <c>threads</c> threads
    /// (all cores by default); prints the best, median and worst examples/s. For comparing two builds run in turn on a
    /// shared machine, where the best window is the least disturbed.</summary>
    internal static int StepRate(string[] args)
    {
        BenchConfig config;
        int threads = Environment.ProcessorCount, windows = 15;
        try
        {
            config = BenchConfig.Get(args.Length > 0 ? args[0] : throw new ArgumentException("step-rate needs a configuration: a, b, c, d or cnn"));
            if (args.Length > 1 && (!int.TryParse(args[1], out threads) || threads < 1)) throw new ArgumentException($"threads must be a whole number ≥ 1, not '{args[1]}'");
            if (args.Length > 2 && (!int.TryParse(args[2], out windows) || windows < 1)) throw new ArgumentException($"windows must be a whole number ≥ 1, not '{args[2]}'");
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"step-rate: {e.Message}");
            return 2;
        }
        var v = Variant.Fold(config, threads, FitBatches);
        var sw = Stopwatch.StartNew();
        int steps = 0;
        while (sw.Elapsed.TotalSeconds < WarmUpSeconds() || steps < 40) steps += v.Run(1);
        int perWindow = Math.Max(2, (int)(0.2 / (sw.Elapsed.TotalSeconds / steps)));
        var rates = new List<double>();
        for (int w = 0; w < windows; w++)
        {
            sw.Restart();
            int ran = v.Run(perWindow);
            rates.Add(ran * (double)config.Batch / sw.Elapsed.TotalSeconds);
        }
        rates.Sort();
        Console.WriteLine($"{config.Name} on {threads} thread(s), {windows} windows of {perWindow} steps: best {rates[^1]:N0}, median {rates[rates.Count / 2]:N0}, worst {rates[0]:N0} examples/s ({config.Batch / rates[^1] * 1e6:F1} µs/step at best)");
        return 0;
    }

    /// <summary>A configuration's time outside its parts on a thread count, and that share of its fold step, from its parts
    /// table; null where the table has no such rows.</summary>
    private static (double Microseconds, double Percent)? Outside(List<ProductResult> products, string config, int threads)
    {
        var outside = products.FirstOrDefault(p => p.Config == config && p.Threads == threads && p.Product == OutsideRow);
        var step = products.FirstOrDefault(p => p.Config == config && p.Threads == threads && p.Product == StepRow);
        return outside is null || step is null ? null : (outside.Microseconds, 100 * outside.Microseconds / step.Microseconds);
    }

    private const string StepRow = "measured step (fold)", OutsideRow = "step − sum of the parts";
    private const string KernelsRow = "kernels inside the step", OutsideKernelsRow = "step − its kernels";

    /// <summary>Batches in the data set of the fit rows, the parts table's measured step and <c>step-rate</c>: as many as the
    /// peers cycle in <c>compare-torch</c>, so the input comes from memory, as it does in a real epoch.</summary>
    internal const int FitBatches = 64;

    /// <summary>Every core, then one thread (one thread only on a one-core machine).</summary>
    internal static int[] ThreadCounts() => Environment.ProcessorCount > 1 ? [Environment.ProcessorCount, 1] : [1];

    /// <summary>GFLOP/s as a percentage of the peak, or null without a peak.</summary>
    internal static double? PercentOf(double gflops, double? peak) => peak is > 0 ? 100 * gflops / peak.Value : null;

    /// <summary>One way of running steps of a configuration, and what was measured for it.</summary>
    internal sealed class Variant
    {
        public required string Path { get; init; }
        public required int Threads { get; init; }
        public required int Batch { get; init; }
        /// <summary>Runs at least n steps and returns how many it ran.</summary>
        public required Func<int, int> Run { get; init; }
        /// <summary>Bytes allocated by one steady-state step.</summary>
        public required Func<int, double> Bytes { get; init; }
        public int StepsPerRepeat { get; set; }
        public double BytesPerStep { get; set; }
        /// <summary>The fold a fold variant steps (for the timing of its phases inside the step), else null.</summary>
        public Fold<float>? Folded { get; init; }
        public List<double> Rates { get; } = [];
        /// <summary>Examples per second of this process's CPU time (every thread, helpers' spinning included).</summary>
        public List<double> CpuRates { get; } = [];

        /// <summary>The median, lowest and highest examples/s of the timed repeats.</summary>
        public (double Median, double Min, double Max) Summary()
        {
            var rates = Rates.Order().ToArray();
            return (rates[rates.Length / 2], rates[0], rates[^1]);
        }

        /// <summary><see cref="Trainer.Fit{T}(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/> over a data set of <paramref name="batches"/> batches for as many epochs as the steps need.</summary>
        public static Variant Fit(BenchConfig config, int threads, int batches = FitBatches)
        {
            var spec = config.Spec; var opt = config.Optimizer; var data = config.Data(batches);
            var par = new Parallelism(threads);
            var start = config.InitialState();
            return new Variant
            {
                Path = "fit", Threads = threads, Batch = config.Batch,
                Run = n =>
                {
                    int epochs = Math.Max(1, (n + batches - 1) / batches);
                    Trainer.Fit(spec, opt, start, data, new TrainConfig(config.Batch, epochs, DropLast: false, Shuffle: false), par);
                    return epochs * batches;
                },
                // One step inside a warm fold: what every step of a fit costs once the workspaces exist.
                Bytes = n => Fold(config, threads, batches, data, start).Bytes(n),
            };
        }

        /// <summary><c>Fitter.Fit</c>, the façade's loop as <c>neuralpure train</c> runs it, over
        /// the same <paramref name="batches"/> batches: shuffled each epoch, a validation pass over 8 batches and a checkpoint
        /// (parameters and optimizer state, written and flushed to disk) after every epoch. Its bytes per step are all it
        /// allocates over a whole fit (per-epoch work included), divided by the steps.</summary>
        public static Variant Train(BenchConfig config, int threads, int batches = FitBatches)
        {
            var spec = config.Spec; var opt = config.Optimizer; var data = config.Data(batches); var validation = config.Data(8);
            string folder = Directory.CreateTempSubdirectory("neuralpure-report-").FullName;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, recursive: true); } catch (IOException) { } };
            var checkpoint = new NeuralPure.Facade.Training.CheckpointOptions(System.IO.Path.Combine(folder, $"{config.Name}.safetensors"));
            int Steps(int n)
            {
                int epochs = Math.Max(1, (n + batches - 1) / batches);
                var outcome = NeuralPure.Facade.Training.Fitter.Fit(spec, opt, data, validation,
                    new NeuralPure.Facade.Training.FitOptions(epochs, config.Batch, Seed: 1, Threads: threads), checkpoint: checkpoint);
                if (outcome.Status != NeuralPure.Facade.Training.FitStatus.Completed) throw new InvalidOperationException($"report: the façade's fit of {config.Name} ended {outcome.Status}");
                return epochs * batches;
            }
            return new Variant
            {
                Path = "train", Threads = threads, Batch = config.Batch, Run = Steps,
                Bytes = n =>
                {
                    long a0 = GC.GetTotalAllocatedBytes(precise: true);
                    int ran = Steps(n);
                    return (GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)ran;
                },
            };
        }

        /// <summary>The steps <see cref="Fit"/> runs, without the fit around them: one fold (the workspaces Trainer.Fit makes once per
        /// fit) stepping through <paramref name="batches"/> batches in turn, exactly as many steps as asked.</summary>
        public static Variant Fold(BenchConfig config, int threads, int batches) => Fold(config, threads, batches, config.Data(batches), config.InitialState());

        private static Variant Fold(BenchConfig config, int threads, int batches, DataSet<float> data, TrainState<float> start)
        {
            var fold = Fold<float>.Create(config.Spec, config.Optimizer, start, data, config.Batch, new Parallelism(threads));
            long step = 0;
            int Steps(int n)
            {
                for (int k = 0; k < n; k++, step++) fold.Step(data, default, (int)(step % batches) * config.Batch, config.Batch, start.Key, step);
                return n;
            }
            return new Variant
            {
                Path = "fold", Threads = threads, Batch = config.Batch, Run = Steps, Folded = fold,
                Bytes = n =>
                {
                    Steps(3);
                    long a0 = GC.GetTotalAllocatedBytes(precise: true);
                    Steps(n);
                    return (GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)n;
                },
            };
        }

        /// <summary>The pure <see cref="Trainer.Step{T}"/>, state after state, over four fixed batches.</summary>
        public static Variant Step(BenchConfig config, int threads)
        {
            var spec = config.Spec; var opt = config.Optimizer; var batches = config.Batches();
            var par = new Parallelism(threads);
            var state = config.InitialState();
            int i = 0;
            int Steps(int n) { for (int k = 0; k < n; k++) state = Trainer.Step(spec, opt, state, batches[i++ & 3], par).State; return n; }
            return new Variant
            {
                Path = "step", Threads = threads, Batch = config.Batch, Run = Steps,
                Bytes = n =>
                {
                    long a0 = GC.GetTotalAllocatedBytes(precise: true);
                    Steps(n);
                    return (GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)n;
                },
            };
        }
    }

    /// <summary>Warms every variant up (at least 40 steps) and sizes its repeats to about 0.4 s, then times the variants in turn, repeat by
    /// repeat (so a burst of load elsewhere on the machine hits all of them alike), and measures bytes per step last.</summary>
    internal static void Measure(List<Variant> variants, int repeats)
    {
        foreach (var v in variants)
        {
            var sw = Stopwatch.StartNew();
            int steps = 0;
            double warm = WarmUpSeconds();
            // At least 40 steps: the JIT promotes a method to optimized code after 30 calls, so a config whose steps are slow
            // (d: ~15 ms) would otherwise be timed partly in unoptimized code.
            while (sw.Elapsed.TotalSeconds < warm || steps < 40) steps += v.Run(1);
            double perStep = sw.Elapsed.TotalSeconds / steps;
            v.StepsPerRepeat = Math.Max(2, (int)(0.4 / perStep));
        }
        for (int r = 0; r < repeats; r++)
            foreach (var v in variants)
            {
                var cpu0 = CpuSeconds();
                var sw = Stopwatch.StartNew();
                int ran = v.Run(v.StepsPerRepeat);
                v.Rates.Add(ran * (double)v.Batch / sw.Elapsed.TotalSeconds);
                v.CpuRates.Add(ran * (double)v.Batch / Math.Max(1e-9, CpuSeconds() - cpu0));
            }
        foreach (var v in variants) v.BytesPerStep = v.Bytes(Math.Min(v.StepsPerRepeat, 50));
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) cpu = line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, AVX-512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}, Vector512 accelerated {Vector512.IsHardwareAccelerated}";
    }

    private static double CpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    private static bool warmedUp;

    /// <summary>Warm-up before a measurement: 1.5 s the first time in the process (tiered JIT promotes the hot methods to
    /// optimized code only after they have run a while), 0.4 s afterwards.</summary>
    private static double WarmUpSeconds()
    {
        if (warmedUp) return 0.4;
        warmedUp = true;
        return 1.5;
    }

    /// <summary>An MLP's step (config d by default), part by part: every product of its dense layers (forward with bias, weight
    /// gradient, input gradient — none for the first layer, as in the step), the ReLUs forward and backward, the loss and the
    /// fused Adam update of all parameters, each timed alone (best of PartRounds runs per thread count, runs interleaved; the first
    /// layer's forward product on a different input batch each run, see <see cref="InputBatches"/>). Then their sum,
    /// and the step in a warm fold (timed as the parts are, see <see cref="Timed"/>) minus that sum: what the step spends outside
    /// the parts. With <paramref name="byLayer"/> (<c>--by-layer</c>), and always for a model that is not an MLP, the parts are
    /// the layers' passes instead (<see cref="LayerParts"/>), each also timed inside the step.</summary>
    private static List<ProductResult> Products(BenchConfig config, int[] threadCounts, bool byLayer = false)
    {
        if (config.Sizes is null || byLayer) return LayerParts(config, threadCounts);
        int batch = config.Batch;
        int[] widths = config.Sizes ?? throw new ArgumentException($"config {config.Name} is not an MLP", nameof(config));
        int layers = widths.Length - 1;
        var cases = new List<(string Name, string Shape, int Threads, double Flops, Action Run)>();
        foreach (int t in threadCounts)
        {
            long parameters = 0;
            for (int l = 0; l < layers; l++)
            {
                int m = batch, k = widths[l], n = widths[l + 1];
                parameters += (long)n * k + n;
                var x = Data.Floats(m * k, 1 + l); var w = Data.Floats(n * k, 2 + l); var b = Data.Floats(n, 3 + l); var dy = Data.Floats(m * n, 4 + l);
                var y = new float[m * n]; var dx = new float[m * k]; var dw = new float[n * k]; var db = new float[n];
                double f = 2.0 * m * n * k;
                string layer = $"layer {l + 1}";
                if (l == 0)
                {
                    // The first layer's X is the batch, read where the data set holds it: a different one each step, from
                    // FitBatches in turn, as the fold reads it (timed on one hot X, config b's layer 1 forward was 7-9 µs
                    // shorter than in the fold and that went into the step's time outside the parts).
                    var input = new InputBatches(m * k, 1);
                    cases.Add(($"{layer} Y = X·Wᵀ + b", $"X [{m}, {k}] of {FitBatches} in turn, W [{n}, {k}]", t, f,
                        () => MatMul.MultiplyTransposedBAddRow<float>(input.Next(), w, b, y, m, k, n, t)));
                }
                else cases.Add(($"{layer} Y = X·Wᵀ + b", $"X [{m}, {k}], W [{n}, {k}]", t, f, () => MatMul.MultiplyTransposedBAddRow<float>(x, w, b, y, m, k, n, t)));
                long work = (long)m * n * k;
                if (l > 0 && t >= 2 && work >= DenseSpec.PairFrom && work < DenseSpec.PairBelow)
                {
                    // The layer's backward runs dW and dX side by side at this size (DenseSpec.Backward): timed as the step runs it.
                    var dense = new DenseSpec(k, n); int threads = t;
                    cases.Add(($"{layer} dW, db ‖ dX (paired)", $"dY [{m}, {n}], W [{n}, {k}]", t, 2 * f,
                        () => dense.Backward(new BackwardArgs<float>(m, Shape.Of(k), Shape.Of(n), x, y, dy, dx, true, [w, b], [dw, db], [], null, threads))));
                }
                else
                {
                    cases.Add(($"{layer} dW = dYᵀ·X, db", $"dY [{m}, {n}], X [{m}, {k}]", t, f, () => { MatMul.MultiplyTransposedA<float>(dy, x, dw, m, n, k, t); MatMul.ColumnSums<float>(dy, db, m, n); }));
                    if (l > 0) cases.Add(($"{layer} dX = dY·W", $"dY [{m}, {n}], W [{n}, {k}]", t, f, () => MatMul.Multiply<float>(dy, w, dx, m, n, k, t)));
                }
                if (l < layers - 1)
                {
                    // The backward in place, dx over dy, as the fold runs it (ReluSpec.BackwardInPlace).
                    var h = new float[m * n]; var dh = (float[])dy.Clone();
                    cases.Add(($"{layer} ReLU forward + backward", $"[{m}, {n}], dx over dy", t, 0, () => { Elementwise.Relu<float>(y, h); Elementwise.ReluBackward<float>(y, dh, dh); }));
                }
            }
            var logits = NdArray.From<float>(Data.Floats(batch * widths[^1], 7), batch, widths[^1]);
            var labels = NdArray.Vector(Enumerable.Range(0, batch).Select(i => (float)(i % widths[^1])).ToArray());
            var loss = new SoftmaxCrossEntropySpec();
            cases.Add(("softmax cross-entropy + gradient", $"[{batch}, {widths[^1]}] (pure, allocating)", t, 0, () => loss.ValueAndGrad(logits, labels)));
            var pp = Data.Floats((int)parameters, 9); var gg = Data.Floats((int)parameters, 10); var mm = new float[parameters]; var vv = new float[parameters];
            var c = new AdamConstants<float>(0.9f, 0.1f, 0.999f, 0.001f, 1.1f, 0.03f, 1e-8f, -1e-6f, null, null);
            cases.Add(("Adam update (fused)", $"{parameters:N0} parameters", t, 0, () => OptimizerKernels.AdamStep<float>(pp, gg, mm, vv, c, t)));
        }
        return Timed(cases, config, threadCounts);
    }

    /// <summary>A model's step layer by layer (for the CNN), as the fold runs it (a ReLU and the max pool after it are one fused
    /// part, <see cref="Fold{T}.Runs"/>): each layer's forward pass in training mode and its backward pass
    /// (input gradient from the second layer with parameters on, as in the step; none below the first), through the layer's own
    /// <see cref="LayerSpec.Forward{T}"/>/<see cref="LayerSpec.Backward{T}"/> on random float data, then the loss and the fused
    /// Adam kernel over all parameters (AdamW's decoupled decay is one more element-wise pass), each timed alone (best of PartRounds).
    /// GFLOP/s counts the layer's product FLOPs (<see cref="ExecutedFlops.Forward"/>) for forward, backward twice or once.</summary>
    private static List<ProductResult> LayerParts(BenchConfig config, int[] threadCounts)
    {
        var spec = config.Spec; int batch = config.Batch;
        int first = 0;
        while (first < spec.Layers.Length && spec.ParameterOffsets[first + 1] == spec.ParameterOffsets[first]) first++;
        var cases = new List<(string Name, string Shape, int Threads, double Flops, Action Run)>();
        var phases = new Dictionary<int, int>(); // case → the fold's phase it times (Fold.PhaseTicks' index)
        int n = spec.Layers.Length;
        // The layers as the fold runs them: a fused pair (a ReLU before a max pool) is one part, timed in its second layer's phase.
        var runs = Fold<float>.Runs(spec);
        foreach (int t in threadCounts)
        {
            long parameters = 0;
            for (int l = 0; l < spec.Layers.Length; l++)
            {
                if (runs[l] is not { } layer) continue;
                int from = Fold<float>.From(runs, l);
                Shape input = spec.Shapes[from], output = spec.Shapes[l + 1];
                var ps = layer.Init<float>(input, NeuralPure.Random.RandomKey.FromSeed((ulong)l + 1)).Select(p => p.ToArray()).ToArray();
                var gs = ps.Select(p => new float[p.Length]).ToArray();
                parameters += ps.Sum(p => (long)p.Length);
                var st = layer.InitState<float>(input).Select(p => p.ToArray()).ToArray();
                // The buffers as the fold shares them: a view (flatten) reads and writes one buffer, a layer whose backward runs in
                // place (the activations) writes dx over dy.
                bool view = l > 0 && layer.IsView && input.Size == output.Size, inPlace = (view || layer.BackwardInPlace) && input.Size == output.Size;
                var x = Data.Floats(batch * input.Size, 11 + l); var y = view ? x : new float[batch * output.Size];
                // The first layer's forward pass reads the batch where the data set holds it, a different one each step (see Products).
                var batches = from == 0 ? new InputBatches(batch * input.Size, 11) : null;
                var dy = Data.Floats(batch * output.Size, 31 + l); var dx = inPlace ? dy : new float[batch * input.Size];
                var scratch = new byte[layer.ScratchBytes<float>(input, batch)];
                var key = NeuralPure.Random.RandomKey.FromSeed(99);
                int threads = t; bool inputGradient = from > first;
                double f = ExecutedFlops.Forward(layer, output, batch);
                string name = from == l ? $"{l + 1} {layer.Kind}" : $"{from + 1}–{l + 1} {layer.Kind}";
                void Forward() => layer.Forward(new ForwardArgs<float>(batch, input, output, x, y, ps, scratch, key, threads, st));
                if (batches is null) cases.Add(($"{name} forward", $"{input} → {output}", t, f, Forward));
                else cases.Add(($"{name} forward", $"{input} → {output}, X of {FitBatches} in turn", t, f,
                    () => layer.Forward(new ForwardArgs<float>(batch, input, output, batches.Next(), y, ps, scratch, key, threads, st))));
                phases[cases.Count - 1] = 1 + l;
                if (layer is Conv2dSpec conv && t == 1)
                {
                    // The column matrices alone, as the passes build them (one example at a time into one [K, P] buffer): what a
                    // direct convolution would not pay (forward, and again in the weight gradient), and col2im (input gradient).
                    var geometry = conv.Geometry(input);
                    var cols = new float[geometry.K * geometry.P];
                    string each = $"{batch} × [{geometry.K}, {geometry.P}], example by example";
                    cases.Add(($"{name} · im2col", each, t, 0, () =>
                    {
                        for (int n = 0; n < batch; n++) Conv.Im2ColRows<float>(x.AsSpan(n * geometry.InSize, geometry.InSize), cols, 1, geometry, 0, geometry.K);
                    }));
                    if (inputGradient) cases.Add(($"{name} · col2im", each, t, 0, () =>
                    {
                        for (int n = 0; n < batch; n++) Conv.Col2ImChannels<float>(cols, dx.AsSpan(n * geometry.InSize, geometry.InSize), 1, geometry, 0, geometry.C);
                    }));
                }
                if (l >= first)
                {
                    Forward();
                    cases.Add(($"{name} backward{(inputGradient ? "" : " (no dx)")}", $"{output} → {input}{(view ? ", a view" : inPlace ? ", dx over dy" : "")}", t, f * (inputGradient ? 2 : 1),
                        () => layer.Backward(new BackwardArgs<float>(batch, input, output, x, y, dy, dx, inputGradient, ps, gs, scratch, key, threads))));
                    phases[cases.Count - 1] = n + 2 + l;
                }
            }
            int classes = spec.Shapes[^1].Size;
            var logits = NdArray.From<float>(Data.Floats(batch * classes, 7), batch, classes);
            var labels = NdArray.Vector(Enumerable.Range(0, batch).Select(i => (float)(i % classes)).ToArray());
            var loss = new SoftmaxCrossEntropySpec();
            cases.Add(("softmax cross-entropy + gradient", $"[{batch}, {classes}] (pure, allocating)", t, 0, () => loss.ValueAndGrad(logits, labels)));
            phases[cases.Count - 1] = n + 1;
            var pp = Data.Floats((int)parameters, 9); var gg = Data.Floats((int)parameters, 10); var mm = new float[parameters]; var vv = new float[parameters];
            var c = new AdamConstants<float>(0.9f, 0.1f, 0.999f, 0.001f, 1.1f, 0.03f, 1e-8f, -1e-6f, null, null);
            cases.Add(("Adam update (fused)", $"{parameters:N0} parameters", t, 0, () => OptimizerKernels.AdamStep<float>(pp, gg, mm, vv, c, t)));
            phases[cases.Count - 1] = 2 * n + 2;
        }
        return Timed(cases, config, threadCounts, phases);
    }

    /// <summary><see cref="FitBatches"/> input batches of <c>size</c> floats in one array, as a data set holds them, handed out in
    /// turn: a part that reads the step's input then finds it where the fold does (in L3 or memory), not in L1 or L2.</summary>
    private sealed class InputBatches(int size, int seed)
    {
        private readonly float[] all = Data.Floats(checked(size * FitBatches), seed);
        private int next;

        public ReadOnlySpan<float> Next()
        {
            var x = all.AsSpan(next * size, size);
            next = (next + 1) % FitBatches;
            return x;
        }
    }

    /// <summary>Rounds of the part-by-part timing: each part and the step once per round, the best of each kept. 9 rather than
    /// 5: the rounds then span about twice as long, so a few seconds of load elsewhere is less likely to catch every run of one
    /// row (with 5, one AVX2-path report had config b's step at 213 µs there while its fit row's median was 200 µs).</summary>
    private const int PartRounds = 9;

    /// <summary>Times each case alone (best of <see cref="PartRounds"/> runs of ≥ 30 ms, interleaved), then adds per thread count the sum of the parts,
    /// the measured step and the step minus that sum.</summary>
    /// <remarks>The step is a warm fold's (the workspaces Trainer.Fit steps in, created once, warmed up by 40 steps; without the
    /// fit's set-up, which a short fit of a large model does not amortise), cycling through 64 batches as the fit rows do, and it
    /// is timed as the parts are, in the same rounds. Timed as the median of the fit rows' repeats
    /// before the parts instead, the load of a shared host at another moment went into the difference: config d's outside time
    /// was 1,866 µs (13.1 % of a 14,271 µs step) in a report whose d fit row had a 13,552 µs step.</remarks>
    private static List<ProductResult> Timed(List<(string Name, string Shape, int Threads, double Flops, Action Run)> cases, BenchConfig config,
        int[] threadCounts, Dictionary<int, int>? phases = null)
    {
        var folds = threadCounts.Select(t => Variant.Fold(config, t, FitBatches)).ToList();
        foreach (var f in folds) f.Run(40);
        var timed = cases.Select(c => c.Run).Concat(folds.Select(f => (Action)(() => f.Run(1)))).ToList();
        var best = timed.Select(run => { run(); return double.MaxValue; }).ToArray();
        for (int r = 0; r < PartRounds; r++)
            for (int i = 0; i < timed.Count; i++)
            {
                int iters = 0; var sw = Stopwatch.StartNew();
                while (sw.Elapsed.TotalSeconds < 0.03) { timed[i](); iters++; }
                best[i] = Math.Min(best[i], sw.Elapsed.TotalSeconds / iters);
            }
        ProductResult Part(string name, string shape, int t, double us, double flops) => new(config.Name, name, shape, t, us, flops / (us * 1e-6) / 1e9, null);
        var parts = cases.Select((c, i) => Part(c.Name, c.Shape, c.Threads, best[i] * 1e6, c.Flops)).ToList();
        for (int k = 0; k < threadCounts.Length; k++)
        {
            int t = threadCounts[k];
            // A part named "layer · piece" is inside a part already counted (the column matrix of a convolution's pass).
            double us = parts.Where(p => p.Threads == t && !p.Product.Contains(" · ")).Sum(p => p.Microseconds), flops = cases.Where(c => c.Threads == t).Sum(c => c.Flops);
            parts.Add(Part("sum of the parts", $"one step of config {config.Name}", t, us, flops));
            double step = best[cases.Count + k] * 1e6;
            parts.Add(Part(StepRow, $"{config.FlopsPerStep / 1e6:N1} MFLOP executed", t, step, config.FlopsPerStep));
            parts.Add(new ProductResult(config.Name, OutsideRow, $"outside the parts: {100 * (step - us) / step:F1}% of the step", t, step - us, 0, null));
            var (kernels, inRun, perPhase) = KernelsInsideTheStep(folds[k]);
            // A part that is one of the step's phases (a CNN layer's pass, the loss, the update): its time inside the step too.
            if (phases is not null)
                for (int i = 0; i < cases.Count; i++)
                    if (cases[i].Threads == t && phases.TryGetValue(i, out int phase)) parts[i] = parts[i] with { InsideStepMicroseconds = perPhase[phase] };
            parts.Add(Part(KernelsRow, $"timed inside steps of {inRun:N0} µs", t, kernels, config.FlopsPerStep));
            parts.Add(new ProductResult(config.Name, OutsideKernelsRow, $"outside the kernels: {100 * (inRun - kernels) / inRun:F1}% of them", t, inRun - kernels, 0, null));
        }
        return parts;
    }

    /// <summary>The step's kernels timed inside it (<see cref="Fold{T}.PhaseTicks"/>): every layer's forward and backward pass, the
    /// loss and the update, summed, per step; and that pass's whole step. Three passes over the <see cref="FitBatches"/> batches,
    /// the fastest kept. The kernels' share is what the step spends in them, in the caches the step leaves them (the parts
    /// timed alone run in caches warmed by their own previous run); the rest (the batch's slice or gather, the arguments, the
    /// key derivations, the loop, the timer's own reads) is outside the kernels.</summary>
    private static (double KernelMicroseconds, double StepMicroseconds, double[] PhaseMicroseconds) KernelsInsideTheStep(Variant fold)
    {
        var f = fold.Folded ?? throw new InvalidOperationException("not a fold variant");
        var ticks = new long[f.PhaseCount];
        double bestStep = double.MaxValue, bestKernels = 0;
        var perPhase = new double[ticks.Length];
        for (int pass = 0; pass < 3; pass++)
        {
            Array.Clear(ticks);
            f.PhaseTicks = ticks;
            long start = Stopwatch.GetTimestamp();
            int steps = fold.Run(FitBatches);
            double stepUs = (Stopwatch.GetTimestamp() - start) * 1e6 / Stopwatch.Frequency / steps;
            f.PhaseTicks = null;
            if (stepUs >= bestStep) continue;
            bestStep = stepUs;
            bestKernels = ticks.Skip(1).Sum() * 1e6 / Stopwatch.Frequency / steps;
            for (int i = 0; i < ticks.Length; i++) perPhase[i] = ticks[i] * 1e6 / Stopwatch.Frequency / steps;
        }
        return (bestKernels, bestStep, perPhase);
    }

    /// <summary>Examples/s of <see cref="ReferenceStep"/> (median of a few runs), or null for a model it cannot run or when a step is too slow for the budget.</summary>
    private static double? ScalarReferenceThroughput(BenchConfig config, bool quick)
    {
        if (config.Sizes is null) return null; // ReferenceStep knows Dense and ReLU only: no scalar figure for the CNN

        var spec = config.Spec; var opt = config.Optimizer; var batches = config.Batches();
        var state = config.InitialState();
        var sw = Stopwatch.StartNew();
        state = ReferenceStep.Step(spec, opt, state, batches[0]).State;
        double first = sw.Elapsed.TotalSeconds;
        if (first > (quick ? 0.5 : 8.0)) return null;
        int steps = Math.Max(1, (int)(0.3 / first));
        int runs = first > 0.3 ? 1 : 3;
        var rates = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            sw.Restart();
            for (int k = 0; k < steps; k++) state = ReferenceStep.Step(spec, opt, state, batches[k & 3]).State;
            rates[r] = steps * config.Batch / sw.Elapsed.TotalSeconds;
        }
        Array.Sort(rates);
        return rates[runs / 2];
    }

    /// <summary>A first-step child's figures; <paramref name="ParameterHash"/> the hash of the parameters its fit ended on (FirstStepChild),
    /// null if its processes disagreed; <paramref name="Vectors"/> its products' register width (KernelInfo.ProductVectors).</summary>
    internal sealed record FirstStep(double TimeToFirstStepMs, double FirstStepMs, double PeakWorkingSetMB, string? ParameterHash = null, string? Vectors = null);

    /// <summary>Fresh processes per configuration for the first-step figures: one start on a shared machine moved by ±15 ms.</summary>
    internal const int FirstStepRuns = 5;

    /// <summary>The median of <paramref name="runs"/> fresh processes' figures, each figure on its own (null if none ran).</summary>
    private static FirstStep? FirstStepMedian(string config, int runs, string? executable = null)
    {
        var all = Enumerable.Range(0, runs).Select(_ => FirstStepInFreshProcess(config, executable)).OfType<FirstStep>().ToList();
        if (all.Count == 0) return null;
        static double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }
        var bits = all.Select(f => f.ParameterHash).Distinct().ToList();
        return new FirstStep(Median(all.Select(f => f.TimeToFirstStepMs)), Median(all.Select(f => f.FirstStepMs)), Median(all.Select(f => f.PeakWorkingSetMB)),
            bits.Count == 1 ? bits[0] : null, all[0].Vectors);
    }

    /// <summary>Runs <c>first-step &lt;config&gt;</c> in a new process and reads its one line of numbers.</summary>
    private static FirstStep? FirstStepInFreshProcess(string config, string? executable = null)
    {
        var self = executable ?? Environment.ProcessPath;
        if (self is null) return null;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (executable is null && Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(Report).Assembly.Location);
        psi.ArgumentList.Add("first-step");
        psi.ArgumentList.Add(config);
        using var p = Process.Start(psi);
        if (p is null) return null;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var parts = output.Trim().Split(' ');
        if (p.ExitCode != 0 || parts.Length != 5) return null;
        return new FirstStep(double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture),
            parts[3], parts[4]);
    }

    /// <summary>A remark when the all-thread peak is above the thread count times the one-thread peak: the cores' clock was higher
    /// in the all-thread runs (or the one-thread runs all met load elsewhere), and the all-thread shares are taken against the
    /// higher figure. One Zen 4 report had 116.9 and 252.1 GFLOP/s, others of that session 116.2–116.9 and 232.0–233.7.</summary>
    private static string AboveThreadsTimesOne(PeakResult pk) =>
        pk.Threads > 1 && pk.AllThreadsGflops > 1.02 * pk.Threads * pk.SingleThreadGflops
            ? string.Create(CultureInfo.InvariantCulture, $" (above {pk.Threads} × the one-thread figure, {pk.Threads * pk.SingleThreadGflops:F1}: the clock moved between runs; the {pk.Threads}-thread shares are against {pk.AllThreadsGflops:F1})")
            : "";

    private static void PrintTable(ReportResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"NeuralPure training-step report — {r.Machine}; {r.Runtime}; products at {r.VectorWidth}");
        Console.WriteLine($"{r.Note} Elapsed {r.ElapsedSeconds:F0} s.");
        Console.WriteLine();
        Console.WriteLine(r.Peak is { } pk
            ? string.Create(inv, $"FMA peak (best of short runs at the start and the end of this run; {pk.Chains} independent chains of {pk.Instruction}, 2 FLOPs per lane): {pk.SingleThreadGflops:F1} GFLOP/s on 1 thread, {pk.AllThreadsGflops:F1} GFLOP/s on {pk.Threads} threads{AboveThreadsTimesOne(pk)}")
            : "FMA peak: not measured (no AVX-512F or FMA3 on this machine); % peak is n/a.");
        Console.WriteLine("GFLOP/s and % peak count the matrix products a step executes: forward, weight gradient and input gradient of each dense and conv layer, except the");
        Console.WriteLine("first layer's input gradient (not computed); bias, activations, batchnorm, pooling, dropout, loss and optimizer are not counted. % peak = GFLOP/s over the peak on the row's thread count.");
        Console.WriteLine("fit = Trainer.Fit (the fold: workspaces once per fit; bytes/step = one step in a warm workspace); step = Trainer.Step (the pure step: new arrays each step).");
        Console.WriteLine("train = Fitter.Fit, the façade's loop as `neuralpure train` runs it, over the same 64 batches: shuffled each epoch, a validation pass over 8 batches and a checkpoint");
        Console.WriteLine("(parameters and optimizer state, flushed to disk) after every epoch; its bytes/step = all a whole fit allocates, per-epoch work included, over its steps.");
        Console.WriteLine("scalar ref = the same step with ScalarReference products/bias/ReLU on one thread (MLPs only); × scalar = this row's examples/s over it.");
        Console.WriteLine($"1st step = Init + a Fit to its first step in a fresh process (and ms since that process started); peak MB = that process's peak working set after that fit's 21 steps; each the median of {FirstStepRuns} processes.");
        Console.WriteLine("ex/CPU-s = examples per second of this process's CPU time (all threads): less sensitive to other load on a shared machine; for 1 thread it approximates an idle core.");
        Console.WriteLine("outside = (fit rows) the configuration's warm fold step minus the sum of its parts timed alone (the tables below), in µs and as a share of that step.");
        Console.WriteLine();
        Console.WriteLine("cfg | model                              | opt   | batch | path  | thr | examples/s median (min–max)      | µs/step  | MFLOP/step | GFLOP/s | % peak | outside µs (%)   | ex/CPU-s   | bytes/step  | 1st step (from start) | peak MB | scalar ref ex/s | × scalar");
        Console.WriteLine("----|------------------------------------|-------|-------|-------|-----|----------------------------------|----------|------------|---------|--------|------------------|------------|-------------|-----------------------|---------|-----------------|---------");
        foreach (var c in r.Results)
        {
            string first = c.FirstStepMs is { } f ? string.Create(inv, $"{f,6:F0} ms ({c.TimeToFirstStepMs,5:F0} ms)") : "n/a";
            string scalar = c.ScalarReferenceExamplesPerSecond is { } s ? s.ToString("N0", inv) : "n/a";
            string speed = c.SpeedupVsScalarReference is { } x ? x.ToString("F1", inv) + "×" : "n/a";
            string peak = c.PeakWorkingSetMB is { } p ? p.ToString("F0", inv) : "n/a";
            string outside = c.OutsideMicroseconds is { } o ? string.Create(inv, $"{o,8:F1} ({c.OutsidePercent,5:F1}%)") : "n/a";
            Console.WriteLine(string.Create(inv,
                $"{c.Config,-3} | {c.Model,-34} | {c.Optimizer,-5} | {c.Batch,5} | {c.Path,-5} | {c.Threads,3} | {c.ExamplesPerSecondMedian,10:N0} ({c.ExamplesPerSecondMin,9:N0}–{c.ExamplesPerSecondMax,9:N0}) | {c.MicrosecondsPerStep,8:F1} | {c.FlopsPerStep / 1e6,10:N1} | {c.GflopsPerSecond,7:F1} | {Percent(c.PercentOfPeak),6} | {outside,16} | {c.ExamplesPerCpuSecondMedian,10:N0} | {c.BytesPerStep,11:N0} | {first,21} | {peak,7} | {scalar,15} | {speed,8}"));
        }
        PrintTrainOverFit(r);
        PrintAot(r);
        Console.WriteLine();
        Console.WriteLine($"One step part by part (best of {PartRounds} each, timed alone; the first layer's forward pass reads one of 64 input batches in turn, as the fold does; GFLOP/s = 2·m·n·k over the time, 0 for element-wise parts; the measured step is one step in a warm fold over 64 batches, timed the same way in the same rounds; the kernels inside the step are the same fold's layers, loss and update timed inside its steps, the fastest of three passes over the 64 batches, and what the step spends outside them):");
        string? shown = null;
        foreach (var p in r.Products)
        {
            if (p.Config != shown) { Console.WriteLine($" config {p.Config}:"); shown = p.Config; }
            string inside = p.InsideStepMicroseconds is { } us ? string.Create(inv, $"  inside the step {us,8:F1} µs") : "";
            Console.WriteLine(string.Create(inv, $"  {p.Product,-32} {p.Shape,-38} threads {p.Threads}: {p.Microseconds,8:F1} µs  {p.GflopsPerSecond,6:F1} GFLOP/s  {Percent(p.PercentOfPeak),6} peak{inside}"));
        }
    }

    /// <summary>What the façade's loop costs over the fold: each configuration's train row's examples/s over its fit row's on the
    /// same threads (validation, checkpoints, shuffling and the loop's bookkeeping, per step).</summary>
    private static void PrintTrainOverFit(ReportResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var pairs = r.Results.Where(c => c.Path == "train")
            .Select(t => (Train: t, Fit: r.Results.FirstOrDefault(f => f.Path == "fit" && f.Config == t.Config && f.Threads == t.Threads)))
            .Where(p => p.Fit is not null).ToList();
        if (pairs.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine("train over fit (the façade's loop over the fold, examples/s, medians, same threads): "
            + string.Join(", ", pairs.Select(p => string.Create(inv, $"{p.Train.Config} {p.Train.ExamplesPerSecondMedian / p.Fit!.ExamplesPerSecondMedian:F3}"))));
    }

    /// <summary>The NativeAOT child's first step beside the JIT child's, per configuration, with whether the two fits ended on
    /// the same parameters, bit for bit.</summary>
    private static void PrintAot(ReportResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = r.Results.Where(c => c.Path == "fit").GroupBy(c => c.Config).Select(g => g.First()).ToList();
        Console.WriteLine();
        if (rows.All(c => c.AotFirstStepMs is null)) { Console.WriteLine(r.Aot ?? "NativeAOT first step: not measured"); return; }
        Console.WriteLine($"{r.Aot}: the same first-step child compiled ahead of time (no JIT), {FirstStepRuns} fresh processes each, medians; JIT = the rows above (ReadyToRun glue, the kernel warm-up); same bits = the two children's fits ended on the same parameters, bit for bit (the hash of their bytes).");
        Console.WriteLine("cfg | JIT 1st step (from start) | JIT peak MB | NativeAOT 1st step (from start) | NativeAOT peak MB | vectors | same bits");
        Console.WriteLine("----|---------------------------|-------------|---------------------------------|-------------------|---------|----------");
        foreach (var c in rows)
        {
            string jit = c.FirstStepMs is { } f ? string.Create(inv, $"{f,6:F0} ms ({c.TimeToFirstStepMs,5:F0} ms)") : "n/a";
            string aotFirst = c.AotFirstStepMs is { } a ? string.Create(inv, $"{a,6:F0} ms ({c.AotTimeToFirstStepMs,5:F0} ms)") : "n/a";
            string same = c.AotSameParameters switch { true => "yes", false => "NO", null => "n/a" };
            Console.WriteLine(string.Create(inv, $"{c.Config,-3} | {jit,25} | {c.PeakWorkingSetMB?.ToString("F0", inv) ?? "n/a",11} | {aotFirst,31} | {c.AotPeakWorkingSetMB?.ToString("F0", inv) ?? "n/a",17} | {c.AotVector ?? "n/a",7} | {same}"));
        }
    }

    private static string Percent(double? percent) => percent is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) + "%" : "n/a";
}
