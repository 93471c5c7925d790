using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>A user's schedule: the built-in constant rate, written again outside Pure.Core.</summary>
public sealed record FlatRate(double Value) : Schedule
{
    public override double At(long step) => Value;
}

/// <summary>A user's schedule that halves the rate every <paramref name="Every"/> steps.</summary>
public sealed record Halving(double Initial, long Every) : Schedule
{
    public override double At(long step) => Initial * Math.Pow(0.5, step / Every);
}

/// <summary>A user's initializer: He-uniform written again outside Pure.Core (its bias is the base's zeros).</summary>
public sealed record MyHeUniform : Initializer
{
    public override string Name => "my-he-uniform";
    protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut)
    {
        var b = Math.Sqrt(6.0 / fanIn);
        return Sampling.Uniform<T>(key, -b, b, fanOut, fanIn);
    }
}

/// <summary>The schedule and the initializer are open to users too: from this assembly, each trains through Trainer.Fit; written
/// like a built-in, it gives the built-in's bits; and the fold equals the pure step with it.</summary>
public sealed class UserTypesTests
{
    private static readonly DataSet<float> Data = TrainingProblems.Blobs<float>(48);

    private static FitResult<float> Fit(Schedule lr, Initializer init)
    {
        var spec = ModelSpec.Mlp([2, 8, 3], new ReluSpec(), new SoftmaxCrossEntropySpec(), init);
        var opt = Optimizer.Adam(lr);
        return Trainer.Fit(spec, opt, Trainer.Init<float>(spec, opt, RandomKey.FromSeed(6)), Data, new TrainConfig(8, 3));
    }

    [Fact]
    public void A_user_schedule_and_initializer_written_like_the_built_ins_give_the_built_ins_bits()
    {
        var builtIn = Fit(0.01, Initializer.HeUniform);
        var mine = Fit(new FlatRate(0.01), new MyHeUniform());
        Assert.Equal(builtIn.State.Params, mine.State.Params);
        Assert.True(builtIn.History.Equals(mine.History));
    }

    [Fact]
    public void A_user_schedule_takes_effect_and_the_fold_equals_the_pure_step_with_it()
    {
        var spec = ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(), new MyHeUniform());
        var opt = Optimizer.Sgd(new Halving(0.5, 4));
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(2));
        var config = new TrainConfig(8, 2);
        var fit = Trainer.Fit(spec, opt, start, Data, config);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, Data, config), fit.State);
        Assert.NotEqual(Trainer.Fit(spec, Optimizer.Sgd(0.5), start, Data, config).State.Params, fit.State.Params);
        Assert.Equal(new CountState(12), ((ChainState)fit.State.OptState).States[^1]);
    }
}
