using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

using NeuralPure.Numerics;

namespace NeuralPure.Kernels;

/// <summary>Element-wise maps of activations and their derivatives, written into a destination span.</summary>
/// <remarks>
/// Every method accepts the destination being exactly an input (in place) and refuses partial overlap. Where
/// TensorPrimitives has the operation it is used; the rest are plain loops whose scalar form is the definition.
/// </remarks>
internal static class Elementwise
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> x, Span<T> dest)
    {
        Guard.SameLength(x, dest, "x", "destination");
        Guard.NoPartialOverlap(x, dest, "x");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest)
    {
        Guard.SameLength(x, y, "x", "y");
        Guard.SameLength(x, dest, "x", "destination");
        Guard.NoPartialOverlap(x, dest, "x");
        Guard.NoPartialOverlap(y, dest, "y");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> dest)
    {
        Check(x, y, dest);
        Guard.SameLength(x, z, "x", "z");
        Guard.NoPartialOverlap(z, dest, "z");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // x where x > 0 or x is NaN (x ≠ x), else +0: the scalar definition's select, lane by lane, x's bits copied. Its own
            // loop rather than TensorPrimitives.Max: that generic method was compiled at tier 0 on the training thread in a
            // process's first step (the warm-up compiles this one).
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var xv = new Vector<T>(x.Slice(i, Vector<T>.Count));
                var keep = Vector.BitwiseOr(Vector.GreaterThan(xv, Vector<T>.Zero), Vector.OnesComplement(Vector.Equals(xv, xv)));
                Vector.ConditionalSelect(keep, xv, Vector<T>.Zero).CopyTo(dest.Slice(i, Vector<T>.Count));
            }
        }
        for (; i < x.Length; i++) dest[i] = x[i] > T.Zero || T.IsNaN(x[i]) ? x[i] : T.Zero;
    }

    /// <summary>dx = dy where x &gt; 0, else 0 (also at x = 0, as PyTorch's threshold_backward does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // A select per lane: the same comparison (false for NaN) and the same copied bits as the scalar loop.
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var xv = new Vector<T>(x.Slice(i, Vector<T>.Count));
                var dv = new Vector<T>(dy.Slice(i, Vector<T>.Count));
                Vector.ConditionalSelect(Vector.GreaterThan(xv, Vector<T>.Zero), dv, Vector<T>.Zero).CopyTo(dx.Slice(i, Vector<T>.Count));
            }
        }
        for (; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : T.Zero;
    }

    private unsafe struct ReluJob<T> where T : unmanaged
    {
        public T* X, Dy, Dest;
    }

    /// <summary><see cref="Relu{T}"/> (<paramref name="backward"/> false, dy unused) or <see cref="ReluBackward{T}"/> on up to
    /// <paramref name="threads"/> threads (<see cref="WorkerPool.RunBlocks"/>): each element is computed alone, so the split
    /// changes no bit.</summary>
    public static unsafe void ReluOrBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dest, bool backward, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (backward) Check(x, dy, dest); else Check(x, dest);
        fixed (T* px = x) fixed (T* pdy = dy) fixed (T* pd = dest)
        {
            var job = new ReluJob<T> { X = px, Dy = backward ? pdy : null, Dest = pd };
            WorkerPool.RunBlocks(x.Length, threads, &ReluBlock<T>, &job);
        }
    }

    private static unsafe void ReluBlock<T>(void* state, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<ReluJob<T>>(state);
        var x = new ReadOnlySpan<T>(job.X + start, length);
        var dest = new Span<T>(job.Dest + start, length);
        if (job.Dy != null) ReluBackward(x, new ReadOnlySpan<T>(job.Dy + start, length), dest);
        else Relu(x, dest);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyRelu<T>(ReadOnlySpan<T> x, T slope, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++) { var v = x[i]; dest[i] = v > T.Zero ? v : v * slope; }
    }

    /// <summary>dx = dy where x &gt; 0, else slope·dy (PyTorch's leaky_relu_backward; x = 0 takes the slope).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T slope, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : dy[i] * slope;
    }

    /// <summary>y = 1 / (1 + e^(−x)), computed without overflow for any x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++) dest[i] = SigmoidScalar(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SigmoidScalar<T>(T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // For v ≥ 0, e^(−v) ≤ 1 cannot overflow; for v < 0 use e^v / (1 + e^v), same value, no overflow.
        if (v >= T.Zero) return T.One / (T.One + Elementary.Exp(-v));
        var e = Elementary.Exp(v);
        return e / (T.One + e);
    }

    /// <summary>dx = dy · y · (1 − y), from the forward output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(y, dy, dx);
        for (int i = 0; i < y.Length; i++) dx[i] = dy[i] * (y[i] * (T.One - y[i]));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++) dest[i] = Elementary.Tanh(x[i]);
    }

    /// <summary>dx = dy · (1 − y²), from the forward output y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(y, dy, dx);
        for (int i = 0; i < y.Length; i++) dx[i] = dy[i] * (T.One - y[i] * y[i]);
    }

    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>erf in double for GELU: the ≤ 1 ulp one for double models, the fast 1e-15 one when the result is rounded to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double GeluErf<T>(double v) => typeof(T) == typeof(double) ? Elementary.Erf(v) : SpecialFunctions.Erf(v);

    /// <summary>GELU, the exact form: y = x·Φ(x) = ½·x·(1 + erf(x/√2)), evaluated in double as PyTorch's CPU kernel does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu<T>(ReadOnlySpan<T> x, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateChecked(x[i]);
            dest[i] = T.CreateChecked(0.5 * v * (1.0 + GeluErf<T>(v * InvSqrt2)));
        }
    }

    /// <summary>dx = dy · (Φ(x) + x·φ(x)), with φ the standard normal density.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GeluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            double v = double.CreateChecked(x[i]);
            double cdf = 0.5 * (1.0 + GeluErf<T>(v * InvSqrt2));
            double pdf = InvSqrt2Pi * Elementary.Exp(-0.5 * v * v);
            dx[i] = dy[i] * T.CreateChecked(cdf + v * pdf);
        }
    }

    /// <summary>dest = x · scale where mask is true, else 0 (inverted dropout, forward and backward alike).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskScale<T>(ReadOnlySpan<T> x, ReadOnlySpan<bool> mask, T scale, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        if (mask.Length != x.Length) throw new ArgumentException($"mask has length {mask.Length} but x has {x.Length}", nameof(mask));
        int i = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // A register of products x·scale, and-ed with the mask widened to all-ones or all-zeros lanes: the kept lanes are the
            // scalar product's bits, the others +0 as in the loop below.
            ref byte m = ref Unsafe.As<bool, byte>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(mask));
            ref T xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref T ds = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dest);
            var s = Vector256.Create(scale);
            int lanes = Vector256<T>.Count;
            for (; i <= x.Length - lanes; i += lanes)
            {
                Vector256<T> keep;
                if (typeof(T) == typeof(float))
                {
                    // Eight mask bytes → eight uint lanes.
                    var (w0, w1) = Vector128.Widen(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref m, i))).AsByte()));
                    keep = Vector256.GreaterThan(Vector256.Create(w0, w1), Vector256<uint>.Zero).As<uint, T>();
                }
                else
                {
                    // Four mask bytes → four ulong lanes.
                    var w = Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref m, i))).AsByte()));
                    keep = Vector256.GreaterThan(Vector256.Create(Vector128.WidenLower(w), Vector128.WidenUpper(w)), Vector256<ulong>.Zero).As<ulong, T>();
                }
                (Vector256.LoadUnsafe(ref xs, (nuint)i) * s & keep).StoreUnsafe(ref ds, (nuint)i);
            }
        }
        for (; i < x.Length; i++) dest[i] = mask[i] ? x[i] * scale : T.Zero;
    }

    /// <summary>dest = x + y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, y, dest);
        TensorPrimitives.Add(x, y, dest);
    }

    /// <summary>dest = x − y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subtract<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, y, dest);
        TensorPrimitives.Subtract(x, y, dest);
    }

    /// <summary>dest = x · s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale<T>(ReadOnlySpan<T> x, T s, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        TensorPrimitives.Multiply(x, s, dest);
    }

    /// <summary>dest = x · s + y (no fused rounding: two roundings, as the scalar definition has).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleAdd<T>(ReadOnlySpan<T> x, T s, ReadOnlySpan<T> y, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, y, dest);
        TensorPrimitives.MultiplyAdd(x, s, y, dest);
    }

    /// <summary>Σ xᵢ² in double, in order (deterministic; used by clipping and norms).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (var v in x) { var d = double.CreateChecked(v); s += d * d; }
        return s;
    }

    /// <summary>True when every element is finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => FirstNonFinite(x) < 0;

    /// <summary>Index of the first non-finite element, or −1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FirstNonFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // v − v is 0 for a finite v and NaN for ±∞ or NaN, so a register whose differences all equal 0 holds only finite values.
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var v = new Vector<T>(x.Slice(i, Vector<T>.Count));
                if (!Vector.EqualsAll(v - v, Vector<T>.Zero)) break;
            }
        }
        for (; i < x.Length; i++) if (!T.IsFinite(x[i])) return i;
        return -1;
    }
}
