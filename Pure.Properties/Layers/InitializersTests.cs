using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Initializers: shapes, bounds, spreads against the papers' formulas, determinism by key.</summary>
public sealed class InitializersTests
{
    /// <summary>An initializer, a key and the layer's fans.</summary>
    public sealed record InitCase(Initializer Init, ulong Seed, int FanIn, int FanOut)
    {
        public RandomKey Key => RandomKey.FromSeed(Seed);
        public override string ToString() => $"{Init.Name}, seed {Seed}, fan_in {FanIn}, fan_out {FanOut}";
    }

    private static Gen<InitCase> Cases(params Initializer[] inits) =>
        from init in Gen.Elements(inits.Length == 0 ? Initializer.All.ToArray() : inits)
        from seed in Generators.Seed
        from fanIn in Gen.Choose(1, 64)
        from fanOut in Gen.Choose(1, 64)
        select new InitCase(init, seed, fanIn, fanOut);

    /// <summary>The documented uniform bound of the weight (PyTorch's for the bias too), or null for the normal initializers.</summary>
    private static double? UniformBound(Initializer init, int fanIn, int fanOut) =>
        init == Initializer.PyTorchLinear ? 1 / Math.Sqrt(fanIn)
        : init == Initializer.HeUniform ? Math.Sqrt(6.0 / fanIn)
        : init == Initializer.XavierUniform ? Math.Sqrt(6.0 / (fanIn + fanOut))
        : init == Initializer.Zeros ? 0
        : null;

    [Law(100)]
    public Property W_is_fan_out_by_fan_in_and_b_is_fan_out() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var (w, b) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            return (w.Shape.SequenceEqual([c.FanOut, c.FanIn]) && b.Shape.SequenceEqual([c.FanOut])).Label($"W {w.ShapeText}, b {b.ShapeText}");
        });

    [Law(100)]
    public Property Uniform_draws_stay_within_their_bound() =>
        Prop.ForAll(Cases(Initializer.PyTorchLinear, Initializer.HeUniform, Initializer.XavierUniform).ToArbitrary(), c =>
        {
            var (w, b) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            double bound = UniformBound(c.Init, c.FanIn, c.FanOut)!.Value;
            var outside = w.ToArray().Concat(b.ToArray()).Where(v => !(v >= -bound && v < bound)).ToArray();
            return (outside.Length == 0).Label($"{outside.Length} values outside [−{bound:R}, {bound:R}), e.g. {outside.FirstOrDefault():R}");
        });

    [Law(100)]
    public Property Only_PyTorchs_initializer_draws_the_bias() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var (_, b) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            bool allZero = b.ToArray().All(v => v == 0);
            return c.Init == Initializer.PyTorchLinear
                ? (!allZero || c.FanOut == 1 && b[0] == 0).Label("PyTorch's bias is all zero")
                : allZero.Label($"{c.Init.Name}'s bias is not zero: {Generators.Show(b)}");
        });

    [Law(50)]
    public Property The_same_key_gives_the_same_bits_and_another_key_other_bits() =>
        Prop.ForAll(Cases(Initializer.PyTorchLinear, Initializer.HeUniform, Initializer.HeNormal, Initializer.XavierUniform, Initializer.XavierNormal).ToArbitrary(), c =>
        {
            var (w1, b1) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            var (w2, b2) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            var (w3, _) = c.Init.Sample<double>(c.Key.FoldIn(1), c.FanIn, c.FanOut);
            return (w1.Equals(w2) && b1.Equals(b2)).Label("one key, two draws differ")
                .And((!w1.Equals(w3)).Label("two keys, one draw"));
        });

    /// <summary>Float draws are the double draws rounded to float (within one float ulp: a uniform draw that rounds up to the
    /// open upper bound is moved one ulp down).</summary>
    [Law(50)]
    public Property Float_draws_are_the_double_draws_rounded() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var (wd, bd) = c.Init.Sample<double>(c.Key, c.FanIn, c.FanOut);
            var (wf, bf) = c.Init.Sample<float>(c.Key, c.FanIn, c.FanOut);
            var d = wd.ToArray().Concat(bd.ToArray()).ToArray();
            var f = wf.ToArray().Concat(bf.ToArray()).ToArray();
            for (int i = 0; i < d.Length; i++)
            {
                float r = (float)d[i];
                if (f[i] != r && f[i] != float.BitDecrement(r)) return false.Label($"element {i}: float {f[i]:R}, double {d[i]:R}");
            }
            return true.ToProperty();
        });

    [Fact]
    public void Zeros_is_all_zero()
    {
        var (w, b) = Initializer.Zeros.Sample<double>(RandomKey.FromSeed(3), 7, 5);
        Assert.True(w.ToArray().All(v => v == 0) && b.ToArray().All(v => v == 0));
        Assert.Equal([5, 7], w.Shape.ToArray());
    }

    /// <summary>On a 256×512 layer (131 072 draws) the empirical std of a normal initializer is within 5% of the formula
    /// (its sampling error is about 0.2%), the mean is near 0, and 68.3% of draws lie within one std (a normal, not a uniform, shape).</summary>
    [Theory]
    [InlineData("he-normal")]
    [InlineData("xavier-normal")]
    public void Normal_initializers_have_the_papers_std_on_a_large_layer(string name)
    {
        const int fanIn = 512, fanOut = 256;
        var init = Initializer.Parse(name);
        double expected = name == "he-normal" ? Math.Sqrt(2.0 / fanIn) : Math.Sqrt(2.0 / (fanIn + fanOut));
        var w = init.Sample<double>(RandomKey.FromSeed(11), fanIn, fanOut).W.ToArray();
        double mean = w.Average(), std = Math.Sqrt(w.Select(v => (v - mean) * (v - mean)).Sum() / (w.Length - 1));
        Assert.True(Math.Abs(std / expected - 1) <= 0.05, $"{name}: std {std:R}, expected {expected:R}");
        Assert.True(Math.Abs(mean) <= 5 * expected / Math.Sqrt(w.Length), $"{name}: mean {mean:R}");
        double within = w.Count(v => Math.Abs(v) <= expected) / (double)w.Length;
        Assert.True(Math.Abs(within - 0.6827) <= 0.01, $"{name}: {within:P2} within one std, expected 68.27%");
    }

    /// <summary>Uniform initializers on a large layer: std = bound/√3 within 2%, and the draws fill the range (max |w| ≥ 0.999·bound).</summary>
    [Theory]
    [InlineData("pytorch")]
    [InlineData("he-uniform")]
    [InlineData("xavier-uniform")]
    public void Uniform_initializers_fill_their_range_on_a_large_layer(string name)
    {
        const int fanIn = 512, fanOut = 256;
        var init = Initializer.Parse(name);
        double bound = UniformBound(init, fanIn, fanOut)!.Value;
        var w = init.Sample<double>(RandomKey.FromSeed(5), fanIn, fanOut).W.ToArray();
        double std = Math.Sqrt(w.Select(v => v * v).Average());
        Assert.True(Math.Abs(std / (bound / Math.Sqrt(3)) - 1) <= 0.02, $"{name}: std {std:R}, expected {bound / Math.Sqrt(3):R}");
        Assert.True(w.Max(Math.Abs) >= 0.999 * bound, $"{name}: max |w| {w.Max(Math.Abs):R} for bound {bound:R}");
    }

    [Fact]
    public void PyTorchs_bound_is_one_over_root_fan_in_for_W_and_b()
    {
        var (w, b) = Initializer.PyTorchLinear.Sample<double>(RandomKey.FromSeed(8), 4, 2000);
        // fan_in 4: bound 0.5. 8000 weights and 2000 biases reach close to it on both sides.
        Assert.InRange(w.ToArray().Max(), 0.49, 0.5);
        Assert.InRange(w.ToArray().Min(), -0.5, -0.49);
        Assert.InRange(b.ToArray().Max(), 0.49, 0.5);
        Assert.InRange(b.ToArray().Min(), -0.5, -0.49);
    }

    [Fact]
    public void Names_round_trip_through_Parse_case_insensitively()
    {
        Assert.Equal(["pytorch", "he-uniform", "he-normal", "xavier-uniform", "xavier-normal", "zeros"], Initializer.All.Select(i => i.Name));
        foreach (var i in Initializer.All)
        {
            Assert.Same(i, Initializer.Parse(i.Name));
            Assert.Same(i, Initializer.Parse(i.Name.ToUpperInvariant()));
        }
        var e = Assert.Throws<ArgumentException>(() => Initializer.Parse("orthogonal"));
        Assert.Contains("'orthogonal'", e.Message);
        Assert.Contains("xavier-normal", e.Message);
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(3, 0)]
    public void Fans_below_1_are_rejected_with_both_values(int fanIn, int fanOut)
    {
        var e = Assert.Throws<ArgumentException>(() => Initializer.HeNormal.Sample<double>(RandomKey.FromSeed(1), fanIn, fanOut));
        Assert.Contains($"{fanIn} and {fanOut}", e.Message);
    }

    /// <summary>Fans of exactly 1 (a one-unit layer) are the smallest legal ones, for every initializer (the random fans of the
    /// properties hit 1 only now and then).</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 5)]
    [InlineData(5, 1)]
    public void Fans_of_1_are_accepted_by_every_initializer(int fanIn, int fanOut)
    {
        foreach (var init in Initializer.All)
        {
            var (w, b) = init.Sample<double>(RandomKey.FromSeed(1), fanIn, fanOut);
            Assert.Equal([fanOut, fanIn], w.Shape.ToArray());
            Assert.Equal([fanOut], b.Shape.ToArray());
            Assert.All(w.ToArray(), v => Assert.True(double.IsFinite(v)));
        }
    }

    [Fact]
    public void An_unknown_initializer_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Initializer.Parse("glorot-ish"));
        Assert.Contains("unknown initializer 'glorot-ish'", e.Message);
        Assert.Contains("known: " + string.Join(", ", Initializer.All.Select(i => i.Name)), e.Message);
    }
}
