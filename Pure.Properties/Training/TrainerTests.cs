using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>Small problems the trainer tests share.</summary>
internal static class TrainingProblems
{
    /// <summary>Three well-separated Gaussian blobs in 2-D (centres on a circle of radius 3, σ = 0.5), labels 0..2, in T.</summary>
    public static DataSet<T> Blobs<T>(int n, int seed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed);
        var x = new T[n * 2];
        var y = new T[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % 3;
            double angle = 2 * Math.PI * c / 3;
            double g1 = Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
            double g2 = Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
            x[2 * i] = T.CreateChecked(3 * Math.Cos(angle) + 0.5 * g1);
            x[2 * i + 1] = T.CreateChecked(3 * Math.Sin(angle) + 0.5 * g2);
            y[i] = T.CreateChecked(c);
        }
        return new DataSet<T>(NdArray.From<T>(x, n, 2), NdArray.From<T>(y, n));
    }

    public static ModelSpec Classifier(double dropout = 0) => ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(), dropout: dropout);

    public static ModelSpec Regressor() => ModelSpec.Mlp([2, 6, 1], new ReluSpec(), new MseSpec());

    /// <summary>Step folded batch after batch over <paramref name="config"/>'s epochs — the pure composition every fast path of
    /// Fit must equal; each step's loss goes into <paramref name="losses"/> when given.</summary>
    public static TrainState<T> StepFold<T>(ModelSpec spec, GradientTransform opt, TrainState<T> start, DataSet<T> data, TrainConfig config,
        List<double>? losses = null, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = start;
        for (int e = 0; e < config.Epochs; e++)
        {
            foreach (var b in Trainer.Batches(data, config, s.Key, s.Epoch))
            {
                var (next, loss) = Trainer.Step(spec, opt, s, b, parallelism);
                losses?.Add(double.CreateChecked(loss));
                s = next;
            }
            s = s with { Epoch = s.Epoch + 1 };
        }
        return s;
    }

    /// <summary>y = x₀ − 2x₁ + noise, for the regressor.</summary>
    public static DataSet<T> Linear<T>(int n, int seed = 2) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed);
        var x = new T[n * 2];
        var y = new T[n];
        for (int i = 0; i < n; i++)
        {
            double a = r.NextDouble() * 2 - 1, b = r.NextDouble() * 2 - 1;
            x[2 * i] = T.CreateChecked(a); x[2 * i + 1] = T.CreateChecked(b);
            y[i] = T.CreateChecked(a - 2 * b + 0.01 * (r.NextDouble() - 0.5));
        }
        return new DataSet<T>(NdArray.From<T>(x, n, 2), NdArray.From<T>(y, n, 1));
    }
}

/// <summary>Trainer: Fit is the fold of Step over the batches, bit for bit; determinism; the history; and that it learns.</summary>
/// <remarks>A thread-count test (Fit bit-identical on 1, 2, … threads) belongs with the thread option; Training/ThreadsTests.cs
/// (another file, owned elsewhere) holds it, so it is not repeated here.</remarks>
public sealed class TrainerTests
{
    /// <summary>Fit against an explicit loop: the batches cut by hand from the stored order (no shuffle) with DataSet.Gather, Step
    /// applied to each, the epoch counter bumped after each epoch. The final TrainState (parameters, optimizer state, counters,
    /// key) and every loss of the history must be equal bit for bit.</summary>
    private static void FitIsTheFoldOfStep<T>(GradientTransform opt, int batch, bool dropLast, int epochs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<T>(53);
        var start = Trainer.Init<T>(spec, opt, RandomKey.FromSeed(11));
        var config = new TrainConfig(batch, epochs, dropLast, Shuffle: false);
        var fit = Trainer.Fit(spec, opt, start, data, config);

        var s = start;
        var losses = new List<double>();
        for (int e = 0; e < epochs; e++)
        {
            int full = data.Rows / batch, count = dropLast ? full : (data.Rows + batch - 1) / batch;
            for (int i = 0; i < count; i++)
            {
                int from = i * batch, to = Math.Min(from + batch, data.Rows);
                var indices = Enumerable.Range(from, to - from).ToArray();
                var (next, loss) = Trainer.Step(spec, opt, s, data.Gather(indices));
                losses.Add(double.CreateChecked(loss));
                s = next;
            }
            s = s with { Epoch = s.Epoch + 1 };
        }
        Assert.True(s.Params.Equals(fit.State.Params), $"{typeof(T).Name}: parameters differ from the hand-written fold");
        Assert.Equal(s, fit.State);
        Assert.Equal(losses, fit.History.IterationLosses);
        Assert.Equal(epochs, fit.History.Epochs.Length);
    }

    [Fact] public void Fit_is_Step_applied_batch_after_batch_float_adam() => FitIsTheFoldOfStep<float>(Optimizer.Adam(0.01), 8, false, 3);
    [Fact] public void Fit_is_Step_applied_batch_after_batch_double_momentum_drop_last() => FitIsTheFoldOfStep<double>(Optimizer.Momentum(0.05), 10, true, 2);
    [Fact] public void Fit_is_Step_applied_batch_after_batch_float_adamw_cosine() => FitIsTheFoldOfStep<float>(Optimizer.AdamW(new Schedule.Cosine(0.02, 20)), 53, false, 4);

    /// <summary>With shuffling, the hand-written fold uses Trainer.Batches (whose permutation property BatchingTests checks).</summary>
    [Fact]
    public void Fit_with_shuffling_is_Step_folded_over_Batches_epoch_by_epoch()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(41);
        var opt = Optimizer.RmsProp(0.01, momentum: 0.5);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        var config = new TrainConfig(6, 3);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var s = start;
        var losses = new List<double>();
        for (int e = 0; e < config.Epochs; e++)
        {
            foreach (var b in Trainer.Batches(data, config, s.Key, s.Epoch))
            {
                var (next, loss) = Trainer.Step(spec, opt, s, b);
                losses.Add(loss);
                s = next;
            }
            s = s with { Epoch = s.Epoch + 1 };
        }
        Assert.Equal(s, fit.State);
        Assert.Equal(losses, fit.History.IterationLosses);
    }

    /// <summary>Model × loss × optimizer combinations for the fold law (any internal fast path of Fit must give the bits of the
    /// pure composition): every activation, dropout, MSE and (weighted, smoothed) cross-entropy, every alias with weight decay,
    /// AMSGrad, centring, schedules, and a nested chain with clipping.</summary>
    private static readonly Dictionary<string, (Func<ModelSpec> Spec, Func<GradientTransform> Opt)> Combos = new()
    {
        ["tanh ce adam"] = (() => ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec()), () => Optimizer.Adam(0.01)),
        ["relu ce adamw amsgrad"] = (() => ModelSpec.Mlp([2, 7, 5, 3], new ReluSpec(), new SoftmaxCrossEntropySpec()), () => Optimizer.AdamW(0.01, weightDecay: 0.05, amsGrad: true)),
        ["gelu ce nesterov wd"] = (() => ModelSpec.Mlp([2, 6, 3], new GeluSpec(), new SoftmaxCrossEntropySpec()), () => Optimizer.Nesterov(0.05, 0.8, 1e-3)),
        ["leaky ce rmsprop centred momentum"] = (() => ModelSpec.Mlp([2, 6, 3], new LeakyReluSpec(), new SoftmaxCrossEntropySpec()), () => Optimizer.RmsProp(0.01, momentum: 0.5, centered: true, weightDecay: 1e-3)),
        ["sigmoid weighted smoothed ce sgd wd"] = (() => ModelSpec.Mlp([2, 5, 3], new SigmoidSpec(), new SoftmaxCrossEntropySpec(System.Collections.Immutable.ImmutableArray.Create(0.5, 1.0, 2.0), 0.1)), () => Optimizer.Sgd(0.1, 1e-2)),
        ["relu dropout ce adam onecycle"] = (() => ModelSpec.Mlp([2, 9, 3], new ReluSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.25), () => Optimizer.Adam(new Schedule.OneCycle(0.02, 40))),
        ["tanh ce clipped adam (nested chain)"] = (() => ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec()), () => GradientTransform.Chain(new ClipByGlobalNorm(0.5), Optimizer.Adam(0.01))),
        ["tanh ce flat clip chain"] = (() => ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec()), () => GradientTransform.Chain(new ClipByGlobalNorm(0.5), new ScaleByAdam(), new AddDecayedWeights(0.01), new ScaleByLearningRate(new Schedule.StepDecay(0.01, 5, 0.5)))),
        ["relu mse momentum warmup-cosine"] = (() => ModelSpec.Mlp([2, 6, 6, 1], new ReluSpec(), new MseSpec()), () => Optimizer.Momentum(new Schedule.WarmupCosine(0.05, 5, 40), 0.9)),
        ["huber regression adamw"] = (() => ModelSpec.Mlp([2, 4, 1], new TanhSpec(), new HuberSpec(0.5)), () => Optimizer.AdamW(0.02)),
        // Tanh's backward reads its output, which dropout after it must not overwrite; RMSProp without centring.
        ["tanh dropout ce rmsprop"] = (() => ModelSpec.Mlp([2, 8, 3], new TanhSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.3), () => Optimizer.RmsProp(0.01)),
        // Dropout at rate 0 is the identity (it shares its input's buffer in the fold); a clip limit no gradient reaches.
        ["sigmoid rate-0 dropout ce unreached clip"] = (() => new ModelSpec(2, [new DenseSpec(2, 7), new SigmoidSpec(), new DropoutSpec(0), new DenseSpec(7, 3)], new SoftmaxCrossEntropySpec()),
            () => GradientTransform.Chain(new ClipByGlobalNorm(1e3), new ScaleByLearningRate(0.1))),
    };

    /// <summary>The combinations the workspace fold runs; the others (a nested chain) take the pure composition.</summary>

    public static TheoryData<string> ComboNames() { var d = new TheoryData<string>(); foreach (var k in Combos.Keys) d.Add(k); return d; }

    private static void FoldLaw<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var spec = Combos[name].Spec();
        var opt = Combos[name].Opt();
        var data = spec.Loss.UsesLabels ? TrainingProblems.Blobs<T>(37) : TrainingProblems.Linear<T>(37);
        var start = Trainer.Init<T>(spec, opt, RandomKey.FromSeed(31));
        var config = new TrainConfig(6, 3);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var s = start;
        var losses = new List<double>();
        var epochLosses = new List<double>();
        for (int e = 0; e < config.Epochs; e++)
        {
            double weighted = 0;
            foreach (var b in Trainer.Batches(data, config, s.Key, s.Epoch))
            {
                var (next, loss) = Trainer.Step(spec, opt, s, b);
                losses.Add(double.CreateChecked(loss));
                weighted += double.CreateChecked(loss) * b.Rows;
                s = next;
            }
            epochLosses.Add(weighted / data.Rows);
            s = s with { Epoch = s.Epoch + 1 };
        }
        Assert.Equal(epochLosses, fit.History.EpochLosses);
        for (int i = 0; i < s.Params.Count; i++)
            Assert.True(s.Params[i].Equals(fit.State.Params[i]), $"{name} <{typeof(T).Name}>: {s.Params.Names[i]} differs from the fold of Step");
        Assert.Equal(s.OptState, fit.State.OptState);
        Assert.Equal(s, fit.State);
        Assert.Equal(losses, fit.History.IterationLosses);
    }

    [Theory]
    [MemberData(nameof(ComboNames))]
    public void Fit_is_the_fold_of_Step_for_every_model_loss_and_optimizer_float(string name) => FoldLaw<float>(name);

    [Theory]
    [MemberData(nameof(ComboNames))]
    public void Fit_is_the_fold_of_Step_for_every_model_loss_and_optimizer_double(string name) => FoldLaw<double>(name);

    [Fact]
    public void The_same_seed_gives_the_same_bits_and_another_seed_does_not()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(60);
        var opt = Optimizer.Adam(0.01);
        var config = new TrainConfig(7, 3);
        FitResult<float> Run(ulong seed) => Trainer.Fit(spec, opt, Trainer.Init<float>(spec, opt, RandomKey.FromSeed(seed)), data, config);
        var a = Run(42);
        var b = Run(42);
        Assert.Equal(a.State, b.State);
        Assert.Equal(a.History, b.History);
        Assert.Equal(a.History.IterationLosses.ToArray(), b.History.IterationLosses.ToArray());
        Assert.False(a.State.Params.Equals(Run(43).State.Params));
    }

    /// <summary>Dropout draws its masks from the state's key and step, so a fit with dropout is still a pure function of the seed;
    /// and the masks really act (the same seed without dropout gives other bits).</summary>
    [Fact]
    public void Fit_with_dropout_is_deterministic_and_dropout_acts()
    {
        var spec = TrainingProblems.Classifier(dropout: 0.3);
        var data = TrainingProblems.Blobs<float>(60);
        var opt = Optimizer.Sgd(0.1);
        var config = new TrainConfig(10, 2);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(9));
        var a = Trainer.Fit(spec, opt, start, data, config);
        var b = Trainer.Fit(spec, opt, start, data, config);
        Assert.Equal(a.State, b.State);
        Assert.Equal(a.History, b.History);
        var plain = TrainingProblems.Classifier();
        // The same starting weights under the names the model without dropout layers gives them (2.* instead of 3.*).
        var sameWeights = new ParamTree<float>(plain.ParameterNames, start.Params.Leaves);
        var noDropout = Trainer.Fit(plain, opt, Trainer.Init(plain, opt, sameWeights, start.Key), data, config);
        Assert.False(noDropout.State.Params.Equals(a.State.Params));
        var otherKey = Trainer.Fit(spec, opt, start with { Key = RandomKey.FromSeed(10) }, data, config);
        Assert.False(otherKey.State.Params.Equals(a.State.Params));
    }

    [Fact]
    public void Bad_configurations_throw()
    {
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(0)).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(-5)).ParamName);
        Assert.Equal("Epochs", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(32, 0)).ParamName);
        Assert.Equal("Epochs", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(32, -1)).ParamName);
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<double>(10);
        var opt = Optimizer.Sgd();
        var s = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(1));
        // Drop-last with fewer rows than a batch leaves no iteration at all.
        Assert.Equal("config", Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, s, data, new TrainConfig(11, 1, DropLast: true))).ParamName);
        Assert.Throws<ArgumentNullException>(() => Trainer.Fit(spec, opt, s, data, null!));
        // A data set of the wrong width is rejected by the step.
        var wide = new DataSet<double>(NdArray.Zeros<double>(4, 3), NdArray.Zeros<double>(4));
        Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, s, wide, new TrainConfig(2, 1)));
    }

    /// <summary>The epoch loss is Σ(batch loss × batch rows)/examples: recomputed from the iteration losses and the batch sizes in
    /// the same order, bitwise; with unequal batches it differs from the plain mean of the iteration losses.</summary>
    [Law(20)]
    public Property Epoch_loss_is_the_example_weighted_mean_of_iteration_losses() =>
        Prop.ForAll(Gen.Choose(5, 80).ToArbitrary(), Gen.Choose(1, 30).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), (n, b, drop) =>
        {
            if (drop && n < b) return true.ToProperty();
            var spec = TrainingProblems.Regressor();
            var data = TrainingProblems.Linear<double>(n);
            var opt = Optimizer.Sgd(0.05);
            var fit = Trainer.Fit(spec, opt, Trainer.Init<double>(spec, opt, RandomKey.FromSeed((ulong)n)), data, new TrainConfig(b, 2, drop));
            var sizes = Batching.BatchRanges(n, b, drop).Select(r => r.End.Value - r.Start.Value).ToArray();
            var prop = true.ToProperty();
            foreach (var e in fit.History.Epochs)
            {
                double weighted = 0;
                for (int i = 0; i < sizes.Length; i++) weighted += e.IterationLosses[i] * sizes[i];
                double expected = weighted / sizes.Sum();
                prop = prop.And((e.IterationLosses.Length == sizes.Length).Label("iteration count"))
                           .And((e.Loss == expected).Label($"epoch {e.Epoch}: {e.Loss:R} vs weighted mean {expected:R}"));
            }
            return prop.And(fit.History.EpochLosses.SequenceEqual(fit.History.Epochs.Select(e => e.Loss)).Label("EpochLosses"))
                       .And(fit.History.Epochs.Select(e => e.Epoch).SequenceEqual([0, 1]).Label("epoch indices"));
        });

    [Fact]
    public void Epoch_loss_weights_a_short_last_batch_by_its_rows()
    {
        var spec = TrainingProblems.Regressor();
        var data = TrainingProblems.Linear<double>(21);
        var opt = Optimizer.Sgd(0.05);
        var fit = Trainer.Fit(spec, opt, Trainer.Init<double>(spec, opt, RandomKey.FromSeed(4)), data, new TrainConfig(10, 1, Shuffle: false));
        var l = fit.History.Epochs[0].IterationLosses;
        Assert.Equal(3, l.Length);
        Assert.Equal((l[0] * 10 + l[1] * 10 + l[2] * 1) / 21, fit.History.Epochs[0].Loss);
        Assert.NotEqual(l.Average(), fit.History.Epochs[0].Loss);
    }

    /// <summary>Step's loss is the batch's loss before the update, the same number Model.Loss gives (no dropout), and the new
    /// parameters are ApplyUpdates(θ, Update(∇L)).</summary>
    [Fact]
    public void Step_is_value_and_grad_then_update_then_apply()
    {
        var spec = TrainingProblems.Regressor();
        var data = TrainingProblems.Linear<double>(16);
        var opt = Optimizer.Adam(0.01);
        var s = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(8));
        var batch = data.AsBatch();
        var (next, loss) = Trainer.Step(spec, opt, s, batch);
        Assert.Equal(Model.Loss(spec, s.Params, batch), loss);
        var (_, grads) = Model.ValueAndGrad(spec, s.Params, batch);
        var (updates, optState) = opt.Update(grads, s.OptState, s.Params);
        Assert.Equal(Optimizer.ApplyUpdates(s.Params, updates), next.Params);
        Assert.Equal(optState, next.OptState);
    }

    /// <summary>Training learns: on three separable blobs a small MLP with Adam brings the epoch loss down tenfold and classifies
    /// at least 95% of the training set; on the linear regression MSE falls below 1% of its start.</summary>
    [Fact]
    public void Training_reduces_the_loss_on_a_small_separable_problem()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(150);
        var opt = Optimizer.Adam(0.02);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(2024));
        var fit = Trainer.Fit(spec, opt, start, data, new TrainConfig(16, 30));
        double before = Model.Loss(spec, start.Params, data.AsBatch());
        double after = Model.Loss(spec, fit.State.Params, data.AsBatch());
        Assert.True(after < 0.1 * before, $"loss {before} → {after}");
        Assert.True(fit.History.EpochLosses[^1] < fit.History.EpochLosses[0], "epoch losses did not fall");
        var output = Model.Forward(spec, fit.State.Params, data.X);
        int correct = Enumerable.Range(0, data.Rows).Count(i => Enumerable.Range(0, 3).MaxBy(c => output[i, c]) == (int)data.Y[i]);
        Assert.True(correct >= 0.95 * data.Rows, $"{correct}/{data.Rows} correct");

        var reg = TrainingProblems.Regressor();
        var lin = TrainingProblems.Linear<double>(200);
        var rs = Trainer.Init<double>(reg, opt, RandomKey.FromSeed(1));
        var rf = Trainer.Fit(reg, opt, rs, lin, new TrainConfig(20, 40));
        Assert.True(Model.Loss(reg, rf.State.Params, lin.AsBatch()) < 0.01 * Model.Loss(reg, rs.Params, lin.AsBatch()));
    }

    [Fact]
    public void Fit_leaves_its_arguments_unchanged()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<double>(30);
        var x = data.X.ToArray(); var y = data.Y.ToArray();
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(5));
        var p = start.Params.Flatten();
        var fit = Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 2));
        Assert.Equal(p, start.Params.Flatten());
        Assert.Equal(0, start.Step);
        Assert.Equal(opt.Init(start.Params), start.OptState);
        Assert.Equal(x, data.X.ToArray());
        Assert.Equal(y, data.Y.ToArray());
        Assert.NotEqual(p, fit.State.Params.Flatten());
    }

    // ── The observed fit: callbacks see the fold and may stop it; they never change its bits ──────────────

    /// <summary>For every model × optimizer combination (the workspace fold and the pure composition both): stop the observed fit
    /// after step <paramref name="stopAt"/>, go on from its (state, cursor); the final state equals the unobserved Fit's, the
    /// steps' losses are its history, every step report counts right, and the state each AfterEpoch was handed still equals —
    /// after the fold has gone on writing its workspaces — the pure composition's state after that epoch.</summary>
    private static void ObservedLaw<T>(string name, int stopAt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var spec = Combos[name].Spec();
        var opt = Combos[name].Opt();
        var data = spec.Loss.UsesLabels ? TrainingProblems.Blobs<T>(37) : TrainingProblems.Linear<T>(37);
        var start = Trainer.Init<T>(spec, opt, RandomKey.FromSeed(31));
        var config = new TrainConfig(6, 3); // 7 batches per epoch, the last one of 1 row
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var byEpoch = new List<TrainState<T>>();
        var s = start;
        for (int e = 0; e < config.Epochs; e++) { s = Trainer.Fit(spec, opt, s, data, new TrainConfig(6, 1)).State; byEpoch.Add(s); }

        var reports = new List<StepReport>();
        var snapshots = new List<TrainState<T>>();
        var observer = new TrainObserver<T>(r => { reports.Add(r); return r.Step != stopAt; }, (st, h) => { snapshots.Add(st); return true; });
        var first = Trainer.Fit(spec, opt, start, data, config, observer);
        Assert.Equal(stopAt, first.State.Step);
        Assert.Equal(stopAt % 7, first.Cursor);
        Assert.Equal(fit.History.EpochLosses.Take(first.History.Epochs.Length), first.History.EpochLosses);
        Assert.Equal(fit.History.IterationLosses.Take(first.History.IterationLosses.Length), first.History.IterationLosses);
        Assert.Equal(stopAt / 7, first.State.Epoch);
        var final = first.State;
        if (first.State.Epoch < 3)
        {
            var rest = Trainer.Fit(spec, opt, first.State, data, new TrainConfig(6, 3 - first.State.Epoch), observer, first.Cursor);
            Assert.Equal(0, rest.Cursor);
            final = rest.State;
        }
        else Assert.Equal(21, stopAt);
        Assert.Equal(fit.State, final);
        Assert.Equal(fit.History.IterationLosses.Take(reports.Count), reports.Select(r => r.Loss));
        Assert.Equal(Enumerable.Range(1, reports.Count).Select(i => (long)i), reports.Select(r => r.Step));
        Assert.All(reports, r => { Assert.Equal((int)((r.Step - 1) % 7) + 1, r.Iteration); Assert.Equal((int)((r.Step - 1) / 7), r.Epoch); Assert.Equal(7, r.IterationsPerEpoch); Assert.True(r.Finite); });
        Assert.Equal(Enumerable.Repeat(6, 6).Append(1), reports.Take(7).Select(r => r.Rows));
        // AfterEpoch is asked after every epoch but one stopped on its last step.
        var asked = Enumerable.Range(0, 3).Where(e => stopAt != 7 * (e + 1)).ToList();
        Assert.Equal(asked.Count, snapshots.Count);
        for (int j = 0; j < asked.Count; j++) Assert.Equal(byEpoch[asked[j]], snapshots[j]);
    }

    public static TheoryData<string, int> ObservedCases()
    {
        var d = new TheoryData<string, int>();
        int[] stops = [1, 6, 7, 10, 20, 21];
        int i = 0;
        foreach (var k in Combos.Keys) { d.Add(k, stops[i % stops.Length]); d.Add(k, stops[(i + 3) % stops.Length]); i++; }
        // The pure path (a nested chain) stopped on an epoch's last step, mid-run and at the very end.
        d.Add("tanh ce clipped adam (nested chain)", 7); d.Add("tanh ce clipped adam (nested chain)", 21);
        return d;
    }

    [Theory]
    [MemberData(nameof(ObservedCases))]
    public void An_observed_fit_stopped_and_resumed_has_the_bits_of_Fit_float(string name, int stopAt) => ObservedLaw<float>(name, stopAt);

    [Theory]
    [MemberData(nameof(ObservedCases))]
    public void An_observed_fit_stopped_and_resumed_has_the_bits_of_Fit_double(string name, int stopAt) => ObservedLaw<double>(name, stopAt);

    [Fact]
    public void An_observed_fit_stops_at_the_epoch_AfterEpoch_refuses_and_reports_non_finite_steps()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(30);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(5));
        var run = Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 5), new TrainObserver<float>(AfterEpoch: (st, h) => st.Epoch < 2));
        Assert.Equal(2, run.State.Epoch);
        Assert.Equal(0, run.Cursor);
        Assert.Equal(2, run.History.Epochs.Length);
        Assert.Equal(Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 2)).State, run.State);

        // A learning rate of 1e38 blows the parameters up within a few steps: the first non-finite step is reported as such and
        // stops the fit there, at the same step for the fold and the pure path.
        var seen = new List<List<StepReport>>();
        foreach (var o in new[] { Optimizer.Sgd(1e38), GradientTransform.Chain(GradientTransform.Chain(new ScaleByLearningRate(1e38))) })
        {
            var reports = new List<StepReport>();
            var blown = Trainer.Fit(spec, o, Trainer.Init<float>(spec, o, RandomKey.FromSeed(5)), data, new TrainConfig(8, 5),
                new TrainObserver<float>(r => { reports.Add(r); return r.Finite; }));
            Assert.False(reports[^1].Finite);
            Assert.All(reports.SkipLast(1), r => Assert.True(r.Finite));
            Assert.Equal(reports.Count, blown.State.Step);
            Assert.Contains(blown.State.Params.Leaves, l => !l.Span.ToArray().All(float.IsFinite));
            seen.Add(reports);
        }
        Assert.Equal(seen[0], seen[1]);

        // A learning rate beyond float's range (1e39 → −∞ in float) makes the very first update infinite while its loss (taken
        // before the update) is finite: the report must say not finite, on both paths.
        foreach (var o in new[] { Optimizer.Sgd(1e39), GradientTransform.Chain(GradientTransform.Chain(new ScaleByLearningRate(1e39))) })
        {
            var reports = new List<StepReport>();
            Trainer.Fit(spec, o, Trainer.Init<float>(spec, o, RandomKey.FromSeed(5)), data, new TrainConfig(8, 5),
                new TrainObserver<float>(r => { reports.Add(r); return r.Finite; }));
            var only = Assert.Single(reports);
            Assert.True(double.IsFinite(only.Loss));
            Assert.False(only.Finite);
        }

        // One tensor overflowing is enough: with all-zero inputs the weight's gradient is 0 (its update 1e38·0 = 0 leaves it
        // finite) while the bias's gradient 2(b − 100) sends it past float's range. Finite must look at every tensor.
        var line = ModelSpec.Mlp([2, 1], new TanhSpec(), new MseSpec());
        var zeros = new DataSet<float>(NdArray.From<float>(new float[8], 4, 2), NdArray.From<float>([100f, 100f, 100f, 100f], 4, 1));
        foreach (var o in new[] { Optimizer.Sgd(1e38), GradientTransform.Chain(GradientTransform.Chain(new ScaleByLearningRate(1e38))) })
        {
            var reports = new List<StepReport>();
            var lined = Trainer.Fit(line, o, Trainer.Init<float>(line, o, RandomKey.FromSeed(5)), zeros, new TrainConfig(4, 3),
                new TrainObserver<float>(r => { reports.Add(r); return r.Finite; }));
            var only = Assert.Single(reports);
            Assert.True(double.IsFinite(only.Loss));
            Assert.False(only.Finite);
            Assert.Equal(1, lined.State.Params.Leaves.Count(l => l.Span.ToArray().All(float.IsFinite)));
            Assert.Equal(1, lined.State.Params.Leaves.Count(l => !l.Span.ToArray().All(float.IsFinite)));
        }
    }

    [Fact]
    public void An_observed_fit_refuses_a_start_outside_the_epoch()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(30);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(5));
        var observer = new TrainObserver<float>();
        foreach (int bad in new[] { -1, 4, 100 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 1), observer, bad));
            Assert.Equal("startIteration", e.ParamName);
            Assert.Contains("batches 0 to 3", e.Message);
        }
        Assert.Throws<ArgumentNullException>(() => Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 1), (TrainObserver<float>)null!));
        Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, start, data, new TrainConfig(31, 1, DropLast: true), observer));
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Fact]
    public void Every_entry_refuses_null_by_name_and_an_empty_epoch_with_its_arithmetic()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<double>(10);
        var opt = Optimizer.Sgd(0.1);
        var s = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(1));
        var c = new TrainConfig(4, 1);
        var batch = data.Gather([0, 1]);
        var key = RandomKey.FromSeed(1);
        void Null(string name, Action a) => Assert.Equal(name, Assert.Throws<ArgumentNullException>(a).ParamName);
        Null("spec", () => Trainer.Init<double>(null!, opt, key));
        // Refused when called, not when first enumerated (Batches is lazy).
        Null("data", () => Trainer.Batches<double>(null!, c, key, 0));
        Null("config", () => Trainer.Batches(data, null!, key, 0));
        Null("optimizer", () => Trainer.Init<double>(spec, null!, key));
        Null("optimizer", () => Trainer.Init(spec, null!, s.Params, key));
        Null("optimizer", () => Trainer.Step(spec, null!, s, batch));
        Null("state", () => Trainer.Step(spec, opt, null!, batch));
        Null("state", () => Trainer.RunEpoch(spec, opt, null!, data, c));
        Null("data", () => Trainer.RunEpoch(spec, opt, s, null!, c));
        Null("config", () => Trainer.RunEpoch(spec, opt, s, data, null!));
        Null("state", () => Trainer.Fit(spec, opt, null!, data, c));
        Null("data", () => Trainer.Fit(spec, opt, s, null!, c));
        var observer = new TrainObserver<double>();
        Null("state", () => Trainer.Fit(spec, opt, null!, data, c, observer));
        Null("data", () => Trainer.Fit(spec, opt, s, null!, c, observer));
        Null("config", () => Trainer.Fit(spec, opt, s, data, null!, observer));
        Null("observer", () => Trainer.Fit(spec, opt, s, data, c, (TrainObserver<double>)null!));
        var dropLast = new TrainConfig(11, 1, DropLast: true);
        foreach (var a in new Action[] { () => Trainer.RunEpoch(spec, opt, s, data, dropLast), () => Trainer.Fit(spec, opt, s, data, dropLast, observer), () => Trainer.Fit(spec, opt, s, data, dropLast) })
            Assert.Contains("10 rows at batch size 11 with drop-last give no iteration", Assert.Throws<ArgumentException>(a).Message);
    }

    [Fact]
    public void Data_and_config_refusals_say_what_is_wrong()
    {
        Assert.Contains("batch size must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => Batching.IterationsPerEpoch(10, 0)).Message);
        Assert.Contains("batch size must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(0)).Message);
        Assert.Contains("epochs must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainConfig(8, 0)).Message);
        var empty = Assert.Throws<ArgumentException>(() => new DataSet<double>(NdArray.Zeros<double>(0, 2), NdArray.Zeros<double>(0)));
        Assert.Equal("X", empty.ParamName); Assert.Contains("at least one row", empty.Message);
        var data = TrainingProblems.Blobs<double>(5);
        var outside = Assert.Throws<ArgumentException>(() => data.Gather([0, 7]));
        Assert.Equal("indices", outside.ParamName); Assert.Contains("row index 7 (position 1) is outside [0, 5)", outside.Message);
    }

    // ── What the Training mutation run (stryker/training.json) found unchecked ─────────────────────────────

    /// <summary>A model with layer state: batch norm's running statistics.</summary>
    private static ModelSpec WithBatchNorm() => new(2, [new DenseSpec(2, 6), new BatchNormSpec(6), new TanhSpec(), new DenseSpec(6, 3)], new SoftmaxCrossEntropySpec());

    [Fact]
    public void Both_Inits_start_the_layer_state_at_the_models_initial_state()
    {
        var spec = WithBatchNorm();
        var opt = Optimizer.Adam(0.01);
        var s = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        Assert.NotEqual(0, s.LayerState.Count);
        Assert.Equal(Model.InitState<float>(spec), s.LayerState);
        var t = Trainer.Init(spec, opt, s.Params, RandomKey.FromSeed(2));
        Assert.Equal(Model.InitState<float>(spec), t.LayerState);
    }

    /// <summary>RunEpoch, Fit and the observed Fit check the whole data set and the state before their first step, each refusal
    /// naming the argument at fault once: a non-finite input by its row in the data set, parameters or a layer state that do not
    /// fit the model as the state's, targets the loss does not take as the data's (in the loss's own words).</summary>
    [Fact]
    public void Every_fitting_entry_checks_the_data_and_the_state_before_it_steps_naming_the_argument()
    {
        var spec = WithBatchNorm();
        var blobs = TrainingProblems.Blobs<float>(12);
        var opt = Optimizer.Sgd(0.1);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        var config = new TrainConfig(4, 1);
        var observer = new TrainObserver<float>();
        void Refused(TrainState<float> s, DataSet<float> d, string name, string begins, string? contains = null)
        {
            foreach (var a in new Action[] { () => Trainer.RunEpoch(spec, opt, s, d, config), () => Trainer.Fit(spec, opt, s, d, config), () => Trainer.Fit(spec, opt, s, d, config, observer) })
            {
                var e = Assert.Throws<ArgumentException>(a);
                Assert.Equal(name, e.ParamName);
                Assert.StartsWith(begins, e.Message);
                if (contains is not null) Assert.Contains(contains, e.Message);
                Assert.EndsWith($" (Parameter '{name}')", e.Message);
                Assert.Equal(1, e.Message.Split("(Parameter").Length - 1);
            }
        }
        var x = blobs.X.ToArray(); x[11] = float.NaN;
        Refused(start, new DataSet<float>(NdArray.From<float>(x, 12, 2), blobs.Y), "data", "x has a non-finite value NaN at row 5, column 1");
        Refused(start with { Params = new ParamTree<float>(start.Params.Names, start.Params.Leaves.SetItem(0, NdArray.Zeros<float>(6, 3))) }, blobs,
            "state", "0.weight must be [6, 2], got [6, 3]");
        Refused(start with { LayerState = new ParamTree<float>([], []) }, blobs, "state", "layer state [] does not match the model's");
        var y = blobs.Y.ToArray(); y[5] = 3;
        Refused(start, new DataSet<float>(blobs.X, NdArray.From<float>(y, 12)), "data", "the data's targets do not suit the loss", "label 3 in row 5 is outside [0, 3)");
    }

    /// <summary>Step refuses parameters that do not fit the model as its state's (it has no argument called "parameters").</summary>
    [Fact]
    public void Step_names_the_state_whose_parameters_do_not_fit()
    {
        var spec = TrainingProblems.Classifier();
        var opt = Optimizer.Sgd(0.1);
        var s = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(1));
        var wrong = s with { Params = new ParamTree<double>(s.Params.Names, s.Params.Leaves.SetItem(0, NdArray.Zeros<double>(8, 3))) };
        var e = Assert.Throws<ArgumentException>(() => Trainer.Step(spec, opt, wrong, TrainingProblems.Blobs<double>(4).AsBatch()));
        Assert.Equal("state", e.ParamName);
        Assert.StartsWith("0.weight must be [8, 2], got [8, 3]", e.Message);
    }
}
