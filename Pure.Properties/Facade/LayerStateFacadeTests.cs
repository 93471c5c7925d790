using NeuralPure.Facade.Models;
using NeuralPure.Facade.Networks;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Facade.Data;
using NeuralPure.Properties.Training;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Facade;

/// <summary>A model with batch normalization through the façade: validation and evaluation read the running statistics, early
/// stopping restores the best epoch's with its parameters, model files and checkpoints carry them.</summary>
public sealed class LayerStateFacadeTests
{
    private static ModelSpec Spec() => new(2, [new DenseSpec(2, 16), new BatchNormSpec(16), new ReluSpec(), new DenseSpec(16, 3)], new SoftmaxCrossEntropySpec());

    [Fact]
    public void Early_stopping_restores_the_best_epochs_parameters_with_its_running_statistics_and_files_carry_them()
    {
        var train = TrainingProblems.Blobs<float>(120, seed: 3);
        var val = TrainingProblems.Blobs<float>(40, seed: 4);
        var options = new FitOptions(Epochs: 60, BatchSize: 8, Seed: 5, EarlyStopping: new EarlyStopping(2));
        var outcome = Fitter.Fit(Spec(), Optimizer.Adam(0.05), train, val, options);
        Assert.Equal(FitStatus.EarlyStopped, outcome.Status);
        Assert.True(outcome.BestEpoch < outcome.History.Length);
        Assert.NotEqual(outcome.State.LayerState, outcome.LayerState); // the best epoch's, not the last
        // the kept pair reproduces the best validation loss exactly as the fit measured it
        var outputs = NeuralPure.Facade.Evaluation.Evaluate.Outputs(Spec(), outcome.Parameters, val.X, outcome.LayerState);
        Assert.Equal(outcome.History[outcome.BestEpoch - 1].ValLoss!.Value, Spec().Loss.Value(outputs, val.Y));

        using var dir = new TempDir();
        var model = new TrainedModel(Spec(), outcome.Parameters, new Standardizer([0.0, 0.0], [1.0, 1.0], 0, 1), NeuralPure.Facade.Data.TaskKind.Classification, 3, ["a", "b"], "y")
        { LayerState = outcome.LayerState };
        var path = dir.File("bn.safetensors");
        ModelFile.Save(path, model);
        var (loaded, _) = ModelFile.Load(path);
        Assert.Equal(model.LayerState, loaded.LayerState);
        var raw = val.X.Span.ToArray().Select(v => (double)v).ToArray();
        Assert.Equal(model.Predict(raw, val.Rows), loaded.Predict(raw, val.Rows));
        var names = NeuralPure.Facade.Data.SafeTensors.Read(path).Tensors.Select(t => t.Name).ToArray();
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"], names);
    }

    [Fact]
    public void A_fit_with_batch_norm_and_early_stopping_resumed_from_a_checkpoint_keeps_the_best_running_statistics()
    {
        var train = TrainingProblems.Blobs<float>(120, seed: 3);
        var val = TrainingProblems.Blobs<float>(40, seed: 4);
        var options = new FitOptions(Epochs: 60, BatchSize: 8, Seed: 5, EarlyStopping: new EarlyStopping(2));
        var whole = Fitter.Fit(Spec(), Optimizer.Adam(0.05), train, val, options);
        using var dir = new TempDir();
        var path = dir.File("ck.safetensors");
        using var cts = new CancellationTokenSource();
        var progress = new Sync(r => { if (r.Epoch == whole.BestEpoch + 1) cts.Cancel(); });
        var cancelled = Fitter.Fit(Spec(), Optimizer.Adam(0.05), train, val, options, progress, null, null, cts.Token, new CheckpointOptions(path));
        Assert.Equal(FitStatus.Cancelled, cancelled.Status);
        var resumed = Fitter.Resume(Spec(), Optimizer.Adam(0.05), train, val, options, FitCheckpoint.Read(path));
        Assert.Equal(whole.Status, resumed.Status);
        Assert.Equal(whole.Parameters, resumed.Parameters);
        Assert.Equal(whole.LayerState, resumed.LayerState);
    }

    [Fact]
    public void Evaluating_a_model_with_layer_state_without_it_is_refused_by_name()
    {
        var spec = Spec();
        var p = Model.Init<float>(spec, NeuralPure.Random.RandomKey.FromSeed(1));
        var e = Assert.Throws<ArgumentException>(() => NeuralPure.Facade.Evaluation.Evaluate.Outputs(spec, p, TrainingProblems.Blobs<float>(4).X));
        Assert.Contains("carry state (1.running_mean, 1.running_var, 1.num_batches_tracked); pass it to evaluate", e.Message);
    }

    private sealed class Sync(Action<EpochReport> f) : IProgress<EpochReport> { public void Report(EpochReport value) => f(value); }

    /// <summary>A CNN's evaluation runs in chunks sized to its scratch and activations (here ≈ 0.9 MB per image: 77 rows per chunk) and gives
    /// the bits of one forward pass over all rows: each row's evaluation-mode output depends on that row only.</summary>
    [Fact]
    public void Evaluating_a_cnn_in_scratch_sized_chunks_gives_the_bits_of_one_pass()
    {
        var spec = new ModelSpec(NeuralPure.Tensors.Shape.Of(1, 28, 28),
            [Conv2dSpec.Square(1, 64, 3, padding: 1), new BatchNormSpec(64), new ReluSpec(), MaxPool2dSpec.Square(4), new FlattenSpec(), new DenseSpec(64 * 7 * 7, 10)],
            new SoftmaxCrossEntropySpec());
        var p = Model.Init<float>(spec, NeuralPure.Random.RandomKey.FromSeed(2));
        var state = Model.InitState<float>(spec);
        int rows = 300;
        var r = new System.Random(9);
        var x = NeuralPure.Tensors.NdArray.From<float>([.. Enumerable.Range(0, rows * 784).Select(_ => (float)r.NextDouble())], rows, 1, 28, 28);
        var chunked = NeuralPure.Facade.Evaluation.Evaluate.Outputs(spec, p, x, state);
        var whole = Model.Forward(spec, p, state, x);
        Assert.True(chunked.Span.SequenceEqual(whole.Span));
    }
}
