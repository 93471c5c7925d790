using System.Numerics;

namespace NeuralPure.Kernels;

/// <summary>The element-wise arithmetic of optimizer updates, one fused loop per formula.</summary>
/// <remarks>Each loop's expression is the scalar definition, evaluated in the written order (no FMA contraction), so the
/// results match PyTorch's formulas to rounding.</remarks>
internal static class OptimizerKernels
{
    private static void Check<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dest)
    {
        Guard.SameLength(a, b, "a", "b");
        Guard.SameLength(a, dest, "a", "destination");
        Guard.NoPartialOverlap(a, dest, "a");
        Guard.NoPartialOverlap(b, dest, "b");
    }

    /// <summary>dest = β·m + c·g.</summary>
    public static void Moment<T>(ReadOnlySpan<T> m, T beta, ReadOnlySpan<T> g, T c, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(m, g, dest);
        for (int i = 0; i < m.Length; i++) dest[i] = beta * m[i] + c * g[i];
    }

    /// <summary>dest = β·v + c·g·g.</summary>
    public static void SecondMoment<T>(ReadOnlySpan<T> v, T beta, ReadOnlySpan<T> g, T c, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(v, g, dest);
        for (int i = 0; i < v.Length; i++) dest[i] = beta * v[i] + c * g[i] * g[i];
    }

    /// <summary>dest = max(a, b).</summary>
    public static void Max<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, b, dest);
        for (int i = 0; i < a.Length; i++) dest[i] = T.Max(a[i], b[i]);
    }

    /// <summary>dest = v − m·m.</summary>
    public static void SubtractSquare<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> m, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(v, m, dest);
        for (int i = 0; i < v.Length; i++) dest[i] = v[i] - m[i] * m[i];
    }

    /// <summary>dest = (m·s) / (√v / b + ε): Adam's direction with s = 1/(1 − β₁ᵗ) and b = √(1 − β₂ᵗ).</summary>
    public static void AdamDirection<T>(ReadOnlySpan<T> m, ReadOnlySpan<T> v, T s, T b, T eps, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(m, v, dest);
        for (int i = 0; i < m.Length; i++) dest[i] = m[i] * s / (T.Sqrt(v[i]) / b + eps);
    }

    /// <summary>dest = g / (√v + ε).</summary>
    public static void DivideBySqrtPlus<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> v, T eps, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, v, dest);
        for (int i = 0; i < g.Length; i++) dest[i] = g[i] / (T.Sqrt(v[i]) + eps);
    }
}
