using System.Numerics;

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

    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] > T.Zero ? x[i] : T.Zero;
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
        for (int i = 0; i < x.Length; i++) d[i] = T.Tanh(x[i]);
    }

    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = T.One / (T.One + T.Exp(-x[i]));
    }
}
