using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

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
internal static unsafe class Conv
{
    /// <summary>cols[(c, i, j), n·P + (oh, ow)] = x[n, c, oh·sh − ph + i, ow·sw − pw + j] (0 outside), a [K, rows·P] matrix.</summary>
    /// <remarks>On more than one thread the rows (c, i, j) are cut into ranges, one range per part: each entry is a copy, so
    /// the result does not depend on the split.</remarks>
    public static void Im2Col<T>(ReadOnlySpan<T> x, Span<T> cols, int rows, in Window2d g, int threads = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int q = rows * g.P;
        if (x.Length < rows * g.InSize || cols.Length < g.K * q) throw new ArgumentException("im2col operands do not fit");
        fixed (T* px = x) fixed (T* pc = cols)
        {
            var job = new Job<T> { X = px, XLength = rows * g.InSize, Out = pc, OutLength = g.K * q, Rows = rows, G = g };
            WorkerPool.RunRanges(g.K, (long)g.K * q, threads, &Im2ColPart<T>, &job);
        }
    }

    private static void Im2ColPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        Im2ColRows(new ReadOnlySpan<T>(job.X, job.XLength), new Span<T>(job.Out, job.OutLength), job.Rows, job.G, from, to);
    }

    /// <summary>Rows [from, to) of the column matrix (row (c, i, j) = (c·kh + i)·kw + j).</summary>
    internal static void Im2ColRows<T>(ReadOnlySpan<T> x, Span<T> cols, int rows, in Window2d g, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OutH, ow = g.OutW, p = g.P, q = rows * p, inSize = g.InSize, hw = g.H * g.W;
        var keep = EdgeMaskCache<T>.For(g);
        // (c, i, j) of row r, stepped with r (three divisions per row cost as much as a short row's copy).
        int c = from / (g.Kh * g.Kw), i = from / g.Kw % g.Kh, j = from % g.Kw - 1;
        for (int r = from; r < to; r++)
        {
            if (++j == g.Kw) { j = 0; if (++i == g.Kh) { i = 0; c++; } }
            var row = cols.Slice(r * q, q);
            if (SameWidthRun(g, i, j, out int y0, out int y1, out int t0, out int t1, out int offset))
            {
                if (!keep.IsEmpty)
                {
                    // One pass over the run, the entries at the rows' edges masked to +0 (a copy either way: the same bits).
                    var kj = keep.Slice(j * p, p);
                    for (int n = 0; n < rows; n++)
                    {
                        var dst = row.Slice(n * p, p);
                        if (y1 == y0) { dst.Clear(); continue; }
                        ClearShort(dst[..t0]);
                        ClearShort(dst[t1..]);
                        if (t1 > t0) CopyKept(x.Slice(n * inSize + c * hw + t0 + offset, t1 - t0), kj[t0..t1], dst[t0..t1]);
                    }
                    continue;
                }
                // The output rows y0..y1 read consecutive input rows, each shifted by the same dj: one run of the plane, then
                // the |dj| elements at each row's edge (which read padding, and which the run filled from the next row) zeroed.
                int w = g.W, dj = j - g.Pw;
                for (int n = 0; n < rows; n++)
                {
                    var xc = x.Slice(n * inSize + c * hw, hw);
                    var dst = row.Slice(n * p, p);
                    dst[..(y0 * w)].Clear();
                    dst[(y1 * w)..].Clear();
                    if (y1 == y0) continue;
                    xc.Slice(t0 + offset, t1 - t0).CopyTo(dst[t0..t1]);
                    ClearEdges(dst, y0, y1, w, dj);
                }
                continue;
            }
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
                    if (g.Sw == 1)
                    {
                        // Stride 1: the row is a contiguous run of x between zeros.
                        var (lo, hi) = Inside(ow, g.W, g.Pw - j);
                        d[..lo].Clear();
                        if (hi > lo) xr.Slice(lo - g.Pw + j, hi - lo).CopyTo(d[lo..hi]);
                        d[hi..].Clear();
                        continue;
                    }
                    for (int xo = 0; xo < ow; xo++)
                    {
                        int iw = xo * g.Sw - g.Pw + j;
                        d[xo] = (uint)iw < (uint)g.W ? xr[iw] : T.Zero;
                    }
                }
            }
        }
    }

    /// <summary>Whether tap (i, j) of a stride-1 window whose output rows are as wide as the input's (ow = W: "same" padding
    /// along the width) reads, for output rows [y0, y1), the input plane shifted by offset = di·W + dj (di = i − ph, dj = j − pw):
    /// output element t reads input element t + offset, for t in [t0, t1) (the rest of those rows are the |dj| elements at each
    /// row's edge, <see cref="ClearEdges{T}"/>, which read padding). Rows outside [y0, y1) read padding rows.</summary>
    private static bool SameWidthRun(in Window2d g, int i, int j, out int y0, out int y1, out int t0, out int t1, out int offset)
    {
        int w = g.W, di = i - g.Ph, dj = j - g.Pw;
        y0 = y1 = t0 = t1 = offset = 0;
        if (g.Sh != 1 || g.Sw != 1 || g.OutW != w || Math.Abs(dj) >= w) return false;
        y0 = Math.Clamp(-di, 0, g.OutH); y1 = Math.Clamp(g.H - di, y0, g.OutH);
        t0 = y0 * w + Math.Max(0, -dj); t1 = Math.Max(t0, y1 * w - Math.Max(0, dj));
        offset = di * w + dj;
        return true;
    }

    /// <summary>The |dj| elements of each output row y in [y0, y1) (width w) that read padding, its first −dj (dj &lt; 0) or its last
    /// dj, set to +0, element by element: a 3 × 3 kernel's edge is one element per row,
    /// and a span's Clear per row cost more than the row's copy (the CNN's second convolution, one example at a time on one
    /// thread: im2col 1,085 µs for the batch).</summary>
    private static void ClearEdges<T>(Span<T> map, int y0, int y1, int w, int dj) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int first = dj < 0 ? 0 : w - dj, count = Math.Abs(dj);
        if (y1 <= y0 || count == 0) return;
        _ = map[(y1 - 1) * w + first + count - 1];  // one bounds check for all the stores below
        ref T m = ref MemoryMarshal.GetReference(map);
        for (int y = y0; y < y1; y++)
        {
            ref T e = ref Unsafe.Add(ref m, y * w + first);
            for (int k = 0; k < count; k++) Unsafe.Add(ref e, k) = T.Zero;
        }
    }

    /// <summary>keep[j·P + t] = all bits set where output t's column plus dj = j − pw lies in [0, W) (tap column j reads the
    /// row, not padding), +0 where it does not: the masks with which im2col and col2im treat the edges of
    /// <see cref="SameWidthRun"/>'s runs, for a stride-1 window as wide as its input, on vector hardware (empty otherwise: the
    /// edges are then cleared element by element). Each thread keeps the masks of the last geometry it met, so a convolution's
    /// passes build them once per geometry change, not per example (per example they cost about as much as they saved).</summary>
    /// <remarks>The CNN's second convolution (14 × 14, 3 × 3 "same"), one example at a time on one thread (report --parts
    /// cnn, alternated twice with the element-by-element edges, Zen 4): im2col 683/678 → 597/606 µs for the batch, col2im
    /// 705/710 → 634/640.</remarks>
    private static class EdgeMaskCache<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static T[]? buffer;
        [ThreadStatic] private static Window2d geometry;
        [ThreadStatic] private static int length;

        public static ReadOnlySpan<T> For(in Window2d g)
        {
            if (!Vector128.IsHardwareAccelerated || g.Sh != 1 || g.Sw != 1 || g.OutW != g.W) return default;
            int n = g.Kw * g.P;
            if (buffer is not null && length == n && geometry == g) return buffer.AsSpan(0, n);
            if (buffer is null || buffer.Length < n) buffer = new T[n];
            T all = Vector128<T>.AllBitsSet.ToScalar();
            int w = g.W, p = g.P;
            for (int j = 0; j < g.Kw; j++)
            {
                int dj = j - g.Pw;
                var kj = buffer.AsSpan(j * p, p);
                for (int t = 0, col = 0; t < p; t++, col = col + 1 == w ? 0 : col + 1) kj[t] = (uint)(col + dj) < (uint)w ? all : T.Zero;
            }
            geometry = g; length = n;
            return buffer.AsSpan(0, n);
        }
    }

    /// <summary>A short span set to +0 in whole vector stores (the last overlapping), not a call to Clear.</summary>
    private static void ClearShort<T>(Span<T> span) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = span.Length, l = Vector128<T>.Count;
        ref T d = ref MemoryMarshal.GetReference(span);
        if (!Vector128.IsHardwareAccelerated || n < l) { for (int t = 0; t < n; t++) Unsafe.Add(ref d, t) = T.Zero; return; }
        if (n > 8 * l) { span.Clear(); return; }
        for (int t = 0; t < n - l; t += l) Vector128<T>.Zero.StoreUnsafe(ref d, (nuint)t);
        Vector128<T>.Zero.StoreUnsafe(ref d, (nuint)(n - l));
    }

    /// <summary>dst[t] = src[t] &amp; keep[t], bitwise, in whole vectors (the last one overlapping the one before).</summary>
    private static void CopyKept<T>(ReadOnlySpan<T> src, ReadOnlySpan<T> keep, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dst.Length, l = Vector<T>.Count;
        ref T s = ref MemoryMarshal.GetReference(src);
        ref T k = ref MemoryMarshal.GetReference(keep);
        ref T d = ref MemoryMarshal.GetReference(dst);
        if (!Vector.IsHardwareAccelerated || n < l)
        {
            for (int v = 0; v < n; v++) Unsafe.Add(ref d, v) = Kept(Unsafe.Add(ref s, v), Unsafe.Add(ref k, v));
            return;
        }
        for (int t = 0; ; t += l)
        {
            if (t > n - l) t = n - l;
            (Vector.LoadUnsafe(ref s, (nuint)t) & Vector.LoadUnsafe(ref k, (nuint)t)).StoreUnsafe(ref d, (nuint)t);
            if (t == n - l) return;
        }
    }

    /// <summary>acc[t] += src[t] &amp; keep[t] (the masked entries add +0), in order element by element.</summary>
    private static void AddKept<T>(ReadOnlySpan<T> src, ReadOnlySpan<T> keep, Span<T> acc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = acc.Length, t = 0;
        ref T s = ref MemoryMarshal.GetReference(src);
        ref T k = ref MemoryMarshal.GetReference(keep);
        ref T a = ref MemoryMarshal.GetReference(acc);
        if (Vector.IsHardwareAccelerated)
            for (int l = Vector<T>.Count; t + l <= n; t += l)
                (Vector.LoadUnsafe(ref a, (nuint)t) + (Vector.LoadUnsafe(ref s, (nuint)t) & Vector.LoadUnsafe(ref k, (nuint)t))).StoreUnsafe(ref a, (nuint)t);
        for (; t < n; t++) Unsafe.Add(ref a, t) += Kept(Unsafe.Add(ref s, t), Unsafe.Add(ref k, t));
    }

    /// <summary>v &amp; mask for one element (the mask all bits or none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Kept<T>(T v, T mask) where T : unmanaged => (Vector128.CreateScalarUnsafe(v) & Vector128.CreateScalarUnsafe(mask)).ToScalar();

    /// <summary>The outputs [lo, hi) of a stride-1 row of <paramref name="ow"/> whose input column xo − <paramref name="shift"/> lies in [0, w).</summary>
    private static (int Lo, int Hi) Inside(int ow, int w, int shift)
    {
        int lo = Math.Clamp(shift, 0, ow), hi = Math.Clamp(w + shift, lo, ow);
        return (lo, hi);
    }

    /// <summary>dx = col2im(dcols): clears dx, then adds each column entry to the input element it was read from, in the order
    /// (c, i, j, n, oh, ow). <paramref name="dcols"/> is consumed: entries whose column entry read padding may be set to +0.</summary>
    /// <remarks>On more than one thread the channels are cut into ranges, one range per part: every element of dx belongs to one
    /// channel, whose additions one part makes in the order above, so the result does not depend on the split. With stride 1
    /// and "same" width a tap's additions into one example's channel are one run (<see cref="SameWidthRun"/>): the entries at
    /// the rows' edges, which read padding and would land on the next row's edge, are first set to +0, and adding +0 changes no
    /// bit of a sum that started at +0 (such a sum is never −0). Config cnn's second convolution: 1,065 µs with a run per row
    /// (14 elements).</remarks>
    public static void Col2Im<T>(Span<T> dcols, Span<T> dx, int rows, in Window2d g, int threads = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int q = rows * g.P;
        if (dx.Length < rows * g.InSize || dcols.Length < g.K * q) throw new ArgumentException("col2im operands do not fit");
        fixed (T* pc = dcols) fixed (T* px = dx)
        {
            var job = new Job<T> { X = pc, XLength = g.K * q, Out = px, OutLength = rows * g.InSize, Rows = rows, G = g };
            WorkerPool.RunRanges(g.C, (long)g.K * q, threads, &Col2ImPart<T>, &job);
        }
    }

    private static void Col2ImPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        Col2ImChannels(new Span<T>(job.X, job.XLength), new Span<T>(job.Out, job.OutLength), job.Rows, job.G, from, to);
    }

    private struct Job<T> where T : unmanaged
    {
        public T* X; public int XLength;
        public T* Out; public int OutLength;
        public int Rows; public Window2d G;
    }

    /// <summary>Channels [from, to) of dx: cleared in every example, then the column entries added.</summary>
    internal static void Col2ImChannels<T>(Span<T> dcols, Span<T> dx, int rows, in Window2d g, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = g.OutH, ow = g.OutW, p = g.P, q = rows * p, inSize = g.InSize, hw = g.H * g.W;
        var keep = EdgeMaskCache<T>.For(g);
        for (int n = 0; n < rows; n++) dx.Slice(n * inSize + from * hw, (to - from) * hw).Clear();
        for (int c = from; c < to; c++)
            for (int i = 0; i < g.Kh; i++)
                for (int j = 0; j < g.Kw; j++)
                {
                    var row = dcols.Slice(((c * g.Kh + i) * g.Kw + j) * q, q);
                    if (SameWidthRun(g, i, j, out int y0, out int y1, out int t0, out int t1, out int offset))
                    {
                        int w = g.W, dj = j - g.Pw;
                        if (t1 <= t0) continue;
                        for (int n = 0; n < rows; n++)
                        {
                            var dxc = dx.Slice(n * inSize + c * hw, hw);
                            var src = row.Slice(n * p, p);
                            var run = dxc.Slice(t0 + offset, t1 - t0);
                            if (!keep.IsEmpty) { AddKept(src[t0..t1], keep.Slice(j * p + t0, t1 - t0), run); continue; }
                            ClearEdges(src, y0, y1, w, dj);
                            System.Numerics.Tensors.TensorPrimitives.Add(run, src[t0..t1], run);
                        }
                        continue;
                    }
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
                            if (g.Sw == 1)
                            {
                                // Stride 1: one contiguous run; each element still gets its additions in the order above.
                                var (lo, hi) = Inside(ow, g.W, g.Pw - j);
                                if (hi > lo)
                                {
                                    var run = dr.Slice(lo - g.Pw + j, hi - lo);
                                    System.Numerics.Tensors.TensorPrimitives.Add(run, s[lo..hi], run);
                                }
                                continue;
                            }
                            for (int xo = 0; xo < ow; xo++)
                            {
                                int iw = xo * g.Sw - g.Pw + j;
                                if ((uint)iw < (uint)g.W) dr[iw] += s[xo];
                            }
                        }
                    }
                }
    }

    /// <summary>The passes of <see cref="Pool{T}"/>.</summary>
    /// <remarks>MaxReluForward and MaxReluBackward are a ReLU followed by max pooling in one pass each (<see cref="MaxPool{T}"/>'s
    /// <c>relu</c>, <see cref="MaxPoolBackward{T}"/>'s <c>y</c>): the fold runs them for that pair of layers.</remarks>
    internal enum PoolPass { MaxForward, MaxBackward, AverageForward, AverageBackward, MaxReluForward, MaxReluBackward }

    /// <summary>One pooling pass (<see cref="MaxPool{T}"/>, <see cref="MaxPoolBackward{T}"/>, <see cref="AvgPool{T}"/>,
    /// <see cref="AvgPoolBackward{T}"/>) over the batch, cut into runs of whole examples for up to <paramref name="threads"/>
    /// threads. Examples are independent in every pass (an argmax is an index within its example, and a backward pass adds only
    /// into its own example, in the same order), so the split changes no bit.</summary>
    /// <param name="pass">Which pass.</param>
    /// <param name="input">x (forward) or dy (backward).</param>
    /// <param name="output">y (forward) or dx (backward).</param>
    /// <param name="argmax">Max pooling's argmaxes (written forward, read backward); empty for average pooling.</param>
    /// <param name="rows">Examples.</param>
    /// <param name="g">The window.</param>
    /// <param name="countIncludePad">Average pooling's divisor rule.</param>
    /// <param name="threads">Threads to use.</param>
    /// <param name="y">MaxReluBackward's forward output (the ReLU's gate); empty for the other passes.</param>
    public static void Pool<T>(PoolPass pass, ReadOnlySpan<T> input, Span<T> output, Span<int> argmax, int rows, in Window2d g, bool countIncludePad, int threads,
        ReadOnlySpan<T> y = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool forward = pass is PoolPass.MaxForward or PoolPass.AverageForward or PoolPass.MaxReluForward;
        bool max = pass is PoolPass.MaxForward or PoolPass.MaxBackward or PoolPass.MaxReluForward or PoolPass.MaxReluBackward;
        int inPer = forward ? g.InSize : g.C * g.P, outPer = forward ? g.C * g.P : g.InSize;
        if (input.Length < rows * inPer || output.Length < rows * outPer || (max && argmax.Length < rows * g.C * g.P)
            || (pass == PoolPass.MaxReluBackward && y.Length < rows * g.C * g.P))
            throw new ArgumentException("pooling operands do not fit");
        fixed (T* pi = input) fixed (T* po = output) fixed (int* pa = argmax) fixed (T* py = y)
        {
            var job = new PoolJob<T> { Pass = pass, In = pi, Out = po, Argmax = pa, Gate = py, InPer = inPer, OutPer = outPer, G = g, CountIncludePad = countIncludePad };
            WorkerPool.RunRanges(rows, (long)rows * g.InSize, threads, &PoolPart<T>, &job);
        }
    }

    private struct PoolJob<T> where T : unmanaged
    {
        public PoolPass Pass;
        public T* In, Out, Gate; public int* Argmax;
        public int InPer, OutPer;
        public Window2d G;
        public bool CountIncludePad;
    }

    private static void PoolPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<PoolJob<T>>(state);
        int n = to - from, per = job.G.C * job.G.P;
        var input = new ReadOnlySpan<T>(job.In + (long)from * job.InPer, n * job.InPer);
        var output = new Span<T>(job.Out + (long)from * job.OutPer, n * job.OutPer);
        var argmax = job.Argmax == null ? default : new Span<int>(job.Argmax + (long)from * per, n * per);
        switch (job.Pass)
        {
            case PoolPass.MaxForward: MaxPool<T>(input, output, argmax, n, job.G); break;
            case PoolPass.MaxBackward: MaxPoolBackward<T>(input, argmax, output, n, job.G); break;
            case PoolPass.MaxReluForward: MaxPool<T>(input, output, argmax, n, job.G, relu: true); break;
            case PoolPass.MaxReluBackward: MaxPoolBackward<T>(input, argmax, output, n, job.G, new ReadOnlySpan<T>(job.Gate + (long)from * per, n * per)); break;
            case PoolPass.AverageForward: AvgPool<T>(input, output, n, job.G, job.CountIncludePad); break;
            default: AvgPoolBackward<T>(input, output, n, job.G, job.CountIncludePad); break;
        }
    }

    /// <summary>Max pooling: y = the window's maximum (padding counts as −∞), argmax[o] = the input index (within the example) of
    /// the first maximum in row-major window order; a NaN wins, as in PyTorch. With <paramref name="relu"/>, y = ReLU(the maximum)
    /// (<see cref="Elementwise.Relu{T}"/>'s select): the bits of a ReLU's output max-pooled, since ReLU is monotone and keeps NaN
    /// (see <see cref="Layers.ReluMaxPool2dSpec"/>); the argmaxes are then the raw input's, which its backward pass reads.
    /// <paramref name="indexBase"/> is added to every argmax: a plane pooled alone as channel c of its example passes c·H·W.</summary>
    public static void MaxPool<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> argmax, int rows, in Window2d g, bool relu = false, int indexBase = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Pool2x2.Applies(g))
        {
            Pool2x2.Max(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), argmax, rows, g, relu, indexBase);
            return;
        }
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
                        y[o0 + a * ow + b] = !relu || max > T.Zero || T.IsNaN(max) ? max : T.Zero;
                        argmax[o0 + a * ow + b] = indexBase + c * hw + best;
                    }
                }
            }
    }

    /// <summary>dx = 0, then dx[argmax[o]] += dy[o] for each output in order. With the fused forward's output <paramref name="y"/>
    /// (a ReLU before the pool), dx[argmax[o]] += (y[o] &gt; 0 ? dy[o] : 0): the ReLU's backward (dx = dy where x &gt; 0) taken at the
    /// window's maximum, which is where a positive maximum came from (see <see cref="Layers.ReluMaxPool2dSpec"/>).</summary>
    public static void MaxPoolBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> argmax, Span<T> dx, int rows, in Window2d g, ReadOnlySpan<T> y = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        dx.Clear();
        int per = g.C * g.P;
        Span<T> gated = y.IsEmpty ? default : stackalloc T[256];
        for (int n = 0; n < rows; n++)
        {
            var d = dx.Slice(n * g.InSize, g.InSize);
            if (y.IsEmpty)
                for (int o = 0; o < per; o++) d[argmax[n * per + o]] += dy[n * per + o];
            else
            {
                // The gated dy of a block of outputs first, ReLU's own backward select on y (y > 0 iff the window's maximum > 0;
                // y > 0 is as often false as true: a branch per output mispredicted half the time, 159 -> 413 µs for the README
                // CNN's first pool), then added in order.
                for (int o0 = 0; o0 < per; o0 += gated.Length)
                {
                    int count = Math.Min(gated.Length, per - o0), at = n * per + o0;
                    Elementwise.ReluBackward(y.Slice(at, count), dy.Slice(at, count), gated[..count]);
                    for (int o = 0; o < count; o++) d[argmax[at + o]] += gated[o];
                }
            }
        }
    }

    /// <summary>Average pooling with zero padding: y = (Σ of the window's elements inside the input, row-major) / divisor, the
    /// divisor kh·kw (<paramref name="countIncludePad"/>) or the number of those elements.</summary>
    public static void AvgPool<T>(ReadOnlySpan<T> x, Span<T> y, int rows, in Window2d g, bool countIncludePad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Pool2x2.Applies(g))
        {
            Pool2x2.Average(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), rows, g);
            return;
        }
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
        if (typeof(T) == typeof(float) && Pool2x2.Applies(g))
        {
            Pool2x2.AverageBackward(MemoryMarshal.Cast<T, float>(dy), MemoryMarshal.Cast<T, float>(dx), rows, g);
            return;
        }
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

/// <summary>The common pooling window — 2 × 2, stride 2, no padding, on floats — vectorised four outputs at a time (SSE on x64,
/// AdvSimd on ARM64; elsewhere the general loops run). It computes exactly what the general loops compute, in their order: the
/// window's candidates in row-major order, a candidate replacing the maximum when it is greater or NaN (so the first maximum wins and
/// a NaN wins), the average as ((0 + a) + b + c + d)/4, and the backward pass 0 + dy/4 into each of the four inputs — so either
/// path gives the same bits. Rows of odd width leave their last column out, as the general loops do.</summary>
internal static class Pool2x2
{
    public static bool Applies(in Window2d g) =>
        g is { Kh: 2, Kw: 2, Sh: 2, Sw: 2, Ph: 0, Pw: 0 } && g.OutW >= 4 && (Sse.IsSupported || AdvSimd.Arm64.IsSupported);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector128<float> lo, Vector128<float> hi, out Vector128<float> even, out Vector128<float> odd)
    {
        if (Sse.IsSupported) { even = Sse.Shuffle(lo, hi, 0b10_00_10_00); odd = Sse.Shuffle(lo, hi, 0b11_01_11_01); }
        else { even = AdvSimd.Arm64.UnzipEven(lo, hi); odd = AdvSimd.Arm64.UnzipOdd(lo, hi); }
    }

    /// <summary>The block of <paramref name="width"/> outputs after the one at <paramref name="b"/> in a row of <paramref name="ow"/>:
    /// width on, but never past the row's end, so the last block ends at ow (overlapping the one before when ow is not a multiple
    /// of width: those outputs are computed again, to the same values); ow when the row is done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Next(int b, int ow, int width = 4) => b == ow - width ? ow : Math.Min(b + width, ow - width);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int rows, in Window2d g, bool relu = false, int indexBase = 0)
    {
        int oh = g.OutH, ow = g.OutW, w = g.W, hw = g.H * g.W, planes = rows * g.C;
        if (x.Length < planes * hw || y.Length < planes * oh * ow || argmax.Length < planes * oh * ow) throw new ArgumentException("max pooling operands do not fit");
        var step = Vector128.Create(0, 2, 4, 6);
        for (int plane = 0; plane < planes; plane++)
        {
            int c = plane % g.C;
            var xc = x.Slice(plane * hw, hw);
            int o0 = plane * oh * ow;
            for (int a = 0; a < oh; a++)
            {
                var r0 = xc.Slice(2 * a * w, w); var r1 = xc.Slice((2 * a + 1) * w, w);
                if (Avx2.IsSupported && ow >= 8)
                {
                    // Eight outputs a register (the same comparisons lane by lane): blocks of 8, the last ending at ow.
                    var step8 = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
                    for (int b = 0; b < ow; b = Next(b, ow, 8))
                    {
                        Split(Vector256.Create(r0.Slice(2 * b, 8)), Vector256.Create(r0.Slice(2 * b + 8, 8)), out var e0, out var d0);
                        Split(Vector256.Create(r1.Slice(2 * b, 8)), Vector256.Create(r1.Slice(2 * b + 8, 8)), out var e1, out var d1);
                        var at = Vector256.Create(indexBase + c * hw + 2 * a * w + 2 * b) + step8;
                        var max = Vector256.Create(float.NegativeInfinity);
                        var best = at;
                        Take(e0, ref max, ref best, at);
                        Take(d0, ref max, ref best, at + Vector256<int>.One);
                        Take(e1, ref max, ref best, at + Vector256.Create(w));
                        Take(d1, ref max, ref best, at + Vector256.Create(w + 1));
                        if (relu) max = Vector256.ConditionalSelect(Vector256.GreaterThan(max, Vector256<float>.Zero) | ~Vector256.Equals(max, max), max, Vector256<float>.Zero);
                        max.CopyTo(y.Slice(o0 + a * ow + b, 8));
                        best.CopyTo(argmax.Slice(o0 + a * ow + b, 8));
                    }
                    continue;
                }
                for (int b = 0; b < ow; b = Next(b, ow))
                {
                    Split(Vector128.Create(r0.Slice(2 * b, 4)), Vector128.Create(r0.Slice(2 * b + 4, 4)), out var e0, out var d0);
                    Split(Vector128.Create(r1.Slice(2 * b, 4)), Vector128.Create(r1.Slice(2 * b + 4, 4)), out var e1, out var d1);
                    var at = Vector128.Create(indexBase + c * hw + 2 * a * w + 2 * b) + step;
                    var max = Vector128.Create(float.NegativeInfinity);
                    var best = at;
                    Take(e0, ref max, ref best, at);
                    Take(d0, ref max, ref best, at + Vector128<int>.One);
                    Take(e1, ref max, ref best, at + Vector128.Create(w));
                    Take(d1, ref max, ref best, at + Vector128.Create(w + 1));
                    if (relu) max = Vector128.ConditionalSelect(Vector128.GreaterThan(max, Vector128<float>.Zero) | ~Vector128.Equals(max, max), max, Vector128<float>.Zero);
                    max.CopyTo(y.Slice(o0 + a * ow + b, 4));
                    best.CopyTo(argmax.Slice(o0 + a * ow + b, 4));
                }
            }
        }
    }

    /// <summary>Even and odd elements of lo:hi (16 floats) in order: in-lane shuffles, then the 64-bit quarters put in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector256<float> lo, Vector256<float> hi, out Vector256<float> even, out Vector256<float> odd)
    {
        even = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        odd = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary>Where v &gt; max or v is NaN: max = v, best = index (eight lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector256<float> v, ref Vector256<float> max, ref Vector256<int> best, Vector256<int> index)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        max = Vector256.ConditionalSelect(take, v, max);
        best = Vector256.ConditionalSelect(take.AsInt32(), index, best);
    }

    /// <summary>Where v &gt; max or v is NaN: max = v, best = index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector128<float> v, ref Vector128<float> max, ref Vector128<int> best, Vector128<int> index)
    {
        var take = Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v);
        max = Vector128.ConditionalSelect(take, v, max);
        best = Vector128.ConditionalSelect(take.AsInt32(), index, best);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(ReadOnlySpan<float> x, Span<float> y, int rows, in Window2d g)
    {
        int oh = g.OutH, ow = g.OutW, w = g.W, hw = g.H * g.W, planes = rows * g.C;
        if (x.Length < planes * hw || y.Length < planes * oh * ow) throw new ArgumentException("average pooling operands do not fit");
        var four = Vector128.Create(4f);
        for (int plane = 0; plane < planes; plane++)
        {
            var xc = x.Slice(plane * hw, hw);
            int o0 = plane * oh * ow;
            for (int a = 0; a < oh; a++)
            {
                var r0 = xc.Slice(2 * a * w, w); var r1 = xc.Slice((2 * a + 1) * w, w);
                for (int b = 0; b < ow; b = Next(b, ow))
                {
                    Split(Vector128.Create(r0.Slice(2 * b, 4)), Vector128.Create(r0.Slice(2 * b + 4, 4)), out var e0, out var d0);
                    Split(Vector128.Create(r1.Slice(2 * b, 4)), Vector128.Create(r1.Slice(2 * b + 4, 4)), out var e1, out var d1);
                    ((Vector128<float>.Zero + e0 + d0 + e1 + d1) / four).CopyTo(y.Slice(o0 + a * ow + b, 4));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int rows, in Window2d g)
    {
        int oh = g.OutH, ow = g.OutW, w = g.W, hw = g.H * g.W, planes = rows * g.C;
        if (dx.Length < planes * hw || dy.Length < planes * oh * ow) throw new ArgumentException("average pooling operands do not fit");
        dx.Clear();
        var four = Vector128.Create(4f);
        for (int plane = 0; plane < planes; plane++)
        {
            var dxc = dx.Slice(plane * hw, hw);
            int o0 = plane * oh * ow;
            for (int a = 0; a < oh; a++)
            {
                var r0 = dxc.Slice(2 * a * w, w); var r1 = dxc.Slice((2 * a + 1) * w, w);
                for (int b = 0; b < ow; b = Next(b, ow))
                {
                    var share = Vector128<float>.Zero + Vector128.Create(dy.Slice(o0 + a * ow + b, 4)) / four;
                    Vector128<float> lo, hi;
                    if (Sse.IsSupported) { lo = Sse.UnpackLow(share, share); hi = Sse.UnpackHigh(share, share); }
                    else { lo = AdvSimd.Arm64.ZipLow(share, share); hi = AdvSimd.Arm64.ZipHigh(share, share); }
                    lo.CopyTo(r0.Slice(2 * b, 4)); hi.CopyTo(r0.Slice(2 * b + 4, 4));
                    lo.CopyTo(r1.Slice(2 * b, 4)); hi.CopyTo(r1.Slice(2 * b + 4, 4));
                }
            }
        }
    }
}
