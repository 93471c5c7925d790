using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>What every loss promises at its public surface: names, shapes, checks, purity and value equality.</summary>
public sealed class LossSpecTests
{
    private static Gen<LossCase> AnyLoss() => Generators.LossCase(Generators.Loss);

    [Law(100)]
    public Property Value_is_the_value_of_ValueAndGrad_and_the_gradient_has_the_outputs_shape() =>
        Prop.ForAll(AnyLoss().ToArbitrary(), c =>
        {
            var (v, g) = c.Spec.ValueAndGrad(c.Output, c.Target);
            return (c.Spec.Value(c.Output, c.Target).Equals(v)).Label("Value differs from ValueAndGrad's value")
                .And(g.Shape.SequenceEqual(c.Output.Shape).Label($"gradient {g.ShapeText} for output {c.Output.ShapeText}"))
                .And((double.IsFinite(v) && g.ToArray().All(double.IsFinite)).Label($"loss {v:R} or its gradient is not finite"));
        });

    [Law(100)]
    public Property Losses_change_neither_output_nor_target() =>
        Prop.ForAll(AnyLoss().ToArbitrary(), c =>
        {
            var (o, t) = (c.Output.ToArray(), c.Target.ToArray());
            c.Spec.ValueAndGrad(c.Output, c.Target);
            return (c.Output.Equals(NdArray.From<double>(o, [.. c.Output.Shape])) && c.Target.Equals(NdArray.From<double>(t, [.. c.Target.Shape])))
                .Label("an argument changed");
        });

    /// <summary>For an output of width 1, value targets may be a vector [rows]; it means the same as [rows, 1].</summary>
    [Law(50)]
    public Property A_vector_target_equals_a_column_for_width_1() =>
        Prop.ForAll(Generators.LossCase(Generators.Loss, 1, 1).Where(c => !c.Spec.UsesLabels).ToArbitrary(), c =>
        {
            var asVector = c.Target.Reshape(c.Target.Length);
            var (v1, g1) = c.Spec.ValueAndGrad(c.Output, c.Target);
            var (v2, g2) = c.Spec.ValueAndGrad(c.Output, asVector);
            return (v1.Equals(v2) && g1.Equals(g2)).Label($"column {v1:R}, vector {v2:R}");
        });

    private static readonly LossSpec[] Every =
    [
        new MseSpec(), new BinaryCrossEntropySpec(), new HuberSpec(0.5), new SoftmaxCrossEntropySpec(),
        new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 3.0), 0.1),
    ];

    public static TheoryData<LossSpec> AllLosses() => new(Every);

    /// <summary>An output of 0 rows is named as an empty batch, whatever the targets: a target with rows, or labels, does not
    /// turn it into a shape complaint about [0, 3].</summary>
    [Theory]
    [MemberData(nameof(AllLosses))]
    public void An_empty_batch_is_rejected(LossSpec loss)
    {
        foreach (var target in new[] { NdArray.Zeros<double>(0, 3), NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(2) })
        {
            var e = Assert.Throws<ArgumentException>(() => loss.ValueAndGrad(NdArray.Zeros<double>(0, 3), target));
            Assert.Equal("output", e.ParamName);
            Assert.Contains("empty", e.Message);
            Assert.Contains("0 rows", e.Message);
        }
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void An_output_that_is_not_a_matrix_names_its_shape(LossSpec loss)
    {
        var e = Assert.Throws<ArgumentException>(() => loss.Value(NdArray.Zeros<double>(3), NdArray.Zeros<double>(3)));
        Assert.Contains("[rows, width]", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Equal("output", e.ParamName);
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void A_target_with_the_wrong_rows_names_both_shapes(LossSpec loss)
    {
        var e = Assert.Throws<ArgumentException>(() => loss.Value(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(5, 3)));
        Assert.Contains("[5, 3]", e.Message);
        Assert.Contains(loss.UsesLabels ? "[2]" : "[2, 3]", e.Message);
        Assert.Equal("target", e.ParamName);
    }

    [Theory]
    [MemberData(nameof(AllLosses))]
    public void A_NaN_or_infinite_target_is_rejected(LossSpec loss)
    {
        foreach (var bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var target = loss.UsesLabels ? NdArray.Vector(0.0, bad) : NdArray.From<double>([0, 0, 0, bad, 0, 0], 2, 3);
            var e = Assert.Throws<ArgumentException>(() => loss.ValueAndGrad(NdArray.Zeros<double>(2, 3), target));
            Assert.Equal("target", e.ParamName);
            Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
            Assert.Contains("row 1", e.Message);
        }
    }

    [Theory]
    [InlineData("mse", typeof(MseSpec), "mse", false)]
    [InlineData("bce", typeof(BinaryCrossEntropySpec), "bce", false)]
    [InlineData("binary-cross-entropy", typeof(BinaryCrossEntropySpec), "bce", false)]
    [InlineData("ce", typeof(SoftmaxCrossEntropySpec), "cross-entropy", true)]
    [InlineData("Cross-Entropy", typeof(SoftmaxCrossEntropySpec), "cross-entropy", true)]
    [InlineData("softmax-cross-entropy", typeof(SoftmaxCrossEntropySpec), "cross-entropy", true)]
    [InlineData("huber", typeof(HuberSpec), "huber", false)]
    public void Parse_knows_every_loss_with_default_options(string name, Type type, string kind, bool labels)
    {
        var loss = LossSpec.Parse(name);
        Assert.IsType(type, loss);
        Assert.Equal(kind, loss.Kind);
        Assert.Equal(labels, loss.UsesLabels);
        Assert.Equal(loss, LossSpec.Parse(loss.Kind));
    }

    [Fact]
    public void Parse_of_an_unknown_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => LossSpec.Parse("hinge"));
        Assert.Contains("'hinge'", e.Message);
        Assert.Contains("cross-entropy", e.Message);
    }

    [Fact]
    public void RequireOutputShape_takes_every_vector_and_cross_entropy_refuses_anything_else()
    {
        foreach (var loss in Every) loss.RequireOutputShape(3);
        var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().RequireOutputShape(Shape.Of(2, 3)));
        Assert.Equal("output", e.ParamName);
        Assert.Contains("vector of logits", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        foreach (var loss in Every) Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => loss.RequireOutputShape(null!)).ParamName);
    }

    [Fact]
    public void Losses_are_equal_by_their_options_class_weights_by_content()
    {
        var a = new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0), 0.1);
        var b = new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0), 0.1);
        Assert.Equal(a, b);
        Assert.True(((LossSpec)a).Equals((LossSpec)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 3.0), 0.1));
        Assert.NotEqual(a, new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0), 0.2));
        Assert.NotEqual(a, new SoftmaxCrossEntropySpec());
        Assert.Equal(new HuberSpec(2), new HuberSpec(2));
        Assert.NotEqual(new HuberSpec(2), new HuberSpec(1));
        Assert.NotEqual<LossSpec>(new MseSpec(), new BinaryCrossEntropySpec());
    }

    /// <summary>Value targets must have the output's shape, or be [rows] for a one-column output — not [rows] or [rows, 1] for a
    /// wider one; null arguments are named.</summary>
    [Fact]
    public void Value_targets_of_another_shape_and_null_arguments_are_refused_by_name()
    {
        var output = NdArray.Zeros<double>(4, 3);
        foreach (var target in new[] { NdArray.Zeros<double>(4), NdArray.Zeros<double>(4, 1), NdArray.Zeros<double>(3, 3) })
        {
            var e = Assert.Throws<ArgumentException>(() => new MseSpec().ValueAndGrad(output, target));
            Assert.Equal("target", e.ParamName);
            Assert.Contains("target must have the output's shape [4, 3]", e.Message);
        }
        Assert.Equal(0.0, new MseSpec().Value(NdArray.Zeros<double>(4, 1), NdArray.Zeros<double>(4)));
        // Only a vector [rows] stands in for a one-column output: a wider target, or one with an extra axis, is still refused.
        foreach (var target in new[] { NdArray.Zeros<double>(4, 2), NdArray.Zeros<double>(4, 1, 1) })
        {
            var e = Assert.Throws<ArgumentException>(() => new MseSpec().ValueAndGrad(NdArray.Zeros<double>(4, 1), target));
            Assert.Equal("target", e.ParamName);
            Assert.Contains($"target must have the output's shape [4, 1], got {target.ShapeText}", e.Message);
        }
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => new MseSpec().ValueAndGrad(null!, NdArray.Zeros<double>(4))).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentNullException>(() => new MseSpec().ValueAndGrad(output, null!)).ParamName);
    }
}
