using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>The thread budget changes speed only: a step, a gradient and a whole fit give the same bits on 1, 2 or 3 threads.</summary>
/// <remarks>The networks are wide enough (a 96-512-256-10 MLP at batch 128: products of 6–17 M multiply-adds, above
/// <see cref="Gemm.ParallelThreshold"/>) that the products really run on two threads; the small ones run on one either way.</remarks>
public sealed class ThreadsTests
{
    private static readonly Parallelism One = new(1), Two = new(2), Three = new(3);

    private static (ModelSpec Spec, DataSet<T> Data) Problem<T>(int rows, double dropout = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var spec = ModelSpec.Mlp([96, 512, 256, 10], new ReluSpec(), new SoftmaxCrossEntropySpec(), dropout: dropout);
        var r = new System.Random(42);
        var x = new T[rows * 96];
        for (int i = 0; i < x.Length; i++) x[i] = T.CreateChecked(r.NextDouble() * 2 - 1);
        var y = new T[rows];
        for (int i = 0; i < rows; i++) y[i] = T.CreateChecked(r.Next(10));
        return (spec, new DataSet<T>(NdArray.From<T>(x, rows, 96), NdArray.From<T>(y, rows)));
    }

    private static void AssertSameBits<T>(ParamTree<T> expected, ParamTree<T> actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].Equals(actual[i]), $"{what}: {expected.Names[i]} differs");
    }

    [Fact]
    public void ValueAndGrad_gives_the_same_bits_on_1_2_and_3_threads()
    {
        var (spec, data) = Problem<float>(128);
        var p = Model.Init<float>(spec, RandomKey.FromSeed(7));
        var (l1, g1) = Model.ValueAndGrad(spec, p, data.AsBatch(), null, One);
        foreach (var par in new[] { Two, Three, Parallelism.AllCores })
        {
            var (l, g) = Model.ValueAndGrad(spec, p, data.AsBatch(), null, par);
            Assert.Equal(l1, l);
            AssertSameBits(g1, g, $"{par.Threads} threads");
        }
    }

    [Fact]
    public void Forward_and_the_backprop_trace_give_the_same_bits_on_1_and_2_threads()
    {
        var (spec, data) = Problem<double>(128);
        var p = Model.Init<double>(spec, RandomKey.FromSeed(8));
        Assert.Equal(Model.Forward(spec, p, data.X, null, One), Model.Forward(spec, p, data.X, null, Two));
        var t1 = Model.Backprop(spec, p, data.AsBatch(), null, One);
        var t2 = Model.Backprop(spec, p, data.AsBatch(), null, Two);
        Assert.Equal(t1.Loss, t2.Loss);
        for (int i = 0; i < t1.Activations.Length; i++)
        {
            Assert.True(t1.Activations[i].Equals(t2.Activations[i]), $"activation {i} differs");
            Assert.True(t1.ActivationGrads[i].Equals(t2.ActivationGrads[i]), $"activation gradient {i} differs");
        }
        AssertSameBits(t1.Grads, t2.Grads, "trace");
    }

    [Fact]
    public void ValueAndGrad_equals_the_backprop_trace_that_also_computes_the_input_gradient()
    {
        // ValueAndGrad skips the first layer's dx product; the parameter gradients must not notice.
        var (spec, data) = Problem<float>(128);
        var p = Model.Init<float>(spec, RandomKey.FromSeed(9));
        var (loss, grads) = Model.ValueAndGrad(spec, p, data.AsBatch(), null, Two);
        var trace = Model.Backprop(spec, p, data.AsBatch(), null, Two);
        Assert.Equal(trace.Loss, loss);
        AssertSameBits(trace.Grads, grads, "ValueAndGrad vs Backprop");
    }

    private static void FitAgrees<T>(double dropout) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (spec, data) = Problem<T>(300, dropout);
        var opt = Optimizer.Adam();
        var start = Trainer.Init<T>(spec, opt, RandomKey.FromSeed(3));
        var config = new TrainConfig(BatchSize: 128, Epochs: 2);
        var one = Trainer.Fit(spec, opt, start, data, config, One);
        var two = Trainer.Fit(spec, opt, start, data, config, Two);
        AssertSameBits(one.State.Params, two.State.Params, $"Fit<{typeof(T).Name}> 1 vs 2 threads");
        Assert.Equal(one.State.OptState, two.State.OptState);
        Assert.Equal(one.State.Step, two.State.Step);
        Assert.True(one.History.Equals(two.History), "the loss histories differ");

        // And both equal the plain fold of Step on one thread, batch after batch.
        var s = start;
        for (int e = 0; e < config.Epochs; e++)
        {
            foreach (var b in Trainer.Batches(data, config, s.Key, s.Epoch)) s = Trainer.Step(spec, opt, s, b, One).State;
            s = s with { Epoch = s.Epoch + 1 };
        }
        AssertSameBits(s.Params, two.State.Params, $"Fit<{typeof(T).Name}> on 2 threads vs Step folded on 1");
    }

    [Fact]
    public void Fit_gives_the_same_bits_on_1_and_2_threads_float() => FitAgrees<float>(0);

    [Fact]
    public void Fit_gives_the_same_bits_on_1_and_2_threads_double() => FitAgrees<double>(0);

    [Fact]
    public void Fit_with_dropout_gives_the_same_bits_on_1_and_2_threads() => FitAgrees<float>(0.2);

    // ── The fold in workspaces (Trainer.Fit and RunEpoch) against the pure composition of Step ─────────────────────

    private static DataSet<T> Blobs<T>(int rows, int features, int classes, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed);
        var x = new T[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = T.CreateChecked(r.NextDouble() * 4 - 2);
        var y = new T[rows];
        for (int i = 0; i < rows; i++) y[i] = T.CreateChecked(r.Next(classes));
        return new DataSet<T>(NdArray.From<T>(x, rows, features), NdArray.From<T>(y, rows));
    }

    public static TheoryData<string> FoldCases() => [.. FoldCase.All.Keys];

    /// <summary>Every layer kind, loss path and optimizer transform the fold knows, and some it does not (which must fall back).</summary>
    private static class FoldCase
    {
        public static readonly Dictionary<string, (ModelSpec Spec, GradientTransform Optimizer)> All = new()
        {
            ["relu-adam"] = (ModelSpec.Mlp([6, 9, 4], new ReluSpec(), new SoftmaxCrossEntropySpec()), Optimizer.Adam(0.01)),
            ["gelu-dropout-adamw"] = (ModelSpec.Mlp([6, 9, 7, 4], new GeluSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.3), Optimizer.AdamW(0.01)),
            ["sigmoid-adam-l2-amsgrad"] = (ModelSpec.Mlp([6, 9, 4], new SigmoidSpec(), new SoftmaxCrossEntropySpec()), Optimizer.Adam(0.01, weightDecay: 0.1, amsGrad: true)),
            ["tanh-adam-l2"] = (ModelSpec.Mlp([6, 9, 4], new TanhSpec(), new SoftmaxCrossEntropySpec()), Optimizer.Adam(0.01, weightDecay: 0.1)),
            ["leaky-nesterov"] = (ModelSpec.Mlp([6, 9, 4], new LeakyReluSpec(0.2), new SoftmaxCrossEntropySpec()), Optimizer.Nesterov(0.05, weightDecay: 0.01)),
            ["identity-rmsprop-centred"] = (ModelSpec.Mlp([6, 9, 4], new IdentitySpec(), new SoftmaxCrossEntropySpec()), Optimizer.RmsProp(0.01, centered: true, momentum: 0.3)),
            ["relu-clip-sgd"] = (ModelSpec.Mlp([6, 9, 4], new ReluSpec(), new SoftmaxCrossEntropySpec()),
                GradientTransform.Chain(new ClipByGlobalNorm(0.05), new ScaleByLearningRate(new Schedule.Cosine(0.1, 10)))),
            ["smoothing"] = (ModelSpec.Mlp([6, 9, 4], new ReluSpec(), new SoftmaxCrossEntropySpec(LabelSmoothing: 0.1)), Optimizer.Adam(0.01)),
            ["class-weights"] = (ModelSpec.Mlp([6, 9, 4], new ReluSpec(), new SoftmaxCrossEntropySpec([1.0, 2.0, 0.5, 1.0])), Optimizer.Adam(0.01)),
            ["bare-adam-no-chain"] = (ModelSpec.Mlp([6, 9, 4], new ReluSpec(), new SoftmaxCrossEntropySpec()), new ScaleByAdam()),
        };
    }

    [Theory]
    [MemberData(nameof(FoldCases))]
    public void Fit_in_workspaces_equals_Step_folded_batch_after_batch(string name)
    {
        var (spec, opt) = FoldCase.All[name];
        foreach (bool shuffle in new[] { false, true })
        {
            var data = Blobs<float>(45, 6, 4, 17);
            var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(21));
            var config = new TrainConfig(BatchSize: 8, Epochs: 3, Shuffle: shuffle);
            var losses = new List<double>();
            var expected = TrainingProblems.StepFold(spec, opt, start, data, config, losses, One);
            var fit = Trainer.Fit(spec, opt, start, data, config, Two);
            Assert.True(expected.Params.Equals(fit.State.Params), $"{name} (shuffle {shuffle}): parameters differ from Step folded");
            Assert.Equal(expected, fit.State);
            Assert.Equal(losses, fit.History.IterationLosses);
            var (epochState, epoch) = Trainer.RunEpoch(spec, opt, start, data, config, Two);
            var one = TrainingProblems.StepFold(spec, opt, start, data, new TrainConfig(BatchSize: 8, Epochs: 1, Shuffle: shuffle), [], One);
            Assert.Equal(one, epochState);
            Assert.Equal(0, epoch.Epoch);
        }
    }

    [Fact]
    public void Fit_in_workspaces_equals_Step_folded_for_mse_in_double()
    {
        var spec = ModelSpec.Mlp([5, 7, 3], new TanhSpec(), new MseSpec());
        var r = new System.Random(4);
        var x = NdArray.From<double>([.. Enumerable.Range(0, 33 * 5).Select(_ => r.NextDouble())], 33, 5);
        var y = NdArray.From<double>([.. Enumerable.Range(0, 33 * 3).Select(_ => r.NextDouble())], 33, 3);
        var data = new DataSet<double>(x, y);
        var opt = Optimizer.Momentum(0.05);
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(2));
        var config = new TrainConfig(BatchSize: 10, Epochs: 2, DropLast: true);
        var losses = new List<double>();
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config, losses, One), Trainer.Fit(spec, opt, start, data, config).State);
    }

    [Fact]
    public void Fit_leaves_the_starting_state_and_the_data_unchanged()
    {
        var (spec, opt) = FoldCase.All["gelu-dropout-adamw"];
        var data = Blobs<float>(40, 6, 4, 3);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(5));
        var paramsCopy = start.Params.Unflatten(start.Params.Flatten());
        var adam = (AdamState<float>)((ChainState)start.OptState).States[0];
        var mu = adam.Mu.Unflatten(adam.Mu.Flatten());
        var x = data.X.ToArray();
        var fit = Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 2));
        Assert.True(start.Params.Equals(paramsCopy));
        Assert.True(adam.Mu.Equals(mu));
        Assert.Equal(x, data.X.ToArray());
        Assert.False(fit.State.Params.Equals(start.Params));
    }

    [Fact]
    public void The_fused_Adam_step_equals_the_separate_kernels_on_1_and_2_threads()
    {
        foreach (int n in new[] { 0, 1, 7, 16, 33, 1000, 70_001 })
        foreach (var (coupled, decoupled) in new (float?, float?)[] { (null, null), (0.1f, null), (null, 0.01f) })
        {
            var r = new System.Random(n);
            float[] Values(bool positive) => [.. Enumerable.Range(0, n).Select(_ => (float)(positive ? r.NextDouble() : r.NextDouble() * 2 - 1))];
            var p = Values(false); var g = Values(false); var m = Values(false); var v = Values(true);
            float b1 = 0.9f, b2 = 0.999f, c1 = 1f - b1, c2 = 1f - b2, s = 1.7f, bc = 0.05f, eps = 1e-8f, f = -1e-3f;
            // The separate transforms, as the pure step runs them.
            var u = (float[])g.Clone();
            if (coupled is { } lc) Elementwise.ScaleAdd<float>(p, lc, u, u);
            var m2 = new float[n]; var v2 = new float[n]; var d = new float[n];
            OptimizerKernels.Moment<float>(m, b1, u, c1, m2);
            OptimizerKernels.SecondMoment<float>(v, b2, u, c2, v2);
            OptimizerKernels.AdamDirection<float>(m2, v2, s, bc, eps, d);
            if (decoupled is { } ld) Elementwise.ScaleAdd<float>(p, ld, d, d);
            Elementwise.Scale<float>(d, f, d);
            var p2 = new float[n];
            Elementwise.Add<float>(p, d, p2);
            foreach (int threads in new[] { 1, 2 })
            {
                var pf = (float[])p.Clone(); var mf = (float[])m.Clone(); var vf = (float[])v.Clone();
                OptimizerKernels.AdamStep<float>(pf, g, mf, vf, new AdamConstants<float>(b1, c1, b2, c2, s, bc, eps, f, coupled, decoupled), threads);
                Assert.Equal(p2, pf); Assert.Equal(m2, mf); Assert.Equal(v2, vf);
                // Reading the moments from one place and writing them to another (a first step from a state it did not copy):
                // the same bits, and the moments it read untouched.
                var pr = (float[])p.Clone(); var mIn = (float[])m.Clone(); var vIn = (float[])v.Clone(); var mOut = new float[n]; var vOut = new float[n];
                OptimizerKernels.AdamStep<float>(pr, g, mIn, vIn, mOut, vOut, new AdamConstants<float>(b1, c1, b2, c2, s, bc, eps, f, coupled, decoupled), threads);
                Assert.Equal(p2, pr); Assert.Equal(m2, mOut); Assert.Equal(v2, vOut); Assert.Equal(m, mIn); Assert.Equal(v, vIn);
            }
        }
    }
}
