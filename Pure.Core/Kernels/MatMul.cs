using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralPure.Kernels;

/// <summary>The three matrix products of a dense layer, row-major, without materialising a transpose.</summary>
/// <remarks>
/// <para>With X [m, k] (a batch of inputs), W [n, k] (PyTorch's Linear layout, out × in) and dY [m, n]:
/// forward Y = X·Wᵀ (<see cref="MultiplyTransposedB{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>, or
/// <see cref="MultiplyTransposedBAddRow{T}"/> with the bias fused), input gradient dX = dY·W
/// (<see cref="Multiply{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>), weight gradient dW = dYᵀ·X
/// (<see cref="MultiplyTransposedA{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>).</para>
/// <para>All three run on <see cref="Gemm"/>: each output element is one fused multiply-add chain over the shared index in
/// increasing order, so the bits depend on the shapes and values only — not on the thread count, the register width or
/// the blocking. The overloads without <c>threads</c> run on the calling thread.</para>
/// </remarks>
internal static unsafe class MatMul
{
    private static void Check<T>(ReadOnlySpan<T> a, int aLength, ReadOnlySpan<T> b, int bLength, Span<T> c, int cLength, int m, int k, int n)
    {
        Guard.Dims(m, k, n);
        Guard.Length(a, aLength, nameof(a)); Guard.Length(b, bLength, nameof(b)); Guard.Length(c, cLength, nameof(c));
        Guard.NoOverlap(a, c, nameof(a)); Guard.NoOverlap(b, c, nameof(b));
    }

    /// <summary>C[m, n] = A[m, k] · B[n, k]ᵀ: each element is the dot product of a row of A and a row of B.</summary>
    public static void MultiplyTransposedB<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T> => MultiplyTransposedB(a, b, c, m, k, n, 1);

    /// <inheritdoc cref="MultiplyTransposedB{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>
    /// <remarks>On up to <c>threads</c> threads (1: the calling thread only) at register width <c>width</c>; neither changes a bit of the result.</remarks>
    public static void MultiplyTransposedB<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, int threads, VectorWidth width = VectorWidth.Best)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TransposedBProduct(a, b, default, c, m, k, n, threads, width, hasBias: false);

    /// <summary>C[m, n] = A[m, k] · B[n, k]ᵀ + 1·bias: the forward product of a dense layer with its bias fused in.</summary>
    /// <remarks>Bit for bit <see cref="MultiplyTransposedB{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>
    /// followed by <see cref="AddRowInPlace{T}"/>: the bias is added to the finished sum, in the same pass as its store.</remarks>
    public static void MultiplyTransposedBAddRow<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> bias, Span<T> c, int m, int k, int n, int threads = 1, VectorWidth width = VectorWidth.Best)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TransposedBProduct(a, b, bias, c, m, k, n, threads, width, hasBias: true);

    private static void TransposedBProduct<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> bias, Span<T> c, int m, int k, int n, int threads, VectorWidth width, bool hasBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, m * k, b, n * k, c, m * n, m, k, n);
        if (hasBias) { Guard.Length(bias, n, nameof(bias)); Guard.NoOverlap(bias, c, nameof(bias)); }
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c) fixed (T* pbias = bias)
        {
            var op = new Gemm.Operands<T>
            {
                A = pa, Ars = k, Acs = 1,
                B = pb, Brs = 1, Bcs = k,
                C = pc, Ldc = n, Bias = hasBias ? pbias : null,
                M = m, N = n, K = k,
            };
            Gemm.Multiply(op, threads, width);
        }
    }

    /// <summary>C[m, n] = A[m, k] · B[k, n]: row i of C accumulates a[i, p]·(row p of B) for p = 0..k−1 in order.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T> => Multiply(a, b, c, m, k, n, 1);

    /// <inheritdoc cref="Multiply{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>
    /// <remarks>On up to <c>threads</c> threads (1: the calling thread only) at register width <c>width</c>; neither changes a bit of the result.</remarks>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, int threads, VectorWidth width = VectorWidth.Best)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, m * k, b, k * n, c, m * n, m, k, n);
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c)
        {
            var op = new Gemm.Operands<T>
            {
                A = pa, Ars = k, Acs = 1,
                B = pb, Brs = n, Bcs = 1,
                C = pc, Ldc = n,
                M = m, N = n, K = k,
            };
            Gemm.Multiply(op, threads, width);
        }
    }

    /// <summary>C[k, n] = A[m, k]ᵀ · B[m, n]: row p of C accumulates a[i, p]·(row i of B) for i = 0..m−1 in order.</summary>
    public static void MultiplyTransposedA<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T> => MultiplyTransposedA(a, b, c, m, k, n, 1);

    /// <inheritdoc cref="MultiplyTransposedA{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int, int)"/>
    /// <remarks>On up to <c>threads</c> threads (1: the calling thread only) at register width <c>width</c>; neither changes a bit of the result.</remarks>
    public static void MultiplyTransposedA<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n, int threads, VectorWidth width = VectorWidth.Best)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, m * k, b, m * n, c, k * n, m, k, n);
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c)
        {
            // C[k, n]: the product's rows are A's columns (stride 1 between rows, k between steps), its depth is m.
            var op = new Gemm.Operands<T>
            {
                A = pa, Ars = 1, Acs = k,
                B = pb, Brs = n, Bcs = 1,
                C = pc, Ldc = n,
                M = k, N = n, K = m,
            };
            Gemm.Multiply(op, threads, width);
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
    /// <remarks>Lane-wise adds, row after row: each column's sum is ((0 + a[0,j]) + a[1,j]) + …, the scalar definition's.
    /// Its own loop rather than TensorPrimitives.Add, whose generic helpers were compiled at tier 0 on the training thread in a
    /// process's first step (the warm-up compiles this one).</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSums<T>(ReadOnlySpan<T> a, Span<T> sums, int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(a, m * n, nameof(a)); Guard.Length(sums, n, nameof(sums));
        Guard.NoOverlap(a, sums, nameof(a));
        sums.Clear();
        int w = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? Vector<T>.Count : int.MaxValue;
        for (int i = 0; i < m; i++)
        {
            var row = a.Slice(i * n, n);
            int j = 0;
            for (; j <= n - w; j += w) (new Vector<T>(sums.Slice(j, w)) + new Vector<T>(row.Slice(j, w))).CopyTo(sums.Slice(j, w));
            for (; j < n; j++) sums[j] += row[j];
        }
    }

    /// <summary>sums[i] = the sum of row i of the [m, n] matrix <paramref name="a"/>, its elements added in order (each row one
    /// chain: s = (…((a[i,0] + a[i,1]) + a[i,2]) …), from 0).</summary>
    /// <remarks>Eight rows at a time: a chain waits for its previous add (about four cycles), so one row alone runs at a quarter
    /// of the adder's rate; eight independent chains fill it. The order within each row is the definition's: the same bits.
    /// Groups of eight rows are cut among up to <paramref name="threads"/> threads (each row's chain on one thread: the same
    /// bits on any count).</remarks>
    public static void RowSums<T>(ReadOnlySpan<T> a, Span<T> sums, int m, int n, int threads = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(a, checked(m * n), nameof(a)); Guard.Length(sums, m, nameof(sums));
        ChannelSums(a, sums, 1, m, n, threads);
    }

    /// <summary>sums[c] = Σₙ Σᵢ a[n, c, i] over a batch of <paramref name="rows"/> examples of [<paramref name="channels"/>,
    /// <paramref name="p"/>] maps (NCHW), each channel one chain in the order (n, i), from 0: a convolution's bias gradient read
    /// where dY is (<see cref="RowSums{T}"/> is the one-example case).</summary>
    /// <remarks>Eight channels at a time, as <see cref="RowSums{T}"/>; the groups are cut among up to <paramref name="threads"/>
    /// threads. The README's CNN's first layer: 32 channels of 64 × 784.</remarks>
    public static void ChannelSums<T>(ReadOnlySpan<T> a, Span<T> sums, int rows, int channels, int p, int threads = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.Length(a, checked(rows * channels * p), nameof(a)); Guard.Length(sums, channels, nameof(sums));
        Guard.NoOverlap(a, sums, nameof(a));
        fixed (T* pa = a) fixed (T* ps = sums)
        {
            var job = new RowSumsJob<T> { A = pa, Sums = ps, Rows = rows, M = channels, N = p };
            WorkerPool.RunRanges((channels + 7) / 8, (long)rows * channels * p, threads, &RowSumsPart<T>, &job);
        }
    }

    private struct RowSumsJob<T> where T : unmanaged
    {
        public T* A, Sums;
        public int Rows, M, N;
    }

    private static void RowSumsPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<RowSumsJob<T>>(state);
        int i0 = from * 8, i1 = Math.Min(job.M, to * 8);
        RowSumsRange(job.A, job.Sums, job.Rows, job.M, job.N, i0, i1);
    }

    /// <summary>Channels [i0, i1) of <see cref="ChannelSums{T}"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RowSumsRange<T>(T* a, T* sums, int rows, int channels, int n, int i0, int i1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint example = (nint)channels * n, nn = n;
        int i = i0;
        for (; i + 8 <= i1; i += 8)
        {
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero, s4 = T.Zero, s5 = T.Zero, s6 = T.Zero, s7 = T.Zero;
            for (int e = 0; e < rows; e++)
            {
                T* r = a + e * example + i * nn;
                for (nint j = 0; j < nn; j++)
                {
                    s0 += r[j];
                    s1 += r[j + nn];
                    s2 += r[j + 2 * nn];
                    s3 += r[j + 3 * nn];
                    s4 += r[j + 4 * nn];
                    s5 += r[j + 5 * nn];
                    s6 += r[j + 6 * nn];
                    s7 += r[j + 7 * nn];
                }
            }
            sums[i] = s0; sums[i + 1] = s1; sums[i + 2] = s2; sums[i + 3] = s3; sums[i + 4] = s4; sums[i + 5] = s5; sums[i + 6] = s6; sums[i + 7] = s7;
        }
        for (; i < i1; i++)
        {
            T s0 = T.Zero;
            for (int e = 0; e < rows; e++)
            {
                T* r = a + e * example + i * nn;
                for (nint j = 0; j < nn; j++) s0 += r[j];
            }
            sums[i] = s0;
        }
    }
}
