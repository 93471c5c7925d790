using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>The edges of the image and normalization layers that the laws over random shapes do not reach (the Layers
/// Stryker run's survivors): kind names, refusals by name and message, null shapes, rank-2 images, the exact flips and
/// shifts a key gives, backward passes not asked for dx, scratch sizes that overflow, batch norm without affine parameters,
/// in evaluation and its running statistics over two steps, and the stateful Layer API's argument checks.</summary>
public sealed class LayerEdgesTests
{
    [Fact]
    public void Every_image_and_normalization_kind_has_its_files_name()
    {
        Assert.Equal("random-flip", new RandomFlipSpec().Kind);
        Assert.Equal("random-shift", RandomShiftSpec.Square(1).Kind);
        Assert.Equal("conv2d", Conv2dSpec.Square(1, 1, 1).Kind);
        Assert.Equal("flatten", new FlattenSpec().Kind);
        Assert.Equal("layer-norm", new LayerNormSpec().Kind);
        Assert.Equal("batch-norm", new BatchNormSpec(1).Kind);
        Assert.Equal("maxpool2d", MaxPool2dSpec.Square(2).Kind);
        Assert.Equal("avgpool2d", AvgPool2dSpec.Square(2).Kind);
    }

    private static void Refused<TE>(Func<object> make, string param, string message) where TE : ArgumentException
    {
        var e = Assert.Throws<TE>(make);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Bad_hyperparameters_are_refused_naming_the_argument_and_the_rule()
    {
        Refused<ArgumentException>(() => new RandomFlipSpec(false, false), "Vertical", "a random flip needs an axis: horizontal, vertical or both");
        Refused<ArgumentOutOfRangeException>(() => new RandomShiftSpec(-1, 0), "MaxH", "a shift must be ≥ 0");
        Refused<ArgumentOutOfRangeException>(() => new RandomShiftSpec(0, -1), "MaxW", "a shift must be ≥ 0");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(0, 1, 1, 1), "InChannels", "a convolution needs ≥ 1 input channel");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 0, 1, 1), "OutChannels", "a convolution needs ≥ 1 output channel");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 0, 1), "KernelH", "the kernel height must be ≥ 1");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 1, 0), "KernelW", "the kernel width must be ≥ 1");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 1, 1, StrideH: 0), "StrideH", "the stride must be ≥ 1");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 1, 1, StrideW: 0), "StrideW", "the stride must be ≥ 1");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 1, 1, PaddingH: -1), "PaddingH", "the padding must be ≥ 0");
        Refused<ArgumentOutOfRangeException>(() => new Conv2dSpec(1, 1, 1, 1, PaddingW: -1), "PaddingW", "the padding must be ≥ 0");
        Assert.Equal(1, new Conv2dSpec(1, 1, 1, 1).KernelW);
        Assert.Equal(0, new Conv2dSpec(1, 1, 1, 1).PaddingW);
        Refused<ArgumentOutOfRangeException>(() => new LayerNormSpec(Dims: 0), "Dims", "layer norm normalizes at least the last dimension");
        Refused<ArgumentOutOfRangeException>(() => new LayerNormSpec(Eps: -1), "Eps", "eps must be a positive finite number");
        Refused<ArgumentOutOfRangeException>(() => new BatchNormSpec(0), "Channels", "batch norm needs at least one channel");
        foreach (var eps in new[] { 0.0, -1e-5, double.NaN, double.PositiveInfinity })
            Refused<ArgumentOutOfRangeException>(() => new BatchNormSpec(1, Eps: eps), "Eps", "eps must be a positive finite number");
        foreach (var m in new[] { -0.01, 1.01, double.NaN })
            Refused<ArgumentOutOfRangeException>(() => new BatchNormSpec(1, Momentum: m), "Momentum", "momentum must be in [0, 1]");
        Assert.Equal(0.0, new BatchNormSpec(1, Momentum: 0).Momentum);
        Assert.Equal(1.0, new BatchNormSpec(1, Momentum: 1).Momentum);
        Refused<ArgumentOutOfRangeException>(() => MaxPool2dSpec.Square(0), "KernelH", "KernelH must be ≥ 1");
        Refused<ArgumentOutOfRangeException>(() => new AvgPool2dSpec(2, 2, StrideW: 0), "StrideW", "StrideW must be ≥ 1");
        // kernel/2 = 1 for a kernel of 3: the bound in the message is PyTorch's.
        Refused<ArgumentOutOfRangeException>(() => MaxPool2dSpec.Square(3, padding: 2), "PaddingH", "PaddingH must be in [0, kernel/2] = [0, 1]");
    }

    [Fact]
    public void A_null_example_shape_is_refused_by_name_everywhere()
    {
        LayerSpec[] specs = [new RandomFlipSpec(), RandomShiftSpec.Square(1), Conv2dSpec.Square(1, 1, 1), new FlattenSpec(), new LayerNormSpec(),
            new BatchNormSpec(1), MaxPool2dSpec.Square(2), AvgPool2dSpec.Square(2)];
        foreach (var spec in specs)
            Assert.True(Assert.Throws<ArgumentNullException>(() => spec.OutputShape(null!)).ParamName == "input", spec.Kind);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => new LayerNormSpec().ScratchBytes<float>(null!, 1)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => new LayerNormSpec().Parameters(null!)).ParamName);
        Refused<ArgumentException>(() => new LayerNormSpec(Dims: 2).Parameters(Shape.Of(5)), "input", "layer norm over the last 2 dimension(s) cannot take examples of shape [5]");
        Refused<ArgumentException>(() => new LayerNormSpec(Dims: 2).Init<float>(Shape.Of(5), RandomKey.FromSeed(1)), "input", "cannot take examples of shape [5]");
    }

    /// <summary>The example's last two axes are [H, W]; a rank-2 example (no channel axis) flips and shifts, and a rank-1
    /// example (a flat vector, no image) is refused, a horizontal flip too (it mirrored the vector).</summary>
    [Fact]
    public void Rank_two_images_flip_both_ways_and_rank_one_rows_are_refused()
    {
        Assert.Equal(Shape.Of(3, 4), new RandomFlipSpec(false, true).OutputShape(Shape.Of(3, 4)));
        Assert.Equal(Shape.Of(3, 4), RandomShiftSpec.Square(1).OutputShape(Shape.Of(3, 4)));
        var x = NdArray.From<double>([.. Enumerable.Range(1, 3 * 2 * 3).Select(i => (double)i)], 3, 2, 3);
        var key = RandomKey.FromSeed(5);
        var both = Layer.Forward(new RandomFlipSpec(true, true), [], x, key);
        var seen = new HashSet<string>();
        for (int r = 0; r < 3; r++)
        {
            double[] e = [.. x.Span.Slice(r * 6, 6).ToArray()];
            double[] y = [.. both.Span.Slice(r * 6, 6).ToArray()];
            double[] Vert(double[] a) => [.. a[3..], .. a[..3]];
            double[] Horiz(double[] a) => [a[2], a[1], a[0], a[5], a[4], a[3]];
            string which = y.SequenceEqual(e) ? "none" : y.SequenceEqual(Horiz(e)) ? "h" : y.SequenceEqual(Vert(e)) ? "v" : y.SequenceEqual(Horiz(Vert(e))) ? "hv" : "?";
            Assert.NotEqual("?", which);
            seen.Add(which);
        }
        Assert.Contains(seen, w => w.Contains('v'));
        var wide = NdArray.From<double>([1, 2, 3, 4, 5, 6, 7, 8], 2, 4);
        foreach (var spec in new LayerSpec[] { new RandomFlipSpec(), RandomShiftSpec.Square(1) })
            Refused<ArgumentException>(() => Layer.Forward(spec, [], wide, RandomKey.FromSeed(3)), "input", $"{spec.Kind} needs an image input [channels, height, width] (or [height, width]); it gets [4]");
    }

    /// <summary>Which examples flip, and by how much each shifts, is a pinned function of the key: the definition (bit 0 of
    /// the example's Threefry block flips horizontally, bit 1 vertically; ⌊bits·n/2³²⌋ − max per axis) as written in files.</summary>
    [Fact]
    public void The_flips_and_shifts_of_a_key_are_pinned()
    {
        const int rows = 12, h = 4, w = 5;
        var x = NdArray.From<double>([.. Enumerable.Range(0, rows * h * w).Select(i => (double)(i % (h * w) + 1))], rows, 1, h, w);
        var flipped = Layer.Forward(new RandomFlipSpec(true, true), [], x, RandomKey.FromSeed(2026)).Span;
        var flips = new List<string>();
        for (int r = 0; r < rows; r++)
        {
            double first = flipped[r * h * w];               // the value now at (0, 0): which corner moved there
            flips.Add(first switch { 1 => "-", 5 => "h", 16 => "v", 20 => "hv", _ => "?" });
        }
        Assert.Equal(FlipsOfKey2026, string.Join(" ", flips));
        var shifted = Layer.Forward(new RandomShiftSpec(2, 1), [], x, RandomKey.FromSeed(2026)).Span;
        var shifts = new List<string>();
        for (int r = 0; r < rows; r++)
        {
            string found = "?";
            for (int i = 0; i < h * w && found == "?"; i++)
            {
                double v = shifted[r * h * w + i];
                if (v == 0) continue;
                int pi = (int)(v - 1) / w, pj = (int)(v - 1) % w;
                found = $"{pi - i / w},{pj - i % w}";
            }
            shifts.Add(found);
        }
        Assert.Equal(ShiftsOfKey2026, string.Join(" ", shifts));
    }

    private const string FlipsOfKey2026 = "hv hv - - hv - h - v h - hv";
    private const string ShiftsOfKey2026 = "2,-1 2,-1 2,-1 -2,1 -1,-1 -2,0 -2,1 -1,1 2,1 2,0 -2,-1 -1,1";

    /// <summary>A backward pass not asked for dx (the model's first layer) writes none and gives the same parameter gradients.</summary>
    [Fact]
    public void Backward_without_dx_writes_none_for_every_image_and_normalization_layer()
    {
        var rng = new System.Random(7);
        NdArray<double> R(params int[] shape) => NdArray.From<double>([.. Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => rng.NextDouble() * 2 - 1)], shape);
        var x = R(3, 2, 4, 4);
        var key = RandomKey.FromSeed(9);
        foreach (var spec in new LayerSpec[] { new RandomFlipSpec(true, true), RandomShiftSpec.Square(1), MaxPool2dSpec.Square(2), AvgPool2dSpec.Square(2), new FlattenSpec() })
            foreach (var k in new RandomKey?[] { key, null })
            {
                var pass = Layer.Run<double>(spec, [], x, k, null);
                var dy = R([.. pass.Y.Shape]);
                var (dx, grads) = pass.Back(dy, inputGradient: false, 1);
                Assert.Null(dx);
                Assert.Empty(grads);
            }
        var bn = new BatchNormSpec(2);
        var shape = Shape.Of(2, 4, 4);
        NdArray<double>[] ps = [R(2), R(2)];
        double[][] State() => [.. bn.InitState<double>(shape).Select(s => s.Span.ToArray())];
        foreach (var k in new RandomKey?[] { key, null })
        {
            var pass = Layer.Run<double>(bn, shape, shape, [.. ps.Select(p => p.Span.ToArray())], x, k, 1, State());
            var dy = R(3, 2, 4, 4);
            var (dx, grads) = pass.Back(dy, inputGradient: false, 1);
            Assert.Null(dx);
            var full = Layer.Run<double>(bn, shape, shape, [.. ps.Select(p => p.Span.ToArray())], x, k, 1, State()).Back(dy, inputGradient: true, 1);
            Assert.Equal(full.Grads[0].Span.ToArray(), grads[0].Span.ToArray());
            Assert.Equal(full.Grads[1].Span.ToArray(), grads[1].Span.ToArray());
        }
    }

    [Fact]
    public void Scratch_sizes_that_do_not_fit_an_int_overflow_instead_of_wrapping()
    {
        Assert.Throws<OverflowException>(() => Conv2dSpec.Square(1, 1 << 25, 3, padding: 1).ScratchBytes<double>(Shape.Of(1, 8, 8), 1 << 20));
        Assert.Throws<OverflowException>(() => new LayerNormSpec().ScratchBytes<double>(Shape.Of(1 << 10, 1), 1 << 20));
        Assert.Throws<OverflowException>(() => MaxPool2dSpec.Square(1).ScratchBytes<float>(Shape.Of(64, 256, 256), 1 << 12));
    }

    /// <summary>Layer norm's scratch is two doubles per group (mean, 1/σ) and two per normalized element (the gradient sums).</summary>
    [Fact]
    public void Layer_norms_scratch_is_two_doubles_per_group_and_per_normalized_element()
    {
        Assert.Equal(8 * (2 * 5 * 3 * 4 + 2 * 7), new LayerNormSpec(Dims: 1).ScratchBytes<float>(Shape.Of(3, 4, 7), 5));
        Assert.Equal(8 * (2 * 5 * 3 + 2 * 28), new LayerNormSpec(Dims: 2).ScratchBytes<float>(Shape.Of(3, 4, 7), 5));
        Assert.Equal(8 * (2 * 2 + 1), new BatchNormSpec(2).ScratchBytes<float>(Shape.Of(2, 9, 9), 64));
    }

    [Fact]
    public void Layer_norm_starts_at_weight_one_and_bias_zero_of_the_normalized_shape()
    {
        var init = new LayerNormSpec(Dims: 2).Init<float>(Shape.Of(3, 2, 4), RandomKey.FromSeed(1));
        Assert.Equal(new[] { 2, 4 }, init[0].Shape.ToArray());
        Assert.All(init[0].Span.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(init[1].Span.ToArray(), v => Assert.Equal(0f, v));
        Assert.Empty(new LayerNormSpec(Affine: false).Init<float>(Shape.Of(3), RandomKey.FromSeed(1)));
        Assert.Empty(new BatchNormSpec(3, Affine: false).Parameters(Shape.Of(3)));
        Assert.Empty(new BatchNormSpec(3, Affine: false).Init<float>(Shape.Of(3), RandomKey.FromSeed(1)));
    }

    /// <summary>Convolutions with fewer taps than output channels take the dWᵀ branch (a first layer's 1·3·3 = 9 against 16
    /// outputs), with a batch both larger and smaller than the output channels; the kit checks gradients, pure = in place
    /// and threads on each.</summary>
    [Theory]
    [InlineData(1, 16, 3, 5, 3, true)]   // k = 9 < 16, q = 3·25 ≥ 16: dWᵀ = cols·dYₜᵀ, transposed back
    [InlineData(1, 16, 3, 3, 1, true)]   // k = 9 < 16, q = 1·1 < 16: the plain dYₜ·colsᵀ
    [InlineData(2, 4, 1, 4, 2, false)]   // k = 2 < 4, q = 32: dWᵀ, no bias
    public void Convolutions_with_few_taps_pass_the_kit(int inC, int outC, int kernel, int side, int rows, bool bias)
    {
        var spec = Conv2dSpec.Square(inC, outC, kernel, bias: bias);
        var report = Verify.Layer(spec, Shape.Of(inC, side, side), rows, seed: 17);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Average_pooling_keeps_a_stride_other_than_its_kernel()
    {
        var pool = new AvgPool2dSpec(2, 2, StrideH: 1);
        Assert.Equal(1, pool.StrideH);
        Assert.Equal(2, pool.StrideW);
        Assert.Equal(Shape.Of(1, 3, 2), pool.OutputShape(Shape.Of(1, 4, 4)));
        var y = Layer.Forward<double>(pool, [], NdArray.From<double>([.. Enumerable.Range(0, 16).Select(i => (double)i)], 1, 1, 4, 4));
        Assert.Equal(new[] { 2.5, 4.5, 6.5, 8.5, 10.5, 12.5 }, y.Span.ToArray());
    }

    /// <summary>Batch norm without affine parameters: y is standardized (weight 1, bias 0 in effect), in training and in evaluation.</summary>
    [Fact]
    public void Batch_norm_without_affine_parameters_standardizes_and_passes_the_kit()
    {
        foreach (var training in new[] { true, false })
        {
            var report = Verify.Layer(new BatchNormSpec(2, Affine: false), Shape.Of(2, 3), 4, seed: 3, training: training);
            Assert.True(report.Passed, report.ToString());
        }
        var spec = new BatchNormSpec(1, Affine: false);
        var x = NdArray.From<double>([1, 3], 2, 1);
        var (y, state) = Layer.Forward<double>(spec, [], spec.InitState<double>(Shape.Of(1)), x, RandomKey.FromSeed(1));
        double r = 1 / Math.Sqrt(1 + 1e-5);
        Assert.Equal(new[] { -r, r }, y.Span.ToArray());
        Assert.Equal(1.0, state[2][0]);
        var (ey, _) = Layer.Forward<double>(spec, [], state, x);
        double rm = 0.1 * 2, rv = 0.9 + 0.1 * 2;      // n = 2: the unbiased variance of {1, 3} is 2
        Assert.Equal(new[] { (1 - rm) / Math.Sqrt(rv + 1e-5), (3 - rm) / Math.Sqrt(rv + 1e-5) }, ey.Span.ToArray());
    }

    /// <summary>The running statistics follow PyTorch's update over two steps (running ← (1 − m)·running + m·batch, the variance
    /// unbiased), and evaluation uses them: y = (x − mean)/√(var + ε)·w + b, dx = dy·w/√(var + ε).</summary>
    [Fact]
    public void Batch_norms_running_statistics_move_by_the_momentum_and_evaluation_uses_them()
    {
        var spec = new BatchNormSpec(1, Momentum: 0.25);
        var shape = Shape.Of(1);
        NdArray<double>[] p = [NdArray.Vector(3.0), NdArray.Vector(-1.0)];
        var x1 = NdArray.From<double>([1, 3, 8], 3, 1);          // mean 4, unbiased variance 13
        var x2 = NdArray.From<double>([-2, 0, 2, 4], 4, 1);      // mean 1, unbiased variance 20/3
        var (_, s1) = Layer.Forward(spec, p, spec.InitState<double>(shape), x1, RandomKey.FromSeed(1));
        var (_, s2) = Layer.Forward(spec, p, s1, x2, RandomKey.FromSeed(2));
        double m1 = 0.75 * 0 + 0.25 * 4, v1 = 0.75 * 1 + 0.25 * 13;
        double m2 = 0.75 * m1 + 0.25 * 1, v2 = 0.75 * v1 + 0.25 * (20.0 / 3);
        Assert.Equal(m1, s1[0][0], 15); Assert.Equal(v1, s1[1][0], 14);
        Assert.Equal(m2, s2[0][0], 15); Assert.Equal(v2, s2[1][0], 14);
        Assert.Equal(2.0, s2[2][0]);
        var xe = NdArray.From<double>([0.5, -1.5], 2, 1);
        var dy = NdArray.From<double>([2, -3], 2, 1);
        var (y, _) = Layer.Forward(spec, p, s2, xe);
        var (dx, grads, after) = Layer.Backward(spec, p, s2, xe, dy);
        double r = 1 / Math.Sqrt(v2 + 1e-5);
        Assert.Equal((0.5 - m2) * r * 3 - 1, y[0], 13); Assert.Equal((-1.5 - m2) * r * 3 - 1, y[1], 13);
        Assert.Equal(2 * 3 * r, dx[0], 13); Assert.Equal(-3 * 3 * r, dx[1], 13);
        Assert.Equal(2 * (0.5 - m2) * r + -3 * (-1.5 - m2) * r, grads[0][0], 13);
        Assert.Equal(-1.0, grads[1][0], 15);
        Assert.Equal(s2[0].Span.ToArray(), after[0].Span.ToArray());       // evaluation reads the state, never moves it
        Assert.Equal(2.0, after[2][0]);
    }

    [Fact]
    public void Batch_norm_trains_on_two_values_per_channel_the_least_it_can()
    {
        var spec = new BatchNormSpec(1);
        var (y, _) = Layer.Forward(spec, spec.Init<double>(Shape.Of(1), default), spec.InitState<double>(Shape.Of(1)), NdArray.From<double>([0, 2], 2, 1), RandomKey.FromSeed(1));
        double r = 1 / Math.Sqrt(1 + 1e-5);
        Assert.Equal(new[] { -r, r }, y.Span.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Layer.Forward(spec, spec.Init<double>(Shape.Of(1), default), spec.InitState<double>(Shape.Of(1)), NdArray.From<double>([5], 1, 1), RandomKey.FromSeed(1)));
        Assert.Equal("x", e.ParamName);
    }

    /// <summary>Called in place without its running statistics (a user's own driver), batch norm says what it needs.</summary>
    [Fact]
    public void Batch_norm_in_place_without_its_state_names_the_state()
    {
        var spec = new BatchNormSpec(1);
        double[] x = [1, 2], y = new double[2];
        var scratch = new byte[spec.ScratchBytes<double>(Shape.Of(1), 2)];
        double[][] ps = [[1.0], [0.0]];
        foreach (var key in new RandomKey?[] { RandomKey.FromSeed(1), null })
        {
            var e = Assert.Throws<ArgumentException>(() => spec.Forward(new ForwardArgs<double>(2, Shape.Of(1), Shape.Of(1), x, y, ps, scratch, key, 1)));
            Assert.Equal("state", e.ParamName);
            Assert.Contains("batch norm in " + (key is null ? "evaluation" : "training") + " needs its running statistics (layer state)", e.Message);
        }
    }

    /// <summary>The stateful Layer.Forward/Backward check every argument: nulls by name, a rank-0 x, the parameters, the number
    /// and shapes of the state arrays (a null among them too), and dy.</summary>
    [Fact]
    public void The_stateful_layer_API_checks_its_arguments_by_name()
    {
        var spec = new BatchNormSpec(2);
        var shape = Shape.Of(2);
        var ps = spec.Init<double>(shape, default);
        var st = spec.InitState<double>(shape);
        var x = NdArray.From<double>([1, 2, 3, 5], 2, 2);
        var key = RandomKey.FromSeed(1);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(null!, ps, st, x, key)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(spec, null!, st, x, key)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(spec, ps, null!, x, key)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(spec, ps, st, null!, key)).ParamName);
        Refused<ArgumentException>(() => Layer.Forward<double>(spec, ps, st, NdArray.From<double>([1.0]), key), "x", "x needs a row dimension: [rows, …example shape]");
        Refused<ArgumentException>(() => Layer.Forward<double>(new FlattenSpec(), [], NdArray.From<double>([1.0]), key), "x", "x needs a row dimension: [rows, …example shape]");
        Refused<ArgumentException>(() => Layer.Forward<double>(spec, [ps[0]], st, x, key), "parameters", "the batch-norm layer has 2 parameters (weight, bias), got 1");
        Refused<ArgumentException>(() => Layer.Forward<double>(spec, ps, [st[0], st[1]], x, key), "state",
            "the batch-norm layer has 3 state arrays (running_mean, running_var, num_batches_tracked), got 2");
        Refused<ArgumentException>(() => Layer.Forward<double>(spec, ps, [st[0], NdArray.Vector(1.0, 1.0, 1.0), st[2]], x, key), "state", "state running_var must be [2], got [3]");
        Refused<ArgumentException>(() => Layer.Forward<double>(spec, ps, [st[0], st[1], null!], x, key), "state", "state num_batches_tracked must be [], got null");
        Assert.Equal("dy", Assert.Throws<ArgumentNullException>(() => Layer.Backward<double>(spec, ps, st, x, null!, key)).ParamName);
        Refused<ArgumentException>(() => Layer.Backward<double>(spec, ps, st, x, NdArray.From<double>([1, 2], 1, 2), key), "dy", "dy must have the output's shape [2, 2], got [1, 2]");
    }
}
