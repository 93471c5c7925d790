using System.Numerics;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The blocked, threaded matrix products (<see cref="Gemm"/> behind <see cref="MatMul"/>): the same bits for every
/// thread count and every register width, each element exactly the in-order fused multiply-add chain, the fused bias equal to
/// the product followed by <see cref="MatMul.AddRowInPlace{T}"/>, and agreement with <see cref="ScalarReference"/>.</summary>
/// <remarks>Shapes include 0 and 1, odd sizes, and sizes past every cache block (depth &gt; 256 floats or 128 doubles, more
/// than 512 columns, more than 1536 rows) and past the threading threshold (m·n·k ≥ 2²²), so the edge tiles, the block seams and the split
/// between threads are all exercised. The thread counts 2 and 3 on a 2-core machine also cover more parts than helpers.</remarks>
public sealed class ParallelMatMulTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 0, 0, 0 }, { 0, 3, 5 }, { 4, 0, 6 }, { 3, 5, 0 }, { 1, 1, 1 }, { 1, 7, 1 }, { 1, 1, 33 }, { 2, 3, 5 },
        { 13, 1, 35 }, { 13, 17, 33 }, { 25, 31, 47 }, { 12, 300, 32 }, { 37, 530, 20 }, { 5, 9, 530 },
        { 64, 300, 250 },   // 4.8 M multiply-adds: threaded, split over columns
        { 600, 90, 80 },    // 4.3 M: threaded, split over rows
        { 40, 1100, 100 },  // 4.4 M, depth past four blocks
        { 1600, 3, 5 },     // more rows than one row block (1536); as Aᵀ·B, a depth of 1600
        { 20, 9, 40 },      // a last panel of 8 rows (12-row panels) or 2 (6-row panels): the shorter micro-kernels
        { 128, 200, 170 },  // 4.4 M, threaded; a last panel of 8 rows, computed straight into C
        { 9, 20000, 32 },   // one Vector512 tile of C over a long depth (a first convolution's weight gradient): threaded at Vector256, two tiles
    };

    private enum Product { TransposedB, TransposedBBias, Plain, TransposedA }

    private static readonly Product[] Products = [Product.TransposedB, Product.TransposedBBias, Product.Plain, Product.TransposedA];
    private static readonly VectorWidth[] Widths = [VectorWidth.Scalar, VectorWidth.V128, VectorWidth.V256, VectorWidth.V512, VectorWidth.Best];

    /// <summary>Operand lengths and the output length of a product with the kernel's (m, k, n).</summary>
    private static (int A, int B, int C) Lengths(Product p, int m, int k, int n) => p switch
    {
        Product.Plain => (m * k, k * n, m * n),
        Product.TransposedA => (m * k, m * n, k * n),
        _ => (m * k, n * k, m * n),
    };

    private static T[] Run<T>(Product p, T[] a, T[] b, T[] bias, int m, int k, int n, int threads, VectorWidth width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = Garbage<T>(Lengths(p, m, k, n).C);
        switch (p)
        {
            case Product.TransposedB: MatMul.MultiplyTransposedB<T>(a, b, c, m, k, n, threads, width); break;
            case Product.TransposedBBias: MatMul.MultiplyTransposedBAddRow<T>(a, b, bias, c, m, k, n, threads, width); break;
            case Product.Plain: MatMul.Multiply<T>(a, b, c, m, k, n, threads, width); break;
            default: MatMul.MultiplyTransposedA<T>(a, b, c, m, k, n, threads, width); break;
        }
        return c;
    }

    /// <summary>The definition: c = fma(a[K−1]·b[K−1], … fma(a[0], b[0], 0)) over the shared index in order, then + bias.</summary>
    private static T[] Chain<T>(Product p, T[] a, T[] b, T[] bias, int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = p == Product.TransposedA ? k : m, depth = p == Product.TransposedA ? m : k;
        var c = new T[rows * n];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int q = 0; q < depth; q++)
                {
                    var (x, y) = p switch
                    {
                        Product.Plain => (a[i * k + q], b[q * n + j]),
                        Product.TransposedA => (a[q * k + i], b[q * n + j]),
                        _ => (a[i * k + q], b[j * k + q]),
                    };
                    s = T.FusedMultiplyAdd(x, y, s);
                }
                c[i * n + j] = p == Product.TransposedBBias ? s + bias[j] : s;
            }
        return c;
    }

    private static (T[] A, T[] B, T[] Bias) Operands<T>(Product p, int m, int k, int n, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (al, bl, _) = Lengths(p, m, k, n);
        var r = new System.Random(seed);
        T[] Values(int len) { var v = new T[len]; for (int i = 0; i < len; i++) v[i] = T.CreateChecked(r.NextDouble() * 4 - 2); return v; }
        return (Values(al), Values(bl), Values(n));
    }

    private static T[] Garbage<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = new T[length];
        Array.Fill(c, T.CreateChecked(12345.678));
        return c;
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i]) && !(T.IsNaN(expected[i]) && T.IsNaN(actual[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (bit-identical)");
    }

    private static void ThreadsAndWidthsAgree<T>(int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in Products)
        {
            var (a, b, bias) = Operands<T>(p, m, k, n, m * 7919 + k * 31 + n);
            var a0 = (T[])a.Clone(); var b0 = (T[])b.Clone();
            var one = Run(p, a, b, bias, m, k, n, 1, VectorWidth.Best);
            var where = $"{p}<{typeof(T).Name}> [{m}, {k}, {n}]";
            foreach (int threads in new[] { 2, 3 })
                AssertSameBits(one, Run(p, a, b, bias, m, k, n, threads, VectorWidth.Best), $"{where}, {threads} threads vs 1");
            foreach (var w in Widths)
                AssertSameBits(one, Run(p, a, b, bias, m, k, n, 2, w), $"{where}, width {w} vs the widest");
            AssertSameBits(Chain(p, a, b, bias, m, k, n), one, $"{where} vs the in-order fused chain");
            AssertSameBits(a0, a, $"{where} changed a");
            AssertSameBits(b0, b, $"{where} changed b");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Threads_1_2_3_and_every_width_give_the_same_bits_float(int m, int k, int n) => ThreadsAndWidthsAgree<float>(m, k, n);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Threads_1_2_3_and_every_width_give_the_same_bits_double(int m, int k, int n) => ThreadsAndWidthsAgree<double>(m, k, n);

    private static void AgreesWithReference<T>(int m, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        foreach (var p in Products)
        {
            var (a, b, bias) = Operands<T>(p, m, k, n, m + 100 * k + 10000 * n);
            var got = Run(p, a, b, bias, m, k, n, 2, VectorWidth.Best);
            var want = new T[got.Length];
            switch (p)
            {
                case Product.TransposedB: ScalarReference.MultiplyTransposedB<T>(a, b, want, m, k, n); break;
                case Product.TransposedBBias: ScalarReference.MultiplyTransposedB<T>(a, b, want, m, k, n); ScalarReference.AddRowInPlace<T>(want, bias, m, n); break;
                case Product.Plain: ScalarReference.Multiply<T>(a, b, want, m, k, n); break;
                default: ScalarReference.MultiplyTransposedA<T>(a, b, want, m, k, n); break;
            }
            // |error| ≤ (2·depth + 2)·u·(Σ|aₚbₚ| + |bias|): both are in-order sums, one fused, one not. Operands are in [−2, 2].
            int depth = p == Product.TransposedA ? m : k;
            double bound = (2 * depth + 4) * u * (4.0 * depth + 2);
            for (int i = 0; i < got.Length; i++)
            {
                double err = Math.Abs(double.CreateChecked(got[i]) - double.CreateChecked(want[i]));
                Assert.True(err <= bound, $"{p}<{typeof(T).Name}> [{m}, {k}, {n}] element {i}: {got[i]} vs reference {want[i]} (error {err:E3} > {bound:E3})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_agree_with_the_scalar_reference_float(int m, int k, int n) => AgreesWithReference<float>(m, k, n);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_agree_with_the_scalar_reference_double(int m, int k, int n) => AgreesWithReference<double>(m, k, n);

    [Fact]
    public void The_threaded_shapes_really_are_above_the_threshold()
    {
        // Otherwise the 1-vs-2-threads theories above would compare one thread with one thread.
        Assert.True(64L * 300 * 250 >= Gemm.ParallelThreshold);
        Assert.True(600L * 90 * 80 >= Gemm.ParallelThreshold);
        Assert.True(40L * 1100 * 100 >= Gemm.ParallelThreshold);
        Assert.True(128L * 200 * 170 >= Gemm.ParallelThreshold);
    }

    [Fact]
    public void The_fused_bias_equals_the_product_then_AddRowInPlace()
    {
        foreach (var (m, k, n) in new[] { (1, 1, 1), (13, 17, 33), (64, 300, 250), (37, 530, 20) })
        {
            var (a, b, bias) = Operands<float>(Product.TransposedBBias, m, k, n, 5);
            var fused = Run(Product.TransposedBBias, a, b, bias, m, k, n, 2, VectorWidth.Best);
            var twoPass = Run(Product.TransposedB, a, b, bias, m, k, n, 1, VectorWidth.Best);
            MatMul.AddRowInPlace<float>(twoPass, bias, m, n);
            AssertSameBits(twoPass, fused, $"[{m}, {k}, {n}]");
        }
    }

    [Fact]
    public void An_empty_depth_gives_the_bias_or_zeros()
    {
        var bias = new[] { 1f, -2f, 3f };
        var c = Garbage<float>(6);
        MatMul.MultiplyTransposedBAddRow<float>([], [], bias, c, 2, 0, 3, 2);
        Assert.Equal(new[] { 1f, -2f, 3f, 1f, -2f, 3f }, c);
        MatMul.Multiply<float>([], [], c, 2, 0, 3, 2);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Concurrent_callers_get_the_same_bits_as_one_caller()
    {
        // Several threads share the one worker pool; a caller that finds it busy runs on its own thread.
        const int m = 64, k = 300, n = 250;
        var (a, b, bias) = Operands<float>(Product.TransposedBBias, m, k, n, 11);
        var expected = Run(Product.TransposedBBias, a, b, bias, m, k, n, 1, VectorWidth.Best);
        var results = new float[8][];
        Parallel.For(0, results.Length, i => results[i] = Run(Product.TransposedBBias, a, b, bias, m, k, n, 2, VectorWidth.Best));
        foreach (var r in results) AssertSameBits(expected, r, "concurrent call");
    }

    [Fact]
    public void Back_to_back_threaded_products_of_one_shape_never_reuse_the_last_ones_packed_operand()
    {
        // Every thread keeps the operand it packed whole for a threaded call (all of A for a column split, all of B for a row
        // split) in its own buffer, tagged with the call: a product of the same shape and new values must pack again.
        foreach (var (m, k, n) in new[] { (64, 300, 250), (600, 90, 80) })
            foreach (var p in Products)
            {
                var first = Operands<float>(p, m, k, n, 21);
                var second = Operands<float>(p, m, k, n, 22);
                for (int round = 0; round < 3; round++)
                    foreach (var (a, b, bias) in new[] { first, second })
                        AssertSameBits(Run(p, a, b, bias, m, k, n, 1, VectorWidth.Best), Run(p, a, b, bias, m, k, n, 2, VectorWidth.Best),
                            $"{p} [{m}, {k}, {n}] round {round}");
            }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern unsafe int mprotect(void* address, nuint length, int protection);

    /// <summary>Where the kernel reads a row-major A in place (no packed copy), it reads A's rows and nothing after them: A is
    /// placed so that its last row ends where a page the process may not touch begins (Linux, mprotect), and every width, 1 and
    /// 2 threads, and last row panels of 1–11 rows (which are packed, with zero rows, instead of read past A's end) give the
    /// in-order chain. A read past A would end the test process.</summary>
    [Fact]
    public unsafe void A_read_in_place_is_never_read_past_its_last_row()
    {
        if (!OperatingSystem.IsLinux()) return;
        int page = Environment.SystemPageSize;
        foreach (var (m, k, n) in new[] { (65, 784, 128), (29, 200, 300), (67, 300, 250), (7, 784, 10), (13, 40, 64) })
            foreach (var p in new[] { Product.TransposedB, Product.Plain })
            {
                var (a, b, bias) = Operands<float>(p, m, k, n, m + k + n);
                var expected = Chain(p, a, b, bias, m, k, n);
                nuint bytes = (nuint)(a.Length * sizeof(float)), body = (bytes + (nuint)page - 1) / (nuint)page * (nuint)page;
                byte* block = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(body + (nuint)page, (nuint)page);
                try
                {
                    var guarded = new Span<float>(block + body - bytes, a.Length);
                    a.CopyTo(guarded);
                    Assert.Equal(0, mprotect(block + body, (nuint)page, 0));
                    try
                    {
                        foreach (int threads in new[] { 1, 2 })
                            foreach (var w in new[] { VectorWidth.V128, VectorWidth.V256, VectorWidth.V512, VectorWidth.Best })
                            {
                                var c = Garbage<float>(m * n);
                                if (p == Product.Plain) MatMul.Multiply<float>(guarded, b, c, m, k, n, threads, w);
                                else MatMul.MultiplyTransposedB<float>(guarded, b, c, m, k, n, threads, w);
                                AssertSameBits(expected, c, $"{p} [{m}, {k}, {n}], A ending at a guard page, {threads} thread(s), width {w}");
                            }
                    }
                    finally { Assert.Equal(0, mprotect(block + body, (nuint)page, 3)); }
                }
                finally { System.Runtime.InteropServices.NativeMemory.AlignedFree(block); }
            }
    }

    [Fact]
    public void The_threaded_overloads_check_their_arguments()
    {
        var x = new float[6]; var w = new float[6]; var c = new float[4];
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedBAddRow<float>(x, w, new float[3], c, 2, 3, 2, 2));
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedB<float>(x, w, new float[5], 2, 3, 2, 2));
        Assert.Throws<ArgumentException>(() => MatMul.Multiply<float>(x, w.AsSpan(0, 5), c, 2, 3, 2, 2));
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA<float>(x, x, x.AsSpan(0, 4), 2, 3, 2, 2));
        var shared = new float[10];
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedBAddRow<float>(x, w, shared.AsSpan(0, 2), shared.AsSpan(1, 4), 2, 3, 2, 2));
    }

    [Fact]
    public void Parallelism_rejects_a_negative_thread_count_and_resolves_zero_to_every_core()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Parallelism(-1));
        Assert.Equal(Environment.ProcessorCount, new Parallelism(0).EffectiveThreads);
        Assert.Equal(Environment.ProcessorCount, Parallelism.AllCores.EffectiveThreads);
        Assert.Equal(3, new Parallelism(3).EffectiveThreads);
        Assert.Equal(1, Parallelism.SingleThread.EffectiveThreads);
    }
}
