using System.Numerics;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>A convolution's products example by example (<see cref="ConvProducts"/>) against the whole batch's: the column
/// matrix of all examples [K, rows·P] (<see cref="Conv.Im2Col{T}"/>), one product each for y = W·cols (+ bias), dW = dYₜ·colsᵀ
/// and dcols = Wᵀ·dYₜ, then col2im, with dYₜ [out, rows·P] the output gradient laid out channel by channel, and db as each
/// channel's row of dYₜ summed in order (by the weight gradient from its packed dYᵀ, and by ChannelSums). Bit for bit, on 1, 2 and 3 threads, in
/// float and double, with −0 and exact zeros among the values.</summary>
public sealed class ConvProductsTests
{
    public static TheoryData<int, int, int, int, int, int, int, int> Cases() => new()
    {
        // channels, out, h, w, kernel h, kernel w, stride, pad; rows come from the test
        { 32, 64, 14, 14, 3, 3, 1, 1 },  // the README CNN's second convolution (smaller batch)
        { 1, 32, 28, 28, 3, 3, 1, 1 },   // its first: 9 taps < 32 channels, the weight gradient transposed
        { 3, 16, 11, 9, 5, 3, 2, 1 },    // strided, rectangular, padded: 45 taps
        { 2, 40, 9, 12, 2, 2, 1, 0 },    // 8 taps < 40 channels: transposed, no padding
        { 5, 7, 13, 13, 3, 3, 3, 2 },    // odd widths: no whole tile anywhere
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Example_by_example_gives_the_whole_batch_products_bits(int c, int outC, int h, int w, int kh, int kw, int stride, int pad)
    {
        foreach (int rows in new[] { 1, 12 })
        {
            Same<float>(c, outC, h, w, kh, kw, stride, pad, rows);
            Same<double>(c, outC, h, w, kh, kw, stride, pad, rows);
        }
    }

    [Fact]
    public void An_empty_batch_has_zero_gradients()
    {
        var g = new Window2d(2, 5, 5, 3, 3, 1, 1, 1, 1);
        var dw = KernelData.Garbage<float>(4 * g.K);
        var fused = KernelData.Garbage<float>(4);
        ConvProducts.WeightGradient<float>([], [], dw, new float[ConvProducts.TransposedScratch(g, 4)], 0, g, 4, 2, fused);
        Assert.All(dw, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        Assert.All(fused, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
        var db = KernelData.Garbage<float>(4);
        MatMul.ChannelSums<float>([], db, 0, 4, g.P, 2);
        Assert.All(db, v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }

    /// <summary>One example's column matrix longer than an array can be (K·P past Array.MaxLength) is refused by name, before
    /// any buffer is sized from it (in int it would have wrapped).</summary>
    [Fact]
    public void A_column_matrix_past_an_arrays_length_is_refused()
    {
        var g = new Window2d(4096, 1024, 1024, 3, 3, 1, 1, 1, 1);
        Assert.True((long)g.K * g.P > Array.MaxLength);
        var w = new float[g.K];
        var e = Assert.Throws<ArgumentException>(() => ConvProducts.Forward<float>([], w, default, [], 0, g, 1, 1));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("[36864, 1048576]", e.Message);
        Assert.Throws<ArgumentException>(() => ConvProducts.InputGradient<float>(w, [], [], 0, g, 1, 1));
        Assert.Throws<ArgumentException>(() => ConvProducts.WeightGradient<float>([], [], new float[g.K], new float[g.K], 0, g, 1, 1));
    }

    private static void Same<T>(int c, int outC, int h, int w, int kh, int kw, int stride, int pad, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = new Window2d(c, h, w, kh, kw, stride, stride, pad, pad);
        int k = g.K, p = g.P, q = rows * p;
        var x = KernelData.Values<T>(rows * g.InSize, c * 31 + h + rows);
        var wt = KernelData.Values<T>(outC * k, outC * 7 + k, 0.3);
        var bias = KernelData.Values<T>(outC, outC + 5);
        var dy = KernelData.Values<T>(rows * outC * p, outC * 3 + p + rows);

        // The whole batch.
        var cols = new T[k * q]; Conv.Im2Col<T>(x, cols, rows, g);
        var dyt = new T[outC * q];
        for (int n = 0; n < rows; n++) for (int o = 0; o < outC; o++) dy.AsSpan((n * outC + o) * p, p).CopyTo(dyt.AsSpan(o * q + n * p, p));
        var yt = new T[outC * q]; MatMul.Multiply<T>(wt, cols, yt, outC, k, q, 1);
        var wantY = new T[rows * outC * p];
        for (int n = 0; n < rows; n++) for (int o = 0; o < outC; o++)
            for (int i = 0; i < p; i++) wantY[(n * outC + o) * p + i] = yt[o * q + n * p + i] + bias[o];
        var wantDw = new T[outC * k]; MatMul.MultiplyTransposedB<T>(dyt, cols, wantDw, outC, q, k, 1);
        var dcols = new T[k * q]; MatMul.MultiplyTransposedA<T>(wt, dyt, dcols, outC, k, q, 1);
        var wantDx = new T[x.Length]; Conv.Col2Im<T>(dcols, wantDx, rows, g);
        var wantDb = new T[outC];
        for (int o = 0; o < outC; o++) { T s = T.Zero; for (int i = 0; i < q; i++) s += dyt[o * q + i]; wantDb[o] = s; }

        foreach (int threads in new[] { 1, 2, 3 })
        {
            string what = $"{typeof(T).Name} {g} out {outC} rows {rows} on {threads} thread(s)";
            var y = KernelData.Garbage<T>(wantY.Length);
            ConvProducts.Forward<T>(x, wt, bias, y, rows, g, outC, threads);
            KernelData.AssertSameBits<T>(wantY, y, "y, " + what);
            var dw = KernelData.Garbage<T>(wantDw.Length);
            var dwt = KernelData.Garbage<T>(ConvProducts.TransposedScratch(g, outC));
            ConvProducts.WeightGradient<T>(x, dy, dw, dwt, rows, g, outC, threads);
            KernelData.AssertSameBits<T>(wantDw, dw, "dW, " + what);
            // With the bias gradient made from the packed dYᵀ: the same dW, and db each channel's chain in order.
            var dw2 = KernelData.Garbage<T>(wantDw.Length);
            var fused = KernelData.Garbage<T>(outC);
            ConvProducts.WeightGradient<T>(x, dy, dw2, dwt, rows, g, outC, threads, fused);
            KernelData.AssertSameBits<T>(wantDw, dw2, "dW with db, " + what);
            KernelData.AssertSameBits<T>(wantDb, fused, "db with dW, " + what);
            var dx = KernelData.Garbage<T>(wantDx.Length);
            ConvProducts.InputGradient<T>(wt, dy, dx, rows, g, outC, threads);
            KernelData.AssertSameBits<T>(wantDx, dx, "dx, " + what);
            var db = KernelData.Garbage<T>(outC);
            MatMul.ChannelSums<T>(dy, db, rows, outC, p, threads);
            KernelData.AssertSameBits<T>(wantDb, db, "db, " + what);
        }
    }
}
