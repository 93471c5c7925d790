using System.Collections.Immutable;
using System.CommandLine;
using System.Runtime.InteropServices;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using Spectre.Console;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure train</c>: runs an experiment and writes run.json, model.safetensors and loss.svg.</summary>
internal static class TrainCommand
{
    private static readonly ExperimentConfig D = new();

    internal static readonly Option<string> Data = new("--data") { Description = "A bundled data set (digits, iris, breast-cancer, auto-mpg), a CSV file, or an IDX images file", DefaultValueFactory = _ => D.Data };
    internal static readonly Option<string?> Labels = new("--labels") { Description = "The IDX labels file for --data IDX images" };
    internal static readonly Option<string?> Target = new("--target") { Description = "CSV target column (default: the last)" };
    internal static readonly Option<string?> Task = new("--task") { Description = "classification or regression (default: inferred: text or whole-number labels are classes)" };
    internal static readonly Option<string?> Separator = new("--separator") { Description = "CSV field separator: a character, or tab, comma, semicolon, pipe (default: detected)" };
    internal static readonly Option<bool> NoHeader = new("--no-header") { Description = "The CSV has no header line (columns are named column_1..column_N; --target may be a number)" };
    internal static readonly Option<bool> Header = new("--header") { Description = "The CSV's first line is a header even if it is all numbers" };
    internal static readonly Option<string?> ArchOption = new("--arch") { Description = "The model in one line instead of an MLP, e.g. conv(32,3,pad=1),relu,maxpool(2),flatten,dense(128),relu (the output layer is added); IDX images arrive as [1, 28, 28]" };
    internal static readonly Option<string> Layers = new("--layers") { Description = "Hidden layer widths, e.g. 64,32 ('none': a linear model)", DefaultValueFactory = _ => "64" };
    internal static readonly Option<string> Activation = new("--activation") { Description = "relu, leaky-relu, tanh, sigmoid, gelu, silu, elu, softplus, identity", DefaultValueFactory = _ => D.Activation };
    internal static readonly Option<string> Init = new("--init") { Description = "pytorch, he-uniform, he-normal, xavier-uniform, xavier-normal, zeros", DefaultValueFactory = _ => D.Init };
    internal static readonly Option<string?> Loss = new("--loss") { Description = "cross-entropy, nll (a log-softmax then ends the model), mse, huber, l1, smooth-l1 (default: by task)" };
    internal static readonly Option<string> Optimizer = new("--optimizer") { Description = "sgd (PyTorch's SGD), momentum, nesterov, adam, adamw, rmsprop, adagrad, lion, adamax, nadam, radam", DefaultValueFactory = _ => D.Optimizer };
    internal static readonly Option<double?> LrDecay = new Option<double?>("--lr-decay") { Description = "Adagrad's learning-rate decay: lr / (1 + t·decay) (adagrad; default 0)" }.Decimal();
    internal static readonly Option<string?> NoDecay = new("--no-decay") { Description = "Keep these parameters out of the weight decay: names or globs, comma-separated (e.g. bias, or 0.*); default: decay all, as PyTorch" };
    internal static readonly Option<double> LabelSmoothing = new Option<double>("--label-smoothing") { Description = "Cross-entropy's label smoothing in [0, 1] (PyTorch's label_smoothing; default 0)" }.Decimal();
    internal static readonly Option<int> Accumulate = new("--accumulate") { Description = "Gradient accumulation: batches per update (each update averages k batches of --batch-size)", DefaultValueFactory = _ => 1 };
    internal static readonly Option<double> Lr = new Option<double>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => D.LearningRate }.Decimal();
    internal static readonly Option<double?> WeightDecay = new Option<double?>("--weight-decay") { Description = "Weight decay (default: 0.01 for adamw as PyTorch, else 0)" }.Decimal();
    internal static readonly Option<double?> Momentum = new Option<double?>("--momentum") { Description = "Momentum: sgd, momentum, nesterov, rmsprop (default 0.9 for momentum/nesterov, else 0)" }.Decimal();
    internal static readonly Option<double?> Dampening = new Option<double?>("--dampening") { Description = "SGD momentum dampening in [0, 1] (sgd, momentum; default 0)" }.Decimal();
    internal static readonly Option<bool> Nesterov = new("--nesterov") { Description = "SGD with Nesterov momentum (sgd; needs --momentum > 0)" };
    internal static readonly Option<string> Schedule = new("--schedule") { Description = "constant, cosine, warmup-cosine, step, exponential, onecycle", DefaultValueFactory = _ => D.Schedule };
    internal static readonly Option<double?> ClipNorm = new Option<double?>("--clip-norm") { Description = "Clip gradients to this global L2 norm" }.Decimal();
    internal static readonly Option<double> Dropout = new Option<double>("--dropout") { Description = "Dropout rate after each hidden activation", DefaultValueFactory = _ => D.Dropout }.Decimal();
    internal static readonly Option<int> BatchSize = new("--batch-size") { Description = "Examples per iteration", DefaultValueFactory = _ => D.BatchSize };
    internal static readonly Option<int> Epochs = new("--epochs") { Description = "Passes over the training data", DefaultValueFactory = _ => D.Epochs };
    internal static readonly Option<ulong> Seed = new("--seed") { Description = "Seed: the run is a pure function of config, data and seed", DefaultValueFactory = _ => D.Seed };
    internal static readonly Option<int> Threads = new("--threads") { Description = "Threads (0: all cores); results are bit-identical for any value", DefaultValueFactory = _ => D.Threads };
    internal static readonly Option<double> ValFraction = new Option<double>("--val-fraction") { Description = "Validation fraction", DefaultValueFactory = _ => D.ValFraction }.Decimal();
    internal static readonly Option<double> TestFraction = new Option<double>("--test-fraction") { Description = "Test fraction", DefaultValueFactory = _ => D.TestFraction }.Decimal();
    internal static readonly Option<int?> EarlyStopping = new("--early-stopping") { Description = "Stop after this many epochs without validation improvement (restores the best)" };
    internal static readonly Option<string?> Out = new("--out") { Description = "Output folder (default: runs/<data>-<time>)" };
    internal static readonly Option<bool> Force = new("--force") { Description = "Replace the run in an existing output folder (its run.json, model, plot and checkpoint are deleted once the new run's are written; kept if it fails)" };
    internal static readonly Option<bool> Json = new("--json") { Description = "Print the run record to stdout and nothing else" };
    internal static readonly Option<int> CheckpointEvery = new("--checkpoint-every")
    {
        Description = "Write <out>/checkpoint.safetensors every N epochs (also at the start, at the end and on Ctrl+C) so 'neuralpure resume <out>' can finish the run; 0: never",
        DefaultValueFactory = _ => DefaultCheckpointEvery,
    };

    /// <summary>Checkpoint every epoch by default: for these models a checkpoint costs milliseconds, and a killed run then loses at most one epoch.</summary>
    internal const int DefaultCheckpointEvery = 1;

    /// <summary>The checkpoint's file name inside the run folder.</summary>
    internal const string CheckpointFileName = "checkpoint.safetensors";

    /// <summary>Exit code after SIGTERM (128 + 15), when the run stopped gracefully.</summary>
    internal const int Terminated = 143;

    public static Command Create()
    {
        var cmd = new Command("train", "Train a network and write run.json, model.safetensors and loss.svg")
        {
            Data, Labels, Target, Task, Separator, NoHeader, Header, ArchOption, Layers, Activation, Init, Loss, Optimizer, Lr, WeightDecay, Momentum, Dampening, Nesterov, LrDecay, NoDecay, Accumulate, Schedule, ClipNorm, Dropout, LabelSmoothing,
            BatchSize, Epochs, Seed, Threads, ValFraction, TestFraction, EarlyStopping, Out, Force, Json, CheckpointEvery,
        };
        cmd.SetAction(p => Run(ConfigFrom(p), p.GetValue(Out), p.GetValue(Force), p.GetValue(Json), p.GetValue(CheckpointEvery)));
        return cmd;
    }

    /// <summary>A --layers value: comma-separated hidden widths, or 'none' for a linear model; empty is refused (train and gradcheck alike).</summary>
    internal static ImmutableArray<int> HiddenWidths(string? value)
    {
        var text = value ?? "";
        if (text.Trim() == "") throw new UsageException("--layers is empty: give hidden widths like 64,32, or 'none' for a linear model (no hidden layer)");
        try { return text.Trim() == "none" ? [] : [.. text.Split(',', StringSplitOptions.TrimEntries).Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))]; }
        catch (FormatException) { throw new UsageException($"--layers must be comma-separated widths like 64,32, got '{value}'"); }
        catch (OverflowException) { throw new UsageException($"--layers has a width that is too large: '{value}'"); }
    }

    internal static ValidatedConfig ConfigFrom(ParseResult p)
    {
        var layers = HiddenWidths(p.GetValue(Layers));
        var config = new ExperimentConfig(p.GetValue(Data)!, p.GetValue(Labels), p.GetValue(Target), p.GetValue(Task), layers, p.GetValue(Activation)!,
            p.GetValue(Init)!, p.GetValue(Loss), p.GetValue(Optimizer)!, p.GetValue(Lr), p.GetValue(WeightDecay), p.GetValue(Momentum), p.GetValue(Schedule)!,
            p.GetValue(ClipNorm), p.GetValue(Dropout), p.GetValue(BatchSize), p.GetValue(Epochs), p.GetValue(Seed), p.GetValue(Threads),
            p.GetValue(ValFraction), p.GetValue(TestFraction), p.GetValue(EarlyStopping),
            Dampening: p.GetValue(Dampening), Nesterov: p.GetValue(Nesterov) ? true : null,
            Separator: p.GetValue(Separator), Header: HeaderFrom(p), LrDecay: p.GetValue(LrDecay), NoDecay: p.GetValue(NoDecay), Accumulate: p.GetValue(Accumulate),
            Arch: p.GetValue(ArchOption), LabelSmoothing: p.GetValue(LabelSmoothing));
        if (config.Arch is not null)
            RefuseGiven(p, o => $"{o} describes the MLP, but --arch gives the whole model; put it in --arch (e.g. dense(64),relu,dropout(0.1)) or leave --arch out", Layers, Activation, Dropout, Init);
        else if (config.Layers.IsEmpty)
            RefuseGiven(p, o => $"{o} acts on hidden layers, but --layers none is a linear model (one dense layer from the features to the outputs); give hidden --layers or leave {o} out", Activation, Dropout);
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(Program.OneLine(e)); }
    }

    private static bool Given(ParseResult p, Option o) => p.GetResult(o) is { Implicit: false };

    /// <summary>Refuses the first of <paramref name="options"/> the user gave (a default is not given), with the reason it would do nothing.</summary>
    private static void RefuseGiven(ParseResult p, Func<string, string> reason, params Option[] options)
    {
        foreach (var o in options)
            if (Given(p, o)) throw new UsageException(reason(o.Name));
    }

    /// <summary>--separator's value as a character; a bad one is a usage error naming the option.</summary>
    internal static char ParseSeparator(string text)
    {
        try { return CsvOptions.ParseSeparator(text); }
        catch (ArgumentException e) { throw new UsageException($"--separator: {Program.OneLine(e)}"); }
    }

    /// <summary>--header / --no-header as the config's Header (null: detect); both at once is a usage error.</summary>
    internal static bool? HeaderFrom(ParseResult p) => (p.GetValue(Header), p.GetValue(NoHeader)) switch
    {
        (true, true) => throw new UsageException("--header and --no-header contradict each other; give one"),
        (true, false) => true,
        (false, true) => false,
        _ => null,
    };

    /// <summary>Loads the data; unknown names are usage errors, unreadable files data errors.</summary>
    internal static TabularData LoadData(ExperimentConfig config, IReadOnlyList<string>? classNames = null)
    {
        try { return DataSource.Load(config, classNames); }
        catch (ArgumentException e) { throw new UsageException(Program.OneLine(e)); }
    }

    /// <summary>What was inferred from the data and decided on the user's behalf: the task with its classes or target, how to
    /// override it, and every notice of the reader.</summary>
    internal static void Announce(TabularData data, ExperimentConfig config, TextWriter to)
    {
        string how = config.Task is not null ? "as --task says"
            : data.Task == TaskKind.Classification ? "inferred; --task regression to treat the labels as numbers" : "inferred; --task classification to treat whole-number targets as classes";
        to.WriteLine($"{data.Name}: {data.DescribeTask()} ({how})");
        foreach (var n in data.Notices) to.WriteLine($"{data.Name}: note: {n}");
    }

    private static int Run(ValidatedConfig validated, string? outArg, bool force, bool json, int checkpointEvery)
    {
        var config = validated.Config;
        if (checkpointEvery < 0) throw new UsageException($"--checkpoint-every must be ≥ 0 (0: never), got {checkpointEvery}");
        if (outArg is not null) OutputPath.RequireFolder("--out", outArg);
        var data = LoadData(config);
        var plan = Plan(validated, data);
        using var folder = outArg is null ? RunFolder.CreateDefault(Path.GetFileNameWithoutExtension(config.Data), DateTime.Now) : RunFolder.Claim(outArg, force);
        string outDir = folder.Path;
        if (!json) // with --json the record carries it (data.inferred, data.notices, data.split)
        {
            Announce(data, config, Console.Out);
            foreach (var (fraction, option, part, rows) in new[] { (config.ValFraction, "--val-fraction", "validation", plan.Split.Validation.Length), (config.TestFraction, "--test-fraction", "test", plan.Split.Test.Length) })
                if (fraction > 0 && rows == 0)
                    Console.WriteLine($"{data.Name}: note: {Experiment.EmptySplit(option, fraction, data.Rows, part)}, so the run reports no {(part == "test" ? "test metrics" : "validation loss")}");
            if (plan.Split.Train.Length < config.BatchSize)
                Console.WriteLine($"{data.Name}: note: --batch-size {config.BatchSize} is more than the {plan.Split.Train.Length} training rows, so each epoch is one batch of {plan.Split.Train.Length}");
            if (RunRecord.ThreadsRun(config.Threads) is var ran && ran < config.Threads)
                Console.WriteLine($"note: --threads {config.Threads}: this machine has {Environment.ProcessorCount} processors, so the kernels run on {ran} threads (the same bits; run.json's environment.threads records it)");
        }
        var checkpoint = checkpointEvery == 0 ? null : CheckpointFor(outDir, config, data, checkpointEvery);
        int code = Execute(plan, outDir, json, checkpoint, null);
        folder.Commit(); // the outputs are written: a run --force replaced goes now, not before
        return code;
    }

    /// <summary>The experiment checked once for this data (the config was validated when it was parsed): a mismatch is a usage error.</summary>
    internal static ExperimentPlan Plan(ValidatedConfig config, TabularData data)
    {
        try { return Experiment.Plan(config, data); }
        catch (ArgumentException e) { throw new UsageException(Program.OneLine(e)); }
    }

    /// <summary>The checkpoint options of a run folder: the file, the interval, and what <c>resume</c> needs to rebuild the run
    /// (the config and the data's SHA-256) and find its data (where it was read) as metadata. <paramref name="readAt"/> is the
    /// config with Data and Labels where the files were read, when not where <paramref name="config"/> says (resume:
    /// <see cref="RecordedData.Locate"/>'s); null: where it says. The config itself is recorded as given.</summary>
    internal static CheckpointOptions CheckpointFor(string outDir, ExperimentConfig config, TabularData data, int every, ExperimentConfig? readAt = null)
    {
        readAt ??= config;
        return new(Path.Combine(outDir, CheckpointFileName), every, ImmutableDictionary<string, string>.Empty
            .Add("config", config.ToJson())
            .Add("data.sha256", data.Sha256)
            .Add("data.name", data.Name)
            .Add("data.resolved", DataSource.Resolve(readAt.Data))
            .Add("data.relativeToRun", RunRecord.RelativeTo(Path.GetFullPath(outDir), readAt.Data) ?? "")
            .Add("data.labelsResolved", readAt.Labels is { } l ? DataSource.Resolve(l) : "")
            .Add("data.labelsRelativeToRun", readAt.Labels is { } l2 ? RunRecord.RelativeTo(Path.GetFullPath(outDir), l2) ?? "" : "")
            .Add("data.classNames", System.Text.Json.JsonSerializer.Serialize(data.ClassNames, CliJson.Compact.ImmutableArrayString))
            .Add("checkpointEvery", every.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Runs (or resumes) the experiment with Ctrl+C and SIGTERM turned into cancellation at the next batch boundary,
    /// writes the outputs, and maps the outcome to the exit code: 0 completed or early-stopped, 1 diverged, 130 Ctrl+C, 143 SIGTERM.
    /// <paramref name="readAt"/>: where the data was read, when not where the plan's config says (see <see cref="CheckpointFor"/>).</summary>
    internal static int Execute(ExperimentPlan plan, string outDir, bool json, CheckpointOptions? checkpoint, FitCheckpoint? resume, ExperimentConfig? readAt = null)
    {
        using var stop = new StopSignals();
        var cts = stop.Source;
        bool live = !json && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        ExperimentResult result = live ? RunLive(plan, cts.Token, checkpoint, resume) : RunPlain(plan, json, cts.Token, checkpoint, resume);
        readAt ??= result.Config;
        WriteOutputs(outDir, result, readAt);
        if (json) Console.WriteLine(RunRecord.ToJson(result, readAt.Data, readAt.Labels).ToJsonString(ExperimentConfig.JsonOptions));
        else Summarize(result, outDir, checkpoint);
        return result.Fit.Status switch
        {
            FitStatus.Cancelled => stop.Signalled == Terminated ? Terminated : Program.Interrupted,
            FitStatus.Diverged => Program.Failure,
            _ => 0,
        };
    }

    private static ExperimentResult RunPlain(ExperimentPlan plan, bool quiet, CancellationToken ct, CheckpointOptions? checkpoint, FitCheckpoint? resume)
    {
        var (config, data) = (plan.Config, plan.Data);
        if (!quiet && resume is null) Console.WriteLine($"training on {data.Name}: {data.Rows} rows, {data.Features} features, {Describe(data)}; {config.Optimizer} lr {config.LearningRate}, batch {config.BatchSize}, {config.Epochs} epochs, seed {config.Seed}");
        var progress = new SyncProgress<EpochReport>(r => { if (!quiet) Console.WriteLine(EpochLine(r, data.Task)); });
        return Experiment.Run(plan, progress, null, ct, checkpoint, resume);
    }

    private static ExperimentResult RunLive(ExperimentPlan plan, CancellationToken ct, CheckpointOptions? checkpoint, FitCheckpoint? resume)
    {
        var (config, data) = (plan.Config, plan.Data);
        if (resume is null) AnsiConsole.MarkupLine($"training on [bold]{Markup.Escape(data.Name)}[/]: {data.Rows} rows, {data.Features} features, {Describe(data)}; {config.Optimizer} lr {config.LearningRate}, batch {config.BatchSize}, {config.Epochs} epochs, seed {config.Seed}");
        ExperimentResult? result = null;
        AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("epochs", maxValue: config.Epochs);
                task.Value = resume?.State.Epoch ?? 0;
                var epochs = new SyncProgress<EpochReport>(r =>
                {
                    AnsiConsole.WriteLine(EpochLine(r, data.Task));
                    task.Value = r.Epoch;
                });
                var iterations = new SyncProgress<IterationReport>(r => task.Value = r.Epoch - 1 + (double)r.Iteration / r.IterationsPerEpoch);
                result = Experiment.Run(plan, epochs, iterations, ct, checkpoint, resume);
                task.Value = config.Epochs;
            });
        return result!;
    }

    private static string Describe(TabularData d) => d.Task == TaskKind.Classification ? $"{d.Classes} classes" : "regression";

    internal static string EpochLine(EpochReport r, TaskKind task)
    {
        var metric = task == TaskKind.Classification ? "val accuracy" : "val R²";
        var val = r.ValLoss is { } v ? $"  val loss {Fmt.N(v)}  {metric} {Fmt.N(r.ValMetric ?? double.NaN)}" : "";
        return $"epoch {r.Epoch,3}/{r.Epochs}  train loss {Fmt.N(r.TrainLoss)}{val}  {Fmt.Rate(r.ExamplesPerSecond)} ex/s";
    }

    /// <summary>The note a run with gradient accumulation prints when the gradients of its last batches were not applied (the
    /// record's <c>accumulation.batchesNotApplied</c>); null when every batch's were, or without accumulation.</summary>
    internal static string? AccumulationNote(AccumulationReport? a)
    {
        if (a is not { BatchesNotApplied: > 0 }) return null;
        string straddle = a.BatchesPerEpoch % a.BatchesPerUpdate == 0 ? "" : ", so updates straddle epochs";
        string last = a.BatchesNotApplied == 1 ? "the last batch's gradients were" : $"the last {a.BatchesNotApplied} batches' gradients were";
        return $"note: --accumulate {a.BatchesPerUpdate} over {a.Batches} batches ({a.BatchesPerEpoch} an epoch{straddle}): "
            + $"{a.Updates} update{(a.Updates == 1 ? "" : "s")}; {last} accumulated but not applied";
    }

    /// <summary>The run's model, plot and record (last: a run.json means the rest is complete); <paramref name="readAt"/> as
    /// <see cref="CheckpointFor"/> takes it.</summary>
    internal static void WriteOutputs(string outDir, ExperimentResult result, ExperimentConfig? readAt = null)
    {
        readAt ??= result.Config;
        ModelFile.Save(Path.Combine(outDir, "model.safetensors"), result.Model, result.Config.ToJson());
        var h = result.Fit.History;
        var series = new List<(string, IReadOnlyList<double>)> { ("train", h.Select(e => e.TrainLoss).ToList()) };
        if (h.Any(e => e.ValLoss is not null)) series.Add(("validation", h.Select(e => e.ValLoss ?? double.NaN).ToList()));
        LinePlot.Write(Path.Combine(outDir, "loss.svg"), $"{result.Data.Name}: loss per epoch", "epoch", "loss",
            [.. series.Select(s => new LineSeries(s.Item1, LinePlot.OneTo(s.Item2.Count), s.Item2))]);
        RunRecord.Write(Path.Combine(outDir, "run.json"), result, readAt.Data, readAt.Labels); // last: a run.json means the rest is complete
    }

    private static void Summarize(ExperimentResult r, string outDir, CheckpointOptions? checkpoint)
    {
        if (AccumulationNote(r.Fit.Accumulation) is { } note) Console.WriteLine(note);
        if (r.TestClassification is { } c) Console.WriteLine($"test: loss {Fmt.N(c.Loss)}  accuracy {Fmt.N(c.Accuracy)} ({r.Split.Test.Length} rows)");
        if (r.TestRegression is { } g) Console.WriteLine($"test: loss {Fmt.N(g.Loss)}  RMSE {Fmt.N(g.Rmse)}  MAE {Fmt.N(g.Mae)}  R² {Fmt.N(g.R2)} ({r.Split.Test.Length} rows)");
        if (r.Fit.Status == FitStatus.EarlyStopped)
            Console.WriteLine(r.Config.EarlyStopping is { } patience
                ? $"early stopping after epoch {r.Fit.History.Length}: the validation loss had not improved for {patience} epochs; restored the parameters of epoch {r.Fit.BestEpoch} (validation loss {Fmt.N(r.Fit.History[r.Fit.BestEpoch - 1].ValLoss ?? double.NaN)})"
                : $"stopped early after epoch {r.Fit.History.Length}");
        if (r.Diagnosis is { } d) Console.WriteLine($"diagnosis: {d}");
        Console.WriteLine($"{Fmt.N(r.Fit.Seconds, 2)} s, {Fmt.Rate(r.Fit.ExamplesPerSecond)} examples/s; parameters {r.Model.Parameters.ParameterCount} (sha256 {r.ParameterHash[..16]}…)");
        Console.WriteLine($"wrote {Path.Combine(outDir, "run.json")}, model.safetensors, loss.svg");
        if (r.Fit.Status == FitStatus.Cancelled)
            Console.Error.WriteLine(checkpoint is null
                ? "neuralpure: interrupted; saved the state after the last whole batch (run marked cancelled)"
                : $"neuralpure: interrupted; saved the state after the last whole batch (run marked cancelled) and a checkpoint; continue with: neuralpure resume {outDir}");
        if (r.Fit.Divergence is { } dv) Console.Error.WriteLine($"neuralpure: {dv.Message} Kept {dv.Kept}.");
    }
}
