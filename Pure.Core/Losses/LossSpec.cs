using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Which loss a model is trained with, and its options. All losses use mean reduction, as PyTorch's default.</summary>
/// <remarks>
/// Targets are an <see cref="NdArray{T}"/>. For <see cref="SoftmaxCrossEntropySpec"/> they are class labels, a vector
/// [rows] of whole numbers in [0, classes) held in the floating type; for the other losses they have the output's shape
/// [rows, width] (a vector [rows] is accepted when width is 1).
/// </remarks>
public abstract record LossSpec
{
    private protected LossSpec() { }

    /// <summary>A short name (<c>mse</c>, <c>bce</c>, <c>cross-entropy</c>, <c>huber</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>True when targets are class labels rather than values.</summary>
    public virtual bool UsesLabels => false;

    /// <summary>Checks that this loss can follow an output of <paramref name="outputWidth"/>.</summary>
    /// <exception cref="ArgumentException">It cannot.</exception>
    public virtual void RequireOutputWidth(int outputWidth)
    {
        if (outputWidth < 1) throw new ArgumentException($"output width must be ≥ 1, got {outputWidth}", nameof(outputWidth));
    }

    /// <summary>The mean loss of <paramref name="output"/> [rows, width] against <paramref name="target"/>.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, the batch is empty, or a target is invalid (non-finite, a label out of range).</exception>
    public T Value<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T> => ValueAndGrad(output, target).Value;

    /// <summary>The mean loss and its gradient dL/d(output), which has the output's shape.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, the batch is empty, or a target is invalid.</exception>
    public (T Value, NdArray<T> Gradient) ValueAndGrad<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(target);
        if (output.Rank != 2) throw new ArgumentException($"output must be [rows, width], got {output.ShapeText}", nameof(output));
        if (output.Rows == 0) throw new ArgumentException("the batch is empty (0 rows)", nameof(output));
        RequireOutputWidth(output.Shape[1]);
        return Compute(output, target);
    }

    private protected abstract (T Value, NdArray<T> Gradient) Compute<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Checks value targets: the output's shape (or [rows] for width 1), all finite.</summary>
    private protected static void RequireValueTargets<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool same = target.Shape.SequenceEqual(output.Shape) || (target.Rank == 1 && output.Shape[1] == 1 && target.Length == output.Rows);
        if (!same) throw new ArgumentException($"target must have the output's shape {output.ShapeText}, got {target.ShapeText}", nameof(target));
        var s = target.Span;
        for (int i = 0; i < s.Length; i++)
            if (!T.IsFinite(s[i])) throw new ArgumentException($"target element {i} (row {i / output.Shape[1]}) is {s[i]}; targets must be finite", nameof(target));
    }

    /// <summary>The loss called <paramref name="name"/> with default options.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static LossSpec Parse(string name) => name.ToLowerInvariant() switch
    {
        "mse" => new MseSpec(),
        "bce" or "binary-cross-entropy" => new BinaryCrossEntropySpec(),
        "ce" or "cross-entropy" or "softmax-cross-entropy" => new SoftmaxCrossEntropySpec(),
        "huber" => new HuberSpec(),
        _ => throw new ArgumentException($"unknown loss '{name}'; known: mse, bce, cross-entropy, huber", nameof(name)),
    };
}
