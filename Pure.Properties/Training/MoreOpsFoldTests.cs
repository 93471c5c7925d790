using System.Collections.Immutable;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>Models with SiLU, ELU, Softplus and the L1, SmoothL1 and NLL losses in the fold: a step allocates nothing once the
/// workspaces exist (FoldTests' pattern), and Trainer.Fit gives the bits of the pure steps folded by hand.</summary>
public sealed class MoreOpsFoldTests
{
    private static (ModelSpec Spec, GradientTransform Opt) Problem(string name) => name switch
    {
        "silu l1 adam" => (ModelSpec.Mlp([2, 8, 3], new SiluSpec(), new L1Spec()), Optimizer.Adam(0.01)),
        "elu smooth-l1 momentum" => (ModelSpec.Mlp([2, 8, 3], new EluSpec(0.7), new SmoothL1Spec(0.5)), Optimizer.Momentum(0.01)),
        "softplus nll adamw" => (ModelSpec.Mlp([2, 8, 3], new SoftplusSpec(2, 3), new NllSpec()), Optimizer.AdamW(0.01)),
        "elu weighted nll sgd" => (ModelSpec.Mlp([2, 8, 3], new EluSpec(), new NllSpec(ImmutableArray.Create(1.0, 2.0, 0.5)), dropout: 0.1), Optimizer.Sgd(0.01)),
        "silu smooth-l1 beta 0 nesterov" => (ModelSpec.Mlp([2, 8, 8, 3], new SiluSpec(), new SmoothL1Spec(0)), Optimizer.Nesterov(0.01)),
        "log-softmax nll adam" => (new ModelSpec(2, [new DenseSpec(2, 8), new ReluSpec(), new DenseSpec(8, 3), new LogSoftmaxSpec()], new NllSpec()), Optimizer.Adam(0.01)),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    /// <summary>The blobs (labels for NLL) or their one-hot rows [n, 3] (for the value losses).</summary>
    private static DataSet<T> Data<T>(ModelSpec spec, int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var blobs = TrainingProblems.Blobs<T>(n);
        if (spec.Loss.UsesLabels) return blobs;
        var oneHot = new T[n * 3];
        for (int i = 0; i < n; i++) oneHot[i * 3 + int.CreateChecked(blobs.Y[i])] = T.One;
        return new DataSet<T>(blobs.X, NdArray.From<T>(oneHot, n, 3));
    }

    [Theory]
    [InlineData("silu l1 adam")]
    [InlineData("elu smooth-l1 momentum")]
    [InlineData("softplus nll adamw")]
    [InlineData("elu weighted nll sgd")]
    [InlineData("silu smooth-l1 beta 0 nesterov")]
    [InlineData("log-softmax nll adam")]
    public void A_step_of_the_fold_allocates_nothing(string name)
    {
        var (spec, opt) = Problem(name);
        var data = Data<float>(spec, 400);
        NeuralPure.Properties.Support.FoldAllocation.AssertStepsAllocateNothing(name, spec, opt, data);
    }

    [Theory]
    [InlineData("silu l1 adam")]
    [InlineData("elu smooth-l1 momentum")]
    [InlineData("softplus nll adamw")]
    [InlineData("elu weighted nll sgd")]
    [InlineData("silu smooth-l1 beta 0 nesterov")]
    [InlineData("log-softmax nll adam")]
    public void The_fold_gives_the_pure_steps_bits_in_float_and_double(string name)
    {
        var (spec, opt) = Problem(name);
        var config = new TrainConfig(8, 2);
        var f = Data<float>(spec, 60);
        var fs = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        Assert.Equal(TrainingProblems.StepFold(spec, opt, fs, f, config), Trainer.Fit(spec, opt, fs, f, config).State);
        var d = Data<double>(spec, 60);
        var ds = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(4));
        Assert.Equal(TrainingProblems.StepFold(spec, opt, ds, d, config), Trainer.Fit(spec, opt, ds, d, config).State);
    }

    [Fact]
    public void A_data_set_with_a_label_outside_the_classes_is_refused_before_training_naming_its_row()
    {
        var (spec, opt) = Problem("softplus nll adamw");
        var blobs = TrainingProblems.Blobs<float>(20);
        var y = blobs.Y.Span.ToArray(); y[13] = 3;
        var data = new DataSet<float>(blobs.X, NdArray.Vector(y));
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 1)));
        Assert.Contains("row 13", e.Message);
    }
}
