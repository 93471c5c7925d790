using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>Binary cross-entropy from logits: gradient, the textbook formula, stability for huge logits, and the lesson's helper.</summary>
public sealed class BinaryCrossEntropyTests
{
    private static readonly BinaryCrossEntropySpec Bce = new();

    private static Gen<LossCase> Cases(double bound = 4.0) =>
        Generators.LossCase(_ => Gen.Constant<LossSpec>(Bce), 1, 8, 16, bound);

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Law(60)]
    public Property Gradient_matches_central_differences_for_hard_and_soft_targets() =>
        Prop.ForAll(Cases().ToArbitrary(), c => GradCheck.OfLoss(c.Spec, c.Output, c.Target));

    /// <summary>For |z| ≤ 10 the naive −[y·log σ(z) + (1 − y)·log(1 − σ(z))] loses nothing worth measuring, so the stable form must agree with it.</summary>
    [Law(100)]
    public Property Value_matches_the_textbook_formula_for_moderate_logits() =>
        Prop.ForAll(Cases(10).ToArbitrary(), c =>
        {
            double sum = 0;
            for (int i = 0; i < c.Output.Length; i++)
            {
                double s = Sigmoid(c.Output[i]), y = c.Target[i];
                sum += -(y * Math.Log(s) + (1 - y) * Math.Log(1 - s));
            }
            double expected = sum / c.Output.Length, v = c.Spec.Value(c.Output, c.Target);
            return (Math.Abs(v - expected) <= 1e-11 * Math.Max(1, expected)).Label($"BCE {v:R}, formula {expected:R}");
        });

    [Law(100)]
    public Property Gradient_is_sigmoid_minus_target_over_n_and_the_value_is_non_negative() =>
        Prop.ForAll(Cases(10).ToArbitrary(), c =>
        {
            var (v, g) = c.Spec.ValueAndGrad(c.Output, c.Target);
            int n = c.Output.Length;
            for (int i = 0; i < n; i++)
            {
                double expected = (Sigmoid(c.Output[i]) - c.Target[i]) / n;
                if (!(Math.Abs(g[i] - expected) <= 1e-15)) return false.Label($"element {i}: gradient {g[i]:R}, (σ(z) − y)/n = {expected:R}");
            }
            return (v >= 0).Label($"BCE {v:R} < 0");
        });

    /// <summary>The loss of a soft target y is smallest where σ(z) = y, i.e. at z = log(y/(1 − y)), where the gradient vanishes.</summary>
    [Law(100)]
    public Property The_minimum_is_at_the_targets_logit() =>
        Prop.ForAll(Generators.Between(0.02, 0.98).ToArbitrary(), y =>
        {
            double z = Math.Log(y / (1 - y));
            var t = NdArray.From<double>([y], 1, 1);
            double at(double zz) => Bce.Value(NdArray.From<double>([zz], 1, 1), t);
            var g = Bce.ValueAndGrad(NdArray.From<double>([z], 1, 1), t).Gradient[0];
            return (Math.Abs(g) <= 1e-15).Label($"gradient {g:R} at the minimum")
                .And((at(z) < at(z + 0.1) && at(z) < at(z - 0.1)).Label($"not a minimum: {at(z - 0.1):R}, {at(z):R}, {at(z + 0.1):R}"));
        });

    [Theory]
    [InlineData(1e4, 0.0, 1e4)]
    [InlineData(-1e4, 1.0, 1e4)]
    [InlineData(1e4, 1.0, 0.0)]
    [InlineData(-1e4, 0.0, 0.0)]
    [InlineData(1e4, 0.5, 5e3)]
    public void Huge_logits_give_finite_exact_losses_and_gradients(double z, double y, double expected)
    {
        var (v, g) = Bce.ValueAndGrad(NdArray.From<double>([z], 1, 1), NdArray.From<double>([y], 1, 1));
        Assert.Equal(expected, v, 9);
        Assert.True(double.IsFinite(g[0]) && Math.Abs(g[0]) <= 1, $"gradient {g[0]}");
        var (vf, gf) = Bce.ValueAndGrad(NdArray.From<float>([(float)z], 1, 1), NdArray.From<float>([(float)y], 1, 1));
        Assert.True(float.IsFinite(vf) && float.IsFinite(gf[0]), $"float: loss {vf}, gradient {gf[0]}");
        Assert.Equal((float)expected, vf, 2);
    }

    [Fact]
    public void OfProbability_is_minus_log_p_and_orders_the_lesson_table()
    {
        foreach (var p in new[] { 0.01, 0.1, 0.4, 0.5, 0.95, 0.999 })
        {
            Assert.Equal(-Math.Log(p), BinaryCrossEntropy.OfProbability(p), 12);
            Assert.Equal(-Math.Log(1 - p), BinaryCrossEntropy.OfProbability(p, label: false), 12);
        }
        Assert.True(BinaryCrossEntropy.OfProbability(0.95) < BinaryCrossEntropy.OfProbability(0.5));
        Assert.True(BinaryCrossEntropy.OfProbability(0.5) < BinaryCrossEntropy.OfProbability(0.1));
        Assert.True(BinaryCrossEntropy.OfProbability(0.01) > BinaryCrossEntropy.OfProbability(0.4));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void OfProbability_needs_p_strictly_between_0_and_1(double p)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BinaryCrossEntropy.OfProbability(p));
        Assert.Equal("p", e.ParamName);
        Assert.Contains("strictly between 0 and 1", e.Message);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.5)]
    public void Targets_outside_0_1_are_named(double bad)
    {
        var e = Assert.Throws<ArgumentException>(() => Bce.Value(NdArray.Zeros<double>(2, 2), NdArray.From<double>([0, 1, bad, 0], 2, 2)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("element 2", e.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void A_NaN_target_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Bce.Value(NdArray.Zeros<double>(2, 1), NdArray.Vector(0.0, double.NaN)));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("row 1", e.Message);
    }
}
