using System.Collections.Immutable;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Conv2d, MaxPool2d, AvgPool2d and Flatten: the verification kit over random geometries, thread independence on a
/// conv large enough for the GEMM to split, a small CNN trained by the fold (= pure steps, 0 bytes per step), and bad arguments
/// refused by name.</summary>
public sealed class ConvolutionTests
{
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    /// <summary>A window (kernel, stride, padding) on one axis and an input extent it fits: pad ≤ k/2 when <paramref name="pool"/>.</summary>
    private static Gen<(int K, int S, int P, int N)> Axis(bool pool) =>
        from k in Gen.Choose(1, 3)
        from s in Gen.Choose(1, 2)
        from p in Gen.Choose(0, pool ? k / 2 : 1)
        from n in Gen.Choose(Math.Max(1, k - 2 * p), 5)
        select (k, s, p, n);

    [Law(25)]
    public Property Conv2d_of_random_geometry_passes_the_kit() =>
        Prop.ForAll((from c in Gen.Choose(1, 2)
                     from o in Gen.Choose(1, 3)
                     from h in Axis(false)
                     from w in Axis(false)
                     from bias in Gen.Elements(true, false)
                     from rows in Gen.Choose(1, 3)
                     from seed in Generators.Seed
                     select (c, o, h, w, bias, rows, seed)).ToArbitrary(),
            t => Passes(Verify.Layer(new Conv2dSpec(t.c, t.o, t.h.K, t.w.K, t.h.S, t.w.S, t.h.P, t.w.P, t.bias), Shape.Of(t.c, t.h.N, t.w.N), t.rows, t.seed)));

    [Law(25)]
    public Property MaxPool2d_of_random_geometry_passes_the_kit() =>
        Prop.ForAll((from c in Gen.Choose(1, 2)
                     from h in Axis(true)
                     from w in Axis(true)
                     from rows in Gen.Choose(1, 3)
                     from seed in Generators.Seed
                     select (c, h, w, rows, seed)).ToArbitrary(),
            t => Passes(Verify.Layer(new MaxPool2dSpec(t.h.K, t.w.K, t.h.S, t.w.S, t.h.P, t.w.P), Shape.Of(t.c, t.h.N, t.w.N), t.rows, t.seed)));

    [Law(25)]
    public Property AvgPool2d_of_random_geometry_passes_the_kit() =>
        Prop.ForAll((from c in Gen.Choose(1, 2)
                     from h in Axis(true)
                     from w in Axis(true)
                     from include in Gen.Elements(true, false)
                     from rows in Gen.Choose(1, 3)
                     from seed in Generators.Seed
                     select (c, h, w, include, rows, seed)).ToArbitrary(),
            t => Passes(Verify.Layer(new AvgPool2dSpec(t.h.K, t.w.K, t.h.S, t.w.S, t.h.P, t.w.P, t.include), Shape.Of(t.c, t.h.N, t.w.N), t.rows, t.seed)));

    [Law(15)]
    public Property Flatten_of_any_shape_passes_the_kit() =>
        Prop.ForAll((from dims in Gen.Choose(1, 3).SelectMany(r => Gen.ArrayOf(Gen.Choose(1, 3), r))
                     from rows in Gen.Choose(1, 3)
                     from seed in Generators.Seed
                     select (dims, rows, seed)).ToArbitrary(),
            t => Passes(Verify.Layer(new FlattenSpec(), Shape.Of(t.dims), t.rows, t.seed)));

    [Fact]
    public void Defaults_are_pytorchs()
    {
        var pool = MaxPool2dSpec.Square(3);
        Assert.Equal((3, 3, 0, 0), (pool.StrideH!.Value, pool.StrideW!.Value, pool.PaddingH, pool.PaddingW));
        Assert.Equal(new MaxPool2dSpec(3, 3, 3, 3), pool);
        var avg = new AvgPool2dSpec(2, 2);
        Assert.True(avg.CountIncludePad);
        Assert.Equal(new AvgPool2dSpec(2, 2, 2, 2), avg);
        var conv = new Conv2dSpec(1, 2, 3, 3);
        Assert.Equal((1, 1, 0, 0, true), (conv.StrideH, conv.StrideW, conv.PaddingH, conv.PaddingW, conv.Bias));
        Assert.Equal(Shape.Of(2, 4, 6), conv.OutputShape(Shape.Of(1, 6, 8)));
        Assert.Equal(Shape.Of(12), new FlattenSpec().OutputShape(Shape.Of(3, 2, 2)));
        Assert.Equal(Shape.Of(4, 3, 2), Conv2dSpec.Square(1, 4, 3, stride: 2, padding: 1).OutputShape(Shape.Of(1, 5, 4)));
    }

    [Fact]
    public void Max_pooling_ties_go_to_the_first_maximum_in_the_window()
    {
        // one window of 2 × 2 holding 1, 3, 3, 2: the gradient goes to the first 3 (row-major), as PyTorch does
        var x = NdArray.From<double>([1, 3, 3, 2], 1, 1, 2, 2);
        var (dx, _) = Layer.Backward(MaxPool2dSpec.Square(2), [], x, NdArray.From<double>([5], 1, 1, 1, 1));
        Assert.Equal([0, 5, 0, 0], dx.Span.ToArray());
        // with padding, a window whose only real element is −∞ still picks it (padding is −∞ too, never an index)
        var y = Layer.Forward(MaxPool2dSpec.Square(2, stride: 1, padding: 1), [], NdArray.From<double>([double.NegativeInfinity], 1, 1, 1, 1));
        Assert.Equal([double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity], y.Span.ToArray());
    }

    // ---- Threads -------------------------------------------------------------------------------------------------------

    public static TheoryData<int, int> LargeConvs() => new() { { 1, 1 }, { 2, 1 }, { 1, 0 } };

    /// <summary>A conv whose products are above the GEMM's threshold for splitting (≥ 2²² multiply-adds): dW and dX always, each
    /// example's forward product at stride 1 (32·32²·144 and 32·34²·144), in float and double: 1 and 2 threads give the same bits.</summary>
    [Theory]
    [MemberData(nameof(LargeConvs))]
    public void A_large_conv_gives_the_same_bits_on_1_and_2_threads(int stride, int padding)
    {
        Same<float>(stride, padding);
        Same<double>(stride, padding);
    }

    private static void Same<T>(int stride, int padding) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var spec = Conv2dSpec.Square(16, 32, 3, stride, padding);
        var input = Shape.Of(16, 34, 34);
        var output = spec.OutputShape(input);
        const int rows = 3;
        var parameters = spec.Init<T>(input, RandomKey.FromSeed(5));
        var x = Sampling.Uniform<T>(RandomKey.FromSeed(6), -1, 1, [.. input.Batch(rows)]);
        var dy = Sampling.Uniform<T>(RandomKey.FromSeed(7), -1, 1, [.. output.Batch(rows)]);
        var (y1, (dx1, g1)) = (Layer.Forward(spec, parameters, x, null, new Parallelism(1)), Layer.Backward(spec, parameters, x, dy, null, new Parallelism(1)));
        var (y2, (dx2, g2)) = (Layer.Forward(spec, parameters, x, null, new Parallelism(2)), Layer.Backward(spec, parameters, x, dy, null, new Parallelism(2)));
        Assert.True(Bits(y1, y2), "y differs");
        Assert.True(Bits(dx1, dx2), "dx differs");
        for (int i = 0; i < g1.Length; i++) Assert.True(Bits(g1[i], g2[i]), $"gradient {i} differs");
    }

    private static bool Bits<T>(NdArray<T> a, NdArray<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.Span).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.Span));

    /// <summary>The conv's output equals the definition (a direct sum in double) on a strided, padded, rectangular case.</summary>
    [Fact]
    public void Conv2d_equals_the_direct_sum()
    {
        var spec = new Conv2dSpec(2, 3, 3, 2, 2, 1, 1, 0);
        var input = Shape.Of(2, 5, 4);
        var output = spec.OutputShape(input);
        var p = spec.Init<double>(input, RandomKey.FromSeed(2));
        var x = Sampling.Uniform<double>(RandomKey.FromSeed(3), -1, 1, [.. input.Batch(2)]);
        var y = Layer.Forward(spec, p, x);
        int oh = output[1], ow = output[2];
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < 3; o++)
                for (int a = 0; a < oh; a++)
                    for (int b = 0; b < ow; b++)
                    {
                        double s = p[1][o];
                        for (int c = 0; c < 2; c++)
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 2; j++)
                                {
                                    int ih = a * 2 - 1 + i, iw = b * 1 - 0 + j;
                                    if (ih >= 0 && ih < 5 && iw >= 0 && iw < 4) s += p[0][((o * 2 + c) * 3 + i) * 2 + j] * x[((n * 2 + c) * 5 + ih) * 4 + iw];
                                }
                        Assert.Equal(s, y[((n * 3 + o) * oh + a) * ow + b], 12);
                    }
    }

    // ---- A small CNN ---------------------------------------------------------------------------------------------------

    /// <summary>conv(1→4, 3, pad 1) → relu → maxpool 2 → flatten → dense(36 → 2) with softmax cross-entropy, on 6 × 6 images.</summary>
    internal static ModelSpec Cnn() => new(Shape.Of(1, 6, 6),
        [Conv2dSpec.Square(1, 4, 3, padding: 1), new ReluSpec(), MaxPool2dSpec.Square(2), new FlattenSpec(), new DenseSpec(4 * 3 * 3, 2)],
        new SoftmaxCrossEntropySpec());

    /// <summary>Class 0: a vertical bar at a random column; class 1: a horizontal bar at a random row; plus noise.</summary>
    internal static DataSet<T> Bars<T>(int n, int seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed);
        var x = new T[n * 36];
        var y = new T[n];
        for (int k = 0; k < n; k++)
        {
            int label = k % 2, at = r.Next(6);
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    x[k * 36 + i * 6 + j] = T.CreateChecked(((label == 0 ? j : i) == at ? 1.0 : 0.0) + 0.1 * (r.NextDouble() - 0.5));
            y[k] = T.CreateChecked(label);
        }
        return new DataSet<T>(NdArray.From<T>(x, n, 1, 6, 6), NdArray.From<T>(y, n));
    }

    [Fact]
    public void A_small_cnn_learns_bars_and_the_fold_gives_the_pure_steps_bits()
    {
        var spec = Cnn();
        var opt = Optimizer.Adam(0.02);
        var data = Bars<float>(64);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        var config = new TrainConfig(8, 15);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var losses = fit.History.EpochLosses;
        Assert.True(losses[^1] < 0.2 * losses[0], $"epoch losses {string.Join(", ", losses)}");
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config), fit.State);
        // and in double on 2 threads, the fold still equals the pure steps
        var startD = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(3));
        var two = new Parallelism(2);
        var shortConfig = new TrainConfig(8, 2);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, startD, Bars<double>(64), shortConfig, parallelism: two),
            Trainer.Fit(spec, opt, startD, Bars<double>(64), shortConfig, two).State);
    }

    [Fact]
    public void A_step_of_the_fold_allocates_nothing_on_a_cnn() =>
        FoldAllocation.AssertStepsAllocateNothing("cnn", Cnn(), Optimizer.Adam(0.01), Bars<float>(400));

    // ---- Bad arguments -------------------------------------------------------------------------------------------------

    [Fact]
    public void A_kernel_larger_than_the_padded_input_is_refused_at_OutputShape_by_name()
    {
        var e = Assert.Throws<ArgumentException>("input", () => Conv2dSpec.Square(1, 2, 5, padding: 1).OutputShape(Shape.Of(1, 2, 9)));
        Assert.Contains("KernelH", e.Message);
        e = Assert.Throws<ArgumentException>("input", () => new Conv2dSpec(1, 2, 1, 4).OutputShape(Shape.Of(1, 9, 3)));
        Assert.Contains("KernelW", e.Message);
        Assert.Contains("KernelH", Assert.Throws<ArgumentException>("input", () => MaxPool2dSpec.Square(3).OutputShape(Shape.Of(2, 2, 2))).Message);
        Assert.Contains("KernelW", Assert.Throws<ArgumentException>("input", () => new AvgPool2dSpec(1, 4, PaddingW: 1).OutputShape(Shape.Of(2, 2, 1))).Message);
        // just fitting is accepted: 3 + 2·1 = 5
        Assert.Equal(Shape.Of(2, 1, 1), Conv2dSpec.Square(1, 2, 5, padding: 1).OutputShape(Shape.Of(1, 3, 3)));
    }

    [Fact]
    public void A_channel_mismatch_or_a_non_image_is_refused_at_OutputShape_by_name()
    {
        Assert.Contains("InChannels", Assert.Throws<ArgumentException>("input", () => Conv2dSpec.Square(3, 2, 3).OutputShape(Shape.Of(1, 5, 5))).Message);
        Assert.Contains("[C, H, W]", Assert.Throws<ArgumentException>("input", () => Conv2dSpec.Square(1, 2, 3).OutputShape(Shape.Of(25))).Message);
        Assert.Contains("[C, H, W]", Assert.Throws<ArgumentException>("input", () => MaxPool2dSpec.Square(2).OutputShape(Shape.Of(4, 4))).Message);
        // and a model whose conv does not take the previous layer's channels is refused when built
        Assert.ThrowsAny<ArgumentException>(() => new ModelSpec(Shape.Of(3, 6, 6), [Conv2dSpec.Square(1, 2, 3), new FlattenSpec(), new DenseSpec(32, 2)], new SoftmaxCrossEntropySpec()));
    }

    /// <summary>Zero strides, kernels and channels, negative padding and pooling padding above k/2 are refused when the spec is
    /// made (as DenseSpec refuses a zero width), named by the hyperparameter, so OutputShape never sees one.</summary>
    [Fact]
    public void Zero_strides_and_other_bad_hyperparameters_are_refused_by_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>("StrideH", () => Conv2dSpec.Square(1, 2, 3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>("StrideW", () => new Conv2dSpec(1, 2, 3, 3, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>("StrideH", () => MaxPool2dSpec.Square(2, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>("StrideW", () => new AvgPool2dSpec(2, 2, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>("InChannels", () => Conv2dSpec.Square(0, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>("OutChannels", () => Conv2dSpec.Square(1, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>("KernelH", () => new Conv2dSpec(1, 1, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>("KernelW", () => new MaxPool2dSpec(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>("PaddingH", () => Conv2dSpec.Square(1, 1, 3, padding: -1));
        Assert.Throws<ArgumentOutOfRangeException>("PaddingH", () => MaxPool2dSpec.Square(2, padding: 2));
        Assert.Throws<ArgumentOutOfRangeException>("PaddingW", () => new AvgPool2dSpec(3, 3, PaddingW: 2));
    }
}
