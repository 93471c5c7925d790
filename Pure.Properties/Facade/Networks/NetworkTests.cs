using NeuralPure.Facade.Networks;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using Xunit;

namespace NeuralPure.Properties.Facade.Networks;

public sealed class NetworkTests
{
    [Fact]
    public void The_builder_makes_the_spec_it_reads_like()
    {
        var spec = Network.Input(64).Dense(32, "relu", Initializer.HeUniform).Dropout(0.2).Dense(16, new TanhSpec()).Output(10, new SoftmaxCrossEntropySpec());
        var expected = new ModelSpec(64, [new DenseSpec(64, 32, Initializer.HeUniform), new ReluSpec(), new DropoutSpec(0.2), new DenseSpec(32, 16), new TanhSpec(), new DenseSpec(16, 10)], new SoftmaxCrossEntropySpec());
        Assert.Equal(expected, spec);
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"], spec.ParameterNames.ToArray());
    }

    [Fact]
    public void Builders_are_immutable_values()
    {
        var a = Network.Input(4);
        var b = a.Dense(8);
        Assert.Empty(a.Layers);
        Assert.Equal(4, a.Width);
        Assert.Equal(8, b.Width);
        Assert.Throws<ArgumentOutOfRangeException>(() => Network.Input(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Dense(0));
        Assert.Throws<ArgumentException>(() => a.Output(3, new SoftmaxCrossEntropySpec(System.Collections.Immutable.ImmutableArray.Create(1.0, 2.0))));
    }
}
