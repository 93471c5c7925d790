using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;
using static NeuralPure.Optimizers.GradientTransform;

namespace NeuralPure.Properties.Optimizers;

/// <summary>The (Init, Update) contract and Chain's laws: identity, associativity, purity, and the state it carries.</summary>
public sealed class GradientTransformTests
{
    /// <summary>Any one building block with random hyperparameters.</summary>
    private static readonly Gen<GradientTransform> AnyTransform = Gen.OneOf(
        OptimizerGens.LearningRate.Select(lr => (GradientTransform)new ScaleByLearningRate(new Schedule.Exponential(lr, 0.9))),
        from mu in OptimizerGens.Rate(0.99) from n in Gen.Elements(false, true) select (GradientTransform)new TraceMomentum(mu, n),
        from b1 in OptimizerGens.Rate(0.99) from b2 in OptimizerGens.Rate(0.999) from a in Gen.Elements(false, true) select (GradientTransform)new ScaleByAdam(b1, b2, 1e-8, a),
        from al in OptimizerGens.Rate(0.99) from c in Gen.Elements(false, true) select (GradientTransform)new ScaleByRms(al, 1e-8, c),
        OptimizerGens.WeightDecay.Select(l => (GradientTransform)new AddDecayedWeights(l)),
        Gen.Choose(1, 100).Select(c => (GradientTransform)new ClipByGlobalNorm(c / 10.0)));

    [Law(40)]
    public Property Empty_chain_is_the_identity() =>
        Prop.ForAll(OptimizerGens.Trajectory(3).ToArbitrary(), t =>
        {
            var id = Chain();
            var s = id.Init(t.Params);
            var prop = s.Equals(new ChainState([])).Label("state");
            foreach (var g in t.Grads)
            {
                var (u, next) = id.Update(g, s, t.Params);
                prop = prop.And(u.Equals(g).Label("updates changed")).And(next.Equals(s).Label("state changed"));
                s = next;
            }
            return prop;
        });

    [Law(40)]
    public Property Chain_of_one_is_that_transform() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), AnyTransform.ToArbitrary(), (t, a) =>
            Same(Chain(a), a, t).Label(a.ToString()));

    [Law(40)]
    public Property Chain_is_associative() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), AnyTransform.ToArbitrary(), Gen.Zip(AnyTransform, AnyTransform).ToArbitrary(), (t, a, bc) =>
            {
                var (b, c) = bc;
                return Same(Chain(Chain(a, b), c), Chain(a, b, c), t).And(Same(Chain(a, Chain(b, c)), Chain(a, b, c), t)).Label($"{a}, {b}, {c}");
            });

    /// <summary>Updates after every step are bitwise equal, in double and float.</summary>
    private static Property Same(GradientTransform x, GradientTransform y, Trajectory t)
    {
        var prop = true.ToProperty();
        foreach (var (name, diff) in new[] { ("double", Updates<double>(x, y, t)), ("float", Updates<float>(x, y, t)) })
            prop = prop.And((diff is null).Label($"{name}: {diff}"));
        return prop;
    }

    private static string? Updates<T>(GradientTransform x, GradientTransform y, Trajectory t) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var p = t.Params.Cast<T>();
        var (sx, sy) = (x.Init(p), y.Init(p));
        for (int i = 0; i < t.Grads.Length; i++)
        {
            var g = t.Grads[i].Cast<T>();
            var (ux, nx) = x.Update(g, sx, p);
            var (uy, ny) = y.Update(g, sy, p);
            if (!ux.Equals(uy)) return $"step {i}: [{string.Join(", ", ux.Flatten())}] vs [{string.Join(", ", uy.Flatten())}]";
            (sx, sy) = (nx, ny);
            p = Optimizer.ApplyUpdates(p, ux);
        }
        return null;
    }

    /// <summary>Update is a function: the same arguments give the same updates and state, and the arguments (parameters,
    /// incoming updates, incoming state) are bitwise unchanged afterwards. Checked for chains of random blocks.</summary>
    [Law(40)]
    public Property Update_is_pure() =>
        Prop.ForAll(OptimizerGens.Trajectory(3).ToArbitrary(), Gen.ArrayOf(AnyTransform, 3).ToArbitrary(), (t, parts) =>
        {
            var opt = Chain(parts);
            var p = t.Params;
            var s = opt.Init(p);
            var prop = true.ToProperty();
            foreach (var g in t.Grads)
            {
                var pCopy = p.Flatten(); var gCopy = g.Flatten();
                var sCopy = Snapshot(s);
                var (u1, s1) = opt.Update(g, s, p);
                var (u2, s2) = opt.Update(g, s, p);
                prop = prop.And(u1.Equals(u2).Label("updates differ between two identical calls"))
                           .And(s1.Equals(s2).Label("states differ between two identical calls"))
                           .And(p.Flatten().SequenceEqual(pCopy).Label("parameters mutated"))
                           .And(g.Flatten().SequenceEqual(gCopy).Label("incoming updates mutated"))
                           .And(Snapshot(s).SequenceEqual(sCopy).Label("incoming state mutated"));
                p = Optimizer.ApplyUpdates(p, u1);
                s = s1;
            }
            return prop;
        });

    /// <summary>Every number held in a state (of any transform), flattened in a fixed order.</summary>
    private static double[] Snapshot(OptState s) => s switch
    {
        ChainState c => [.. c.States.SelectMany(Snapshot)],
        CountState c => [c.Count],
        MomentumState<double> m => m.Velocity.Flatten(),
        AdamState<double> a => [a.Count, .. a.Mu.Flatten(), .. a.Nu.Flatten(), .. a.NuMax?.Flatten() ?? Array.Empty<double>()],
        RmsState<double> r => [.. r.Nu.Flatten(), .. r.GradAvg?.Flatten() ?? Array.Empty<double>()],
        EmptyState => [],
        _ => throw new InvalidOperationException(s.GetType().Name),
    };

    [Fact]
    public void Chain_state_holds_one_state_per_transform_in_order()
    {
        var p = new ParamTree<float>(["w"], [NdArray.Vector(1f, 2f)]);
        var opt = Chain(new ClipByGlobalNorm(1), new ScaleByAdam(), new AddDecayedWeights(0.1), new ScaleByLearningRate(0.1));
        var s = Assert.IsType<ChainState>(opt.Init(p));
        Assert.Collection(s.States,
            x => Assert.IsType<EmptyState>(x),
            x => Assert.IsType<AdamState<float>>(x),
            x => Assert.IsType<EmptyState>(x),
            x => Assert.Equal(new CountState(0), x));
        var (_, next) = opt.Update(p, s, p);
        var n = Assert.IsType<ChainState>(next);
        Assert.Equal(1, Assert.IsType<AdamState<float>>(n.States[1]).Count);
        Assert.Equal(new CountState(1), n.States[3]);
        Assert.NotEqual<OptState>(s, next);
    }

    [Fact]
    public void A_chain_state_of_the_wrong_length_throws()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0)]);
        var two = Chain(new TraceMomentum(0.9), new ScaleByLearningRate(0.1));
        var one = Chain(new ScaleByLearningRate(0.1));
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => two.Update(p, one.Init(p), p)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => one.Update(p, two.Init(p), p)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => one.Update(p, new CountState(0), p)).ParamName);
    }

    [Fact]
    public void Null_arguments_and_null_parts_are_rejected()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0)]);
        var opt = Optimizer.Sgd();
        var s = opt.Init(p);
        Assert.Throws<ArgumentNullException>(() => opt.Update(null!, s, p));
        Assert.Throws<ArgumentNullException>(() => opt.Update(p, null!, p));
        Assert.Throws<ArgumentNullException>(() => opt.Update(p, s, null!));
        Assert.Throws<ArgumentException>(() => Chain(new ScaleByLearningRate(0.1), null!));
        Assert.Throws<ArgumentException>(() => new ChainTransform(default));
    }

    [Fact]
    public void Transforms_and_chains_are_values()
    {
        Assert.Equal(new ScaleByAdam(0.9, 0.99), new ScaleByAdam(0.9, 0.99));
        Assert.NotEqual(new ScaleByAdam(0.9, 0.99), new ScaleByAdam(0.9, 0.99, AmsGrad: true));
        Assert.Equal(Chain(new TraceMomentum(0.5), new ScaleByLearningRate(0.1)), Chain(new TraceMomentum(0.5), new ScaleByLearningRate(0.1)));
        Assert.Equal(Chain(new TraceMomentum(0.5), new ScaleByLearningRate(0.1)).GetHashCode(), Chain(new TraceMomentum(0.5), new ScaleByLearningRate(0.1)).GetHashCode());
        Assert.NotEqual(Chain(new TraceMomentum(0.5), new ScaleByLearningRate(0.1)), Chain(new ScaleByLearningRate(0.1), new TraceMomentum(0.5)));
        Assert.NotEqual(Chain(new TraceMomentum(0.5)), Chain(new TraceMomentum(0.5, Nesterov: true)));
    }

    [Law(60)]
    public Property ApplyUpdates_adds_leaf_by_leaf_bitwise() =>
        Prop.ForAll(OptimizerGens.Trajectory(1).ToArbitrary(), t =>
        {
            var sum = Optimizer.ApplyUpdates(t.Params, t.Grads[0]);
            var expected = t.Params.Flatten().Zip(t.Grads[0].Flatten(), (a, b) => a + b).ToArray();
            var f = Optimizer.ApplyUpdates(t.Params.Cast<float>(), t.Grads[0].Cast<float>());
            var ef = t.Params.Cast<float>().Flatten().Zip(t.Grads[0].Cast<float>().Flatten(), (a, b) => a + b).ToArray();
            return (sum.Flatten().SequenceEqual(expected) && sum.SameStructure(t.Params) && f.Flatten().SequenceEqual(ef)).ToProperty();
        });

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Fact]
    public void A_chain_checks_its_parts_and_its_state_and_prints_as_a_chain()
    {
        var e = Assert.Throws<ArgumentException>(() => GradientTransform.Chain(new ClipByGlobalNorm(1), null!));
        Assert.Equal("Transforms", e.ParamName); Assert.Contains("must not be null", e.Message);
        var chain = GradientTransform.Chain(new ClipByGlobalNorm(1), new ScaleByLearningRate(0.1));
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0)]);
        var wrong = new ChainState([EmptyState.Instance]);
        var s = Assert.Throws<ArgumentException>(() => chain.Update(p, wrong, p));
        Assert.Equal("state", s.ParamName); Assert.Contains("chain of 2 transforms got a state of 1", s.Message);
        Assert.Equal("Chain(ClipByGlobalNorm { MaxNorm = 1 }, ScaleByLearningRate { LearningRate = Constant { Value = 0.1 } })", chain.ToString());
        var other = Assert.Throws<ArgumentException>(() => chain.Update(p, new CountState(0), p));
        Assert.Contains("expected a ChainState but got CountState; pass the state this transform's Init returned", other.Message);
    }
}
