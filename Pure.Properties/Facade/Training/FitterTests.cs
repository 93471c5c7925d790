using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Training;

/// <summary>The façade's Fit is the core's fold, observed: same bits, cancellation at a batch boundary, early stopping.</summary>
public sealed class FitterTests
{
    private static (ModelSpec Spec, DataSet<float> Train, DataSet<float> Val) Problem(int rows = 96)
    {
        var key = RandomKey.FromSeed(3);
        var x = Sampling.Normal<float>(key, 0, 1, rows, 4);
        var y = NdArray.Vector(Enumerable.Range(0, rows).Select(i => x[i * 4] + x[i * 4 + 1] > 0 ? 1f : 0f).ToArray());
        var data = new DataSet<float>(x, y);
        var train = data.Subset([.. Enumerable.Range(0, rows * 3 / 4)]);
        var val = data.Subset([.. Enumerable.Range(rows * 3 / 4, rows / 4)]);
        return (ModelSpec.Mlp([4, 8, 2], new TanhSpec(), new SoftmaxCrossEntropySpec()), train, val);
    }

    private sealed class Sync<T>(Action<T> a) : IProgress<T> { public void Report(T value) => a(value); }

    [Fact]
    public void Fit_gives_the_bits_of_the_core_fold_and_reports_every_epoch()
    {
        var (spec, train, val) = Problem();
        var opt = Optimizer.Adam(0.01);
        var options = new FitOptions(Epochs: 4, BatchSize: 16, Seed: 9);
        var reports = new List<EpochReport>();
        var outcome = Fitter.Fit(spec, opt, train, val, options, new Sync<EpochReport>(reports.Add));
        var core = Trainer.Fit(spec, opt, Trainer.Init<float>(spec, opt, RandomKey.FromSeed(9)), train, new TrainConfig(16, 4));
        Assert.Equal(FitStatus.Completed, outcome.Status);
        Assert.True(core.State.Params.Equals(outcome.Parameters));
        Assert.Equal(core.History.EpochLosses, outcome.History.Select(h => h.TrainLoss));
        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Epoch));
        Assert.All(reports, r => Assert.Equal(Batching.IterationsPerEpoch(train.Rows, 16), r.Iterations));
        Assert.All(reports, r => Assert.NotNull(r.ValLoss));
    }

    [Fact]
    public void Cancellation_stops_at_a_batch_boundary_with_the_state_of_the_steps_done()
    {
        var (spec, train, _) = Problem();
        var opt = Optimizer.Sgd(0.1);
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var iterations = new Sync<IterationReport>(r => { if (++seen == 7) cts.Cancel(); });
        var outcome = Fitter.Fit(spec, opt, train, null, new FitOptions(Epochs: 5, BatchSize: 8, Seed: 1, ReportIterations: true), null, iterations, cancellationToken: cts.Token);
        Assert.Equal(FitStatus.Cancelled, outcome.Status);
        Assert.Equal(7, outcome.State.Step);
        var state = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        foreach (var batch in Trainer.Batches(train, new TrainConfig(8, 5), state.Key, 0).Take(7)) state = Trainer.Step(spec, opt, state, batch).State;
        Assert.True(state.Params.Equals(outcome.State.Params));
    }

    [Fact]
    public void Early_stopping_stops_after_patience_and_restores_the_best_epoch()
    {
        var (spec, train, val) = Problem(64);
        // A learning rate far too high makes the validation loss bounce, so early stopping has work to do.
        var outcome = Fitter.Fit(spec, Optimizer.Sgd(5.0), train, val, new FitOptions(Epochs: 60, BatchSize: 8, Seed: 2, EarlyStopping: new EarlyStopping(Patience: 3)));
        Assert.Equal(FitStatus.EarlyStopped, outcome.Status);
        Assert.True(outcome.History.Length < 60);
        var best = outcome.History.MinBy(h => h.ValLoss!.Value)!;
        Assert.Equal(best.Epoch, outcome.BestEpoch);
        Assert.Equal(outcome.History.Length, outcome.BestEpoch + 3);
        var bestLoss = spec.Loss.Value(Model.Forward(spec, outcome.Parameters, val.X), val.Y);
        Assert.Equal(best.ValLoss!.Value, (double)bestLoss, 6);
    }

    [Fact]
    public void Bad_data_is_refused_at_the_surface()
    {
        var (spec, train, _) = Problem();
        var wide = new DataSet<float>(NdArray.Zeros<float>(4, 5), NdArray.Zeros<float>(4));
        var e = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, Optimizer.Sgd(0.1), wide, null, new FitOptions()));
        Assert.Contains("[4, 5]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions(Epochs: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions(BatchSize: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitOptions(Threads: -1));
        Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, Optimizer.Sgd(0.1), train, null, new FitOptions(BatchSize: 1000, DropLast: true)));
    }

    [Fact]
    public void An_option_without_its_callback_and_a_start_of_another_model_are_refused_even_when_no_step_would_run()
    {
        var (spec, train, _) = Problem();
        var e = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, Optimizer.Sgd(0.1), train, null, new FitOptions(Epochs: 1, ReportIterations: true)));
        Assert.Equal("options", e.ParamName);
        Assert.Contains("no iterations callback", e.Message);
        // a start of another model at its last epoch: no step runs, and it used to come back as the "completed" outcome
        var other = ModelSpec.Mlp([4, 3, 2], new TanhSpec(), new SoftmaxCrossEntropySpec());
        var start = Trainer.Init<float>(other, Optimizer.Sgd(0.1), RandomKey.FromSeed(1)) with { Epoch = 5 };
        var s = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, Optimizer.Sgd(0.1), train, null, new FitOptions(Epochs: 5), start: start));
        Assert.Equal("start", s.ParamName);
        // a folder is not a model file
        var dir = Directory.CreateTempSubdirectory().FullName;
        try { Assert.Contains("is a folder, not a safetensors file", Assert.Throws<FileNotFoundException>(() => NeuralPure.Facade.Models.ModelFile.Load(dir)).Message); }
        finally { Directory.Delete(dir); }
    }

    /// <summary>A diverged fit keeps parameters whose loss is finite: with validation the best epoch's, else those before the last
    /// finite step; the outcome says which.</summary>
    [Fact]
    public void A_diverged_fit_keeps_parameters_that_still_give_a_finite_loss()
    {
        var spec = NeuralPure.Properties.Training.TrainingProblems.Regressor();
        var train = NeuralPure.Properties.Training.TrainingProblems.Linear<float>(72);
        var val = NeuralPure.Properties.Training.TrainingProblems.Linear<float>(24, seed: 9);
        var opt = GradientTransform.Chain(new ScaleByLearningRate(new Schedule.StepDecay(0.01, 20, 1e9)));
        var options = new FitOptions(Epochs: 6, BatchSize: 8, Seed: 4);

        var plain = Fitter.Fit(spec, opt, train, null, options);
        Assert.Equal(FitStatus.Diverged, plain.Status);
        Assert.StartsWith("the parameters before step", plain.Divergence!.Kept);
        Assert.True(double.IsFinite(spec.Loss.Value(Model.Forward(spec, plain.Parameters, train.X), train.Y)));
        Assert.False(plain.Parameters.Equals(plain.State.Params)); // not the last state, whose step already blew up

        var withVal = Fitter.Fit(spec, opt, train, val, options);
        Assert.Equal(FitStatus.Diverged, withVal.Status);
        Assert.StartsWith($"the parameters of epoch {withVal.BestEpoch}", withVal.Divergence!.Kept);
        // the message leaves what was kept to Kept (it used to say "Kept the last finite parameters" whichever were kept)
        Assert.DoesNotContain("Kept", withVal.Divergence!.Message, StringComparison.OrdinalIgnoreCase);
        double kept = spec.Loss.Value(Model.Forward(spec, withVal.Parameters, val.X), val.Y);
        Assert.True(double.IsFinite(kept));
        Assert.Equal(withVal.History.Min(h => h.ValLoss!.Value), kept, 6);
    }

    /// <summary>A divergence in a later epoch (the learning rate jumps ×10⁹ at step 20): the fold stops on the step that went
    /// non-finite, and the outcome is the last finite state — equal to the pure steps replayed up to it — with the epochs before it
    /// reported, for a fit straight through and for one cancelled mid-epoch and resumed.</summary>
    [Fact]
    public void Divergence_in_a_later_epoch_keeps_the_state_of_the_steps_before_it_straight_and_resumed()
    {
        var spec = NeuralPure.Properties.Training.TrainingProblems.Regressor();
        var train = NeuralPure.Properties.Training.TrainingProblems.Linear<float>(72);
        var opt = GradientTransform.Chain(new ScaleByLearningRate(new Schedule.StepDecay(0.01, 20, 1e9)));
        var options = new FitOptions(Epochs: 6, BatchSize: 8, Seed: 4);
        var straight = Fitter.Fit(spec, opt, train, null, options);
        Assert.Equal(FitStatus.Diverged, straight.Status);
        var d = straight.Divergence!;
        long steps = straight.State.Step;
        Assert.InRange(steps, 20, 6 * 9 - 1);
        Assert.Equal((int)(steps / 9) + 1, d.Epoch);
        Assert.Equal((int)(steps % 9) + 1, d.Iteration);
        Assert.Equal(d.Epoch - 1, straight.History.Length);
        Assert.Equal(steps, straight.IterationLosses.Length);
        Assert.All(straight.State.Params.Leaves, l => Assert.True(l.Span.ToArray().All(float.IsFinite)));

        var config = new TrainConfig(8, 6);
        var s = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        for (int e = 0; s.Step < steps; e++)
            foreach (var batch in Trainer.Batches(train, config, s.Key, e).Take((int)Math.Min(9, steps - s.Step)))
                s = Trainer.Step(spec, opt, s, batch).State;
        Assert.True(s.Params.Equals(straight.State.Params));
        Assert.Equal(s.OptState, straight.State.OptState);

        using var dir = new NeuralPure.Properties.Facade.Data.TempDir();
        var path = dir.File("ck.safetensors");
        using var cts = new CancellationTokenSource();
        var cancelled = Fitter.Fit(spec, opt, train, null, options with { ReportIterations = true }, null,
            new Sync<IterationReport>(r => { if (r.Step == 13) cts.Cancel(); }), cancellationToken: cts.Token, checkpoint: new CheckpointOptions(path));
        Assert.Equal(FitStatus.Cancelled, cancelled.Status);
        var resumed = Fitter.Resume(spec, opt, train, null, options, FitCheckpoint.Read(path));
        Assert.Equal(FitStatus.Diverged, resumed.Status);
        Assert.Equal(d, resumed.Divergence);
        Assert.True(straight.State.Params.Equals(resumed.State.Params));
        Assert.Equal(straight.IterationLosses.Length, resumed.IterationLosses.Length);
        for (int i = 0; i < straight.IterationLosses.Length; i++) Assert.True(straight.IterationLosses[i].Equals(resumed.IterationLosses[i]), $"{i}: {straight.IterationLosses[i]:R} vs {resumed.IterationLosses[i]:R}");
        Assert.Equal(straight.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
    }
    [Fact]
    public void An_accumulation_longer_than_the_fit_is_refused_and_one_that_straddles_epochs_trains()
    {
        var (spec, train, val) = Problem(); // 72 training rows: 5 batches of 16 an epoch
        var options = new FitOptions(Epochs: 2, BatchSize: 16, Seed: 9);
        var e = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, Optimizer.Accumulate(Optimizer.Adam(0.01), 11), train, val, options));
        Assert.Equal("optimizer", e.ParamName);
        Assert.StartsWith("the optimizer accumulates 11 batches per update, but the fit has 10 (5 per epoch × 2 epochs): no update would ever be made", e.Message);
        // 10 batches make one update of 10 (it waits for the second epoch's batches, as optax's MultiSteps): the parameters move
        var opt = Optimizer.Accumulate(Optimizer.Adam(0.01), 10);
        var outcome = Fitter.Fit(spec, opt, train, val, options);
        Assert.Equal(FitStatus.Completed, outcome.Status);
        Assert.False(Trainer.Init<float>(spec, opt, RandomKey.FromSeed(9)).Params.Equals(outcome.Parameters));
    }

    [Fact]
    public void The_outcome_says_how_many_updates_accumulation_made_and_how_many_batches_it_left_unapplied()
    {
        var (spec, train, val) = Problem(); // 72 training rows: 5 batches of 16 an epoch
        var opt = Optimizer.Accumulate(Optimizer.Adam(0.01), 3);
        static long AdamUpdates(FitOutcome o) => ((AdamState<float>)((ChainState)((MultiStepsState<float>)o.State.OptState).Inner).States[0]).Count;

        // 2 epochs: 10 batches, 3 updates (one takes batches from both epochs), the last batch left in the accumulator;
        // not 1 update and 2 batches left in every epoch
        var two = Fitter.Fit(spec, opt, train, val, new FitOptions(Epochs: 2, BatchSize: 16, Seed: 9));
        Assert.Equal(new AccumulationReport(BatchesPerUpdate: 3, BatchesPerEpoch: 5, Batches: 10, Updates: 3, BatchesNotApplied: 1), two.Accumulation);
        Assert.Equal(3, AdamUpdates(two)); // the updates Adam itself counted
        // 3 epochs: 15 batches, 5 updates, every batch applied
        var three = Fitter.Fit(spec, opt, train, val, new FitOptions(Epochs: 3, BatchSize: 16, Seed: 9));
        Assert.Equal(new AccumulationReport(3, 5, 15, 5, 0), three.Accumulation);
        Assert.Equal(5, AdamUpdates(three));
        // cancelled after 7 batches: what ran, not what was planned
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var cut = Fitter.Fit(spec, opt, train, null, new FitOptions(Epochs: 3, BatchSize: 16, Seed: 9, ReportIterations: true), null,
            new Sync<IterationReport>(_ => { if (++seen == 7) cts.Cancel(); }), cancellationToken: cts.Token);
        Assert.Equal(FitStatus.Cancelled, cut.Status);
        Assert.Equal(new AccumulationReport(3, 5, 7, 2, 1), cut.Accumulation);
        // no accumulation, no report
        Assert.Null(Fitter.Fit(spec, Optimizer.Adam(0.01), train, val, new FitOptions(Epochs: 2, BatchSize: 16, Seed: 9)).Accumulation);
    }
}
