using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The overlap rule and the length checks every kernel relies on.</summary>
public sealed class GuardTests
{
    private static readonly Gen<(int S1, int L1, int S2, int L2)> Ranges =
        from s1 in Gen.Choose(0, 40) from l1 in Gen.Choose(0, 24)
        from s2 in Gen.Choose(0, 40) from l2 in Gen.Choose(0, 24)
        select (s1, l1, s2, l2);

    private static bool Intersect(int s1, int l1, int s2, int l2) => Math.Max(s1, s2) < Math.Min(s1 + l1, s2 + l2);

    /// <summary>NoPartialOverlap throws exactly when the ranges share an element and are not the same range; the exception
    /// names "destination".</summary>
    [Law(300)]
    public Property NoPartialOverlap_throws_iff_the_ranges_overlap_other_than_exactly() =>
        Prop.ForAll(Ranges.ToArbitrary(), r =>
        {
            var buf = new float[64];
            bool expected = Intersect(r.S1, r.L1, r.S2, r.L2) && !(r.S1 == r.S2 && r.L1 == r.L2);
            try
            {
                Guard.NoPartialOverlap<float>(buf.AsSpan(r.S1, r.L1), buf.AsSpan(r.S2, r.L2), "x");
                return (!expected).Label($"{r}: should have thrown");
            }
            catch (ArgumentException e)
            {
                return expected.Label($"{r}: threw although allowed").And((e.ParamName == "destination").Label(e.ParamName ?? "null"));
            }
        });

    /// <summary>NoOverlap (matrix products) throws exactly when the ranges share an element, including the identical range.</summary>
    [Law(300)]
    public Property NoOverlap_throws_iff_the_ranges_share_an_element() =>
        Prop.ForAll(Ranges.ToArbitrary(), r =>
        {
            var buf = new double[64];
            bool expected = Intersect(r.S1, r.L1, r.S2, r.L2);
            bool threw = false;
            try { Guard.NoOverlap<double>(buf.AsSpan(r.S1, r.L1), buf.AsSpan(r.S2, r.L2), "a"); }
            catch (ArgumentException) { threw = true; }
            return (threw == expected).Label($"{r}: threw {threw}, expected {expected}");
        });

    [Fact]
    public void Separate_arrays_never_overlap()
    {
        var a = new double[8]; var b = new double[8];
        Guard.NoOverlap<double>(a, b, "a");
        Guard.NoPartialOverlap<double>(a, b, "a");
        Guard.NoPartialOverlap<double>(a, a, "a"); // exactly an input: the in-place call
        Assert.Throws<ArgumentException>(() => Guard.NoOverlap<double>(a, a, "a"));
    }

    [Fact]
    public void Length_checks_name_the_argument()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Guard.SameLength<double>(new double[3], new double[4], "x", "y")).ParamName);
        Guard.SameLength<double>(new double[3], new double[3], "x", "y");
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => Guard.Length<double>((ReadOnlySpan<double>)new double[3], 4, "w")).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Guard.Length<double>(new double[3].AsSpan(), 2, "c")).ParamName);
        Guard.Length<double>(new double[3].AsSpan(), 3, "c");
        Guard.Dims(0, 0, 0);
        Assert.Throws<ArgumentException>(() => Guard.Dims(1, -1, 1));
        Assert.Contains("k=-1", Assert.Throws<ArgumentException>(() => Guard.Dims(1, -1, 1)).Message);
    }
}
