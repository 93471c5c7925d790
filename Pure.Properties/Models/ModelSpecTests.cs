using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Model specs: the MLP builder's layout and names, width chaining, and the checks.</summary>
public sealed class ModelSpecTests
{
    /// <summary>An MLP has a dense layer per consecutive pair of sizes, the activation (and dropout) after each but the last,
    /// widths that follow the sizes, and PyTorch's nn.Sequential names counting every layer.</summary>
    [Law(100)]
    public Property Mlp_builds_dense_layers_with_activations_between_and_sequential_names() =>
        Prop.ForAll((from sizes in Gen.Choose(2, 6).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 50), n))
                     from act in Generators.Activation
                     from dropout in Gen.Elements(0.0, 0.25)
                     select (sizes, act, dropout)).ToArbitrary(), t =>
        {
            var (sizes, act, dropout) = t;
            var spec = ModelSpec.Mlp(sizes, act, new MseSpec(), Initializer.HeNormal, dropout);
            int hidden = sizes.Length - 2, perHidden = dropout > 0 ? 3 : 2;
            var expectedNames = new List<string>();
            bool layout = spec.Layers.Length == hidden * perHidden + 1;
            for (int i = 0, li = 0; i + 1 < sizes.Length; i++, li += perHidden)
            {
                layout &= spec.Layers[li] is DenseSpec d && d.In == sizes[i] && d.Out == sizes[i + 1] && d.Initializer == Initializer.HeNormal;
                expectedNames.Add($"{li}.weight"); expectedNames.Add($"{li}.bias");
                if (i + 2 < sizes.Length)
                {
                    layout &= spec.Layers[li + 1].Equals(act);
                    if (dropout > 0) layout &= spec.Layers[li + 2] is DropoutSpec { Rate: 0.25 };
                }
            }
            return layout.Label($"layout {spec}")
                .And(spec.ParameterNames.SequenceEqual(expectedNames).Label($"names [{string.Join(", ", spec.ParameterNames)}]"))
                .And((spec.InputWidth == sizes[0] && spec.OutputWidth == sizes[^1] && spec.Widths.Length == spec.Layers.Length + 1).Label($"widths [{string.Join(", ", spec.Widths)}]"));
        });

    [Fact]
    public void Widths_record_what_enters_each_layer()
    {
        var spec = ModelSpec.Mlp([3, 8, 2], new ReluSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.5);
        Assert.Equal([3, 8, 8, 8, 2], spec.Widths.ToArray());
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], spec.ParameterNames.ToArray());
        Assert.Equal("3 → dense(8) → relu → dropout → dense(2) | loss cross-entropy", spec.ToString());
    }

    [Fact]
    public void Layers_that_do_not_chain_are_named_by_index_and_widths()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelSpec(3, [new DenseSpec(3, 4), new TanhSpec(), new DenseSpec(5, 2)], new MseSpec()));
        Assert.Contains("layer 2", e.Message);
        Assert.Contains("width 4", e.Message);
        Assert.Contains("5→2", e.Message);
        var first = Assert.Throws<ArgumentException>(() => new ModelSpec(6, [new DenseSpec(3, 4)], new MseSpec()));
        Assert.Contains("layer 0", first.Message);
        Assert.Contains("width 6", first.Message);
    }

    [Fact]
    public void A_model_needs_a_layer_an_input_width_and_two_mlp_sizes()
    {
        foreach (var none in new[] { ImmutableArray<LayerSpec>.Empty, default })
        {
            var e0 = Assert.Throws<ArgumentException>(() => new ModelSpec(3, none, new MseSpec()));
            Assert.Contains("a model needs at least one layer", e0.Message);
            Assert.Equal("Layers", e0.ParamName);
        }
        var w = Assert.Throws<ArgumentOutOfRangeException>(() => new ModelSpec(0, [new TanhSpec()], new MseSpec()));
        Assert.Contains("input width must be ≥ 1", w.Message);
        Assert.Equal("InputWidth", w.ParamName);
        Assert.Equal("Loss", Assert.Throws<ArgumentNullException>(() => new ModelSpec(3, [new TanhSpec()], null!)).ParamName);
        Assert.Equal("Layers[1]", Assert.Throws<ArgumentNullException>(() => new ModelSpec(3, [new TanhSpec(), null!], new MseSpec())).ParamName);
        Assert.Equal("sizes", Assert.Throws<ArgumentNullException>(() => ModelSpec.Mlp(null!, new TanhSpec(), new MseSpec())).ParamName);
        Assert.Equal("activation", Assert.Throws<ArgumentNullException>(() => ModelSpec.Mlp([2, 3], null!, new MseSpec())).ParamName);
        var e = Assert.Throws<ArgumentException>(() => ModelSpec.Mlp([4], new TanhSpec(), new MseSpec()));
        Assert.Contains("1 sizes", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelSpec.Mlp([4, 0], new TanhSpec(), new MseSpec()));
    }

    /// <summary>A dropout rate outside [0, 1) is an error, as it is for <see cref="DropoutSpec"/>; it must not silently mean "no dropout".</summary>
    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(1.0)]
    public void Mlp_rejects_a_dropout_rate_outside_0_to_1(double rate)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new MseSpec(), dropout: rate));
        Assert.Contains(rate.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Contains("dropout rate must be in [0, 1)", e.Message);
        Assert.Equal("dropout", e.ParamName);
    }

    [Fact]
    public void Class_weights_must_match_the_output_width()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelSpec.Mlp([4, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0))));
        Assert.Contains("2 class weights", e.Message);
        Assert.Contains("3 classes", e.Message);
    }

    [Fact]
    public void Specs_are_equal_by_value_including_class_weights()
    {
        ModelSpec Make() => ModelSpec.Mlp([4, 5, 3], new LeakyReluSpec(0.1), new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 0.5), 0.1), Initializer.XavierUniform, 0.2);
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), ModelSpec.Mlp([4, 5, 3], new LeakyReluSpec(0.2), new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 0.5), 0.1), Initializer.XavierUniform, 0.2));
        Assert.NotEqual(Make(), ModelSpec.Mlp([4, 5, 3], new LeakyReluSpec(0.1), new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 0.6), 0.1), Initializer.XavierUniform, 0.2));
        Assert.NotEqual(Make(), ModelSpec.Mlp([4, 5, 3], new LeakyReluSpec(0.1), new MseSpec(), Initializer.XavierUniform, 0.2));
    }

    /// <summary>Specs are values: equal when the input width, every layer and the loss are, and different when any one is.</summary>
    [Fact]
    public void Specs_are_equal_exactly_when_width_layers_and_loss_are()
    {
        var a = ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec());
        Assert.True(a.Equals(ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec())));
        Assert.Equal(a.GetHashCode(), ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec()).GetHashCode());
        Assert.False(a.Equals(null));
        Assert.False(a.Equals(ModelSpec.Mlp([4, 5, 3], new ReluSpec(), new SoftmaxCrossEntropySpec())));
        Assert.False(a.Equals(ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(LabelSmoothing: 0.1))));
        Assert.False(a.Equals(ModelSpec.Mlp([4, 6, 3], new TanhSpec(), new SoftmaxCrossEntropySpec())));
        Assert.False(a.Equals(ModelSpec.Mlp([4, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.1)));
        // The same layers after another input width: a leading activation takes any width.
        var b = new ModelSpec(3, [new TanhSpec()], new MseSpec());
        Assert.False(b.Equals(new ModelSpec(4, [new TanhSpec()], new MseSpec())));
        Assert.True(b.Equals(new ModelSpec(3, [new TanhSpec()], new MseSpec())));
    }
}
