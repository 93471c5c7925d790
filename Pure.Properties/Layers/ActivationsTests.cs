using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Activations: each gradient against central differences, known values, and the documented edge cases.</summary>
public sealed class ActivationsTests
{
    /// <summary>An activation, an input batch and an upstream gradient dL/dy.</summary>
    public sealed record ActivationCase(ActivationSpec Spec, NdArray<double> X, NdArray<double> Dy)
    {
        public override string ToString() => $"{Spec}\n  x = {Generators.Show(X)}\n  dy = {Generators.Show(Dy)}";
    }

    /// <summary>Inputs in [−4, 4]; for ReLU and LeakyReLU every element is at least 1e-3 from the kink at 0 (h = 1e-6 cannot cross it).</summary>
    private static Gen<ActivationCase> Cases(Gen<ActivationSpec> specs) =>
        from spec in specs
        from shape in Generators.Shape(8, 8)
        from x in spec is ReluSpec or LeakyReluSpec
            ? Generators.MatrixAwayFromKink(shape.Rows, shape.Cols, 4.0, 1e-3)
            : Generators.Matrix(shape.Rows, shape.Cols, 4.0)
        from dy in Generators.Matrix(shape.Rows, shape.Cols, 2.0)
        select new ActivationCase(spec, x, dy);

    /// <summary>dL/dx from Gradient against the central differences of x ↦ ⟨dy, f(x)⟩.</summary>
    private static Property GradientLaw(Gen<ActivationSpec> specs) =>
        Prop.ForAll(Cases(specs).ToArbitrary(), c =>
            GradCheck.OfInput(x => GradCheck.Pair(c.Dy, c.Spec.Apply(x)), c.X, c.Spec.Gradient(c.X, c.Spec.Apply(c.X), c.Dy)));

    [Law(60)] public Property Identity_gradient_matches_central_differences() => GradientLaw(Gen.Constant<ActivationSpec>(new IdentitySpec()));
    [Law(60)] public Property Relu_gradient_matches_central_differences_away_from_0() => GradientLaw(Gen.Constant<ActivationSpec>(new ReluSpec()));
    [Law(60)] public Property LeakyRelu_gradient_matches_central_differences_away_from_0() => GradientLaw(Generators.Between(0, 0.9).Select(s => (ActivationSpec)new LeakyReluSpec(s)));
    [Law(60)] public Property Sigmoid_gradient_matches_central_differences() => GradientLaw(Gen.Constant<ActivationSpec>(new SigmoidSpec()));
    [Law(60)] public Property Tanh_gradient_matches_central_differences() => GradientLaw(Gen.Constant<ActivationSpec>(new TanhSpec()));
    [Law(60)] public Property Gelu_gradient_matches_central_differences() => GradientLaw(Gen.Constant<ActivationSpec>(new GeluSpec()));

    [Theory]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-1.0, -0.15865525393145707)]
    [InlineData(0.5, 0.34573123063700656)]
    [InlineData(0.0, 0.0)]
    public void Gelu_matches_known_values(double x, double expected)
    {
        double y = new GeluSpec().Apply(NdArray.From<double>([x], 1, 1))[0];
        Assert.True(Math.Abs(y - expected) <= 1e-15 * Math.Abs(expected), $"gelu({x}) = {y:R}, expected {expected:R}");
    }

    [Theory]
    [InlineData(0.0, 0.5)]                     // Φ(0) + 0·φ(0)
    [InlineData(1.0, 1.0833154705876864)]      // Φ(1) + φ(1) = 0.8413447460685429 + 0.24197072451914337
    [InlineData(-1.0, -0.08331547058768629)]   // Φ(−1) − φ(−1)
    public void Gelu_derivative_matches_known_values_and_central_differences(double x, double expected)
    {
        var gelu = new GeluSpec();
        var xs = NdArray.From<double>([x], 1, 1);
        double g = gelu.Gradient(xs, gelu.Apply(xs), NdArray.Full(1.0, 1, 1))[0];
        Assert.True(Math.Abs(g - expected) <= 1e-14, $"gelu'({x}) = {g:R}, expected {expected:R}");
        GradCheck.Assert("x", NdArray.From<double>([g], 1, 1), NumericGrad.OfInput(v => gelu.Apply(v)[0], xs, GradCheck.Step));
    }

    [Fact]
    public void Relu_gradient_at_exactly_0_is_0_and_LeakyRelu_takes_the_slope()
    {
        var x = NdArray.From<double>([0.0, -0.0], 1, 2);
        var dy = NdArray.From<double>([3.0, 5.0], 1, 2);
        var relu = new ReluSpec();
        Assert.Equal([0.0, 0.0], relu.Gradient(x, relu.Apply(x), dy).ToArray());
        var leaky = new LeakyReluSpec(0.25);
        Assert.Equal([0.75, 1.25], leaky.Gradient(x, leaky.Apply(x), dy).ToArray());
    }

    [Fact]
    public void LeakyRelu_default_slope_is_PyTorchs_0_01()
    {
        Assert.Equal(0.01, new LeakyReluSpec().Slope);
        Assert.Equal([-0.02, 3.0], new LeakyReluSpec().Apply(NdArray.From<double>([-2.0, 3.0], 1, 2)).ToArray());
    }

    [Law(100)]
    public Property Relu_of_x_minus_relu_of_minus_x_is_x() =>
        Prop.ForAll(Generators.Matrix(3, 4, 10).ToArbitrary(), x =>
        {
            var relu = new ReluSpec();
            var negX = NdArray.From<double>(x.ToArray().Select(v => -v).ToArray(), 3, 4);
            var a = relu.Apply(x).Span; var b = relu.Apply(negX).Span;
            for (int i = 0; i < a.Length; i++) if (a[i] - b[i] != x[i]) return false.Label($"element {i}: {a[i]} − {b[i]} ≠ {x[i]}");
            return true.ToProperty();
        });

    [Law(100)]
    public Property Sigmoid_is_symmetric_and_tanh_is_odd() =>
        Prop.ForAll(Generators.Moderate(30).ToArbitrary(), v =>
        {
            var y = new SigmoidSpec().Apply(NdArray.From<double>([v, -v], 1, 2));
            double s = y[0] + y[1];
            var t = new TanhSpec().Apply(NdArray.From<double>([v, -v], 1, 2));
            return (Math.Abs(s - 1) <= 4.5e-16).Label($"σ({v}) + σ({-v}) = {s:R}")
                .And((t[0] == -t[1]).Label($"tanh({v}) = {t[0]:R} but tanh({-v}) = {t[1]:R}"));
        });

    [Theory]
    [InlineData(1000.0)]
    [InlineData(1e300)]
    [InlineData(double.MaxValue)]
    public void Sigmoid_and_tanh_saturate_without_overflow(double big)
    {
        var x = NdArray.From<double>([-big, big], 1, 2);
        Assert.Equal([0.0, 1.0], new SigmoidSpec().Apply(x).ToArray());
        Assert.Equal([-1.0, 1.0], new TanhSpec().Apply(x).ToArray());
        var dy = NdArray.Full(1.0, 1, 2);
        foreach (ActivationSpec a in new ActivationSpec[] { new SigmoidSpec(), new TanhSpec() })
            Assert.Equal([0.0, 0.0], a.Gradient(x, a.Apply(x), dy).ToArray());
        var xf = NdArray.From<float>([-1000f, 1000f], 1, 2);
        Assert.Equal([0f, 1f], new SigmoidSpec().Apply(xf).ToArray());
    }

    [Law(100)]
    public Property Apply_keeps_the_shape_and_the_input() =>
        Prop.ForAll(Cases(Generators.Activation).ToArbitrary(), c =>
        {
            var copy = c.X.ToArray();
            var y = c.Spec.Apply(c.X);
            var g = c.Spec.Gradient(c.X, y, c.Dy);
            return (y.Shape.SequenceEqual(c.X.Shape) && g.Shape.SequenceEqual(c.X.Shape)).Label($"shapes {y.ShapeText}, {g.ShapeText} for x {c.X.ShapeText}")
                .And(c.X.Equals(NdArray.From<double>(copy, [.. c.X.Shape])).Label("x changed"));
        });

    /// <summary>Float from the same generic code agrees with double to a few float ulps of the double result (the double
    /// result of the float inputs, so only the arithmetic's rounding is measured).</summary>
    [Law(100)]
    public Property Float_agrees_with_double_to_float_rounding() =>
        Prop.ForAll(Cases(Generators.Activation).ToArbitrary(), c =>
        {
            var xf = c.X.Cast<float>();
            var yf = c.Spec.Apply(xf).Span;
            var yd = c.Spec.Apply(xf.Cast<double>()).Span;
            for (int i = 0; i < yf.Length; i++)
            {
                double tol = 4 * double.CreateChecked(float.BitIncrement((float)Math.Abs(yd[i])) - (float)Math.Abs(yd[i])) + 1e-40;
                if (!(Math.Abs(yf[i] - yd[i]) <= tol))
                    return false.Label($"element {i}: float {yf[i]:R} vs double {yd[i]:R} (tolerance {tol:R})");
            }
            return true.ToProperty();
        });

    [Fact]
    public void Gradient_with_a_mismatched_dy_names_both_shapes()
    {
        var x = NdArray.Zeros<double>(2, 3);
        foreach (ActivationSpec a in new ActivationSpec[] { new IdentitySpec(), new ReluSpec(), new LeakyReluSpec(), new SigmoidSpec(), new TanhSpec(), new GeluSpec() })
        {
            var e = Assert.Throws<ArgumentException>(() => a.Gradient(x, a.Apply(x), NdArray.Zeros<double>(3, 2)));
            Assert.Contains("[3, 2]", e.Message);
            Assert.Contains("[2, 3]", e.Message);
        }
    }

    [Theory]
    [InlineData("identity", typeof(IdentitySpec))]
    [InlineData("linear", typeof(IdentitySpec))]
    [InlineData("ReLU", typeof(ReluSpec))]
    [InlineData("leaky_relu", typeof(LeakyReluSpec))]
    [InlineData("leaky-relu", typeof(LeakyReluSpec))]
    [InlineData("sigmoid", typeof(SigmoidSpec))]
    [InlineData("Tanh", typeof(TanhSpec))]
    [InlineData("gelu", typeof(GeluSpec))]
    public void Parse_knows_every_activation(string name, Type expected)
    {
        var a = ActivationSpec.Parse(name);
        Assert.IsType(expected, a);
        Assert.Same(a.GetType(), ActivationSpec.Parse(a.Kind).GetType());
    }

    [Fact]
    public void Parse_of_an_unknown_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationSpec.Parse("swish"));
        Assert.Contains("'swish'", e.Message);
        Assert.Contains("gelu", e.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void LeakyRelu_rejects_a_non_finite_slope(double slope) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReluSpec(slope));

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Theory]
    [InlineData("identity", "identity")]
    [InlineData("linear", "identity")]
    [InlineData("none", "identity")]
    [InlineData("leaky-relu", "leaky-relu")]
    [InlineData("leakyrelu", "leaky-relu")]
    [InlineData("leaky_relu", "leaky-relu")]
    [InlineData("ReLU", "relu")]
    public void Every_documented_name_parses(string name, string kind) => Assert.Equal(kind, ActivationSpec.Parse(name).Kind);

    [Fact]
    public void Activations_refuse_null_arrays_by_name()
    {
        var x = NdArray.Vector(1.0, -2.0);
        foreach (var a in new ActivationSpec[] { new ReluSpec(), new LeakyReluSpec(), new SigmoidSpec(), new TanhSpec(), new GeluSpec() })
        {
            Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => a.Apply<double>(null!)).ParamName);
            Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => a.Gradient(null!, x, x)).ParamName);
            Assert.Equal("y", Assert.Throws<ArgumentNullException>(() => a.Gradient(x, null!, x)).ParamName);
            Assert.Equal("dy", Assert.Throws<ArgumentNullException>(() => a.Gradient(x, x, null!)).ParamName);
        }
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReluSpec(double.NaN));
        Assert.Equal("Slope", e.ParamName);
        Assert.Contains("slope must be finite", e.Message);
    }

    /// <summary>A negative slope makes f(x) positive for x &lt; 0, so the gradient must be taken from x, not from f(x): checked
    /// against central differences away from the kink.</summary>
    [Fact]
    public void Leaky_relu_with_a_negative_slope_differentiates_by_the_input()
    {
        var spec = new LeakyReluSpec(-0.5);
        var x = NdArray.Vector(-2.0, -0.3, 0.4, 3.0);
        var y = spec.Apply(x);
        var g = spec.Gradient(x, y, NdArray.Vector(1.0, 1.0, 1.0, 1.0));
        Assert.Equal([-0.5, -0.5, 1.0, 1.0], g.ToArray());
        var relu = new ReluSpec();
        Assert.Equal([0.0, 0.0, 1.0, 1.0], relu.Gradient(x, relu.Apply(x), NdArray.Vector(1.0, 1.0, 1.0, 1.0)).ToArray());
    }

    /// <summary>An activation's backward refuses an output or an upstream gradient of another shape than its input, by name.</summary>
    [Fact]
    public void Gradient_refuses_y_or_dy_of_another_shape()
    {
        var x = NdArray.Zeros<double>(2, 3);
        foreach (ActivationSpec a in new ActivationSpec[] { new ReluSpec(), new TanhSpec(), new SigmoidSpec(), new GeluSpec() })
        {
            Assert.Equal("y", Assert.Throws<ArgumentException>(() => a.Gradient(x, NdArray.Zeros<double>(3, 2), x)).ParamName);
            Assert.Equal("dy", Assert.Throws<ArgumentException>(() => a.Gradient(x, x, NdArray.Zeros<double>(2, 4))).ParamName);
        }
    }
}
