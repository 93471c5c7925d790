using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralPure.Kernels;

/// <summary>The three matrix products of a dense layer, row-major, without materialising a transpose.</summary>
/// <remarks>
/// With X [m, k] (a batch of inputs), W [n, k] (PyTorch's Linear layout, out × in) and dY [m, n]:
/// forward Y = X·Wᵀ (<see cref="MultiplyTransposedB{T}"/>), input gradient dX = dY·W (<see cref="Multiply{T}"/>),
/// weight gradient dW = dYᵀ·X (<see cref="MultiplyTransposedA{T}"/>). Each one's summation order is fixed by the
/// shapes alone, so results do not depend on threads or timing.
/// </remarks>
internal static class MatMul
{
    /// <summary>C[m, n] = A[m, k] · B[n, k]ᵀ: each element is the dot product of a row of A and a row of B.</summary>
    public static void MultiplyTransposedB<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Dims(m, k, n);
        Guard.Length(a, m * k, nameof(a)); Guard.Length(b, n * k, nameof(b)); Guard.Length(c, m * n, nameof(c));
        Guard.NoOverlap(a, c, nameof(a)); Guard.NoOverlap(b, c, nameof(b));
        for (int i = 0; i < m; i++)
        {
            var ai = a.Slice(i * k, k);
            var ci = c.Slice(i * n, n);
            for (int j = 0; j < n; j++) ci[j] = TensorPrimitives.Dot(ai, b.Slice(j * k, k));
        }
    }

    /// <summary>C[m, n] = A[m, k] · B[k, n]: row i of C accumulates a[i, p]·(row p of B) for p = 0..k−1 in order.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Dims(m, k, n);
        Guard.Length(a, m * k, nameof(a)); Guard.Length(b, k * n, nameof(b)); Guard.Length(c, m * n, nameof(c));
        Guard.NoOverlap(a, c, nameof(a)); Guard.NoOverlap(b, c, nameof(b));
        c.Clear();
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                var aip = a[i * k + p];
                TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), aip, ci, ci);
            }
        }
    }

    /// <summary>C[k, n] = A[m, k]ᵀ · B[m, n]: row p of C accumulates a[i, p]·(row i of B) for i = 0..m−1 in order.</summary>
    public static void MultiplyTransposedA<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Dims(m, k, n);
        Guard.Length(a, m * k, nameof(a)); Guard.Length(b, m * n, nameof(b)); Guard.Length(c, k * n, nameof(c));
        Guard.NoOverlap(a, c, nameof(a)); Guard.NoOverlap(b, c, nameof(b));
        c.Clear();
        for (int i = 0; i < m; i++)
        {
            var bi = b.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                var aip = a[i * k + p];
                var cp = c.Slice(p * n, n);
                TensorPrimitives.MultiplyAdd(bi, aip, cp, cp);
            }
        }
    }

    /// <summary>Adds <paramref name="row"/> to every row of the [m, n] matrix <paramref name="c"/>, in place.</summary>
    public static void AddRowInPlace<T>(Span<T> c, ReadOnlySpan<T> row, int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(c, m * n, nameof(c)); Guard.Length(row, n, nameof(row));
        Guard.NoOverlap(row, c, nameof(row));
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * n, n);
            TensorPrimitives.Add(ci, row, ci);
        }
    }

    /// <summary>sums[n] = the column sums of the [m, n] matrix <paramref name="a"/>, adding rows in order.</summary>
    public static void ColumnSums<T>(ReadOnlySpan<T> a, Span<T> sums, int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(a, m * n, nameof(a)); Guard.Length(sums, n, nameof(sums));
        Guard.NoOverlap(a, sums, nameof(a));
        sums.Clear();
        for (int i = 0; i < m; i++) TensorPrimitives.Add(sums, a.Slice(i * n, n), sums);
    }
}
