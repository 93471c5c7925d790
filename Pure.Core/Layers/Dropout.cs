using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>Dropout: in training, zero each element with probability <paramref name="Rate"/> and scale the survivors by 1/(1 − rate) (inverted dropout); at evaluation, the identity.</summary>
/// <param name="Rate">The drop probability p ∈ [0, 1).</param>
/// <remarks>Srivastava et al. (2014). The mask is a pure function of the key, so backward rebuilds it instead of storing it,
/// and a run with dropout is still a pure function of its seed.</remarks>
public sealed record DropoutSpec(double Rate) : LayerSpec
{
    /// <summary>The drop probability, checked.</summary>
    public double Rate { get; } = Rate >= 0 && Rate < 1 ? Rate : throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "dropout rate must be in [0, 1)");

    /// <inheritdoc/>
    public override string Kind => "dropout";

    /// <inheritdoc/>
    public override int OutputWidth(int inputWidth) => inputWidth;

    internal override NdArray<T> Forward<T>(ReadOnlySpan<NdArray<T>> p, NdArray<T> x, RandomKey? key) => Dropout.Forward(x, Rate, key);

    internal override NdArray<T> Backward<T>(ReadOnlySpan<NdArray<T>> p, NdArray<T> x, NdArray<T> y, NdArray<T> dy, RandomKey? key, Span<NdArray<T>> grads) => Dropout.Backward(dy, Rate, key);
}

/// <summary>Inverted dropout, forward and backward.</summary>
public static class Dropout
{
    /// <summary>Training (key given): y = x·m/(1 − p) with mᵢ ~ Bernoulli(1 − p) drawn from the key. Evaluation (key null): y = x.</summary>
    public static NdArray<T> Forward<T>(NdArray<T> x, double rate, RandomKey? key) where T : unmanaged, IFloatingPointIeee754<T> => Masked(x, rate, key);

    /// <summary>dx = dy·m/(1 − p) with the same mask as the forward pass (the same key), or dy at evaluation.</summary>
    public static NdArray<T> Backward<T>(NdArray<T> dy, double rate, RandomKey? key) where T : unmanaged, IFloatingPointIeee754<T> => Masked(dy, rate, key);

    private static NdArray<T> Masked<T>(NdArray<T> x, double rate, RandomKey? key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(rate >= 0 && rate < 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "dropout rate must be in [0, 1)");
        if (key is null || rate == 0) return x;
        var mask = new bool[x.Length];
        Sampling.KeepMask(key.Value, 1 - rate, mask);
        var r = new T[x.Length];
        Elementwise.MaskScale(x.Span, mask, T.CreateChecked(1 / (1 - rate)), r);
        return NdArray.Own(r, x.Shape);
    }
}
