using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;

namespace NeuralPure.Facade.Networks;

/// <summary>Builds a network fluently, Keras-style: <c>Network.Input(64).Dense(32, "relu").Output(10, "cross-entropy")</c>.</summary>
/// <remarks>Each call returns a new builder (nothing is mutated), and <see cref="Output(int, LossSpec, Initializer?)"/> gives the core's <see cref="ModelSpec"/>.</remarks>
public sealed record NetworkBuilder
{
    internal NetworkBuilder(int inputWidth, ImmutableList<LayerSpec> layers, int width)
    {
        InputWidth = inputWidth; Layers = layers; Width = width;
    }

    /// <summary>The input width.</summary>
    public int InputWidth { get; }

    /// <summary>The layers so far.</summary>
    public ImmutableList<LayerSpec> Layers { get; }

    /// <summary>The current width (what the next layer receives).</summary>
    public int Width { get; }

    /// <summary>Adds a hidden dense layer of <paramref name="units"/> followed by <paramref name="activation"/>.</summary>
    /// <param name="units">Output width, ≥ 1.</param>
    /// <param name="activation">The activation after it (default ReLU).</param>
    /// <param name="init">The initializer (default: PyTorch's Linear default).</param>
    /// <exception cref="ArgumentOutOfRangeException">units &lt; 1.</exception>
    public NetworkBuilder Dense(int units, ActivationSpec? activation = null, Initializer? init = null) =>
        new(InputWidth, Layers.Add(new DenseSpec(Width, units, init)).Add(activation ?? new ReluSpec()), units);

    /// <summary>Adds a hidden dense layer with the activation named <paramref name="activation"/> (relu, tanh, …).</summary>
    public NetworkBuilder Dense(int units, string activation, Initializer? init = null) => Dense(units, ActivationSpec.Parse(activation), init);

    /// <summary>Adds batch normalization over the current width (torch.nn.BatchNorm1d: momentum 0.1, ε 1e-5, affine).</summary>
    public NetworkBuilder BatchNorm(double momentum = 0.1, double eps = 1e-5) => new(InputWidth, Layers.Add(new BatchNormSpec(Width, eps, momentum)), Width);

    /// <summary>Adds layer normalization over the current width (torch.nn.LayerNorm: ε 1e-5, affine).</summary>
    public NetworkBuilder LayerNorm(double eps = 1e-5) => new(InputWidth, Layers.Add(new LayerNormSpec(1, eps)), Width);

    /// <summary>Adds dropout with drop probability <paramref name="rate"/>.</summary>
    public NetworkBuilder Dropout(double rate) => new(InputWidth, Layers.Add(new DropoutSpec(rate)), Width);

    /// <summary>Adds the output layer (dense, no activation: the loss takes logits) and the loss; returns the model.</summary>
    /// <exception cref="ArgumentException">The loss cannot follow an output of that width (cross-entropy needs at least 2 classes).</exception>
    public ModelSpec Output(int units, LossSpec loss, Initializer? init = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (units < 1) throw new ArgumentOutOfRangeException(nameof(units), units, "the output needs at least one unit");
        try { loss.RequireOutputShape(Tensors.Shape.Of(units)); }
        catch (ArgumentException e) { throw new ArgumentException($"Output({units}, {loss.Kind}): {e.Message.Split(" (Parameter")[0]}", nameof(loss), e); }
        return new(InputWidth, [.. Layers.Add(new DenseSpec(Width, units, init))], loss);
    }

    /// <summary>Adds the output layer and the loss named <paramref name="loss"/> (cross-entropy, mse, huber, bce), as <c>Dense(…, "relu")</c> names its activation.</summary>
    /// <exception cref="ArgumentException">Unknown loss (the message lists the known ones), or one that cannot follow an output of that width.</exception>
    public ModelSpec Output(int units, string loss, Initializer? init = null) => Output(units, LossSpec.Parse(loss), init);
}

/// <summary>Entry point of the fluent builder.</summary>
public static class Network
{
    /// <summary>Starts a network taking <paramref name="features"/> inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">features &lt; 1.</exception>
    public static NetworkBuilder Input(int features) =>
        features >= 1 ? new NetworkBuilder(features, [], features) : throw new ArgumentOutOfRangeException(nameof(features), features, "a network needs at least one input");
}
