using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.Intrinsics;
using NeuralPure.Tensors;

using NeuralPure.Numerics;
namespace NeuralPure.Losses;

/// <summary>Softmax cross-entropy from logits with integer class labels (PyTorch's <c>F.cross_entropy</c>), with optional class weights and label smoothing.</summary>
/// <param name="ClassWeights">Per-class weights w_c ≥ 0 (PyTorch's <c>weight</c>), or null for all 1.</param>
/// <param name="LabelSmoothing">ε ∈ [0, 1] (PyTorch's <c>label_smoothing</c>), default 0.</param>
/// <remarks>
/// <para>With log pᵢ = log_softmax(zᵢ) (computed as z − max − log Σ e^(z − max): no overflow for any logits), K classes
/// and W = Σᵢ w[yᵢ], PyTorch defines the weighted mean</para>
/// <para>L = (1 − ε)/W · Σᵢ w[yᵢ]·(−log pᵢ[yᵢ]) + ε/(K·W) · Σᵢ Σ_c w_c·(−log pᵢ[c]).</para>
/// <para>Its gradient is dL/dzᵢⱼ = [(1 − ε)·w[yᵢ]·(pᵢⱼ − [j = yᵢ]) + ε/K·(S·pᵢⱼ − wⱼ)] / W with S = Σ_c w_c.
/// Without weights W = rows and S = K. Each row of the gradient sums to 0 in every case (weights only rescale a row; adding a constant to a row of logits changes nothing).</para>
/// </remarks>
public sealed record SoftmaxCrossEntropySpec(ImmutableArray<double>? ClassWeights = null, double LabelSmoothing = 0.0) : LossSpec
{
    /// <summary>The class weights, checked finite and ≥ 0.</summary>
    public ImmutableArray<double>? ClassWeights { get; } = CheckWeights(ClassWeights);

    /// <summary>ε, checked in [0, 1].</summary>
    public double LabelSmoothing { get; } = LabelSmoothing >= 0 && LabelSmoothing <= 1 ? LabelSmoothing
        : throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "label smoothing must be in [0, 1]");

    /// <inheritdoc/>
    public override string Kind => "cross-entropy";

    /// <inheritdoc/>
    public override bool UsesLabels => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The output is not a vector of logits, or the class weights are not one per class.</exception>
    public override void RequireOutputShape(Shape output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 1) throw new ArgumentException($"cross-entropy takes a vector of logits per example, not shape {output}", nameof(output));
        if (output[0] < 2) throw new ArgumentException($"cross-entropy needs at least 2 classes (outputs), got {output[0]}", nameof(output));
        if (ClassWeights is { } w && w.Length != output[0])
            throw new ArgumentException($"{w.Length} class weights for an output of {output[0]} classes", nameof(output));
    }

    /// <summary>k doubles: the exponentials of one row.</summary>
    public override int ScratchDoubles(Shape output) => output.Size;

    /// <summary>Value equality that compares the weights element by element.</summary>
    public bool Equals(SoftmaxCrossEntropySpec? other) =>
        other is not null && LabelSmoothing.Equals(other.LabelSmoothing)
        && (ClassWeights is null ? other.ClassWeights is null : other.ClassWeights is not null && ClassWeights.Value.SequenceEqual(other.ClassWeights.Value));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(LabelSmoothing, ClassWeights?.Length ?? -1);

    private static ImmutableArray<double>? CheckWeights(ImmutableArray<double>? w)
    {
        if (w is null) return null;
        if (w.Value.IsDefaultOrEmpty) throw new ArgumentException("class weights, when given, must not be empty", nameof(ClassWeights));
        for (int i = 0; i < w.Value.Length; i++)
            if (!(w.Value[i] >= 0) || !double.IsFinite(w.Value[i]))
                throw new ArgumentException($"class weight {i} is {w.Value[i]}; weights must be finite and ≥ 0", nameof(ClassWeights));
        return w;
    }

    /// <summary>Checks the labels (whole numbers in [0, k), one per row) and that their weights do not sum to 0, then evaluates
    /// <see cref="SoftmaxCrossEntropy"/>'s one pass over the logits.</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        int rows = a.Rows, k = a.OutputShape.Size;
        SoftmaxCrossEntropy.RequireLabels(a.Target, a.TargetShape, rows, k);
        var weights = ClassWeights is { } w ? w.AsSpan() : default;
        if (!(SoftmaxCrossEntropy.WeightSum(a.Target, weights) > 0))
            throw new ArgumentException("the class weights of this batch's labels sum to 0, so the weighted mean is undefined", "target");
        return T.CreateChecked(SoftmaxCrossEntropy.ValueAndGrad(a.Output, a.Target, k, weights, LabelSmoothing, a.Gradient, a.Scratch));
    }
}

/// <summary>Softmax and cross-entropy helpers.</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>W = Σᵢ w[yᵢ] (the number of rows without weights), summed in row order.</summary>
    internal static double WeightSum<T>(ReadOnlySpan<T> labels, ReadOnlySpan<double> weights) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double wSum = 0;
        foreach (var y in labels) wSum += weights.IsEmpty ? 1.0 : weights[int.CreateChecked(y)];
        return wSum;
    }

    /// <summary>The loss of <see cref="SoftmaxCrossEntropySpec"/> and its gradient, for logits z [rows, k] and checked labels:
    /// writes dL/dz into <paramref name="grad"/> and returns L. The one evaluation both the pure loss and the training fold use.</summary>
    /// <param name="z">Logits, row-major [labels.Length, k].</param>
    /// <param name="labels">Class of each row, in [0, k).</param>
    /// <param name="k">Classes.</param>
    /// <param name="weights">Class weights, or empty for all 1.</param>
    /// <param name="eps">Label smoothing ε.</param>
    /// <param name="grad">Receives the gradient, [rows, k].</param>
    /// <param name="e">Scratch of k doubles.</param>
    /// <remarks>Per row, in double: m = max z, eⱼ = exp(zⱼ − m), lse = m + log Σ eⱼ, so −log pⱼ = lse − zⱼ and pⱼ = eⱼ / Σ e
    /// (one exponential per logit). With ε = 0 the smoothing terms are 0 and are not evaluated (adding them would change no bit).</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // a kernel: optimized from its first call, and warmed up (KernelWarmup)
    internal static double ValueAndGrad<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> labels, int k, ReadOnlySpan<double> weights, double eps, Span<T> grad, Span<double> e)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = labels.Length;
        bool weighted = !weights.IsEmpty, smoothing = eps != 0;
        double wSum = WeightSum(labels, weights), s = 0;
        for (int c = 0; c < k; c++) s += weighted ? weights[c] : 1.0;
        double nll = 0, smooth = 0, keep = 1 - eps, share = eps / k;
        // Rows in groups whose shifted logits fit a small buffer, exponentiated in one ExpInPlace call (its vector lanes are
        // filled across rows: ten classes alone leave a partial register and a scalar tail per row). Each exponential is the
        // same function of its own argument, so grouping changes no bit.
        int group = Math.Max(1, ExpBuffer / k);
        Span<double> buffer = k <= ExpBuffer ? stackalloc double[ExpBuffer] : e[..k];
        if (k > ExpBuffer) group = 1;
        Span<double> maxima = stackalloc double[ExpBuffer / 2];          // each row's max, for its log-sum-exp (k ≥ 2)
        for (int i0 = 0; i0 < rows; i0 += group)
        {
            int count = Math.Min(group, rows - i0);
            for (int i = i0; i < i0 + count; i++)
            {
                var zi = z.Slice(i * k, k);
                double m = double.NegativeInfinity;
                foreach (var v in zi) m = Math.Max(m, double.CreateChecked(v));
                maxima[i - i0] = m;
                var ei = buffer.Slice((i - i0) * k, k);
                for (int j = 0; j < k; j++) ei[j] = double.CreateChecked(zi[j]) - m;
            }
            Elementary.ExpInPlace(buffer[..(count * k)]);
            if (!smoothing && k <= ExpBuffer && Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
            {
                Rows(z.Slice(i0 * k, count * k), maxima[..count], buffer[..(count * k)], labels.Slice(i0, count), grad.Slice(i0 * k, count * k), weights, keep, wSum, ref nll);
                continue;
            }
            for (int i = i0; i < i0 + count; i++)
                nll += Row(z.Slice(i * k, k), maxima[i - i0], buffer.Slice((i - i0) * k, k), int.CreateChecked(labels[i]), grad.Slice(i * k, k), weights, weighted, smoothing, keep, share, s, wSum, ref smooth);
        }
        return keep * nll / wSum + share * smooth / wSum;
    }

    /// <summary>Doubles of shifted logits exponentiated per call (a group of rows).</summary>
    private const int ExpBuffer = 256;

    /// <summary>One row's loss term w_y·(lse − z_y) (returned) and its gradient, from its logits, their max m and eⱼ = exp(zⱼ − m); the
    /// smoothing term is added to <paramref name="smooth"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double Row<T>(ReadOnlySpan<T> zi, double m, ReadOnlySpan<double> e, int y, Span<T> gi, ReadOnlySpan<double> weights, bool weighted, bool smoothing,
        double keep, double share, double s, double wSum, ref double smooth) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = zi.Length;
        double sum = 0;
        for (int j = 0; j < k; j++) sum += e[j];
        double lse = m + Elementary.Log(sum);
        double wy = weighted ? weights[y] : 1.0;
        if (smoothing)
            for (int c = 0; c < k; c++) smooth += (weighted ? weights[c] : 1.0) * (lse - double.CreateChecked(zi[c]));
        for (int j = 0; j < k; j++)
        {
            double p = e[j] / sum;
            double gj = keep * wy * (p - (j == y ? 1 : 0));
            if (smoothing) gj += share * (s * p - (weighted ? weights[j] : 1.0));
            gi[j] = T.CreateChecked(gj / wSum);
        }
        return wy * (lse - double.CreateChecked(zi[y]));
    }

    /// <summary><see cref="Row{T}"/> without smoothing for a group of rows (float or double): the same operations, with each
    /// row's sum, log-sum-exp and loss term in turn, then the gradient ((1 − ε)·w_y)·(pⱼ − [j = y])/W with pⱼ = eⱼ/Σe over the
    /// whole group in vector lanes (IEEE division and multiplication round the same in a lane as in a scalar; the true class's
    /// element, the only one with a 1 to subtract, is then written by the scalar expression). Adds each row's w_y·(lse − z_y) to
    /// <paramref name="nll"/> in turn.</summary>
    /// <remarks>Config a's loss ([32, 10]) took 3.4 µs with <see cref="Row{T}"/>, two divisions per logit in scalar code.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Rows<T>(ReadOnlySpan<T> z, ReadOnlySpan<double> maxima, ReadOnlySpan<double> e, ReadOnlySpan<T> labels, Span<T> g,
        ReadOnlySpan<double> weights, double keep, double wSum, ref double nll) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = labels.Length, k = z.Length / rows, n = z.Length;
        Span<double> sums = stackalloc double[ExpBuffer], scales = stackalloc double[ExpBuffer];
        for (int i = 0; i < rows; i++)
        {
            var ei = e.Slice(i * k, k);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += ei[j];
            double lse = maxima[i] + Elementary.Log(sum);
            int y = int.CreateChecked(labels[i]);
            double wy = weights.IsEmpty ? 1.0 : weights[y];
            nll += wy * (lse - double.CreateChecked(z[i * k + y]));
            sums.Slice(i * k, k).Fill(sum);
            scales.Slice(i * k, k).Fill(keep * wy);
        }
        var w = Vector256.Create(wSum);
        int at = 0;
        for (; at <= n - 4; at += 4)
        {
            var q = Vector256.Create(scales.Slice(at, 4)) * (Vector256.Create(e.Slice(at, 4)) / Vector256.Create(sums.Slice(at, 4))) / w;
            if (typeof(T) == typeof(float)) Vector256.Narrow(q, q).GetLower().CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(g).Slice(at, 4));
            else q.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(g).Slice(at, 4));
        }
        for (; at < n; at++) g[at] = T.CreateChecked(scales[at] * (e[at] / sums[at]) / wSum);
        for (int i = 0; i < rows; i++)
        {
            int y = int.CreateChecked(labels[i]), at1 = i * k + y;
            g[at1] = T.CreateChecked(scales[at1] * (e[at1] / sums[at1] - 1) / wSum);
        }
    }

    /// <summary>Writes log_softmax(z) into <paramref name="dest"/>: z − max(z) − log Σ e^(z − max(z)).</summary>
    internal static void LogSoftmax<T>(ReadOnlySpan<T> z, Span<double> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double m = double.NegativeInfinity;
        foreach (var v in z) m = Math.Max(m, double.CreateChecked(v));
        double sum = 0;
        for (int j = 0; j < z.Length; j++) sum += Elementary.Exp(double.CreateChecked(z[j]) - m);
        double lse = m + Elementary.Log(sum);
        for (int j = 0; j < z.Length; j++) dest[j] = double.CreateChecked(z[j]) - lse;
    }

    /// <summary>The row-wise softmax of logits [rows, classes]: probabilities that sum to 1 per row.</summary>
    public static NdArray<T> Softmax<T>(NdArray<T> logits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 2) throw new ArgumentException($"logits must be [rows, classes], got {logits.ShapeText}", nameof(logits));
        int rows = logits.Rows, k = logits.Shape[1];
        var r = new T[logits.Length];
        var lp = new double[k];
        for (int i = 0; i < rows; i++)
        {
            LogSoftmax(logits.Span.Slice(i * k, k), lp);
            for (int j = 0; j < k; j++) r[i * k + j] = T.CreateChecked(Elementary.Exp(lp[j]));
        }
        return NdArray.Own(r, logits.Shape);
    }

    /// <summary>−log p for one example whose true class got probability <paramref name="pTrue"/> (the lesson's table).</summary>
    /// <remarks>Evaluated through the loss itself: two logits [log p, log(1 − p)] with label 0, so the value is what training would see.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p is not in (0, 1).</exception>
    public static double OfProbability(double pTrue)
    {
        if (!(pTrue > 0 && pTrue < 1)) throw new ArgumentOutOfRangeException(nameof(pTrue), pTrue, "a probability strictly between 0 and 1 is needed");
        var logits = NdArray.From<double>([Elementary.Log(pTrue), Elementary.Log(1 - pTrue)], 1, 2);
        return new SoftmaxCrossEntropySpec().Value(logits, NdArray.Vector(0.0));
    }

    /// <summary>Checks label targets: one per row ([rows] or [rows, 1]), whole numbers in [0, classes).</summary>
    internal static void RequireLabels<T>(ReadOnlySpan<T> target, Shape targetShape, int rows, int classes) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool ok = targetShape.Rank == 0 || (targetShape.Rank == 1 && targetShape[0] == 1);
        if (!ok) throw new ArgumentException($"cross-entropy targets must be class labels [{rows}], got {NdArray.ShapeString(targetShape.Batch(rows))}", "target");
        for (int i = 0; i < rows; i++)
        {
            var v = target[i];
            if (!T.IsFinite(v) || !T.IsInteger(v) || v < T.Zero || v >= T.CreateChecked(classes))
                throw new ArgumentException($"label {v} in row {i} is outside [0, {classes}) or not a whole number", "target");
        }
    }
}
