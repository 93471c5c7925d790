using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>What a layer is: its hyperparameters, never its trained values (equinox's static fields).</summary>
/// <remarks>
/// A spec knows how to create its parameters (<c>Init</c>), run forward on a batch [rows, width], and run backward:
/// given the input x, the output y and dL/dy, return dL/dx and the gradient of each of its parameters. Every layer
/// works on a batch of rows at once.
/// </remarks>
public abstract record LayerSpec
{
    private protected LayerSpec() { }

    /// <summary>Names of this layer's parameters in file order (PyTorch's: <c>weight</c>, <c>bias</c>); empty for parameter-free layers.</summary>
    public virtual ImmutableArray<string> ParameterNames => [];

    /// <summary>The width this layer outputs for an input of width <paramref name="inputWidth"/>.</summary>
    /// <exception cref="ArgumentException">The layer cannot take that width.</exception>
    public abstract int OutputWidth(int inputWidth);

    /// <summary>A short name for messages and files (<c>dense</c>, <c>relu</c>, …).</summary>
    public abstract string Kind { get; }

    internal virtual NdArray<T>[] Init<T>(RandomKey key) where T : unmanaged, IFloatingPointIeee754<T> => [];

    /// <summary>Forward on a batch; <paramref name="key"/> is non-null only in training mode (dropout).</summary>
    internal abstract NdArray<T> Forward<T>(ReadOnlySpan<NdArray<T>> parameters, NdArray<T> x, RandomKey? key) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Backward: fills <paramref name="parameterGrads"/> and returns dL/dx.</summary>
    internal abstract NdArray<T> Backward<T>(ReadOnlySpan<NdArray<T>> parameters, NdArray<T> x, NdArray<T> y, NdArray<T> dy, RandomKey? key, Span<NdArray<T>> parameterGrads)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
