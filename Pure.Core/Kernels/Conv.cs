using System.Numerics;

namespace NeuralPure.Kernels;

/// <summary>The geometry of a 2-d window sweep (convolution or pooling) over one [C, H, W] example: kernel, stride, zero padding
/// and the output size floor((H + 2p − k)/s) + 1 per axis (PyTorch's, ceil_mode false).</summary>
internal readonly record struct Window2d(int C, int H, int W, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw)
{
    public int OutH => (H + 2 * Ph - Kh) / Sh + 1;
    public int OutW => (W + 2 * Pw - Kw) / Sw + 1;
    /// <summary>Output positions per channel.</summary>
    public int P => OutH * OutW;
    /// <summary>Rows of the column matrix: C·kh·kw.</summary>
    public int K => C * Kh * Kw;
    public int InSize => C * H * W;
}

/// <summary>im2col/col2im for convolution and the pooling loops, serial and in a fixed order (so the bits depend on the values only).</summary>
internal static class Conv
{
    /// <summary>cols[(c, i, j), n·P + (oh, ow)] = x[n, c, oh·sh − ph + i, ow·sw − pw + j] (0 outside), a [K, rows·P] matrix.</summary>
    public static void Im2Col<T>(ReadOnlySpan<T> x, Span<T> cols, int rows, in Window2d g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OutH, ow = g.OutW, p = g.P, q = rows * p, inSize = g.InSize, hw = g.H * g.W;
        for (int c = 0; c < g.C; c++)
            for (int i = 0; i < g.Kh; i++)
                for (int j = 0; j < g.Kw; j++)
                {
                    var row = cols.Slice(((c * g.Kh + i) * g.Kw + j) * q, q);
                    for (int n = 0; n < rows; n++)
                    {
                        var xc = x.Slice(n * inSize + c * hw, hw);
                        var dst = row.Slice(n * p, p);
                        for (int y = 0; y < oh; y++)
                        {
                            int ih = y * g.Sh - g.Ph + i;
                            var d = dst.Slice(y * ow, ow);
                            if ((uint)ih >= (uint)g.H) { d.Clear(); continue; }
                            var xr = xc.Slice(ih * g.W, g.W);
                            for (int xo = 0; xo < ow; xo++)
                            {
                                int iw = xo * g.Sw - g.Pw + j;
                                d[xo] = (uint)iw < (uint)g.W ? xr[iw] : T.Zero;
                            }
                        }
                    }
                }
    }

    /// <summary>dx = col2im(dcols): clears dx, then adds each column entry to the input element it was read from, in the order
    /// (c, i, j, n, oh, ow).</summary>
    public static void Col2Im<T>(ReadOnlySpan<T> dcols, Span<T> dx, int rows, in Window2d g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dx.Clear();
        int oh = g.OutH, ow = g.OutW, p = g.P, q = rows * p, inSize = g.InSize, hw = g.H * g.W;
        for (int c = 0; c < g.C; c++)
            for (int i = 0; i < g.Kh; i++)
                for (int j = 0; j < g.Kw; j++)
                {
                    var row = dcols.Slice(((c * g.Kh + i) * g.Kw + j) * q, q);
                    for (int n = 0; n < rows; n++)
                    {
                        var dxc = dx.Slice(n * inSize + c * hw, hw);
                        var src = row.Slice(n * p, p);
                        for (int y = 0; y < oh; y++)
                        {
                            int ih = y * g.Sh - g.Ph + i;
                            if ((uint)ih >= (uint)g.H) continue;
                            var s = src.Slice(y * ow, ow);
                            var dr = dxc.Slice(ih * g.W, g.W);
                            for (int xo = 0; xo < ow; xo++)
                            {
                                int iw = xo * g.Sw - g.Pw + j;
                                if ((uint)iw < (uint)g.W) dr[iw] += s[xo];
                            }
                        }
                    }
                }
    }

    /// <summary>Max pooling: y = the window's maximum (padding counts as −∞), argmax[o] = the input index (within the example) of
    /// the first maximum in row-major window order; a NaN wins, as in PyTorch.</summary>
    public static void MaxPool<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> argmax, int rows, in Window2d g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OutH, ow = g.OutW, hw = g.H * g.W;
        for (int n = 0; n < rows; n++)
            for (int c = 0; c < g.C; c++)
            {
                var xc = x.Slice(n * g.InSize + c * hw, hw);
                int o0 = (n * g.C + c) * oh * ow;
                for (int a = 0; a < oh; a++)
                {
                    int h0 = Math.Max(a * g.Sh - g.Ph, 0), h1 = Math.Min(a * g.Sh - g.Ph + g.Kh, g.H);
                    for (int b = 0; b < ow; b++)
                    {
                        int w0 = Math.Max(b * g.Sw - g.Pw, 0), w1 = Math.Min(b * g.Sw - g.Pw + g.Kw, g.W);
                        int best = h0 * g.W + w0;
                        T max = T.NegativeInfinity;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                            {
                                T v = xc[ih * g.W + iw];
                                if (v > max || T.IsNaN(v)) { max = v; best = ih * g.W + iw; }
                            }
                        y[o0 + a * ow + b] = max;
                        argmax[o0 + a * ow + b] = c * hw + best;
                    }
                }
            }
    }

    /// <summary>dx = 0, then dx[argmax[o]] += dy[o] for each output in order.</summary>
    public static void MaxPoolBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> argmax, Span<T> dx, int rows, in Window2d g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dx.Clear();
        int per = g.C * g.P;
        for (int n = 0; n < rows; n++)
        {
            var d = dx.Slice(n * g.InSize, g.InSize);
            for (int o = 0; o < per; o++) d[argmax[n * per + o]] += dy[n * per + o];
        }
    }

    /// <summary>Average pooling with zero padding: y = (Σ of the window's elements inside the input, row-major) / divisor, the
    /// divisor kh·kw (<paramref name="countIncludePad"/>) or the number of those elements.</summary>
    public static void AvgPool<T>(ReadOnlySpan<T> x, Span<T> y, int rows, in Window2d g, bool countIncludePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OutH, ow = g.OutW, hw = g.H * g.W;
        for (int n = 0; n < rows; n++)
            for (int c = 0; c < g.C; c++)
            {
                var xc = x.Slice(n * g.InSize + c * hw, hw);
                int o0 = (n * g.C + c) * oh * ow;
                for (int a = 0; a < oh; a++)
                {
                    int h0 = Math.Max(a * g.Sh - g.Ph, 0), h1 = Math.Min(a * g.Sh - g.Ph + g.Kh, g.H);
                    for (int b = 0; b < ow; b++)
                    {
                        int w0 = Math.Max(b * g.Sw - g.Pw, 0), w1 = Math.Min(b * g.Sw - g.Pw + g.Kw, g.W);
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += xc[ih * g.W + iw];
                        int divisor = countIncludePad ? g.Kh * g.Kw : (h1 - h0) * (w1 - w0);
                        y[o0 + a * ow + b] = sum / T.CreateChecked(divisor);
                    }
                }
            }
    }

    /// <summary>dx = 0, then each output's dy/divisor is added to every element of its window inside the input, outputs in order.</summary>
    public static void AvgPoolBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int rows, in Window2d g, bool countIncludePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dx.Clear();
        int oh = g.OutH, ow = g.OutW, hw = g.H * g.W;
        for (int n = 0; n < rows; n++)
            for (int c = 0; c < g.C; c++)
            {
                var dxc = dx.Slice(n * g.InSize + c * hw, hw);
                int o0 = (n * g.C + c) * oh * ow;
                for (int a = 0; a < oh; a++)
                {
                    int h0 = Math.Max(a * g.Sh - g.Ph, 0), h1 = Math.Min(a * g.Sh - g.Ph + g.Kh, g.H);
                    for (int b = 0; b < ow; b++)
                    {
                        int w0 = Math.Max(b * g.Sw - g.Pw, 0), w1 = Math.Min(b * g.Sw - g.Pw + g.Kw, g.W);
                        int divisor = countIncludePad ? g.Kh * g.Kw : (h1 - h0) * (w1 - w0);
                        T share = dy[o0 + a * ow + b] / T.CreateChecked(divisor);
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) dxc[ih * g.W + iw] += share;
                    }
                }
            }
    }
}
