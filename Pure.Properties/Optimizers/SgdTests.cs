using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;
using static NeuralPure.Optimizers.GradientTransform;

namespace NeuralPure.Properties.Optimizers;

/// <summary>PyTorch's SGD as one alias: momentum, dampening, Nesterov and weight decay, its laws and its refusals.</summary>
public sealed class SgdTests
{
    [Law(40)]
    public Property Sgd_with_momentum_is_the_momentum_and_nesterov_aliases_bit_for_bit() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), Hyper.ToArbitrary(), (t, h) =>
            (OptimizerRun.FirstDifference<double>(Optimizer.Sgd(h.Lr, h.Wd, h.Mu), Optimizer.Momentum(h.Lr, h.Mu, h.Wd), t) ?? "same").Equals("same")
            && (OptimizerRun.FirstDifference<float>(Optimizer.Sgd(h.Lr, h.Wd, h.Mu, nesterov: true), Optimizer.Nesterov(h.Lr, h.Mu, h.Wd), t) ?? "same").Equals("same"));

    private static readonly Gen<(double Lr, double Mu, double Wd)> Hyper =
        from lr in OptimizerGens.LearningRate
        from mu in OptimizerGens.Rate(0.98).Select(m => m + 0.01)
        from wd in OptimizerGens.WeightDecay
        select (lr, mu, wd);

    /// <summary>The dampened buffer follows PyTorch's recurrence exactly: v₁ = g₁ (undampened), vₜ = μ·vₜ₋₁ + (1 − τ)·gₜ, θ ← θ − η·v.</summary>
    [Law(40)]
    public Property Dampened_momentum_starts_undampened_then_dampens() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), OptimizerGens.Rate(0.99).ToArbitrary(), OptimizerGens.Rate(1).ToArbitrary(), (t, mu, tau) =>
        {
            var m = new TraceMomentum(mu, Dampening: tau);
            var p = t.Params;
            var s = m.Init(p);
            double[]? v = null;
            foreach (var g in t.Grads)
            {
                var (u, next) = m.Update(g, s, p);
                s = next;
                var gf = g.Flatten();
                v = v is null ? gf : [.. v.Select((vi, i) => vi * mu + gf[i] * (1 - tau))];
                if (!u.Flatten().SequenceEqual(v)) return false;
            }
            return ((DampedMomentumState<double>)s).Count == t.Grads.Length;
        });

    [Fact]
    public void Zero_dampening_keeps_the_plain_momentum_state_so_older_runs_keep_their_bits_and_files()
    {
        var p = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0)]);
        Assert.IsType<MomentumState<double>>(new TraceMomentum(0.9).Init(p));
        Assert.IsType<DampedMomentumState<double>>(new TraceMomentum(0.9, Dampening: 0.5).Init(p));
        // plain SGD has no momentum buffer at all
        Assert.Equal(Chain(new ScaleByLearningRate(0.1)), Optimizer.Sgd(0.1));
        Assert.Equal(Chain(new AddDecayedWeights(0.01), new TraceMomentum(0.9, false, 0.5), new ScaleByLearningRate(0.1)), Optimizer.Sgd(0.1, 0.01, 0.9, 0.5));
    }

    [Fact]
    public void Nesterov_needs_momentum_and_no_dampening_and_dampening_needs_momentum_as_pytorch()
    {
        Assert.Contains("requires a momentum", Assert.Throws<ArgumentException>(() => Optimizer.Sgd(0.1, nesterov: true)).Message);
        Assert.Contains("zero dampening", Assert.Throws<ArgumentException>(() => Optimizer.Sgd(0.1, momentum: 0.9, dampening: 0.1, nesterov: true)).Message);
        Assert.Equal("dampening", Assert.Throws<ArgumentException>(() => Optimizer.Sgd(0.1, dampening: 0.5)).ParamName);
        Assert.Equal("Dampening", Assert.Throws<ArgumentOutOfRangeException>(() => new TraceMomentum(0.9, Dampening: 1.5)).ParamName);
        Assert.Equal("Dampening", Assert.Throws<ArgumentOutOfRangeException>(() => new TraceMomentum(0.9, Dampening: double.NaN)).ParamName);
        _ = new TraceMomentum(0.9, Dampening: 1); // the closed end: the buffer keeps only its first gradient
    }

    [Theory]
    [InlineData("adam", "momentum")]
    [InlineData("adamw", "momentum")]
    [InlineData("rmsprop", "dampening")]
    [InlineData("nesterov", "dampening")]
    [InlineData("adam", "nesterov")]
    public void Parse_refuses_an_option_the_optimizer_does_not_take(string name, string option)
    {
        var e = Assert.Throws<ArgumentException>(() => option switch
        {
            "momentum" => Optimizer.Parse(name, 0.1, momentum: 0.9),
            "dampening" => Optimizer.Parse(name, 0.1, dampening: 0.5),
            _ => Optimizer.Parse(name, 0.1, nesterov: true),
        });
        Assert.Equal(option, e.ParamName);
        Assert.Contains($"'{name}' takes no {option}", e.Message);
    }

    [Fact]
    public void Parse_sgd_is_pytorchs_sgd()
    {
        Assert.Equal(Optimizer.Sgd(0.1, 1e-4, 0.9, 0.5), Optimizer.Parse("sgd", 0.1, 1e-4, 0.9, 0.5));
        Assert.Equal(Optimizer.Sgd(0.1, 0, 0.9, nesterov: true), Optimizer.Parse("sgd", 0.1, momentum: 0.9, nesterov: true));
        Assert.Equal(Optimizer.Momentum(0.1, 0.9, 0, 0.3), Optimizer.Parse("momentum", 0.1, dampening: 0.3));
        Assert.NotEqual(Optimizer.Parse("sgd", 0.1), Optimizer.Parse("sgd", 0.1, momentum: 0.9));
    }
}
