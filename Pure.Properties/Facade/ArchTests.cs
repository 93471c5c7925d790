using NeuralPure.Facade.Networks;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Facade;

/// <summary>A model in one line: shapes inferred, the output layer appended, every mistake named by its item.</summary>
public sealed class ArchTests
{
    private static readonly LossSpec Ce = new SoftmaxCrossEntropySpec();

    [Fact]
    public void Widths_and_channels_are_inferred_and_the_output_layer_is_appended_unless_given()
    {
        var spec = Arch.Parse("dense(32), batchnorm, relu, dropout(0.1), dense(16), layernorm, gelu", Shape.Of(4), 3, Ce);
        Assert.Equal(new LayerSpec[] { new DenseSpec(4, 32), new BatchNormSpec(32), new ReluSpec(), new DropoutSpec(0.1), new DenseSpec(32, 16), new LayerNormSpec(), new GeluSpec(), new DenseSpec(16, 3) },
            spec.Layers.ToArray());
        Assert.Equal(Arch.Parse("dense(32),relu,dense(3)", Shape.Of(4), 3, Ce), Arch.Parse("linear(units=32),relu", Shape.Of(4), 3, Ce));
        Assert.Equal(Network.Input(4).Dense(32, "relu").BatchNorm().LayerNorm().Output(3, "cross-entropy"),
            Arch.Parse("dense(32),relu,bn,layernorm", Shape.Of(4), 3, Ce));
        Assert.Equal(new BatchNormSpec(8, 1e-3, 0.01), Arch.Parse("dense(8),batchnorm(momentum=0.01,eps=1e-3)", Shape.Of(4), 3, Ce).Layers[1]);
    }

    [Theory]
    [InlineData("", "--arch is empty")]
    [InlineData("dense(32),pool(3)", "--arch item 2 'pool(3)' is not a layer NeuralPure knows; known: avgpool, batchnorm, conv, dense")]
    [InlineData("dense", "--arch item 1 (dense) needs its units")]
    [InlineData("dense(x)", "units must be a number, got 'x'")]
    [InlineData("dense(3.5)", "units must be a whole number")]
    [InlineData("dense(8,9)", "takes at most 1 positional argument(s), got 2")]
    [InlineData("dropout(rate=0.1,p=2)", "has no option 'p'; it takes rate")]
    [InlineData("dense(8", "opens a parenthesis it does not close")]
    [InlineData("dense(8)),relu", "has a ')' without its '('")]
    [InlineData("relu(2)", "takes at most 0 positional")]
    [InlineData("dropout(1.5)", "--arch item 1 'dropout(1.5)'")]
    public void Mistakes_name_the_item(string arch, string message) =>
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => Arch.Parse(arch, Shape.Of(4), 3, Ce)).Message);

    [Fact]
    public void Images_need_flatten_before_a_dense_layer()
    {
        var e = Assert.Throws<ArgumentException>(() => Arch.Parse("dense(32)", Shape.Of(1, 28, 28), 10, Ce));
        Assert.Contains("takes vectors, but the shape here is [1, 28, 28]; add flatten before it", e.Message);
        Assert.Contains("add flatten so the output layer dense(10) can follow", Assert.Throws<ArgumentException>(() => Arch.Parse("batchnorm", Shape.Of(1, 28, 28), 10, Ce)).Message);
    }

    [Fact]
    public void A_cnn_in_one_line_infers_its_channels_and_flattened_width()
    {
        var spec = Arch.Parse("conv(32,3,pad=1),relu,maxpool(2),conv(64,3,pad=1),batchnorm,relu,maxpool(2),flatten,dense(128),relu,dense(10)", Shape.Of(1, 28, 28), 10, Ce);
        Assert.Equal(Conv2dSpec.Square(1, 32, 3, 1, 1), spec.Layers[0]);
        Assert.Equal(Conv2dSpec.Square(32, 64, 3, 1, 1), spec.Layers[3]);
        Assert.Equal(new BatchNormSpec(64), spec.Layers[4]);
        Assert.Equal(new DenseSpec(64 * 7 * 7, 128), spec.Layers[8]);
        Assert.Equal(11, spec.Layers.Length); // dense(10) given: no output layer appended
        Assert.Equal(new AvgPool2dSpec(2, 2, 1, 1, CountIncludePad: false), Arch.Parse("avgpool(2,stride=1,count_include_pad=false),flatten", Shape.Of(1, 4, 4), 2, Ce).Layers[0]);
        Assert.Contains("takes images [C, H, W], but the shape here is [4]", Assert.Throws<ArgumentException>(() => Arch.Parse("conv(8,3)", Shape.Of(4), 2, Ce)).Message);
        Assert.Contains("--arch item 1 'conv(8,9)'", Assert.Throws<ArgumentException>(() => Arch.Parse("conv(8,9)", Shape.Of(1, 4, 4), 2, Ce)).Message);
    }

    [Fact]
    public void The_fluent_builder_has_the_same_layers()
    {
        var built = Network.Input(1, 28, 28).Conv(32, 3, padding: 1).MaxPool(2).Conv(64, 3, padding: 1, activation: "identity").BatchNorm().Then(new ReluSpec())
            .MaxPool(2).Flatten().Dense(128).Dropout(0.2).Output(10, "cross-entropy");
        var parsed = Arch.Parse("conv(32,3,pad=1),relu,maxpool(2),conv(64,3,pad=1),batchnorm,relu,maxpool(2),flatten,dense(128),relu,dropout(0.2)", Shape.Of(1, 28, 28), 10, Ce);
        Assert.Equal(parsed.Layers.ToArray(), built.Layers.ToArray());
        Assert.Equal(parsed.Input, built.Input);
        Assert.Contains("Dense takes vectors, but the shape here is [1, 28, 28]; call Flatten() first", Assert.Throws<ArgumentException>(() => Network.Input(1, 28, 28).Dense(8)).Message);
        Assert.Contains("Conv takes images [C, H, W]", Assert.Throws<ArgumentException>(() => Network.Input(8).Conv(4, 3)).Message);
    }
}
