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

/// <summary>Fold.cs, the workspace fold behind Trainer.Fit: when it takes over, and that where it takes over it refuses what
/// the pure composition refuses, with the same exception, message and argument name. (That it gives the pure composition's
/// bits is the fold law in TrainerTests and ThreadsTests, over every model × optimizer combination.)</summary>
public class FoldTests
{
    /// <summary>Fits on the fold (Trainer.Fit) and on the pure composition (Step folded by hand), and returns the exception
    /// each one threw.</summary>
    private static (T Fold, T Pure) BothThrow<T>(ModelSpec spec, GradientTransform opt, DataSet<float> data, TrainConfig config) where T : Exception
    {
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        return (Assert.Throws<T>(() => Trainer.Fit(spec, opt, start, data, config)), Assert.Throws<T>(() => TrainingProblems.StepFold(spec, opt, start, data, config)));
    }

    /// <summary>A fold that is done hands its workspaces over as the result (no copy): the released state equals the copy
    /// State() gives at the same point, its arrays are not the starting state's, and the fold refuses to go on.</summary>
    [Fact]
    public void A_released_fold_gives_its_workspaces_once_and_refuses_to_go_on()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(6);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        var config = new TrainConfig(4, 1);
        var fold = Fold<float>.Create(spec, opt, start, data, 4, null);
        var (counters, _, _, _) = fold.RunEpoch(start, data, config);
        var copy = fold.State(counters);
        var released = fold.Release(counters);
        static void Same(TrainState<float> a, TrainState<float> b)
        {
            Assert.Equal(a.Params.Leaves.Length, b.Params.Leaves.Length);
            for (int j = 0; j < a.Params.Leaves.Length; j++) Assert.Equal(a.Params.Leaves[j], b.Params.Leaves[j]);
            Assert.Equal(a.OptState, b.OptState);
            Assert.Equal((a.Step, a.Epoch), (b.Step, b.Epoch));
        }
        Same(copy, released);
        for (int j = 0; j < start.Params.Leaves.Length; j++)
        {
            Assert.NotSame(start.Params.Leaves[j].Buffer, released.Params.Leaves[j].Buffer);
            Assert.NotSame(copy.Params.Leaves[j].Buffer, released.Params.Leaves[j].Buffer);
        }
        Assert.Throws<ObjectDisposedException>(() => fold.RunEpoch(counters, data, config));
        Assert.Throws<ObjectDisposedException>(() => fold.State(counters));
        Assert.Throws<ObjectDisposedException>(() => fold.Release(counters));
        Same(Trainer.Fit(spec, opt, start, data, config).State, released);
    }

    /// <summary>Releasing a fold whose optimizer is fused (Adam and AdamW apply their own updates) hands the moment buffers
    /// over as well: it allocates far less than one copy of the parameters, where copying m and v would take two.</summary>
    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Releasing_a_fused_optimizer_copies_no_buffer(string name)
    {
        var spec = ModelSpec.Mlp([64, 256, 10], new ReluSpec(), new SoftmaxCrossEntropySpec());
        var opt = name == "adam" ? Optimizer.Adam(0.01) : Optimizer.AdamW(0.01);
        var rng = new System.Random(3);
        var x = new float[32 * 64]; for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        var y = new float[32]; for (int i = 0; i < y.Length; i++) y[i] = rng.Next(10);
        var data = new DataSet<float>(NdArray.From<float>(x, 32, 64), NdArray.Vector(y));
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        var fold = Fold<float>.Create(spec, opt, start, data, 16, Parallelism.SingleThread);
        var (counters, _, _, _) = fold.RunEpoch(start, data, new TrainConfig(16, 1));
        var copy = fold.State(counters);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var released = fold.Release(counters);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        long parameterBytes = spec.ParameterShapes.Sum(p => (long)p.Shape.Size) * sizeof(float);
        Assert.True(bytes < parameterBytes / 4, $"Release allocated {bytes} bytes; one copy of the parameters is {parameterBytes}");
        Assert.Equal(copy.OptState, released.OptState);
    }

    /// <summary>A null argument is named, by the fold as by Trainer.</summary>
    [Fact]
    public void The_fold_refuses_null_arguments_by_name()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(6);
        var opt = Optimizer.Sgd(0.1);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        Assert.NotNull(Fold<float>.Create(spec, opt, start, data, 4, null));
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Fold<float>.Create(null!, opt, start, data, 4, null)).ParamName);
        Assert.Equal("optimizer", Assert.Throws<ArgumentNullException>(() => Fold<float>.Create(spec, null!, start, data, 4, null)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => Fold<float>.Create(spec, opt, null!, data, 4, null)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => Fold<float>.Create(spec, opt, start, null!, 4, null)).ParamName);
        Assert.Equal("optimizer", Assert.Throws<ArgumentNullException>(() => Trainer.Fit(spec, null!, start, data, new TrainConfig(4, 1))).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => Trainer.RunEpoch(spec, opt, null!, data, new TrainConfig(4, 1))).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => Trainer.RunEpoch(spec, opt, start, null!, new TrainConfig(4, 1))).ParamName);
        Assert.Equal("config", Assert.Throws<ArgumentNullException>(() => Trainer.RunEpoch(spec, opt, start, data, null!)).ParamName);
    }

    /// <summary>What the pure step refuses the fold refuses, before its first step and by name: parameters that do not fit the
    /// model, a non-finite input (the very first element too), a chain state with another number of states than transforms.</summary>
    [Fact]
    public void What_the_pure_step_refuses_the_fold_refuses()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(12);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        var config = new TrainConfig(4, 1);
        void Refused(TrainState<float> s, DataSet<float> d, string expected, GradientTransform? o = null)
        {
            var fold = Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, o ?? opt, s, d, config));
            var pure = Assert.Throws<ArgumentException>(() => TrainingProblems.StepFold(spec, o ?? opt, s, d, config));
            Assert.Contains(expected, fold.Message);
            Assert.Contains(expected.Split(" at row")[0], pure.Message); // the pure step names its row in the (shuffled) batch
        }
        // Plain SGD keeps no moments whose shapes would give the mismatch away: the parameters themselves are checked.
        var sgd = Optimizer.Sgd(0.1);
        var sgdStart = Trainer.Init<float>(spec, sgd, RandomKey.FromSeed(1));
        Refused(sgdStart with { Params = new ParamTree<float>(sgdStart.Params.Names, sgdStart.Params.Leaves.SetItem(0, NdArray.Zeros<float>(8, 3))) }, data,
            "0.weight must be [8, 2], got [8, 3]", sgd);
        var x = data.X.ToArray(); x[0] = float.NaN;
        Refused(start, new DataSet<float>(NdArray.From<float>(x, 12, 2), data.Y), "non-finite value NaN at row 0, column 0");
        var chain = (ChainState)start.OptState;
        Refused(start with { OptState = new ChainState(chain.States.Add(EmptyState.Instance)) }, data, "chain of 2 transforms got a state of 3");
    }

    [Fact]
    public void Labels_given_as_a_column_run_in_the_fold_with_the_bits_of_labels_given_as_a_vector()
    {
        var spec = TrainingProblems.Classifier();
        var flat = TrainingProblems.Blobs<float>(20);
        var column = new DataSet<float>(flat.X, flat.Y.Reshape(20, 1));
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        var config = new TrainConfig(8, 2);
        var byColumn = Trainer.Fit(spec, opt, start, column, config);
        Assert.Equal(Trainer.Fit(spec, opt, start, flat, config).State, byColumn.State);
        // And the pure step agrees on the column too.
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, column, config), byColumn.State);
    }

    [Fact]
    public void Targets_that_are_not_labels_are_refused_before_the_fold_naming_the_data_sets_row_and_by_the_pure_step_too()
    {
        var spec = TrainingProblems.Classifier();
        var blobs = TrainingProblems.Blobs<float>(12);
        var opt = Optimizer.Adam(0.01);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        var config = new TrainConfig(4, 1);
        foreach (var y in new[] { NdArray.Zeros<float>(12, 3), NdArray.Zeros<float>(12, 2) })
        {
            var data = new DataSet<float>(blobs.X, y);
            var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, start, data, config));
            Assert.Equal("data", e.ParamName);
            Assert.Contains("cross-entropy targets must be class labels [12]", e.Message);
            Assert.Equal("target", Assert.Throws<ArgumentException>(() => TrainingProblems.StepFold(spec, opt, start, data, config)).ParamName);
        }
        // A label outside [0, classes) or not an integer: refused with its row in the data set, not a kernel's IndexOutOfRange;
        // the pure step refuses it too (with its row in the batch).
        foreach (float bad in new[] { 3f, -1f, 0.5f })
        {
            var y = blobs.Y.ToArray(); y[5] = bad;
            var data = new DataSet<float>(blobs.X, NdArray.From<float>(y, 12));
            var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, opt, start, data, config));
            Assert.Equal("data", e.ParamName);
            Assert.Contains($"label {bad} in row 5 is outside [0, 3)", e.Message);
            Assert.Equal("target", Assert.Throws<ArgumentException>(() => TrainingProblems.StepFold(spec, opt, start, data, config)).ParamName);
        }
    }

    [Fact]
    public void A_batch_whose_class_weights_sum_to_zero_is_refused_as_the_loss_refuses_it()
    {
        // Classes 0 and 1 weigh nothing; the first batch holds only those (labels 0, 1, 2, 0, 1, 2, … at batch size 2).
        var spec = ModelSpec.Mlp([2, 5, 3], new TanhSpec(), new SoftmaxCrossEntropySpec([0.0, 0.0, 1.0]));
        var data = TrainingProblems.Blobs<float>(9);
        var (fold, pure) = BothThrow<ArgumentException>(spec, Optimizer.Sgd(0.1), data, new TrainConfig(2, 1, Shuffle: false));
        Assert.Contains("class weights of this batch's labels sum to 0", fold.Message);
        Assert.Equal(pure.Message, fold.Message);
        Assert.Equal("target", fold.ParamName);
        Assert.Equal(pure.ParamName, fold.ParamName);
    }

    [Fact]
    public void A_schedule_that_overflows_stops_the_fit_at_that_step_as_the_pure_transform_does()
    {
        // η(t) = 0.01·1e200ᵗ: finite at steps 0 and 1, +∞ at step 2.
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(30);
        var opt = Optimizer.Sgd(new Schedule.Exponential(0.01, 1e200));
        var (fold, pure) = BothThrow<InvalidOperationException>(spec, opt, data, new TrainConfig(10, 1));
        Assert.Contains("learning rate ∞ at step 2", fold.Message.Replace("Infinity", "∞"));
        Assert.Equal(pure.Message, fold.Message);
    }

    [Fact]
    public void Centred_RMSProp_with_a_state_missing_its_gradient_average_is_refused_by_name()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(12);
        var centred = new ScaleByRms(Centered: true);
        var start = Trainer.Init<float>(spec, centred, RandomKey.FromSeed(2));
        var foreign = start with { OptState = new RmsState<float>(start.Params.ZerosLike(), null) };
        var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(spec, centred, foreign, data, new TrainConfig(4, 1)));
        Assert.Contains("centred RMSprop needs the state's GradAvg", e.Message);
        // Not centred, the same state is complete: the fold takes it.
        var plain = new ScaleByRms();
        Assert.Equal(TrainingProblems.StepFold(spec, plain, foreign, data, new TrainConfig(4, 2)), Trainer.Fit(spec, plain, foreign, data, new TrainConfig(4, 2)).State);
    }

    /// <summary>The fold's promise for every loss (Pure.Bench measures it too): once its workspaces exist, a step allocates
    /// nothing — no logits, probabilities or gradient arrays, no trees, no optimizer states: this thread's allocation counter,
    /// read after every step of three epochs, does not move between steps.</summary>
    [Theory]
    [InlineData("ce adam dropout")]
    [InlineData("weighted smoothed ce momentum")]
    [InlineData("ce centred rmsprop clipped")]
    [InlineData("mse adamw")]
    [InlineData("huber nesterov")]
    [InlineData("bce amsgrad")]
    [InlineData("ce adagrad")]
    [InlineData("ce lion")]
    [InlineData("ce sgd dampened")]
    [InlineData("ce adamw groups")]
    [InlineData("ce adam accumulated")]
    [InlineData("ce batch norm layer norm")]
    public void A_step_of_the_fold_allocates_nothing(string name)
    {
        var (spec, opt) = name switch
        {
            "ce adam dropout" => (TrainingProblems.Classifier(dropout: 0.2), Optimizer.Adam(0.01)),
            "weighted smoothed ce momentum" => (ModelSpec.Mlp([2, 8, 3], new ReluSpec(), new SoftmaxCrossEntropySpec([1.0, 2.0, 0.5], 0.1)), Optimizer.Momentum(0.01)),
            "mse adamw" => (ModelSpec.Mlp([2, 8, 3], new GeluSpec(), new MseSpec()), Optimizer.AdamW(0.01)),
            "huber nesterov" => (ModelSpec.Mlp([2, 8, 3], new LeakyReluSpec(), new HuberSpec()), Optimizer.Nesterov(0.01)),
            "bce amsgrad" => (ModelSpec.Mlp([2, 8, 3], new SigmoidSpec(), new BinaryCrossEntropySpec(), dropout: 0.1), Optimizer.Adam(0.01, amsGrad: true)),
            "ce adagrad" => (TrainingProblems.Classifier(), Optimizer.Adagrad(0.05, lrDecay: 0.01)),
            "ce lion" => (TrainingProblems.Classifier(), Optimizer.Lion(1e-3, weightDecay: 0.1)),
            "ce sgd dampened" => (TrainingProblems.Classifier(), Optimizer.Sgd(0.05, 1e-4, 0.9, 0.3)),
            "ce adamw groups" => (TrainingProblems.Classifier(), Optimizer.WithoutDecayOn(Optimizer.AdamW(0.01), ParamMask.Matching("bias"))),
            "ce adam accumulated" => (TrainingProblems.Classifier(), Optimizer.Accumulate(Optimizer.Adam(0.01), 3)),
            "ce batch norm layer norm" => (new ModelSpec(2, [new DenseSpec(2, 8), new BatchNormSpec(8), new ReluSpec(), new DenseSpec(8, 6), new LayerNormSpec(), new DenseSpec(6, 3)], new SoftmaxCrossEntropySpec()), Optimizer.Adam(0.01)),
            _ => (TrainingProblems.Classifier(), GradientTransform.Chain(new ClipByGlobalNorm(1), new ScaleByRms(Centered: true), new ScaleByLearningRate(0.001))),
        };
        var blobs = TrainingProblems.Blobs<float>(400);
        // Regression and binary targets [rows, 3] from the labels: one-hot (in [0, 1], as BCE needs).
        var oneHot = new float[400 * 3];
        for (int i = 0; i < 400; i++) oneHot[i * 3 + (int)blobs.Y[i]] = 1;
        var data = spec.Loss.UsesLabels ? blobs : new DataSet<float>(blobs.X, NdArray.From<float>(oneHot, 400, 3));
        NeuralPure.Properties.Support.FoldAllocation.AssertStepsAllocateNothing(name, spec, opt, data);
    }

    /// <summary>A user transform whose Open returns no workspace is named (Stryker's survivor: the message).</summary>
    private sealed record NoWorkspace : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => null!;
    }

    /// <summary>A workspace that does not apply its updates but reaches for the parameters anyway.</summary>
    private sealed record GrabsParameters : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => new Work<T>();
        private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public override void Update(in UpdateArgs<T> a) => a.WritableParameters(0).Clear();
            public override OptState State() => EmptyState.Instance;
        }
    }

    [Fact]
    public void A_transform_without_a_workspace_is_named()
    {
        var spec = TrainingProblems.Classifier();
        var start = Trainer.Init<float>(spec, new NoWorkspace(), RandomKey.FromSeed(1));
        var e = Assert.Throws<InvalidOperationException>(() => Trainer.Fit(spec, new NoWorkspace(), start, TrainingProblems.Blobs<float>(8), new TrainConfig(4, 1)));
        Assert.Equal("NoWorkspace.Open returned null", e.Message);
    }

    /// <summary>Only a workspace that applies its updates itself gets writable parameters: in the fold as in the pure Update,
    /// any other that reaches for them is refused, and the parameters stay as they were.</summary>
    [Fact]
    public void Only_a_workspace_that_applies_its_updates_may_write_the_parameters()
    {
        var spec = TrainingProblems.Classifier();
        var opt = new GrabsParameters();
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        var data = TrainingProblems.Blobs<float>(8);
        var fold = Assert.Throws<InvalidOperationException>(() => Trainer.Fit(spec, opt, start, data, new TrainConfig(4, 1)));
        var pure = Assert.Throws<InvalidOperationException>(() => TrainingProblems.StepFold(spec, opt, start, data, new TrainConfig(4, 1)));
        Assert.Equal(pure.Message, fold.Message);
        Assert.Contains("read-only", fold.Message);
        Assert.NotEqual(0f, start.Params[0][0]);
    }

    /// <summary>The fold made directly (Trainer checks first, so only this reaches them) refuses parameters or a layer state that
    /// do not fit the model, naming the state they came in.</summary>
    [Fact]
    public void The_fold_itself_refuses_parameters_or_a_layer_state_that_do_not_fit_naming_the_state()
    {
        var spec = new ModelSpec(2, [new DenseSpec(2, 6), new BatchNormSpec(6), new TanhSpec(), new DenseSpec(6, 3)], new SoftmaxCrossEntropySpec());
        var data = TrainingProblems.Blobs<float>(6);
        var opt = Optimizer.Sgd(0.1);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        var wrong = start with { Params = new ParamTree<float>(start.Params.Names, start.Params.Leaves.SetItem(0, NdArray.Zeros<float>(6, 3))) };
        var e = Assert.Throws<ArgumentException>(() => Fold<float>.Create(spec, opt, wrong, data, 4, null));
        Assert.Equal("state", e.ParamName);
        Assert.StartsWith("0.weight must be [6, 2], got [6, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Fold<float>.Create(spec, opt, start with { LayerState = new ParamTree<float>([], []) }, data, 4, null));
        Assert.Equal("state", e.ParamName);
        Assert.StartsWith("layer state [] does not match the model's", e.Message);
    }
}
