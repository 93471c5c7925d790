using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;
using static NeuralPure.Optimizers.GradientTransform;

namespace NeuralPure.Properties.Optimizers;

/// <summary>The laws of masks and parameter groups, of gradient accumulation, of Lion and Adagrad.</summary>
public sealed class GroupsAccumulationLionTests
{
    private static string? Same<T>(GradientTransform a, GradientTransform b, Trajectory t) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        OptimizerRun.FirstDifference<T>(a, b, t);

    [Law(40)]
    public Property A_mask_that_selects_nothing_is_no_decay_and_one_that_selects_everything_is_the_decay() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, lr) =>
        {
            var none = Chain(new ScaleByAdam(), new Masked(new AddDecayedWeights(0.1), ParamMask.Matching("nothing-is-called-this")), new ScaleByLearningRate(lr));
            var all = Chain(new ScaleByAdam(), new Masked(new AddDecayedWeights(0.1), ParamMask.All), new ScaleByLearningRate(lr));
            return Same<double>(none, Chain(new ScaleByAdam(), new ScaleByLearningRate(lr)), t) is null
                && Same<double>(all, Optimizer.AdamW(lr, weightDecay: 0.1), t) is null
                && Same<float>(all, Optimizer.AdamW(lr, weightDecay: 0.1), t) is null;
        });

    [Law(40)]
    public Property Groups_with_equal_hyperparameters_are_no_groups() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), OptimizerGens.WeightDecay.ToArbitrary(), (t, lr, wd) =>
        {
            var grouped = Optimizer.Groups((ParamMask.Matching("l0"), Optimizer.AdamW(lr, weightDecay: wd)), (ParamMask.All, Optimizer.AdamW(lr, weightDecay: wd)));
            var momentum = Optimizer.Groups((ParamMask.Except("l1"), Optimizer.Momentum(lr, 0.9, wd)), (ParamMask.All, Optimizer.Momentum(lr, 0.9, wd)));
            return Same<double>(grouped, Optimizer.AdamW(lr, weightDecay: wd), t) is null && Same<float>(momentum, Optimizer.Momentum(lr, 0.9, wd), t) is null;
        });

    [Law(40)]
    public Property Each_group_is_its_own_optimizer_on_its_own_parameters() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), t =>
        {
            // l0 with SGD, the rest with Adam: each leaf's trajectory is that optimizer's alone
            var grouped = OptimizerRun.Params<double>(Optimizer.Groups((ParamMask.Matching("l0"), Optimizer.Sgd(0.1)), (ParamMask.All, Optimizer.Adam(0.01))), t);
            var sgd = OptimizerRun.Params<double>(Optimizer.Sgd(0.1), t);
            var adam = OptimizerRun.Params<double>(Optimizer.Adam(0.01), t);
            return Enumerable.Range(0, grouped.Count).All(s => Enumerable.Range(0, t.Params.Count).All(j =>
                grouped[s][j].Equals((j == 0 ? sgd : adam)[s][j])));
        });

    [Fact]
    public void A_parameter_in_no_group_is_refused_at_init_and_masks_match_names_as_documented()
    {
        var p = new ParamTree<double>(["0.weight", "0.bias", "2.weight"], [NdArray.Vector(1.0), NdArray.Vector(2.0), NdArray.Vector(3.0)]);
        var e = Assert.Throws<ArgumentException>(() => Optimizer.Groups((ParamMask.Matching("weight"), Optimizer.Sgd(0.1))).Init(p));
        Assert.Contains("0.bias fall in no group; add a last group with ParamMask.All", e.Message);
        Assert.True(ParamMask.Matching("bias").Includes("0.bias"));
        Assert.False(ParamMask.Matching("bias").Includes("0.biases"));
        Assert.True(ParamMask.Matching("0.*").Includes("0.weight"));
        Assert.False(ParamMask.Matching("0.*").Includes("10.weight"));
        Assert.True(ParamMask.Matching("?.w*t").Includes("2.weight"));
        Assert.False(ParamMask.Except("bias").Includes("2.bias"));
        Assert.True(ParamMask.All.Includes("anything"));
        Assert.False((ParamMask.All with { Excluding = [ParamMask.Matching("weight")] }).Includes("0.weight"));
        Assert.Throws<ArgumentException>(() => ParamMask.Matching(""));
    }

    [Law(40)]
    public Property Accumulation_over_one_micro_batch_is_no_accumulation() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, lr) =>
            Same<double>(Optimizer.Accumulate(Optimizer.Adam(lr), 1), Optimizer.Adam(lr), t) is null
            && Same<float>(Optimizer.Accumulate(Optimizer.Momentum(lr), 1), Optimizer.Momentum(lr), t) is null);

    /// <summary>k micro-batches of b rows, accumulated, are one step on their union of k·b rows, up to rounding: in the fold, over
    /// whole epochs, with Adam (whose bias corrections count real updates) and a schedule.</summary>
    [Theory]
    [InlineData(2, 8)]
    [InlineData(4, 4)]
    [InlineData(3, 5)]
    public void Accumulating_k_micro_batches_is_one_step_on_their_union(int k, int b)
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<double>(k * b * 6, seed: 7);
        var inner = Optimizer.Adam(new Schedule.Cosine(0.01, 12));
        var big = Trainer.Fit(spec, inner, Trainer.Init<double>(spec, inner, RandomKey.FromSeed(3)), data, new TrainConfig(k * b, 2, Shuffle: false)).State;
        var acc = Optimizer.Accumulate(inner, k);
        var small = Trainer.Fit(spec, acc, Trainer.Init<double>(spec, acc, RandomKey.FromSeed(3)), data, new TrainConfig(b, 2, Shuffle: false)).State;
        Assert.Equal(big.Step * k, small.Step);
        var inState = (MultiStepsState<double>)small.OptState;
        Assert.Equal(0, inState.MiniStep);
        Assert.Equal(((ChainState)big.OptState).States[0], ((ChainState)inState.Inner).States[0] with { }, new AdamCountComparer());
        for (int j = 0; j < big.Params.Count; j++)
            for (int i = 0; i < big.Params[j].Length; i++)
                Assert.True(Math.Abs(big.Params[j][i] - small.Params[j][i]) <= 1e-12 * Math.Max(1, Math.Abs(big.Params[j][i])), $"{big.Params.Names[j]}[{i}]: {big.Params[j][i]:R} vs {small.Params[j][i]:R}");
    }

    /// <summary>Adam states compare by their step count here (their moments agree only up to rounding).</summary>
    private sealed class AdamCountComparer : IEqualityComparer<OptState>
    {
        public bool Equals(OptState? x, OptState? y) => x is AdamState<double> a && y is AdamState<double> b && a.Count == b.Count;
        public int GetHashCode(OptState obj) => 0;
    }

    [Fact]
    public void Between_micro_batches_the_parameters_do_not_move_and_the_state_says_where_it_is()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0, -2.0)]);
        var g = new ParamTree<double>(["w"], [NdArray.Vector(0.5, 0.25)]);
        var acc = Optimizer.Accumulate(Optimizer.Sgd(0.1), 3);
        var s = acc.Init(p);
        for (int i = 1; i <= 2; i++)
        {
            var (u, next) = acc.Update(g, s, p);
            Assert.All(u.Leaves[0].Span.ToArray(), v => Assert.Equal(0.0, v));
            Assert.Equal(i, ((MultiStepsState<double>)next).MiniStep);
            s = next;
        }
        var (last, done) = acc.Update(g, s, p);
        Assert.Equal(new[] { -0.05, -0.025 }, last.Leaves[0].Span.ToArray()); // −η · mean(g, g, g)
        Assert.Equal(0, ((MultiStepsState<double>)done).MiniStep);
        Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Accumulate(Optimizer.Sgd(), 0));
        Assert.Contains("outside [0, 3)", Assert.Throws<ArgumentException>(() => acc.Update(g, new MultiStepsState<double>(3, p.ZerosLike(), Optimizer.Sgd(0.1).Init(p)), p)).Message);
    }

    [Law(60)]
    public Property Lions_update_moves_every_coordinate_by_exactly_the_learning_rate_without_decay() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), OptimizerGens.Rate(0.99).ToArbitrary(), (t, lr, b1) =>
        {
            var lion = Optimizer.Lion(lr, b1, 0.99);
            var s = lion.Init(t.Params);
            foreach (var g in t.Grads)
            {
                var (u, next) = lion.Update(g, s, t.Params);
                s = next;
                if (!u.Flatten().All(v => v == 0 || Math.Abs(v) == lr)) return false;
            }
            return true;
        });

    [Fact]
    public void Lion_and_adagrad_refuse_bad_hyperparameters_by_name()
    {
        Assert.Equal("Beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new ScaleByLion(0.9, 1)).ParamName);
        Assert.Equal("Beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new ScaleByLion(-0.1)).ParamName);
        Assert.Equal("InitialAccumulator", Assert.Throws<ArgumentOutOfRangeException>(() => new ScaleByAdagrad(-1)).ParamName);
        Assert.Equal("Eps", Assert.Throws<ArgumentOutOfRangeException>(() => new ScaleByAdagrad(0, double.NaN)).ParamName);
        Assert.Equal("lrDecay", Assert.Throws<ArgumentException>(() => Optimizer.Adagrad(new Schedule.Cosine(0.1, 10), lrDecay: 0.1)).ParamName);
        Assert.Equal("Decay", Assert.Throws<ArgumentOutOfRangeException>(() => new Schedule.InverseTimeDecay(0.1, -1)).ParamName);
    }

    /// <summary>The user-written Lion of samples/CustomOps and the core's are the same algorithm: the same bits.</summary>
    [Law(30)]
    public Property The_samples_Lion_and_the_cores_give_the_same_bits() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), t =>
            Same<double>(CustomOps.CustomOptimizers.Lion(1e-4), Optimizer.Lion(1e-4), t) is null
            && Same<float>(CustomOps.CustomOptimizers.Lion(1e-4), Optimizer.Lion(1e-4), t) is null);
}
