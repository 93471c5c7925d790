using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Which loss a model is trained with, and its options — and its value and gradient, written once on spans. All
/// built-in losses use mean reduction, as PyTorch's default.</summary>
/// <remarks>
/// <para>Targets are an <see cref="NdArray{T}"/>. For <see cref="SoftmaxCrossEntropySpec"/> they are class labels, a vector
/// [rows] of whole numbers in [0, classes) held in the floating type; for the other losses they have the output's shape
/// [rows, width] (a vector [rows] is accepted when width is 1).</para>
/// <para><see cref="ValueAndGrad{T}(in LossArgs{T})"/> is the loss: it checks the targets it is given, writes dL/d(output) and
/// returns the mean loss. The pure <see cref="ValueAndGrad{T}(NdArray{T}, NdArray{T})"/> allocates the gradient and calls it;
/// the training fold calls it on its workspaces. A user's loss, from any assembly, overrides it and trains at full speed.</para>
/// </remarks>
public abstract record LossSpec
{
    /// <summary>For derived losses, in any assembly.</summary>
    protected LossSpec() { }

    /// <summary>A short name (<c>mse</c>, <c>bce</c>, <c>cross-entropy</c>, <c>huber</c>); a user loss's files find it by this name.</summary>
    public abstract string Kind { get; }

    /// <summary>True when targets are class labels rather than values.</summary>
    public virtual bool UsesLabels => false;

    /// <summary>Checks that this loss can follow an output example of shape <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">It cannot.</exception>
    public virtual void RequireOutputShape(Shape output) => ArgumentNullException.ThrowIfNull(output);

    /// <summary>Checks a whole data set's targets before training, so that a bad one is named by its row in the data set rather
    /// than in a shuffled batch at the first step that meets it. The default checks class labels (whole numbers in [0, classes))
    /// when <see cref="UsesLabels"/>, else finite values of the output's shape; override to add a loss's own rule.</summary>
    /// <param name="output">The model's output shape per example.</param>
    /// <param name="rows">The data set's rows.</param>
    /// <param name="targetShape">The targets' shape per example.</param>
    /// <param name="target">All targets, row-major.</param>
    /// <exception cref="ArgumentException">A target is invalid (the message names its row).</exception>
    public virtual void RequireTargets<T>(Shape output, int rows, Shape targetShape, ReadOnlySpan<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(targetShape);
        if (UsesLabels) { SoftmaxCrossEntropy.RequireLabels(target, targetShape, rows, output.Size); return; }
        bool same = targetShape.Equals(output) || (targetShape.Rank == 0 && output.Rank == 1 && output[0] == 1);
        if (!same) throw new ArgumentException($"targets must have the output's shape {NdArray.ShapeString(output.Batch(rows))}, got {NdArray.ShapeString(targetShape.Batch(rows))}", "target");
        int width = Math.Max(1, output.Size);
        for (int i = 0; i < target.Length; i++)
            if (!T.IsFinite(target[i])) throw new ArgumentException($"the target in row {i / width}{(width > 1 ? $", column {i % width}" : "")} is {target[i]}; targets must be finite", "target");
    }

    /// <summary>Doubles of scratch space one evaluation needs for outputs of shape <paramref name="output"/> (0: none).</summary>
    public virtual int ScratchDoubles(Shape output) => 0;

    /// <summary>The loss on spans: checks the targets, writes dL/d(output) into <see cref="LossArgs{T}.Gradient"/> (every
    /// element) and returns the mean loss.</summary>
    /// <exception cref="ArgumentException">A target is invalid (its shape, a non-finite value, a label out of range); the message
    /// names its row in the batch.</exception>
    public abstract T ValueAndGrad<T>(in LossArgs<T> a) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The mean loss of <paramref name="output"/> [rows, …] against <paramref name="target"/>.</summary>
    /// <exception cref="ArgumentException">Shapes disagree, the batch is empty, or a target is invalid (non-finite, a label out of range).</exception>
    public T Value<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T> => ValueAndGrad(output, target).Value;

    /// <summary>The mean loss and its gradient dL/d(output), which has the output's shape (a new array).</summary>
    /// <exception cref="ArgumentException">Shapes disagree, the batch is empty, or a target is invalid.</exception>
    public (T Value, NdArray<T> Gradient) ValueAndGrad<T>(NdArray<T> output, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(target);
        if (output.Rank < 2) throw new ArgumentException($"output must be [rows, width], got {output.ShapeText}", nameof(output));
        if (output.Rows == 0) throw new ArgumentException("the batch is empty (0 rows)", nameof(output));
        var outShape = Shape.OfExamples(output.Shape);
        RequireOutputShape(outShape);
        if (target.Rank < 1 || target.Shape[0] != output.Rows)
            throw new ArgumentException(UsesLabels
                ? $"cross-entropy targets must be class labels [{output.Rows}], got {target.ShapeText}"
                : $"target must have the output's shape {output.ShapeText}, got {target.ShapeText}", nameof(target));
        var g = new T[output.Length];
        var value = ValueAndGrad(new LossArgs<T>(output.Rows, outShape, output.Span, Shape.OfExamples(target.Shape), target.Span, g, new double[ScratchDoubles(outShape)]));
        return (value, NdArray.Own(g, output.Shape));
    }

    /// <summary>Checks value targets: the output's shape (or [rows] for width 1), all finite.</summary>
    /// <exception cref="ArgumentException">Names the shape, or the element and row of the first non-finite target.</exception>
    protected static void RequireValueTargets<T>(in LossArgs<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool same = a.TargetShape.Equals(a.OutputShape) || (a.TargetShape.Rank == 0 && a.OutputShape.Rank == 1 && a.OutputShape[0] == 1);
        if (!same) throw new ArgumentException($"target must have the output's shape {NdArray.ShapeString(a.OutputShape.Batch(a.Rows))}, got {NdArray.ShapeString(a.TargetShape.Batch(a.Rows))}", "target");
        var s = a.Target;
        int width = a.OutputShape.Size;
        for (int i = 0; i < s.Length; i++)
            if (!T.IsFinite(s[i])) throw new ArgumentException($"target element {i} (row {i / width}) is {s[i]}; targets must be finite", "target");
    }

    /// <summary>The built-in loss called <paramref name="name"/> with default options: mse, bce, cross-entropy, huber, l1 (mae), smooth-l1, nll.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static LossSpec Parse(string name) => name.ToLowerInvariant() switch
    {
        "mse" => new MseSpec(),
        "bce" or "binary-cross-entropy" => new BinaryCrossEntropySpec(),
        "ce" or "cross-entropy" or "softmax-cross-entropy" => new SoftmaxCrossEntropySpec(),
        "huber" => new HuberSpec(),
        "l1" or "mae" => new L1Spec(),
        "smooth-l1" or "smooth_l1" or "smoothl1" => new SmoothL1Spec(),
        "nll" => new NllSpec(),
        _ => throw new ArgumentException($"unknown loss '{name}'; known: mse, bce, cross-entropy, huber, l1, smooth-l1, nll", nameof(name)),
    };
}

/// <summary>What a loss gets: the batch's outputs and targets, a destination for dL/d(output), and scratch.</summary>
/// <remarks>Spans over the caller's buffers, valid for the duration of the call only.</remarks>
public readonly ref struct LossArgs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Bundles the arguments of one evaluation.</summary>
    /// <exception cref="ArgumentException">A span's length does not fit rows and its shape.</exception>
    public LossArgs(int rows, Shape outputShape, ReadOnlySpan<T> output, Shape targetShape, ReadOnlySpan<T> target, Span<T> gradient, Span<double> scratch)
    {
        ArgumentNullException.ThrowIfNull(outputShape); ArgumentNullException.ThrowIfNull(targetShape);
        if (rows < 1) throw new ArgumentException("the batch is empty (0 rows)", "output");
        if (output.Length != (long)rows * outputShape.Size) throw new ArgumentException($"output has {output.Length} elements, not {rows} × {outputShape}", nameof(output));
        if (target.Length != (long)rows * targetShape.Size) throw new ArgumentException($"target has {target.Length} elements, not {rows} × {targetShape}", nameof(target));
        if (gradient.Length != output.Length) throw new ArgumentException($"gradient has {gradient.Length} elements, the output {output.Length}", nameof(gradient));
        Rows = rows; OutputShape = outputShape; Output = output; TargetShape = targetShape; Target = target; Gradient = gradient; Scratch = scratch;
    }

    /// <summary>Examples in the batch (≥ 1).</summary>
    public int Rows { get; }
    /// <summary>One output example's shape.</summary>
    public Shape OutputShape { get; }
    /// <summary>The model's outputs, [rows, …output shape].</summary>
    public ReadOnlySpan<T> Output { get; }
    /// <summary>One target's shape ([] for a label or a single value per row).</summary>
    public Shape TargetShape { get; }
    /// <summary>The targets, [rows, …target shape].</summary>
    public ReadOnlySpan<T> Target { get; }
    /// <summary>The destination of dL/d(output): write every element.</summary>
    public Span<T> Gradient { get; }
    /// <summary><see cref="LossSpec.ScratchDoubles"/> doubles of scratch.</summary>
    public Span<double> Scratch { get; }
}
