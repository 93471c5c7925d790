using System.Collections.Immutable;
using System.Diagnostics;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Facade.Training;

/// <summary>How a fit ended.</summary>
public enum FitStatus
{
    /// <summary>Every epoch ran.</summary>
    Completed,
    /// <summary>Early stopping ended it.</summary>
    EarlyStopped,
    /// <summary>The cancellation token fired; the state is the one after the last whole batch.</summary>
    Cancelled,
    /// <summary>A loss, gradient or parameter became NaN or ∞; the state is the last finite one.</summary>
    Diverged,
}

/// <summary>One epoch's report.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Iterations">Iterations done in this epoch.</param>
/// <param name="TrainLoss">Example-weighted mean training loss over the epoch's batches.</param>
/// <param name="ValLoss">Validation loss after the epoch (null without validation data).</param>
/// <param name="ValMetric">Validation metric (accuracy or R²; null without validation data).</param>
/// <param name="ExamplesPerSecond">Training throughput of this epoch.</param>
public sealed record EpochReport(int Epoch, int Epochs, int Iterations, double TrainLoss, double? ValLoss, double? ValMetric, double ExamplesPerSecond);

/// <summary>One iteration's report (only when <see cref="FitOptions.ReportIterations"/> is set).</summary>
public sealed record IterationReport(int Epoch, int Iteration, int IterationsPerEpoch, long Step, double Loss);

/// <summary>Where training diverged.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Iteration">1-based iteration within the epoch.</param>
/// <param name="Layer">The first layer whose values went non-finite, e.g. "layer 2 (dense) output".</param>
/// <param name="Message">A sentence for people, with the hint.</param>
/// <param name="Kept">Which parameters the fit kept, in words: the best epoch's (lowest validation loss), or those before the
/// last step whose loss was finite.</param>
public sealed record DivergenceInfo(int Epoch, int Iteration, string Layer, string Message, string Kept = "");

/// <summary>What a fit produced.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="State">The final training state (the last consistent one; see <see cref="FitStatus"/>).</param>
/// <param name="Parameters">The parameters to keep: the best epoch's when early stopping restored them; after a divergence, ones
/// whose loss was finite (the best epoch's with validation, else those before the last finite step; see <see cref="DivergenceInfo.Kept"/>);
/// else the state's.</param>
/// <param name="History">Every completed epoch's report.</param>
/// <param name="IterationLosses">Every iteration's loss.</param>
/// <param name="BestEpoch">The 1-based epoch with the lowest validation loss (0 without validation).</param>
/// <param name="Divergence">Details when Status is Diverged.</param>
/// <param name="Seconds">Wall time of the fit.</param>
/// <param name="ExamplesPerSecond">Training examples processed per second over the fit.</param>
/// <param name="LayerState">The layer state that goes with <paramref name="Parameters"/> (batch normalization's running
/// statistics of the same epoch); empty for a model without layer state.</param>
public sealed record FitOutcome(FitStatus Status, TrainState<float> State, ParamTree<float> Parameters, ImmutableArray<EpochReport> History,
    ImmutableArray<double> IterationLosses, int BestEpoch, DivergenceInfo? Divergence, double Seconds, double ExamplesPerSecond, ParamTree<float>? LayerState = null)
{
    /// <summary>The kept layer state (the final state's when none was given).</summary>
    public ParamTree<float> LayerState { get; init; } = LayerState ?? State.LayerState;

    /// <summary>What gradient accumulation made of the fit's batches (updates made, batches left unapplied), or null when the
    /// optimizer does not accumulate (it is not a <see cref="MultiSteps"/>).</summary>
    public AccumulationReport? Accumulation { get; init; }
}

/// <summary>What gradient accumulation (<see cref="MultiSteps"/>) made of a fit's batches: the updates it made, and the batches
/// after the last of them, whose gradients were accumulated but never applied to the parameters.</summary>
/// <param name="BatchesPerUpdate">k: the batches averaged into one update (<see cref="MultiSteps.Every"/>).</param>
/// <param name="BatchesPerEpoch">The batches (iterations) of an epoch.</param>
/// <param name="Batches">The batches the fit ran, over all its epochs (the state's step count).</param>
/// <param name="Updates">The updates made: (Batches − BatchesNotApplied) / k.</param>
/// <param name="BatchesNotApplied">The batches since the last update, whose gradients wait in the accumulator
/// (<see cref="MultiStepsState{T}.MiniStep"/>): at most k − 1.</param>
/// <remarks>An accumulation counts batches, not epochs (optax's <c>MultiSteps</c>): when an epoch's batch count is not a
/// multiple of k, an update takes batches from two epochs, and only the batches after the fit's last whole group of k are left
/// unapplied, not some in every epoch. 14 batches an epoch at k = 4 over 3 epochs: 42 batches, 10 updates, 2 batches not applied.</remarks>
public sealed record AccumulationReport(int BatchesPerUpdate, int BatchesPerEpoch, long Batches, long Updates, int BatchesNotApplied)
{
    /// <summary>The report for a fit's state, read from its optimizer state; null when <paramref name="optimizer"/> is not a
    /// <see cref="MultiSteps"/> (or its state is not one's).</summary>
    public static AccumulationReport? Of(GradientTransform optimizer, TrainState<float> state, int batchesPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(state);
        if (optimizer is not MultiSteps m || state.OptState is not MultiStepsState<float> s) return null;
        return new AccumulationReport(m.Every, batchesPerEpoch, state.Step, (state.Step - s.MiniStep) / m.Every, s.MiniStep);
    }
}

/// <summary>The C# way to train: the core's fold (<see cref="Trainer.Step{T}"/> over <see cref="Trainer.Batches{T}"/>) with
/// progress, cancellation at batch boundaries, early stopping, divergence detection and checkpoints around it.</summary>
/// <remarks>The parameters after N completed epochs are bit-identical to <see cref="Trainer.Fit{T}(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/> for N epochs: this is the same
/// fold, observed. A fit resumed from any of its checkpoints (<see cref="Resume"/>) ends with the same bits as the uninterrupted fit.</remarks>
public static partial class Fitter
{
    /// <summary>Trains <paramref name="spec"/> with <paramref name="optimizer"/> on <paramref name="train"/>.</summary>
    /// <param name="spec">The model.</param>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="train">Training data (standardized).</param>
    /// <param name="validation">Validation data, or null.</param>
    /// <param name="options">Epochs, batch size, seed, early stopping.</param>
    /// <param name="progress">Per-epoch reports.</param>
    /// <param name="iterations">Per-iteration reports (with <see cref="FitOptions.ReportIterations"/>).</param>
    /// <param name="start">A state to continue from, or null to initialise from the seed.</param>
    /// <param name="cancellationToken">Stops at the next batch boundary; the outcome says Cancelled (and a checkpoint is written
    /// when <paramref name="checkpoint"/> is given). No exception.</param>
    /// <param name="checkpoint">Where and how often to write checkpoints, or null for none. The first is written before the first batch.</param>
    /// <exception cref="ArgumentException">The data does not fit the model, or the optimizer accumulates more batches per update (<see cref="MultiSteps"/>) than the fit has.</exception>
    /// <exception cref="IOException">A checkpoint cannot be written (the last complete one stays on disk). Checkpoints are written
    /// in the background while training goes on, so this comes at the end of the epoch during which the write failed, or at the end of the fit.</exception>
    public static FitOutcome Fit(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options,
        IProgress<EpochReport>? progress = null, IProgress<IterationReport>? iterations = null, TrainState<float>? start = null,
        CancellationToken cancellationToken = default, CheckpointOptions? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(train); ArgumentNullException.ThrowIfNull(options);
        int perEpoch = Check(spec, optimizer, train, validation, options);
        if (options.ReportIterations && iterations is null)
            throw new ArgumentException("FitOptions.ReportIterations is set but no iterations callback was given: pass iterations, or leave ReportIterations false", nameof(options));
        if (start is not null)
        {
            // Checked here, not only by the first step: a start at or past the last epoch runs no step and would be returned as it came.
            NeuralPure.Models.Model.RequireParameters(spec, start.Params, nameof(start));
            NeuralPure.Models.Model.RequireState(spec, start.LayerState, nameof(start));
        }
        var state = start ?? Trainer.Init<float>(spec, optimizer, RandomKey.FromSeed(options.Seed));
        var run = new Run(state, 0, perEpoch, 0, 0, [], [], double.PositiveInfinity, 0, 0, state.Params, 0, 0);
        return Loop(spec, optimizer, train, validation, options, progress, iterations, cancellationToken, checkpoint, run, null);
    }

    /// <summary>Continues a fit from a checkpoint and finishes it: the outcome (parameters, history, status) is bit for bit the one
    /// the uninterrupted fit would have produced, whether the checkpoint was written at an epoch boundary or mid-epoch.</summary>
    /// <param name="spec">The model (must be the checkpoint's).</param>
    /// <param name="optimizer">The optimizer (must be the checkpoint's: same description and state layout).</param>
    /// <param name="train">The same training data.</param>
    /// <param name="validation">The same validation data, or null.</param>
    /// <param name="options">The same fit options (epochs, batch size, seed, shuffle, drop-last, early stopping).</param>
    /// <param name="from">The checkpoint.</param>
    /// <param name="progress">Reports for the epochs completed from here on.</param>
    /// <param name="iterations">Per-iteration reports.</param>
    /// <param name="cancellationToken">As in <see cref="Fit(ModelSpec, GradientTransform, DataSet{float}, DataSet{float}?, FitOptions, IProgress{EpochReport}?, IProgress{IterationReport}?, TrainState{float}?, CancellationToken, CheckpointOptions?)"/>.</param>
    /// <param name="checkpoint">Where to keep writing checkpoints, or null.</param>
    /// <exception cref="ArgumentException">The checkpoint does not belong to this model, optimizer, data or options (the message names what differs).</exception>
    public static FitOutcome Resume(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options,
        FitCheckpoint from, IProgress<EpochReport>? progress = null, IProgress<IterationReport>? iterations = null,
        CancellationToken cancellationToken = default, CheckpointOptions? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options); ArgumentNullException.ThrowIfNull(from);
        int perEpoch = Check(spec, optimizer, train, validation, options);
        RequireMatch(spec, optimizer, options, from, perEpoch, checkpoint?.Kinds);
        var run = new Run(from.State, from.Cursor, perEpoch, from.EpochLossSum, from.EpochExamples, from.History, from.IterationLosses,
            from.BestValLoss, from.BestEpoch, from.SinceBest, from.BestParams, from.Examples, from.Seconds) { BestLayerState = from.BestLayerState ?? from.State.LayerState };
        return Loop(spec, optimizer, train, validation, options, progress, iterations, cancellationToken, checkpoint, run, from.Reason);
    }

    /// <summary>The fit's mutable bookkeeping between batches; a checkpoint is a snapshot of it.</summary>
    private sealed record Run(TrainState<float> State, int Cursor, int PerEpoch, double EpochLossSum, int EpochExamples,
        ImmutableArray<EpochReport> History, ImmutableArray<double> IterationLosses, double BestValLoss, int BestEpoch, int SinceBest,
        ParamTree<float> BestParams, long Examples, double Seconds)
    {
        /// <summary>The best epoch's layer state (the start's until an epoch is best).</summary>
        public ParamTree<float>? BestLayerState { get; init; }
    }

    /// <summary>What a fit refuses before its first step (inputs and targets that do not suit the model, early stopping without
    /// validation data, no iteration per epoch, an accumulation that would make no update); <see cref="Runs.Experiment.Plan(Runs.ValidatedConfig, Data.TabularData)"/> calls it
    /// too, so a run is refused before anything of its output folder is touched.</summary>
    internal static int Check(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options)
    {
        Model.RequireInput(spec, train.X, nameof(train));
        try { spec.Loss.RequireTargets(spec.OutputShape, train.Rows, NeuralPure.Tensors.Shape.OfExamples(train.Y.Shape), train.Y.Span); }
        catch (ArgumentException e) { throw new ArgumentException($"the training targets do not suit the loss '{spec.Loss.Kind}': {e.Message.Split(" (Parameter")[0]}", nameof(train), e); }
        if (validation is not null)
        {
            Model.RequireInput(spec, validation.X, nameof(validation));
            try { spec.Loss.RequireTargets(spec.OutputShape, validation.Rows, NeuralPure.Tensors.Shape.OfExamples(validation.Y.Shape), validation.Y.Span); }
            catch (ArgumentException e) { throw new ArgumentException($"the validation targets do not suit the loss '{spec.Loss.Kind}': {e.Message.Split(" (Parameter")[0]}", nameof(validation), e); }
        }
        if (options.EarlyStopping is not null && validation is null)
            throw new ArgumentException("early stopping watches the validation loss, but no validation data was given", nameof(validation));
        int perEpoch = Batching.IterationsPerEpoch(train.Rows, options.BatchSize, options.DropLast);
        if (perEpoch == 0) throw new ArgumentException($"{train.Rows} training rows at batch size {options.BatchSize} with drop-last give no iteration", nameof(options));
        // An accumulation may straddle epochs (optax's MultiSteps counts batches, not epochs), but one longer than the whole fit
        // makes no update: the fit would end Completed with the initial parameters.
        if (optimizer is MultiSteps m && m.Every > (long)perEpoch * options.Epochs)
            throw new ArgumentException($"the optimizer accumulates {m.Every} batches per update, but the fit has {(long)perEpoch * options.Epochs} "
                + $"({perEpoch} per epoch × {options.Epochs} epochs): no update would ever be made", nameof(optimizer));
        return perEpoch;
    }

    /// <summary>What <see cref="Resume"/> refuses before its first step, checked alone: the data against the model (<see cref="Check"/>)
    /// and the checkpoint against the model, optimizer and options. The CLI's resume asks before it says what it will do.</summary>
    internal static void RequireResumable(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options,
        FitCheckpoint from, Models.KindRegistry? kinds) =>
        RequireMatch(spec, optimizer, options, from, Check(spec, optimizer, train, validation, options), kinds);

    private static void RequireMatch(ModelSpec spec, GradientTransform optimizer, FitOptions options, FitCheckpoint c, int perEpoch, Models.KindRegistry? kinds)
    {
        static string Cut(string s) => s.Length <= 300 ? s : s[..300] + "…";
        static ArgumentException Differs(string what, string now, string then) =>
            new($"the checkpoint was written for a different {what}: now {Cut(now)}, in the checkpoint {Cut(then)}", "from");
        string arch = Models.SpecJson.ToJson(spec, kinds).ToJsonString();
        if (arch != c.Architecture) throw Differs("architecture", arch, c.Architecture);
        if (optimizer.ToString() != c.Optimizer) throw Differs("optimizer", optimizer.ToString(), c.Optimizer);
        string now = CheckpointFile.FitJson(options).ToJsonString(), then = CheckpointFile.FitJson(c.Options).ToJsonString();
        if (now != then) throw Differs("set of fit options", now, then);
        if (perEpoch != c.IterationsPerEpoch) throw Differs("data size", $"{perEpoch} batches per epoch", $"{c.IterationsPerEpoch}");
        Model.RequireParameters(spec, c.State.Params, "from");
        Model.RequireState(spec, c.State.LayerState, "from");
        // The optimizer's own Open checks its state (the kinds, the nesting, the shapes of every tree): no list of state kinds here.
        try { _ = optimizer.Open(c.State.OptState, c.State.Params); }
        catch (ArgumentException e) { throw new ArgumentException($"the checkpoint's optimizer state does not fit this optimizer: {Cut(e.Message)}", "from", e); }
    }

    /// <summary>Writes checkpoints one at a time on a thread of their own, so that training goes on while a checkpoint is
    /// serialized, hashed, written and flushed to disk (config d's state: 22 MB, ~13 ms to build and hash, ~28 ms to write
    /// and flush here). On a machine whose every core trains, the CPU part still competes with training and only the
    /// flush's wait is hidden: on the 2-core machine it was measured on, the gain was within noise. A checkpoint is an immutable snapshot taken when it is due; the next one, and the end of
    /// the fit, wait for the one before, so they reach the disk in order, each replacing the last atomically (a kill
    /// mid-write leaves the previous one), and a write that failed fails the fit there with its own exception. Each is on
    /// disk before the next epoch is reported, so a progress callback finds the one before its epoch complete.</summary>
    private sealed class CheckpointWriter
    {
        private Task? pending;

        public void Start(Action write)
        {
            Finish();
            pending = Task.Run(write);
        }

        /// <summary>Waits for the write under way, if any, and rethrows what it threw.</summary>
        public void Finish()
        {
            var p = pending;
            pending = null;
            p?.GetAwaiter().GetResult();
        }

        /// <summary>Waits for the write under way when the fit is already failing: its own failure would only hide that one.</summary>
        public void FinishQuietly()
        {
            try { Finish(); }
            catch (Exception) { }
        }
    }

    private static FitOutcome Loop(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options,
        IProgress<EpochReport>? progress, IProgress<IterationReport>? iterations, CancellationToken cancellationToken, CheckpointOptions? checkpoint,
        Run run, CheckpointReason? resumedFrom)
    {
        var writer = new CheckpointWriter();
        FitOutcome outcome;
        try { outcome = Loop(spec, optimizer, train, validation, options, progress, iterations, cancellationToken, checkpoint, run, resumedFrom, writer); }
        catch { writer.FinishQuietly(); throw; }
        writer.Finish(); // the last checkpoint is on disk when Fit returns
        return outcome;
    }

    private static FitOutcome Loop(ModelSpec spec, GradientTransform optimizer, DataSet<float> train, DataSet<float>? validation, FitOptions options,
        IProgress<EpochReport>? progress, IProgress<IterationReport>? iterations, CancellationToken cancellationToken, CheckpointOptions? checkpoint,
        Run run, CheckpointReason? resumedFrom, CheckpointWriter writer)
    {
        int perEpoch = run.PerEpoch;
        var state = run.State;
        var history = run.History.ToBuilder();
        var allLosses = run.IterationLosses.ToBuilder();
        var total = Stopwatch.StartNew();
        long examples = run.Examples;
        double bestVal = run.BestValLoss; int bestEpoch = run.BestEpoch, sinceBest = run.SinceBest;
        ParamTree<float> bestParams = run.BestParams;
        ParamTree<float> bestLayerState = run.BestLayerState ?? run.State.LayerState; // the best epoch's running statistics
        var status = resumedFrom switch
        {
            CheckpointReason.EarlyStopped => FitStatus.EarlyStopped,
            _ => FitStatus.Completed,
        };
        bool finished = resumedFrom is CheckpointReason.Completed or CheckpointReason.EarlyStopped;
        DivergenceInfo? divergence = null;
        ParamTree<float>? divergedKeep = null;
        double Seconds() => run.Seconds + total.Elapsed.TotalSeconds;

        void Save(CheckpointReason reason, int cursor, double lossSum, int seen)
        {
            if (checkpoint is null) return;
            var c = new FitCheckpoint(state, cursor, perEpoch, lossSum, seen, history.ToImmutable(), allLosses.ToImmutable(), bestVal, bestEpoch, sinceBest,
                bestParams, reason, examples, Seconds(), options with { ReportIterations = false }, Models.SpecJson.ToJson(spec, checkpoint.Kinds).ToJsonString(),
                optimizer.ToString(), checkpoint.Metadata) { BestLayerState = spec.HasState ? bestLayerState : null };
            writer.Start(() => CheckpointFile.Write(checkpoint.Path, c, checkpoint.Kinds));
        }

        if (resumedFrom is null) Save(CheckpointReason.Start, 0, 0, 0);
        if (finished || state.Epoch >= options.Epochs) return Outcome();
        if (cancellationToken.IsCancellationRequested)
        {
            status = FitStatus.Cancelled;
            Save(CheckpointReason.Cancelled, run.Cursor, run.EpochLossSum, run.EpochExamples);
            return Outcome();
        }

        // The core's fold, observed: the bookkeeping below runs between its steps and epochs, and never changes what it computes.
        var epochStart = state; int epochStartCursor = run.Cursor; // what a divergence is replayed from
        double weighted = run.EpochLossSum; int seen = run.EpochExamples, it = run.Cursor, fresh = 0;
        var clock = Stopwatch.StartNew();
        StepReport? failed = null;

        bool AfterStep(StepReport r)
        {
            if (!r.Finite) { failed = r; return false; }
            it = r.Iteration;
            weighted += r.Loss * r.Rows; seen += r.Rows; examples += r.Rows; fresh += r.Rows;
            allLosses.Add(r.Loss);
            if (options.ReportIterations) iterations?.Report(new IterationReport(r.Epoch + 1, r.Iteration, perEpoch, r.Step, r.Loss));
            // Cancellation is honoured at the next batch boundary; after an epoch's last batch that is the epoch's end (below).
            if (r.Iteration < r.IterationsPerEpoch && cancellationToken.IsCancellationRequested) { status = FitStatus.Cancelled; return false; }
            return true;
        }

        bool AfterEpoch(TrainState<float> after, EpochHistory epoch)
        {
            writer.Finish(); // the checkpoint written during this epoch is on disk before the epoch is reported
            state = after;
            int e = after.Epoch - 1;
            double? valLoss = null, valMetric = null;
            if (validation is not null)
            {
                var outputs = Evaluation.Evaluate.Outputs(spec, state.Params, validation.X, state.LayerState);
                valLoss = spec.Loss.Value(outputs, validation.Y);
                valMetric = Metric(spec, outputs, validation);
            }
            var report = new EpochReport(e + 1, options.Epochs, it, weighted / Math.Max(1, seen), valLoss, valMetric, fresh / Math.Max(1e-9, clock.Elapsed.TotalSeconds));
            history.Add(report);
            progress?.Report(report);

            if (valLoss is { } v)
            {
                if (v < bestVal - (options.EarlyStopping?.MinDelta ?? 0)) { bestVal = v; bestEpoch = e + 1; bestParams = state.Params; bestLayerState = state.LayerState; sinceBest = 0; }
                else if (options.EarlyStopping is { } es && ++sinceBest >= es.Patience) status = FitStatus.EarlyStopped;
            }
            var reason = status == FitStatus.EarlyStopped ? CheckpointReason.EarlyStopped
                : e + 1 == options.Epochs ? CheckpointReason.Completed : CheckpointReason.Epoch;
            if (reason != CheckpointReason.Epoch || (checkpoint is not null && (e + 1) % checkpoint.EveryEpochs == 0)) Save(reason, 0, 0, 0);
            epochStart = state; epochStartCursor = 0;
            weighted = 0; seen = 0; it = 0; fresh = 0;
            clock.Restart();
            if (status == FitStatus.Completed && e + 1 < options.Epochs && cancellationToken.IsCancellationRequested)
            {
                status = FitStatus.Cancelled;
                Save(CheckpointReason.Cancelled, 0, 0, 0);
            }
            return status == FitStatus.Completed;
        }

        var config = new TrainConfig(options.BatchSize, options.Epochs - state.Epoch, options.DropLast, options.Shuffle);
        ObservedFit<float>? result = null;
        try
        {
            result = Trainer.Fit(spec, optimizer, state, train, config, new TrainObserver<float>(AfterStep, AfterEpoch), run.Cursor, new Parallelism(options.Threads));
        }
        catch (ArithmeticException)
        {
            failed = new StepReport(epochStart.Epoch, it + 1, perEpoch, 0, 0, double.NaN, false); // reported as divergence below; nothing escapes the fold
        }

        if (failed is { } f)
        {
            // The fold stopped on the step that went non-finite. The last finite state is the epoch's start plus the steps before
            // it: replayed with the pure step (the same bits), which also gives the failing batch to diagnose.
            var batches = Trainer.Batches(train, config, epochStart.Key, epochStart.Epoch).Skip(epochStartCursor).GetEnumerator();
            var last = epochStart;
            TrainState<float>? beforeLast = null; // θ before the last step whose loss was finite: its loss was finite on that batch
            for (int i = epochStartCursor; i < f.Iteration - 1 && batches.MoveNext(); i++)
            {
                beforeLast = last;
                last = Trainer.Step(spec, optimizer, last, batches.Current, new Parallelism(options.Threads)).State;
            }
            batches.MoveNext();
            state = last;
            var info = Diagnose(spec, state, batches.Current, f.Epoch + 1, f.Iteration, f.Loss);
            // Keep parameters that still give a finite loss: the best epoch's (a finite validation loss), else those before the
            // last finite step (the last step's own result may already be huge), else the diverging epoch's start.
            if (bestEpoch > 0) { divergedKeep = bestParams; info = info with { Kept = $"the parameters of epoch {bestEpoch}, whose validation loss {bestVal:G4} was the lowest" }; }
            else if (beforeLast is { } b) { divergedKeep = b.Params; info = info with { Kept = $"the parameters before step {b.Step + 1}, the last step whose loss was finite" }; }
            else { divergedKeep = epochStart.Params; info = info with { Kept = $"the parameters at the start of epoch {epochStart.Epoch + 1}" }; }
            divergence = info;
            status = FitStatus.Diverged;
        }
        else if (result is { } r)
        {
            state = r.State;
            if (status == FitStatus.Cancelled && r.Cursor != 0) Save(CheckpointReason.Cancelled, r.Cursor, weighted, seen);
        }
        return Outcome();

        FitOutcome Outcome()
        {
            bool restore = status == FitStatus.EarlyStopped && options.EarlyStopping!.RestoreBest && bestEpoch > 0;
            var keep = restore ? bestParams : status == FitStatus.Diverged && divergedKeep is not null ? divergedKeep : state.Params;
            var keepState = restore || (status == FitStatus.Diverged && bestEpoch > 0 && ReferenceEquals(divergedKeep, bestParams)) ? bestLayerState : state.LayerState;
            double seconds = Seconds();
            return new FitOutcome(status, state, keep, history.ToImmutable(), allLosses.ToImmutable(), bestEpoch, divergence, seconds, examples / Math.Max(1e-9, seconds), keepState)
            { Accumulation = AccumulationReport.Of(optimizer, state, perEpoch) };
        }
    }

    /// <summary>Accuracy for classification; R² (on standardized targets, which leaves it unchanged) for regression.</summary>
    public static double Metric(ModelSpec spec, NdArray<float> outputs, DataSet<float> data)
    {
        if (spec.Loss.UsesLabels)
        {
            var p = Evaluation.Evaluate.ArgMax(outputs);
            int correct = 0;
            for (int i = 0; i < p.Length; i++) if (p[i] == (int)data.Y[i]) correct++;
            return (double)correct / p.Length;
        }
        double mean = 0; var y = data.Y.Span; var o = outputs.Span;
        foreach (var v in y) mean += v;
        mean /= y.Length;
        double res = 0, tot = 0;
        for (int i = 0; i < y.Length; i++) { res += (y[i] - o[i]) * (y[i] - o[i]); tot += (y[i] - mean) * (y[i] - mean); }
        return tot > 0 ? 1 - res / tot : double.NaN;
    }

    /// <summary>Re-runs the failing step's forward and backward on the last finite parameters to name the first layer that went non-finite.</summary>
    private static DivergenceInfo Diagnose(ModelSpec spec, TrainState<float> state, Batch<float> batch, int epoch, int iteration, double loss)
    {
        string where = "the parameter update";
        try
        {
            var t = Model.Backprop(spec, state.Params, batch);
            for (int i = 1; i < t.Activations.Length && where == "the parameter update"; i++)
                if (!t.Activations[i].Span.ToArray().All(float.IsFinite)) where = $"layer {i - 1} ({spec.Layers[i - 1].Kind}) output";
            if (where == "the parameter update" && !float.IsFinite(t.Loss)) where = "the loss";
            for (int i = t.ActivationGrads.Length - 1; i >= 0 && where == "the parameter update"; i--)
                if (!t.ActivationGrads[i].Span.ToArray().All(float.IsFinite)) where = i == t.ActivationGrads.Length - 1 ? "the loss gradient" : $"layer {i} ({spec.Layers[i].Kind}) input gradient";
            for (int i = 0; i < t.Grads.Count && where == "the parameter update"; i++)
                if (!t.Grads[i].Span.ToArray().All(float.IsFinite)) where = $"gradient of {t.Grads.Names[i]}";
        }
        catch (ArgumentException) { where = "the forward pass"; }
        string lossText = double.IsFinite(loss) ? $"the parameters became non-finite (loss {loss:G4})" : $"the loss became {loss}";
        // Which parameters were kept is DivergenceInfo.Kept's to say (the best epoch's, or those before the last finite step).
        var msg = $"training diverged at epoch {epoch}, iteration {iteration}: {lossText}; first non-finite values in {where}. " +
                  "Try a lower learning rate or gradient clipping (--clip-norm).";
        return new DivergenceInfo(epoch, iteration, where, msg);
    }
}
