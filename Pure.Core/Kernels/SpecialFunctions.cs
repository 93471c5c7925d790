namespace NeuralPure.Kernels;

/// <summary>A fast erf in double, accurate to about 1e-15 relative: the float path's erf (GELU), where that is far below
/// half an ulp of float. <see cref="Numerics.Elementary.Erf(double)"/> is the ≤ 1 ulp double one.</summary>
internal static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126;   // 2/√π

    /// <summary>The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to a few ulps.</summary>
    /// <remarks>
    /// For |x| &lt; 2.5 the series erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose terms are all positive
    /// (no cancellation). Beyond, erf(x) = 1 − erfc(x) with erfc from its continued fraction
    /// erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), evaluated by the modified Lentz method.
    /// </remarks>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6.0) return Math.Sign(x); // erfc(6) ≈ 2e-17: below half an ulp of 1
        if (ax < 2.5) return Series(x);
        double r = 1.0 - Numerics.Elementary.ErfcContinuedFraction(ax);
        return x < 0 ? -r : r;
    }

    private static double Series(double x)
    {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (Math.Abs(term) <= Math.Abs(sum) * 1e-17) break;
        }
        return TwoOverSqrtPi * Numerics.Elementary.Exp(-x2) * sum;
    }
}
