using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralPure.Numerics;

/// <summary>
/// Error-free transformations: a sum or a product of two doubles written exactly as an unevaluated pair hi + lo
/// (a "double-double"). They are what lets <see cref="Elementary"/> carry about 100 bits through a reduction or a final
/// sum and round only once at the end.
/// </summary>
/// <remarks>
/// Only additions and multiplications, each rounded to nearest: no fused multiply-add (the .NET JIT never contracts
/// <c>a * b + c</c> into one, and nothing here asks it to), so every platform performs the same IEEE operations.
/// TwoSum is Knuth's, FastTwoSum Dekker's (it needs |a| ≥ |b| or a = 0), TwoProduct Dekker's with Veltkamp's split:
/// exact while the operands stay below 2⁹⁹⁶ and their product does not underflow.
/// </remarks>
internal static class DoubleDouble
{
    private const double Splitter = 134217729.0; // 2²⁷ + 1

    /// <summary>s = fl(a + b) and e with s + e = a + b exactly (Knuth).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double TwoSum(double a, double b, out double e)
    {
        double s = a + b;
        double bb = s - a;
        e = (a - (s - bb)) + (b - bb);
        return s;
    }

    /// <summary>s = fl(a + b) and e with s + e = a + b exactly, when |a| ≥ |b| (Dekker).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double FastTwoSum(double a, double b, out double e)
    {
        double s = a + b;
        e = b - (s - a);
        return s;
    }

    /// <summary>p = fl(a · b) and e with p + e = a · b exactly (Dekker, Veltkamp's split; no FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double TwoProduct(double a, double b, out double e)
    {
        double p = a * b;
        double t = Splitter * a, ah = t - (t - a), al = a - ah;
        t = Splitter * b;
        double bh = t - (t - b), bl = b - bh;
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
        return p;
    }

    /// <summary><see cref="TwoSum(double, double, out double)"/> on four lanes: the same operations, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> TwoSum(Vector256<double> a, Vector256<double> b, out Vector256<double> e)
    {
        var s = a + b;
        var bb = s - a;
        e = (a - (s - bb)) + (b - bb);
        return s;
    }

    /// <summary><see cref="FastTwoSum(double, double, out double)"/> on four lanes (|a| ≥ |b| in every lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> FastTwoSum(Vector256<double> a, Vector256<double> b, out Vector256<double> e)
    {
        var s = a + b;
        e = b - (s - a);
        return s;
    }

    /// <summary><see cref="TwoProduct(double, double, out double)"/> on four lanes: the same split and sums, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> TwoProduct(Vector256<double> a, Vector256<double> b, out Vector256<double> e)
    {
        var p = a * b;
        var split = Vector256.Create(Splitter);
        var t = split * a; var ah = t - (t - a); var al = a - ah;
        t = split * b;
        var bh = t - (t - b); var bl = b - bh;
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
        return p;
    }

    /// <summary>(ah + al) · (bh + bl) as a normalised pair, relative error about 2⁻¹⁰⁴.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Multiply(double ah, double al, double bh, double bl, out double lo)
    {
        double p = TwoProduct(ah, bh, out double e);
        e += ah * bl + al * bh;
        return FastTwoSum(p, e, out lo);
    }

    /// <summary>(ah + al) + (bh + bl) as a normalised pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Add(double ah, double al, double bh, double bl, out double lo)
    {
        double s = TwoSum(ah, bh, out double e);
        e += al + bl;
        return FastTwoSum(s, e, out lo);
    }

    /// <summary>(ah + al) / (bh + bl) as a normalised pair: one correction step after the double quotient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Divide(double ah, double al, double bh, double bl, out double lo)
    {
        double q = ah / bh;
        double p = TwoProduct(q, bh, out double pe);
        double r = ((ah - p) - pe + al - q * bl) / bh;
        return FastTwoSum(q, r, out lo);
    }

    /// <summary>2ᵏ for −1022 ≤ k ≤ 1023, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Pow2(int k) => BitConverter.Int64BitsToDouble((long)(k + 1023) << 52);

    /// <summary>v · 2ᵏ for any k a result of exp can need (−1080 ≤ k ≤ 1025), rounded once: two exact-or-final scalings.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ScaleByPowerOfTwo(double v, int k)
    {
        if (k > 1023) return v * Pow2(1023) * Pow2(k - 1023);
        if (k < -1022) return v * Pow2(k + 600) * Pow2(-600); // the first product is exact, the second rounds into the subnormals once
        return v * Pow2(k);
    }
}
