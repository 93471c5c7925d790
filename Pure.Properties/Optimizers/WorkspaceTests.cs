using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>The workspace contract around the transforms: the pure Update's refusals and read-only parameters, the update
/// bundle's checks and thread count, TreeBuffers' hand-over, Adam's state checks, a zero learning rate, decay 0 changing no
/// bit, and the warm-up's start.</summary>
public sealed class WorkspaceTests
{
    private static readonly ParamTree<double> P = new(["w", "b"], [NdArray.Vector(1.0, 2.0, 3.0), NdArray.Vector(-1.0)]);

    /// <summary>A transform whose workspace tries to write the parameters, as only an applying workspace may.</summary>
    private sealed record Rogue : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => new Work<T>();
        private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public override void Update(in UpdateArgs<T> a) => a.WritableParameters(0).Clear();
            public override OptState State() => EmptyState.Instance;
        }
    }

    /// <summary>A transform whose Open returns null (a user's bug).</summary>
    private sealed record NullOpen : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => null!;
    }

    [Fact]
    public void The_pure_Update_never_hands_out_writable_parameters()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Rogue().Update(P, EmptyState.Instance, P));
        Assert.Contains("read-only", e.Message);
        Assert.Equal(NdArray.Vector(1.0, 2.0, 3.0), P[0]);
    }

    /// <summary>A transform that ignores its state and leaves the updates as they are.</summary>
    private sealed record Passthrough : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => new Work<T>();
        private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public override void Update(in UpdateArgs<T> a) { }
            public override OptState State() => EmptyState.Instance;
        }
    }

    /// <summary>The pure Update refuses null arguments itself, not only through the transform's Open: a user transform that
    /// never looks at its state still gets a null state refused.</summary>
    [Fact]
    public void The_pure_Update_refuses_a_null_state_even_for_a_transform_that_ignores_it()
    {
        Assert.Equal(P, new Passthrough().Update(P, EmptyState.Instance, P).Updates);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => new Passthrough().Update(P, null!, P)).ParamName);
    }

    [Fact]
    public void The_pure_Update_names_a_transform_whose_Open_returns_null()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new NullOpen().Update(P, EmptyState.Instance, P));
        Assert.Contains("NullOpen.Open returned null", e.Message);
    }

    [Fact]
    public void Open_names_a_null_state()
    {
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => new ScaleByLearningRate(0.1).Open<double>(null!, P)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => new ScaleByAdam().Open<double>(null!, P)).ParamName);
    }

    [Fact]
    public void The_update_bundle_checks_names_and_keeps_a_thread_count_of_at_least_1()
    {
        var e = Assert.Throws<ArgumentException>(() => new UpdateArgs<double>(["w", "v"], [new double[2]], [new double[2]], false, 1));
        Assert.Equal("updates", e.ParamName);
        Assert.Contains("1 updates and 2 names for 1 parameters", e.Message);
        Assert.Equal(4, new UpdateArgs<double>(["w"], [new double[2]], [new double[2]], false, 4).Threads);
        Assert.Equal(1, new UpdateArgs<double>(["w"], [new double[2]], [new double[2]], false, 0).Threads);
        Assert.Equal(1, new UpdateArgs<double>(["w"], [new double[2]], [new double[2]], false, -3).Threads);
        var ok = new UpdateArgs<double>(["w", "v"], [new double[2], new double[1]], [new double[2], new double[1]], true, 1);
        Assert.Equal(2, ok.Count);
        Assert.Equal(1, ok.WritableParameters(1).Length);
    }

    [Fact]
    public void TreeBuffers_refuse_null_and_hand_their_arrays_over_once()
    {
        Assert.Equal("tree", Assert.Throws<ArgumentNullException>(() => new TreeBuffers<double>(null!)).ParamName);
        var b = new TreeBuffers<double>(P);
        b[0][1] = 7;
        var tree = b.Release();
        Assert.Equal(NdArray.Vector(1.0, 7.0, 3.0), tree[0]);
        var e = Assert.Throws<InvalidOperationException>(() => { _ = b[0]; });
        Assert.Contains("handed over", e.Message);
    }

    /// <summary>Adam's state must have the parameters' structure in its first and in its second moment.</summary>
    [Fact]
    public void Adam_refuses_moments_of_another_structure()
    {
        var other = new ParamTree<double>(["w"], [NdArray.Vector(0.0, 0.0)]);
        var z = P.ZerosLike();
        foreach (var s in new[] { new AdamState<double>(0, other, z, null), new AdamState<double>(0, z, other, null) })
            Assert.Equal("state", Assert.Throws<ArgumentException>(() => new ScaleByAdam().Update(P, s, P)).ParamName);
    }

    /// <summary>A schedule may give a learning rate of exactly 0 (a warm-up from 0): the step is taken and moves nothing.</summary>
    [Fact]
    public void A_learning_rate_of_0_is_a_step_that_moves_nothing()
    {
        var t = Optimizer.Sgd(new Schedule.WarmupCosine(0.1, 2, 10));
        var (u, s) = t.Update(P, t.Init(P), P);
        Assert.All(u.Leaves.SelectMany(l => l.ToArray()), v => Assert.Equal(0.0, v));
        var (u2, _) = t.Update(P, s, P);
        Assert.Equal(-0.05 * 2.0, u2[0][1], 15);
    }

    /// <summary>Weight decay 0 changes no bit of the updates, even −0 beside a positive parameter or beside an infinite one
    /// (p·0 + u would give +0 and NaN).</summary>
    [Fact]
    public void Decay_0_changes_no_bit()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0, double.PositiveInfinity, 2.0)]);
        var g = new ParamTree<double>(["w"], [NdArray.Vector(-0.0, 3.0, -0.0)]);
        var (u, _) = new AddDecayedWeights(0).Update(g, EmptyState.Instance, p);
        Assert.Equal(g[0].ToArray().Select(BitConverter.DoubleToInt64Bits), u[0].ToArray().Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>The warm-up rises linearly from Start (not from 0) to the peak.</summary>
    [Fact]
    public void Warmup_rises_linearly_from_its_start()
    {
        var s = new Schedule.WarmupCosine(1.0, 10, 20, Start: 0.1);
        Assert.Equal(0.1, s.At(0));
        Assert.Equal(0.1 + (1.0 - 0.1) * 5 / 10, s.At(5));
        Assert.Equal(1.0, s.At(10));
    }
}
