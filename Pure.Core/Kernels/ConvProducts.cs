using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralPure.Kernels;

/// <summary>A convolution's three products example by example, each example's column matrix built where the product reads it
/// (in this thread's cache) instead of for the whole batch in memory.</summary>
/// <remarks>
/// <para>With cols(n) = im2col of example n, [K, P] (K = C·kh·kw rows, P output positions), W [out, K] and dY(n) [out, P]
/// (example n's output gradient, which NCHW already lays out channel by channel):
/// forward y(n) = W·cols(n) (+ bias per channel), written straight into the example's output; input gradient
/// dx(n) = col2im(Wᵀ·dY(n)); weight gradient dW = Σₙ dY(n)·cols(n)ᵀ, computed as its transpose Σₙ cols(n)·dY(n)ᵀ, one product
/// per example that continues the chains of the one before (<see cref="Gemm.Operands{T}.Accumulate"/>).</para>
/// <para><b>The bits are the whole-batch products'.</b> An output element of the forward product and of the input
/// gradient's is a chain over K or over the output channels, which an example's product computes exactly as the batch's
/// did; a weight gradient element is one chain over (example, position) in that order, and the examples' products continue
/// it through C as the batch product's depth blocks did. The column entries are copies, and col2im adds into an example's
/// own inputs in the same order.</para>
/// <para><b>Why.</b> The README's CNN at batch 64 kept a 14.4 MB column matrix (its second convolution's) from the forward
/// pass to the backward pass, and copied the products' [out, rows·P] results to and from NCHW: 6.4 MB each way for the first
/// convolution. Example by example, a column matrix is 225 KB (in L2 while the product reads it) and the products read and
/// write the examples' maps where they are; the backward pass builds the columns again.</para>
/// <para><b>Threads.</b> The forward pass and the input gradient cut the batch into runs of examples; the weight gradient
/// cuts its output's rows (taps) or columns (channels), each part running the whole chain of its elements, example after
/// example: no split touches a reduction, so the bits do not depend on the thread count.</para>
/// <para>Measured (report --parts cnn, Zen 4, 2 threads, the whole-batch products and then these alternated): the README
/// CNN's steps went from 3,118/3,144/2,797 to 3,436/3,633/3,348 examples/s (medians of step-rate), its peak working set
/// from 136.5 to 107.8 MB.</para>
/// </remarks>
internal static unsafe class ConvProducts
{
    private struct Job<T> where T : unmanaged
    {
        public T* X, W, Bias, Y, DY, DX, DW, DB;
        public int Rows, Out, Units, Parts, Unit;
        public Window2d G;
        public VectorWidth Width;
    }

    /// <summary>y[n] = W·cols(n) (+ bias[o] on channel o's map, one rounded addition after the chain): W [out, K], x [rows, C, H, W],
    /// y [rows, out, P].</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> y, int rows, in Window2d g, int outC, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, (long)rows * g.InSize, w, (long)outC * g.K, y, (long)rows * outC * g.P, "y", g);
        if (!bias.IsEmpty) Guard.Length(bias, outC, nameof(bias));
        fixed (T* px = x) fixed (T* pw = w) fixed (T* pb = bias) fixed (T* py = y)
        {
            var job = new Job<T> { X = px, W = pw, Bias = bias.IsEmpty ? null : pb, Y = py, Rows = rows, Out = outC, G = g, Width = Gemm.WidthFor<T>(g.P) };
            WorkerPool.RunRanges(rows, (long)rows * g.K * g.P, threads, &ForwardPart<T>, &job);
        }
    }

    private static void ForwardPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        var g = job.G;
        int k = g.K, p = g.P, outC = job.Out;
        T* cols = Columns<T>.Get(k * p);
        var op = new Gemm.Operands<T>
        {
            A = job.W, Ars = k, Acs = 1,
            B = cols, Brs = p, Bcs = 1,
            Ldc = p, M = outC, N = p, K = k,
        };
        for (int n = from; n < to; n++)
        {
            Conv.Im2ColRows(new ReadOnlySpan<T>(job.X + (long)n * g.InSize, g.InSize), new Span<T>(cols, k * p), 1, g, 0, k);
            op.C = job.Y + (long)n * outC * p;
            Gemm.MultiplySerial(op, job.Width);
            if (job.Bias != null)
                for (int o = 0; o < outC; o++)
                {
                    var map = new Span<T>(op.C + o * p, p);
                    System.Numerics.Tensors.TensorPrimitives.Add(map, job.Bias[o], map);
                }
        }
    }

    /// <summary>dx[n] = col2im(Wᵀ·dY(n)): W [out, K], dY [rows, out, P], dx [rows, C, H, W] (cleared, then the column entries added).</summary>
    public static void InputGradient<T>(ReadOnlySpan<T> w, ReadOnlySpan<T> dy, Span<T> dx, int rows, in Window2d g, int outC, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(dy, (long)rows * outC * g.P, w, (long)outC * g.K, dx, (long)rows * g.InSize, "dx", g);
        fixed (T* pw = w) fixed (T* pdy = dy) fixed (T* pdx = dx)
        {
            var job = new Job<T> { W = pw, DY = pdy, DX = pdx, Rows = rows, Out = outC, G = g, Width = Gemm.WidthFor<T>(g.P) };
            WorkerPool.RunRanges(rows, (long)rows * g.K * g.P, threads, &InputGradientPart<T>, &job);
        }
    }

    private static void InputGradientPart<T>(void* state, int from, int to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        var g = job.G;
        int k = g.K, p = g.P, outC = job.Out;
        T* dcols = Columns<T>.Get(k * p);
        // Wᵀ: the product's rows are W's columns; packed once for all of this part's examples.
        var op = new Gemm.Operands<T>
        {
            A = job.W, Ars = 1, Acs = k,
            Brs = p, Bcs = 1,
            C = dcols, Ldc = p, M = k, N = p, K = outC,
        };
        T* packed = Gemm.PackWholeA(op, job.Width);
        for (int n = from; n < to; n++)
        {
            op.B = job.DY + (long)n * outC * p;
            Gemm.MultiplySerial(op, job.Width, packed);
            Conv.Col2ImChannels(new Span<T>(dcols, k * p), new Span<T>(job.DX + (long)n * g.InSize, g.InSize), 1, g, 0, g.C);
        }
    }

    /// <summary>Elements of the weight gradient's transpose dWᵀ [K, out], which <see cref="WeightGradient{T}"/> computes first.</summary>
    public static int TransposedScratch(in Window2d g, int outC) => checked(g.K * outC);

    /// <summary>dW [out, K] = Σₙ dY(n)·cols(n)ᵀ, each element one chain over (n, position) in order, computed as its transpose
    /// dWᵀ = Σₙ cols(n)·dY(n)ᵀ into <paramref name="dwt"/> [K, out] and then transposed: each element the same chain with the
    /// factors swapped (a·b = b·a and fma(a, b, c) = fma(b, a, c) exactly), so the same bits. With <paramref name="db"/>, also the
    /// bias gradient db[o] = Σₙ Σᵢ dY(n)[o, i], each channel one chain in the order (n, i) from +0 (ChannelSums' bits), added
    /// from the packed dY(n)ᵀ while it is in cache (<see cref="Gemm.Operands{T}.ColumnSums"/>), a lane per channel, instead of a
    /// pass of its own over dY with a scalar chain per channel.</summary>
    /// <remarks>Transposed, the columns are the product's A, read where they are, and the operand the product packs (and
    /// transposes) is dY(n), out·P elements instead of the columns' K·P (the CNN's second convolution: 12,544 instead of
    /// 56,448 per example). The product's rows (taps) are cut among the threads in whole panels, each building only its
    /// taps' rows of the columns; a kernel with too few taps for that (the first layer's 9) cuts its columns (channels)
    /// instead, every part building all the columns. The bias
    /// gradient from the packed dYᵀ, measured (report --parts cnn, Zen 4, alternated twice with a ChannelSums pass of its own):
    /// the CNN's first convolution's backward 1,077/1,089 → 848/856 µs on 1 thread, 570 → 475/474 on 2; the second's
    /// 10,404/10,522 → 10,215/10,205 on 1.</remarks>
    public static void WeightGradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw, Span<T> dwt, int rows, in Window2d g, int outC, int threads, Span<T> db = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, (long)rows * g.InSize, dy, (long)rows * outC * g.P, dw, (long)outC * g.K, "dw", g);
        Guard.Length(dwt, TransposedScratch(g, outC), nameof(dwt));
        if (!db.IsEmpty) { Guard.Length(db, outC, nameof(db)); Guard.NoOverlap(dy, db, nameof(db)); Guard.NoOverlap(dw, db, nameof(db)); }
        if (rows == 0) { dw.Clear(); db.Clear(); return; }
        int k = g.K;
        var width = Gemm.WidthFor<T>(outC);
        int panels = (k + Gemm.PanelRows<T>(width) - 1) / Gemm.PanelRows<T>(width);
        int tiles = (outC + Gemm.TileColumns<T>(width) - 1) / Gemm.TileColumns<T>(width);
        bool byRows = panels >= 2 * threads;
        if (!byRows && tiles == 1 && threads > 1 && width == VectorWidth.V512 && Gemm.WidthFor<T>(outC, VectorWidth.V256) == VectorWidth.V256)
        {
            // One Vector512 tile of channels (32): at Vector256 it is two, one per thread. Widths give the same bits.
            width = VectorWidth.V256;
            tiles = (outC + Gemm.TileColumns<T>(width) - 1) / Gemm.TileColumns<T>(width);
        }
        int units = byRows ? panels : tiles;
        int parts = threads <= 1 || WorkerPool.Helpers == 0 || (long)rows * k * g.P < WorkerPool.ElementwiseThreshold ? 1 : Math.Min(units, threads);
        fixed (T* px = x) fixed (T* pdy = dy) fixed (T* pdwt = dwt) fixed (T* pdb = db)
        {
            var job = new Job<T>
            {
                X = px, DY = pdy, DW = pdwt, DB = db.IsEmpty ? null : pdb, Rows = rows, Out = outC, G = g, Width = width,
                Units = units, Parts = parts, Unit = byRows ? -Gemm.PanelRows<T>(width) : Gemm.TileColumns<T>(width),
            };
            if (parts == 1) WeightGradientPart<T>(&job, 0);
            else WorkerPool.Run(parts, &WeightGradientPart<T>, &job);
        }
        for (int r = 0; r < k; r++)
            for (int o = 0; o < outC; o++) dw[o * k + r] = dwt[r * outC + o];
    }

    private static void WeightGradientPart<T>(void* state, int part) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        var g = job.G;
        int k = g.K, p = g.P, outC = job.Out;
        // This part's rows [i0, i1) (taps) and columns [j0, j1) (channels) of dWᵀ: a range of whole panels (Unit < 0: rows) or
        // of whole tiles (columns).
        bool byRows = job.Unit < 0;
        int unit = Math.Abs(job.Unit), extent = byRows ? k : outC;
        int from = Math.Min(extent, (int)((long)part * job.Units / job.Parts) * unit);
        int to = Math.Min(extent, (int)((long)(part + 1) * job.Units / job.Parts) * unit);
        if (to <= from) return;
        int i0 = byRows ? from : 0, i1 = byRows ? to : k, j0 = byRows ? 0 : from, j1 = byRows ? outC : to;
        T* cols = Columns<T>.Get(k * p);
        var colsSpan = new Span<T>(cols, k * p);
        var op = new Gemm.Operands<T>
        {
            A = cols + (long)i0 * p, Ars = p, Acs = 1,
            Brs = 1, Bcs = p,
            C = job.DW + (long)i0 * outC + j0, Ldc = outC, M = i1 - i0, N = j1 - j0, K = p,
        };
        if (job.DB != null)
        {
            // The bias gradient db[o] = Σ dY(e)[o, ·], examples in order, from the packed dY(e)ᵀ: a part cutting the channels
            // sums its own; parts cutting the taps each pack every channel, so each sums its share of the channels' tiles.
            int tc = Gemm.TileColumns<T>(job.Width), tiles = (outC + tc - 1) / tc;
            int s0 = byRows ? Math.Min(outC, (int)((long)part * tiles / job.Parts) * tc) : 0;
            int s1 = byRows ? Math.Min(outC, (int)((long)(part + 1) * tiles / job.Parts) * tc) : j1 - j0;
            op.ColumnSums = job.DB + j0; op.SumFrom = s0; op.SumTo = s1;
            new Span<T>(job.DB + j0 + s0, s1 - s0).Clear();
        }
        for (int e = 0; e < job.Rows; e++)
        {
            // dWᵀ[i0..i1, j0..j1) += cols(e)[i0..i1)·dY(e)[j0..j1)ᵀ: only this part's rows of the columns.
            Conv.Im2ColRows(new ReadOnlySpan<T>(job.X + (long)e * g.InSize, g.InSize), colsSpan, 1, g, i0, i1);
            op.B = job.DY + (long)e * outC * p + (long)j0 * p;
            op.Accumulate = e > 0;
            Gemm.MultiplySerial(op, job.Width);
        }
    }

    /// <summary>The operands' lengths (in long: a product of dimensions past int is refused, not wrapped) and overlaps, and one
    /// example's column matrix within an array's length.</summary>
    private static void Check<T>(ReadOnlySpan<T> a, long aLength, ReadOnlySpan<T> b, long bLength, Span<T> c, long cLength, string cName, in Window2d g)
    {
        if (a.Length < aLength || b.Length < bLength || c.Length < cLength)
            throw new ArgumentException($"convolution operands do not fit ({cName})");
        if ((long)g.K * g.P > Array.MaxLength)
            throw new ArgumentException($"one example's column matrix [{g.K}, {g.P}] is longer than an array can be", cName);
        Guard.NoOverlap(a, c, cName); Guard.NoOverlap(b, c, cName);
    }

    /// <summary>Each thread's column matrix of one example, pinned, grown on demand and kept (steady-state steps allocate nothing).</summary>
    private static class Columns<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? buffer;

        public static T* Get(int length)
        {
            if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<T>(Math.Max(length, 64), pinned: true);
            return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        }
    }
}
