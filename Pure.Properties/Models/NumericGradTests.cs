using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Central differences on functions whose derivatives are known, and the gradient check built on them.</summary>
public sealed class NumericGradTests
{
    private static Gen<ParamTree<double>> Trees() =>
        from shapes in Gen.ArrayOf(Generators.Shape(4, 5), 3)
        from leaves in Gen.CollectToArray(shapes.Select(s => Generators.Matrix(s.Rows, s.Cols, 3)))
        select new ParamTree<double>(["a", "b", "c"], [.. leaves]);

    /// <summary>f(θ) = Σ cᵢ·θᵢ² + Σ sin θᵢ, with cᵢ = 1, 2, 3 per leaf: ∂f/∂θ = 2cᵢθ + cos θ.</summary>
    private static double F(ParamTree<double> t)
    {
        double s = 0;
        for (int l = 0; l < t.Count; l++) foreach (var v in t[l].Span) s += (l + 1) * v * v + Math.Sin(v);
        return s;
    }

    private static ParamTree<double> GradF(ParamTree<double> t) =>
        new(t.Names, [.. t.Leaves.Select((leaf, l) => NdArray.From<double>(leaf.ToArray().Select(v => 2 * (l + 1) * v + Math.Cos(v)).ToArray(), [.. leaf.Shape]))]);

    [Law(50)]
    public Property OfParameters_recovers_a_known_gradient() =>
        Prop.ForAll(Trees().ToArbitrary(), t => GradCheck.Compare(GradF(t), NumericGrad.OfParameters(F, t)));

    [Law(50)]
    public Property OfInput_recovers_a_known_gradient() =>
        Prop.ForAll(Generators.Matrix(3, 4, 3).ToArbitrary(), x =>
            GradCheck.Compare("x", NdArray.From<double>(x.ToArray().Select(v => Math.Cos(v) - 3 * v * v).ToArray(), 3, 4),
                NumericGrad.OfInput(a => a.ToArray().Sum(v => Math.Sin(v) - v * v * v), x)));

    [Law(50)]
    public Property Directional_equals_the_dot_product_with_the_gradient() =>
        Prop.ForAll(Gen.Zip(Trees(), Generators.Seed).ToArbitrary(), t =>
            GradCheck.Directional(F, t.Item1, GradF(t.Item1), RandomKey.FromSeed(t.Item2)));

    [Law(50)]
    public Property Numeric_gradients_change_nothing() =>
        Prop.ForAll(Trees().ToArbitrary(), t =>
        {
            var copy = t.Unflatten(t.Flatten());
            NumericGrad.OfParameters(F, t);
            NumericGrad.Directional(F, t, GradF(t));
            return t.Equals(copy).Label("the parameters changed");
        });

    /// <summary>Central, not forward, differences: for x³ at 1 the quotient is 3 + h² (forward differences give 3 + 3h).</summary>
    [Fact]
    public void The_difference_is_central_with_error_h_squared()
    {
        var g = NumericGrad.OfInput(a => a[0] * a[0] * a[0], NdArray.Vector(1.0), h: 1e-3);
        Assert.True(Math.Abs(g[0] - (3 + 1e-6)) <= 1e-10, $"got {g[0]:R}");
    }

    [Fact]
    public void Dot_sums_over_every_leaf()
    {
        var a = new ParamTree<double>(["w", "b"], [NdArray.From<double>([1, 2, 3, 4], 2, 2), NdArray.Vector(5.0)]);
        var b = new ParamTree<double>(["w", "b"], [NdArray.From<double>([1, 1, 2, 0.5], 2, 2), NdArray.Vector(-2.0)]);
        Assert.Equal(1 + 2 + 6 + 2 - 10.0, NumericGrad.Dot(a, b));
    }

    [Fact]
    public void Trees_of_another_structure_are_rejected_naming_the_difference()
    {
        var a = new ParamTree<double>(["w", "b"], [NdArray.Zeros<double>(2, 2), NdArray.Zeros<double>(2)]);
        var shape = new ParamTree<double>(["w", "b"], [NdArray.Zeros<double>(2, 2), NdArray.Zeros<double>(3)]);
        var names = new ParamTree<double>(["w", "c"], [NdArray.Zeros<double>(2, 2), NdArray.Zeros<double>(2)]);
        var e1 = Assert.Throws<ArgumentException>(() => NumericGrad.Dot(a, shape));
        Assert.Contains("'b'", e1.Message);
        Assert.Contains("[2] vs [3]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => NumericGrad.Directional(F, a, names));
        Assert.Contains("'b' vs 'c'", e2.Message);
        Assert.Equal("direction", e2.ParamName);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-6)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void The_step_must_be_positive_and_finite(double h)
    {
        var t = new ParamTree<double>(["w"], [NdArray.Zeros<double>(2)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => NumericGrad.OfParameters(F, t, h));
        Assert.Throws<ArgumentOutOfRangeException>(() => NumericGrad.OfInput(a => a[0], NdArray.Zeros<double>(2), h));
        Assert.Throws<ArgumentOutOfRangeException>(() => NumericGrad.Directional(F, t, t, h));
    }

    /// <summary>The gradient check is sharp enough to matter: a gradient 0.1% off fails and names the leaf, index and both
    /// values; one 1e-9 off passes; NaN fails.</summary>
    [Fact]
    public void The_gradient_check_catches_a_gradient_that_is_slightly_wrong()
    {
        var t = new ParamTree<double>(["0.weight", "0.bias"], [NdArray.From<double>([0.5, -1.5, 2, 0.25], 2, 2), NdArray.Vector(1.0, -2.0)]);
        var numeric = NumericGrad.OfParameters(F, t);
        var exact = GradF(t);
        var leaves = exact.Leaves.SetItem(0, NdArray.From<double>(exact[0].ToArray().Select((v, i) => i == 3 ? v * 1.001 : v).ToArray(), 2, 2));
        var wrong = new ParamTree<double>(t.Names, leaves);
        var message = GradCheck.Mismatch(wrong, numeric);
        Assert.NotNull(message);
        Assert.Contains("0.weight[1, 1]", message);
        Assert.Contains(wrong[0][3].ToString("R", System.Globalization.CultureInfo.InvariantCulture), message);
        Assert.Contains("1 of 6 elements", message);
        Assert.Throws<Xunit.Sdk.XunitException>(() => GradCheck.Assert(wrong, numeric));

        Assert.Null(GradCheck.Mismatch(exact.Map(l => NdArray.From<double>(l.ToArray().Select(v => v + 1e-9).ToArray(), [.. l.Shape])), numeric));
        Assert.NotNull(GradCheck.Mismatch("x", NdArray.Vector(double.NaN), NdArray.Vector(0.0)));
        Assert.False(GradCheck.Close(1.0, 1.0002));
        Assert.True(GradCheck.Close(1.0, 1.00005));
    }

    [Fact]
    public void Null_arguments_and_a_bad_step_are_named()
    {
        var t = new ParamTree<double>(["0.weight"], [NdArray.Vector(1.0, 2.0)]);
        Assert.Equal("f", Assert.Throws<ArgumentNullException>(() => NumericGrad.OfParameters<double>(null!, t)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => NumericGrad.OfParameters<double>(F, null!)).ParamName);
        Assert.Equal("f", Assert.Throws<ArgumentNullException>(() => NumericGrad.OfInput<double>(null!, NdArray.Vector(1.0))).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => NumericGrad.OfInput<double>(a => a[0], null!)).ParamName);
        Assert.Equal("f", Assert.Throws<ArgumentNullException>(() => NumericGrad.Directional<double>(null!, t, t)).ParamName);
        foreach (double h in new[] { 0.0, -1e-6, double.NaN, double.PositiveInfinity })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => NumericGrad.OfInput<double>(a => a[0], NdArray.Vector(1.0), h));
            Assert.Equal("h", e.ParamName);
            Assert.Contains("the step h must be positive and finite", e.Message);
        }
    }
}
