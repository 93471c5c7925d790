using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Inverted dropout: identity at evaluation, a key-determined mask in training, backward equal to the forward's derivative.</summary>
public sealed class DropoutTests
{
    /// <summary>A rate, a key, an input with no zero element (so a zero output means "dropped") and an upstream gradient.</summary>
    public sealed record DropoutCase(double Rate, ulong Seed, NdArray<double> X, NdArray<double> Dy)
    {
        public RandomKey Key => RandomKey.FromSeed(Seed);
        public override string ToString() => $"rate {Rate:R}, seed {Seed}\n  x = {Generators.Show(X)}\n  dy = {Generators.Show(Dy)}";
    }

    private static Gen<DropoutCase> Cases(Gen<double> rates) =>
        from rate in rates
        from seed in Generators.Seed
        from shape in Generators.Shape(16, 12)
        from x in Generators.MatrixAwayFromKink(shape.Rows, shape.Cols, 3.0, 1e-3)
        from dy in Generators.Matrix(shape.Rows, shape.Cols, 2.0)
        select new DropoutCase(rate, seed, x, dy);

    private static readonly Gen<double> AnyRate = Gen.OneOf(Gen.Constant(0.0), Generators.Between(0.05, 0.9));

    [Law(60)]
    public Property Backward_is_the_derivative_of_forward_for_that_key() =>
        Prop.ForAll(Cases(AnyRate).ToArbitrary(), c =>
            GradCheck.OfInput(x => GradCheck.Pair(c.Dy, Dropout.Forward(x, c.Rate, c.Key)), c.X, Dropout.Backward(c.Dy, c.Rate, c.Key)));

    [Law(60)]
    public Property Evaluation_is_the_identity() =>
        Prop.ForAll(Cases(AnyRate).ToArbitrary(), c =>
            (Dropout.Forward(c.X, c.Rate, null).Equals(c.X) && Dropout.Backward(c.Dy, c.Rate, null).Equals(c.Dy)).Label("key null changed its input"));

    [Law(30)]
    public Property Rate_0_is_the_identity_in_training_too() =>
        Prop.ForAll(Cases(Gen.Constant(0.0)).ToArbitrary(), c =>
            (Dropout.Forward(c.X, 0, c.Key).Equals(c.X) && Dropout.Backward(c.Dy, 0, c.Key).Equals(c.Dy)).Label("rate 0 changed its input"));

    /// <summary>Each output is 0 or x/(1 − rate) (to two ulps: x·fl(1/(1 − p)) against x/(1 − p)), and backward drops exactly the same elements.</summary>
    [Law(60)]
    public Property Training_zeros_or_scales_each_element_and_backward_uses_the_same_mask() =>
        Prop.ForAll(Cases(Generators.Between(0.05, 0.9)).ToArbitrary(), c =>
        {
            var y = Dropout.Forward(c.X, c.Rate, c.Key);
            var ones = Dropout.Backward(NdArray.Full(1.0, [.. c.X.Shape]), c.Rate, c.Key);
            double scale = 1 / (1 - c.Rate);
            for (int i = 0; i < y.Length; i++)
            {
                bool dropped = y[i] == 0;
                if (!dropped && !(Math.Abs(y[i] - c.X[i] / (1 - c.Rate)) <= 4.5e-16 * Math.Abs(y[i])))
                    return false.Label($"element {i}: y = {y[i]:R}, x/(1 − p) = {c.X[i] / (1 - c.Rate):R}");
                if (dropped != (ones[i] == 0) || (!dropped && ones[i] != scale))
                    return false.Label($"element {i}: forward {(dropped ? "dropped" : "kept")} it, backward gave {ones[i]:R}");
            }
            return true.ToProperty();
        });

    [Law(40)]
    public Property The_same_key_gives_the_same_mask() =>
        Prop.ForAll(Cases(AnyRate).ToArbitrary(), c =>
            Dropout.Forward(c.X, c.Rate, c.Key).Equals(Dropout.Forward(c.X, c.Rate, c.Key)).Label("two calls with one key differ"));

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void Training_drops_about_rate_of_100k_elements_and_keeps_the_mean(double rate)
    {
        const int n = 100_000;
        var y = Dropout.Forward(NdArray.Full(1.0, 100, 1000), rate, RandomKey.FromSeed(2024));
        int zeros = 0; double sum = 0;
        foreach (var v in y.Span) { if (v == 0) zeros++; sum += v; }
        // Binomial: the dropped fraction has std √(p(1 − p)/n) ≤ 0.0016; the mean of y has std √(p/((1 − p)n)). Allow 6 σ.
        double fracSigma = Math.Sqrt(rate * (1 - rate) / n), meanSigma = Math.Sqrt(rate / ((1 - rate) * n));
        Assert.True(Math.Abs((double)zeros / n - rate) <= 6 * fracSigma, $"dropped {zeros} of {n} at rate {rate}");
        Assert.True(Math.Abs(sum / n - 1) <= 6 * meanSigma, $"mean {sum / n:R} at rate {rate}, expected 1 ± {6 * meanSigma:R}");
    }

    [Fact]
    public void Different_keys_give_different_masks()
    {
        var x = NdArray.Full(1.0, 1, 1000);
        var a = Dropout.Forward(x, 0.5, RandomKey.FromSeed(1));
        var b = Dropout.Forward(x, 0.5, RandomKey.FromSeed(2));
        var c = Dropout.Forward(x, 0.5, RandomKey.FromSeed(1).FoldIn(0));
        Assert.False(a.Equals(b));
        Assert.False(a.Equals(c));
        int agree = Enumerable.Range(0, 1000).Count(i => (a[i] == 0) == (b[i] == 0));
        Assert.InRange(agree, 400, 600); // independent masks agree on half the elements, σ ≈ 16
    }

    [Fact]
    public void Float_and_double_drop_the_same_elements_for_one_key()
    {
        var key = RandomKey.FromSeed(99);
        var d = Dropout.Forward(NdArray.Full(1.0, 10, 50), 0.4, key);
        var f = Dropout.Forward(NdArray.Full(1.0f, 10, 50), 0.4, key);
        for (int i = 0; i < d.Length; i++) Assert.Equal(d[i] == 0, f[i] == 0);
        Assert.Equal((float)(1 / 0.6), f.Span.ToArray().First(v => v != 0));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(1.5)]
    public void A_rate_outside_0_to_1_is_rejected(double rate)
    {
        var x = NdArray.Full(1.0, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(x, rate, RandomKey.FromSeed(1)));
        Assert.Equal("rate", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(x, rate, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Backward(x, rate, RandomKey.FromSeed(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropoutSpec(rate));
    }

    [Fact]
    public void DropoutSpec_keeps_the_width_and_has_no_parameters()
    {
        var d = new DropoutSpec(0.25);
        Assert.Equal(Shape.Of(7), d.OutputShape(7));
        Assert.Equal(Shape.Of(1, 28, 28), d.OutputShape(Shape.Of(1, 28, 28)));
        Assert.Empty(d.Parameters(7));
        Assert.Equal("dropout", d.Kind);
        Assert.Equal(0.25, d.Rate);
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Fact]
    public void Rate_0_is_allowed_and_bad_rates_are_named()
    {
        Assert.Equal(0, new DropoutSpec(0).Rate);
        var x = NdArray.Vector(1.0, 2.0);
        Assert.Same(x, Dropout.Forward(x, 0, NeuralPure.Random.RandomKey.FromSeed(1)));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DropoutSpec(1));
        Assert.Equal("Rate", e.ParamName); Assert.Contains("[0, 1)", e.Message);
        var f = Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(x, -0.1, null));
        Assert.Equal("rate", f.ParamName); Assert.Contains("dropout rate must be in [0, 1)", f.Message);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Dropout.Forward<double>(null!, 0.5, null)).ParamName);
    }
}
