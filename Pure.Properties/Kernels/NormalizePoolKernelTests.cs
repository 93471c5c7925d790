using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The vectorised normalization and pooling kernels against their definitions written out as plain scalar loops here:
/// the same bits, for float and double, at every length's tail, so no instruction set (the vector body, the software fallback,
/// the scalar loops) can change a result.</summary>
public class NormalizePoolKernelTests
{
    /// <summary>The lane definition: element j of each span in lane j mod 8, spans in order, the fixed tree at the end.</summary>
    private static double LaneTotal(IEnumerable<double[]> spans, Func<double, double> f)
    {
        var l = new double[8];
        foreach (var s in spans) for (int j = 0; j < s.Length; j++) l[j % 8] += f(s[j]);
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }

    private static double[] D<T>(T[] a) where T : unmanaged, IFloatingPointIeee754<T> => [.. a.Select(double.CreateChecked)];

    private static void LaneSumsMatch<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= 40; n++)
            for (int parts = 1; parts <= 3; parts++)
            {
                var spans = Enumerable.Range(0, parts).Select(p => KernelData.Values<T>(n + p, 11 * parts + p, 3)).ToArray();
                var dys = Enumerable.Range(0, parts).Select(p => KernelData.Values<T>(n + p, 97 * parts + p)).ToArray();
                double mean = 0.37, r = 1.9;
                Lanes8 sum = default, sq = default, gs = default, ghs = default;
                foreach (var s in spans) { LaneSums.Add(ref sum, s); LaneSums.AddSquaredDeviations(ref sq, s, mean); }
                for (int p = 0; p < parts; p++) LaneSums.AddGradientSums(ref gs, ref ghs, dys[p], spans[p], mean, r);
                Assert.Equal(LaneTotal(spans.Select(D), v => v), sum.Total());
                Assert.Equal(LaneTotal(spans.Select(D), v => (v - mean) * (v - mean)), sq.Total());
                Assert.Equal(LaneTotal(dys.Select(D), v => v), gs.Total());
                var l = new double[8];
                for (int p = 0; p < parts; p++) for (int j = 0; j < spans[p].Length; j++) l[j % 8] += double.CreateChecked(dys[p][j]) * (double.CreateChecked(spans[p][j]) - mean) * r;
                Assert.Equal(((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])), ghs.Total());
            }
    }

    [Fact] public void Lane_sums_are_the_lane_definition_float() => LaneSumsMatch<float>();
    [Fact] public void Lane_sums_are_the_lane_definition_double() => LaneSumsMatch<double>();

    /// <summary>The several-channel sums (batch norm's: four channels' statistics, two channels' gradient sums, interleaved) are
    /// the one-channel calls, lane by lane and bit for bit, at every run length's tail and over several rows (calls).</summary>
    [Fact] public void Several_channel_lane_sums_are_the_one_channel_calls_float() => SeveralChannelsMatch<float>();
    [Fact] public void Several_channel_lane_sums_are_the_one_channel_calls_double() => SeveralChannelsMatch<double>();

    private static void SeveralChannelsMatch<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        static void Same(in Lanes8 want, in Lanes8 got, string what)
        {
            for (int l = 0; l < 8; l++)
                Assert.True(BitConverter.DoubleToInt64Bits(want[l]) == BitConverter.DoubleToInt64Bits(got[l]), $"{what}: lane {l} {got[l]} != {want[l]}");
        }
        double[] means = [0.37, -1.1, 0.0, 2.5], rs = [1.9, 0.7];
        for (int s = 0; s <= 40; s++)
        {
            var one = new Lanes8[4]; var sq = new Lanes8[4]; var gs = new Lanes8[2]; var ghs = new Lanes8[2];
            var four = new Lanes8[4]; var fourSq = new Lanes8[4]; var two = new Lanes8[2]; var twoH = new Lanes8[2];
            for (int row = 0; row < 3; row++)
            {
                var x = KernelData.Values<T>(4 * s, 13 * s + row, 3); var dy = KernelData.Values<T>(2 * s, 29 * s + row);
                for (int k = 0; k < 4; k++) { LaneSums.Add(ref one[k], x.AsSpan(k * s, s)); LaneSums.AddSquaredDeviations(ref sq[k], x.AsSpan(k * s, s), means[k]); }
                for (int k = 0; k < 2; k++) LaneSums.AddGradientSums(ref gs[k], ref ghs[k], dy.AsSpan(k * s, s), x.AsSpan(k * s, s), means[k], rs[k]);
                LaneSums.Add4<T>(four, x, s);
                LaneSums.AddSquaredDeviations4<T>(fourSq, x, s, means);
                LaneSums.AddGradientSums2<T>(two, twoH, dy, x.AsSpan(0, 2 * s), s, means.AsSpan(0, 2), rs);
            }
            for (int k = 0; k < 4; k++) { Same(one[k], four[k], $"Add4 channel {k}, run {s}"); Same(sq[k], fourSq[k], $"AddSquaredDeviations4 channel {k}, run {s}"); }
            for (int k = 0; k < 2; k++) { Same(gs[k], two[k], $"AddGradientSums2 dy channel {k}, run {s}"); Same(ghs[k], twoH[k], $"AddGradientSums2 dy·x̂ channel {k}, run {s}"); }
        }
    }

    private static void ElementwiseMatch<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        double mean = -0.21, r = 2.3, w = 0.7, b = -0.4, mdy = 0.05, mdyh = -0.3;
        for (int n = 0; n <= 40; n++)
        {
            var x = KernelData.Values<T>(n, 5); var dy = KernelData.Values<T>(n, 6); var wv = KernelData.Values<T>(n, 7); var bv = KernelData.Values<T>(n, 8);
            var y = new T[n];
            NormalizeKernels.Affine<T>(x, y, mean, r, w, b);
            Assert.Equal(x.Select(v => T.CreateChecked((double.CreateChecked(v) - mean) * r * w + b)), y);
            NormalizeKernels.Standardize<T>(x, y, mean, r);
            Assert.Equal(x.Select(v => T.CreateChecked((double.CreateChecked(v) - mean) * r)), y);
            NormalizeKernels.AffineElementwise<T>(x, wv, bv, y, mean, r);
            Assert.Equal(x.Select((v, j) => T.CreateChecked((double.CreateChecked(v) - mean) * r * double.CreateChecked(wv[j]) + double.CreateChecked(bv[j]))), y);
            NormalizeKernels.BatchDx<T>(dy, x, y, mean, r, w * r, mdy, mdyh);
            Assert.Equal(x.Select((v, j) => T.CreateChecked(w * r * (double.CreateChecked(dy[j]) - mdy - (double.CreateChecked(v) - mean) * r * mdyh))), y);
            NormalizeKernels.ScaleDy<T>(dy, y, w * r);
            Assert.Equal(dy.Select(v => T.CreateChecked(w * r * double.CreateChecked(v))), y);
            foreach (bool affine in new[] { true, false })
            {
                ReadOnlySpan<T> ww = affine ? wv : default;
                Lanes8 g = default, gh = default;
                var sumW = new double[n]; var sumB = new double[n];
                NormalizeKernels.LayerGradientSums<T>(dy, x, ww, mean, r, ref g, ref gh, affine ? sumW : default, affine ? sumB : default);
                var lg = new double[8]; var lgh = new double[8]; var ew = new double[n]; var eb = new double[n];
                for (int j = 0; j < n; j++)
                {
                    double h = (double.CreateChecked(x[j]) - mean) * r, d = double.CreateChecked(dy[j]), e = affine ? d * double.CreateChecked(wv[j]) : d;
                    lg[j % 8] += e; lgh[j % 8] += e * h; ew[j] += d * h; eb[j] += d;
                }
                Assert.Equal(((lg[0] + lg[1]) + (lg[2] + lg[3])) + ((lg[4] + lg[5]) + (lg[6] + lg[7])), g.Total());
                Assert.Equal(((lgh[0] + lgh[1]) + (lgh[2] + lgh[3])) + ((lgh[4] + lgh[5]) + (lgh[6] + lgh[7])), gh.Total());
                if (affine) { Assert.Equal(ew, sumW); Assert.Equal(eb, sumB); }
                NormalizeKernels.LayerDx<T>(dy, x, ww, y, mean, r, mdy, mdyh);
                Assert.Equal(x.Select((v, j) =>
                {
                    double h = (double.CreateChecked(v) - mean) * r, d = double.CreateChecked(dy[j]), e = affine ? d * double.CreateChecked(wv[j]) : d;
                    return T.CreateChecked(r * (e - mdy - h * mdyh));
                }), y);
            }
        }
    }

    [Fact] public void Normalization_passes_are_their_scalar_definition_float() => ElementwiseMatch<float>();
    [Fact] public void Normalization_passes_are_their_scalar_definition_double() => ElementwiseMatch<double>();

    /// <summary>Pooling's definition, written out: the window's elements inside the input in row-major order; the max takes a
    /// candidate when greater or NaN (first maximum, a NaN wins); the average sums from 0 and divides by kh·kw or the count.</summary>
    private static (float[] Max, int[] Arg, float[] Avg, float[] AvgDx) Definition(float[] x, float[] dy, int rows, Window2d g, bool includePad)
    {
        int oh = g.OutH, ow = g.OutW, hw = g.H * g.W, outs = rows * g.C * oh * ow;
        var max = new float[outs]; var arg = new int[outs]; var avg = new float[outs]; var dx = new float[rows * g.InSize];
        for (int plane = 0; plane < rows * g.C; plane++)
            for (int a = 0; a < oh; a++)
                for (int b = 0; b < ow; b++)
                {
                    int o = (plane * oh + a) * ow + b, c = plane % g.C, count = 0;
                    float m = float.NegativeInfinity, s = 0; int best = -1;
                    var inside = new List<int>();
                    for (int i = 0; i < g.Kh; i++)
                        for (int j = 0; j < g.Kw; j++)
                        {
                            int ih = a * g.Sh - g.Ph + i, iw = b * g.Sw - g.Pw + j;
                            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                            float v = x[plane * hw + ih * g.W + iw];
                            if (best < 0) best = ih * g.W + iw;
                            if (v > m || float.IsNaN(v)) { m = v; best = ih * g.W + iw; }
                            s += v; count++; inside.Add(plane * hw + ih * g.W + iw);
                        }
                    max[o] = m; arg[o] = c * hw + best;
                    int divisor = includePad ? g.Kh * g.Kw : count;
                    avg[o] = s / divisor;
                    foreach (int k in inside) dx[k] += dy[o] / divisor;
                }
        return (max, arg, avg, dx);
    }

    private static float[] Pixels(int n, System.Random r)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
            a[i] = r.Next(12) switch
            {
                0 => 0f, 1 => -0f, 2 => float.NegativeInfinity, 3 => 0.5f, // ties and −0 in windows
                4 when r.Next(8) == 0 => float.NaN,
                _ => (float)(r.NextDouble() * 4 - 2),
            };
        return a;
    }

    /// <summary>Both the 2 × 2 stride-2 vector path and the general loops (every other geometry) give the definition's bits:
    /// values, argmaxes, both gradients, averages, with ties, −∞, −0 and NaN in the windows, odd sizes and widths whose
    /// last block of four overlaps the one before.</summary>
    [Fact]
    public void Pooling_is_its_definition_bit_for_bit() =>
        Prop.ForAll(Gen.Choose(1, 3).Zip(Gen.Choose(1, 3)).ToArbitrary(), Gen.Choose(2, 21).Zip(Gen.Choose(2, 21)).ToArbitrary(), Gen.Choose(0, 4).ToArbitrary(),
            (batch, size, geometry) =>
        {
            var (rows, channels) = batch; var (h, w) = size;
            var (k, s, p) = geometry switch { 0 or 1 => (2, 2, 0), 2 => (3, 2, 1), 3 => (2, 1, 0), _ => (3, 3, 1) };
            if (h + 2 * p < k || w + 2 * p < k) return;
            var g = new Window2d(channels, h, w, k, k, s, s, p, p);
            var r = new System.Random(rows * 1000 + channels * 100 + h * 10 + w + geometry);
            var x = Pixels(rows * g.InSize, r);
            int outs = rows * channels * g.OutH * g.OutW;
            var dy = Pixels(outs, r).Select(v => float.IsFinite(v) ? v : 1f).ToArray();
            foreach (bool includePad in new[] { true, false })
            {
                var want = Definition(x, dy, rows, g, includePad);
                var y = new float[outs]; var arg = new int[outs]; var dx = new float[x.Length];
                Conv.MaxPool<float>(x, y, arg, rows, g);
                Assert.True(KernelData.SameBits<float>(want.Max, y), $"max pooling differs for {g}");
                Assert.Equal(want.Arg, arg);
                // Max pooling's gradient: dx = 0, then dx[argmax] += dy output by output (−0 in dy gives +0).
                var wantMaxDx = new float[x.Length];
                for (int o = 0; o < outs; o++) wantMaxDx[o / (channels * g.P) * g.InSize + want.Arg[o]] += dy[o];
                var maxDx = KernelData.Garbage<float>(x.Length);
                Conv.MaxPoolBackward<float>(dy, arg, maxDx, rows, g);
                Assert.True(KernelData.SameBits<float>(wantMaxDx, maxDx), $"max pooling's gradient differs for {g}");
                Conv.AvgPool<float>(x, y, rows, g, includePad);
                Assert.True(KernelData.SameBits<float>(want.Avg, y), $"average pooling differs for {g}, count_include_pad {includePad}");
                Conv.AvgPoolBackward<float>(dy, dx, rows, g, includePad);
                Assert.True(KernelData.SameBits<float>(want.AvgDx, dx), $"average pooling's gradient differs for {g}, count_include_pad {includePad}");
            }
        }).QuickCheckThrowOnFailure();

    /// <summary>The pooling layers' pass (<see cref="Conv.Pool{T}"/>) cuts the batch into runs of whole examples over the
    /// threads: on 1, 2 and 3 threads every pass — max forward with its argmaxes, max backward, average forward and backward — gives
    /// the serial kernel's bits, for a batch large enough to be split (33 × 8 × 16 × 17 inputs), the vector 2 × 2 path and a
    /// padded 3 × 3 stride-2 window (whose windows overlap, so the backward passes add twice into some inputs).</summary>
    [Fact]
    public void Threaded_pooling_gives_the_serial_kernels_bits()
    {
        const int rows = 33;
        foreach (var (k, st, pad) in new[] { (2, 2, 0), (3, 2, 1) })
        {
            var g = new Window2d(8, 16, 17, k, k, st, st, pad, pad);
            var r = new System.Random(k * 10 + st);
            var x = Pixels(rows * g.InSize, r);
            int outs = rows * g.C * g.OutH * g.OutW;
            var dy = Pixels(outs, r).Select(v => float.IsFinite(v) ? v : 1f).ToArray();
            var y0 = new float[outs]; var arg0 = new int[outs]; var dx0 = new float[x.Length]; var avg0 = new float[outs]; var adx0 = new float[x.Length];
            Conv.MaxPool<float>(x, y0, arg0, rows, g);
            Conv.MaxPoolBackward<float>(dy, arg0, dx0, rows, g);
            Conv.AvgPool<float>(x, avg0, rows, g, false);
            Conv.AvgPoolBackward<float>(dy, adx0, rows, g, false);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var y = new float[outs]; var arg = new int[outs]; var dx = new float[x.Length]; var avg = new float[outs]; var adx = new float[x.Length];
                Conv.Pool<float>(Conv.PoolPass.MaxForward, x, y, arg, rows, g, false, threads);
                Conv.Pool<float>(Conv.PoolPass.MaxBackward, dy, dx, arg, rows, g, false, threads);
                Conv.Pool<float>(Conv.PoolPass.AverageForward, x, avg, default, rows, g, false, threads);
                Conv.Pool<float>(Conv.PoolPass.AverageBackward, dy, adx, default, rows, g, false, threads);
                string where = $"{g} on {threads} thread(s)";
                Assert.True(KernelData.SameBits<float>(y0, y), $"max pooling differs, {where}");
                Assert.Equal(arg0, arg);
                Assert.True(KernelData.SameBits<float>(dx0, dx), $"max pooling's gradient differs, {where}");
                Assert.True(KernelData.SameBits<float>(avg0, avg), $"average pooling differs, {where}");
                Assert.True(KernelData.SameBits<float>(adx0, adx), $"average pooling's gradient differs, {where}");
            }
        }
        Assert.Throws<ArgumentException>(() => Conv.Pool<float>(Conv.PoolPass.MaxForward, new float[10], new float[10], new int[1], 1, new Window2d(1, 4, 4, 2, 2, 2, 2, 0, 0), false, 2));
    }

    /// <summary>im2col and col2im (the contiguous-run path of stride 1 and the general loops) against their definitions:
    /// cols[(c, i, j), n·P + (a, b)] = x[n, c, a·sh − ph + i, b·sw − pw + j] or 0; dx accumulates each column entry into the element it
    /// came from in the order (c, i, j, n, a, b) — bit for bit, with paddings wider than the kernel.</summary>
    [Fact]
    public void Im2col_and_col2im_are_their_definition_bit_for_bit() =>
        Prop.ForAll(Gen.Choose(1, 3).Zip(Gen.Choose(1, 3)).ToArbitrary(), Gen.Choose(1, 9).Zip(Gen.Choose(1, 9)).ToArbitrary(),
            Gen.Choose(1, 3).Zip(Gen.Choose(1, 2)).Zip(Gen.Choose(0, 3)).ToArbitrary(), (batch, size, kernel) =>
        {
            var (rows, channels) = batch; var (h, w) = size; var ((k, stride), pad) = kernel;
            if (h + 2 * pad < k || w + 2 * pad < k) return;
            Im2ColAndCol2ImAreTheirDefinition(rows, channels, h, w, k, stride, pad);
        }).QuickCheckThrowOnFailure();

    /// <summary>The same definitions at the sizes of the README's CNN and wider "same" windows, whose runs are long enough for
    /// every vector width's loop (the masked edges of <c>Conv.EdgeMaskCache</c>) and its tail.</summary>
    [Theory]
    [InlineData(2, 3, 14, 14, 3, 1)]
    [InlineData(1, 2, 28, 28, 3, 1)]
    [InlineData(2, 2, 13, 17, 5, 2)]
    [InlineData(1, 3, 7, 33, 3, 1)]
    [InlineData(1, 2, 6, 6, 7, 3)]
    public void Im2col_and_col2im_at_same_width_runs_are_their_definition(int rows, int channels, int h, int w, int k, int pad) =>
        Im2ColAndCol2ImAreTheirDefinition(rows, channels, h, w, k, 1, pad);

    private static void Im2ColAndCol2ImAreTheirDefinition(int rows, int channels, int h, int w, int k, int stride, int pad)
    {
        var g = new Window2d(channels, h, w, k, k, stride, stride, pad, pad);
        var r = new System.Random(rows + 10 * channels + 100 * h + 1000 * w + 10000 * k + 100000 * stride + 1000000 * pad);
        var x = Pixels(rows * g.InSize, r);
        int q = rows * g.P;
        var want = new float[g.K * q];
        var dcols = Pixels(g.K * q, r).Select(v => float.IsFinite(v) ? v : 0.25f).ToArray();
        var wantDx = new float[x.Length];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    for (int n = 0; n < rows; n++)
                        for (int a = 0; a < g.OutH; a++)
                            for (int b = 0; b < g.OutW; b++)
                            {
                                int ih = a * stride - pad + i, iw = b * stride - pad + j, at = ((c * k + i) * k + j) * q + n * g.P + a * g.OutW + b;
                                bool inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                                int src = n * g.InSize + (c * h + ih) * w + iw;
                                want[at] = inside ? x[src] : 0f;
                                if (inside) wantDx[src] += dcols[at];
                            }
        var cols = KernelData.Garbage<float>(g.K * q);
        Conv.Im2Col<float>(x, cols, rows, g);
        Assert.True(KernelData.SameBits<float>(want, cols), $"im2col differs for {g}");
        var dx = KernelData.Garbage<float>(x.Length);
        Conv.Col2Im<float>(dcols, dx, rows, g);
        Assert.True(KernelData.SameBits<float>(wantDx, dx), $"col2im differs for {g}");
    }

    /// <summary>On two threads (rows of cols, channels of dx cut into parts) im2col and col2im write the bits of one thread.</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 4, 0)]
    [InlineData(1, 2, 3)]
    public void Im2col_and_col2im_do_not_depend_on_the_thread_count(int stride, int channelsScale, int pad)
    {
        var g = new Window2d(8 * channelsScale, 20, 19, 3, 3, stride, stride, pad, pad);
        int rows = 4, q = rows * g.P;
        Assert.True((long)g.K * q >= WorkerPool.ElementwiseThreshold, "the case must be large enough to split");
        var r = new System.Random(stride * 100 + channelsScale * 10 + pad);
        var x = Pixels(rows * g.InSize, r);
        var dcols = Pixels(g.K * q, r).Select(v => float.IsFinite(v) ? v : 0.25f).ToArray();
        var one = new float[g.K * q]; var two = KernelData.Garbage<float>(g.K * q);
        Conv.Im2Col<float>(x, one, rows, g, 1); Conv.Im2Col<float>(x, two, rows, g, 2);
        Assert.True(KernelData.SameBits<float>(one, two));
        var dx1 = new float[x.Length]; var dx2 = KernelData.Garbage<float>(x.Length);
        Conv.Col2Im<float>(dcols, dx1, rows, g, 1); Conv.Col2Im<float>(dcols, dx2, rows, g, 2);
        Assert.True(KernelData.SameBits<float>(dx1, dx2));
    }

    /// <summary>A convolution with fewer taps than output channels computes its weight gradient transposed (cols·dYₜᵀ, then
    /// transposed back): the bits of the product dYₜ·colsᵀ, on 1 and 2 threads.</summary>
    [Theory]
    [InlineData(1, 32, 1)]
    [InlineData(2, 32, 2)]
    [InlineData(1, 16, 2)]
    public void A_few_tap_convolutions_weight_gradient_is_the_bits_of_the_plain_product(int inC, int outC, int threads)
    {
        var conv = NeuralPure.Layers.Conv2dSpec.Square(inC, outC, 3, padding: 1, bias: false);
        var input = NeuralPure.Tensors.Shape.Of(inC, 10, 10); var output = conv.OutputShape(input);
        int rows = 5, k = conv.FanIn, q = rows * 100;
        Assert.True(k < outC);
        var r = new System.Random(inC * 100 + outC);
        var x = Pixels(rows * input.Size, r).Select(v => float.IsFinite(v) ? v : 0.5f).ToArray();
        var dy = Pixels(rows * output.Size, r).Select(v => float.IsFinite(v) ? v : -0.5f).ToArray();
        var w = conv.Init<float>(input, NeuralPure.Random.RandomKey.FromSeed(3))[0].ToArray();
        var y = new float[rows * output.Size]; var dx = new float[x.Length]; var dw = new float[w.Length];
        var scratch = new byte[conv.ScratchBytes<float>(input, rows)];
        float[][] ps = [w], gs = [dw];
        conv.Forward(new NeuralPure.Layers.ForwardArgs<float>(rows, input, output, x, y, ps, scratch, null, threads));
        conv.Backward(new NeuralPure.Layers.BackwardArgs<float>(rows, input, output, x, y, dy, dx, true, ps, gs, scratch, null, threads));
        var g = conv.Geometry(input);
        var cols = new float[k * q]; Conv.Im2Col<float>(x, cols, rows, g);
        var dyt = new float[outC * q];
        for (int n = 0; n < rows; n++) for (int o = 0; o < outC; o++) dy.AsSpan((n * outC + o) * 100, 100).CopyTo(dyt.AsSpan(o * q + n * 100, 100));
        var want = new float[outC * k];
        MatMul.MultiplyTransposedB<float>(dyt, cols, want, outC, q, k, 1);
        Assert.True(KernelData.SameBits<float>(want, dw));
    }
}
