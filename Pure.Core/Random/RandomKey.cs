using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Runtime.InteropServices;
using NeuralPure.Tensors;

using NeuralPure.Numerics;
namespace NeuralPure.Random;

/// <summary>A key for the counter-based Threefry-2x32 generator (the one JAX uses): randomness as an argument, never hidden state.</summary>
/// <remarks>
/// <para>A key is two 32-bit words. Every random number is <c>Threefry2x32(key, counter)</c> for a counter that the
/// caller's position determines, so the same key gives the same bits on every platform, in every order and on any
/// number of threads. New independent keys come from <see cref="Split()"/> and <see cref="FoldIn"/>, never by
/// advancing a shared state.</para>
/// <para>Counter domains: sampling uses counters (i, 0) for block i; <see cref="Split(int)"/> uses
/// (i, 0x80000001); <see cref="FoldIn"/> uses (data, 0x80000002). They never meet.</para>
/// <para>Reference: Salmon, Moraes, Dror &amp; Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC'11).</para>
/// </remarks>
public readonly record struct RandomKey(uint Word0, uint Word1)
{
    private const uint SplitDomain = 0x80000001u, FoldDomain = 0x80000002u;

    /// <summary>The key for a 64-bit seed (low word, high word).</summary>
    public static RandomKey FromSeed(ulong seed) => new((uint)seed, (uint)(seed >> 32));

    /// <summary>Two new keys, independent of each other and of this one.</summary>
    public (RandomKey First, RandomKey Second) Split()
    {
        var k = Split(2);
        return (k[0], k[1]);
    }

    /// <summary><paramref name="count"/> new independent keys.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative.</exception>
    public ImmutableArray<RandomKey> Split(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var b = ImmutableArray.CreateBuilder<RandomKey>(count);
        for (int i = 0; i < count; i++)
        {
            var (x0, x1) = Threefry.Block(this, (uint)i, SplitDomain);
            b.Add(new RandomKey(x0, x1));
        }
        return b.MoveToImmutable();
    }

    /// <summary>A new key determined by this key and <paramref name="data"/> (an epoch, a step, a layer index).</summary>
    public RandomKey FoldIn(uint data)
    {
        var (x0, x1) = Threefry.Block(this, data, FoldDomain);
        return new RandomKey(x0, x1);
    }

    /// <summary><paramref name="count"/> uniformly distributed 32-bit words.</summary>
    public uint[] Bits(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var r = new uint[count];
        Threefry.Fill(this, r);
        return r;
    }

    /// <inheritdoc/>
    public override string ToString() => $"RandomKey({Word0:x8}, {Word1:x8})";
}

/// <summary>Sampling from a <see cref="RandomKey"/>: uniform, normal, permutations and Bernoulli masks.</summary>
public static class Sampling
{
    /// <summary>An array of the given shape with elements uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    /// <remarks>Element i uses 53 bits from counter block i, computed in double, so float and double arrays from the same key agree up to rounding.</remarks>
    /// <exception cref="ArgumentException">low ≥ high, either is not finite, or no value of T lies in [low, high).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a loop run once per array: tier-0 code would be ~10× slower (startup)
    public static NdArray<T> Uniform<T>(RandomKey key, double low, double high, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || !(low < high)) ThrowUniformBounds(low, high);
        var s = NdArray.CheckShape(shape, nameof(shape));
        // The representable values of T inside [low, high): rounding the double sample to T must be clamped into them.
        T lo = T.CreateChecked(low), hi = T.CreateChecked(high);
        if (double.CreateChecked(lo) < low) lo = T.BitIncrement(lo);
        if (double.CreateChecked(hi) >= high) hi = T.BitDecrement(hi);
        if (lo > hi) ThrowNoValueIn(typeof(T).Name, low, high);
        var r = new T[NdArray.Product(s)];
        Span<double> u = stackalloc double[256];
        for (int i0 = 0; i0 < r.Length; i0 += u.Length)
        {
            var part = u[..Math.Min(u.Length, r.Length - i0)];
            Threefry.UnitDoubles(key, (uint)i0, 0, part);
            int j = typeof(T) == typeof(float) ? UniformFloats(part, low, high, (float)(object)lo, (float)(object)hi, MemoryMarshal.Cast<T, float>(r.AsSpan(i0))) : 0;
            for (; j < part.Length; j++)
            {
                var v = low + (high - low) * part[j];
                r[i0 + j] = T.Clamp(T.CreateChecked(v), lo, hi);
            }
        }
        return NdArray.Own(r, s);
    }

    // Uniform's messages, built outside the fully optimized method (an inlined interpolation is most of a kernel's code).
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUniformBounds(double low, double high) =>
        throw new ArgumentException($"uniform bounds must be finite with low < high, got [{low}, {high})", nameof(low));

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNoValueIn(string type, double low, double high) =>
        throw new ArgumentException($"no {type} value lies in [{low}, {high})", nameof(high));

    /// <summary>Uniform's loop for float, four lanes at a time: the same IEEE operations per element as the scalar loop — the
    /// double low + (high − low)·u (a multiply, then an add: no fused multiply-add), rounded to float (vcvtpd2ps rounds to nearest
    /// even, as the scalar conversion) and clamped by the same comparisons as <see cref="Math.Clamp(float, float, float)"/>.
    /// Returns how many elements it wrote (the caller's scalar loop does the rest): a 1M-element float array took 6.6 ns an
    /// element with the scalar loop, 2.7 with this one (most of it the Threefry blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int UniformFloats(ReadOnlySpan<double> u, double low, double high, float lo, float hi, Span<float> dest)
    {
        if (!Vector256.IsHardwareAccelerated) return 0;
        var l = Vector256.Create(low); var w = Vector256.Create(high - low);
        var vlo = Vector128.Create(lo); var vhi = Vector128.Create(hi);
        int j = 0;
        for (; j <= u.Length - 4; j += 4)
        {
            var v = l + w * Vector256.Create(u.Slice(j, 4));
            var f = Vector256.Narrow(v, v).GetLower();
            f = Vector128.ConditionalSelect(Vector128.LessThan(f, vlo), vlo, Vector128.ConditionalSelect(Vector128.GreaterThan(f, vhi), vhi, f));
            f.CopyTo(dest.Slice(j, 4));
        }
        return j;
    }

    /// <summary>An array of the given shape with elements drawn from N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    /// <remarks>Box–Muller on uniforms from counter blocks (i, 0) and (i, 1): z = √(−2 ln u₁)·cos(2π u₂), with u₁ ∈ (0, 1].</remarks>
    /// <exception cref="ArgumentException">std is negative or either argument is not finite.</exception>
    public static NdArray<T> Normal<T>(RandomKey key, double mean, double std, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std < 0)
            throw new ArgumentException($"normal needs a finite mean and std ≥ 0, got mean {mean}, std {std}", nameof(std));
        var s = NdArray.CheckShape(shape, nameof(shape));
        var r = new T[NdArray.Product(s)];
        Span<double> a = stackalloc double[128], b = stackalloc double[128];
        for (int i0 = 0; i0 < r.Length; i0 += a.Length)
        {
            int n = Math.Min(a.Length, r.Length - i0);
            Threefry.UnitDoubles(key, (uint)i0, 0, a[..n]);
            Threefry.UnitDoubles(key, (uint)i0, 1, b[..n]);                    // an independent block per element
            for (int j = 0; j < n; j++)
            {
                double u1 = 1.0 - a[j];                                          // (0, 1]: log is finite
                r[i0 + j] = T.CreateChecked(mean + std * Math.Sqrt(-2.0 * Elementary.Log(u1)) * Elementary.CosPi(2.0 * b[j]));
            }
        }
        return NdArray.Own(r, s);
    }

    /// <summary>A permutation of 0..n−1 (Fisher–Yates driven by the key).</summary>
    /// <exception cref="ArgumentOutOfRangeException">n is negative.</exception>
    public static ImmutableArray<int> Permutation(RandomKey key, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            var (x0, x1) = Threefry.Block(key, (uint)i, 0);
            // 64 random bits times (i+1), high word: an index in [0, i] with bias below 2^-32.
            ulong r64 = ((ulong)x0 << 32) | x1;
            int j = (int)(((UInt128)r64 * (ulong)(i + 1)) >> 64);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return ImmutableArray.Create(p);
    }

    /// <summary>A mask whose element i is true with probability <paramref name="keep"/> (in [0, 1]).</summary>
    /// <remarks>Element i is <c>Threefry.UnitDouble(key, i) &lt; keep</c>. That uniform is b·2⁻⁵³ for the 53-bit integer b of
    /// block i, so the test is b &lt; keep·2⁵³ (exact: a power-of-two scaling), and for an integer b that is b &lt;
    /// ⌈keep·2⁵³⌉ (all true for keep ≥ 1): the same mask from integer comparisons, many blocks at a time, with no double formed. Long masks are
    /// cut among up to <paramref name="threads"/> threads (<see cref="NeuralPure.Kernels.WorkerPool.RunBlocks"/>). A mask of
    /// 64 × 3136 elements on one thread (Zen 4) took 506 µs with one eight-lane register of blocks at a time and the comparison
    /// in 64-bit lanes; with two registers' rounds interleaved and the comparison in 32-bit lanes, 350 µs at Vector256 and
    /// 209 µs at Vector512 (a rotation is one instruction there).</remarks>
    internal static unsafe void KeepMask(RandomKey key, double keep, Span<bool> mask, int threads = 1)
    {
        fixed (bool* m = mask)
        {
            var job = new KeepJob { Key = key, Keep = keep, Mask = m };
            NeuralPure.Kernels.WorkerPool.RunBlocks(mask.Length, threads, &KeepBlock, &job);
        }
    }

    private unsafe struct KeepJob
    {
        public RandomKey Key;
        public double Keep;
        public bool* Mask;
    }

    /// <summary>Elements [start, start + length) of the mask: each is its own block's test, so any split gives the same mask.</summary>
    private static unsafe void KeepBlock(void* state, int start, int length)
    {
        ref var job = ref Unsafe.AsRef<KeepJob>(state);
        KeepRange(job.Key, job.Keep, new Span<bool>(job.Mask + start, length), (uint)start);
    }

    /// <summary>mask[j] = UnitDouble(key, first + j) &lt; keep.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KeepRange(RandomKey key, double keep, Span<bool> mask, uint first)
    {
        int i0 = 0;
        long threshold = (long)Math.Ceiling(keep * (1UL << 53));
        if (threshold >= 1L << 53) { mask.Fill(true); return; }             // keep ≥ 1: every uniform in [0, 1) is below it
        ref byte m = ref Unsafe.As<bool, byte>(ref MemoryMarshal.GetReference(mask));
        ulong[] table = ByteMasks;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            // Sixteen blocks a register, each round's rotation one vprold, two registers' rounds interleaved; the 53-bit
            // b = x0·2²¹ + ⌊x1/2¹¹⌋ compared with t = t_hi·2²¹ + t_lo in 32-bit lanes: b < t ⟺ x0 < t_hi, or x0 = t_hi and
            // ⌊x1/2¹¹⌋ < t_lo (t < 2⁵³, so t_hi < 2³²).
            var lane = Vector512.Create(0u, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var hiT = Vector512.Create((uint)(threshold >> 21)); var loT = Vector512.Create((uint)(threshold & ((1 << 21) - 1)));
            for (; i0 <= mask.Length - 32; i0 += 32)
            {
                Threefry.Block16x2(key, Vector512.Create(first + (uint)i0) + lane, Vector512.Create(first + (uint)i0 + 16) + lane, out var x0, out var x1, out var y0, out var y1);
                WriteKeep16(ref Unsafe.Add(ref m, i0), table, x0, x1, hiT, loT);
                WriteKeep16(ref Unsafe.Add(ref m, i0 + 16), table, y0, y1, hiT, loT);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            // Two registers' rounds interleaved and the comparison in 32-bit lanes, as above; then one register.
            var lane = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
            var hiT = Vector256.Create((uint)(threshold >> 21)); var loT = Vector256.Create((uint)(threshold & ((1 << 21) - 1)));
            for (; i0 <= mask.Length - 16; i0 += 16)
            {
                Threefry.Block8x2(key, Vector256.Create(first + (uint)i0) + lane, Vector256.Create(first + (uint)i0 + 8) + lane, out var x0, out var x1, out var y0, out var y1);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref m, i0), table[Below8(x0, x1, hiT, loT)]);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref m, i0 + 8), table[Below8(y0, y1, hiT, loT)]);
            }
            for (; i0 <= mask.Length - 8; i0 += 8)
            {
                Threefry.Block8(key, Vector256.Create(first + (uint)i0) + lane, out var x0, out var x1);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref m, i0), table[Below8(x0, x1, hiT, loT)]);
            }
        }
        Span<double> u = stackalloc double[256];
        for (; i0 < mask.Length; i0 += u.Length)
        {
            var part = u[..Math.Min(u.Length, mask.Length - i0)];
            Threefry.UnitDoubles(key, first + (uint)i0, 0, part);
            for (int j = 0; j < part.Length; j++) mask[i0 + j] = part[j] < keep;
        }
    }

    /// <summary>Sixteen mask bytes: byte l is 1 where block l's 53-bit integer is below t = hiT·2²¹ + loT.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteKeep16(ref byte m, ulong[] table, Vector512<uint> x0, Vector512<uint> x1, Vector512<uint> hiT, Vector512<uint> loT)
    {
        var below = Vector512.LessThan(x0, hiT) | (Vector512.Equals(x0, hiT) & Vector512.LessThan(Vector512.ShiftRightLogical(x1, 11), loT));
        ulong bits = below.ExtractMostSignificantBits();
        Unsafe.WriteUnaligned(ref m, table[(int)(bits & 0xFF)]);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref m, 8), table[(int)(bits >> 8)]);
    }

    /// <summary>Bit l set where block l's 53-bit integer is below t = hiT·2²¹ + loT (see <see cref="WriteKeep16"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Below8(Vector256<uint> x0, Vector256<uint> x1, Vector256<uint> hiT, Vector256<uint> loT) =>
        (int)(Vector256.LessThan(x0, hiT) | (Vector256.Equals(x0, hiT) & Vector256.LessThan(Vector256.ShiftRightLogical(x1, 11), loT))).ExtractMostSignificantBits();

    /// <summary>For each 8-bit pattern, eight bytes each 0 or 1: bit j of the index is byte j.</summary>
    private static readonly ulong[] ByteMasks = MakeByteMasks();

    private static ulong[] MakeByteMasks()
    {
        var t = new ulong[256];
        for (int i = 0; i < 256; i++)
            for (int j = 0; j < 8; j++) t[i] |= (ulong)((i >> j) & 1) << (8 * j);
        return t;
    }
}

/// <summary>Threefry-2x32 with 20 rounds.</summary>
internal static class Threefry
{
    public static (uint, uint) Block(RandomKey key, uint c0, uint c1)
    {
        uint k0 = key.Word0, k1 = key.Word1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
        uint x0 = c0 + k0, x1 = c1 + k1;
        Rounds0(ref x0, ref x1); x0 += k1; x1 += k2 + 1;
        Rounds1(ref x0, ref x1); x0 += k2; x1 += k0 + 2;
        Rounds0(ref x0, ref x1); x0 += k0; x1 += k1 + 3;
        Rounds1(ref x0, ref x1); x0 += k1; x1 += k2 + 4;
        Rounds0(ref x0, ref x1); x0 += k2; x1 += k0 + 5;
        return (x0, x1);
    }

    /// <summary><see cref="Block"/> for the eight counters (c0[lane], c1): the same integer operations lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block8(RandomKey key, Vector256<uint> c0, out Vector256<uint> x0, out Vector256<uint> x1, uint c1 = 0)
    {
        uint k0 = key.Word0, k1 = key.Word1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
        x0 = c0 + Vector256.Create(k0); x1 = Vector256.Create(c1 + k1);
        Rounds0(ref x0, ref x1); x0 += Vector256.Create(k1); x1 += Vector256.Create(k2 + 1);
        Rounds1(ref x0, ref x1); x0 += Vector256.Create(k2); x1 += Vector256.Create(k0 + 2);
        Rounds0(ref x0, ref x1); x0 += Vector256.Create(k0); x1 += Vector256.Create(k1 + 3);
        Rounds1(ref x0, ref x1); x0 += Vector256.Create(k1); x1 += Vector256.Create(k2 + 4);
        Rounds0(ref x0, ref x1); x0 += Vector256.Create(k2); x1 += Vector256.Create(k0 + 5);
    }

    /// <summary><see cref="Block"/> for the 32 counters (c0[lane], 0) and (d0[lane], 0), sixteen lanes a register, the two registers'
    /// rounds interleaved (two independent chains of dependent operations): the same integer operations lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block16x2(RandomKey key, Vector512<uint> c0, Vector512<uint> d0, out Vector512<uint> x0, out Vector512<uint> x1, out Vector512<uint> y0, out Vector512<uint> y1) =>
        Block2<Lanes512, Vector512<uint>>(key, c0, d0, out x0, out x1, out y0, out y1);

    /// <summary><see cref="Block8"/> for the counters (c0[lane], 0) and (d0[lane], 0), the two registers' rounds interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block8x2(RandomKey key, Vector256<uint> c0, Vector256<uint> d0, out Vector256<uint> x0, out Vector256<uint> x1, out Vector256<uint> y0, out Vector256<uint> y1) =>
        Block2<Lanes256, Vector256<uint>>(key, c0, d0, out x0, out x1, out y0, out y1);

    /// <summary>What the interleaved rounds need from one register type: Vector512 rotates in one instruction (vprold),
    /// Vector256 with two shifts and an or.</summary>
    private interface IRoundLanes<TV> where TV : struct
    {
        static abstract TV Splat(uint v);
        static abstract TV Add(TV a, TV b);
        /// <summary>rotl(x, r) ^ y.</summary>
        static abstract TV RotateXor(TV x, TV y, [ConstantExpected] byte r);
    }

    private readonly struct Lanes512 : IRoundLanes<Vector512<uint>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> Splat(uint v) => Vector512.Create(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> Add(Vector512<uint> a, Vector512<uint> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<uint> RotateXor(Vector512<uint> x, Vector512<uint> y, [ConstantExpected] byte r) => Avx512F.RotateLeft(x, r) ^ y;
    }

    private readonly struct Lanes256 : IRoundLanes<Vector256<uint>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> Splat(uint v) => Vector256.Create(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> Add(Vector256<uint> a, Vector256<uint> b) => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<uint> RotateXor(Vector256<uint> x, Vector256<uint> y, [ConstantExpected] byte r) =>
            (Vector256.ShiftLeft(x, r) | Vector256.ShiftRightLogical(x, 32 - r)) ^ y;
    }

    /// <summary>The 20 rounds and 5 key injections of <see cref="Block"/> on two registers of counters at once, written once for
    /// every register type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block2<TL, TV>(RandomKey key, TV c0, TV d0, out TV x0, out TV x1, out TV y0, out TV y1) where TL : IRoundLanes<TV> where TV : struct
    {
        uint k0 = key.Word0, k1 = key.Word1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
        x0 = TL.Add(c0, TL.Splat(k0)); x1 = TL.Splat(k1);
        y0 = TL.Add(d0, TL.Splat(k0)); y1 = x1;
        Rounds0<TL, TV>(ref x0, ref x1, ref y0, ref y1); Inject<TL, TV>(ref x0, ref x1, ref y0, ref y1, k1, k2 + 1);
        Rounds1<TL, TV>(ref x0, ref x1, ref y0, ref y1); Inject<TL, TV>(ref x0, ref x1, ref y0, ref y1, k2, k0 + 2);
        Rounds0<TL, TV>(ref x0, ref x1, ref y0, ref y1); Inject<TL, TV>(ref x0, ref x1, ref y0, ref y1, k0, k1 + 3);
        Rounds1<TL, TV>(ref x0, ref x1, ref y0, ref y1); Inject<TL, TV>(ref x0, ref x1, ref y0, ref y1, k1, k2 + 4);
        Rounds0<TL, TV>(ref x0, ref x1, ref y0, ref y1); Inject<TL, TV>(ref x0, ref x1, ref y0, ref y1, k2, k0 + 5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Inject<TL, TV>(ref TV x0, ref TV x1, ref TV y0, ref TV y1, uint a, uint b) where TL : IRoundLanes<TV> where TV : struct
    {
        TV va = TL.Splat(a), vb = TL.Splat(b);
        x0 = TL.Add(x0, va); y0 = TL.Add(y0, va); x1 = TL.Add(x1, vb); y1 = TL.Add(y1, vb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round<TL, TV>(ref TV x0, ref TV x1, ref TV y0, ref TV y1, [ConstantExpected] byte r) where TL : IRoundLanes<TV> where TV : struct
    {
        x0 = TL.Add(x0, x1); y0 = TL.Add(y0, y1); x1 = TL.RotateXor(x1, x0, r); y1 = TL.RotateXor(y1, y0, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds0<TL, TV>(ref TV x0, ref TV x1, ref TV y0, ref TV y1) where TL : IRoundLanes<TV> where TV : struct
    {
        Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 13); Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 15);
        Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 26); Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 6);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds1<TL, TV>(ref TV x0, ref TV x1, ref TV y0, ref TV y1) where TL : IRoundLanes<TV> where TV : struct
    {
        Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 17); Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 29);
        Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 16); Round<TL, TV>(ref x0, ref x1, ref y0, ref y1, 24);
    }

    /// <summary><see cref="Block"/> for the four counters (c0[lane], c1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block4(RandomKey key, Vector128<uint> c0, out Vector128<uint> x0, out Vector128<uint> x1, uint c1 = 0)
    {
        uint k0 = key.Word0, k1 = key.Word1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
        x0 = c0 + Vector128.Create(k0); x1 = Vector128.Create(c1 + k1);
        Rounds0(ref x0, ref x1); x0 += Vector128.Create(k1); x1 += Vector128.Create(k2 + 1);
        Rounds1(ref x0, ref x1); x0 += Vector128.Create(k2); x1 += Vector128.Create(k0 + 2);
        Rounds0(ref x0, ref x1); x0 += Vector128.Create(k0); x1 += Vector128.Create(k1 + 3);
        Rounds1(ref x0, ref x1); x0 += Vector128.Create(k1); x1 += Vector128.Create(k2 + 4);
        Rounds0(ref x0, ref x1); x0 += Vector128.Create(k2); x1 += Vector128.Create(k0 + 5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Vector256<uint> x0, ref Vector256<uint> x1, [ConstantExpected] int r)
    {
        x0 += x1; x1 = Vector256.ShiftLeft(x1, r) | Vector256.ShiftRightLogical(x1, 32 - r); x1 ^= x0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Vector128<uint> x0, ref Vector128<uint> x1, [ConstantExpected] int r)
    {
        x0 += x1; x1 = Vector128.ShiftLeft(x1, r) | Vector128.ShiftRightLogical(x1, 32 - r); x1 ^= x0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds0(ref Vector256<uint> x0, ref Vector256<uint> x1) { Round(ref x0, ref x1, 13); Round(ref x0, ref x1, 15); Round(ref x0, ref x1, 26); Round(ref x0, ref x1, 6); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds1(ref Vector256<uint> x0, ref Vector256<uint> x1) { Round(ref x0, ref x1, 17); Round(ref x0, ref x1, 29); Round(ref x0, ref x1, 16); Round(ref x0, ref x1, 24); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds0(ref Vector128<uint> x0, ref Vector128<uint> x1) { Round(ref x0, ref x1, 13); Round(ref x0, ref x1, 15); Round(ref x0, ref x1, 26); Round(ref x0, ref x1, 6); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rounds1(ref Vector128<uint> x0, ref Vector128<uint> x1) { Round(ref x0, ref x1, 17); Round(ref x0, ref x1, 29); Round(ref x0, ref x1, 16); Round(ref x0, ref x1, 24); }

    private static void Round(ref uint x0, ref uint x1, int r) { x0 += x1; x1 = BitOperations.RotateLeft(x1, r); x1 ^= x0; }
    private static void Rounds0(ref uint x0, ref uint x1) { Round(ref x0, ref x1, 13); Round(ref x0, ref x1, 15); Round(ref x0, ref x1, 26); Round(ref x0, ref x1, 6); }
    private static void Rounds1(ref uint x0, ref uint x1) { Round(ref x0, ref x1, 17); Round(ref x0, ref x1, 29); Round(ref x0, ref x1, 16); Round(ref x0, ref x1, 24); }

    public static void Fill(RandomKey key, Span<uint> dest)
    {
        for (int i = 0; i < dest.Length; i += 2)
        {
            var (a, b) = Block(key, (uint)(i / 2), 0);
            dest[i] = a;
            if (i + 1 < dest.Length) dest[i + 1] = b;
        }
    }

    /// <summary>dest[j] = <see cref="UnitDouble"/>(key, start + j, stream): the blocks eight (or four) at a time in vector integer
    /// operations, each double formed from its block's words exactly as UnitDouble forms it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // straight to optimized code: at tier 0 the Vector256 operations are calls
    public static void UnitDoubles(RandomKey key, uint start, uint stream, Span<double> dest)
    {
        int j = 0;
        Span<uint> w0 = stackalloc uint[8], w1 = stackalloc uint[8];
        if (Vector256.IsHardwareAccelerated)
        {
            var lane = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
            for (; j <= dest.Length - 8; j += 8)
            {
                Block8(key, Vector256.Create(start + (uint)j) + lane, out var x0, out var x1, stream);
                var (lo, hi) = Bits53(x0, x1);
                UnitOf(lo).CopyTo(dest[j..]);
                UnitOf(hi).CopyTo(dest[(j + 4)..]);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var lane = Vector128.Create(0u, 1, 2, 3);
            for (; j <= dest.Length - 4; j += 4)
            {
                Block4(key, Vector128.Create(start + (uint)j) + lane, out var x0, out var x1, stream);
                x0.CopyTo(w0); x1.CopyTo(w1);
                for (int l = 0; l < 4; l++) dest[j + l] = ToUnit(w0[l], w1[l]);
            }
        }
        for (; j < dest.Length; j++) dest[j] = UnitDouble(key, start + (uint)j, stream);
    }

    /// <summary>The 53-bit integers <see cref="ToUnit"/> takes from eight blocks' words, (x0 &lt;&lt; 32 | x1) &gt;&gt; 11, lanes 0–3
    /// and 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<ulong> Lo, Vector256<ulong> Hi) Bits53(Vector256<uint> x0, Vector256<uint> x1)
    {
        var (a0, a1) = Vector256.Widen(x0);
        var (b0, b1) = Vector256.Widen(x1);
        return (Vector256.ShiftRightLogical(Vector256.ShiftLeft(a0, 32) | b0, 11), Vector256.ShiftRightLogical(Vector256.ShiftLeft(a1, 32) | b1, 11));
    }

    /// <summary>b·2⁻⁵³ for 53-bit integers b, exactly as <see cref="ToUnit"/>: the low 52 bits through the 2⁵² exponent trick
    /// (the double 2⁵² + low, minus 2⁵²), plus 2⁵² when bit 52 is set; every step is exact, so each lane is the scalar
    /// conversion's double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> UnitOf(Vector256<ulong> b)
    {
        var two52 = Vector256.Create(0x4330000000000000UL);
        var low = (Vector256.BitwiseAnd(b, Vector256.Create((1UL << 52) - 1)) | two52).AsDouble() - two52.AsDouble();
        var top = (Vector256<ulong>.Zero - Vector256.ShiftRightLogical(b, 52)) & two52;
        return (low + top.AsDouble()) * Vector256.Create(1.0 / (1UL << 53));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ToUnit(uint x0, uint x1)
    {
        // bits < 2⁵³, so long → double is exact and equals ulong → double, which without AVX-512 is a slower sequence.
        long bits = (long)((((ulong)x0 << 32) | x1) >> 11);
        return bits * (1.0 / (1UL << 53));
    }

    /// <summary>A double in [0, 1) from 53 bits of block i.</summary>
    public static double UnitDouble(RandomKey key, uint i, uint stream = 0)
    {
        var (x0, x1) = Block(key, i, stream);
        return ToUnit(x0, x1);
    }
}
