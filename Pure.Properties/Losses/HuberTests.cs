using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>Huber loss: quadratic inside δ, linear outside, gradient with a random δ, and its limits.</summary>
public sealed class HuberTests
{
    /// <summary>Huber with δ ∈ [0.2, 3]; the generator drops cases with some |ŷ − y| within 1e-3 of δ.</summary>
    private static Gen<LossCase> Cases() =>
        Generators.LossCase(_ => Generators.Between(0.2, 3).Select(d => (LossSpec)new HuberSpec(d)));

    private static double Single(double delta, double d) => new HuberSpec(delta).Value(NdArray.From<double>([d], 1, 1), NdArray.From<double>([0.0], 1, 1));

    [Law(80)]
    public Property Gradient_with_a_random_delta_matches_central_differences() =>
        Prop.ForAll(Cases().ToArbitrary(), c => GradCheck.OfLoss(c.Spec, c.Output, c.Target));

    [Law(100)]
    public Property Value_is_half_d_squared_inside_and_delta_times_abs_d_minus_half_delta_outside() =>
        Prop.ForAll(Gen.Zip(Generators.Between(0.1, 5), Generators.Moderate(10)).ToArbitrary(), t =>
        {
            var (delta, d) = t;
            double expected = Math.Abs(d) <= delta ? 0.5 * d * d : delta * (Math.Abs(d) - 0.5 * delta);
            double v = Single(delta, d);
            return (Math.Abs(v - expected) <= 1e-15 * expected).Label($"δ {delta:R}, d {d:R}: {v:R}, expected {expected:R}");
        });

    /// <summary>When every |ŷ − y| ≤ δ Huber is exactly half the mean squared error.</summary>
    [Law(100)]
    public Property With_a_large_delta_it_is_half_the_mse() =>
        Prop.ForAll(Generators.LossCase(_ => Gen.Constant<LossSpec>(new MseSpec())).ToArbitrary(), c =>
        {
            double h = new HuberSpec(100).Value(c.Output, c.Target), mse = new MseSpec().Value(c.Output, c.Target);
            return (Math.Abs(h - mse / 2) <= 1e-15 * mse).Label($"Huber {h:R}, MSE/2 {mse / 2:R}");
        });

    /// <summary>The gradient (times n) is d inside and δ·sign(d) outside: never larger than δ, which is Huber's point.</summary>
    [Law(100)]
    public Property Gradient_is_the_difference_clipped_to_delta() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            double delta = ((HuberSpec)c.Spec).Delta;
            var g = c.Spec.ValueAndGrad(c.Output, c.Target).Gradient;
            int n = c.Output.Length;
            for (int i = 0; i < n; i++)
            {
                double d = c.Output[i] - c.Target[i], expected = Math.Clamp(d, -delta, delta) / n;
                if (!(Math.Abs(g[i] - expected) <= 1e-15 * Math.Abs(expected))) return false.Label($"element {i}: gradient {g[i]:R}, clip(d, ±δ)/n = {expected:R}");
            }
            return true.ToProperty();
        });

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.3)]
    [InlineData(2.5)]
    public void Value_and_slope_are_continuous_at_delta(double delta)
    {
        foreach (var sign in new[] { -1.0, 1.0 })
        {
            double at = Single(delta, sign * delta), inside = Single(delta, sign * delta * (1 - 1e-9)), outside = Single(delta, sign * delta * (1 + 1e-9));
            Assert.Equal(0.5 * delta * delta, at, 15);
            Assert.True(Math.Abs(outside - inside) <= 3e-9 * delta * delta, $"jump {outside - inside:R} at δ = {delta}");
        }
    }

    [Fact]
    public void Default_delta_is_PyTorchs_1()
    {
        Assert.Equal(1.0, new HuberSpec().Delta);
        Assert.Equal(0.5 * 0.25, Single(1, 0.5));
        Assert.Equal(1.0 * (3 - 0.5), Single(1, -3));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Delta_must_be_positive_and_finite(double delta)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new HuberSpec(delta));
        Assert.Equal("Delta", e.ParamName);
        Assert.Contains("positive finite", e.Message);
    }
}
