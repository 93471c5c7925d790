using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Networks;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>RandomFlip and RandomShift, augmentation as layers (Keras' preprocessing layers, torchvision's RandomHorizontalFlip
/// and RandomCrop with padding): the kit over random shapes in training and evaluation, what each example becomes, how
/// often, the identity at evaluation, and bad arguments refused by name.</summary>
public sealed class AugmentationTests
{
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    private static Gen<Shape> Images { get; } =
        from c in Gen.Choose(1, 3) from h in Gen.Choose(1, 5) from w in Gen.Choose(1, 5) select Shape.Of(c, h, w);

    [Law(25)]
    public Property RandomFlip_passes_the_kit_in_training_and_evaluation() =>
        Prop.ForAll((from shape in Images
                     from axes in Gen.Elements((true, false), (false, true), (true, true))
                     from rows in Gen.Choose(1, 5)
                     from seed in Generators.Seed
                     from training in Gen.Elements(true, false)
                     select (spec: new RandomFlipSpec(axes.Item1, axes.Item2), shape, rows, seed, training)).ToArbitrary(),
            c => Passes(Verify.Layer(c.spec, c.shape, c.rows, c.seed, c.training)));

    [Law(25)]
    public Property RandomShift_passes_the_kit_in_training_and_evaluation() =>
        Prop.ForAll((from shape in Images
                     from mh in Gen.Choose(0, 3)
                     from mw in Gen.Choose(0, 3)
                     from rows in Gen.Choose(1, 5)
                     from seed in Generators.Seed
                     from training in Gen.Elements(true, false)
                     select (spec: new RandomShiftSpec(mh, mw), shape, rows, seed, training)).ToArbitrary(),
            c => Passes(Verify.Layer(c.spec, c.shape, c.rows, c.seed, c.training)));

    /// <summary>Example r of a batch of <paramref name="rows"/> [2, h, w] images holds 1 + its element index, so every value is distinct and nonzero.</summary>
    private static NdArray<double> Distinct(int rows, int h, int w) =>
        NdArray.From(Enumerable.Range(0, rows * 2 * h * w).Select(i => 1.0 + i % (2 * h * w)).ToArray(), rows, 2, h, w);

    [Fact]
    public void A_shift_is_a_window_of_the_zero_padded_image_at_an_offset_drawn_uniformly_per_example()
    {
        const int rows = 3000, h = 5, w = 6, k = 2;
        var x = Distinct(rows, h, w);
        var y = Layer.Forward(RandomShiftSpec.Square(k), [], x, RandomKey.FromSeed(9)).Span;
        var counts = new int[2 * k + 1, 2 * k + 1];
        for (int r = 0; r < rows; r++)
        {
            var image = y.Slice(r * 2 * h * w, 2 * h * w).ToArray();
            // The offset this example got is the one under which the output is the padded input's window; exactly one fits.
            var fits = (from dy in Enumerable.Range(-k, 2 * k + 1) from dx in Enumerable.Range(-k, 2 * k + 1)
                        where Enumerable.Range(0, 2 * h * w).All(e =>
                        {
                            int p = e / (h * w), i = e / w % h + dy, j = e % w + dx;
                            double expected = i < 0 || i >= h || j < 0 || j >= w ? 0 : 1 + p * h * w + i * w + j;
                            return image[e] == expected;
                        })
                        select (dy, dx)).ToList();
            Assert.True(fits.Count == 1, $"example {r} is a window of its padded image at {fits.Count} offsets");
            counts[fits[0].dy + k, fits[0].dx + k]++;
        }
        // 25 offsets, 120 expected each: binomial σ ≈ 10.7; every count within 5σ.
        foreach (int c in counts) Assert.InRange(c, 120 - 54, 120 + 54);
        Assert.Equal(y.ToArray(), Layer.Forward(RandomShiftSpec.Square(k), [], x, RandomKey.FromSeed(9)).Span.ToArray()); // a pure function of the key
        Assert.NotEqual(y.ToArray(), Layer.Forward(RandomShiftSpec.Square(k), [], x, RandomKey.FromSeed(10)).Span.ToArray());
    }

    [Fact]
    public void A_shift_with_different_maxima_moves_each_axis_within_its_own()
    {
        const int rows = 400, h = 4, w = 7;
        var x = Distinct(rows, h, w);
        var y = Layer.Forward(new RandomShiftSpec(0, 3), [], x, RandomKey.FromSeed(4)).Span;
        var seen = new HashSet<int>();
        for (int r = 0; r < rows; r++)
        {
            // No vertical move: each row of the first channel keeps its row's values; the horizontal move is read off its first row.
            var first = y.Slice(r * 2 * h * w, w).ToArray();
            int dx = Enumerable.Range(-3, 7).Single(d => Enumerable.Range(0, w).All(j => first[j] == (j + d < 0 || j + d >= w ? 0 : 1 + j + d)));
            seen.Add(dx);
        }
        Assert.Equal(Enumerable.Range(-3, 7), seen.Order());
    }

    [Fact]
    public void A_flip_mirrors_about_half_the_examples_and_leaves_the_others()
    {
        const int rows = 2000, h = 3, w = 4;
        var x = Distinct(rows, h, w);
        foreach (var (spec, name) in new[] { (new RandomFlipSpec(), "horizontal"), (new RandomFlipSpec(false, true), "vertical"), (new RandomFlipSpec(true, true), "both") })
        {
            var y = Layer.Forward(spec, [], x, RandomKey.FromSeed(2)).Span;
            var kinds = new int[4]; // none, left–right, upside down, both
            for (int r = 0; r < rows; r++)
            {
                var image = y.Slice(r * 2 * h * w, 2 * h * w).ToArray();
                int kind = Enumerable.Range(0, 4).Single(f => Enumerable.Range(0, 2 * h * w).All(e =>
                {
                    int p = e / (h * w), i = e / w % h, j = e % w;
                    if ((f & 1) != 0) j = w - 1 - j;
                    if ((f & 2) != 0) i = h - 1 - i;
                    return image[e] == 1 + p * h * w + i * w + j;
                }));
                kinds[kind]++;
            }
            // Binomial(2000, ½) or, for both, four outcomes of ¼: each within 5σ.
            if (name == "both") foreach (int c in kinds) Assert.InRange(c, 500 - 97, 500 + 97);
            else
            {
                int flipped = name == "horizontal" ? kinds[1] : kinds[2];
                Assert.InRange(flipped, 1000 - 112, 1000 + 112);
                Assert.Equal(rows, kinds[0] + flipped);
            }
        }
    }

    /// <summary>A batch large enough to be cut among the threads (64 images of 28 × 28, as the README's CNN takes them): every
    /// example keeps its own shift, so 1, 2 and 3 threads give the same bits, forward and backward; and the first example is the
    /// shift a batch of it alone gets.</summary>
    [Fact]
    public void A_large_batch_is_shifted_the_same_on_any_thread_count()
    {
        const int rows = 64, h = 28, w = 28;
        var x = NdArray.From(Enumerable.Range(0, rows * h * w).Select(i => 1.0 + i).ToArray(), rows, 1, h, w);
        var dy = NdArray.From(Enumerable.Range(0, rows * h * w).Select(i => 0.25 * i - 7).ToArray(), rows, 1, h, w);
        var spec = new RandomShiftSpec(2, 3);
        var key = RandomKey.FromSeed(12);
        var y1 = Layer.Forward(spec, [], x, key, Parallelism.SingleThread).Span.ToArray();
        var dx1 = Layer.Backward(spec, [], x, dy, key, Parallelism.SingleThread).DX.Span.ToArray();
        Assert.Contains(y1, v => v == 0); // some examples did move (zeros came in)
        foreach (int t in new[] { 2, 3 })
        {
            Assert.Equal(y1, Layer.Forward(spec, [], x, key, new Parallelism(t)).Span.ToArray());
            Assert.Equal(dx1, Layer.Backward(spec, [], x, dy, key, new Parallelism(t)).DX.Span.ToArray());
        }
        // The first example's shift is block 0's, as in a batch of that example alone.
        var first = NdArray.From(x.Span[..(h * w)].ToArray(), 1, 1, h, w);
        Assert.Equal(y1[..(h * w)], Layer.Forward(spec, [], first, key, Parallelism.SingleThread).Span.ToArray());
    }

    [Fact]
    public void At_evaluation_both_are_the_identity_and_backward_passes_the_gradient_through()
    {
        var x = Distinct(3, 4, 5);
        var dy = NdArray.From(Enumerable.Range(0, x.Length).Select(i => 0.5 * i - 3).ToArray(), 3, 2, 4, 5);
        foreach (LayerSpec spec in new LayerSpec[] { new RandomFlipSpec(true, true), RandomShiftSpec.Square(2) })
        {
            Assert.Equal(x.Span.ToArray(), Layer.Forward(spec, [], x).Span.ToArray());
            Assert.Equal(dy.Span.ToArray(), Layer.Backward(spec, [], x, dy).DX.Span.ToArray());
        }
    }

    [Fact]
    public void In_training_backward_is_the_transpose_of_forward()
    {
        // ⟨f(x), g⟩ = ⟨x, f′ᵀ(g)⟩ for a linear f with the same key on both sides.
        var x = Distinct(6, 5, 5);
        var g = NdArray.From(Enumerable.Range(0, x.Length).Select(i => Math.Sin(i)).ToArray(), 6, 2, 5, 5);
        var key = RandomKey.FromSeed(12);
        foreach (LayerSpec spec in new LayerSpec[] { new RandomFlipSpec(true, true), RandomShiftSpec.Square(2), new RandomShiftSpec(1, 3) })
        {
            var y = Layer.Forward(spec, [], x, key).Span;
            var dx = Layer.Backward(spec, [], x, g, key).DX.Span;
            double left = 0, right = 0;
            for (int i = 0; i < x.Length; i++) { left += y[i] * g.Span[i]; right += x.Span[i] * dx[i]; }
            Assert.Equal(left, right, 1e-9);
        }
    }

    [Fact]
    public void Bad_arguments_are_refused_by_name()
    {
        Assert.Equal("Vertical", Assert.Throws<ArgumentException>(() => new RandomFlipSpec(false, false)).ParamName);
        Assert.Equal("MaxH", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomShiftSpec(-1, 0)).ParamName);
        Assert.Equal("MaxW", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomShiftSpec(0, -2)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => RandomShiftSpec.Square(1).OutputShape(Shape.Of(7)));
        Assert.Equal("input", e.ParamName);
        Assert.StartsWith("random-shift needs an image input [channels, height, width] (or [height, width]); it gets [7]", e.Message);
        foreach (var flip in new[] { new RandomFlipSpec(), new RandomFlipSpec(false, true), new RandomFlipSpec(true, true) })
            Assert.StartsWith("random-flip needs an image input [channels, height, width] (or [height, width]); it gets [7]",
                Assert.Throws<ArgumentException>(() => flip.OutputShape(Shape.Of(7))).Message);
        Assert.Contains("it gets []", Assert.Throws<ArgumentException>(() => new RandomFlipSpec().OutputShape(Shape.Scalar)).Message);
    }

    /// <summary>A flip or a shift on flat vectors (a table's 784 features, or what a flatten or a dense layer gives) would mirror
    /// or move features, which means nothing: every way a model is made refuses it, naming the layer, its position, the shape it
    /// gets and the one it needs, before anything trains.</summary>
    [Fact]
    public void On_a_flat_vector_they_are_refused_wherever_a_model_is_made()
    {
        var ce = new SoftmaxCrossEntropySpec();
        const string needs = "needs an image input [channels, height, width] (or [height, width]); it gets";
        var core = Assert.Throws<ArgumentException>(() => new ModelSpec(784, [new RandomFlipSpec(), new DenseSpec(784, 10)], ce));
        Assert.StartsWith($"layer 0 (random-flip): random-flip {needs} [784]", core.Message);
        var late = Assert.Throws<ArgumentException>(() => new ModelSpec(Shape.Of(1, 4, 4), [new FlattenSpec(), RandomShiftSpec.Square(1), new DenseSpec(16, 3)], ce));
        Assert.StartsWith($"layer 1 (random-shift): random-shift {needs} [16]", late.Message);
        Assert.StartsWith($"random-flip {needs} [784]", Assert.Throws<ArgumentException>(() => Network.Input(784).RandomFlip()).Message);
        Assert.StartsWith($"random-shift {needs} [16]", Assert.Throws<ArgumentException>(() => Network.Input(1, 4, 4).Flatten().RandomShift(1)).Message);
        Assert.Equal($"--arch item 1 'flip': random-flip {needs} [784]", Assert.Throws<ArgumentException>(() => Arch.Parse("flip,dense(64),relu", Shape.Of(784), 10, ce)).Message.Split(" (Parameter")[0]);
        Assert.Equal($"--arch item 3 'shift(1)': random-shift {needs} [64]", Assert.Throws<ArgumentException>(() => Arch.Parse("dense(64),relu,shift(1)", Shape.Of(784), 10, ce)).Message.Split(" (Parameter")[0]);
        // a model file: its architecture is read through the same constructor (the JSON a valid image model would write, on vectors)
        var json = SpecJson.ToJson(new ModelSpec(Shape.Of(1, 28, 28), [new RandomFlipSpec(), new FlattenSpec(), new DenseSpec(784, 10)], ce)).ToJsonString()
            .Replace("\"inputShape\":[1,28,28]", "\"inputShape\":[784]", StringComparison.Ordinal);
        Assert.Contains("\"inputShape\":[784]", json);
        Assert.Contains($"layer 0 (random-flip): random-flip {needs} [784]", Assert.Throws<DataFormatException>(() => SpecJson.FromJson(json, "model.json")).Message);
        // images of one channel without its axis still flip and shift, as before
        Assert.Equal(Shape.Of(28, 28), new ModelSpec(Shape.Of(28, 28), [new RandomFlipSpec(true, true), RandomShiftSpec.Square(2), new FlattenSpec(), new DenseSpec(784, 10)], ce).Shapes[2]);
    }

    [Fact]
    public void In_one_line_in_the_builder_and_in_files()
    {
        var ce = new SoftmaxCrossEntropySpec();
        var spec = Arch.Parse("flip,shift(2),conv(4,3,pad=1),relu,flatten", Shape.Of(1, 6, 6), 3, ce);
        Assert.Equal(new RandomFlipSpec(), spec.Layers[0]);
        Assert.Equal(RandomShiftSpec.Square(2), spec.Layers[1]);
        Assert.Equal(new LayerSpec[] { new RandomFlipSpec(false, true), new RandomShiftSpec(1, 3) },
            Arch.Parse("random-flip(horizontal=false,vertical=true),shift(h=1,w=3),flatten", Shape.Of(1, 6, 6), 3, ce).Layers.Take(2).ToArray());
        Assert.Equal(new RandomShiftSpec(2, 0), Arch.Parse("shift(2,w=0),flatten", Shape.Of(1, 6, 6), 3, ce).Layers[0]);
        Assert.Contains("needs its h", Assert.Throws<ArgumentException>(() => Arch.Parse("shift,flatten", Shape.Of(1, 6, 6), 3, ce)).Message);
        Assert.Equal(spec.Layers[..2].ToArray(), Network.Input(1, 6, 6).RandomFlip().RandomShift(2).Flatten().Output(3, "cross-entropy").Layers[..2].ToArray());
        var json = SpecJson.ToJson(spec).ToJsonString();
        Assert.Equal(spec.Layers.ToArray(), SpecJson.FromJson(json, "test").Layers.ToArray());
        Assert.Contains("\"random-shift\"", json);
    }
}
