using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>Mean squared error: its gradient, its sign, its zero, its exact gradient formula and the lesson's example.</summary>
public sealed class MseTests
{
    private static Gen<LossCase> Cases(int maxWidth = 8, int maxRows = 16) =>
        Generators.LossCase(_ => Gen.Constant<LossSpec>(new MseSpec()), 1, maxWidth, maxRows);

    [Law(60)]
    public Property Gradient_matches_central_differences() =>
        Prop.ForAll(Cases().ToArbitrary(), c => GradCheck.OfLoss(c.Spec, c.Output, c.Target));

    [Law(100)]
    public Property Mse_is_non_negative_and_0_exactly_when_the_prediction_is_the_target() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            double v = c.Spec.Value(c.Output, c.Target);
            var same = c.Spec.ValueAndGrad(c.Output, c.Output);
            bool equal = c.Output.Equals(c.Target);
            return (v >= 0).Label($"MSE {v:R} < 0")
                .And((v == 0 == equal).Label($"MSE {v:R} while prediction = target is {equal}"))
                .And((same.Value == 0 && same.Gradient.ToArray().All(g => g == 0)).Label($"MSE of the output against itself is {same.Value:R}"));
        });

    [Law(100)]
    public Property Changing_one_element_makes_it_positive() =>
        Prop.ForAll(Cases().SelectMany(c => Gen.Choose(0, c.Output.Length - 1).Select(i => (c, i))).ToArbitrary(), t =>
        {
            var (c, i) = t;
            var changed = c.Output.ToArray();
            changed[i] += 1e-3;
            double v = c.Spec.Value(NdArray.From<double>(changed, [.. c.Output.Shape]), c.Output);
            return (v > 0).Label($"MSE {v:R} after changing element {i}");
        });

    /// <summary>dL/dŷ = 2(ŷ − y)/n: bit for bit when n is a power of two (2/n is exact), otherwise within one ulp
    /// (the kernel multiplies by the rounded 2/n instead of dividing).</summary>
    [Law(100)]
    public Property Gradient_is_exactly_2_times_the_difference_over_n() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var g = c.Spec.ValueAndGrad(c.Output, c.Target).Gradient;
            int n = c.Output.Length;
            bool powerOfTwo = (n & (n - 1)) == 0;
            for (int i = 0; i < n; i++)
            {
                double expected = 2 * (c.Output[i] - c.Target[i]) / n;
                bool ok = powerOfTwo ? g[i] == expected : Math.Abs(g[i] - expected) <= Math.Abs(double.BitIncrement(Math.Abs(expected)) - Math.Abs(expected));
                if (!ok) return false.Label($"element {i} of {n}: gradient {g[i]:R}, 2(ŷ − y)/n = {expected:R}");
            }
            return g.Shape.SequenceEqual(c.Output.Shape).Label($"gradient shape {g.ShapeText}");
        });

    [Law(100)]
    public Property Value_is_the_mean_of_squared_differences() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            double sum = 0;
            for (int i = 0; i < c.Output.Length; i++) sum += (c.Output[i] - c.Target[i]) * (c.Output[i] - c.Target[i]);
            double expected = sum / c.Output.Length, v = Mse.Value(c.Output, c.Target);
            return (Math.Abs(v - expected) <= 1e-15 * expected).Label($"MSE {v:R}, mean of squares {expected:R}");
        });

    [Fact]
    public void House_prices_a_guess_of_250_costs_more_than_290_when_the_price_is_300()
    {
        var price = NdArray.Vector(300.0);
        double far = Mse.Value(NdArray.Vector(250.0), price), near = Mse.Value(NdArray.Vector(290.0), price);
        Assert.Equal(2500.0, far);
        Assert.Equal(100.0, near);
        Assert.True(far > near);
        Assert.Equal(-100.0, Mse.ValueAndGrad(NdArray.Vector(250.0), price).Gradient[0]);
    }

    /// <summary>The static helper's gradient is dL/dŷ, so it has ŷ's shape, whatever shape ŷ comes in (a vector here).</summary>
    [Fact]
    public void The_helpers_gradient_has_the_predictions_shape()
    {
        var pred = NdArray.Vector(1.0, 2.0, 4.0);
        var (value, grad) = Mse.ValueAndGrad(pred, NdArray.Vector(1.0, 1.0, 1.0));
        Assert.Equal(10.0 / 3, value, 15);
        Assert.Equal([0.0, 2.0 / 3, 2.0], grad.ToArray());
        Assert.Equal([3], grad.Shape.ToArray());
    }

    [Fact]
    public void Shape_mismatch_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new MseSpec().Value(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(3, 2)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_target_is_named_with_its_row(double bad)
    {
        var target = NdArray.From<double>([0, 0, 0, 0, bad, 0], 3, 2);
        var e = Assert.Throws<ArgumentException>(() => new MseSpec().ValueAndGrad(NdArray.Zeros<double>(3, 2), target));
        Assert.Contains("element 4 (row 2)", e.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    /// <summary>The shape-free helper: any shape (a vector, a matrix, a 3-D array) gives the mean over all elements and a
    /// gradient of the prediction's shape; it refuses null, different shapes and an empty input, naming them.</summary>
    [Fact]
    public void The_helper_takes_any_shape_and_refuses_what_it_cannot_compare()
    {
        var p3 = NdArray.From<double>([1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2);
        var t3 = NdArray.From<double>([0, 2, 3, 4, 5, 6, 7, 10], 2, 2, 2);
        var (v, g) = Mse.ValueAndGrad(p3, t3);
        Assert.Equal((1.0 + 4.0) / 8, v);
        Assert.Equal([2, 2, 2], g.Shape.ToArray());
        Assert.Equal([2.0 / 8, 0, 0, 0, 0, 0, 0, -4.0 / 8], g.ToArray());
        var (vm, gm) = Mse.ValueAndGrad(NdArray.From<double>([1, 2, 3, 4, 5, 6, 7, 8], 2, 4), NdArray.From<double>([0, 2, 3, 4, 5, 6, 7, 10], 2, 4));
        Assert.Equal(v, vm);
        Assert.Equal([2, 4], gm.Shape.ToArray());

        Assert.Equal("prediction", Assert.Throws<ArgumentNullException>(() => Mse.ValueAndGrad(null!, t3)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentNullException>(() => Mse.ValueAndGrad(p3, null!)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => Mse.ValueAndGrad(NdArray.Vector(1.0, 2.0, 3.0), NdArray.Vector(1.0, 2.0)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("prediction [3] and target [2] must have the same shape", e.Message);
        var empty = Assert.Throws<ArgumentException>(() => Mse.ValueAndGrad(NdArray.Vector<double>(), NdArray.Vector<double>()));
        Assert.Contains("empty", empty.Message);
    }
}
