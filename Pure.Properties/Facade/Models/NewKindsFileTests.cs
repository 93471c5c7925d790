using System.Collections.Immutable;
using NeuralPure.Facade.Models;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using Xunit;

namespace NeuralPure.Properties.Facade.Models;

/// <summary>The kinds added since the first file format (normalization, SiLU, ELU, Softplus, L1, SmoothL1, NLL) are the library's
/// own registered kinds: a spec with each, hyperparameters included, survives the file format unchanged without any registry.</summary>
public sealed class NewKindsFileTests
{
    public static TheoryData<string> Specs() => ["norms-silu-elu-softplus-nll", "l1", "smooth-l1", "cnn", "log-softmax"];

    private static ModelSpec Spec(string name) => name switch
    {
        "log-softmax" => new ModelSpec(3, [new DenseSpec(3, 4), new ReluSpec(), new DenseSpec(4, 3), new LogSoftmaxSpec()], new NllSpec()),
        "l1" => new ModelSpec(3, [new DenseSpec(3, 4), new EluSpec(0.5), new DenseSpec(4, 2)], new L1Spec()),
        "smooth-l1" => new ModelSpec(3, [new DenseSpec(3, 4), new SoftplusSpec(2, 15), new DenseSpec(4, 2)], new SmoothL1Spec(0.25)),
        "cnn" => new ModelSpec(NeuralPure.Tensors.Shape.Of(1, 8, 8), [new Conv2dSpec(1, 4, 3, 2, 1, 2, 1, 0, Bias: false), new BatchNormSpec(4), new ReluSpec(),
            new MaxPool2dSpec(2, 2, 1, 1), new AvgPool2dSpec(2, 1, PaddingH: 1, CountIncludePad: false), new FlattenSpec(), new DenseSpec(48, 3)], new SoftmaxCrossEntropySpec()),
        _ => new ModelSpec(3, [new DenseSpec(3, 4), new BatchNormSpec(4, 1e-3, 0.2), new SiluSpec(), new DenseSpec(4, 5), new LayerNormSpec(1, 1e-4, Affine: false),
            new EluSpec(1.5), new SoftplusSpec(0.5, 10), new DenseSpec(5, 3)], new NllSpec(ImmutableArray.Create(1.0, 2.0, 0.5))),
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void Each_new_kind_round_trips_through_the_architecture_json(string name)
    {
        var spec = Spec(name);
        var json = SpecJson.ToJson(spec).ToJsonString();
        var back = SpecJson.FromJson(json, "test");
        Assert.Equal(json, SpecJson.ToJson(back).ToJsonString());
        Assert.Equal(spec.Layers.ToArray(), back.Layers.ToArray());
        Assert.Equal(spec.Loss.Kind, back.Loss.Kind);
        Assert.Equal(spec.Loss.GetType(), back.Loss.GetType());
    }
}
