using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Random;

/// <summary>Threefry-2x32 against Random123's known answers; splitting and folding; the samplers' ranges, moments and determinism.</summary>
public sealed class RandomKeyTests
{
    private static readonly Gen<RandomKey> Keys =
        Gen.Zip(Gen.Choose(int.MinValue, int.MaxValue), Gen.Choose(int.MinValue, int.MaxValue)).Select(p => new RandomKey((uint)p.Item1, (uint)p.Item2));

    private static readonly Gen<uint> Words = Gen.Choose(int.MinValue, int.MaxValue).Select(i => (uint)i);

    // ───────────────────────── the block function ─────────────────────────

    /// <summary>Random123's kat_vectors for threefry2x32 with 20 rounds (counter, key → output). Block takes (key, c0, c1).</summary>
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6b200159u, 0x99ba4efeu)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x1cb996fcu, 0xbb002be7u)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xc4923a9cu, 0x483df7a0u)]
    public void Threefry_2x32_20_matches_the_Random123_known_answers(uint c0, uint c1, uint k0, uint k1, uint x0, uint x1)
    {
        var (a, b) = Threefry.Block(new RandomKey(k0, k1), c0, c1);
        Assert.Equal((x0, x1), (a, b));
    }

    [Fact]
    public void FromSeed_splits_a_64_bit_seed_into_low_and_high_words()
    {
        Assert.Equal(new RandomKey(0x89abcdefu, 0x01234567u), RandomKey.FromSeed(0x0123456789abcdefUL));
        Assert.Equal(new RandomKey(42, 0), RandomKey.FromSeed(42));
    }

    // ───────────────────────── Split and FoldIn ─────────────────────────

    /// <summary>Split(n) gives n distinct keys, none equal to the parent; Split() is Split(2); Split(m) is a prefix of Split(n) for
    /// m ≤ n (key i depends on i only). Distinctness is guaranteed, not just likely: Threefry is a bijection of the counter.</summary>
    [Law(100)]
    public Property Split_gives_distinct_keys_different_from_the_parent() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(0, 300).ToArbitrary(), (key, n) =>
        {
            var keys = key.Split(n);
            var (a, b) = key.Split();
            var two = key.Split(2);
            return (keys.Length == n).Label("count")
                .And((keys.Distinct().Count() == n).Label("repeats"))
                .And((!keys.Contains(key)).Label("contains the parent"))
                .And((a == two[0] && b == two[1] && a != b && a != key && b != key).Label("Split()"))
                .And(key.Split(Math.Min(n, 5)).SequenceEqual(keys.Take(Math.Min(n, 5))).Label("not prefix-consistent"));
        });

    [Law(200)]
    public Property FoldIn_is_deterministic_distinct_for_distinct_data_and_apart_from_Split() =>
        Prop.ForAll(Keys.ToArbitrary(), Words.ToArbitrary(), Words.ToArbitrary(), (key, d1, d2) =>
        {
            var f1 = key.FoldIn(d1);
            var prop = (f1 == new RandomKey(key.Word0, key.Word1).FoldIn(d1)).Label("not deterministic")
                .And((f1 != key).Label("equals the parent"))
                .And((d1 == d2) == (f1 == key.FoldIn(d2))).Label($"FoldIn({d1}) vs FoldIn({d2})");
            // Domains: FoldIn uses counters (d, 0x80000002), Split (i, 0x80000001): a fold never equals a split key.
            var splits = key.Split(64);
            return prop.And((!splits.Contains(f1) && !splits.Contains(key.FoldIn(d1 % 64))).Label("a fold equals a split key"));
        });

    [Fact]
    public void Negative_counts_throw()
    {
        var key = new RandomKey(1, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => key.Split(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => key.Bits(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampling.Permutation(key, -1));
        Assert.Empty(key.Split(0));
        Assert.Empty(key.Bits(0));
        Assert.Empty(Sampling.Permutation(key, 0));
    }

    // ───────────────────────── Bits ─────────────────────────

    [Law(100)]
    public Property Bits_are_a_function_of_the_key_and_prefix_consistent() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(0, 200).ToArbitrary(), (key, n) =>
        {
            var a = key.Bits(n);
            var b = new RandomKey(key.Word0, key.Word1).Bits(n + 3);
            var (x0, x1) = Threefry.Block(key, 0, 0);
            var prop = a.SequenceEqual(b.Take(n)).Label("not prefix-consistent / not deterministic")
                .And((b[0] == x0 && b[1] == x1).Label("block 0 is not counter (0, 0)"));
            if (n >= 4) prop = prop.And((!a.SequenceEqual(key.FoldIn(0).Bits(n))).Label("another key gave the same bits"));
            return prop;
        });

    // ───────────────────────── Uniform ─────────────────────────

    /// <summary>In double every element lies in [lo, hi), including ranges only a few ulps wide where lo + (hi − lo)·u rounds to hi.</summary>
    [Law(200)]
    public Property Uniform_double_lies_in_its_half_open_range() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(-1000, 1000).Select(i => i / 7.0).ToArbitrary(), Gen.Choose(1, 40).ToArbitrary(), (key, lo, widthCode) =>
        {
            // Widths from 1 ulp to 10¹⁶ ulps.
            double hi = widthCode <= 8 ? Enumerable.Range(0, widthCode).Aggregate(lo, (x, _) => Math.BitIncrement(x)) : lo + Math.Pow(10, widthCode - 25);
            if (!(hi > lo)) return true.ToProperty();
            var u = Sampling.Uniform<double>(key, lo, hi, 257).Span.ToArray();
            return u.All(v => v >= lo && v < hi).Label($"[{lo:R}, {hi:R}): {string.Join(", ", u.Where(v => !(v >= lo && v < hi)).Take(3).Select(v => v.ToString("R")))}");
        });

    /// <summary>In float, for bounds that are floats, every element lies in [lo, hi), including at the rounding edge where the double
    /// sample rounds up to hi; and each float element is the double element of the same key rounded (then clamped below hi).</summary>
    [Law(200)]
    public Property Uniform_float_lies_in_its_range_and_is_the_double_sample_rounded() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(-100_000, 100_000).Select(i => (float)(i / 13.0)).ToArbitrary(), Gen.Choose(1, 40).ToArbitrary(), (key, lo, widthCode) =>
        {
            float hi = widthCode <= 8 ? Enumerable.Range(0, widthCode).Aggregate(lo, (x, _) => MathF.BitIncrement(x)) : lo + MathF.Pow(10, widthCode - 30);
            if (!(hi > lo)) return true.ToProperty();
            var f = Sampling.Uniform<float>(key, lo, hi, 129).Span.ToArray();
            var d = Sampling.Uniform<double>(key, lo, hi, 129).Span.ToArray();
            float Clamp(float x) => x >= hi ? MathF.BitDecrement(hi) : x;
            return f.All(v => v >= lo && v < hi).Label($"outside [{lo:R}, {hi:R})")
                .And(f.Select((v, i) => v == Clamp((float)d[i])).All(ok => ok).Label("float ≠ rounded double"));
        });

    [Fact]
    public void Uniform_at_the_float_rounding_edge_stays_below_hi()
    {
        // [1, 1 + 2⁻²³): the next float after 1 is hi itself; about half the double samples round up to hi and must be clamped.
        var f = Sampling.Uniform<float>(new RandomKey(3, 4), 1.0, 1.0 + Math.Pow(2, -23), 1000).Span.ToArray();
        Assert.All(f, v => Assert.Equal(1.0f, v));
        // Same in double: [1, 1 + 2⁻⁵²).
        var d = Sampling.Uniform<double>(new RandomKey(3, 4), 1.0, Math.BitIncrement(1.0), 1000).Span.ToArray();
        Assert.All(d, v => Assert.Equal(1.0, v));
        // A wide float range: [−1e30, 1e30).
        var w = Sampling.Uniform<float>(new RandomKey(5, 6), -1e30, 1e30, 1000).Span.ToArray();
        Assert.All(w, v => Assert.True(v >= -1e30f && v < 1e30f));
    }

    /// <summary>A range narrower than a float ulp at its bounds: [1, 1 + 1e-10) holds exactly one float, 1. Every double sample
    /// rounds to 1f = fl(hi), and the clamp then returns BitDecrement(fl(hi)) = 0.99999994f, below lo.</summary>
    [Fact]
    public void Uniform_float_never_goes_below_lo_when_hi_rounds_onto_lo()
    {
        var f = Sampling.Uniform<float>(new RandomKey(7, 8), 1.0, 1.0 + 1e-10, 100).Span.ToArray();
        Assert.All(f, v => Assert.True(v >= 1.0f && v < 1.0 + 1e-10, $"{v:R} is outside [1, 1 + 1e-10)"));
    }

    [Fact]
    public void Uniform_and_Normal_reject_bad_arguments()
    {
        var k = new RandomKey(1, 1);
        foreach (var (lo, hi) in new[] { (1.0, 1.0), (2.0, 1.0), (double.NaN, 1.0), (0.0, double.PositiveInfinity), (double.NegativeInfinity, 0.0) })
            Assert.Equal("low", Assert.Throws<ArgumentException>(() => Sampling.Uniform<double>(k, lo, hi, 3)).ParamName);
        foreach (var (mean, std) in new[] { (0.0, -1.0), (double.NaN, 1.0), (0.0, double.PositiveInfinity) })
            Assert.Equal("std", Assert.Throws<ArgumentException>(() => Sampling.Normal<double>(k, mean, std, 3)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => Sampling.Uniform<float>(k, 0, 1, 2, -1)).ParamName);
        Assert.All(Sampling.Normal<double>(k, 3.5, 0, 10).Span.ToArray(), v => Assert.Equal(3.5, v));
        Assert.Equal([2, 3], Sampling.Normal<float>(k, 0, 1, 2, 3).Shape.ToArray());
    }

    // ───────────────────────── moments ─────────────────────────

    /// <summary>100,000 samples from fixed keys (so the outcome is fixed, not flaky). Bounds are 6 standard errors: mean 1/2 ± 0.0055,
    /// variance 1/12 ± 0.0015; a 20-bin histogram's χ² (19 degrees of freedom) below 50 (p ≈ 1e-4).</summary>
    [Theory]
    [InlineData(1u, 2u)]
    [InlineData(0xdeadbeefu, 0u)]
    [InlineData(0u, 0u)]
    public void Uniforms_have_the_right_mean_variance_and_histogram(uint w0, uint w1)
    {
        const int n = 100_000;
        var u = Sampling.Uniform<double>(new RandomKey(w0, w1), 0, 1, n).Span.ToArray();
        double mean = u.Average(), variance = u.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        Assert.InRange(mean, 0.5 - 6 * Math.Sqrt(1.0 / 12 / n), 0.5 + 6 * Math.Sqrt(1.0 / 12 / n));
        Assert.InRange(variance, 1.0 / 12 - 6 * Math.Sqrt(1.0 / 180 / n), 1.0 / 12 + 6 * Math.Sqrt(1.0 / 180 / n));
        var bins = new int[20];
        foreach (var v in u) bins[(int)(v * 20)]++;
        double chi2 = bins.Sum(b => (b - n / 20.0) * (b - n / 20.0) / (n / 20.0));
        Assert.True(chi2 < 50, $"χ² = {chi2}");
        Assert.True(u.Min() >= 0 && u.Max() < 1);
    }

    /// <summary>100,000 normals: mean 0 ± 0.019, variance 1 ± 0.027 (6 standard errors), 68.27% within one σ ± 0.9%, 95.45% within
    /// two σ ± 0.4%, and the third and fourth moments near 0 and 3.</summary>
    [Theory]
    [InlineData(1u, 2u)]
    [InlineData(0x12345678u, 0x9abcdef0u)]
    public void Normals_have_the_right_moments(uint w0, uint w1)
    {
        const int n = 100_000;
        var z = Sampling.Normal<double>(new RandomKey(w0, w1), 0, 1, n).Span.ToArray();
        double mean = z.Average(), variance = z.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        Assert.InRange(mean, -6 / Math.Sqrt(n), 6 / Math.Sqrt(n));
        Assert.InRange(variance, 1 - 6 * Math.Sqrt(2.0 / n), 1 + 6 * Math.Sqrt(2.0 / n));
        Assert.InRange(z.Count(v => Math.Abs(v) < 1) / (double)n, 0.6827 - 0.009, 0.6827 + 0.009);
        Assert.InRange(z.Count(v => Math.Abs(v) < 2) / (double)n, 0.9545 - 0.004, 0.9545 + 0.004);
        Assert.InRange(z.Select(v => v * v * v).Average(), -6 * Math.Sqrt(15.0 / n), 6 * Math.Sqrt(15.0 / n));
        Assert.InRange(z.Select(v => v * v * v * v).Average(), 3 - 6 * Math.Sqrt(96.0 / n), 3 + 6 * Math.Sqrt(96.0 / n));
        Assert.All(z, v => Assert.True(double.IsFinite(v)));
    }

    /// <summary>Normal(mean, std) is mean + std·Normal(0, 1) from the same key; with std a power of two the scaling is exact, so bitwise.</summary>
    [Law(50)]
    public Property Normal_is_a_shifted_and_scaled_standard_normal() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(-20, 20).Select(i => i / 4.0).ToArbitrary(), Gen.Choose(-3, 3).Select(e => Math.Pow(2, e)).ToArbitrary(), (key, mean, std) =>
        {
            var z = Sampling.Normal<double>(key, 0, 1, 50).Span.ToArray();
            var x = Sampling.Normal<double>(key, mean, std, 50).Span.ToArray();
            return x.Select((v, i) => v == mean + std * z[i]).All(ok => ok).ToProperty();
        });

    // ───────────────────────── Permutation ─────────────────────────

    [Law(100)]
    public Property Permutation_is_a_permutation_and_a_function_of_the_key() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Choose(0, 2000).ToArbitrary(), (key, n) =>
        {
            var p = Sampling.Permutation(key, n);
            return (p.Length == n && p.OrderBy(i => i).SequenceEqual(Enumerable.Range(0, n))).Label("not a permutation")
                .And(p.SequenceEqual(Sampling.Permutation(new RandomKey(key.Word0, key.Word1), n)).Label("not deterministic"))
                .And((n < 10 || !p.SequenceEqual(Sampling.Permutation(key.FoldIn(1), n))).Label("another key, the same order"));
        });

    /// <summary>Over 6,000 keys each of the 6 orders of 3 items appears 1,000 ± 150 times (χ² with 5 degrees of freedom &lt; 25),
    /// and every item lands in every position about a third of the time for n = 10.</summary>
    [Fact]
    public void Permutations_are_uniform()
    {
        var counts = new Dictionary<string, int>();
        var root = new RandomKey(11, 12);
        for (uint i = 0; i < 6000; i++)
        {
            var s = string.Join("", Sampling.Permutation(root.FoldIn(i), 3));
            counts[s] = counts.GetValueOrDefault(s) + 1;
        }
        Assert.Equal(6, counts.Count);
        double chi2 = counts.Values.Sum(c => (c - 1000.0) * (c - 1000.0) / 1000.0);
        Assert.True(chi2 < 25, $"χ² = {chi2}: {string.Join(", ", counts)}");
        var position = new int[10, 10];
        for (uint i = 0; i < 5000; i++)
        {
            var p = Sampling.Permutation(root.FoldIn(100_000 + i), 10);
            for (int j = 0; j < 10; j++) position[p[j], j]++;
        }
        for (int item = 0; item < 10; item++)
            for (int j = 0; j < 10; j++)
                Assert.InRange(position[item, j], 500 - 6 * 21, 500 + 6 * 21);
    }

    [Fact]
    public void The_same_key_gives_the_same_bits_everywhere()
    {
        var k = RandomKey.FromSeed(2024);
        Assert.Equal(Sampling.Uniform<float>(k, -1, 1, 7, 3), Sampling.Uniform<float>(RandomKey.FromSeed(2024), -1, 1, 7, 3));
        Assert.Equal(Sampling.Normal<double>(k, 0, 1, 100), Sampling.Normal<double>(RandomKey.FromSeed(2024), 0, 1, 100));
        Assert.NotEqual(Sampling.Normal<double>(k, 0, 1, 100), Sampling.Normal<double>(RandomKey.FromSeed(2025), 0, 1, 100));
        // Element i depends on i only, not on the shape or count requested.
        Assert.Equal(Sampling.Uniform<double>(k, 0, 1, 10).Span.ToArray(), Sampling.Uniform<double>(k, 0, 1, 20).Span[..10].ToArray());
        Assert.Equal(Sampling.Uniform<double>(k, 0, 1, 6).Span.ToArray(), Sampling.Uniform<double>(k, 0, 1, 2, 3).Span.ToArray());
    }

    /// <summary>Split keys are independent in the sense tests can see: uniforms from sibling keys are uncorrelated (|r| &lt; 6/√n).</summary>
    [Fact]
    public void Sibling_keys_give_uncorrelated_streams()
    {
        const int n = 20_000;
        var (a, b) = RandomKey.FromSeed(99).Split();
        var x = Sampling.Uniform<double>(a, 0, 1, n).Span.ToArray();
        var y = Sampling.Uniform<double>(b, 0, 1, n).Span.ToArray();
        double mx = x.Average(), my = y.Average();
        double cov = x.Zip(y, (p, q) => (p - mx) * (q - my)).Sum();
        double r = cov / Math.Sqrt(x.Sum(p => (p - mx) * (p - mx)) * y.Sum(q => (q - my) * (q - my)));
        Assert.InRange(r, -6 / Math.Sqrt(n), 6 / Math.Sqrt(n));
    }

    /// <summary>The batched keep mask (blocks eight or four at a time through UnitDoubles) is the definition
    /// UnitDouble(key, i) &lt; keep at every element: random keys and rates, every length's tail, the edges near 0 and 1.</summary>
    [Fact]
    public void The_keep_mask_is_its_definition() =>
        Prop.ForAll(Keys.ToArbitrary(), Gen.Elements(0.0, 1e-300, 2e-16, 0.1, 0.5, 0.75, 0.9, 1 - 1e-16, 1 - 2e-16, 0.3333333333333333, 1.0).ToArbitrary(), Gen.Choose(0, 70).ToArbitrary(),
            (key, keep, n) =>
            {
                var mask = new bool[n];
                Sampling.KeepMask(key, keep, mask);
                for (int i = 0; i < n; i++) Assert.Equal(Threefry.UnitDouble(key, (uint)i) < keep, mask[i]);
            }).QuickCheckThrowOnFailure();

    /// <summary>A mask long enough to be cut among threads (dropout after a conv stack: 64 × 3136 elements) is the definition
    /// on 1, 2 and 3 threads, at an odd length.</summary>
    [Fact]
    public void A_long_keep_mask_is_its_definition_on_any_thread_count()
    {
        var key = new RandomKey(123, 456);
        const int n = 64 * 3136 + 13;
        var expected = new bool[n];
        for (int i = 0; i < n; i++) expected[i] = Threefry.UnitDouble(key, (uint)i) < 0.7;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var mask = new bool[n];
            Sampling.KeepMask(key, 0.7, mask, threads);
            Assert.True(expected.AsSpan().SequenceEqual(mask), $"{threads} threads");
        }
    }

    /// <summary>Keep rates exactly at a block's uniform and one ulp either side: the comparison is strict, as the definition's
    /// (blocks 0–71 of a 77-element mask: the 32-block and 16-block vector loops, the 8-block one and the scalar tail, where
    /// the block's high word equals the threshold's and the low word decides).</summary>
    [Fact]
    public void The_keep_mask_is_strict_at_the_threshold()
    {
        var key = new RandomKey(7, 11);
        for (uint i = 0; i < 77; i++)
        {
            double u = Threefry.UnitDouble(key, i);
            foreach (double keep in new[] { u, Math.BitIncrement(u), Math.BitDecrement(u) })
            {
                if (!(keep > 0 && keep < 1)) continue;
                var mask = new bool[77];
                Sampling.KeepMask(key, keep, mask);
                for (int j = 0; j < 77; j++) Assert.Equal(Threefry.UnitDouble(key, (uint)j) < keep, mask[j]);
            }
        }
    }

    /// <summary>The batched uniforms (blocks eight or four at a time) are UnitDouble's, block by block, for any start, stream and length.</summary>
    [Fact]
    public void Batched_unit_doubles_are_unit_double_block_by_block() =>
        Prop.ForAll(Keys.ToArbitrary(), Words.ToArbitrary(), Gen.Choose(0, 3).Zip(Gen.Choose(0, 40)).ToArbitrary(), (key, start, sn) =>
        {
            var (stream, n) = sn;
            var u = new double[n];
            Threefry.UnitDoubles(key, start, (uint)stream, u);
            for (int j = 0; j < n; j++) Assert.Equal(Threefry.UnitDouble(key, start + (uint)j, (uint)stream), u[j]);
        }).QuickCheckThrowOnFailure();
}
