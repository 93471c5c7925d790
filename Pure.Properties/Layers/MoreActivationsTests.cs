using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Layers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>SiLU, ELU and Softplus (MoreActivations.cs): the verification kit over random widths and hyperparameters, the
/// kinks as PyTorch defines them, accuracy where the naive formulas lose it, and bad hyperparameters refused by name.</summary>
public sealed class MoreActivationsTests
{
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    private static Gen<Shape> ExampleShape { get; } = Gen.OneOf(
        Gen.Choose(1, 8).Select(w => Shape.Of(w)),
        Gen.Zip(Gen.Choose(1, 3), Gen.Choose(1, 3)).Select(p => Shape.Of(p.Item1, p.Item2)));

    private static Property KitLaw(Gen<ActivationSpec> specs) =>
        Prop.ForAll((from spec in specs
                     from shape in ExampleShape
                     from rows in Gen.Choose(1, 4)
                     from seed in Generators.Seed
                     select (spec, shape, rows, seed)).ToArbitrary(),
            c => Passes(Verify.Layer(c.spec, c.shape, c.rows, c.seed)));

    [Law(20)] public Property Silu_passes_the_kit() => KitLaw(Gen.Constant<ActivationSpec>(new SiluSpec()));

    [Law(20)]
    public Property Elu_passes_the_kit_for_any_alpha() =>
        KitLaw(Gen.OneOf(Gen.Constant<ActivationSpec>(new EluSpec()), Generators.Between(-1, 3).Select(a => (ActivationSpec)new EluSpec(a))));

    [Law(20)]
    public Property Softplus_passes_the_kit_for_any_beta_and_threshold() =>
        KitLaw(from beta in Generators.Between(0.2, 3)
               from threshold in Gen.OneOf(Gen.Constant(20.0), Generators.Between(0.5, 3))
               select (ActivationSpec)new SoftplusSpec(beta, threshold));

    [Fact]
    public void The_names_parse_to_pytorchs_defaults()
    {
        Assert.Equal(new SiluSpec(), ActivationSpec.Parse("silu"));
        Assert.Equal(new EluSpec(1.0), ActivationSpec.Parse("ELU"));
        Assert.Equal(new SoftplusSpec(1, 20), ActivationSpec.Parse("softplus"));
        Assert.Equal(["silu", "elu", "softplus"], new ActivationSpec[] { new SiluSpec(), new EluSpec(), new SoftplusSpec() }.Select(s => s.Kind));
        var e = Assert.Throws<ArgumentException>(() => ActivationSpec.Parse("selu"));
        Assert.Contains("silu, elu, softplus", e.Message);
    }

    [Law(30)]
    public Property Silu_is_x_times_the_sigmoid_layer_bit_for_bit() =>
        Prop.ForAll(Generators.Moderate(30).ToArbitrary(), v =>
        {
            var x = NdArray.From<double>([v], 1, 1);
            return new SiluSpec().Apply(x)[0].Equals(v * new SigmoidSpec().Apply(x)[0]);
        });

    [Fact]
    public void Silu_is_finite_and_saturates_in_float_far_out()
    {
        var y = new SiluSpec().Apply(NdArray.From<float>([-1000f, 1000f], 1, 2));
        Assert.Equal(0f, y[0]); // −1000·σ(−1000) underflows to −0 or 0
        Assert.Equal(1000f, y[1]);
        var dx = new SiluSpec().Gradient(NdArray.From<float>([-1000f, 1000f], 1, 2), y, NdArray.From<float>([1f, 1f], 1, 2));
        Assert.Equal([0f, 1f], dx.Span.ToArray());
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.5)]
    [InlineData(0.3)]
    public void Elu_at_zero_is_zero_with_derivative_alpha_as_pytorch_takes_it(double alpha)
    {
        var spec = new EluSpec(alpha);
        var x = NdArray.From<double>([0.0, -0.0, 1e-300, -1e-300], 1, 4);
        var y = spec.Apply(x);
        Assert.Equal(0.0, y[0]); Assert.Equal(0.0, y[1]);
        Assert.Equal(1e-300, y[2]); Assert.Equal(alpha * -1e-300, y[3]);
        var dx = spec.Gradient(x, y, NdArray.From<double>([3.0, 3.0, 3.0, 3.0], 1, 4));
        // PyTorch's elu_backward: x ≤ 0 takes the exponential side, α·eˣ·dy, so α·dy at 0 (and at −0); x > 0 passes dy.
        Assert.Equal([3.0 * alpha, 3.0 * alpha, 3.0, 3.0 * alpha], dx.Span.ToArray());
    }

    [Fact]
    public void Elu_near_zero_keeps_its_relative_accuracy_and_saturates_at_minus_alpha()
    {
        var y = new EluSpec(2).Apply(NdArray.From<double>([-1e-10, -1e-5, -800, double.NegativeInfinity], 1, 4));
        // α(e^x − 1) with e^x − 1 ≈ x + x²/2: exact to an ulp or so, where exp(x) − 1 would keep only ~6 digits at 1e-10.
        Assert.Equal(2 * (-1e-10 + 5e-21), y[0], 1e-23);
        Assert.Equal(2 * (-1e-5 + 5e-11 - 1e-15 / 6), y[1], 1e-18);
        Assert.Equal(-2.0, y[2]); Assert.Equal(-2.0, y[3]);
    }

    [Fact]
    public void Softplus_above_the_threshold_is_the_identity_and_at_it_is_the_log()
    {
        var spec = new SoftplusSpec(Beta: 2, Threshold: 20);
        // βx = 20 exactly is not above the threshold (PyTorch: βx > threshold); βx = 20.000000000000004 is.
        double above = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(10.0) + 1);
        var x = NdArray.From<double>([10.0, above, 1e6], 1, 3);
        var y = spec.Apply(x);
        Assert.Equal(Math.Log(1 + Math.Exp(20)) / 2, y[0], 1e-14);
        Assert.Equal(above, y[1]); Assert.Equal(1e6, y[2]);
        var dx = spec.Gradient(x, y, NdArray.From<double>([5.0, 5.0, 5.0], 1, 3));
        Assert.Equal(5.0 / (1 + Math.Exp(-20)), dx[0], 1e-14);
        Assert.Equal(5.0, dx[1]); Assert.Equal(5.0, dx[2]);
    }

    [Fact]
    public void Softplus_far_below_zero_is_e_to_the_beta_x_over_beta_not_zero_and_stays_finite_under_a_huge_threshold()
    {
        var y = new SoftplusSpec(Beta: 0.5).Apply(NdArray.From<double>([-80.0], 1, 1));
        Assert.Equal(Math.Exp(-40) / 0.5, y[0], Math.Exp(-40) * 1e-14);
        // With a huge threshold the log form is used far out and stays finite: log(1 + e^(βx))/β → x.
        var big = new SoftplusSpec(Threshold: 1e300);
        var x = NdArray.From<float>([1000f, -1000f], 1, 2);
        var yb = big.Apply(x);
        Assert.Equal([1000f, 0f], yb.Span.ToArray());
        Assert.Equal([1f, 0f], big.Gradient(x, yb, NdArray.From<float>([1f, 1f], 1, 2)).Span.ToArray());
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_alpha_is_refused_by_name(double alpha)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new EluSpec(alpha));
        Assert.Equal("Alpha", e.ParamName);
        Assert.Contains("alpha", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_beta_that_is_not_positive_and_finite_is_refused_by_name(double beta)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftplusSpec(beta));
        Assert.Equal("Beta", e.ParamName);
        Assert.Contains("beta", e.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_threshold_is_refused_by_name(double threshold)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftplusSpec(Threshold: threshold));
        Assert.Equal("Threshold", e.ParamName);
        Assert.Contains("threshold", e.Message);
    }

    [Fact]
    public void In_place_calls_work_and_partial_overlap_is_refused()
    {
        foreach (var spec in new ActivationSpec[] { new SiluSpec(), new EluSpec(0.7), new SoftplusSpec(1.5, 2) })
        {
            double[] x = [-1.5, -0.25, 0.5, 2.0, 3.5];
            var y = spec.Apply(NdArray.From<double>(x, 1, 5)).Span.ToArray();
            var buffer = (double[])x.Clone();
            spec.Apply<double>(buffer, buffer, 1);
            Assert.Equal(y, buffer);
            var big = new double[6];
            Assert.Throws<ArgumentException>(() => spec.Apply<double>(big.AsSpan(0, 5), big.AsSpan(1, 5), 1));
        }
    }
}
