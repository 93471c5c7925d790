using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Networks;

/// <summary>Builds a network fluently, Keras-style: <c>Network.Input(64).Dense(32, "relu").Output(10, "cross-entropy")</c>, or on
/// images <c>Network.Input(1, 28, 28).Conv(32, 3, padding: 1).MaxPool(2).Flatten().Dense(128).Output(10, "cross-entropy")</c>.</summary>
/// <remarks>Each call returns a new builder (nothing is mutated), tracks the example shape so only what a layer makes is given, and
/// <see cref="Output(int, LossSpec, Initializer?)"/> gives the core's <see cref="ModelSpec"/>.</remarks>
public sealed record NetworkBuilder
{
    internal NetworkBuilder(Shape input, ImmutableList<LayerSpec> layers, Shape current)
    {
        Input = input; Layers = layers; Current = current;
    }

    /// <summary>One input example's shape.</summary>
    public Shape Input { get; }

    /// <summary>The input width (the input's size).</summary>
    public int InputWidth => Input.Size;

    /// <summary>The layers so far.</summary>
    public ImmutableList<LayerSpec> Layers { get; }

    /// <summary>The shape the next layer receives.</summary>
    public Shape Current { get; }

    /// <summary>The current width (the shape's size).</summary>
    public int Width => Current.Size;

    /// <summary>The layer appended, with the shape it makes (its OutputShape checks that it fits).</summary>
    /// <exception cref="ArgumentException">The layer cannot take the current shape (the message says which and why).</exception>
    public NetworkBuilder Then(LayerSpec layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return new(Input, Layers.Add(layer), layer.OutputShape(Current));
    }

    private int VectorWidth(string what) => Current.Rank == 1 ? Current[0]
        : throw new ArgumentException($"{what} takes vectors, but the shape here is {Current}; call Flatten() first", nameof(what));

    /// <summary>Adds a hidden dense layer of <paramref name="units"/> followed by <paramref name="activation"/>.</summary>
    /// <param name="units">Output width, ≥ 1.</param>
    /// <param name="activation">The activation after it (default ReLU).</param>
    /// <param name="init">The initializer (default: PyTorch's Linear default).</param>
    /// <exception cref="ArgumentOutOfRangeException">units &lt; 1.</exception>
    /// <exception cref="ArgumentException">The shape here is not a vector.</exception>
    public NetworkBuilder Dense(int units, ActivationSpec? activation = null, Initializer? init = null) =>
        Then(new DenseSpec(VectorWidth("Dense"), units, init)).Then(activation ?? new ReluSpec());

    /// <summary>Adds a hidden dense layer with the activation named <paramref name="activation"/> (relu, tanh, …).</summary>
    public NetworkBuilder Dense(int units, string activation, Initializer? init = null) => Dense(units, ActivationSpec.Parse(activation), init);

    /// <summary>Adds a square convolution over [C, H, W] examples (torch.nn.Conv2d; channels in from the shape) followed by <paramref name="activation"/> (default ReLU; pass "identity" for none).</summary>
    /// <exception cref="ArgumentException">The shape here is not an image, or the kernel does not fit.</exception>
    public NetworkBuilder Conv(int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true, string activation = "relu")
    {
        if (Current.Rank != 3) throw new ArgumentException($"Conv takes images [C, H, W], but the shape here is {Current}", nameof(outChannels));
        var b = Then(Conv2dSpec.Square(Current[0], outChannels, kernel, stride, padding, bias));
        return activation == "identity" ? b : b.Then(ActivationSpec.Parse(activation));
    }

    /// <summary>Adds square max pooling (stride = kernel by default).</summary>
    public NetworkBuilder MaxPool(int kernel, int? stride = null, int padding = 0) => Then(MaxPool2dSpec.Square(kernel, stride, padding));

    /// <summary>Adds square average pooling (stride = kernel by default; padded zeros counted, as PyTorch's default).</summary>
    public NetworkBuilder AvgPool(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true) => Then(AvgPool2dSpec.Square(kernel, stride, padding, countIncludePad));

    /// <summary>Adds random flips for augmentation (training only; left–right by default): <see cref="RandomFlipSpec"/>.</summary>
    public NetworkBuilder RandomFlip(bool horizontal = true, bool vertical = false) => Then(new RandomFlipSpec(horizontal, vertical));

    /// <summary>Adds random shifts of up to <paramref name="max"/> pixels for augmentation (training only; zeros move in): <see cref="RandomShiftSpec"/>.</summary>
    public NetworkBuilder RandomShift(int max) => Then(RandomShiftSpec.Square(max));

    /// <summary>Flattens each example to a vector.</summary>
    public NetworkBuilder Flatten() => Then(new FlattenSpec());

    /// <summary>Adds batch normalization over the current channels (the shape's first axis; torch.nn.BatchNorm1d/2d: momentum 0.1, ε 1e-5, affine).</summary>
    public NetworkBuilder BatchNorm(double momentum = 0.1, double eps = 1e-5) => Then(new BatchNormSpec(Current[0], eps, momentum));

    /// <summary>Adds layer normalization over the last dimension (torch.nn.LayerNorm: ε 1e-5, affine).</summary>
    public NetworkBuilder LayerNorm(double eps = 1e-5) => Then(new LayerNormSpec(1, eps));

    /// <summary>Adds dropout with drop probability <paramref name="rate"/>.</summary>
    public NetworkBuilder Dropout(double rate) => Then(new DropoutSpec(rate));

    /// <summary>Adds the output layer (dense, no activation: the loss takes logits) and the loss; returns the model. For nll,
    /// which takes log-probabilities, the dense layer is followed by a log-softmax (PyTorch's <c>nn.Linear</c>,
    /// <c>nn.LogSoftmax(dim=1)</c> before <c>nn.NLLLoss</c>).</summary>
    /// <exception cref="ArgumentException">The loss cannot follow an output of that width (cross-entropy needs at least 2 classes), or the shape here is not a vector.</exception>
    public ModelSpec Output(int units, LossSpec loss, Initializer? init = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (units < 1) throw new ArgumentOutOfRangeException(nameof(units), units, "the output needs at least one unit");
        try { loss.RequireOutputShape(Shape.Of(units)); }
        catch (ArgumentException e) { throw new ArgumentException($"Output({units}, {loss.Kind}): {e.Message.Split(" (Parameter")[0]}", nameof(loss), e); }
        var layers = Layers.Add(new DenseSpec(VectorWidth("Output"), units, init));
        return new(Input, [.. loss is NllSpec ? layers.Add(new LogSoftmaxSpec()) : layers], loss);
    }

    /// <summary>Adds the output layer and the loss named <paramref name="loss"/> (cross-entropy, mse, huber, bce, l1, smooth-l1, nll), as <c>Dense(…, "relu")</c> names its activation.</summary>
    /// <exception cref="ArgumentException">Unknown loss (the message lists the known ones), or one that cannot follow an output of that width.</exception>
    public ModelSpec Output(int units, string loss, Initializer? init = null) => Output(units, LossSpec.Parse(loss), init);
}

/// <summary>Entry point of the fluent builder.</summary>
public static class Network
{
    /// <summary>Starts a network taking <paramref name="features"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">features &lt; 1.</exception>
    public static NetworkBuilder Input(int features) =>
        features >= 1 ? new NetworkBuilder(Shape.Of(features), [], Shape.Of(features)) : throw new ArgumentOutOfRangeException(nameof(features), features, "a network needs at least one input");

    /// <summary>Starts a network on examples of shape <paramref name="shape"/>, e.g. <c>Input(1, 28, 28)</c> for grey images.</summary>
    /// <exception cref="ArgumentException">An empty shape or a dimension &lt; 1.</exception>
    public static NetworkBuilder Input(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d < 1)) throw new ArgumentException($"an input shape needs dimensions ≥ 1, got [{string.Join(", ", shape)}]", nameof(shape));
        var s = Shape.Of(shape);
        return new NetworkBuilder(s, [], s);
    }
}
