using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Tensors;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>What every layer spec promises: a kind, parameter names, an output width, and value equality over its hyperparameters.</summary>
public sealed class LayerSpecTests
{
    public static TheoryData<LayerSpec, string, string[]> Specs() => new()
    {
        { new DenseSpec(3, 4), "dense", ["weight", "bias"] },
        { new IdentitySpec(), "identity", [] },
        { new ReluSpec(), "relu", [] },
        { new LeakyReluSpec(0.2), "leaky-relu", [] },
        { new SigmoidSpec(), "sigmoid", [] },
        { new TanhSpec(), "tanh", [] },
        { new GeluSpec(), "gelu", [] },
        { new DropoutSpec(0.5), "dropout", [] },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void Each_spec_has_its_kind_and_parameter_names(LayerSpec spec, string kind, string[] names)
    {
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(names, spec.Parameters(3).Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Init_creates_exactly_the_named_parameters(LayerSpec spec, string kind, string[] names)
    {
        var model = new ModelSpec(3, [spec], new MseSpec());
        var p = Model.Init<double>(model, RandomKey.FromSeed(1));
        Assert.Equal(names.Select(n => "0." + n), p.Names);
        Assert.Equal(kind, model.Layers[0].Kind);
    }

    /// <summary>Parameter-free layers keep the width (any width ≥ 1); a dense layer maps In to Out and refuses any other width.</summary>
    [Law(100)]
    public Property Output_width_follows_the_spec() =>
        Prop.ForAll(Gen.Zip(Generators.Activation, Gen.Choose(1, 1000)).ToArbitrary(), t =>
        {
            var (act, w) = t;
            var dense = new DenseSpec(w, w + 1);
            bool refuses = false;
            try { dense.OutputShape(w + 2); } catch (ArgumentException) { refuses = true; }
            return (act.OutputShape(w).Equals(Shape.Of(w)) && new DropoutSpec(0.3).OutputShape(w).Equals(Shape.Of(w)) && dense.OutputShape(w).Equals(Shape.Of(w + 1)) && refuses)
                .Label($"width {w}: {act.Kind} gives {act.OutputShape(w)}, dense gives {dense.OutputShape(w)}, refuses a wrong width: {refuses}");
        });

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Activations_refuse_a_width_below_1(int width)
    {
        var e = Assert.Throws<ArgumentException>(() => new TanhSpec().OutputShape(width));
        Assert.Contains(width.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Specs_are_equal_when_their_hyperparameters_are()
    {
        Assert.Equal(new DenseSpec(3, 4), new DenseSpec(3, 4));
        Assert.NotEqual(new DenseSpec(3, 4), new DenseSpec(4, 3));
        Assert.NotEqual(new DenseSpec(3, 4), new DenseSpec(3, 4, Initializer.HeNormal));
        Assert.Equal(new LeakyReluSpec(), new LeakyReluSpec(0.01));
        Assert.NotEqual(new LeakyReluSpec(0.1), new LeakyReluSpec(0.2));
        Assert.Equal(new DropoutSpec(0.5), new DropoutSpec(0.5));
        Assert.NotEqual<LayerSpec>(new ReluSpec(), new TanhSpec());
        Assert.Equal(new DenseSpec(3, 4).GetHashCode(), new DenseSpec(3, 4).GetHashCode());
    }

    /// <summary>A dense spec's hyperparameters are In, Out and the initializer in use; leaving the initializer out means
    /// PyTorch's, so naming PyTorch's describes the same layer and must compare (and hash) equal.</summary>
    [Fact]
    public void The_default_initializer_and_naming_it_give_equal_specs()
    {
        var implicitInit = new DenseSpec(3, 4);
        var explicitInit = new DenseSpec(3, 4, Initializer.PyTorchLinear);
        Assert.Same(implicitInit.Initializer, explicitInit.Initializer);
        Assert.Equal(implicitInit, explicitInit);
        Assert.Equal(implicitInit.GetHashCode(), explicitInit.GetHashCode());
        Assert.Equal(ModelSpec.Mlp([3, 4], new TanhSpec(), new MseSpec()), ModelSpec.Mlp([3, 4], new TanhSpec(), new MseSpec(), Initializer.PyTorchLinear));
    }

    /// <summary>Specs are values that carry no trained numbers: two models built from one spec instance share nothing mutable.</summary>
    [Fact]
    public void A_spec_holds_hyperparameters_only()
    {
        var spec = new DenseSpec(2, 3);
        var m = new ModelSpec(2, ImmutableArray.Create<LayerSpec>(spec), new MseSpec());
        var a = Model.Init<double>(m, RandomKey.FromSeed(1));
        var b = Model.Init<double>(m, RandomKey.FromSeed(2));
        Assert.False(a.Equals(b));
        Assert.Equal(new DenseSpec(2, 3), spec);
    }
}
