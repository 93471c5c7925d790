using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace NeuralPure.Kernels;

/// <summary>Which register width a matrix product runs at. Every width gives the same bits (see <see cref="Gemm"/>); tests
/// force each one to check that, and the benchmarks compare them.</summary>
internal enum VectorWidth
{
    /// <summary>The widest the hardware accelerates (Vector512, else Vector256, else Vector128, else scalar).</summary>
    Best = 0,
    /// <summary>One element at a time, with a fused multiply-add per step.</summary>
    Scalar = 1,
    /// <summary>Vector128 (SSE/AVX with FMA3, or Arm AdvSimd).</summary>
    V128 = 128,
    /// <summary>Vector256 (AVX2 with FMA3).</summary>
    V256 = 256,
    /// <summary>Vector512 (AVX-512F).</summary>
    V512 = 512,
}

/// <summary>The operations the register-blocked micro-kernel needs from one register width.</summary>
/// <typeparam name="TV">The register type (Vector512&lt;T&gt;, …, or T itself for the scalar width).</typeparam>
/// <typeparam name="T">The element type.</typeparam>
internal unsafe interface IVectorOps<TV, T> where T : unmanaged where TV : struct
{
    /// <summary>Elements per register.</summary>
    static abstract int Count { get; }
    /// <summary>Rows of C the micro-kernel keeps in registers (its register budget: 2·Rows accumulators).</summary>
    static abstract int Rows { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(T* p);
    static abstract TV Splat(T v);
    /// <summary>a·b + c with one rounding.</summary>
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    static abstract void Store(TV v, T* p);
}

/// <summary>Vector512 for float and double (AVX-512F: 32 registers, so 12 rows × 2 registers of accumulators fit).</summary>
internal unsafe struct V512Ops<T> : IVectorOps<Vector512<T>, T> where T : unmanaged
{
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));
    public static int Count => Vector512<T>.Count;
    public static int Rows => 12;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(T* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Splat(T v) => Vector512.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"the packed kernels take float or double, not {typeof(T).Name}");
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> v, T* p) => v.Store(p);
}

/// <summary>Vector256 for float and double (AVX2 + FMA3: 16 registers, so 6 rows × 2 registers).</summary>
internal unsafe struct V256Ops<T> : IVectorOps<Vector256<T>, T> where T : unmanaged
{
    public static bool IsSupported => Vector256.IsHardwareAccelerated && X86Fma.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));
    public static int Count => Vector256<T>.Count;
    public static int Rows => 6;
    public static Vector256<T> Zero => Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(T* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Splat(T v) => Vector256.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"the packed kernels take float or double, not {typeof(T).Name}");
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> v, T* p) => v.Store(p);
}

/// <summary>Vector128 for float and double (x86 with FMA3, or Arm AdvSimd, whose 32 registers would allow more rows; 6 keeps one shape).</summary>
internal unsafe struct V128Ops<T> : IVectorOps<Vector128<T>, T> where T : unmanaged
{
    public static bool IsSupported => Vector128.IsHardwareAccelerated && (X86Fma.IsSupported || AdvSimd.IsSupported) && (typeof(T) == typeof(float) || typeof(T) == typeof(double));
    public static int Count => Vector128<T>.Count;
    public static int Rows => 6;
    public static Vector128<T> Zero => Vector128<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Load(T* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Splat(T v) => Vector128.Create(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Fma(Vector128<T> a, Vector128<T> b, Vector128<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"the packed kernels take float or double, not {typeof(T).Name}");
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<T> v, T* p) => v.Store(p);
}

/// <summary>One element per "register", for any IEEE type: T.FusedMultiplyAdd, the definition the vector widths reproduce.</summary>
internal unsafe struct ScalarOps<T> : IVectorOps<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => 1;
    public static int Rows => 4;
    public static T Zero => T.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Load(T* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Splat(T v) => v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Fma(T a, T b, T c) => T.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Add(T a, T b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(T v, T* p) => *p = v;
}

/// <summary>How many rows of a micro-panel the micro-kernel computes: all of them (<see cref="AllRows"/>), or fewer for the
/// last panel of a C whose rows do not fill it (config b's batch of 64 is 5 panels of 12 rows and one of 4). A marker: the
/// kernel tests which type it is (<c>typeof(TRows) == typeof(FourRows)</c>), a test the JIT folds before it imports the code it
/// guards.</summary>
internal interface IRowCount;

/// <summary>Every row of the panel (the width's <see cref="IVectorOps{TV, T}.Rows"/>).</summary>
internal struct AllRows : IRowCount;

/// <summary>The first 4 rows.</summary>
internal struct FourRows : IRowCount;

/// <summary>The first 8 rows (widths with 12).</summary>
internal struct EightRows : IRowCount;

/// <summary>How many of a micro-tile's two registers of columns the micro-kernel computes: both (<see cref="TwoRegisters"/>),
/// or the first (<see cref="OneRegister"/>) for a last tile of C no wider than one register. A marker tested as
/// <see cref="IRowCount"/> is.</summary>
internal interface IColumnCount;

/// <summary>Both registers of columns (2·Count).</summary>
internal struct TwoRegisters : IColumnCount;

/// <summary>The first register of columns (Count): the second's multiply-adds, loads and stores are not emitted.</summary>
internal struct OneRegister : IColumnCount;

/// <summary>A packed, register-blocked, cache-blocked matrix product C = A·B (+ a bias row), for strided A and B.</summary>
/// <remarks>
/// <para><b>What it computes, exactly.</b> Every element is one fused multiply-add chain in the order of the shared
/// index: c = fma(a[i,K−1], b[K−1,j], … fma(a[i,1], b[1,j], a[i,0]·b[0,j]) …), then (with a bias) c + bias[j]. No
/// element is split across lanes, threads or partial sums: vector lanes run over j, so every register width, every
/// blocking and every thread count writes the same bits. The cache blocks over the shared index store the running value
/// in C and load it back, which continues the chain unchanged.</para>
/// <para><b>How.</b> The BLIS loop nest (Van Zee &amp; van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS
/// Functionality", 2015), mirrored for row-major C: A is packed into micro-panels of <c>Rows</c> rows ([p][row], the
/// broadcast operand, L1-resident during a panel), B into micro-panels of two registers of columns ([p][col], streamed
/// from L2), and a micro-kernel keeps a Rows × 2-register tile of C in registers for a depth of <see cref="KcFloat"/>.
/// Edges are packed with zeros and computed through a small tile on the stack; a last tile no wider than one register
/// computes one (<see cref="OneRegister"/>). A row-major A is read in place instead of
/// packed where its row stride lets a panel's rows share L1 with B (<see cref="ReadsAInPlace{T}(in Operands{T}, VectorWidth)"/>).
/// Strides let one engine serve
/// X·Wᵀ, dY·W and dYᵀ·X without materialising a transpose: packing reads the operands in whatever layout they are.</para>
/// <para><b>Threads.</b> The output is cut into column blocks (or row blocks when C is tall) that
/// <see cref="WorkerPool"/> hands to threads; the operand all blocks need is packed whole by each thread that takes a block,
/// into its own buffer (or, an A read in place, not packed at all). A reduction is never split, so the result is the same for any count.</para>
/// </remarks>
internal static unsafe class Gemm
{
    private const int LoadC = 1, AddBias = 2;

    /// <summary>Greatest depth of a cache block for float: a 12 × 256 A micro-panel is 12 KB (L1), a 256 × 256 B block 256 KB
    /// (half of a Zen 3 core's L2, so the A panel and C tiles do not push it out; 512 columns fill it). Config d's products on one
    /// Zen 3 thread, the variants interleaved in one process, 16 repeats, sum of the best times: 27.3 ms with these blocks, 27.6
    /// with 512 columns, 27.9 with 512 columns and unbalanced blocks (<see cref="Kc{T}"/>), 27.7 with the panel-by-panel packing
    /// loops that <see cref="PackA{T}"/> and <see cref="PackB{T}"/> had before.</summary>
    internal const int KcFloat = 256;
    /// <summary>Greatest number of columns of B per L2 block, for float.</summary>
    internal const int NcFloat = 256;
    /// <summary>Rows of A packed at once (an L3 block).</summary>
    internal const int McRows = 1536;

    /// <summary>Below this much work (<see cref="Work{T}"/> ≈ 4 M multiply-adds, about 25 µs on one Zen 4 core) a product runs on
    /// the calling thread.</summary>
    /// <remarks>Measured with three products back to back as a step issues them (forward, dW, dX), 1 vs 2 threads, on the
    /// 2-core Zen 4 while other builds shared it: below ~4 M multiply-adds the second thread cost 15–30% (waking it and the
    /// final handshake outweigh half of a few microseconds of work); above, it never cost more than noise. On an idle machine
    /// the break-even is lower, but a shared machine is the common case. The split itself cannot change a result.</remarks>
    internal const long ParallelThreshold = 1L << 22;

    /// <summary>A product's operands: element (i, p) of A is <c>A[i·Ars + p·Acs]</c>, (p, j) of B is <c>B[p·Brs + j·Bcs]</c>,
    /// C is row-major with row stride Ldc; Bias is null or [N]. With <see cref="Accumulate"/> the product continues the chains C
    /// holds (C += A·B, each element's chain loaded from C as a cache block over the depth loads it): a reduction cut into
    /// consecutive pieces (a convolution's weight gradient, example after example) gives the bits of the whole one; it takes no bias.</summary>
    internal struct Operands<T> where T : unmanaged
    {
        public T* A; public nint Ars, Acs;
        public T* B; public nint Brs, Bcs;
        public T* C; public nint Ldc;
        public T* Bias;
        public int M, N, K;
        public bool Accumulate;
        /// <summary>When set, each column j in [SumFrom, SumTo) of B also has its entries added into ColumnSums[j], in the order
        /// of the depth, continuing the chain the element holds: from the packed B, while it is in cache (a convolution's bias
        /// gradient, the column sums of dYᵀ, made by its weight gradient). Added once however many row blocks re-pack B; only
        /// <see cref="MultiplySerial{T}"/> takes it.</summary>
        public T* ColumnSums;
        public int SumFrom, SumTo;
    }

    /// <summary>A product's cost in multiply-adds as the kernels execute them: C padded to whole two-register micro-tiles, a
    /// last tile no wider than one register to one (10 output columns cost 16 at Vector256, 196 cost 208 at Vector512), plus packing, each element of A and B about as much as 32 multiply-adds (packing moves
    /// 1–2 elements a nanosecond where one core's FMA units do ~50 multiply-adds). A 10-wide classifier layer on a batch of
    /// 256 × 1024 inputs is 2.6 M multiply-adds but costs as much as 13 M: split on 2 threads it took 92 µs instead of 156
    /// (config d's output layer, Zen 3); a 128³ product stays below the threshold.</summary>
    private static long Work<T>(in Operands<T> op, VectorWidth width) where T : unmanaged =>
        (long)op.M * ExecutedColumns(op.N, Lanes<T>(width)) * op.K + 32L * ((long)op.M * op.K + (long)op.K * op.N);

    /// <summary>The columns the micro-kernels compute for <paramref name="n"/>: whole two-register tiles, the last one of one
    /// register when the rest fits in one.</summary>
    private static int ExecutedColumns(int n, int lanes) => n / (2 * lanes) * 2 * lanes + RoundUp(n % (2 * lanes), lanes);

    private struct ParallelJob<T> where T : unmanaged
    {
        public Operands<T> Op;
        public int Step;
        public bool SplitColumns;
        public VectorWidth Width;
        /// <summary>This call's number (<see cref="parallelCalls"/>): a thread packs the operand every part needs, all of A
        /// (column split) or all of B (row split), into its own buffer once per call, before its first part.</summary>
        public long Call;
    }

    /// <summary>Threaded products so far: each one's number tells a thread whether its packed whole operand is this call's.</summary>
    private static long parallelCalls;

    /// <summary>Parts per thread: more parts than threads lets a thread whose core is busy with something else take fewer.</summary>
    /// <remarks>8 rather than 4: step-rate, 16 windows alternated in one process (Zen 4, 2 threads): b 298,352 -> 301,490 and
    /// 295,897 -> 296,500 examples/s best (medians 294,144 -> 298,449, 282,769 -> 289,969), c 153,936 -> 154,827 and
    /// 154,675 -> 155,473, d 18,367 -> 18,357; with the host loaded, b's median 204,583 -> 215,899 and c's 90,471 -> 92,335.
    /// Only products with more than 8 micro-panels on the split side get more parts (b's dW: 7 -> 13 of 2 panels).</remarks>
    private const int PartsPerThread = 8;

    /// <summary>C = A·B (+ bias) on up to <paramref name="threads"/> threads at the given width.</summary>
    public static void Multiply<T>(in Operands<T> op, int threads, VectorWidth width = VectorWidth.Best) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (op.ColumnSums != null && threads > 1) throw new InvalidOperationException("column sums are made by the serial product only");
        if (op.M == 0 || op.N == 0) return;
        if (op.K == 0)
        {
            if (op.Accumulate) return;
            // An empty sum is 0 (then + bias): the chain's starting value.
            for (int i = 0; i < op.M; i++)
            {
                var row = new Span<T>(op.C + i * op.Ldc, op.N);
                if (op.Bias == null) row.Clear(); else new ReadOnlySpan<T>(op.Bias, op.N).CopyTo(row);
            }
            return;
        }
        width = width == VectorWidth.Best ? Narrowest<T>(op.N) : Resolve<T>(width);
        if (threads > 1 && Work(op, width) >= ParallelThreshold && WorkerPool.Helpers > 0)
        {
            // Split the longer side of C into blocks of whole micro-tiles; each thread packs the other operand whole, once.
            int nr = 2 * Lanes<T>(width), mr = RowsOf<T>(width);
            bool cols = op.N >= op.M;
            int unit = cols ? nr : mr, extent = cols ? op.N : op.M;
            int units = (extent + unit - 1) / unit;
            if (units == 1 && width == VectorWidth.V512 && Resolve<T>(VectorWidth.V256) == VectorWidth.V256 && extent > unit / 2)
            {
                // One tile wide at Vector512 (a long reduction into few outputs: a first convolution's weight gradient, 9 × 32
                // over 50,176 positions): at Vector256 it is two, one per thread, each packing half of the other operand.
                // Widths give the same bits.
                width = VectorWidth.V256;
                nr = 2 * Lanes<T>(width); mr = RowsOf<T>(width);
                unit = cols ? nr : mr;
                units = (extent + unit - 1) / unit;
            }
            int parts = Math.Min(units, threads * PartsPerThread);
            // A column split whose A is read in place streams all of A through L1 once per part: parts of at least two tiles
            // each (config b's first product at Vector256: 4 parts of 32 columns instead of 8 of 16) read it half as often.
            // Warm fold, 2 threads, Zen 4, old/new alternated in one process (12 windows each), median examples/s: AVX2 path
            // b 317,512 -> 320,103 and 325,988 -> 331,511 (layer 1's product 75.7 -> 74.7 and 73.9 -> 72.8 us in the fold),
            // c 154,223 -> 155,959 (289.5 -> 278.5 us); AVX-512 c 160,645 -> 162,134. Parts of four tiles were slower (b's
            // product 85.6 -> 100.2 us on a loaded host: fewer parts to even out a busy core).
            if (cols && ReadsAInPlace(op, width)) parts = Math.Min(parts, Math.Max(threads, units / 2));
            if (parts > 1)
            {
                int step = (units + parts - 1) / parts * unit;
                parts = (extent + step - 1) / step;
                var job = new ParallelJob<T> { Op = op, Step = step, SplitColumns = cols, Width = width, Call = Interlocked.Increment(ref parallelCalls) };
                WorkerPool.Run(parts, &RunPart<T>, &job);
                return;
            }
        }
        Serial(op, width, null, null, op.M, op.N);
    }

    /// <summary>The width <see cref="Multiply{T}"/> runs a product <paramref name="n"/> columns wide at, for a caller that issues
    /// many such products on one thread (<see cref="MultiplySerial{T}"/>).</summary>
    internal static VectorWidth WidthFor<T>(int n, VectorWidth width = VectorWidth.Best) where T : unmanaged =>
        width == VectorWidth.Best ? Narrowest<T>(n) : Resolve<T>(width);

    /// <summary>Rows of a micro-panel at <paramref name="width"/>: the unit a product's rows are cut in.</summary>
    internal static int PanelRows<T>(VectorWidth width) where T : unmanaged => RowsOf<T>(width);

    /// <summary>Two register widths of columns at <paramref name="width"/>: the unit a product's columns are cut in.</summary>
    internal static int TileColumns<T>(VectorWidth width) where T : unmanaged => 2 * Lanes<T>(width);

    /// <summary>All of A packed for products at <paramref name="width"/> that share it (same A, M and K; any B, C and N), into this
    /// thread's buffer; valid on this thread until its next product that packs a whole operand.</summary>
    internal static T* PackWholeA<T>(in Operands<T> op, VectorWidth width) where T : unmanaged, IFloatingPointIeee754<T> => PackAllA(op, width);

    /// <summary>C = A·B (+ bias, or += with <see cref="Operands{T}.Accumulate"/>) on the calling thread at <paramref name="width"/>
    /// (from <see cref="WidthFor{T}"/>), with A already packed by <see cref="PackWholeA{T}"/> or null: the bits of
    /// <see cref="Multiply{T}"/>, without its dispatch — for a kernel whose own parts are the threads' work.</summary>
    internal static void MultiplySerial<T>(in Operands<T> op, VectorWidth width, T* packedA = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (op.M == 0 || op.N == 0) return;
        if (op.K == 0) { Multiply(op, 1, width); return; }
        Serial(op, width, packedA, null, op.M, op.N);
    }

    private static void RunPart<T>(void* state, int part) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<ParallelJob<T>>(state);
        var op = job.Op;
        // The whole operand, packed by this thread for this call (at its first part here), into its own buffer. Packed once by
        // the caller for every thread, it ran alone and slowly: the helper had read that buffer in the call before, so each
        // line written was first taken back from the helper's cache (config b's first product on 2 threads, Zen 4: 41 µs of
        // packing before any part began, against 8 µs packing and reading on one thread). Each thread packing its own copy
        // costs one more pack, run in parallel; steps in a warm fold, the two ways alternated in one process, best of 12
        // windows: b 207,475 -> 219,951 and 233,040 -> 239,166 examples/s, c 114,998 -> 120,602 and 113,943 -> 122,901,
        // d 15,499 -> 15,699 and 16,064 -> 16,306.
        // A that the kernel reads in place (ReadsAInPlace) is not packed at all.
        T* whole = null;
        if (!job.SplitColumns || !ReadsAInPlace(op, job.Width))
        {
            whole = Buffers<T>.WholeFor(job.Call);
            if (whole == null) whole = Buffers<T>.SetWhole(job.Call, job.SplitColumns ? PackAllA(op, job.Width) : PackAllB(op, job.Width));
        }
        int start = part * job.Step;
        if (job.SplitColumns)
        {
            int end = Math.Min(op.N, start + job.Step);
            op.B += start * op.Bcs; op.C += start; if (op.Bias != null) op.Bias += start;
            op.N = end - start;
            if (op.M > 0 && op.N > 0) Serial(op, job.Width, whole, null, op.M, job.Step);
        }
        else
        {
            // Rows [start, end): the packed B is whole; A and C move to the block.
            int end = Math.Min(op.M, start + job.Step);
            op.A += start * op.Ars; op.C += start * op.Ldc;
            op.M = end - start;
            if (op.M > 0 && op.N > 0) Serial(op, job.Width, null, whole, job.Step, op.N);
        }
    }

    /// <summary>The widest width, or a narrower one when C is too narrow to fill its tile: a micro-tile is two registers
    /// wide, so 10 columns (a classifier's output) fill 10 of 32 float lanes at Vector512 but 10 of 16 at Vector256.</summary>
    internal static VectorWidth Narrowest<T>(int n) where T : unmanaged
    {
        var w = Resolve<T>(VectorWidth.Best);
        while (w is VectorWidth.V512 or VectorWidth.V256 && Lanes<T>(w) >= n)
        {
            var narrower = Resolve<T>(w == VectorWidth.V512 ? VectorWidth.V256 : VectorWidth.V128);
            if (narrower == VectorWidth.Scalar) break;
            w = narrower;
        }
        return w;
    }

    /// <summary>The width that will actually run: the requested one if the hardware has it, else the next narrower.</summary>
    internal static VectorWidth Resolve<T>(VectorWidth w) where T : unmanaged
    {
        if (w == VectorWidth.Best) w = VectorWidth.V512;
        if (w == VectorWidth.V512 && !V512Ops<T>.IsSupported) w = VectorWidth.V256;
        if (w == VectorWidth.V256 && !V256Ops<T>.IsSupported) w = VectorWidth.V128;
        if (w == VectorWidth.V128 && !V128Ops<T>.IsSupported) w = VectorWidth.Scalar;
        return w;
    }

    private static int Lanes<T>(VectorWidth w) where T : unmanaged => w switch
    {
        VectorWidth.V512 => Vector512<T>.Count,
        VectorWidth.V256 => Vector256<T>.Count,
        VectorWidth.V128 => Vector128<T>.Count,
        _ => 1,
    };

    /// <summary>The row counts the micro-kernel is instantiated with at width <paramref name="w"/> (for the warm-up).</summary>
    internal static Type[] RowCounts<T>(VectorWidth w) where T : unmanaged => RowsOf<T>(w) switch
    {
        > 8 => [typeof(AllRows), typeof(FourRows), typeof(EightRows)],
        > 4 => [typeof(AllRows), typeof(FourRows)],
        _ => [typeof(AllRows)],
    };

    /// <summary>The column counts the micro-kernel is instantiated with (for the warm-up): two registers, and one for a last tile.</summary>
    internal static Type[] ColumnCounts => [typeof(TwoRegisters), typeof(OneRegister)];

    private static int RowsOf<T>(VectorWidth w) where T : unmanaged => w switch
    {
        VectorWidth.V512 => V512Ops<T>.Rows,
        VectorWidth.V256 => V256Ops<T>.Rows,
        VectorWidth.V128 => V128Ops<T>.Rows,
        _ => 4,
    };

    /// <summary>The loop nest at <paramref name="width"/>; <paramref name="sizeM"/> × <paramref name="sizeN"/> is the largest block
    /// this call's thread may be given (a threaded product's widest part), which sizes the packing buffers.</summary>
    private static void Serial<T>(in Operands<T> op, VectorWidth width, T* packedA, T* packedB, int sizeM, int sizeN) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (width)
        {
            case VectorWidth.V512: Blocked<V512Ops<T>, Vector512<T>, T>(op, packedA, packedB, sizeM, sizeN); break;
            case VectorWidth.V256: Blocked<V256Ops<T>, Vector256<T>, T>(op, packedA, packedB, sizeM, sizeN); break;
            case VectorWidth.V128: Blocked<V128Ops<T>, Vector128<T>, T>(op, packedA, packedB, sizeM, sizeN); break;
            default: Blocked<ScalarOps<T>, T, T>(op, packedA, packedB, sizeM, sizeN); break;
        }
    }

    /// <summary>Per-thread packing buffers, pinned, grown on demand and kept (so steady-state products allocate nothing).</summary>
    private static class Buffers<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? a, b, whole;
        [ThreadStatic] private static long wholeCall;
        [ThreadStatic] private static T* wholePacked;

        public static T* A(int length) => Get(ref a, length);
        public static T* B(int length) => Get(ref b, length);
        public static T* Whole(long length) => Get(ref whole, checked((int)length));

        /// <summary>This thread's packed whole operand if it was packed for threaded call <paramref name="call"/>, else null.</summary>
        public static T* WholeFor(long call) => wholeCall == call ? wholePacked : null;

        /// <summary>Records <paramref name="packed"/> (in this thread's <see cref="Whole"/> buffer) as call <paramref name="call"/>'s.</summary>
        public static T* SetWhole(long call, T* packed) { wholeCall = call; wholePacked = packed; return packed; }

        private static T* Get(ref T[]? buf, int length)
        {
            if (buf is null || buf.Length < length) buf = GC.AllocateUninitializedArray<T>(Math.Max(length, 64), pinned: true);
            return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buf));
        }
    }

    /// <summary>The depth of every cache block but the last for a product of depth <paramref name="k"/>: the depth cut into as
    /// few blocks as <see cref="KcFloat"/> allows, of equal size (784 = 4 × 196, not 3 × 256 + 16, whose last block would load
    /// and store each C tile for 16 multiply-adds). A block boundary only stores a running sum in C and loads it back, so the
    /// cut changes no bit.</summary>
    private static int Kc<T>(int k) where T : unmanaged => Balanced(k, KcFloat * 4 / sizeof(T), 1);

    /// <summary>Columns per L2 block for a product <paramref name="n"/> wide: as few blocks as <see cref="NcFloat"/> allows, of
    /// equal size in whole micro-panels of <paramref name="nr"/> columns.</summary>
    private static int Nc<T>(int n, int nr) where T : unmanaged => Balanced(n, NcFloat, nr);

    private static int Balanced(int extent, int max, int unit)
    {
        if (extent <= max) return Math.Max(extent, 1);
        int blocks = (extent + max - 1) / max;
        return Math.Min(max, RoundUp((extent + blocks - 1) / blocks, unit));
    }

    /// <summary>All of A packed, depth block after depth block: block q (depth pc = q·KC) starts at RoundUp(M, R)·pc and holds
    /// the row panels of <see cref="PackA{T}"/>.</summary>
    /// <remarks>Into this thread's <see cref="Buffers{T}.Whole"/> buffer: every thread of a threaded product packs its own copy
    /// (see <see cref="RunPart{T}"/>). Cutting one shared copy among the threads by panels was measured slower than packing it on
    /// the caller (config d's five large products on 2 threads, 25 repeats: 17.37 ms against 16.96 ms).</remarks>
    private static T* PackAllA<T>(in Operands<T> op, VectorWidth width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int R = RowsOf<T>(width), KC = Kc<T>(op.K), rm = RoundUp(op.M, R);
        T* dst = Buffers<T>.Whole((long)rm * op.K);
        for (int pc = 0; pc < op.K; pc += KC)
        {
            int kc = Math.Min(KC, op.K - pc);
            PackA(op.A + pc * op.Acs, op.Ars, op.Acs, op.M, kc, R, dst + (long)rm * pc);
        }
        return dst;
    }

    /// <summary>All of B packed, depth block after depth block: block q (depth pc = q·KC) starts at RoundUp(N, NR)·(pc + q)
    /// and holds the column panels of <see cref="PackB{T}"/>, the last block with the bias row.</summary>
    private static T* PackAllB<T>(in Operands<T> op, VectorWidth width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int NR = 2 * Lanes<T>(width), KC = Kc<T>(op.K), rn = RoundUp(op.N, NR);
        int blocks = (op.K + KC - 1) / KC;
        T* dst = Buffers<T>.Whole((long)rn * (op.K + blocks));
        for (int pc = 0, q = 0; pc < op.K; pc += KC, q++)
        {
            int kc = Math.Min(KC, op.K - pc);
            bool last = pc + kc == op.K;
            PackB(op.B + pc * op.Brs, op.Brs, op.Bcs, last ? op.Bias : null, kc, op.N, NR, dst + (long)rn * (pc + q));
        }
        return dst;
    }

    /// <summary>The loop nest. <paramref name="packedA"/> (all of A, from <see cref="PackAllA{T}"/>) or <paramref name="packedB"/>
    /// (all of B, from <see cref="PackAllB{T}"/>) may be given by a threaded caller; otherwise blocks are packed here, into
    /// this thread's buffers, sized for a block of up to <paramref name="sizeM"/> × <paramref name="sizeN"/>: every part of a
    /// threaded product asks for the same size, so a thread that meets its first wider part (the last part is often narrower,
    /// and which thread runs which part varies) does not grow a buffer in the middle of a warm fold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<TOps, TV, T>(Operands<T> op, T* packedA, T* packedB, int sizeM, int sizeN) where TOps : IVectorOps<TV, T> where TV : struct where T : unmanaged, IFloatingPointIeee754<T>
    {
        int R = TOps.Rows, NR = 2 * TOps.Count;
        int KC = Kc<T>(op.K), NC = Nc<T>(op.N, NR);
        int MC = packedA != null ? op.M : McRows;
        int rm = RoundUp(op.M, R), rn = RoundUp(op.N, NR);
        // The largest blocks this call packs, or a wider part of the same product would (its column blocks are Nc of its width).
        int mcMax = Math.Min(Math.Max(op.M, sizeM), MC), kcMax = Math.Min(op.K, KC);
        int ncMax = Math.Max(Math.Min(op.N, NC), Math.Min(sizeN, Nc<T>(sizeN, NR)));
        bool inPlace = packedA == null && ReadsAInPlace(op, TOps.Rows, TOps.Count);
        T* ap = packedA != null ? null : Buffers<T>.A(RoundUp(inPlace ? R : mcMax, R) * kcMax);
        T* bp = packedB != null ? null : Buffers<T>.B(RoundUp(ncMax, NR) * (kcMax + 1));
        T* tile = stackalloc T[12 * 2 * 64 / sizeof(T)];
        for (int ic = 0; ic < op.M; ic += MC)
        {
            int mc = Math.Min(MC, op.M - ic);
            for (int pc = 0, q = 0; pc < op.K; pc += KC, q++)
            {
                int kc = Math.Min(KC, op.K - pc);
                int flags = (pc > 0 || op.Accumulate ? LoadC : 0) | (pc + kc == op.K && op.Bias != null ? AddBias : 0);
                T* aBlock;
                if (packedA != null) aBlock = packedA + (long)rm * pc;
                else if (inPlace) aBlock = op.A + ic * op.Ars + pc;
                else { PackA(op.A + ic * op.Ars + pc * op.Acs, op.Ars, op.Acs, mc, kc, R, ap); aBlock = ap; }
                for (int jc = 0; jc < op.N; jc += NC)
                {
                    int nc = Math.Min(NC, op.N - jc);
                    T* bBlock;
                    if (packedB != null) bBlock = packedB + (long)rn * (pc + q) + (long)jc * (kc + 1);
                    else
                    {
                        PackB(op.B + pc * op.Brs + jc * op.Bcs, op.Brs, op.Bcs, (flags & AddBias) != 0 ? op.Bias + jc : null, kc, nc, NR, bp);
                        bBlock = bp;
                        if (op.ColumnSums != null && ic == 0) AddColumnSums<TOps, TV, T>(op, bp, kc, jc, nc);
                    }
                    for (int ir = 0; ir < mc; ir += R)
                    {
                        int mr = Math.Min(R, mc - ir);
                        T* crow = op.C + (ic + ir) * op.Ldc + jc;
                        // The last panel of rows computes only as many rows as it has (rounded up to 4 or 8): a batch of 64 in
                        // 12-row panels would otherwise spend 1/6 of its multiply-adds on the padding rows.
                        int rows = mr == R ? R : mr <= 4 && R > 4 ? 4 : mr <= 8 && R > 8 ? 8 : R;
                        T* a = aBlock + ir * kc; nint lda = 0;
                        if (inPlace)
                        {
                            // Rows of A where they are; a last panel with rows past A's end is packed (with zero rows) instead.
                            if (mr == rows) { a = aBlock + ir * op.Ars; lda = op.Ars; }
                            else { PackA(aBlock + ir * op.Ars, op.Ars, op.Acs, mr, kc, R, ap); a = ap; }
                        }
                        for (int jr = 0; jr < nc; jr += NR)
                        {
                            int nr = Math.Min(NR, nc - jr);
                            T* b = bBlock + jr * (kc + 1);
                            // A last tile no wider than one register computes one (196 columns at Vector512: six tiles of 32
                            // and 4 columns, which two registers would pad to 32); a tile that fills its registers is stored
                            // in C, any other through the stack.
                            bool one = nr <= TOps.Count, direct = mr == rows && (nr == NR || nr == TOps.Count);
                            T* dst = direct ? crow + jr : tile;
                            nint ldd = direct ? op.Ldc : NR;
                            if (!direct && (flags & LoadC) != 0)
                                for (int r = 0; r < mr; r++) new ReadOnlySpan<T>(crow + r * op.Ldc + jr, nr).CopyTo(new Span<T>(tile + r * NR, nr));
                            if (one) Tile<TOps, TV, T, OneRegister>(rows, kc, a, lda, b, dst, ldd, flags);
                            else Tile<TOps, TV, T, TwoRegisters>(rows, kc, a, lda, b, dst, ldd, flags);
                            if (!direct)
                                for (int r = 0; r < mr; r++) new ReadOnlySpan<T>(tile + r * NR, nr).CopyTo(new Span<T>(crow + r * op.Ldc + jr, nr));
                        }
                    }
                }
            }
        }
    }

    /// <summary>ColumnSums[j] += B[p, j] for p in the block's depth, in order, for the block's columns [jc, jc + nc) within
    /// [SumFrom, SumTo), read from the packed panels ([p][NR columns]): each lane one column's chain.</summary>
    private static void AddColumnSums<TOps, TV, T>(in Operands<T> op, T* packed, int kc, int jc, int nc) where TOps : IVectorOps<TV, T> where TV : struct where T : unmanaged, IFloatingPointIeee754<T>
    {
        int W = TOps.Count, NR = 2 * W;
        for (int jr = 0; jr < nc; jr += NR)
        {
            int j0 = Math.Max(jc + jr, op.SumFrom), j1 = Math.Min(jc + Math.Min(jr + NR, nc), op.SumTo);
            if (j1 <= j0) continue;
            T* panel = packed + jr * (kc + 1) + (j0 - jc - jr);
            T* sums = op.ColumnSums + j0;
            if (j1 - j0 == NR)
            {
                TV s0 = TOps.Load(sums), s1 = TOps.Load(sums + W);
                for (int p = 0; p < kc; p++) { s0 = TOps.Add(s0, TOps.Load(panel + p * NR)); s1 = TOps.Add(s1, TOps.Load(panel + p * NR + W)); }
                TOps.Store(s0, sums); TOps.Store(s1, sums + W);
                continue;
            }
            for (int j = 0; j < j1 - j0; j++)
            {
                T s = sums[j];
                for (int p = 0; p < kc; p++) s += panel[p * NR + j];
                sums[j] = s;
            }
        }
    }

    /// <summary>The micro-kernel for a panel of <paramref name="rows"/> rows (the width's Rows, 4 or 8) and <typeparamref name="TCols"/>' registers of columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TOps, TV, T, TCols>(int rows, int kc, T* a, nint lda, T* b, T* c, nint ldc, int flags) where TOps : IVectorOps<TV, T> where TV : struct where T : unmanaged where TCols : IColumnCount
    {
        if (rows == TOps.Rows) Kernel<TOps, TV, T, AllRows, TCols>(kc, a, lda, b, c, ldc, flags);
        else if (rows == 4) Kernel<TOps, TV, T, FourRows, TCols>(kc, a, lda, b, c, ldc, flags);
        else Kernel<TOps, TV, T, EightRows, TCols>(kc, a, lda, b, c, ldc, flags);
    }

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;

    /// <summary>Whether the micro-kernel reads A's rows where they are (row r of a panel at <c>A + r·Ars</c>) instead of a packed
    /// copy: A row-major (<c>Acs = 1</c>: X in X·Wᵀ, dY in dY·W) at a vector width, and either the rows' starts fall in at least 4
    /// of the 64 sets of a 48 KB, 12-way L1 (so a panel's rows leave room for B's lines) or C is one micro-tile wide (each
    /// panel is read once, as packing would read it).</summary>
    /// <remarks>Packing A costs a pass over it, and a threaded product packs all of A on every thread. Measured in a warm fold
    /// on 2 threads (Zen 4, AVX-512), the two ways alternated in one process, 12 windows each, best (median) examples/s:
    /// b 297,390 (288,370) -&gt; 323,588 (315,298), c 94,035 (91,345) -&gt; 96,397 (94,621) on a loaded host, d's first layer's
    /// product 2,303 -&gt; 2,195 µs; on 1 thread (10 windows) b 180,042 -&gt; 187,890 median, c 91,089 -&gt; 93,817, d 9,894 -&gt; 9,931.
    /// A 1024-float stride (4 KB) puts all 12 rows in one L1 set: read in place, d's second layer's
    /// product went 2,790 -&gt; 3,039 µs, so those stay packed, except the classifier's (10 columns: 85 -&gt; 60 µs).</remarks>
    private static bool ReadsAInPlace<T>(in Operands<T> op, VectorWidth width) where T : unmanaged =>
        width != VectorWidth.Scalar && ReadsAInPlace(op, RowsOf<T>(width), Lanes<T>(width));

    private static bool ReadsAInPlace<T>(in Operands<T> op, int rows, int lanes) where T : unmanaged
    {
        if (op.Acs != 1 || lanes == 1) return false;
        if (op.N <= 2 * lanes) return true;
        long bytes = op.Ars * sizeof(T);
        ulong sets = 0;
        for (int r = 0; r < rows; r++) sets |= 1UL << (int)(r * bytes / 64 % 64);
        return System.Numerics.BitOperations.PopCount(sets) >= 4;
    }

    /// <summary>Packs rows [0, rows) × depth [0, kc) of A into micro-panels of R rows: panel q holds
    /// <c>dst[q·R·kc + p·R + r] = A[q·R + r, p]</c>, rows past the edge as 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA<T>(T* a, nint ars, nint acs, int rows, int kc, int R, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bytes = R * sizeof(T);
        if (ars == 1 && acs != 1 && rows >= R && bytes >= 16)
        {
            // Columns contiguous (dYᵀ in dYᵀ·X): each step p is a contiguous run of A's rows; read it once, left to right, and
            // deal R values at a time to the panels (panel by panel would read R values per step at the row stride).
            int full = rows / R * R;
            for (int p = 0; p < kc; p++)
            {
                byte* s = (byte*)(a + p * acs);
                byte* t = (byte*)(dst + p * R);
                for (int r0 = 0; r0 < full; r0 += R, s += bytes, t += kc * bytes) CopySmall(s, t, bytes);
            }
            if (full < rows) PackA(a + full, ars, acs, rows - full, kc, R, dst + full * kc);
            return;
        }
        for (int r0 = 0; r0 < rows; r0 += R)
        {
            int mr = Math.Min(R, rows - r0);
            T* d = dst + r0 * kc;
            if (acs == 1)
            {
                // Rows contiguous along p (X in X·Wᵀ, dY in dY·W): a transpose of the mr × kc block into [p][r].
                TransposeInto(a + r0 * ars, ars, mr, kc, d, R);
            }
            else
            {
                // Columns contiguous (dYᵀ in dYᵀ·X) or general strides: R values per step of p.
                for (int p = 0; p < kc; p++)
                {
                    T* s = a + p * acs + r0 * ars;
                    T* dp = d + p * R;
                    for (int r = 0; r < mr; r++) dp[r] = s[r * ars];
                }
            }
            if (mr < R)
                for (int p = 0; p < kc; p++)
                    for (int r = mr; r < R; r++) d[p * R + r] = T.Zero;
        }
    }

    /// <summary>Packs depth [0, kc) × columns [0, cols) of B into micro-panels of NR columns, each (kc + 1)·NR long:
    /// <c>dst[q·NR·(kc+1) + p·NR + j] = B[p, q·NR + j]</c>, columns past the edge as 0; row kc holds the bias (or is unused).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB<T>(T* b, nint brs, nint bcs, T* bias, int kc, int cols, int NR, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bcs == 1 && cols >= NR && NR * sizeof(T) % 32 == 0)
        {
            // Rows of B contiguous (W in dY·W, X in dYᵀ·X): read each row of the block once, left to right, and deal its whole
            // registers out to the panels. Going panel by panel instead reads 64 bytes per row at the row stride (a new page
            // for every row of a 1024-wide W), which the prefetchers do not follow.
            int full = cols / NR * NR, bytes = NR * sizeof(T);
            for (int p = 0; p < kc; p++)
            {
                byte* s = (byte*)(b + p * brs);
                byte* t = (byte*)(dst + p * NR);
                for (int j0 = 0; j0 < full; j0 += NR, s += bytes, t += (kc + 1) * bytes)
                    for (int q = 0; q < bytes; q += 32) Vector256.Store(Vector256.Load(s + q), t + q);
            }
            if (full < cols) PackB(b + full, brs, bcs, null, kc, cols - full, NR, dst + full * (kc + 1));
            if (bias != null)
                for (int j0 = 0; j0 < cols; j0 += NR)
                    for (int j = 0; j < NR; j++) dst[j0 * (kc + 1) + kc * NR + j] = j0 + j < cols ? bias[j0 + j] : T.Zero;
            return;
        }
        for (int j0 = 0; j0 < cols; j0 += NR)
        {
            int nr = Math.Min(NR, cols - j0);
            T* d = dst + j0 * (kc + 1);
            if (bcs == 1)
            {
                // Rows of B contiguous (W in dY·W, X in dYᵀ·X): copy nr values per p, whole 32-byte registers when they fit.
                int bytes = nr * sizeof(T);
                if (nr == NR && bytes % 32 == 0)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        byte* s = (byte*)(b + p * brs + j0), t = (byte*)(d + p * NR);
                        for (int q = 0; q < bytes; q += 32) Vector256.Store(Vector256.Load(s + q), t + q);
                    }
                }
                else if (Vector256.IsHardwareAccelerated && NR * sizeof(T) % 32 == 0)
                {
                    // A last panel narrower than NR (196 columns: 4 of 32): the row's zeros in whole registers, then its nr values
                    // (two span calls a row cost more than the panel's copy: 288 rows an example in the CNN's second convolution).
                    int rowBytes = NR * sizeof(T);
                    for (int p = 0; p < kc; p++)
                    {
                        T* s = b + p * brs + j0, t = d + p * NR;
                        for (int q = 0; q < rowBytes; q += 32) Vector256<byte>.Zero.Store((byte*)t + q);
                        for (int j = 0; j < nr; j++) t[j] = s[j];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        new ReadOnlySpan<T>(b + p * brs + j0, nr).CopyTo(new Span<T>(d + p * NR, nr));
                        if (nr < NR) new Span<T>(d + p * NR + nr, NR - nr).Clear();
                    }
                }
            }
            else if (brs == 1)
            {
                // B is a transpose (Wᵀ in X·Wᵀ): each column is a contiguous row of W.
                TransposeInto(b + j0 * bcs, bcs, nr, kc, d, NR);
                if (nr < NR)
                    for (int p = 0; p < kc; p++) new Span<T>(d + p * NR + nr, NR - nr).Clear();
            }
            else
            {
                for (int p = 0; p < kc; p++)
                    for (int j = 0; j < NR; j++) d[p * NR + j] = j < nr ? b[p * brs + (j0 + j) * bcs] : T.Zero;
            }
            if (bias != null)
                for (int j = 0; j < NR; j++) d[kc * NR + j] = j < nr ? bias[j0 + j] : T.Zero;
        }
    }

    /// <summary>Copies <paramref name="bytes"/> (≥ 16) bytes in 16-byte registers, the last one overlapping the one before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(byte* s, byte* t, int bytes)
    {
        int q = 0;
        for (; q + 16 <= bytes; q += 16) Vector128.Store(Vector128.Load(s + q), t + q);
        if (q < bytes) Vector128.Store(Vector128.Load(s + bytes - 16), t + bytes - 16);
    }

    /// <summary>dst[p·ldd + j] = src[j·lds + p] for j &lt; cols, p &lt; kc.</summary>
    /// <remarks>For float on AVX, whole 8 × 8 blocks go through registers (eight loads, 24 shuffles, eight stores), then
    /// 4 × 4 blocks (SSE); the rest element by element. A copy either way: the bits are the source's.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeInto<T>(T* src, nint lds, int cols, int kc, T* dst, int ldd) where T : unmanaged
    {
        int j = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            for (; j + 8 <= cols; j += 8)
            {
                int p = 0;
                for (; p + 8 <= kc; p += 8) Transpose8x8((float*)(src + j * lds + p), lds, (float*)(dst + p * ldd + j), ldd);
                for (; p < kc; p++)
                    for (int jj = j; jj < j + 8; jj++) dst[p * ldd + jj] = src[jj * lds + p];
            }
            for (; j + 4 <= cols; j += 4)
            {
                int p = 0;
                for (; p + 4 <= kc; p += 4) Transpose4x4((float*)(src + j * lds + p), lds, (float*)(dst + p * ldd + j), ldd);
                for (; p < kc; p++)
                    for (int jj = j; jj < j + 4; jj++) dst[p * ldd + jj] = src[jj * lds + p];
            }
            for (; j + 2 <= cols; j += 2)
            {
                // Two rows left (a 6-row panel after its 4 × 4 blocks): interleave them four steps at a time.
                int p = 0;
                for (; p + 4 <= kc; p += 4) Transpose2x4((float*)(src + j * lds + p), lds, (float*)(dst + p * ldd + j), ldd);
                for (; p < kc; p++)
                    for (int jj = j; jj < j + 2; jj++) dst[p * ldd + jj] = src[jj * lds + p];
            }
        }
        for (; j < cols; j++)
        {
            T* s = src + j * lds;
            T* d = dst + j;
            for (int p = 0; p < kc; p++) d[p * ldd] = s[p];
        }
    }

    /// <summary>_MM_TRANSPOSE4_PS: four rows of four floats to four columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(float* s, nint lds, float* d, nint ldd)
    {
        var r0 = Sse.LoadVector128(s); var r1 = Sse.LoadVector128(s + lds);
        var r2 = Sse.LoadVector128(s + 2 * lds); var r3 = Sse.LoadVector128(s + 3 * lds);
        var t0 = Sse.UnpackLow(r0, r1); var t1 = Sse.UnpackLow(r2, r3);
        var t2 = Sse.UnpackHigh(r0, r1); var t3 = Sse.UnpackHigh(r2, r3);
        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
        Sse.Store(d + ldd, Sse.MoveHighToLow(t1, t0));
        Sse.Store(d + 2 * ldd, Sse.MoveLowToHigh(t2, t3));
        Sse.Store(d + 3 * ldd, Sse.MoveHighToLow(t3, t2));
    }

    /// <summary>Two rows of four floats to four columns of two: unpack, then store each 8-byte pair (movlps/movhps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose2x4(float* s, nint lds, float* d, nint ldd)
    {
        var r0 = Sse.LoadVector128(s); var r1 = Sse.LoadVector128(s + lds);
        var lo = Sse.UnpackLow(r0, r1); var hi = Sse.UnpackHigh(r0, r1);
        Sse.StoreLow(d, lo); Sse.StoreHigh(d + ldd, lo);
        Sse.StoreLow(d + 2 * ldd, hi); Sse.StoreHigh(d + 3 * ldd, hi);
    }

    /// <summary>The classic AVX 8 × 8 transpose: unpack pairs, shuffle quads, swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, nint lds, float* d, nint ldd)
    {
        var r0 = Avx.LoadVector256(s); var r1 = Avx.LoadVector256(s + lds);
        var r2 = Avx.LoadVector256(s + 2 * lds); var r3 = Avx.LoadVector256(s + 3 * lds);
        var r4 = Avx.LoadVector256(s + 4 * lds); var r5 = Avx.LoadVector256(s + 5 * lds);
        var r6 = Avx.LoadVector256(s + 6 * lds); var r7 = Avx.LoadVector256(s + 7 * lds);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>The register tile: C[0..rows, 0..2·Count) (+)= Σ_p a[p, r]·b[p, ·] as per-element FMA chains, rows = the
    /// width's Rows or <typeparamref name="TRows"/>' count, columns 0..Count only with <see cref="OneRegister"/>; with <see cref="AddBias"/>, + the bias row stored after the kc
    /// rows of the B panel. The A panel is packed ([p][row], always the width's Rows wide; <paramref name="lda"/> = 0) or, with
    /// <paramref name="lda"/> &gt; 0, A itself: element (r, p) at <c>a[r·lda + p]</c>. Rows past the count are neither read nor stored.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel<TOps, TV, T, TRows, TCols>(int kc, T* a, nint lda, T* b, T* c, nint ldc, int flags) where TOps : IVectorOps<TV, T> where TV : struct where T : unmanaged where TRows : IRowCount where TCols : IColumnCount
    {
        int P = TOps.Rows, W = TOps.Count;
        // Which row groups this instantiation computes, as type tests the JIT folds before it imports the code they guard
        // (conditions on a row count were folded only after the dead groups had been imported and inlined: every row count
        // cost the JIT as much as all rows). Rows: 12 at Vector512, 6 at Vector256 and Vector128, 4 scalar; so rows 4–5 run
        // unless FourRows or scalar, rows 6–7 for all or eight rows at Vector512, rows 8–11 for all rows at Vector512. The
        // tests stay written out at each group: bound to a local they would no longer fold at import.
        TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero, c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero, c60 = TOps.Zero, c61 = TOps.Zero, c70 = TOps.Zero, c71 = TOps.Zero, c80 = TOps.Zero, c81 = TOps.Zero, c90 = TOps.Zero, c91 = TOps.Zero, c100 = TOps.Zero, c101 = TOps.Zero, c110 = TOps.Zero, c111 = TOps.Zero;
        if ((flags & LoadC) != 0)
        {
            c00 = TOps.Load(c + 0 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c01 = TOps.Load(c + 0 * ldc + W);
            c10 = TOps.Load(c + 1 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c11 = TOps.Load(c + 1 * ldc + W);
            c20 = TOps.Load(c + 2 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c21 = TOps.Load(c + 2 * ldc + W);
            c30 = TOps.Load(c + 3 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c31 = TOps.Load(c + 3 * ldc + W);
            if (typeof(TRows) != typeof(FourRows) && typeof(TV) != typeof(T))
            {
                c40 = TOps.Load(c + 4 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c41 = TOps.Load(c + 4 * ldc + W);
                c50 = TOps.Load(c + 5 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c51 = TOps.Load(c + 5 * ldc + W);
            }
            if ((typeof(TRows) == typeof(EightRows) || typeof(TRows) == typeof(AllRows)) && typeof(TV) == typeof(Vector512<T>))
            {
                c60 = TOps.Load(c + 6 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c61 = TOps.Load(c + 6 * ldc + W);
                c70 = TOps.Load(c + 7 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c71 = TOps.Load(c + 7 * ldc + W);
            }
            if (typeof(TRows) == typeof(AllRows) && typeof(TV) == typeof(Vector512<T>))
            {
                c80 = TOps.Load(c + 8 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c81 = TOps.Load(c + 8 * ldc + W);
                c90 = TOps.Load(c + 9 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c91 = TOps.Load(c + 9 * ldc + W);
                c100 = TOps.Load(c + 10 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c101 = TOps.Load(c + 10 * ldc + W);
                c110 = TOps.Load(c + 11 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) c111 = TOps.Load(c + 11 * ldc + W);
            }
        }
        if (lda == 0)
        {
            for (int p = 0; p < kc; p++)
            {
                TV b0 = TOps.Load(b), b1 = typeof(TCols) == typeof(TwoRegisters) ? TOps.Load(b + W) : TOps.Zero;
                { TV s = TOps.Splat(a[0]); c00 = TOps.Fma(s, b0, c00); if (typeof(TCols) == typeof(TwoRegisters)) c01 = TOps.Fma(s, b1, c01); }
                { TV s = TOps.Splat(a[1]); c10 = TOps.Fma(s, b0, c10); if (typeof(TCols) == typeof(TwoRegisters)) c11 = TOps.Fma(s, b1, c11); }
                { TV s = TOps.Splat(a[2]); c20 = TOps.Fma(s, b0, c20); if (typeof(TCols) == typeof(TwoRegisters)) c21 = TOps.Fma(s, b1, c21); }
                { TV s = TOps.Splat(a[3]); c30 = TOps.Fma(s, b0, c30); if (typeof(TCols) == typeof(TwoRegisters)) c31 = TOps.Fma(s, b1, c31); }
                if (typeof(TRows) != typeof(FourRows) && typeof(TV) != typeof(T))
                {
                    { TV s = TOps.Splat(a[4]); c40 = TOps.Fma(s, b0, c40); if (typeof(TCols) == typeof(TwoRegisters)) c41 = TOps.Fma(s, b1, c41); }
                    { TV s = TOps.Splat(a[5]); c50 = TOps.Fma(s, b0, c50); if (typeof(TCols) == typeof(TwoRegisters)) c51 = TOps.Fma(s, b1, c51); }
                }
                if ((typeof(TRows) == typeof(EightRows) || typeof(TRows) == typeof(AllRows)) && typeof(TV) == typeof(Vector512<T>))
                {
                    { TV s = TOps.Splat(a[6]); c60 = TOps.Fma(s, b0, c60); if (typeof(TCols) == typeof(TwoRegisters)) c61 = TOps.Fma(s, b1, c61); }
                    { TV s = TOps.Splat(a[7]); c70 = TOps.Fma(s, b0, c70); if (typeof(TCols) == typeof(TwoRegisters)) c71 = TOps.Fma(s, b1, c71); }
                }
                if (typeof(TRows) == typeof(AllRows) && typeof(TV) == typeof(Vector512<T>))
                {
                    { TV s = TOps.Splat(a[8]); c80 = TOps.Fma(s, b0, c80); if (typeof(TCols) == typeof(TwoRegisters)) c81 = TOps.Fma(s, b1, c81); }
                    { TV s = TOps.Splat(a[9]); c90 = TOps.Fma(s, b0, c90); if (typeof(TCols) == typeof(TwoRegisters)) c91 = TOps.Fma(s, b1, c91); }
                    { TV s = TOps.Splat(a[10]); c100 = TOps.Fma(s, b0, c100); if (typeof(TCols) == typeof(TwoRegisters)) c101 = TOps.Fma(s, b1, c101); }
                    { TV s = TOps.Splat(a[11]); c110 = TOps.Fma(s, b0, c110); if (typeof(TCols) == typeof(TwoRegisters)) c111 = TOps.Fma(s, b1, c111); }
                }
                a += P; b += 2 * W;
            }
        }
        else
        {
            // A read where it is: row r of the panel at a + r·lda (rows 0–3 from a0, 4–7 from a4, 8–11 from a8).
            T* a0 = a, a4 = a + 4 * lda, a8 = a + 8 * lda;
            nint l2 = 2 * lda, l3 = 3 * lda;
            for (int p = 0; p < kc; p++)
            {
                TV b0 = TOps.Load(b), b1 = typeof(TCols) == typeof(TwoRegisters) ? TOps.Load(b + W) : TOps.Zero;
                { TV s = TOps.Splat(a0[0]); c00 = TOps.Fma(s, b0, c00); if (typeof(TCols) == typeof(TwoRegisters)) c01 = TOps.Fma(s, b1, c01); }
                { TV s = TOps.Splat(a0[lda]); c10 = TOps.Fma(s, b0, c10); if (typeof(TCols) == typeof(TwoRegisters)) c11 = TOps.Fma(s, b1, c11); }
                { TV s = TOps.Splat(a0[l2]); c20 = TOps.Fma(s, b0, c20); if (typeof(TCols) == typeof(TwoRegisters)) c21 = TOps.Fma(s, b1, c21); }
                { TV s = TOps.Splat(a0[l3]); c30 = TOps.Fma(s, b0, c30); if (typeof(TCols) == typeof(TwoRegisters)) c31 = TOps.Fma(s, b1, c31); }
                if (typeof(TRows) != typeof(FourRows) && typeof(TV) != typeof(T))
                {
                    { TV s = TOps.Splat(a4[0]); c40 = TOps.Fma(s, b0, c40); if (typeof(TCols) == typeof(TwoRegisters)) c41 = TOps.Fma(s, b1, c41); }
                    { TV s = TOps.Splat(a4[lda]); c50 = TOps.Fma(s, b0, c50); if (typeof(TCols) == typeof(TwoRegisters)) c51 = TOps.Fma(s, b1, c51); }
                }
                if ((typeof(TRows) == typeof(EightRows) || typeof(TRows) == typeof(AllRows)) && typeof(TV) == typeof(Vector512<T>))
                {
                    { TV s = TOps.Splat(a4[l2]); c60 = TOps.Fma(s, b0, c60); if (typeof(TCols) == typeof(TwoRegisters)) c61 = TOps.Fma(s, b1, c61); }
                    { TV s = TOps.Splat(a4[l3]); c70 = TOps.Fma(s, b0, c70); if (typeof(TCols) == typeof(TwoRegisters)) c71 = TOps.Fma(s, b1, c71); }
                }
                if (typeof(TRows) == typeof(AllRows) && typeof(TV) == typeof(Vector512<T>))
                {
                    { TV s = TOps.Splat(a8[0]); c80 = TOps.Fma(s, b0, c80); if (typeof(TCols) == typeof(TwoRegisters)) c81 = TOps.Fma(s, b1, c81); }
                    { TV s = TOps.Splat(a8[lda]); c90 = TOps.Fma(s, b0, c90); if (typeof(TCols) == typeof(TwoRegisters)) c91 = TOps.Fma(s, b1, c91); }
                    { TV s = TOps.Splat(a8[l2]); c100 = TOps.Fma(s, b0, c100); if (typeof(TCols) == typeof(TwoRegisters)) c101 = TOps.Fma(s, b1, c101); }
                    { TV s = TOps.Splat(a8[l3]); c110 = TOps.Fma(s, b0, c110); if (typeof(TCols) == typeof(TwoRegisters)) c111 = TOps.Fma(s, b1, c111); }
                }
                a0++; a4++; a8++; b += 2 * W;
            }
        }
        if ((flags & AddBias) != 0)
        {
            TV z0 = TOps.Load(b), z1 = typeof(TCols) == typeof(TwoRegisters) ? TOps.Load(b + W) : TOps.Zero;
            c00 = TOps.Add(c00, z0); if (typeof(TCols) == typeof(TwoRegisters)) c01 = TOps.Add(c01, z1);
            c10 = TOps.Add(c10, z0); if (typeof(TCols) == typeof(TwoRegisters)) c11 = TOps.Add(c11, z1);
            c20 = TOps.Add(c20, z0); if (typeof(TCols) == typeof(TwoRegisters)) c21 = TOps.Add(c21, z1);
            c30 = TOps.Add(c30, z0); if (typeof(TCols) == typeof(TwoRegisters)) c31 = TOps.Add(c31, z1);
            if (typeof(TRows) != typeof(FourRows) && typeof(TV) != typeof(T))
            {
                c40 = TOps.Add(c40, z0); if (typeof(TCols) == typeof(TwoRegisters)) c41 = TOps.Add(c41, z1);
                c50 = TOps.Add(c50, z0); if (typeof(TCols) == typeof(TwoRegisters)) c51 = TOps.Add(c51, z1);
            }
            if ((typeof(TRows) == typeof(EightRows) || typeof(TRows) == typeof(AllRows)) && typeof(TV) == typeof(Vector512<T>))
            {
                c60 = TOps.Add(c60, z0); if (typeof(TCols) == typeof(TwoRegisters)) c61 = TOps.Add(c61, z1);
                c70 = TOps.Add(c70, z0); if (typeof(TCols) == typeof(TwoRegisters)) c71 = TOps.Add(c71, z1);
            }
            if (typeof(TRows) == typeof(AllRows) && typeof(TV) == typeof(Vector512<T>))
            {
                c80 = TOps.Add(c80, z0); if (typeof(TCols) == typeof(TwoRegisters)) c81 = TOps.Add(c81, z1);
                c90 = TOps.Add(c90, z0); if (typeof(TCols) == typeof(TwoRegisters)) c91 = TOps.Add(c91, z1);
                c100 = TOps.Add(c100, z0); if (typeof(TCols) == typeof(TwoRegisters)) c101 = TOps.Add(c101, z1);
                c110 = TOps.Add(c110, z0); if (typeof(TCols) == typeof(TwoRegisters)) c111 = TOps.Add(c111, z1);
            }
        }
        TOps.Store(c00, c + 0 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c01, c + 0 * ldc + W);
        TOps.Store(c10, c + 1 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c11, c + 1 * ldc + W);
        TOps.Store(c20, c + 2 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c21, c + 2 * ldc + W);
        TOps.Store(c30, c + 3 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c31, c + 3 * ldc + W);
        if (typeof(TRows) != typeof(FourRows) && typeof(TV) != typeof(T))
        {
            TOps.Store(c40, c + 4 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c41, c + 4 * ldc + W);
            TOps.Store(c50, c + 5 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c51, c + 5 * ldc + W);
        }
        if ((typeof(TRows) == typeof(EightRows) || typeof(TRows) == typeof(AllRows)) && typeof(TV) == typeof(Vector512<T>))
        {
            TOps.Store(c60, c + 6 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c61, c + 6 * ldc + W);
            TOps.Store(c70, c + 7 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c71, c + 7 * ldc + W);
        }
        if (typeof(TRows) == typeof(AllRows) && typeof(TV) == typeof(Vector512<T>))
        {
            TOps.Store(c80, c + 8 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c81, c + 8 * ldc + W);
            TOps.Store(c90, c + 9 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c91, c + 9 * ldc + W);
            TOps.Store(c100, c + 10 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c101, c + 10 * ldc + W);
            TOps.Store(c110, c + 11 * ldc); if (typeof(TCols) == typeof(TwoRegisters)) TOps.Store(c111, c + 11 * ldc + W);
        }
    }
}
