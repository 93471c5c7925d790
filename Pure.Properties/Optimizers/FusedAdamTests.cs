using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>Adam's fused chain step (what the training fold takes through <see cref="GradientTransform.OpenApplying{T}"/>):
/// the chains the aliases build — with weight decay before Adam, after it, both or neither — fuse, apply their updates
/// themselves and give the pure step's parameters and state bit for bit; any other chain either does not fuse or gives the
/// same bits too; a wrong state in a decay slot is refused.</summary>
public sealed class FusedAdamTests
{
    private static readonly ParamTree<double> P0 = new(["weight", "bias"],
        [NdArray.From<double>([0.5, -1.25, 2, 0.75, -0.3, 1.5], 2, 3), NdArray.Vector(0.1, -0.2)]);

    private static ParamTree<double> Grad(int step) => new(["weight", "bias"],
        [NdArray.From<double>([0.3 * step, -0.7, 1.1, -0.05 * step, 0.4, -2.0 + step], 2, 3), NdArray.Vector(0.25 * step, -0.6)]);

    private const int Steps = 3;

    /// <summary>The pure steps: Update, then add the updates.</summary>
    private static (ParamTree<double> Params, OptState State) Pure(GradientTransform t)
    {
        var (p, s) = (P0, t.Init(P0));
        for (int k = 1; k <= Steps; k++)
        {
            var (u, next) = t.Update(Grad(k), s, p);
            (p, s) = (Optimizer.ApplyUpdates(p, u), next);
        }
        return (p, s);
    }

    /// <summary>The fused steps on writable buffers; null when the chain does not fuse.</summary>
    private static (ParamTree<double> Params, OptState State)? Fused(GradientTransform t)
    {
        var work = t.OpenApplying(t.Init(P0), P0);
        if (work is null) return null;
        Assert.True(work.AppliesUpdates);
        var p = P0.Leaves.Select(l => l.ToArray()).ToArray();
        for (int k = 1; k <= Steps; k++)
        {
            var u = Grad(k).Leaves.Select(l => l.ToArray()).ToArray();
            work.Update(new UpdateArgs<double>(P0.Names, u, p, writableParameters: true, threads: 1));
        }
        return (new ParamTree<double>(P0.Names, [.. p.Select((a, j) => NdArray.Own(a, P0.Leaves[j].Shape))]), work.State());
    }

    public static TheoryData<string> FusingChains() => new(FusingChain.Keys);

    private static readonly Dictionary<string, GradientTransform> FusingChain = new()
    {
        ["Adam"] = Optimizer.Adam(0.01),
        ["Adam with weight decay (before)"] = Optimizer.Adam(0.01, weightDecay: 0.1),
        ["AdamW (decay after)"] = Optimizer.AdamW(0.01, weightDecay: 0.05),
        ["AdamW with decay 0"] = Optimizer.AdamW(0.01, weightDecay: 0),
        ["decay before and after"] = GradientTransform.Chain(new AddDecayedWeights(0.05), new ScaleByAdam(), new AddDecayedWeights(0.02), new ScaleByLearningRate(0.01)),
        ["Adam with a warm-up schedule"] = Optimizer.Adam(new Schedule.WarmupCosine(0.02, 2, 10, Start: 0.001)),
    };

    [Theory]
    [MemberData(nameof(FusingChains))]
    public void The_aliases_chains_fuse_and_give_the_pure_bits(string name)
    {
        var t = FusingChain[name];
        var fused = Fused(t);
        Assert.True(fused is not null, $"{name} did not fuse");
        var pure = Pure(t);
        Assert.Equal(pure.Params, fused.Value.Params);
        Assert.Equal(pure.State, fused.Value.State);
        Assert.NotEqual(P0, fused.Value.Params);
    }

    public static TheoryData<string> OtherChains() => new(OtherChain.Keys);

    private static readonly Dictionary<string, GradientTransform> OtherChain = new()
    {
        ["AMSGrad"] = Optimizer.Adam(0.01, amsGrad: true),
        ["AdamW AMSGrad"] = Optimizer.AdamW(0.01, amsGrad: true),
        ["momentum before Adam"] = GradientTransform.Chain(new TraceMomentum(0.9), new ScaleByAdam(), new ScaleByLearningRate(0.01)),
        ["decay before Adam, momentum after"] = GradientTransform.Chain(new AddDecayedWeights(0.01), new ScaleByAdam(), new TraceMomentum(0.9), new ScaleByLearningRate(0.01)),
        ["momentum after Adam"] = GradientTransform.Chain(new ScaleByAdam(), new TraceMomentum(0.9), new ScaleByLearningRate(0.01)),
        ["a rate before Adam"] = GradientTransform.Chain(new ScaleByLearningRate(0.5), new ScaleByAdam(), new ScaleByLearningRate(0.01)),
        ["two decays after Adam"] = GradientTransform.Chain(new ScaleByAdam(), new AddDecayedWeights(0.01), new AddDecayedWeights(0.02), new ScaleByLearningRate(0.01)),
        ["two decays before Adam"] = GradientTransform.Chain(new AddDecayedWeights(0.01), new AddDecayedWeights(0.02), new ScaleByAdam(), new ScaleByLearningRate(0.01)),
        ["no rate after Adam"] = GradientTransform.Chain(new ScaleByAdam(), new AddDecayedWeights(0.01)),
        ["Adam alone"] = GradientTransform.Chain(new ScaleByAdam()),
        ["SGD"] = Optimizer.Sgd(0.01, weightDecay: 0.1),
        ["clipped Adam"] = GradientTransform.Chain(new ClipByGlobalNorm(1), new AddDecayedWeights(0.01), new ScaleByAdam(), new ScaleByLearningRate(0.01)),
    };

    /// <summary>Chains outside the fused form's shape: a fused workspace, if one is returned, must still give the pure bits
    /// (as Verify's fused check demands); none of these has one today.</summary>
    [Theory]
    [MemberData(nameof(OtherChains))]
    public void Other_chains_do_not_fuse_or_give_the_pure_bits(string name)
    {
        var t = OtherChain[name];
        var fused = Fused(t);
        var pure = Pure(t);
        if (fused is { } f)
        {
            Assert.Equal(pure.Params, f.Params);
            Assert.Equal(pure.State, f.State);
        }
        Assert.Null(fused);
    }

    [Fact]
    public void A_workspace_that_does_not_fuse_does_not_apply_its_updates()
    {
        var sgd = Optimizer.Sgd(0.01);
        Assert.False(sgd.Open(sgd.Init(P0), P0).AppliesUpdates);
        Assert.False(new ScaleByAdam().Open(new ScaleByAdam().Init(P0), P0).AppliesUpdates);
    }

    /// <summary>The decay slots of a fused chain must hold their own (empty) states: a state from another chain is refused.</summary>
    [Fact]
    public void A_wrong_state_in_a_decay_slot_is_refused()
    {
        var t = GradientTransform.Chain(new AddDecayedWeights(0.05), new ScaleByAdam(), new AddDecayedWeights(0.02), new ScaleByLearningRate(0.01));
        var good = ((ChainState)t.Init(P0)).States;
        foreach (var slot in new[] { 0, 2 })
        {
            var bad = new ChainState(good.SetItem(slot, new CountState(0)));
            var e = Assert.Throws<ArgumentException>(() => t.OpenApplying(bad, P0));
            Assert.Equal("state", e.ParamName);
            Assert.Contains("expected a EmptyState but got CountState", e.Message);
        }
    }
}
