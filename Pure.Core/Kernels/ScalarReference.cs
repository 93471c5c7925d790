using System.Numerics;

using NeuralPure.Numerics;
namespace NeuralPure.Kernels;

/// <summary>The plain-loop definitions of the kernels: what the fast versions must compute. Tests compare against them and
/// Pure.Bench uses them as the baseline.</summary>
/// <remarks>Products accumulate in the obvious order; fast kernels may sum in another order (vector lanes), so comparisons
/// allow a rounding tolerance scaled by Σ|aᵢ·bᵢ|.</remarks>
internal static class ScalarReference
{
    public static void MultiplyTransposedB<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] = s;
            }
    }

    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
    }

    public static void MultiplyTransposedA<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int i = 0; i < m; i++) s += a[i * k + p] * b[i * n + j];
                c[p * n + j] = s;
            }
    }

    public static void AddRowInPlace<T>(Span<T> c, ReadOnlySpan<T> row, int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i * n + j] += row[j];
    }

    public static void ColumnSums<T>(ReadOnlySpan<T> a, Span<T> sums, int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < n; j++)
        {
            T s = T.Zero;
            for (int i = 0; i < m; i++) s += a[i * n + j];
            sums[j] = s;
        }
    }

    /// <summary>max(x, 0), NaN propagating as in PyTorch's relu and IEEE 754's maximum (x's bits kept; the kernel's select is the same).</summary>
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] > T.Zero || T.IsNaN(x[i]) ? x[i] : T.Zero;
    }

    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] + y[i];
    }

    public static void Subtract<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] - y[i];
    }

    public static void Scale<T>(ReadOnlySpan<T> x, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] * s;
    }

    public static void ScaleAdd<T>(ReadOnlySpan<T> x, T s, ReadOnlySpan<T> y, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] * s + y[i];
    }

    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = Elementary.Tanh(x[i]);
    }

    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = T.One / (T.One + Elementary.Exp(-x[i]));
    }

    /// <summary>dest = β·m + c·g (OptimizerKernels.Moment).</summary>
    public static void Moment<T>(ReadOnlySpan<T> m, T beta, ReadOnlySpan<T> g, T c, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m.Length; i++) d[i] = beta * m[i] + c * g[i];
    }

    /// <summary>dest = β·v + c·g·g (OptimizerKernels.SecondMoment).</summary>
    public static void SecondMoment<T>(ReadOnlySpan<T> v, T beta, ReadOnlySpan<T> g, T c, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < v.Length; i++) d[i] = beta * v[i] + c * g[i] * g[i];
    }

    /// <summary>dest = (m·s) / (√v / b + ε) (OptimizerKernels.AdamDirection).</summary>
    public static void AdamDirection<T>(ReadOnlySpan<T> m, ReadOnlySpan<T> v, T s, T b, T eps, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m.Length; i++) d[i] = m[i] * s / (T.Sqrt(v[i]) / b + eps);
    }

    /// <summary>dest = v − m·m (OptimizerKernels.SubtractSquare).</summary>
    public static void SubtractSquare<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> m, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < v.Length; i++) d[i] = v[i] - m[i] * m[i];
    }

    /// <summary>dest = g / (√v + ε) (OptimizerKernels.DivideBySqrtPlus).</summary>
    public static void DivideBySqrtPlus<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> v, T eps, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < g.Length; i++) d[i] = g[i] / (T.Sqrt(v[i]) + eps);
    }

    /// <summary>dx = dy where x &gt; 0, else 0 (Elementwise.ReluBackward).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : T.Zero;
    }

    /// <summary>Index of the first element that is NaN or ±∞, or −1 (Elementwise.FirstNonFinite).</summary>
    public static int FirstNonFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) if (!T.IsFinite(x[i])) return i;
        return -1;
    }
}
