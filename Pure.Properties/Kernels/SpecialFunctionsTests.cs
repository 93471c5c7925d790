using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>SpecialFunctions.Erf: known values, a table computed with mpmath at 50 digits (rounded to the nearest double), odd
/// symmetry, monotonicity (also across the switch from the series to the continued fraction at |x| = 2.5), and its limits.</summary>
public sealed class SpecialFunctionsTests
{
    /// <summary>The documented accuracy target: 2e-15 relative (≈ 9 ulps).</summary>
    private const double Rel = 2e-15;

    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(-1.5, -0.9661051464753108)]
    [InlineData(5.0, 0.9999999999984626)]
    public void Erf_matches_known_values(double x, double expected) =>
        Assert.True(Math.Abs(SpecialFunctions.Erf(x) - expected) <= Rel * Math.Abs(expected), $"erf({x}) = {SpecialFunctions.Erf(x):R}, expected {expected:R}");

    private static readonly double[][] Table =
    [
        [-6.0, -1.0],
        [-5.875, -0.9999999999999999],
        [-5.75, -0.9999999999999996],
        [-5.625, -0.9999999999999982],
        [-5.5, -0.9999999999999927],
        [-5.375, -0.9999999999999707],
        [-5.25, -0.9999999999998869],
        [-5.125, -0.9999999999995766],
        [-5.0, -0.9999999999984626],
        [-4.875, -0.9999999999945866],
        [-4.75, -0.9999999999815149],
        [-4.625, -0.9999999999387839],
        [-4.5, -0.9999999998033839],
        [-4.375, -0.9999999993875167],
        [-4.25, -0.9999999981494259],
        [-4.125, -0.9999999945765992],
        [-4.0, -0.9999999845827421],
        [-3.875, -0.999999957486056],
        [-3.75, -0.9999998862727434],
        [-3.625, -0.9999997048598075],
        [-3.5, -0.9999992569016276],
        [-3.375, -0.9999981847185726],
        [-3.25, -0.9999956972205363],
        [-3.125, -0.9999901032653747],
        [-3.0, -0.9999779095030014],
        [-2.875, -0.9999521451602562],
        [-2.75, -0.9998993780778803],
        [-2.625, -0.9997946242638588],
        [-2.6, -0.9997639655834707],
        [-2.5, -0.999593047982555],
        [-2.375, -0.9992170617821089],
        [-2.25, -0.9985372834133188],
        [-2.125, -0.9973459706405177],
        [-2.0, -0.9953222650189527],
        [-1.875, -0.9919900576701199],
        [-1.75, -0.9866716712191824],
        [-1.625, -0.9784437332399837],
        [-1.5, -0.9661051464753108],
        [-1.375, -0.9481700727820903],
        [-1.25, -0.9229001282564583],
        [-1.125, -0.8883882317017078],
        [-1.0, -0.8427007929497149],
        [-0.875, -0.7840750610598597],
        [-0.75, -0.7111556336535151],
        [-0.625, -0.623240882188418],
        [-0.5, -0.5204998778130465],
        [-0.375, -0.4041169094348223],
        [-0.3, -0.3286267594591274],
        [-0.25, -0.27632639016823696],
        [-0.125, -0.1403162048013338],
        [1e-300, 1.1283791670955126e-300],
        [1e-10, 1.1283791670955126e-10],
        [0.001, 0.0011283787909692365],
        [0.125, 0.1403162048013338],
        [0.25, 0.27632639016823696],
        [0.375, 0.4041169094348223],
        [0.5, 0.5204998778130465],
        [0.625, 0.623240882188418],
        [0.7, 0.6778011938374184],
        [0.75, 0.7111556336535151],
        [0.875, 0.7840750610598597],
        [1.0, 0.8427007929497149],
        [1.125, 0.8883882317017078],
        [1.25, 0.9229001282564583],
        [1.375, 0.9481700727820903],
        [1.5, 0.9661051464753108],
        [1.625, 0.9784437332399837],
        [1.75, 0.9866716712191824],
        [1.875, 0.9919900576701199],
        [2.0, 0.9953222650189527],
        [2.125, 0.9973459706405177],
        [2.25, 0.9985372834133188],
        [2.375, 0.9992170617821089],
        [2.4999999999999996, 0.999593047982555],
        [2.5, 0.999593047982555],
        [2.5000000000000004, 0.999593047982555],
        [2.625, 0.9997946242638588],
        [2.75, 0.9998993780778803],
        [2.875, 0.9999521451602562],
        [3.0, 0.9999779095030014],
        [3.125, 0.9999901032653747],
        [3.25, 0.9999956972205363],
        [3.3, 0.9999969422902035],
        [3.375, 0.9999981847185726],
        [3.5, 0.9999992569016276],
        [3.625, 0.9999997048598075],
        [3.75, 0.9999998862727434],
        [3.875, 0.999999957486056],
        [4.0, 0.9999999845827421],
        [4.125, 0.9999999945765992],
        [4.25, 0.9999999981494259],
        [4.375, 0.9999999993875167],
        [4.4, 0.999999999510829],
        [4.5, 0.9999999998033839],
        [4.625, 0.9999999999387839],
        [4.75, 0.9999999999815149],
        [4.875, 0.9999999999945866],
        [5.0, 0.9999999999984626],
        [5.125, 0.9999999999995766],
        [5.25, 0.9999999999998869],
        [5.375, 0.9999999999999707],
        [5.5, 0.9999999999999927],
        [5.625, 0.9999999999999982],
        [5.75, 0.9999999999999996],
        [5.875, 0.9999999999999999],
        [5.999999999999999, 1.0],
        [6.0, 1.0],
    ];

    [Fact]
    public void Erf_matches_a_high_precision_table()
    {
        var bad = Table.Where(r => !(Math.Abs(SpecialFunctions.Erf(r[0]) - r[1]) <= Rel * Math.Abs(r[1])))
                       .Select(r => $"erf({r[0]:R}) = {SpecialFunctions.Erf(r[0]):R}, mpmath {r[1]:R}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Law(200)]
    public Property Erf_is_odd_bitwise() =>
        Prop.ForAll(Gen.Choose(int.MinValue, int.MaxValue).Select(i => i / 2e8).ToArbitrary(), x =>
            (BitConverter.DoubleToInt64Bits(SpecialFunctions.Erf(-x)) == BitConverter.DoubleToInt64Bits(-SpecialFunctions.Erf(x))).Label($"erf(−{x}) ≠ −erf({x})"));

    [Law(200)]
    public Property Erf_is_monotone_and_bounded() =>
        Prop.ForAll(Gen.Choose(-700_000, 700_000).Select(i => i / 100_000.0).ToArbitrary(), Gen.Choose(1, 100_000).Select(i => i / 100_000.0).ToArbitrary(), (x, dx) =>
        {
            double a = SpecialFunctions.Erf(x), b = SpecialFunctions.Erf(x + dx);
            return (a <= b).Label($"erf({x}) = {a:R} > erf({x + dx}) = {b:R}").And((Math.Abs(a) <= 1).Label("|erf| > 1"));
        });

    /// <summary>Step by one ulp at a time across |x| = 2.5 (series below, continued fraction from there) and |x| = 6 (clamped to
    /// ±1). Over one ulp of x erf changes by ~1e-18, far below its own few-ulp error, so ulp-level wiggles are allowed: it may
    /// never fall by more than the accuracy target. The switch between branches must not jump by more than that either.</summary>
    [Fact]
    public void Erf_is_monotone_to_within_its_accuracy_across_its_branch_points()
    {
        foreach (double point in new[] { 2.5, -2.5, 6.0, -6.0 })
        {
            double x = point;
            for (int i = 0; i < 2000; i++) x = Math.BitDecrement(x);
            double prev = SpecialFunctions.Erf(x);
            for (int i = 0; i < 4000; i++)
            {
                x = Math.BitIncrement(x);
                double v = SpecialFunctions.Erf(x);
                Assert.True(v >= prev - Rel * Math.Abs(prev), $"erf fell at {x:R} near {point}: {prev:R} → {v:R}");
                prev = v;
            }
            double below = SpecialFunctions.Erf(Math.BitDecrement(point)), at = SpecialFunctions.Erf(point);
            Assert.True(Math.Abs(at - below) <= Rel * Math.Abs(at), $"erf jumps at {point}: {below:R} → {at:R}");
        }
    }

    /// <summary>Strictly monotone where the true step is far above the error: a sweep of [−7, 7] by 2⁻¹⁰ (in the saturated tails
    /// the values are equal, 1 − erf being below an ulp).</summary>
    [Fact]
    public void Erf_is_monotone_over_a_sweep()
    {
        double last = -1;
        for (double x = -7; x <= 7; x += 1.0 / 1024)
        {
            double v = SpecialFunctions.Erf(x);
            Assert.True(v >= last, $"erf fell at {x}");
            last = v;
        }
    }

    [Fact]
    public void Erf_limits_and_special_values()
    {
        Assert.Equal(0.0, SpecialFunctions.Erf(0.0));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(SpecialFunctions.Erf(-0.0)));
        Assert.Equal(1.0, SpecialFunctions.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, SpecialFunctions.Erf(double.NegativeInfinity));
        Assert.Equal(1.0, SpecialFunctions.Erf(30));
        Assert.True(double.IsNaN(SpecialFunctions.Erf(double.NaN)));
        // erf(x) = 2x/√π for tiny x (next term is −2x³/(3√π)).
        foreach (var x in new[] { 1e-300, 1e-20, 1e-9 })
            Assert.True(Math.Abs(SpecialFunctions.Erf(x) - 2 / Math.Sqrt(Math.PI) * x) <= 4e-16 * 2 / Math.Sqrt(Math.PI) * x, $"erf({x})");
    }
}
