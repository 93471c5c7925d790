using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>L1, SmoothL1 and NLL (L1.cs, SmoothL1.cs, Nll.cs): the verification kit over random widths, betas and weights,
/// the kinks as PyTorch defines them, laws tying them to Huber and cross-entropy, bad hyperparameters, weights and labels.</summary>
public sealed class MoreLossesTests
{
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    private static Gen<NdArray<double>> Labels(int rows, int classes) =>
        Gen.ArrayOf(Gen.Choose(0, classes - 1), rows).Select(l => NdArray.Vector(l.Select(v => (double)v).ToArray()));

    private static Property KitLaw(Func<int, Gen<LossSpec>> specs) =>
        Prop.ForAll((from rows in Gen.Choose(1, 5)
                     from width in Gen.Choose(1, 6)
                     from spec in specs(width)
                     from targets in spec.UsesLabels ? Labels(rows, width) : Generators.Matrix(rows, width, 2.0)
                     from seed in Generators.Seed
                     select (spec, width, targets, seed)).ToArbitrary(),
            c => Passes(Verify.Loss(c.spec, Shape.Of(c.width), c.targets, c.seed)));

    [Law(20)] public Property L1_passes_the_kit() => KitLaw(_ => Gen.Constant<LossSpec>(new L1Spec()));

    [Law(20)]
    public Property SmoothL1_passes_the_kit_for_any_beta() =>
        KitLaw(_ => Gen.OneOf(Gen.Elements<LossSpec>(new SmoothL1Spec(), new SmoothL1Spec(0)), Generators.Between(0.05, 3).Select(b => (LossSpec)new SmoothL1Spec(b))));

    [Law(20)]
    public Property Nll_passes_the_kit_with_and_without_class_weights() =>
        KitLaw(w => Gen.OneOf(Gen.Constant<LossSpec>(new NllSpec()),
            Gen.ArrayOf(Generators.Between(0.1, 3), w).Select(ws => (LossSpec)new NllSpec(ImmutableArray.Create(ws)))));

    [Fact]
    public void The_names_parse()
    {
        Assert.Equal(new L1Spec(), LossSpec.Parse("l1"));
        Assert.Equal(new SmoothL1Spec(1.0), LossSpec.Parse("smooth-l1"));
        Assert.Equal(new SmoothL1Spec(1.0), LossSpec.Parse("smooth_l1"));
        Assert.Equal(new NllSpec(), LossSpec.Parse("NLL"));
        Assert.Equal(["l1", "smooth-l1", "nll"], new LossSpec[] { new L1Spec(), new SmoothL1Spec(), new NllSpec() }.Select(s => s.Kind));
        Assert.Contains("l1, smooth-l1, nll", Assert.Throws<ArgumentException>(() => LossSpec.Parse("kl")).Message);
        Assert.True(new NllSpec().UsesLabels);
        Assert.False(new L1Spec().UsesLabels || new SmoothL1Spec().UsesLabels);
    }

    private static (double Value, double[] Gradient) Eval(LossSpec loss, double[] output, double[] target)
    {
        var (v, g) = loss.ValueAndGrad(NdArray.From<double>(output, output.Length, 1), NdArray.From<double>(target, target.Length, 1));
        return (v, g.Span.ToArray());
    }

    [Fact]
    public void L1_at_d_equal_0_has_gradient_0_as_pytorchs_sign()
    {
        var (value, grad) = Eval(new L1Spec(), [0.5, 1.0, -3.0, 2.0], [0.5, 0.0, -1.0, 2.0]);
        Assert.Equal((0 + 1 + 2 + 0) / 4.0, value);
        Assert.Equal([0.0, 0.25, -0.25, 0.0], grad);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void SmoothL1_at_d_equal_beta_takes_the_linear_branch_which_the_quadratic_one_meets(double beta)
    {
        // d = ±β exactly (0.25 + β and 0.25 − β are exact for these β); PyTorch: |d| < β is quadratic, |d| ≥ β linear.
        var (value, grad) = Eval(new SmoothL1Spec(beta), [0.25 + beta, 0.25 - beta, 0.25], [0.25, 0.25, 0.25]);
        Assert.Equal((beta - 0.5 * beta) * 2 / 3, value);
        Assert.Equal([1.0 / 3, -1.0 / 3, 0.0], grad);
        // Just inside, the quadratic branch's d/β agrees to first order.
        double inside = beta * (1 - 1e-9);
        var (_, g) = Eval(new SmoothL1Spec(beta), [inside], [0.0]);
        Assert.Equal(1.0, g[0], 1e-8);
    }

    [Law(30)]
    public Property SmoothL1_with_beta_0_is_L1_bit_for_bit() =>
        Prop.ForAll(Generators.Matrix(3, 2, Gen.OneOf(Generators.Moderate(2), Gen.Constant(0.0))).ToArbitrary(), Generators.Matrix(3, 2, Gen.OneOf(Generators.Moderate(2), Gen.Constant(0.0))).ToArbitrary(), (o, t) =>
        {
            var (v1, g1) = new L1Spec().ValueAndGrad(o, t);
            var (v0, g0) = new SmoothL1Spec(0).ValueAndGrad(o, t);
            return v1.Equals(v0) && g1.Span.SequenceEqual(g0.Span);
        });

    [Law(30)]
    public Property SmoothL1_of_beta_is_Huber_of_delta_beta_over_beta() =>
        Prop.ForAll(Generators.Between(0.1, 3).ToArbitrary(), Generators.Matrix(4, 3, 3.0).ToArbitrary(), Generators.Matrix(4, 3, 3.0).ToArbitrary(), (beta, o, t) =>
        {
            var (vs, gs) = new SmoothL1Spec(beta).ValueAndGrad(o, t);
            var (vh, gh) = new HuberSpec(beta).ValueAndGrad(o, t);
            bool ok = Math.Abs(vs - vh / beta) <= 1e-12 * Math.Max(1, Math.Abs(vs));
            for (int i = 0; i < gs.Length; i++) ok &= Math.Abs(gs[i] - gh[i] / beta) <= 1e-12;
            return ok;
        });

    [Theory]
    [InlineData(-1.0)]
    [InlineData(-1e-300)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_beta_that_is_negative_or_not_finite_is_refused_by_name(double beta)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SmoothL1Spec(beta));
        Assert.Equal("Beta", e.ParamName);
        Assert.Contains("beta", e.Message);
    }

    [Fact]
    public void Nll_is_the_weighted_mean_of_minus_the_labels_log_probabilities()
    {
        var x = NdArray.From<double>([-0.1, -2.0, -3.0, -1.5, -0.4, -2.5, -0.9, -0.8, -1.7], 3, 3);
        var labels = NdArray.Vector(2.0, 0.0, 1.0);
        var (value, grad) = new NllSpec(ImmutableArray.Create(0.5, 2.0, 4.0)).ValueAndGrad(x, labels);
        double w = 4.0 + 0.5 + 2.0;
        Assert.Equal((4.0 * 3.0 + 0.5 * 1.5 + 2.0 * 0.8) / w, value, 1e-15);
        Assert.Equal([0, 0, -4.0 / w, -0.5 / w, 0, 0, 0, -2.0 / w, 0], grad.Span.ToArray());
        var (plain, plainGrad) = new NllSpec().ValueAndGrad(x, labels);
        Assert.Equal((3.0 + 1.5 + 0.8) / 3, plain, 1e-15);
        Assert.Equal([0, 0, -1.0 / 3, -1.0 / 3, 0, 0, 0, -1.0 / 3, 0], plainGrad.Span.ToArray());
    }

    [Law(30)]
    public Property Nll_of_log_softmax_is_cross_entropy_with_the_same_weights() =>
        Prop.ForAll((from rows in Gen.Choose(1, 6)
                     from k in Gen.Choose(2, 5)
                     from z in Generators.Matrix(rows, k, 4.0)
                     from labels in Labels(rows, k)
                     from weighted in Gen.Elements(false, true)
                     from ws in Gen.ArrayOf(Generators.Between(0.1, 3), k)
                     select (z, labels, weights: weighted ? ImmutableArray.Create(ws) : (ImmutableArray<double>?)null)).ToArbitrary(), c =>
        {
            var logp = SoftmaxCrossEntropy.Softmax(c.z).Span.ToArray().Select(v => Math.Log(v)).ToArray();
            double nll = new NllSpec(c.weights).Value(NdArray.From<double>(logp, c.z.Shape[0], c.z.Shape[1]), c.labels);
            double ce = new SoftmaxCrossEntropySpec(c.weights).Value(c.z, c.labels);
            return (Math.Abs(nll - ce) <= 1e-12 * Math.Max(1, Math.Abs(ce))).Label($"nll {nll:R}, ce {ce:R}");
        });

    [Theory]
    [InlineData(4.0, "row 2")]
    [InlineData(-1.0, "row 2")]
    [InlineData(1.5, "row 2")]
    [InlineData(double.NaN, "row 2")]
    public void An_nll_label_outside_the_classes_is_named_by_its_row(double bad, string row)
    {
        var x = NdArray.From<double>(new double[16], 4, 4);
        var labels = NdArray.Vector(0.0, 3.0, bad, 1.0);
        var e = Assert.Throws<ArgumentException>(() => new NllSpec().ValueAndGrad(x, labels));
        Assert.Contains(row, e.Message); Assert.Contains("[0, 4)", e.Message); Assert.Equal("target", e.ParamName);
        // and before training, over the whole data set
        var d = Assert.Throws<ArgumentException>(() => new NllSpec().RequireTargets<double>(Shape.Of(4), 4, Shape.Scalar, labels.Span));
        Assert.Contains(row, d.Message);
    }

    [Fact]
    public void Nll_refuses_value_targets_and_non_vector_outputs()
    {
        var x = NdArray.From<double>(new double[6], 2, 3);
        Assert.Throws<ArgumentException>(() => new NllSpec().ValueAndGrad(x, NdArray.From<double>(new double[6], 2, 3)));
        Assert.Contains("vector of log-probabilities", Assert.Throws<ArgumentException>(() => new NllSpec().RequireOutputShape(Shape.Of(2, 3))).Message);
    }

    [Fact]
    public void Nll_class_weights_are_checked_by_name_and_must_be_one_per_class()
    {
        Assert.Equal("ClassWeights", Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray<double>.Empty)).ParamName);
        var neg = Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(1.0, -0.5)));
        Assert.Equal("ClassWeights", neg.ParamName); Assert.Contains("class weight 1", neg.Message);
        Assert.Equal("ClassWeights", Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(double.NaN))).ParamName);
        Assert.Equal("ClassWeights", Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(double.PositiveInfinity, 1.0))).ParamName);
        var count = Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(1.0, 2.0)).RequireOutputShape(Shape.Of(3)));
        Assert.Contains("2 class weights for an output of 3 classes", count.Message);
        // A batch whose labels all weigh 0 has no weighted mean.
        var zero = Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(0.0, 1.0)).ValueAndGrad(NdArray.From<double>(new double[4], 2, 2), NdArray.Vector(0.0, 0.0)));
        Assert.Contains("sum to 0", zero.Message);
        // equality compares the weights
        Assert.Equal(new NllSpec(ImmutableArray.Create(1.0, 2.0)), new NllSpec(ImmutableArray.Create(1.0, 2.0)));
        Assert.NotEqual(new NllSpec(ImmutableArray.Create(1.0, 2.0)), new NllSpec());
    }

    [Fact]
    public void Value_losses_refuse_non_finite_targets_by_row()
    {
        foreach (var loss in new LossSpec[] { new L1Spec(), new SmoothL1Spec(), new SmoothL1Spec(0) })
        {
            var e = Assert.Throws<ArgumentException>(() => loss.ValueAndGrad(NdArray.From<double>(new double[4], 2, 2), NdArray.From<double>([0, 0, double.NaN, 0], 2, 2)));
            Assert.Contains("row 1", e.Message);
        }
    }
}
