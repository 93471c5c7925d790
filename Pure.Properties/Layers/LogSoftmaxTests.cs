using System.Text.Json.Nodes;
using NeuralPure.Facade.Networks;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Cli;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Log-softmax (its gradient against central differences is <c>VerifyTests.LogSoftmax_passes</c>) and nll, which takes
/// its log-probabilities: every way the façade and the CLI build a model with nll ends it in a log-softmax.</summary>
public sealed class LogSoftmaxTests
{
    private static double[] Forward(double[] z, params int[] shape)
    {
        var spec = new LogSoftmaxSpec();
        var model = new ModelSpec(Shape.Of(shape), [spec], new MseSpec());
        return [.. Model.Forward(model, Model.Init<double>(model, NeuralPure.Random.RandomKey.FromSeed(1)), NdArray.From<double>(z, [z.Length / shape.Aggregate(1, (a, b) => a * b), .. shape])).ToArray()];
    }

    private static void Close(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }

    [Fact]
    public void Each_group_of_the_last_dimension_becomes_log_probabilities()
    {
        // log_softmax([1, 2, 3]) = [1, 2, 3] − log(e + e² + e³), and [0, 0] gives −log 2 twice
        double lse = Math.Log(Math.E + Math.Exp(2) + Math.Exp(3));
        var y = Forward([1, 2, 3, 0, 0, 0], 3);
        Close([1 - lse, 2 - lse, 3 - lse, -Math.Log(3), -Math.Log(3), -Math.Log(3)], y, 1e-15);
        // [2, 2, 2]: over the last dimension only: each row of two sums to probability 1
        var z = new double[] { 5, -1, 0.5, 0.25, 100, 100, -3, 7 };
        var rows = Forward(z, 2, 2, 2);
        for (int g = 0; g < 8; g += 2) Assert.Equal(1.0, Math.Exp(rows[g]) + Math.Exp(rows[g + 1]), 1e-14);
        Assert.Equal(-Math.Log(2), rows[4], 1e-15);
    }

    [Fact]
    public void Large_logits_do_not_overflow_and_a_shift_changes_nothing()
    {
        var big = Forward([1000, 1001, 999], 3);
        var small = Forward([1, 2, 0], 3);
        Assert.All(big, v => Assert.True(double.IsFinite(v)));
        Close(small, big, 1e-12);
        Assert.Equal(0.0, Forward([-1e308, 0], 2)[1]);
    }

    [Fact]
    public void A_scalar_example_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new LogSoftmaxSpec().OutputShape(new Shape([])));
        Assert.Contains("a scalar example has none", e.Message);
    }

    [Fact]
    public void Log_softmax_then_nll_trains_as_cross_entropy_does()
    {
        // the builder puts a log-softmax after Output's dense layer for nll; the loss then is the cross-entropy of the same logits
        var nll = Network.Input(2).Dense(8, "tanh").Output(3, "nll");
        Assert.IsType<LogSoftmaxSpec>(nll.Layers[^1]);
        Assert.IsType<DenseSpec>(nll.Layers[^2]);
        var ce = Network.Input(2).Dense(8, "tanh").Output(3, "cross-entropy");
        Assert.IsType<DenseSpec>(ce.Layers[^1]);
        var x = new double[30, 2]; var y = new int[30];
        for (int i = 0; i < 30; i++) { y[i] = i % 3; x[i, 0] = y[i] + 0.1 * (i % 5); x[i, 1] = -y[i] + 0.05 * (i % 7); }
        var options = new FitOptions(Epochs: 40, BatchSize: 10, Seed: 5);
        var a = Fitter.Fit(nll, x, y, options);
        var b = Fitter.Fit(ce, x, y, options);
        Assert.Equal(FitStatus.Completed, a.Outcome.Status);
        Assert.All(a.Outcome.History, h => Assert.True(h.TrainLoss >= 0));
        // the same start (log-softmax has no parameters), the same loss in exact arithmetic: the curves agree closely
        for (int e = 0; e < 40; e++) Assert.Equal(b.Outcome.History[e].TrainLoss, a.Outcome.History[e].TrainLoss, 1e-4);
        Assert.Equal(b.Predict(x), a.Predict(x));
    }

    [Fact]
    public void Arch_and_the_mlp_end_an_nll_model_in_a_log_softmax_and_keep_a_last_log_softmax_last()
    {
        var nll = new NllSpec();
        var plain = Arch.Parse("dense(8),relu", Shape.Of(4), 3, nll);
        Assert.Equal(["dense", "relu", "dense", "log-softmax"], plain.Layers.Select(l => l.Kind));
        var said = Arch.Parse("dense(8),relu,dense(3),log-softmax", Shape.Of(4), 3, nll);
        Assert.Equal(plain.Layers.Select(l => l.Kind), said.Layers.Select(l => l.Kind));
        var withoutOutput = Arch.Parse("dense(8),relu,logsoftmax", Shape.Of(4), 3, new SoftmaxCrossEntropySpec());
        Assert.Equal(["dense", "relu", "dense", "log-softmax"], withoutOutput.Layers.Select(l => l.Kind));
        var mlp = Experiment.BuildSpec(new ExperimentConfig { Data = "iris", Loss = "nll", Layers = [8] }, NeuralPure.Facade.Data.BundledDataSets.Load("iris"));
        Assert.Equal(["dense", "relu", "dense", "log-softmax"], mlp.Layers.Select(l => l.Kind));
    }

    [Fact]
    public void Train_with_loss_nll_learns_with_a_loss_of_at_least_zero_and_records_the_log_softmax()
    {
        var dir = CliRunner.TempDir();
        try
        {
            var (code, stdout, err) = CliRunner.Run("train", "--data", "iris", "--loss", "nll", "--epochs", "30", "--out", Path.Combine(dir, "r"));
            Assert.True(code == 0, stdout + err);
            var r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "r", "run.json")))!;
            Assert.Equal("log-softmax", r["model"]!["layers"]!.AsArray()[^1]!["kind"]!.GetValue<string>());
            Assert.All(r["history"]!.AsArray(), h => Assert.True(h!["trainLoss"]!.GetValue<double>() >= 0));
            Assert.True(r["test"]!["accuracy"]!.GetValue<double>() > 0.8, r["test"]!.ToJsonString());
            Assert.Equal(0, CliRunner.Run("replay", Path.Combine(dir, "r")).Code);
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }
}
