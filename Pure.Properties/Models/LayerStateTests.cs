using System.Collections.Immutable;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>A layer with non-trainable state, as batch normalization has: training subtracts the batch's mean of each feature
/// and moves a running mean toward it (r ← (1 − m)·r + m·μ); evaluation subtracts the running mean.</summary>
public sealed record CenterSpec(double Momentum = 0.1) : LayerSpec
{
    public override string Kind => "center";
    public override Shape OutputShape(Shape input) => input;
    public override ImmutableArray<ParamShape> State(Shape input) => [new("running_mean", input)];

    public override void Forward<T>(in ForwardArgs<T> a)
    {
        int w = a.Input.Size, rows = a.Rows;
        var r = a.State(0);
        T m = T.CreateChecked(Momentum), keep = T.CreateChecked(1 - Momentum), n = T.CreateChecked(rows);
        for (int j = 0; j < w; j++)
        {
            T mean = T.Zero;
            if (a.Training) { for (int i = 0; i < rows; i++) mean += a.X[i * w + j]; mean /= n; }
            else mean = r[j];
            for (int i = 0; i < rows; i++) a.Y[i * w + j] = a.X[i * w + j] - mean;
            if (a.Training) r[j] = keep * r[j] + m * mean;
        }
    }

    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        int w = a.Input.Size, rows = a.Rows;
        for (int j = 0; j < w; j++)
        {
            T mean = T.Zero;
            if (a.Training) { for (int i = 0; i < rows; i++) mean += a.DY[i * w + j]; mean /= T.CreateChecked(rows); }
            for (int i = 0; i < rows; i++) a.DX[i * w + j] = a.DY[i * w + j] - mean;
        }
    }
}

/// <summary>Layer state (running statistics) is an explicit input and output of a step, like the optimizer state: the fold and
/// the pure step agree on it bit for bit, evaluation reads it, nothing updates it behind the caller, and checkpoints carry it.</summary>
public sealed class LayerStateTests
{
    private static ModelSpec Spec() => new(2, [new DenseSpec(2, 6), new CenterSpec(0.2), new TanhSpec(), new DenseSpec(6, 3)], new SoftmaxCrossEntropySpec());

    [Fact]
    public void The_spec_names_the_state_and_Init_starts_it_at_zero()
    {
        var spec = Spec();
        Assert.True(spec.HasState);
        Assert.Equal(["1.running_mean"], spec.StateShapes.Select(s => s.Name));
        Assert.Equal([0, 0, 1, 1, 1], spec.StateOffsets.ToArray());
        var s = Trainer.Init<double>(spec, Optimizer.Sgd(0.1), RandomKey.FromSeed(1));
        Assert.Equal(NdArray.Zeros<double>(6), s.LayerState[0]);
        Assert.False(ModelSpec.Mlp([2, 3], new ReluSpec(), new MseSpec()).HasState);
    }

    [Fact]
    public void Fit_moves_the_running_mean_and_equals_the_pure_step_folded_by_hand()
    {
        var spec = Spec();
        var data = TrainingProblems.Blobs<float>(60);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        var config = new TrainConfig(8, 3);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var pure = TrainingProblems.StepFold(spec, opt, start, data, config);
        Assert.Equal(pure, fit.State);                      // parameters, optimizer state and layer state, every bit
        Assert.Equal(pure.LayerState, fit.State.LayerState);
        Assert.NotEqual(start.LayerState, fit.State.LayerState);
        Assert.Equal(NdArray.Zeros<float>(6), start.LayerState[0]); // the starting state was not written
        var observed = Trainer.Fit(spec, opt, start, data, config, new TrainObserver<float>());
        Assert.Equal(fit.State, observed.State);
    }

    [Fact]
    public void Evaluation_reads_the_state_and_the_stateless_overloads_refuse_a_model_with_state()
    {
        var spec = Spec();
        var data = TrainingProblems.Blobs<double>(30);
        var s = Trainer.Fit(spec, Optimizer.Sgd(0.05), Trainer.Init<double>(spec, Optimizer.Sgd(0.05), RandomKey.FromSeed(5)), data, new TrainConfig(10, 2)).State;
        var y = Model.Forward(spec, s.Params, s.LayerState, data.X);
        var zero = Model.Forward(spec, s.Params, Model.InitState<double>(spec), data.X);
        Assert.NotEqual(zero, y);
        // Evaluation does not depend on the batch: one row alone gives the same output as in the whole batch.
        var one = Model.Forward(spec, s.Params, s.LayerState, NdArray.From<double>(data.X.Span[..2], 1, 2));
        Assert.Equal(y.Span[..3].ToArray(), one.Span.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Model.Forward(spec, s.Params, data.X));
        Assert.Contains("carry state (1.running_mean)", e.Message);
        Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(spec, s.Params, data.AsBatch()));
        var wrong = Assert.Throws<ArgumentException>(() => Model.Forward(spec, s.Params, new ParamTree<double>(["1.running_mean"], [NdArray.Zeros<double>(5)]), data.X));
        Assert.Contains("1.running_mean must be [6], got [5]", wrong.Message);
        // In training mode the pure ValueAndGrad returns the moved state and leaves the given one alone.
        var (_, _, moved) = Model.ValueAndGrad(spec, s.Params, s.LayerState, data.AsBatch(), RandomKey.FromSeed(1));
        Assert.NotEqual(s.LayerState, moved);
        var (_, _, same) = Model.ValueAndGrad(spec, s.Params, s.LayerState, data.AsBatch());
        Assert.Equal(s.LayerState, same);
    }

    [Fact]
    public void A_checkpoint_carries_the_layer_state_and_resuming_gives_the_uninterrupted_bits()
    {
        var dir = Path.Combine(Path.GetTempPath(), "np-state-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            var spec = Spec();
            var kinds = KindRegistry.BuiltIn.WithLayer<CenterSpec>("center");
            var data = TrainingProblems.Blobs<float>(40);
            var opt = Optimizer.AdamW(0.01);
            var options = new FitOptions(Epochs: 4, BatchSize: 8, Seed: 2);
            var whole = Fitter.Fit(spec, opt, data, null, options);
            var path = Path.Combine(dir, "c.safetensors");
            using var cts = new CancellationTokenSource();
            Fitter.Fit(spec, opt, data, null, options, new Sync(r => { if (r.Epoch == 2) cts.Cancel(); }), null, null, cts.Token, new CheckpointOptions(path, Kinds: kinds));
            var c = FitCheckpoint.Read(path, kinds);
            Assert.Equal(["1.running_mean"], c.State.LayerState.Names.ToArray());
            var done = Fitter.Resume(spec, opt, data, null, options, c, checkpoint: new CheckpointOptions(path, Kinds: kinds));
            Assert.Equal(whole.State, done.State);
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed class Sync(Action<EpochReport> f) : IProgress<EpochReport> { public void Report(EpochReport value) => f(value); }
}
