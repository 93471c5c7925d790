using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>The fold's one pass for a ReLU followed by max pooling (<see cref="ReluMaxPool2dSpec"/>) against the two layers run
/// one after the other: the same bits of y and of dL/dx, for float and double, on the 2×2 vector paths (4- and 8-wide
/// blocks) and the general loop (overlapping and padded windows), with inputs full of ties, zeros of both signs, negatives,
/// infinities and NaNs; and the fold takes it for the pair and only for the pair.</summary>
public sealed class FusedReluMaxPoolTests
{
    private static readonly MaxPool2dSpec[] Pools =
        [MaxPool2dSpec.Square(2), MaxPool2dSpec.Square(3, 2, 1), MaxPool2dSpec.Square(3, 1, 1), MaxPool2dSpec.Square(2, 1), new MaxPool2dSpec(2, 3, 1, 2, 1, 0)];

    /// <summary>Values drawn from a small set so windows tie, hold only values ≤ 0, or hold a NaN; payloads of two NaNs differ.</summary>
    private static T[] Values<T>(int count, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed);
        T nan2 = T.CreateChecked(BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0123)));
        T[] special = [T.Zero, T.NegativeZero, T.One, -T.One, T.CreateChecked(2), T.CreateChecked(-3), T.NaN, nan2, T.PositiveInfinity, T.NegativeInfinity];
        var a = new T[count];
        for (int i = 0; i < count; i++)
        {
            int k = r.Next(40);
            a[i] = k < special.Length ? special[k] : T.CreateChecked(r.NextDouble() * 4 - 2.5);
        }
        return a;
    }

    private static void Same<T>(T[] want, T[] got, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < want.Length; i++)
        {
            long w = BitConverter.DoubleToInt64Bits(double.CreateChecked(want[i])), g = BitConverter.DoubleToInt64Bits(double.CreateChecked(got[i]));
            // Through double: a float NaN's payload survives the widening; the sign of a zero too.
            Assert.True(w == g && (typeof(T) != typeof(float) || BitConverter.SingleToInt32Bits(float.CreateChecked(want[i])) == BitConverter.SingleToInt32Bits(float.CreateChecked(got[i]))),
                $"{what}[{i}]: {got[i]} != {want[i]}");
        }
    }

    private static bool FusedIsThePair<T>(MaxPool2dSpec pool, int c, int h, int w, int rows, int threads, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = Shape.Of(c, h, w);
        var output = pool.OutputShape(input);
        var relu = new ReluSpec();
        var fused = pool.FusedAfter(relu)!;
        var x = Values<T>(rows * input.Size, seed);
        var dy = Values<T>(rows * output.Size, seed + 1);
        // The pair: ReLU, then the pool; backward the pool, then ReLU's.
        var mid = new T[x.Length]; var y = new T[dy.Length];
        var poolScratch = new byte[pool.ScratchBytes<T>(input, rows)];
        relu.Forward(new ForwardArgs<T>(rows, input, input, x, mid, [], [], null, threads));
        pool.Forward(new ForwardArgs<T>(rows, input, output, mid, y, [], poolScratch, null, threads));
        var dmid = new T[x.Length]; var dx = new T[x.Length];
        pool.Backward(new BackwardArgs<T>(rows, input, output, mid, y, dy, dmid, true, [], [], poolScratch, null, threads));
        relu.Backward(new BackwardArgs<T>(rows, input, input, x, mid, dmid, dx, true, [], [], [], null, threads));
        // The fused pass, on buffers that start full of garbage (it must write every element).
        var fy = Values<T>(dy.Length, seed + 2); var fdx = Values<T>(x.Length, seed + 3);
        var scratch = new byte[fused.ScratchBytes<T>(input, rows)];
        fused.Forward(new ForwardArgs<T>(rows, input, output, x, fy, [], scratch, null, threads));
        fused.Backward(new BackwardArgs<T>(rows, input, output, x, fy, dy, fdx, true, [], [], scratch, null, threads));
        Same(y, fy, $"{pool} {input} y");
        Same(dx, fdx, $"{pool} {input} dx");
        return true;
    }

    /// <summary>A pool of <see cref="Pools"/>, an input [c, h, w] within the bounds, rows, threads 1–3 and a seed.</summary>
    private static Gen<(MaxPool2dSpec Pool, int C, int H, int W, int Rows, int Threads, int Seed)> Cases(int channels, int height, int width, int minRows) =>
        from p in Gen.Choose(0, Pools.Length - 1)
        from c in Gen.Choose(1, channels)
        from h in Gen.Choose(3, height)
        from w in Gen.Choose(3, width)
        from rows in Gen.Choose(minRows, 3)
        from threads in Gen.Choose(1, 3)
        from seed in Gen.Choose(0, 1_000_000)
        select (Pools[p], c, h, w, rows, threads, seed);

    private static void Property<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        Prop.ForAll(Cases(3, 12, 40, 1).ToArbitrary(), t => FusedIsThePair<T>(t.Pool, t.C, t.H, t.W, t.Rows, t.Threads, t.Seed)).QuickCheckThrowOnFailure();

    [Fact] public void Relu_then_max_pool_in_one_pass_is_the_pair_bit_for_bit_float() => Property<float>();
    [Fact] public void Relu_then_max_pool_in_one_pass_is_the_pair_bit_for_bit_double() => Property<double>();

    /// <summary>The README CNN's two blocks (28 × 28 → 14 × 14 at 32 channels: the 8-wide blocks; 14 × 14 → 7 × 7: the 4-wide
    /// ones), which the random sizes above reach only by chance.</summary>
    [Theory]
    [InlineData(32, 28, 28)]
    [InlineData(64, 14, 14)]
    public void The_readme_cnn_blocks_fuse_to_the_pairs_bits(int c, int h, int w)
    {
        for (int seed = 0; seed < 3; seed++)
        {
            FusedIsThePair<float>(MaxPool2dSpec.Square(2), c, h, w, rows: 3, threads: 2, seed);
            FusedIsThePair<double>(MaxPool2dSpec.Square(2), c, h, w, rows: 2, threads: 2, seed);
        }
    }

    /// <summary>Batch norm, ReLU and max pool in one forward pass (the norm's output plane by plane in a thread's buffer) and one
    /// backward pass each, against the three layers: y, dx, the norm's gradients and its running statistics after the step,
    /// bit for bit, in training and in evaluation.</summary>
    private static bool NormFusedIsTheTriple<T>(MaxPool2dSpec pool, int c, int h, int w, int rows, int threads, int seed, bool training, bool affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = Shape.Of(c, h, w);
        var norm = new BatchNormSpec(c, Affine: affine);
        var relu = new ReluSpec();
        var output = pool.OutputShape(input);
        var fused = pool.FusedAfter(relu)!.FusedAfter(norm)!;
        Assert.IsType<BatchNormReluMaxPool2dSpec>(fused);
        var r = new System.Random(seed);
        var x = Values<T>(rows * input.Size, seed);
        for (int i = 0; i < x.Length; i++) if (!T.IsFinite(x[i])) x[i] = T.CreateChecked(r.NextDouble() * 6 - 3); // finite statistics
        var dy = Values<T>(rows * output.Size, seed + 1);
        for (int i = 0; i < dy.Length; i++) if (!T.IsFinite(dy[i])) dy[i] = T.CreateChecked(r.NextDouble() - 0.5);
        T[][] ps = affine ? [[.. Enumerable.Range(0, c).Select(k => T.CreateChecked(0.5 + 0.3 * k))], [.. Enumerable.Range(0, c).Select(k => T.CreateChecked(0.2 * k - 0.3))]] : [];
        T[][] State() => [[.. Enumerable.Range(0, c).Select(k => T.CreateChecked(0.1 * k))], [.. Enumerable.Range(0, c).Select(k => T.CreateChecked(1 + 0.2 * k))], [T.CreateChecked(3)]];
        RandomKey? key = training ? RandomKey.FromSeed(7) : null;
        // The three layers.
        var st = State();
        var nScratch = new byte[norm.ScratchBytes<T>(input, rows)]; var pScratch = new byte[pool.ScratchBytes<T>(input, rows)];
        var ny = new T[x.Length]; var ry = new T[x.Length]; var y = new T[dy.Length];
        norm.Forward(new ForwardArgs<T>(rows, input, input, x, ny, ps, nScratch, key, threads, st));
        relu.Forward(new ForwardArgs<T>(rows, input, input, ny, ry, [], [], key, threads));
        pool.Forward(new ForwardArgs<T>(rows, input, output, ry, y, [], pScratch, key, threads));
        var dry = new T[x.Length]; var dny = new T[x.Length]; var dx = new T[x.Length];
        T[][] gs = [.. ps.Select(p => new T[p.Length])];
        pool.Backward(new BackwardArgs<T>(rows, input, output, ry, y, dy, dry, true, [], [], pScratch, key, threads));
        relu.Backward(new BackwardArgs<T>(rows, input, input, ny, ry, dry, dny, true, [], [], [], key, threads));
        norm.Backward(new BackwardArgs<T>(rows, input, input, x, ny, dny, dx, true, ps, gs, nScratch, key, threads));
        // The fused layer, on garbage-filled destinations.
        var fst = State();
        var scratch = new byte[fused.ScratchBytes<T>(input, rows)];
        var fy = Values<T>(dy.Length, seed + 2); var fdx = Values<T>(x.Length, seed + 3);
        T[][] fgs = [.. ps.Select(p => Values<T>(p.Length, seed + 4))];
        fused.Forward(new ForwardArgs<T>(rows, input, output, x, fy, ps, scratch, key, threads, fst));
        fused.Backward(new BackwardArgs<T>(rows, input, output, x, fy, dy, fdx, true, ps, fgs, scratch, key, threads));
        string what = $"{pool} {input} rows {rows} threads {threads} training {training} affine {affine}";
        Same(y, fy, what + " y");
        Same(dx, fdx, what + " dx");
        for (int i = 0; i < gs.Length; i++) Same(gs[i], fgs[i], what + $" gradient {i}");
        for (int i = 0; i < st.Length; i++) Same(st[i], fst[i], what + $" state {i}");
        Assert.Equal(norm.Parameters(input).Select(q => q.ToString()), fused.Parameters(input).Select(q => q.ToString()));
        Assert.Equal(norm.State(input).Select(q => q.ToString()), fused.State(input).Select(q => q.ToString()));
        return true;
    }

    private static void NormProperty<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var gen = from t in Cases(6, 10, 30, 2)
                  from training in ArbMap.Default.GeneratorFor<bool>()
                  from affine in ArbMap.Default.GeneratorFor<bool>()
                  select (t, training, affine);
        Prop.ForAll(gen.ToArbitrary(), u => NormFusedIsTheTriple<T>(u.t.Pool, u.t.C, u.t.H, u.t.W, u.t.Rows, u.t.Threads, u.t.Seed, u.training, u.affine))
            .QuickCheckThrowOnFailure();
    }

    [Fact] public void Batch_norm_relu_max_pool_in_one_pass_is_the_three_layers_bit_for_bit_float() => NormProperty<float>();
    [Fact] public void Batch_norm_relu_max_pool_in_one_pass_is_the_three_layers_bit_for_bit_double() => NormProperty<double>();

    [Theory]
    [InlineData(32, 28, 28)]
    [InlineData(64, 14, 14)]
    public void The_readme_cnn_blocks_fuse_with_their_batch_norms_to_the_layers_bits(int c, int h, int w)
    {
        NormFusedIsTheTriple<float>(MaxPool2dSpec.Square(2), c, h, w, rows: 3, threads: 2, seed: 1, training: true, affine: true);
        NormFusedIsTheTriple<float>(MaxPool2dSpec.Square(2), c, h, w, rows: 2, threads: 2, seed: 2, training: false, affine: true);
        NormFusedIsTheTriple<double>(MaxPool2dSpec.Square(2), c, h, w, rows: 2, threads: 1, seed: 3, training: true, affine: false);
    }

    [Fact]
    public void The_fold_fuses_a_batch_norm_into_the_pair_only_above_the_first_layer_with_parameters()
    {
        LayerSpec[] block(int c) => [new BatchNormSpec(c), new ReluSpec(), MaxPool2dSpec.Square(2)];
        var spec = new ModelSpec(Shape.Of(2, 8, 8), [.. block(2), Conv2dSpec.Square(2, 3, 3, padding: 1), .. block(3), new FlattenSpec(), new DenseSpec(12, 2)], new SoftmaxCrossEntropySpec());
        var runs = Fold<double>.Runs(spec);
        // The first block's norm is the first layer with parameters (no dx asked of it): only its ReLU and pool fuse.
        Assert.Same(spec.Layers[0], runs[0]); Assert.Null(runs[1]); Assert.IsType<ReluMaxPool2dSpec>(runs[2]);
        Assert.Null(runs[4]); Assert.Null(runs[5]); Assert.IsType<BatchNormReluMaxPool2dSpec>(runs[6]);
        Assert.Equal(4, Fold<double>.From(runs, 6));
        var opt = Optimizer.Adam(0.01);
        var data = new DataSet<double>(NdArray.From<double>(Enumerable.Range(0, 16 * 128).Select(i => Math.Sin(0.37 * i) - 0.2).ToArray(), 16, 2, 8, 8),
            NdArray.From<double>(Enumerable.Range(0, 16).Select(i => (double)(i % 2)).ToArray(), 16));
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(5));
        var config = new TrainConfig(4, 2);
        var fit = Trainer.Fit(spec, opt, start, data, config).State;
        Assert.Equal(NeuralPure.Properties.Training.TrainingProblems.StepFold(spec, opt, start, data, config), fit);
        Assert.Equal(8.0, fit.LayerState.Leaves[^1].ToArray()[0]); // the fused norm counted its batches (2 epochs of 4)
    }

    [Fact]
    public void The_fold_fuses_a_relu_before_a_max_pool_and_nothing_else()
    {
        var spec = new ModelSpec(Shape.Of(2, 8, 8),
        [
            new ReluSpec(), MaxPool2dSpec.Square(2),                       // fused, the model's first layers (the input is the data's)
            Conv2dSpec.Square(2, 3, 3, padding: 1), new ReluSpec(), AvgPool2dSpec.Square(2), // an average pool: not fused
            new ReluSpec(), MaxPool2dSpec.Square(2), new ReluSpec(),       // fused; the ReLU after the pool runs alone
            new FlattenSpec(), new DenseSpec(3, 2),
        ], new SoftmaxCrossEntropySpec());
        var runs = Fold<double>.Runs(spec);
        Assert.Null(runs[0]); Assert.IsType<ReluMaxPool2dSpec>(runs[1]);
        Assert.Same(spec.Layers[3], runs[3]); Assert.Same(spec.Layers[4], runs[4]);
        Assert.Null(runs[5]); Assert.IsType<ReluMaxPool2dSpec>(runs[6]); Assert.Same(spec.Layers[7], runs[7]);
        Assert.Equal([0, 0, 2, 3, 4, 5, 5, 7, 8, 9], Enumerable.Range(0, runs.Length).Select(i => Fold<double>.From(runs, i)));
        // A max pool whose input is not a ReLU's is not fused; nor is a ReLU after a layer with parameters fused into that layer.
        Assert.Null(MaxPool2dSpec.Square(2).FusedAfter(new LeakyReluSpec()));
        Assert.Null(new ReluSpec().FusedAfter(new DenseSpec(2, 2)));

        // The fit through the fused passes is the pure steps' bits (the pure path runs every layer).
        var opt = Optimizer.Adam(0.01);
        var data = new DataSet<double>(NdArray.From<double>(Enumerable.Range(0, 16 * 128).Select(i => Math.Sin(0.37 * i) - 0.2).ToArray(), 16, 2, 8, 8),
            NdArray.From<double>(Enumerable.Range(0, 16).Select(i => (double)(i % 2)).ToArray(), 16));
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(5));
        var config = new TrainConfig(4, 2);
        Assert.Equal(NeuralPure.Properties.Training.TrainingProblems.StepFold(spec, opt, start, data, config), Trainer.Fit(spec, opt, start, data, config).State);
    }
}
