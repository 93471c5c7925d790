using System.Collections.Immutable;
using NeuralPure.Losses;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>The checks a loss makes before and during training, as the user meets them: <see cref="LossSpec.RequireTargets{T}"/>
/// (the default one, which Trainer.Fit calls on the whole data set so that a bad target is named by its row in the data set),
/// NLL's own label checks, the aliases of <see cref="LossSpec.Parse"/>, and the values at the kinks that a refactoring could
/// move by an ulp (SmoothL1 at |d| = β, L1 at NaN).</summary>
public sealed class RequireTargetsTests
{
    [Fact]
    public void Value_targets_of_the_outputs_shape_pass_and_a_vector_stands_in_for_one_column()
    {
        new MseSpec().RequireTargets<double>(Shape.Of(2), 3, Shape.Of(2), new double[6]);
        new MseSpec().RequireTargets<double>(Shape.Of(1), 3, Shape.Scalar, new double[3]);
        new MseSpec().RequireTargets<double>(Shape.Of(1), 3, Shape.Of(1), new double[3]);
        new MseSpec().RequireTargets<float>(Shape.Of(2, 2), 2, Shape.Of(2, 2), new float[8]);
    }

    [Fact]
    public void Value_targets_of_another_shape_are_refused_with_both_shapes_for_the_whole_data_set()
    {
        foreach (var (output, target) in new[] { (Shape.Of(2), Shape.Of(3)), (Shape.Of(2), Shape.Scalar), (Shape.Of(1), Shape.Of(1, 1)), (Shape.Of(3), Shape.Of(1)) })
        {
            var e = Assert.Throws<ArgumentException>(() => new HuberSpec().RequireTargets<double>(output, 5, target, new double[5 * Math.Max(1, target.Size)]));
            Assert.Equal("target", e.ParamName);
            Assert.Contains($"targets must have the output's shape {NdArray.ShapeString(output.Batch(5))}, got {NdArray.ShapeString(target.Batch(5))}", e.Message);
        }
    }

    [Fact]
    public void A_non_finite_value_target_is_named_by_its_row_and_column_in_the_data_set()
    {
        var wide = new double[12];
        wide[7] = double.NaN; // row 2, column 1 of [4, 3]
        var e = Assert.Throws<ArgumentException>(() => new MseSpec().RequireTargets<double>(Shape.Of(3), 4, Shape.Of(3), wide));
        Assert.Equal("target", e.ParamName);
        Assert.StartsWith("the target in row 2, column 1 is NaN; targets must be finite", e.Message);

        var column = new float[5];
        column[4] = float.PositiveInfinity;
        var c = Assert.Throws<ArgumentException>(() => new BinaryCrossEntropySpec().RequireTargets<float>(Shape.Of(1), 5, Shape.Scalar, column));
        Assert.StartsWith($"the target in row 4 is {float.PositiveInfinity}; targets must be finite", c.Message);

        // the first bad one is named, not a later one
        var two = new double[6];
        two[1] = double.NegativeInfinity; two[5] = double.NaN;
        Assert.StartsWith("the target in row 0, column 1 is", Assert.Throws<ArgumentException>(() => new L1Spec().RequireTargets<double>(Shape.Of(2), 3, Shape.Of(2), two)).Message);
    }

    [Fact]
    public void Label_losses_check_labels_against_the_classes_and_refuse_value_shaped_targets()
    {
        new SoftmaxCrossEntropySpec().RequireTargets<double>(Shape.Of(3), 4, Shape.Scalar, [0, 2, 1, 2]);
        new SoftmaxCrossEntropySpec().RequireTargets<double>(Shape.Of(3), 4, Shape.Of(1), [0, 2, 1, 2]);
        var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().RequireTargets<double>(Shape.Of(3), 4, Shape.Scalar, [0, 2, 3, 1]));
        Assert.Equal("target", e.ParamName);
        Assert.StartsWith("label 3 in row 2 is outside [0, 3)", e.Message);
        var shape = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().RequireTargets<double>(Shape.Of(3), 2, Shape.Of(3), new double[6]));
        Assert.StartsWith("cross-entropy targets must be class labels [2], got [2, 3]", shape.Message);
    }

    [Fact]
    public void Null_shapes_are_refused_by_name()
    {
        foreach (LossSpec loss in new LossSpec[] { new MseSpec(), new SoftmaxCrossEntropySpec(), new NllSpec() })
        {
            Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => loss.RequireTargets<double>(null!, 1, Shape.Scalar, [0.0])).ParamName);
            Assert.Equal("targetShape", Assert.Throws<ArgumentNullException>(() => loss.RequireTargets<double>(Shape.Of(2), 1, null!, [0.0])).ParamName);
            Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => loss.RequireOutputShape(null!)).ParamName);
        }
    }

    [Fact]
    public void Nll_takes_labels_as_a_vector_or_a_column_and_names_any_other_shape()
    {
        var x = NdArray.From<double>([-1, -2, -3, -4], 2, 2);
        double vector = new NllSpec().Value(x, NdArray.Vector(1.0, 0.0));
        Assert.Equal((2.0 + 3.0) / 2, vector);
        Assert.Equal(vector, new NllSpec().Value(x, NdArray.From<double>([1, 0], 2, 1)));
        new NllSpec().RequireTargets<double>(Shape.Of(2), 2, Shape.Of(1), [1, 0]);
        foreach (var target in new[] { NdArray.From<double>([1, 0], 2, 1, 1), NdArray.From<double>([1, 0, 0, 1], 2, 2) })
        {
            var e = Assert.Throws<ArgumentException>(() => new NllSpec().ValueAndGrad(x, target));
            Assert.Equal("target", e.ParamName);
            Assert.StartsWith($"nll targets must be class labels [2], got {target.ShapeText}", e.Message);
        }
    }

    [Fact]
    public void Nll_names_empty_weights_and_a_zero_weight_batch_as_the_targets_fault()
    {
        Assert.StartsWith("class weights, when given, must not be empty", Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray<double>.Empty)).Message);
        var zero = Assert.Throws<ArgumentException>(() => new NllSpec(ImmutableArray.Create(0.0, 1.0)).ValueAndGrad(NdArray.From<double>(new double[4], 2, 2), NdArray.Vector(0.0, 0.0)));
        Assert.Equal("target", zero.ParamName);
    }

    [Fact]
    public void Parse_knows_the_aliases_mae_and_smoothl1()
    {
        Assert.Equal(new L1Spec(), LossSpec.Parse("mae"));
        Assert.Equal(new L1Spec(), LossSpec.Parse("MAE"));
        Assert.Equal(new SmoothL1Spec(1.0), LossSpec.Parse("smoothl1"));
        Assert.Equal(new SoftmaxCrossEntropySpec(), LossSpec.Parse("softmax-cross-entropy"));
        Assert.Equal(new BinaryCrossEntropySpec(), LossSpec.Parse("binary-cross-entropy"));
    }

    /// <summary>At |d| = β PyTorch's smooth_l1_loss takes the linear branch, |d| − β/2; the quadratic branch's ½d²/β meets it
    /// mathematically but not in floating point for these β (½·0.1²/0.1 = 0.05000000000000001), so the bits say which ran.</summary>
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.2)]
    [InlineData(7.7)]
    public void SmoothL1_at_d_equal_beta_gives_the_linear_branchs_bits(double beta)
    {
        var (value, grad) = new SmoothL1Spec(beta).ValueAndGrad(NdArray.From<double>([beta, -beta], 2, 1), NdArray.From<double>([0, 0], 2, 1));
        Assert.Equal(beta - 0.5 * beta, value);
        Assert.NotEqual(0.5 * beta * beta / beta, beta - 0.5 * beta); // the case distinguishes the branches
        Assert.Equal([0.5, -0.5], grad.Span.ToArray());
    }

    /// <summary>A diverged model's NaN output gives L1 a NaN value and a NaN gradient (sign(NaN) is NaN, as the doc says), so the
    /// divergence is seen rather than hidden behind a zero gradient.</summary>
    [Fact]
    public void L1_of_a_NaN_output_is_NaN_in_value_and_gradient()
    {
        var (value, grad) = new L1Spec().ValueAndGrad(NdArray.From<double>([double.NaN, 2.0], 2, 1), NdArray.From<double>([0, 0], 2, 1));
        Assert.True(double.IsNaN(value));
        Assert.True(double.IsNaN(grad.Span[0]));
        Assert.Equal(0.5, grad.Span[1]);
    }
}
