using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Evaluation;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Training;

namespace NeuralPure.Facade.Runs;

/// <summary>Everything an experiment produced.</summary>
public sealed record ExperimentResult(
    ExperimentConfig Config,
    TabularData Data,
    DataSplit Split,
    FitOutcome Fit,
    TrainedModel Model,
    ClassificationMetrics? TestClassification,
    RegressionMetrics? TestRegression,
    Diagnosis? Diagnosis,
    NeuralPure.Optimizers.GradientTransform? Optimizer = null)
{
    /// <summary>SHA-256 of the final parameters (float32 LE, file order).</summary>
    public string ParameterHash => Model.ParameterHash();

    /// <summary>The run's status as the run record writes it: completed, early-stopped, cancelled or diverged.</summary>
    public string Status => Fit.Status switch
    {
        FitStatus.Completed => "completed",
        FitStatus.EarlyStopped => "early-stopped",
        FitStatus.Cancelled => "cancelled",
        _ => "diverged",
    };
}

/// <summary>An experiment checked and built, ready to run: the config (validated), its data, the model, the split, the
/// standardization fitted on the training rows, the three data sets, the optimizer and the fit options.</summary>
public sealed record ExperimentPlan(ExperimentConfig Config, TabularData Data, ModelSpec Spec, DataSplit Split, Standardizer Standardizer,
    DataSet<float> Train, DataSet<float>? Validation, DataSet<float>? Test, NeuralPure.Optimizers.GradientTransform Optimizer, FitOptions FitOptions);

/// <summary>Runs an experiment from its config: load, split, standardize, build, fit, test.</summary>
public static class Experiment
{
    /// <summary>The model an experiment trains on <paramref name="data"/>: an MLP from the data's width through the hidden layers to one output per class (or one value).</summary>
    public static ModelSpec BuildSpec(ExperimentConfig config, TabularData data)
    {
        ArgumentNullException.ThrowIfNull(config); ArgumentNullException.ThrowIfNull(data);
        bool classification = data.Task == TaskKind.Classification;
        LossSpec loss = config.Loss is null ? (classification ? new SoftmaxCrossEntropySpec() : new MseSpec()) : LossSpec.Parse(config.Loss);
        if (classification != loss.UsesLabels && loss is not BinaryCrossEntropySpec)
            throw new ArgumentException($"loss '{loss.Kind}' does not suit a {(classification ? "classification" : "regression")} task", nameof(config));
        if (loss is BinaryCrossEntropySpec) throw new ArgumentException("--loss bce needs 0/1 targets per output; use cross-entropy for class labels", nameof(config));
        if (config.LabelSmoothing > 0)
            loss = loss is SoftmaxCrossEntropySpec ce ? new SoftmaxCrossEntropySpec(ce.ClassWeights, config.LabelSmoothing)
                : throw new ArgumentException($"--label-smoothing applies to cross-entropy, but this {(classification ? "classification" : "regression")} task trains with {loss.Kind}", nameof(config));
        int outputs = classification ? data.Classes : 1;
        if (classification && outputs < 2) throw new ArgumentException($"classification needs at least 2 classes; the data has {outputs}", nameof(config));
        if (config.Arch is { } arch) return Networks.Arch.Parse(arch, new NeuralPure.Tensors.Shape([.. data.ExampleShape]), outputs, loss);
        var sizes = new List<int> { data.Features };
        sizes.AddRange(config.Layers);
        sizes.Add(outputs);
        var mlp = ModelSpec.Mlp(sizes, ActivationSpec.Parse(config.Activation), loss, Initializer.Parse(config.Init), config.Dropout);
        // nll takes log-probabilities: the MLP's last dense layer is followed by a log-softmax (as Network's Output(k, "nll")).
        return loss is NllSpec ? new ModelSpec(mlp.Input, mlp.Layers.Add(new LogSoftmaxSpec()), mlp.Loss) : mlp;
    }

    /// <summary>An estimate of the peak bytes training an MLP with these widths takes, and its parameter count, calibrated on
    /// measured peak resident sets (4-W-3 MLPs on iris, W = 1–6 million, SGD and Adam, with and without checkpoints: the estimate
    /// was within 0.85–1.2× of each): in float32, the parameters, gradients and optimizer buffers of a step, a snapshot of
    /// parameters and buffers (three while a checkpoint is serialized), the best epoch's parameters under early stopping, and ten
    /// activation-sized buffers per layer for the largest batch the run forwards (a training batch, or the whole validation or test split).</summary>
    public static (long Parameters, long Bytes) MemoryEstimate(ExperimentConfig config, IReadOnlyList<int> widths, int rows, bool checkpoints = true)
    {
        ArgumentNullException.ThrowIfNull(config); ArgumentNullException.ThrowIfNull(widths);
        long parameters = 0, units = widths[0];
        for (int i = 1; i < widths.Count; i++) { parameters += (long)widths[i - 1] * widths[i] + widths[i]; units += widths[i]; }
        long bytes = 4 * (parameters * Copies(config, checkpoints) + 10L * Math.Max(rows, 1) * units);
        return (parameters, bytes);
    }

    /// <summary>Float32 copies of the parameters a fit holds at its peak (see <see cref="MemoryEstimate(ExperimentConfig, IReadOnlyList{int}, int, bool)"/>).</summary>
    private static long Copies(ExperimentConfig config, bool checkpoints)
    {
        string name = config.Optimizer.ToLowerInvariant();
        double mu = config.Momentum ?? (name is "momentum" or "nesterov" ? 0.9 : 0);
        int buffers = name switch { "adam" or "adamw" or "adamax" or "nadam" or "radam" => 2, "adagrad" or "lion" => 1, "rmsprop" => 1 + (mu != 0 ? 1 : 0), _ => mu != 0 ? 1 : 0 };
        if (config.Accumulate > 1) buffers++; // the accumulator
        return 2 + buffers + (1 + buffers) * (checkpoints ? 3 : 1) + (config.EarlyStopping is null ? 0 : 1);
    }

    /// <summary>The estimate of <see cref="MemoryEstimate(ExperimentConfig, IReadOnlyList{int}, int, bool)"/> for any model: its
    /// parameter count, and every layer's output size as the activations.</summary>
    public static (long Parameters, long Bytes) MemoryEstimate(ExperimentConfig config, ModelSpec spec, int rows, bool checkpoints = true)
    {
        ArgumentNullException.ThrowIfNull(config); ArgumentNullException.ThrowIfNull(spec);
        long parameters = spec.ParameterShapes.Sum(p => (long)p.Shape.Size), units = spec.Shapes.Sum(s => (long)s.Size);
        return (parameters, 4 * (parameters * Copies(config, checkpoints) + 10L * Math.Max(rows, 1) * units));
    }

    private static void RequireMemory(ExperimentConfig config, ModelSpec spec, int rows)
    {
        var (parameters, bytes) = MemoryEstimate(config, spec, rows);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available)
            throw new ArgumentException($"the model has {parameters:N0} parameters; training it needs at least {Gib(bytes)} (parameters, gradients and {config.Optimizer}'s buffers in float32, "
                + $"checkpoint snapshots and activations for {rows} rows), but this process may use {Gib(available)}; choose a smaller --arch", nameof(config));
    }

    private static void RequireMemory(ExperimentConfig config, IReadOnlyList<int> widths, int rows)
    {
        var (parameters, bytes) = MemoryEstimate(config, widths, rows);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        bool tooBigForArrays = Enumerable.Range(1, widths.Count - 1).Any(i => (long)widths[i - 1] * widths[i] > Array.MaxLength);
        if (bytes > available || tooBigForArrays)
            throw new ArgumentException(
                $"the model {string.Join("-", widths)} has {parameters:N0} parameters; training it needs at least {Gib(bytes)} (parameters, gradients and "
                + $"{config.Optimizer}'s buffers in float32, checkpoint snapshots and activations for {rows} rows), but this process may use {Gib(available)}"
                + (tooBigForArrays ? $", and a layer's weights exceed the {Array.MaxLength:N0} elements an array holds" : "")
                + "; choose smaller --layers", nameof(config));
    }

    private static string Gib(long bytes) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB");

    /// <summary>Everything an experiment needs, checked once: the config validated, the model built for the data, the split,
    /// the standardization, the optimizer and the fit options.</summary>
    /// <exception cref="ArgumentException">The config is invalid or does not suit the data (the message names the option).</exception>
    public static ExperimentPlan Plan(ExperimentConfig config, TabularData data)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Plan(config.Validate(), data);
    }

    /// <summary><see cref="Plan(ExperimentConfig, TabularData)"/> for a config already validated (the CLI validates before it
    /// loads the data, to refuse a bad option without reading a file): it is not checked again.</summary>
    /// <exception cref="ArgumentException">The config does not suit the data.</exception>
    public static ExperimentPlan Plan(ValidatedConfig validated, TabularData data)
    {
        ArgumentNullException.ThrowIfNull(validated); ArgumentNullException.ThrowIfNull(data);
        var config = validated.Config;
        var split = DataSplit.Create(data.Rows, config.ValFraction, config.TestFraction, config.Seed);
        int perEpoch = Batching.IterationsPerEpoch(split.Train.Length, config.BatchSize);
        long batches = (long)config.Epochs * perEpoch;
        RequireAnUpdate(config, split.Train.Length, perEpoch, batches);
        if (config.EarlyStopping is not null && split.Validation.IsEmpty)
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--early-stopping watches the validation loss, but {EmptySplit("--val-fraction", config.ValFraction, data.Rows, "validation")} "
                + $"(the split is {split.Train.Length} train, 0 validation, {split.Test.Length} test); give a --val-fraction above {0.5 / data.Rows:0.####} or more data"), nameof(config));
        int peakRows = Math.Max(Math.Min(config.BatchSize, split.Train.Length), Math.Max(split.Validation.Length, split.Test.Length));
        if (config.Arch is null) RequireMemory(config, [data.Features, .. config.Layers, data.Task == TaskKind.Classification ? Math.Max(data.Classes, 2) : 1], peakRows);
        var spec = BuildSpec(config, data);
        if (config.Arch is not null) RequireMemory(config, spec, peakRows);
        var standardizer = Standardizer.Fit(data, split.Train.AsSpan());
        // The examples in the model's input shape ([1, 28, 28] for images under --arch; [features] for an MLP).
        DataSet<float> Shaped(DataSet<float> d) => spec.Input.Rank == 1 ? d : new DataSet<float>(d.X.Reshape([.. spec.Input.Batch(d.Rows)]), d.Y);
        var train = Shaped(standardizer.ToDataSet(data, split.Train.AsSpan()));
        var val = split.Validation.IsEmpty ? null : Shaped(standardizer.ToDataSet(data, split.Validation.AsSpan()));
        var test = split.Test.IsEmpty ? null : Shaped(standardizer.ToDataSet(data, split.Test.AsSpan()));
        long totalSteps = (batches + config.Accumulate - 1) / config.Accumulate; // real updates, which the schedule counts
        foreach (var pattern in config.NoDecayPatterns)
            if (!spec.ParameterNames.Any(n => NeuralPure.Optimizers.ParamMask.Matching(pattern).Includes(n)))
                throw new ArgumentException($"--no-decay {pattern} matches no parameter; the parameters are {string.Join(", ", spec.ParameterNames)}", nameof(config));
        var optimizer = config.ToOptimizerOptions().Build(totalSteps);
        var fitOptions = new FitOptions(config.Epochs, config.BatchSize, config.Seed,
            EarlyStopping: config.EarlyStopping is { } p ? new EarlyStopping(p, config.MinDelta) : null, Threads: config.Threads);
        _ = Fitter.Check(spec, optimizer, train, val, fitOptions); // what the fit would refuse, refused now: before a run folder is claimed or cleared
        return new ExperimentPlan(config, data, spec, split, standardizer, train, val, test, optimizer, fitOptions);
    }

    /// <summary>Why a split with a fraction above 0 came out empty: <c>--test-fraction 0.2 of 2 rows rounds to 0 test rows</c>.</summary>
    internal static string EmptySplit(string option, double fraction, int rows, string part) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option} {fraction} of {rows} rows rounds to 0 {part} rows");

    /// <summary>Refuses an accumulation longer than the whole fit: no update would be made, and the run would end "completed" with
    /// its initial parameters. One longer than an epoch is taken: its updates straddle epochs, as optax's MultiSteps counts
    /// batches, not epochs (Fitter.Fit refuses the same case for a C# caller).</summary>
    private static void RequireAnUpdate(ExperimentConfig config, int trainRows, int perEpoch, long batches)
    {
        int k = config.Accumulate;
        if (batches >= k) return;
        throw new ArgumentException(
            $"--accumulate {k} is more than the {batches} batch{(batches == 1 ? "" : "es")} of the whole run ({config.Epochs} epoch{(config.Epochs == 1 ? "" : "s")} of {perEpoch}: {trainRows} training rows at batch {config.BatchSize}): "
            + $"no update would ever be made; give --accumulate {batches} or less, more --epochs or a smaller --batch-size", nameof(config));
    }

    /// <summary>Runs the experiment on already loaded data.</summary>
    /// <param name="config">The experiment.</param>
    /// <param name="data">Its data, loaded.</param>
    /// <param name="progress">Per-epoch reports.</param>
    /// <param name="iterations">Per-iteration reports.</param>
    /// <param name="cancellationToken">Stops at the next batch boundary (see <see cref="Fitter.Fit(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, NeuralPure.Training.DataSet{float}, NeuralPure.Training.DataSet{float}?, FitOptions, IProgress{EpochReport}?, IProgress{IterationReport}?, NeuralPure.Training.TrainState{float}?, CancellationToken, CheckpointOptions?)"/>).</param>
    /// <param name="checkpoint">Where and how often to write checkpoints, or null for none.</param>
    /// <param name="resume">A checkpoint of this same experiment to continue from (see <see cref="Fitter.Resume"/>), or null to start afresh.</param>
    /// <exception cref="ArgumentException">The config is invalid or does not suit the data, or the checkpoint belongs to another run.</exception>
    public static ExperimentResult Run(ExperimentConfig config, TabularData data, IProgress<EpochReport>? progress = null,
        IProgress<IterationReport>? iterations = null, CancellationToken cancellationToken = default,
        CheckpointOptions? checkpoint = null, FitCheckpoint? resume = null) =>
        Run(Plan(config, data), progress, iterations, cancellationToken, checkpoint, resume);

    /// <summary>Runs a planned experiment: fit (or resume), then test.</summary>
    /// <param name="plan">The experiment, checked (<see cref="Plan(ExperimentConfig, TabularData)"/>).</param>
    /// <param name="progress">Per-epoch reports.</param>
    /// <param name="iterations">Per-iteration reports.</param>
    /// <param name="cancellationToken">Stops at the next batch boundary (see <see cref="Fitter.Fit(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, NeuralPure.Training.DataSet{float}, NeuralPure.Training.DataSet{float}?, FitOptions, IProgress{EpochReport}?, IProgress{IterationReport}?, NeuralPure.Training.TrainState{float}?, CancellationToken, CheckpointOptions?)"/>).</param>
    /// <param name="checkpoint">Where and how often to write checkpoints, or null for none.</param>
    /// <param name="resume">A checkpoint of this same experiment to continue from (see <see cref="Fitter.Resume"/>), or null to start afresh.</param>
    /// <exception cref="ArgumentException">The checkpoint belongs to another run.</exception>
    public static ExperimentResult Run(ExperimentPlan plan, IProgress<EpochReport>? progress = null,
        IProgress<IterationReport>? iterations = null, CancellationToken cancellationToken = default,
        CheckpointOptions? checkpoint = null, FitCheckpoint? resume = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var (config, data, spec, split, standardizer, train, val, test, optimizer, planned) = plan;
        var fitOptions = planned with { ReportIterations = iterations is not null };
        var outcome = resume is null
            ? Fitter.Fit(spec, optimizer, train, val, fitOptions, progress, iterations, null, cancellationToken, checkpoint)
            : Fitter.Resume(spec, optimizer, train, val, fitOptions, resume, progress, iterations, cancellationToken, checkpoint);

        var model = new TrainedModel(spec, outcome.Parameters, standardizer, data.Task, data.Classes, data.FeatureNames, data.TargetName, data.ClassNames)
        { LayerState = outcome.LayerState };
        ClassificationMetrics? cm = null; RegressionMetrics? rm = null;
        if (test is not null)
        {
            if (data.Task == TaskKind.Classification) cm = Evaluate.Classification(spec, outcome.Parameters, test, outcome.LayerState);
            else rm = Evaluate.Regression(spec, outcome.Parameters, test, standardizer, outcome.LayerState);
        }
        var curve = outcome.History.Select(h => h.ValLoss ?? h.TrainLoss).ToList();
        var trainCurve = outcome.History.Select(h => h.TrainLoss).ToList();
        if (outcome.Status == FitStatus.Diverged) { curve.Add(double.NaN); trainCurve.Add(double.NaN); }
        bool validated = outcome.History.Length > 0 && outcome.History.All(h => h.ValLoss is not null);
        // No diagnosis of a curve with a negative loss (its rules read losses ≥ 0; a user's own loss may go below 0).
        var diagnosis = curve.Count < 2 || curve.Any(v => v < 0) || trainCurve.Any(v => v < 0) ? null : validated ? HistoryDiagnosis.Diagnose(trainCurve, curve) : HistoryDiagnosis.Diagnose(curve);
        return new ExperimentResult(config, data, split, outcome, model, cm, rm, diagnosis, optimizer);
    }

    /// <summary>Loads the config's data and runs the experiment.</summary>
    public static ExperimentResult Run(ExperimentConfig config, IProgress<EpochReport>? progress = null, IProgress<IterationReport>? iterations = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var validated = config.Validate(); // before the data is read
        return Run(Plan(validated, DataSource.Load(config)), progress, iterations, cancellationToken);
    }
}

/// <summary>The run record (<c>run.json</c>): what ran, on what, with what result, on which machine.</summary>
public static class RunRecord
{
    /// <summary>The record of a result as JSON.</summary>
    public static JsonObject ToJson(ExperimentResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return ToJson(r, r.Config.Data, r.Config.Labels);
    }

    /// <summary>The record of a result whose data was read at <paramref name="dataReadAt"/> (and its labels at
    /// <paramref name="labelsReadAt"/>) rather than where its config says: <c>config.data</c>, <c>data.given</c> and
    /// <c>data.labels</c> keep what the run was given; <c>data.resolved</c> and <c>data.labelsResolved</c> say where it was read.
    /// (<c>resume</c> finds a run's data by the paths its checkpoint recorded, from wherever it runs.)</summary>
    internal static JsonObject ToJson(ExperimentResult r, string dataReadAt, string? labelsReadAt)
    {
        ArgumentNullException.ThrowIfNull(r); ArgumentNullException.ThrowIfNull(dataReadAt);
        var d = r.Data;
        var history = new JsonArray();
        foreach (var h in r.Fit.History)
            history.Add((JsonNode)new JsonObject
            {
                ["epoch"] = h.Epoch, ["iterations"] = h.Iterations, ["trainLoss"] = h.TrainLoss,
                ["valLoss"] = h.ValLoss is { } v && double.IsFinite(v) ? v : null,
                ["valMetric"] = h.ValMetric is { } m && double.IsFinite(m) ? m : null,
            });
        JsonObject? test = null;
        if (r.TestClassification is { } c) test = new JsonObject { ["loss"] = Finite(c.Loss), ["accuracy"] = c.Accuracy };
        if (r.TestRegression is { } g) test = new JsonObject { ["loss"] = Finite(g.Loss), ["rmse"] = Finite(g.Rmse), ["r2"] = Finite(g.R2), ["mae"] = Finite(g.Mae) };
        var o = new JsonObject
        {
            ["format"] = "neuralpure-run/1",
            ["status"] = r.Status,
            ["seed"] = r.Config.Seed,
            ["neuralpure"] = new JsonObject { ["version"] = BuildInfo.Number, ["commit"] = BuildInfo.Commit, ["modified"] = BuildInfo.Modified },
            ["config"] = JsonNode.Parse(r.Config.ToJson()),
            ["optimizer"] = r.Optimizer is { } opt ? TransformJson.Describe(opt) : null,
            // What the accumulation (config.accumulate, optimizer.every) made of the run's batches: no record says every batch
            // was learned from when the last ones' gradients were never applied.
            ["accumulation"] = r.Fit.Accumulation is { } acc ? new JsonObject
            {
                ["batchesPerUpdate"] = acc.BatchesPerUpdate, ["batchesPerEpoch"] = acc.BatchesPerEpoch, ["batches"] = acc.Batches,
                ["updates"] = acc.Updates, ["batchesNotApplied"] = acc.BatchesNotApplied,
            } : null,
            ["model"] = SpecJson.ToJson(r.Model.Spec),
            ["data"] = new JsonObject
            {
                ["name"] = d.Name, ["given"] = r.Config.Data, ["resolved"] = DataSource.Resolve(dataReadAt),
                ["labels"] = r.Config.Labels, ["labelsResolved"] = r.Config.Labels is { } lb ? DataSource.Resolve(labelsReadAt ?? lb) : null,
                ["sha256"] = d.Sha256, ["rows"] = d.Rows, ["features"] = d.Features,
                ["task"] = d.Task == TaskKind.Classification ? "classification" : "regression",
                ["classes"] = d.Task == TaskKind.Classification ? d.Classes : null,
                ["classNames"] = d.Task == TaskKind.Classification ? new JsonArray([.. d.ClassNames.Select(n => (JsonNode?)n)]) : null,
                ["target"] = d.TargetName,
                ["inferred"] = d.DescribeTask(),
                ["notices"] = new JsonArray([.. d.Notices.Select(n => (JsonNode?)n)]),
                ["targets"] = d.Task == TaskKind.Regression ? 1 : null,
                ["split"] = new JsonObject { ["train"] = r.Split.Train.Length, ["validation"] = r.Split.Validation.Length, ["test"] = r.Split.Test.Length },
            },
            ["history"] = history,
            ["test"] = test,
            ["diagnosis"] = r.Diagnosis is { } dg ? new JsonObject { ["kind"] = dg.Kind.ToString().ToLowerInvariant(), ["summary"] = dg.Summary, ["evidence"] = dg.Evidence, ["epochs"] = new JsonArray(dg.Epochs.Select(e => (JsonNode)e).ToArray()) } : null,
            ["divergence"] = r.Fit.Divergence is { } dv ? new JsonObject { ["epoch"] = dv.Epoch, ["iteration"] = dv.Iteration, ["layer"] = dv.Layer, ["message"] = dv.Message, ["kept"] = dv.Kept } : null,
            ["earlyStopping"] = r.Fit.Status == FitStatus.EarlyStopped ? new JsonObject { ["stoppedAfterEpoch"] = r.Fit.History.Length, ["restoredEpoch"] = r.Config.EarlyStopping is null ? null : r.Fit.BestEpoch } : null,
            ["parameters"] = new JsonObject { ["count"] = r.Model.Parameters.ParameterCount, ["sha256"] = r.ParameterHash },
            ["environment"] = new JsonObject
            {
                ["dotnet"] = RuntimeInformation.FrameworkDescription,
                ["os"] = RuntimeInformation.OSDescription,
                ["cpu"] = CpuName(),
                ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
                // The threads that ran: a product never runs on more threads than there are processors (WorkerPool has one
                // helper per processor but the caller's); config.threads keeps what was asked for.
                ["threads"] = ThreadsRun(r.Config.Threads),
                ["processors"] = Environment.ProcessorCount,
                // The products' register width (V512, V256, V128 or scalar): the same bits at every width, not the same speed.
                ["vectors"] = NeuralPure.Kernels.KernelInfo.ProductVectors,
                // How the code that ran was compiled: "JIT" (dotnet run, a framework-dependent tool) or "NativeAOT" (a native
                // executable: no JIT, so its instruction set was fixed when it was published; vectors says which width it took).
                ["compiled"] = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT",
            },
            ["seconds"] = r.Fit.Seconds,
            ["examplesPerSecond"] = r.Fit.ExamplesPerSecond,
        };
        return o;
    }

    /// <summary>The threads a run asking for <paramref name="threads"/> (0: all cores) runs its kernels on here: at most one per
    /// processor, however many it asks for.</summary>
    internal static int ThreadsRun(int threads) => Math.Min(new Parallelism(threads).EffectiveThreads, Environment.ProcessorCount);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>The CPU's model name (from /proc/cpuinfo on Linux), or the architecture.</summary>
    public static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Writes the record atomically, adding where the data lies relative to the record's folder (so a moved tree still replays).</summary>
    public static void Write(string path, ExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Write(path, result, result.Config.Data, result.Config.Labels);
    }

    /// <summary>As <see cref="Write(string, ExperimentResult)"/>, for a result whose data was read elsewhere than its config says
    /// (<see cref="ToJson(ExperimentResult, string, string?)"/>): the paths relative to the record's folder are those of the files read.</summary>
    internal static void Write(string path, ExperimentResult result, string dataReadAt, string? labelsReadAt)
    {
        ArgumentNullException.ThrowIfNull(path);
        var json = ToJson(result, dataReadAt, labelsReadAt);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var data = json["data"]!.AsObject();
        data["relativeToRun"] = RelativeTo(folder, dataReadAt);
        data["labelsRelativeToRun"] = result.Config.Labels is { } l ? RelativeTo(folder, labelsReadAt ?? l) : null;
        AtomicFile.WriteAllText(path, json.ToJsonString(ExperimentConfig.JsonOptions) + "\n");
    }

    /// <summary>The data's path relative to <paramref name="folder"/> ('/'-separated), or null for a bundled data set.</summary>
    public static string? RelativeTo(string folder, string data)
    {
        ArgumentNullException.ThrowIfNull(folder); ArgumentNullException.ThrowIfNull(data);
        var resolved = DataSource.Resolve(data);
        return resolved.StartsWith(DataSource.BundledPrefix, StringComparison.Ordinal) ? null : Path.GetRelativePath(folder, resolved).Replace('\\', '/');
    }

    /// <summary>The run record formats this version reads.</summary>
    public static IReadOnlyList<string> KnownFormats { get; } = ["neuralpure-run/1"];

    /// <summary>Reads a run record as JSON, refusing one of an unknown format.</summary>
    /// <exception cref="DataFormatException">Not JSON, not an object, or a format this version does not know.</exception>
    public static JsonObject ReadJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new System.Text.Json.JsonException("not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new DataFormatException(path, null, null, $"not a NeuralPure run record: {e.Message}", e); }
        string? format = root["format"] is JsonValue v && v.TryGetValue<string>(out var f) ? f : null;
        if (format is null || !KnownFormats.Contains(format))
            throw DataFormatException.InField(path, "format", $"run record format {DataText.Quote(format ?? "(none)")} is not one this NeuralPure reads ({string.Join(", ", KnownFormats)})");
        return root;
    }

    /// <summary>The fields of a record that say where and how fast it ran, not what it computed: replay does not compare them.</summary>
    public static IReadOnlyList<string> UncomparedFields { get; } =
        ["seconds", "examplesPerSecond", "environment", "neuralpure", "config.data", "config.labels", "config.threads", "data.name",
         "data.given", "data.resolved", "data.labels", "data.labelsResolved", "data.relativeToRun", "data.labelsRelativeToRun",
         // The diagnosis's prose is made from the history (compared, number by number) and names its kind (compared): a later
         // version may word it better without a replay calling the run different.
         "diagnosis.summary", "diagnosis.evidence"];

    /// <summary>The fields a later version added to the record: a record written before them lacks them, and replay compares each
    /// only where the record has it (a record that has one is held to it).</summary>
    public static IReadOnlyList<string> AddedFields { get; } = ["accumulation", "diagnosis.epochs"];

    /// <summary>Every difference between a recorded run and a replayed one, field by field (JSON paths like <c>history[2].valLoss</c>),
    /// except <see cref="UncomparedFields"/> and the <see cref="AddedFields"/> the record lacks; empty when the replay reproduced
    /// everything the record holds.</summary>
    public static IReadOnlyList<string> Differences(JsonNode? recorded, JsonNode? replayed)
    {
        var found = new List<string>();
        Diff(recorded, replayed, "", found);
        return found;
    }

    private static void Diff(JsonNode? a, JsonNode? b, string path, List<string> found)
    {
        if (found.Count >= 20 || UncomparedFields.Contains(path)) return;
        switch (a, b)
        {
            case (null, null): return;
            case (JsonObject oa, JsonObject ob):
                foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                {
                    string field = path.Length == 0 ? key : $"{path}.{key}";
                    if (!oa.ContainsKey(key) && AddedFields.Contains(field)) continue; // written before the field was
                    Diff(oa[key], ob[key], field, found);
                }
                return;
            case (JsonArray aa, JsonArray ab):
                if (aa.Count != ab.Count) { found.Add($"{path}: {aa.Count} entries recorded, {ab.Count} now"); return; }
                for (int i = 0; i < aa.Count; i++) Diff(aa[i], ab[i], $"{path}[{i}]", found);
                return;
            default:
                string ta = a?.ToJsonString() ?? "null", tb = b?.ToJsonString() ?? "null";
                if (ta != tb && !SameValue(a, b, ta, tb)) found.Add($"{path}{EpochOf(path)}: recorded {Short(ta)}, now {Short(tb)}");
                return;
        }
    }

    /// <summary>Whether two JSON values spelled differently are the same value: strings by their text once unescaped, numbers by
    /// value (whole numbers exactly, others as the doubles they parse to, bit for bit), so a record reformatted by another JSON
    /// tool (1e-08 for 1E-08, 5.0 for 5, \u00b2 for ²) is not a difference while a number off by its last bit is.</summary>
    private static bool SameValue(JsonNode? a, JsonNode? b, string ta, string tb)
    {
        if (a is not JsonValue va || b is not JsonValue vb || va.GetValueKind() != vb.GetValueKind()) return false;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        switch (va.GetValueKind())
        {
            case System.Text.Json.JsonValueKind.String:
                return va.GetValue<string>() == vb.GetValue<string>();
            case System.Text.Json.JsonValueKind.Number:
                const System.Globalization.NumberStyles whole = System.Globalization.NumberStyles.AllowLeadingSign;
                if (System.Numerics.BigInteger.TryParse(ta, whole, invariant, out var ia) && System.Numerics.BigInteger.TryParse(tb, whole, invariant, out var ib)) return ia == ib;
                return double.TryParse(ta, System.Globalization.NumberStyles.Float, invariant, out var da) && double.TryParse(tb, System.Globalization.NumberStyles.Float, invariant, out var db)
                    && double.IsFinite(da) && BitConverter.DoubleToInt64Bits(da) == BitConverter.DoubleToInt64Bits(db);
            default:
                return false;
        }
    }

    private static string EpochOf(string path) =>
        path.StartsWith("history[", StringComparison.Ordinal) && int.TryParse(path.AsSpan(8, path.IndexOf(']') - 8), out int i) ? $" (epoch {i + 1})" : "";

    private static string Short(string s) => s.Length <= 80 ? s : s[..80] + "…";

    /// <summary>Reads the config and the recorded facts back from a run record.</summary>
    /// <exception cref="DataFormatException">The file is not a run record.</exception>
    public static (ExperimentConfig Config, string DataSha256, string ParameterHash, ImmutableArray<double> TrainLosses) Read(string path)
    {
        var text = File.ReadAllText(path);
        try
        {
            var root = JsonNode.Parse(text) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
            var config = System.Text.Json.JsonSerializer.Deserialize(root["config"], FacadeJson.Run.ExperimentConfig) ?? throw new System.Text.Json.JsonException("no config");
            string sha = root["data"]!["sha256"]!.GetValue<string>();
            string hash = root["parameters"]!["sha256"]!.GetValue<string>();
            var losses = (root["history"] as JsonArray ?? []).Select(h => h!["trainLoss"]!.GetValue<double>()).ToImmutableArray();
            return (config, sha, hash, losses);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new DataFormatException(path, null, null, $"not a NeuralPure run record: {e.Message}", e);
        }
    }
}
