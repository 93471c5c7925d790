using System.Numerics;
using System.Runtime.InteropServices;
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
    public override Shape OutputShape(Shape input) => input ?? throw new ArgumentNullException(nameof(input));

    /// <summary>The keep mask of the forward pass, one byte per element, for the backward pass (none at rate 0).</summary>
    public override int ScratchBytes<T>(Shape input, int rows) => Rate == 0 ? 0 : checked(rows * input.Size);

    /// <summary>Training: y = x·m/(1 − p) with mᵢ ~ Bernoulli(1 − p) drawn from the key (the mask is kept in the scratch);
    /// evaluation, or p = 0: y = x.</summary>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        if (!a.Training || Rate == 0) { a.X.CopyTo(a.Y); return; }
        var mask = MemoryMarshal.Cast<byte, bool>(a.Scratch[..a.X.Length]);
        Sampling.KeepMask(a.Key!.Value, 1 - Rate, mask, a.Threads);
        Elementwise.MaskScale(a.X, mask, T.CreateChecked(1 / (1 - Rate)), a.Y);
    }

    /// <summary>dx = dy·m/(1 − p) with the forward pass's mask, or dy at evaluation.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        if (!a.Training || Rate == 0) { a.DY.CopyTo(a.DX); return; }
        Elementwise.MaskScale(a.DY, MemoryMarshal.Cast<byte, bool>(a.Scratch[..a.DY.Length]), T.CreateChecked(1 / (1 - Rate)), a.DX);
    }
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
