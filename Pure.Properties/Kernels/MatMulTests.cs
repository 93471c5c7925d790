using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The matrix products against ScalarReference over odd shapes (every m, k, n in a set with 0, 1, primes, powers of two
/// and their neighbours), float and double; AddRowInPlace and ColumnSums; and the argument checks.</summary>
/// <remarks>
/// Tolerance: an inner product of length k computed in any order, fused or not, is within γₖ·Σ|aₚbₚ| of the exact value
/// (γₖ ≈ k·u, u the unit roundoff), so kernel and reference differ by at most 2γₖ·Σ|aₚbₚ|; we allow (2k + 2)·u·Σ|aₚbₚ|.
/// Exact equality where the summation order is the same as ScalarReference's: AddRowInPlace (one addition per element) and
/// ColumnSums (rows added in order). The products document their summation order ("p = 0..k−1 in order", "i = 0..m−1 in
/// order"; MatMul's remarks: "each output element is one fused multiply-add chain over the shared index in increasing order"),
/// so each element must equal the in-order chain bitwise — with two roundings per step (ScalarReference) or with one (a fused
/// multiply-add chain). Which of the two is the kernel's business; the order is not, because it is what makes the bits
/// independent of threads, register width and blocking.
/// </remarks>
public sealed class MatMulTests
{
    private static readonly int[] Dims = [0, 1, 2, 3, 5, 7, 8, 11, 16, 17, 31, 37, 40];

    private delegate void Product<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n);

    /// <summary>(a length, b length, c length, depth, element (i, j) of C as (a index, b index) for step p).</summary>
    private sealed record Layout(Func<int, int, int, (int A, int B, int C, int Depth)> Sizes, Func<int, int, int, int, int, int, int> AIndex, Func<int, int, int, int, int, int, int> BIndex);

    // Index maps: for output (i, j) and step p, which elements of a and b meet (m, k, n as the kernel takes them).
    private static readonly Layout TransposedB = new((m, k, n) => (m * k, n * k, m * n, k), (i, j, p, m, k, n) => i * k + p, (i, j, p, m, k, n) => j * k + p);
    private static readonly Layout Plain = new((m, k, n) => (m * k, k * n, m * n, k), (i, j, p, m, k, n) => i * k + p, (i, j, p, m, k, n) => p * n + j);
    // C[k, n] = Aᵀ·B: output rows are p ∈ [0, k), the depth is i ∈ [0, m).
    private static readonly Layout TransposedA = new((m, k, n) => (m * k, m * n, k * n, m), (r, j, i, m, k, n) => i * k + r, (r, j, i, m, k, n) => i * n + j);

    private static void Check<T>(string name, Product<T> kernel, Product<T> reference, Layout layout, bool inOrder) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        foreach (int m in Dims) foreach (int k in Dims) foreach (int n in Dims)
        {
            var (al, bl, cl, depth) = layout.Sizes(m, k, n);
            var a = KernelData.Values<T>(al, m * 1000 + k, 2);
            var b = KernelData.Values<T>(bl, n * 1000 + k + 17, 2);
            var a0 = (T[])a.Clone(); var b0 = (T[])b.Clone();
            var expected = KernelData.Garbage<T>(cl);
            reference(a, b, expected, m, k, n);
            var c = KernelData.Garbage<T>(cl); // every element must be written, including k = 0 (zeros)
            kernel(a, b, c, m, k, n);
            KernelData.AssertSameBits<T>(a0, a, $"{name} changed a");
            KernelData.AssertSameBits<T>(b0, b, $"{name} changed b");
            int rows = cl == 0 ? 0 : cl / Math.Max(1, n);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < n; j++)
                {
                    double absSum = 0;
                    T fused = T.Zero;
                    for (int p = 0; p < depth; p++)
                    {
                        T x = a[layout.AIndex(i, j, p, m, k, n)], y = b[layout.BIndex(i, j, p, m, k, n)];
                        absSum += Math.Abs(double.CreateChecked(x) * double.CreateChecked(y));
                        fused = T.FusedMultiplyAdd(x, y, fused);
                    }
                    T got = c[i * n + j], want = expected[i * n + j];
                    double err = Math.Abs(double.CreateChecked(got) - double.CreateChecked(want));
                    Assert.True(err <= (2 * depth + 2) * u * absSum, $"{name}<{typeof(T).Name}> [{m}, {k}, {n}] element ({i}, {j}): {got} vs reference {want}, error {err:E3} > bound {(2 * depth + 2) * u * absSum:E3}");
                    if (inOrder)
                        Assert.True(KernelData.Ulps(got, want) == 0 || KernelData.Ulps(got, fused) == 0,
                            $"{name}<{typeof(T).Name}> [{m}, {k}, {n}] element ({i}, {j}): {got} is neither the in-order sum {want} nor the in-order fused chain {fused}");
                    if (depth == 0) Assert.True(got == T.Zero, $"{name} with an empty inner dimension left {got}");
                }
        }
    }

    [Fact]
    public void MultiplyTransposedB_is_A_times_B_transposed_summed_in_order()
    {
        Check<double>("MultiplyTransposedB", MatMul.MultiplyTransposedB, ScalarReference.MultiplyTransposedB, TransposedB, inOrder: true);
        Check<float>("MultiplyTransposedB", MatMul.MultiplyTransposedB, ScalarReference.MultiplyTransposedB, TransposedB, inOrder: true);
    }

    [Fact]
    public void Multiply_is_A_times_B_summed_in_order()
    {
        Check<double>("Multiply", MatMul.Multiply, ScalarReference.Multiply, Plain, inOrder: true);
        Check<float>("Multiply", MatMul.Multiply, ScalarReference.Multiply, Plain, inOrder: true);
    }

    [Fact]
    public void MultiplyTransposedA_is_A_transposed_times_B_summed_in_order()
    {
        Check<double>("MultiplyTransposedA", MatMul.MultiplyTransposedA, ScalarReference.MultiplyTransposedA, TransposedA, inOrder: true);
        Check<float>("MultiplyTransposedA", MatMul.MultiplyTransposedA, ScalarReference.MultiplyTransposedA, TransposedA, inOrder: true);
    }

    /// <summary>Cancellation: rows whose products cancel exactly (1e8·1 − 1e8·1 + small terms). The bound scaled by Σ|ab| holds
    /// where a relative bound on the result would not.</summary>
    [Fact]
    public void Products_with_cancellation_stay_within_the_magnitude_scaled_bound()
    {
        const int m = 3, k = 37, n = 5;
        var a = new double[m * k]; var b = new double[n * k];
        for (int i = 0; i < a.Length; i++) a[i] = (i % 2 == 0 ? 1e8 : -1e8) + i * 1e-3;
        for (int i = 0; i < b.Length; i++) b[i] = 1 + (i % 7) * 1e-9;
        var c = new double[m * n]; var r = new double[m * n];
        MatMul.MultiplyTransposedB<double>(a, b, c, m, k, n);
        ScalarReference.MultiplyTransposedB<double>(a, b, r, m, k, n);
        for (int i = 0; i < m * n; i++) Assert.True(Math.Abs(c[i] - r[i]) <= (2 * k + 2) * Math.Pow(2, -53) * 1e8 * k * 1.01, $"{c[i]} vs {r[i]}");
    }

    /// <summary>Random shapes and values (incl. exact integers, where every order gives the exact result: checked bitwise).</summary>
    [Law(60)]
    public Property Integer_valued_products_are_exact_in_every_kernel() =>
        Prop.ForAll(Gen.Choose(0, 23).ToArbitrary(), Gen.Choose(0, 23).ToArbitrary(), Gen.Zip(Gen.Choose(0, 23), Gen.Choose(0, int.MaxValue)).ToArbitrary(), (m, k, ns) =>
        {
            var (n, seed) = ns;
            var r = new System.Random(seed);
            double[] Ints(int len) => Enumerable.Range(0, len).Select(_ => (double)r.Next(-50, 51)).ToArray();
            var a = Ints(m * k); var bT = Ints(n * k); var bP = Ints(k * n); var bA = Ints(m * n);
            var got = new double[m * n]; var want = new double[m * n];
            MatMul.MultiplyTransposedB<double>(a, bT, got, m, k, n); ScalarReference.MultiplyTransposedB<double>(a, bT, want, m, k, n);
            bool ok1 = got.SequenceEqual(want);
            MatMul.Multiply<double>(a, bP, got, m, k, n); ScalarReference.Multiply<double>(a, bP, want, m, k, n);
            bool ok2 = got.SequenceEqual(want);
            var gotA = new double[k * n]; var wantA = new double[k * n];
            MatMul.MultiplyTransposedA<double>(a, bA, gotA, m, k, n); ScalarReference.MultiplyTransposedA<double>(a, bA, wantA, m, k, n);
            bool ok3 = gotA.SequenceEqual(wantA);
            return ok1.Label("TransposedB").And(ok2.Label("Multiply")).And(ok3.Label("TransposedA"));
        });

    [Fact]
    public void AddRowInPlace_and_ColumnSums_are_their_references_bitwise()
    {
        foreach (int m in Dims) foreach (int n in Dims)
        {
            var c = KernelData.Values<double>(m * n, m + 100 * n, 3);
            var row = KernelData.Values<double>(n, n + 7, 3);
            var expected = (double[])c.Clone();
            ScalarReference.AddRowInPlace<double>(expected, row, m, n);
            MatMul.AddRowInPlace<double>(c, row, m, n);
            KernelData.AssertSameBits<double>(expected, c, $"AddRowInPlace [{m}, {n}]");

            var sums = KernelData.Garbage<double>(n);
            var want = KernelData.Garbage<double>(n);
            ScalarReference.ColumnSums<double>(c, want, m, n);
            MatMul.ColumnSums<double>(c, sums, m, n);
            KernelData.AssertSameBits<double>(want, sums, $"ColumnSums [{m}, {n}]");

            var cf = KernelData.Values<float>(m * n, m + 100 * n, 3);
            var rf = KernelData.Values<float>(n, n + 7, 3);
            var ef = (float[])cf.Clone();
            ScalarReference.AddRowInPlace<float>(ef, rf, m, n);
            MatMul.AddRowInPlace<float>(cf, rf, m, n);
            KernelData.AssertSameBits<float>(ef, cf, $"AddRowInPlace<float> [{m}, {n}]");
            var sf = KernelData.Garbage<float>(n); var wf = KernelData.Garbage<float>(n);
            ScalarReference.ColumnSums<float>(cf, wf, m, n);
            MatMul.ColumnSums<float>(cf, sf, m, n);
            KernelData.AssertSameBits<float>(wf, sf, $"ColumnSums<float> [{m}, {n}]");
        }
    }

    [Fact]
    public void RowSums_adds_each_row_in_order_bitwise()
    {
        // The definition: s = 0, then s += a[i, j] for j = 0..n−1. Row counts past and between the eight-row groups, with
        // special values (−0, infinities, NaN) from KernelData.
        foreach (int m in Dims.Append(17).Append(32)) foreach (int n in Dims)
        {
            RowSumsAreInOrder<double>(m, n);
            RowSumsAreInOrder<float>(m, n);
        }
        Assert.Equal("sums", Assert.Throws<ArgumentException>(() => MatMul.RowSums<float>(new float[6], new float[3], 2, 3)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => MatMul.RowSums<float>(new float[5], new float[2], 2, 3)).ParamName);
    }

    /// <summary>Rows long enough to be cut among threads (groups of eight rows, and a last group of five) are the definition on
    /// 1, 2 and 3 threads.</summary>
    [Fact]
    public void RowSums_on_threads_are_the_definition_bitwise()
    {
        RowSumsAreInOrder<float>(29, 5000, 1); RowSumsAreInOrder<float>(29, 5000, 2); RowSumsAreInOrder<float>(29, 5000, 3);
        RowSumsAreInOrder<double>(32, 3000, 2);
    }

    private static void RowSumsAreInOrder<T>(int m, int n, int threads = 1) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var c = KernelData.Values<T>(m * n, 7 * m + n, 3);
        var want = new T[m];
        for (int i = 0; i < m; i++) { T s = T.Zero; for (int j = 0; j < n; j++) s += c[i * n + j]; want[i] = s; }
        var got = KernelData.Garbage<T>(m);
        MatMul.RowSums<T>(c, got, m, n, threads);
        KernelData.AssertSameBits<T>(want, got, $"RowSums<{typeof(T).Name}> [{m}, {n}] on {threads} thread(s)");
    }

    // ───────────────────────── throwing cases ─────────────────────────

    [Fact]
    public void Wrong_lengths_and_negative_dimensions_throw_naming_the_argument()
    {
        const int m = 3, k = 4, n = 5;
        var a = new double[m * k]; var bT = new double[n * k]; var bP = new double[k * n]; var bA = new double[m * n];
        var c = new double[m * n]; var cA = new double[k * n];
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedB<double>(new double[m * k - 1], bT, c, m, k, n)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedB<double>(a, new double[n * k + 1], c, m, k, n)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedB<double>(a, bT, new double[m * n - 1], m, k, n)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => MatMul.Multiply<double>(new double[m * k + 1], bP, c, m, k, n)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => MatMul.Multiply<double>(a, new double[k * n - 1], c, m, k, n)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => MatMul.Multiply<double>(a, bP, new double[m * n + 1], m, k, n)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA<double>(new double[1], bA, cA, m, k, n)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA<double>(a, new double[k * n], cA, m, k, n)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA<double>(a, bA, new double[m * n], m, k, n)).ParamName);
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedB<double>([], [], [], -1, 0, 0));
        Assert.Throws<ArgumentException>(() => MatMul.Multiply<double>([], [], [], 0, -2, 0));
        Assert.Throws<ArgumentException>(() => MatMul.MultiplyTransposedA<double>([], [], [], 0, 0, -3));
        Assert.Equal("row", Assert.Throws<ArgumentException>(() => MatMul.AddRowInPlace<double>(c, new double[n + 1], m, n)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => MatMul.AddRowInPlace<double>(new double[m * n + 1], new double[n], m, n)).ParamName);
        Assert.Equal("sums", Assert.Throws<ArgumentException>(() => MatMul.ColumnSums<double>(c, new double[n - 1], m, n)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => MatMul.ColumnSums<double>(new double[m * n - 1], new double[n], m, n)).ParamName);
    }

    /// <summary>A matrix product reads its inputs after writing outputs, so the destination may not overlap an input at all:
    /// partially (c one element into a or b) or exactly (c = a when the lengths match). Checked for every kernel and both inputs.</summary>
    [Fact]
    public void Matrix_products_refuse_any_overlap()
    {
        const int s = 4; // square: m = k = n = 4, every operand has 16 elements
        var buf = new double[3 * s * s];
        void Refused(Action call) => Assert.Equal("destination", Assert.Throws<ArgumentException>(call).ParamName);
        foreach (int off in new[] { 0, 1, s * s - 1 })
        {
            // c overlapping a (a = buf[0, 16), c = buf[off, off + 16)), b separate.
            Refused(() => MatMul.MultiplyTransposedB<double>(buf.AsSpan(0, s * s), buf.AsSpan(2 * s * s, s * s), buf.AsSpan(off, s * s), s, s, s));
            Refused(() => MatMul.Multiply<double>(buf.AsSpan(0, s * s), buf.AsSpan(2 * s * s, s * s), buf.AsSpan(off, s * s), s, s, s));
            Refused(() => MatMul.MultiplyTransposedA<double>(buf.AsSpan(0, s * s), buf.AsSpan(2 * s * s, s * s), buf.AsSpan(off, s * s), s, s, s));
            // c overlapping b.
            Refused(() => MatMul.MultiplyTransposedB<double>(buf.AsSpan(2 * s * s, s * s), buf.AsSpan(0, s * s), buf.AsSpan(off, s * s), s, s, s));
            Refused(() => MatMul.Multiply<double>(buf.AsSpan(2 * s * s, s * s), buf.AsSpan(0, s * s), buf.AsSpan(off, s * s), s, s, s));
            Refused(() => MatMul.MultiplyTransposedA<double>(buf.AsSpan(2 * s * s, s * s), buf.AsSpan(0, s * s), buf.AsSpan(off, s * s), s, s, s));
        }
        // Sharing memory between the two inputs is fine (A·Aᵀ), and adjacent memory is not overlap.
        var sq = Enumerable.Range(0, 2 * s * s).Select(i => (double)(i % 5)).ToArray();
        MatMul.MultiplyTransposedB<double>(sq.AsSpan(0, s * s), sq.AsSpan(0, s * s), sq.AsSpan(s * s, s * s), s, s, s);
        var want = new double[s * s];
        var a0 = Enumerable.Range(0, s * s).Select(i => (double)(i % 5)).ToArray();
        ScalarReference.MultiplyTransposedB<double>(a0, a0, want, s, s, s);
        Assert.Equal(want, sq.AsSpan(s * s, s * s).ToArray());
        // The row to add and the sums may not overlap their matrix either.
        var mat = new double[s * s + s];
        Refused(() => MatMul.AddRowInPlace<double>(mat.AsSpan(0, s * s), mat.AsSpan(s * s - 1, s), s, s));
        Refused(() => MatMul.ColumnSums<double>(mat.AsSpan(0, s * s), mat.AsSpan(s * s - s, s), s, s));
        var f = new float[2 * s * s];
        Assert.Throws<ArgumentException>(() => MatMul.Multiply<float>(f.AsSpan(0, s * s), f.AsSpan(s * s, s * s), f.AsSpan(s, s * s), s, s, s));
    }
}
