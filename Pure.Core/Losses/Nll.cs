using System.Collections.Immutable;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Negative log-likelihood of log-probabilities [rows, classes] with integer class labels (PyTorch's <c>torch.nn.NLLLoss</c>),
/// with optional class weights: L = Σᵢ w[yᵢ]·(−xᵢ[yᵢ]) / Σᵢ w[yᵢ], the weighted mean.</summary>
/// <param name="ClassWeights">Per-class weights w_c ≥ 0 (PyTorch's <c>weight</c>), or null for all 1 (then L divides by rows).</param>
/// <remarks>The inputs are taken as given (log-probabilities, e.g. from a log-softmax; nothing is normalised here).
/// dL/dxᵢⱼ = −w[yᵢ]/W for j = yᵢ, else 0, with W = Σᵢ w[yᵢ]. PyTorch's <c>ignore_index</c> is not supported: every label
/// must be a class.</remarks>
public sealed record NllSpec(ImmutableArray<double>? ClassWeights = null) : LossSpec
{
    /// <summary>The class weights, checked non-empty, finite and ≥ 0.</summary>
    public ImmutableArray<double>? ClassWeights { get; } = CheckWeights(ClassWeights);

    /// <inheritdoc/>
    public override string Kind => "nll";

    /// <inheritdoc/>
    public override bool UsesLabels => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The output is not a vector of log-probabilities, or the class weights are not one per class.</exception>
    public override void RequireOutputShape(Shape output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 1) throw new ArgumentException($"nll takes a vector of log-probabilities per example, not shape {output}", nameof(output));
        if (ClassWeights is { } w && w.Length != output[0])
            throw new ArgumentException($"{w.Length} class weights for an output of {output[0]} classes", nameof(output));
    }

    /// <inheritdoc/>
    public override void RequireTargets<T>(Shape output, int rows, Shape targetShape, ReadOnlySpan<T> target)
    {
        ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(targetShape);
        RequireLabels(target, targetShape, rows, output.Size);
    }

    /// <summary>Value equality that compares the weights element by element.</summary>
    public bool Equals(NllSpec? other) =>
        other is not null && (ClassWeights is null ? other.ClassWeights is null : other.ClassWeights is not null && ClassWeights.Value.SequenceEqual(other.ClassWeights.Value));

    /// <inheritdoc/>
    public override int GetHashCode() => ClassWeights?.Length ?? -1;

    private static ImmutableArray<double>? CheckWeights(ImmutableArray<double>? w)
    {
        if (w is null) return null;
        if (w.Value.IsDefaultOrEmpty) throw new ArgumentException("class weights, when given, must not be empty", nameof(ClassWeights));
        for (int i = 0; i < w.Value.Length; i++)
            if (!(w.Value[i] >= 0) || !double.IsFinite(w.Value[i]))
                throw new ArgumentException($"class weight {i} is {w.Value[i]}; weights must be finite and ≥ 0", nameof(ClassWeights));
        return w;
    }

    /// <summary>Checks the labels (whole numbers in [0, classes), one per row) and that their weights do not sum to 0, then
    /// writes dL/dx (−w[yᵢ]/W at each row's label, 0 elsewhere) and returns L, summed in double in row order.</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        int rows = a.Rows, k = a.OutputShape.Size;
        RequireLabels(a.Target, a.TargetShape, rows, k);
        var weights = ClassWeights is { } cw ? cw.AsSpan() : default;
        double wSum = SoftmaxCrossEntropy.WeightSum(a.Target, weights);
        if (!(wSum > 0)) throw new ArgumentException("the class weights of this batch's labels sum to 0, so the weighted mean is undefined", "target");
        var x = a.Output; var g = a.Gradient;
        g.Clear();
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            int y = int.CreateChecked(a.Target[i]);
            double w = weights.IsEmpty ? 1.0 : weights[y];
            sum += w * -double.CreateChecked(x[i * k + y]);
            g[i * k + y] = T.CreateChecked(-w / wSum);
        }
        return T.CreateChecked(sum / wSum);
    }

    /// <summary>Checks label targets: one per row ([rows] or [rows, 1]), whole numbers in [0, classes).</summary>
    private static void RequireLabels<T>(ReadOnlySpan<T> target, Shape targetShape, int rows, int classes) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        bool ok = targetShape.Rank == 0 || (targetShape.Rank == 1 && targetShape[0] == 1);
        if (!ok) throw new ArgumentException($"nll targets must be class labels [{rows}], got {NdArray.ShapeString(targetShape.Batch(rows))}", "target");
        for (int i = 0; i < rows; i++)
        {
            var v = target[i];
            if (!T.IsFinite(v) || !T.IsInteger(v) || v < T.Zero || v >= T.CreateChecked(classes))
                throw new ArgumentException($"nll label {v} in row {i} is outside [0, {classes}) or not a whole number", "target");
        }
    }
}
