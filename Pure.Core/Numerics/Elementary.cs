using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static NeuralPure.Numerics.DoubleDouble;

namespace NeuralPure.Numerics;

/// <summary>
/// NeuralPure's own elementary functions — exp, expm1, log, log1p, tanh, erf, pow, sin(πx), cos(πx) — in managed
/// code, so that a run gives the same bits on every platform: .NET's <c>Math.Exp</c>, <c>MathF.Tanh</c>, <c>T.Log</c>,
/// … call the C library, whose last bit differs between glibc, Apple's libm, Windows' CRT and across architectures.
/// </summary>
/// <remarks>
/// <para>Each function is a fixed sequence of IEEE additions, multiplications, divisions and bit operations, rounded
/// to nearest: no table, no fused multiply-add (none written, and the JIT does not contract), no hardware
/// transcendental, so x64 (any instruction set) and ARM64 compute the same result. Everything on NeuralPure's training
/// path goes through here; a test scans Pure.Core's IL for any other call.</para>
/// <para>Method: reduce the argument exactly (x = k·ln 2 + r with ln 2 split into 42 + 53 bits; x = n/2 + r for the
/// π-scaled trigonometric functions), evaluate a Taylor polynomial whose coefficients are exact rationals rounded once
/// (1/n!, 2/(2n+1), …) on the reduced range, carry the leading terms as double-double pairs
/// (<see cref="DoubleDouble"/>) and round once at the end. Measured errors are in the README's accuracy table
/// (dense grids against mpmath at 300 bits); the bound each one is built and tested for is 1 ulp, in double and in
/// float. The float overloads evaluate the double function and round it: at most 0.5 ulp of float plus 2⁻²⁹.</para>
/// <para>Special values follow IEEE 754 and C99 Annex F (NaN in, NaN out; ±∞ and ±0 where the functions define them),
/// as <c>Math</c> does, so switching to these changes no special case.</para>
/// </remarks>
public static class Elementary
{
    // ln 2 = Ln2Hi + Ln2Lo to about 2⁻⁹⁶: Ln2Hi has 42 significant bits, so k·Ln2Hi is exact for |k| < 2¹¹.
    private const double Ln2Hi = 0.6931471805598903;
    private const double Ln2Lo = 5.497923018708371e-14;
    private const double InvLn2 = 1.4426950408889634;
    private const double PiHi = 3.141592653589793, PiLo = 1.2246467991473532e-16;
    private const double TwoOverSqrtPiHi = 1.1283791670955126, TwoOverSqrtPiLo = 1.533545961316588e-17;
    private const double InvSqrtPi = 0.5641895835477563;
    private const double Sqrt2 = 1.4142135623730951;

    // ---------------------------------------------------------------- exp and expm1

    /// <summary>eˣ. Overflows to +∞ above ln(double.MaxValue) ≈ 709.78; +0 below ≈ −745.13.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 710) return double.PositiveInfinity;
        if (x < -746) return 0.0;
        int k = ExpReduce(x, 0, out double ph, out double pl);
        return ScaleByPowerOfTwo(ph + pl, k);
    }

    /// <summary>x[i] ← eˣ⁽ⁱ⁾ for every element: bit for bit <see cref="Exp(double)"/> element by element, four at a time.</summary>
    /// <remarks>The lanes run <see cref="Exp(double)"/>'s own sequence of IEEE operations (the reduction, the polynomial, the
    /// pairs, the scaling by 2ᵏ), each rounded alone, so each lane's result is the scalar one; a group with an argument outside
    /// [−708, 709] (where the scalar function takes another branch: overflow, subnormal results, NaN) is done element by element.
    /// Four lanes where Vector256 is accelerated (x64 AVX); elsewhere all elements go through the scalar function.</remarks>
    internal static void ExpInPlace(Span<double> x)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double x0 = ref MemoryMarshal.GetReference(x);
            for (; i <= x.Length - 4; i += 4)
            {
                var v = Vector256.LoadUnsafe(ref x0, (nuint)i);
                if (Vector256.GreaterThanOrEqualAll(v, Vector256.Create(-708.0)) && Vector256.LessThanOrEqualAll(v, Vector256.Create(709.0)))
                    ExpLanes(v).StoreUnsafe(ref x0, (nuint)i);
                else
                    for (int j = i; j < i + 4; j++) x[j] = Exp(x[j]);
            }
        }
        for (; i < x.Length; i++) x[i] = Exp(x[i]);
    }

    /// <summary><see cref="Exp(double)"/> on four lanes with −708 ≤ x ≤ 709 (so 2ᵏ is a normal number, −1021 ≤ k ≤ 1023):
    /// <see cref="ExpReduce(double, double, out double, out double, out double, out double)"/> with xl = 0, then (ph + pl)·2ᵏ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpLanes(Vector256<double> xh)
    {
        var kd = Vector256.Round(xh * Vector256.Create(InvLn2));            // ties to even, as Math.Round
        var hi = xh - kd * Vector256.Create(Ln2Hi);
        var r = TwoSum(hi, Vector256<double>.Zero - kd * Vector256.Create(Ln2Lo), out var rl);
        var q = Vector256.Create(1.0 / 6227020800);
        q = Vector256.Create(1.0 / 479001600) + r * q;
        q = Vector256.Create(1.0 / 39916800) + r * q;
        q = Vector256.Create(1.0 / 3628800) + r * q;
        q = Vector256.Create(1.0 / 362880) + r * q;
        q = Vector256.Create(1.0 / 40320) + r * q;
        q = Vector256.Create(1.0 / 5040) + r * q;
        q = Vector256.Create(1.0 / 720) + r * q;
        q = Vector256.Create(1.0 / 120) + r * q;
        q = Vector256.Create(1.0 / 24) + r * q;
        q = Vector256.Create(1.0 / 6) + r * q;
        var half = Vector256.Create(0.5);
        var r2h = TwoProduct(r, r, out var r2l);
        var tail = half * r2l + r2h * (r * q) + rl * (Vector256.Create(1.0) + r + half * r2h);
        var eh = FastTwoSum(r, half * r2h, out var el);
        eh = FastTwoSum(eh, el + tail, out el);
        var ph = FastTwoSum(Vector256.Create(1.0), eh, out var e1);
        var pl = e1 + el;
        // 2ᵏ from k's bits: kd + 1.5·2⁵² holds k in its low mantissa bits (exact for |k| < 2⁵¹).
        var magic = Vector256.Create(6755399441055744.0);
        var k = (kd + magic).AsInt64() - magic.AsInt64();
        var pow2 = Vector256.ShiftLeft(k + Vector256.Create(1023L), 52).AsDouble();
        return (ph + pl) * pow2;
    }

    /// <summary>eˣ − 1, accurate near 0 where Exp(x) − 1 would cancel.</summary>
    public static double ExpM1(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709) return Exp(x);            // −1 is far below half an ulp of a result ≥ 2¹⁰²²
        if (x < -36) return -1.0 + Exp(x);    // eˣ < 2⁻⁵² here: one rounding of −1 + eˣ
        if (Math.Abs(x) < 5.551115123125783e-17) return x; // |x| < 2⁻⁵⁴: x²/2 is below half an ulp (keeps −0)
        return ExpM1Pair(x, out _);
    }

    /// <summary>
    /// x = k·ln 2 + r exactly as a pair, r = rh + rl with |rh| ≤ ln2/2, and e^r = ph + pl (about 2⁻⁶⁰ relative), so
    /// e^(xh + xl) = 2ᵏ · (ph + pl). Also returns e^r − 1 = eh + el for expm1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ExpReduce(double xh, double xl, out double ph, out double pl) =>
        ExpReduce(xh, xl, out ph, out pl, out _, out _);

    private static int ExpReduce(double xh, double xl, out double ph, out double pl, out double eh, out double el)
    {
        double kd = Math.Round(xh * InvLn2);              // nearest integer, ties to even: exact and deterministic
        double hi = xh - kd * Ln2Hi;                      // exact: kd·Ln2Hi is exact and within a factor 2 of xh
        double r = TwoSum(hi, xl - kd * Ln2Lo, out double rl);
        // e^(r + rl) − 1 = r + r²/2 + r³·(1/3! + r/4! + … + r¹⁰/13!) + rl·(1 + r + r²/2); the first omitted term, r¹⁴/14!,
        // is below 2⁻⁶⁰. r²/2 is carried as an exact pair, so the rounding errors that remain scale with r³/6.
        double q = 1.0 / 6227020800;                      // 1/13!
        q = 1.0 / 479001600 + r * q;                      // 1/12!
        q = 1.0 / 39916800 + r * q;
        q = 1.0 / 3628800 + r * q;
        q = 1.0 / 362880 + r * q;
        q = 1.0 / 40320 + r * q;
        q = 1.0 / 5040 + r * q;
        q = 1.0 / 720 + r * q;
        q = 1.0 / 120 + r * q;
        q = 1.0 / 24 + r * q;
        q = 1.0 / 6 + r * q;
        double r2h = TwoProduct(r, r, out double r2l);
        double tail = 0.5 * r2l + r2h * (r * q) + rl * (1 + r + 0.5 * r2h);
        eh = FastTwoSum(r, 0.5 * r2h, out el);            // |r²/2| < |r| on the reduced range
        eh = FastTwoSum(eh, el + tail, out el);
        ph = FastTwoSum(1.0, eh, out double e1);
        pl = e1 + el;
        return (int)kd;
    }

    /// <summary>expm1(x) for −36 ≤ x ≤ 709 as a normalised pair.</summary>
    private static double ExpM1Pair(double x, out double lo)
    {
        int k = ExpReduce(x, 0, out double ph, out double pl, out double eh, out double el);
        if (k == 0) return FastTwoSum(eh, el, out lo);
        double p2 = Pow2(k);
        if (k <= 52)
        {
            // 2ᵏ·(1 + e) − 1 = (2ᵏ − 1) + 2ᵏ·e; 2ᵏ − 1 is exact for −53 ≤ k ≤ 52 and 2ᵏ·eh is exact.
            double s = TwoSum(p2 - 1.0, p2 * eh, out double err);
            return FastTwoSum(s, err + p2 * el, out lo);
        }
        // k > 52: 2ᵏ·ph is exact and 2ᵏ·pl − 1 is small beside it.
        return FastTwoSum(p2 * ph, p2 * pl - 1.0, out lo);
    }

    // ---------------------------------------------------------------- log and log1p

    /// <summary>ln x: NaN for x &lt; 0, −∞ at ±0, +∞ at +∞.</summary>
    public static double Log(double x)
    {
        if (!(x > 0)) return x == 0 ? double.NegativeInfinity : double.NaN;
        if (double.IsPositiveInfinity(x)) return x;
        int k = Decompose(x, out double m);
        return LogPair(k, m - 1.0, 0, out _);
    }

    /// <summary>ln(1 + x), accurate near 0 where Log(1 + x) would lose the low bits of x: NaN below −1, −∞ at −1.</summary>
    public static double Log1P(double x)
    {
        if (!(x > -1)) return x == -1 ? double.NegativeInfinity : double.NaN;
        if (double.IsPositiveInfinity(x)) return x;
        if (Math.Abs(x) < 5.551115123125783e-17) return x; // |x| < 2⁻⁵⁴: x²/2 is below half an ulp (keeps −0)
        // 1 + x = u + c exactly; u = 2ᵏ·m; ln(1 + x) = k ln 2 + ln m + ln(1 + c/u), ln(1 + w) = w − w²/2 to 2⁻¹⁵⁹ (|w| ≤ 2⁻⁵³).
        double u = TwoSum(1.0, x, out double c);
        int k = Decompose(u, out double m);
        double w = c / u;
        return LogPair(k, m - 1.0, w - 0.5 * w * w, out _);
    }

    /// <summary>x = 2ᵏ·m with √2/2 ≤ m &lt; √2, for finite x &gt; 0 (subnormals too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Decompose(double x, out double m)
    {
        int k = 0;
        if (x < 2.2250738585072014e-308) { x *= 18014398509481984.0; k = -54; } // subnormal: scale by 2⁵⁴
        long bits = BitConverter.DoubleToInt64Bits(x);
        k += (int)((bits >> 52) & 0x7FF) - 1023;
        m = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L);
        if (m > Sqrt2) { m *= 0.5; k++; }
        return k;
    }

    /// <summary>
    /// k·ln 2 + ln(1 + f) + c for |f| ≤ √2 − 1 (f = m − 1, exact) and a tiny correction c; the rounded sum (returned)
    /// and its low part. ln(1 + f) = 2 atanh(s) with s = f/(2 + f), written as f − f²/2 + s·(f²/2 + R),
    /// R = 2s²/3 + 2s⁴/5 + … + 2s²²/23, so that f − f²/2 is exact and the rounding errors scale with s·f²/2.
    /// </summary>
    private static double LogPair(int k, double f, double c, out double lo)
    {
        double s = f / (2.0 + f);
        double z = s * s;
        double R = 2.0 / 23;
        R = 2.0 / 21 + z * R;
        R = 2.0 / 19 + z * R;
        R = 2.0 / 17 + z * R;
        R = 2.0 / 15 + z * R;
        R = 2.0 / 13 + z * R;
        R = 2.0 / 11 + z * R;
        R = 2.0 / 9 + z * R;
        R = 2.0 / 7 + z * R;
        R = 2.0 / 5 + z * R;
        R = 2.0 / 3 + z * R;
        R *= z;
        double hh = TwoProduct(f, f, out double hl);      // f² exactly; halved below (exact)
        hh *= 0.5; hl *= 0.5;
        double kd = k;
        // ln(1 + f) = f − f²/2 + s·(f²/2 + R): f − f²/2 as an exact pair, the rest (≈ s·f²/2, small) in doubles.
        double ih = TwoSum(f, -hh, out double il);
        il += s * (hh + R) - hl + c + kd * Ln2Lo;
        double sh = TwoSum(kd * Ln2Hi, ih, out double sl);
        return FastTwoSum(sh, sl + il, out lo);
    }

    /// <summary>ln x as a pair to about 2⁻⁷⁰ relative, for pow: s = f/(2 + f) and the first three atanh terms in pairs.</summary>
    private static double LogHighPair(double x, out double lo)
    {
        int k = Decompose(x, out double m);
        double f = m - 1.0;
        double dh = TwoSum(2.0, f, out double dl);
        double sh = Divide(f, 0, dh, dl, out double sl);
        double zh = Multiply(sh, sl, sh, sl, out double zl);               // s²
        double ah = Divide(zh, zl, 3.0, 0, out double al);                 // s²/3
        double z2h = Multiply(zh, zl, zh, zl, out double z2l);
        double bh = Divide(z2h, z2l, 5.0, 0, out double bl);               // s⁴/5
        double t = 1.0 / 23;                                              // s⁶/7 + s⁸/9 + … + s²²/23, in doubles
        t = 1.0 / 21 + zh * t;
        t = 1.0 / 19 + zh * t;
        t = 1.0 / 17 + zh * t;
        t = 1.0 / 15 + zh * t;
        t = 1.0 / 13 + zh * t;
        t = 1.0 / 11 + zh * t;
        t = 1.0 / 9 + zh * t;
        t = 1.0 / 7 + zh * t;
        t *= z2h * zh;
        double wh = Add(ah, al, bh, bl, out double wl);
        wh = Add(wh, wl, t, 0, out wl);
        wh = Add(1.0, 0, wh, wl, out wl);                                 // 1 + s²/3 + s⁴/5 + …
        double lh = Multiply(2 * sh, 2 * sl, wh, wl, out double ll);      // ln(1 + f) = 2s·(1 + s²/3 + …)
        double kd = k;
        return Add(kd * Ln2Hi, kd * Ln2Lo, lh, ll, out lo);
    }

    // ---------------------------------------------------------------- pow

    /// <summary>
    /// xʸ, with C99's special cases (as <c>Math.Pow</c>): pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN; a negative x
    /// needs an integer y (else NaN); ±0 and ±∞ as Annex F says. Computed as e^(y·ln x) with ln x to about 2⁻⁷⁰ and the
    /// product y·ln x as a pair, so the result is within about 0.5 ulp even where |y·ln x| is near 745.
    /// </summary>
    public static double Pow(double x, double y)
    {
        if (y == 0 || x == 1) return 1.0;
        if (double.IsNaN(x) || double.IsNaN(y)) return double.NaN;
        if (double.IsInfinity(y))
        {
            double ax = Math.Abs(x);
            if (ax == 1) return 1.0;
            return (ax > 1) == (y > 0) ? double.PositiveInfinity : 0.0;
        }
        bool yInteger = Math.Floor(y) == y;
        bool yOdd = yInteger && Math.Abs(y) < 9007199254740992.0 && ((long)y & 1) != 0;
        if (x == 0)
        {
            if (y < 0) return yOdd ? 1.0 / x : double.PositiveInfinity;  // 1/±0 = ±∞
            return yOdd ? x : 0.0;
        }
        if (double.IsInfinity(x))
        {
            if (x > 0) return y > 0 ? x : 0.0;
            if (y > 0) return yOdd ? x : double.PositiveInfinity;
            return yOdd ? -0.0 : 0.0;
        }
        double sign = 1.0;
        if (x < 0)
        {
            if (!yInteger) return double.NaN;
            if (yOdd) sign = -1.0;
            x = -x;
        }
        if (x == 1) return sign;                      // (−1)^(even or odd integer), y possibly huge
        double lh = LogHighPair(x, out double ll);
        double z = y * lh;
        if (z > 710) return sign * double.PositiveInfinity;
        if (z < -746) return sign * 0.0;
        double zh = TwoProduct(y, lh, out double zl);
        zh = FastTwoSum(zh, zl + y * ll, out zl);
        int k = ExpReduce(zh, zl, out double ph, out double pl);
        return sign * ScaleByPowerOfTwo(ph + pl, k);
    }

    // ---------------------------------------------------------------- tanh

    /// <summary>tanh x = expm1(2|x|)/(expm1(2|x|) + 2) with the sign of x, the quotient of pairs rounded once.</summary>
    public static double Tanh(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        if (a < 7.450580596923828e-09) return x; // |x| < 2⁻²⁷: x³/3 is below half an ulp (keeps −0)
        double t;
        if (a > 22) t = 1.0;                      // 1 − tanh(22) ≈ 1.6e-19 < 2⁻⁵⁴
        else
        {
            double eh = ExpM1Pair(2 * a, out double el);
            double dh = TwoSum(eh, 2.0, out double dl);
            dh = FastTwoSum(dh, dl + el, out dl);
            t = Divide(eh, el, dh, dl, out _);
        }
        return x < 0 ? -t : t;
    }

    // ---------------------------------------------------------------- erf

    /// <summary>
    /// erf x = 2/√π ∫₀ˣ e^(−t²) dt. For |x| &lt; 3 the series erf x = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1)/(1·3·…·(2n+1)),
    /// whose terms are all positive, summed in pairs with e^(−x²) from the pair x²; for 3 ≤ |x| &lt; 6,
    /// 1 − erfc x with erfc from its continued fraction (erfc ≤ 2.2e-5 there, so its few ulps vanish in the sum);
    /// ±1 beyond.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        if (a < 3.725290298461914e-09)            // |x| < 2⁻²⁸: erf x = 2x/√π · (1 − x²/3 …), x²/3 below 2⁻⁵⁷
        {
            if (a < 1e-290) return x * TwoOverSqrtPiHi;
            double p = TwoProduct(x, TwoOverSqrtPiHi, out double e);
            return p + (e + x * TwoOverSqrtPiLo);
        }
        double r = a >= 6 ? 1.0 : a < 3 ? ErfSeries(a) : 1.0 - ErfcContinuedFraction(a);
        return x < 0 ? -r : r;
    }

    private static double ErfSeries(double a)
    {
        double x2h = TwoProduct(a, a, out double x2l);
        double gh = 2 * x2h, gl = 2 * x2l;         // 2x², exact as a pair
        double th = a, tl = 0, sh = a, sl = 0;
        for (int n = 1; n < 400; n++)
        {
            th = Multiply(th, tl, gh, gl, out tl);
            th = Divide(th, tl, 2 * n + 1, 0, out tl);
            sh = Add(sh, sl, th, tl, out sl);
            if (th < sh * 1e-20) break;
        }
        int k = ExpReduce(-x2h, -x2l, out double ph, out double pl);
        double eh = Multiply(ph, pl, sh, sl, out double el);
        eh = Multiply(eh, el, TwoOverSqrtPiHi, TwoOverSqrtPiLo, out el);
        return ScaleByPowerOfTwo(eh + el, k);
    }

    /// <summary>erfc x for x ≥ 3 to about 1e-15 relative: e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), modified Lentz.</summary>
    internal static double ErfcContinuedFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int n = 1; n < 500; n++)
        {
            double an = n * 0.5;
            d = x + an * d; if (Math.Abs(d) < tiny) d = tiny;
            c = x + an / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-17) break;
        }
        return Exp(-x * x) * InvSqrtPi / f;
    }

    // ---------------------------------------------------------------- sin(πx), cos(πx)

    /// <summary>sin(πx), with the exact reduction x = n/2 + r (|r| ≤ ¼) that sin(x) cannot have: sinPi(n) = ±0 with the sign of n.</summary>
    public static double SinPi(double x) => SinCosPi(x, cosine: false);

    /// <summary>cos(πx), exactly reduced like <see cref="SinPi(double)"/>: cosPi(n + ½) = +0, cosPi(n) = ±1.</summary>
    public static double CosPi(double x) => SinCosPi(x, cosine: true);

    private static double SinCosPi(double x, bool cosine)
    {
        if (!double.IsFinite(x)) return double.NaN;
        double ax = Math.Abs(x);
        if (ax >= 4503599627370496.0)             // |x| ≥ 2⁵²: an integer
        {
            if (!cosine) return double.IsNegative(x) ? -0.0 : 0.0;
            return ax >= 9007199254740992.0 || ((long)ax & 1) == 0 ? 1.0 : -1.0;
        }
        double n = Math.Round(2 * x);
        double r = x - 0.5 * n;                   // exact, |r| ≤ ¼
        int q = (int)((long)n & 3);
        double zh = TwoProduct(PiHi, r, out double zl);
        zl += PiLo * r;                           // π·r as a pair
        bool useCos = cosine ? (q & 1) == 0 : (q & 1) == 1;
        double v = useCos ? CosKernel(zh, zl) : SinKernel(zh, zl);
        bool negate = cosine ? q == 1 || q == 2 : q >= 2;
        if (negate) v = -v;
        if (v == 0) return cosine ? 0.0 : double.IsNegative(x) ? -0.0 : 0.0;
        return v;
    }

    /// <summary>
    /// sin z for |z| ≤ π/4, z = zh + zl: z − z³/3! + z⁵·(1/5! − z²/7! + … − z¹⁴/19!) + zl·cos z, with z³/6 as a pair so
    /// the rounding errors that remain scale with z⁵/120.
    /// </summary>
    private static double SinKernel(double zh, double zl)
    {
        double z2h = TwoProduct(zh, zh, out double z2l);
        double z3h = TwoProduct(zh, z2h, out double z3l);
        z3l += zh * z2l;
        double sixth = Divide(z3h, z3l, 6.0, 0, out double sixthLo);   // z³/6
        double p = -1.0 / 121645100408832000;
        p = 1.0 / 355687428096000 + z2h * p;
        p = -1.0 / 1307674368000 + z2h * p;
        p = 1.0 / 6227020800 + z2h * p;
        p = -1.0 / 39916800 + z2h * p;
        p = 1.0 / 362880 + z2h * p;
        p = -1.0 / 5040 + z2h * p;
        p = 1.0 / 120 + z2h * p;
        double h = FastTwoSum(zh, -sixth, out double l);
        return h + (l - sixthLo + z3h * z2h * p + zl * (1 - 0.5 * z2h));
    }

    /// <summary>cos z for |z| ≤ π/4: (1 − z²/2) as an exact pair, plus z⁴·(1/4! − z²/6! + … − z¹⁴/18!) − zl·z.</summary>
    private static double CosKernel(double zh, double zl)
    {
        double z2h = TwoProduct(zh, zh, out double z2l);
        z2l += 2 * zh * zl;
        double c = -1.0 / 6402373705728000;
        c = 1.0 / 20922789888000 + z2h * c;
        c = -1.0 / 87178291200 + z2h * c;
        c = 1.0 / 479001600 + z2h * c;
        c = -1.0 / 3628800 + z2h * c;
        c = 1.0 / 40320 + z2h * c;
        c = -1.0 / 720 + z2h * c;
        c = 1.0 / 24 + z2h * c;
        double hh = TwoSum(1.0, -0.5 * z2h, out double he);
        return hh + (he - 0.5 * z2l + z2h * z2h * c);
    }

    // ---------------------------------------------------------------- generic forms (float and double)

    /// <summary>eˣ for float or double: <see cref="Exp(double)"/> or <see cref="ElementaryF.Exp(float)"/>.</summary>
    public static T Exp<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(Exp(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.Exp(AsF(x))) : Unsupported<T>();

    /// <summary>eˣ − 1 for float or double.</summary>
    public static T ExpM1<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(ExpM1(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.ExpM1(AsF(x))) : Unsupported<T>();

    /// <summary>ln x for float or double.</summary>
    public static T Log<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(Log(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.Log(AsF(x))) : Unsupported<T>();

    /// <summary>ln(1 + x) for float or double.</summary>
    public static T Log1P<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(Log1P(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.Log1P(AsF(x))) : Unsupported<T>();

    /// <summary>tanh x for float or double.</summary>
    public static T Tanh<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(Tanh(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.Tanh(AsF(x))) : Unsupported<T>();

    /// <summary>erf x for float or double.</summary>
    public static T Erf<T>(T x) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? D<T>(Erf(AsD(x))) : typeof(T) == typeof(float) ? F<T>(ElementaryF.Erf(AsF(x))) : Unsupported<T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static double AsD<T>(T x) => Unsafe.As<T, double>(ref x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static float AsF<T>(T x) => Unsafe.As<T, float>(ref x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static T D<T>(double v) => Unsafe.As<double, T>(ref v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static T F<T>(float v) => Unsafe.As<float, T>(ref v);
    private static T Unsupported<T>() =>
        throw new NotSupportedException($"NeuralPure's elementary functions are defined for float and double, not {typeof(T).Name}.");
}

/// <summary>
/// The float forms of <see cref="Elementary"/>: each evaluates the double function on the exactly widened argument and
/// rounds once to float, so it is within 0.5 ulp of float plus 2⁻²⁹ and, like the double one, the same on every
/// platform. Erf uses a faster double series accurate to about 1e-15, which is ample before rounding to float.
/// </summary>
public static class ElementaryF
{
    /// <summary>eˣ.</summary>
    public static float Exp(float x) => (float)Elementary.Exp((double)x);
    /// <summary>eˣ − 1.</summary>
    public static float ExpM1(float x) => (float)Elementary.ExpM1((double)x);
    /// <summary>ln x.</summary>
    public static float Log(float x) => (float)Elementary.Log((double)x);
    /// <summary>ln(1 + x).</summary>
    public static float Log1P(float x) => (float)Elementary.Log1P((double)x);
    /// <summary>tanh x.</summary>
    public static float Tanh(float x) => (float)Elementary.Tanh((double)x);
    /// <summary>erf x.</summary>
    public static float Erf(float x) => (float)Kernels.SpecialFunctions.Erf((double)x);
    /// <summary>xʸ.</summary>
    public static float Pow(float x, float y) => (float)Elementary.Pow((double)x, (double)y);
    /// <summary>sin(πx).</summary>
    public static float SinPi(float x) => (float)Elementary.SinPi((double)x);
    /// <summary>cos(πx).</summary>
    public static float CosPi(float x) => (float)Elementary.CosPi((double)x);
}
