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

/// <summary>LayerNorm and BatchNorm: the verification kit (LayerNorm), gradients through the batch statistics against central
/// differences (BatchNorm, whose training forward carries state the kit does not take), the fold with batch norm and dropout
/// against pure steps, threads, and 0 bytes per step.</summary>
public sealed class NormalizationTests
{
    [Law(40)]
    public Property LayerNorm_passes_the_kit_over_random_shapes() =>
        Prop.ForAll((from rank in Gen.Choose(1, 3) from width in Gen.Choose(2, 7) from rows in Gen.Choose(1, 4) from affine in Gen.Elements(false, true) select (rank, width, rows, affine)).ToArbitrary(), t =>
        {
            var (rank, width, rows, affine) = t;
            var shape = new Shape([.. Enumerable.Range(0, rank).Select(i => i == rank - 1 ? width : 1 + (width + i) % 3)]);
            return Verify.Layer(new LayerNormSpec(Dims: 1 + (width % rank), Affine: affine), shape, rows, seed: (ulong)(width * 10 + rows)).Passed;
        });

    [Law(40)]
    public Property BatchNorm_passes_the_kit_in_training_and_in_evaluation_over_random_shapes() =>
        Prop.ForAll((from channels in Gen.Choose(1, 4) from rank in Gen.Choose(1, 3) from side in Gen.Choose(1, 3) from rows in Gen.Choose(2, 5) from training in Gen.Elements(false, true)
                     select (channels, rank, side, rows, training)).ToArbitrary(), t =>
        {
            var (channels, rank, side, rows, training) = t;
            var shape = new Shape([channels, .. Enumerable.Repeat(side, rank - 1)]);
            var report = Verify.Layer(new BatchNormSpec(channels), shape, rows, seed: (ulong)(channels * 100 + rows), training: training);
            return report.Passed.Label(report.ToString());
        });

    /// <summary>L = Σ y·dy for a fixed random dy: its central differences in x, weight and bias against BatchNorm's backward in
    /// training mode (the batch mean and variance depend on every x).</summary>
    [Law(30)]
    public Property BatchNorm_gradients_through_the_batch_statistics_agree_with_central_differences() =>
        Prop.ForAll((from channels in Gen.Choose(1, 3) from spatial in Gen.Choose(1, 3) from rows in Gen.Choose(2, 5) from seed in Gen.Choose(1, 1000) select (channels, spatial, rows, seed)).ToArbitrary(), t =>
        {
            var (channels, spatial, rows, seed) = t;
            var spec = new BatchNormSpec(channels);
            var shape = spatial == 1 ? Shape.Of(channels) : Shape.Of(channels, spatial);
            var rng = new System.Random(seed);
            double[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2)];
            var x = NdArray.From<double>(R(rows * shape.Size), [.. shape.Batch(rows)]);
            var dy = NdArray.From<double>(R(rows * shape.Size), [.. shape.Batch(rows)]);
            NdArray<double>[] p = [NdArray.Vector(R(channels)), NdArray.Vector(R(channels))];
            var state = spec.InitState<double>(shape);
            var key = RandomKey.FromSeed(1);
            double L(NdArray<double> xi, NdArray<double>[] pi) { var y = Layer.Forward(spec, pi, state, xi, key).Y; double s = 0; for (int i = 0; i < y.Length; i++) s += y[i] * dy[i]; return s; }
            var (dx, grads, _) = Layer.Backward(spec, p, state, x, dy, key);
            const double h = 1e-6;
            bool Near(double a, double n) => Math.Abs(a - n) <= GradCheck.Atol + GradCheck.Rtol * Math.Abs(n);
            for (int i = 0; i < x.Length; i++)
            {
                var up = x.Span.ToArray(); up[i] += h; var dn = x.Span.ToArray(); dn[i] -= h;
                double num = (L(NdArray.From<double>(up, [.. x.Shape]), p) - L(NdArray.From<double>(dn, [.. x.Shape]), p)) / (2 * h);
                if (!Near(dx[i], num)) return false;
            }
            for (int k = 0; k < 2; k++)
                for (int c = 0; c < channels; c++)
                {
                    NdArray<double>[] Shift(double by) { var q = p.Select(a => a.Span.ToArray()).ToArray(); q[k][c] += by; return [.. q.Select(a => NdArray.Vector(a))]; }
                    if (!Near(grads[k][c], (L(x, Shift(h)) - L(x, Shift(-h))) / (2 * h))) return false;
                }
            return true;
        });


    /// <summary>dense → batch norm → relu → dropout → dense → layer norm → dense, softmax cross-entropy.</summary>
    private static ModelSpec Mlpish() => new(2, [new DenseSpec(2, 8), new BatchNormSpec(8), new ReluSpec(), new DropoutSpec(0.2), new DenseSpec(8, 6), new LayerNormSpec(), new DenseSpec(6, 3)], new SoftmaxCrossEntropySpec());

    [Fact]
    public void The_fold_with_batch_norm_and_dropout_equals_the_pure_steps_and_moves_the_running_statistics()
    {
        var spec = Mlpish();
        var data = TrainingProblems.Blobs<float>(60);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked"], start.LayerState.Names.ToArray());
        var config = new TrainConfig(8, 3);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config), fit.State);
        Assert.Equal(3 * 8, fit.State.LayerState[2][0]); // 8 batches an epoch, 3 epochs
        Assert.NotEqual(start.LayerState[0], fit.State.LayerState[0]);
        var one = Trainer.Fit(spec, opt, start, data, config, new Parallelism(1)).State;
        var two = Trainer.Fit(spec, opt, start, data, config, new Parallelism(2)).State;
        Assert.Equal(one, two);
    }

    /// <summary>A batch norm large enough that its channels are cut among threads ([8, 16, 16] × 64 rows): forward in training
    /// (output, running statistics) and in evaluation, backward (affine gradients, dx), with and without the affine map, give
    /// the same bits on 1, 2 and 3 threads.</summary>
    [Fact]
    public void A_large_batch_norm_gives_the_same_bits_on_any_thread_count()
    {
        const int rows = 64, channels = 8;
        var shape = Shape.Of(channels, 16, 16);
        foreach (bool affine in new[] { true, false })
            foreach (bool training in new[] { true, false })
            {
                var spec = new BatchNormSpec(channels, Affine: affine);
                (float[] Y, float[] Rm, float[] Rv, float[] Dx, float[][] G) Run(int threads)
                {
                    var r = new System.Random(5);
                    float[] Values(int n, double scale, double shift) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * scale + shift); return v; }
                    var x = Values(rows * shape.Size, 4, -1); var dy = Values(rows * shape.Size, 2, -1);
                    float[][] ps = affine ? [Values(channels, 1, 0.5), Values(channels, 1, -0.5)] : [];
                    float[][] state = [Values(channels, 1, 0), Values(channels, 1, 0.5), [3f]];
                    var scratch = new byte[spec.ScratchBytes<float>(shape, rows)];
                    var y = new float[x.Length]; var dx = new float[x.Length];
                    float[][] g = affine ? [new float[channels], new float[channels]] : [];
                    RandomKey? key = training ? new RandomKey(1, 2) : null;
                    spec.Forward(new ForwardArgs<float>(rows, shape, shape, x, y, ps, scratch, key, threads, state));
                    spec.Backward(new BackwardArgs<float>(rows, shape, shape, x, y, dy, dx, true, ps, g, scratch, key, threads));
                    return (y, state[0], state[1], dx, g);
                }
                var one = Run(1);
                foreach (int threads in new[] { 2, 3 })
                {
                    var other = Run(threads);
                    string what = $"affine {affine}, training {training}, {threads} threads";
                    Assert.True(one.Y.AsSpan().SequenceEqual(other.Y), $"y, {what}");
                    Assert.True(one.Rm.AsSpan().SequenceEqual(other.Rm) && one.Rv.AsSpan().SequenceEqual(other.Rv), $"running statistics, {what}");
                    Assert.True(one.Dx.AsSpan().SequenceEqual(other.Dx), $"dx, {what}");
                    for (int j = 0; j < one.G.Length; j++) Assert.True(one.G[j].AsSpan().SequenceEqual(other.G[j]), $"gradient {j}, {what}");
                }
            }
    }

    [Fact]
    public void Bad_arguments_are_refused_by_name()
    {
        Assert.Contains("takes examples [4], [4, L] or [4, H, W], not [3]", Assert.Throws<ArgumentException>(() => new BatchNormSpec(4).OutputShape(Shape.Of(3))).Message);
        Assert.Equal("Channels", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormSpec(0)).ParamName);
        Assert.Equal("Momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormSpec(2, Momentum: 1.5)).ParamName);
        Assert.Equal("Eps", Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNormSpec(Eps: 0)).ParamName);
        Assert.Contains("cannot take examples of shape [5]", Assert.Throws<ArgumentException>(() => new LayerNormSpec(Dims: 2).OutputShape(Shape.Of(5))).Message);
        var spec = new BatchNormSpec(2);
        var x = NdArray.From<double>([1.0, 2.0], 1, 2);
        var e = Assert.Throws<ArgumentException>(() => Layer.Forward(spec, spec.Init<double>(Shape.Of(2), default), spec.InitState<double>(Shape.Of(2)), x, RandomKey.FromSeed(1)));
        Assert.Contains("needs more than one value per channel, got 1", e.Message);
        Assert.Contains("carries state", Assert.Throws<ArgumentException>(() => Layer.Forward(spec, spec.Init<double>(Shape.Of(2), default), x)).Message);
    }
}
