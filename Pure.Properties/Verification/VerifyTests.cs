using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Verification;

/// <summary>The public verification kit (DESIGN principle 16): every built-in layer, loss and transform passes every check,
/// and each check fails on a user-style type that breaks its part of the contract.</summary>
public sealed class VerifyTests
{
    /// <summary>The report as the property's label, so a failure prints the table.</summary>
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    private static Gen<Shape> ExampleShape { get; } = Gen.OneOf(
        Gen.Choose(1, 6).Select(w => Shape.Of(w)),
        Gen.Zip(Gen.Choose(1, 3), Gen.Choose(1, 3)).Select(p => Shape.Of(p.Item1, p.Item2)));

    // ---- Layers -------------------------------------------------------------------------------------------------------

    private static Property LayerLaw(Gen<LayerSpec> specs, bool training = false) =>
        Prop.ForAll((from spec in specs
                     from shape in ExampleShape
                     from rows in Gen.Choose(1, 4)
                     from seed in Generators.Seed
                     select (spec, shape, rows, seed)).ToArbitrary(),
            c => Passes(Verify.Layer(c.spec, c.shape, c.rows, c.seed, training)));

    [Law(15)] public Property Identity_passes() => LayerLaw(Gen.Constant<LayerSpec>(new IdentitySpec()));
    [Law(15)] public Property Relu_passes() => LayerLaw(Gen.Constant<LayerSpec>(new ReluSpec()));
    [Law(15)] public Property LeakyRelu_passes() => LayerLaw(Generators.Between(0, 0.9).Select(s => (LayerSpec)new LeakyReluSpec(s)));
    [Law(15)] public Property Sigmoid_passes() => LayerLaw(Gen.Constant<LayerSpec>(new SigmoidSpec()));
    [Law(15)] public Property Tanh_passes() => LayerLaw(Gen.Constant<LayerSpec>(new TanhSpec()));
    [Law(15)] public Property Gelu_passes() => LayerLaw(Gen.Constant<LayerSpec>(new GeluSpec()));
    [Law(20)] public Property LogSoftmax_passes() => LayerLaw(Gen.Constant<LayerSpec>(new LogSoftmaxSpec()));
    [Law(15)] public Property Dropout_in_training_passes() => LayerLaw(Generators.Between(0, 0.9).Select(r => (LayerSpec)new DropoutSpec(r)), training: true);
    [Law(10)] public Property Dropout_in_evaluation_passes() => LayerLaw(Generators.Between(0, 0.9).Select(r => (LayerSpec)new DropoutSpec(r)));

    [Law(20)]
    public Property Dense_of_random_sizes_passes() =>
        Prop.ForAll((from i in Gen.Choose(1, 6)
                     from o in Gen.Choose(1, 6)
                     from rows in Gen.Choose(1, 4)
                     from training in Gen.Elements(false, true)
                     from seed in Generators.Seed
                     select (i, o, rows, training, seed)).ToArbitrary(),
            c => Passes(Verify.Layer(new DenseSpec(c.i, c.o), Shape.Of(c.i), c.rows, c.seed, c.training)));

    /// <summary>A layer with state (running statistics): in training the batch's statistics, in evaluation the running ones.</summary>
    [Law(15)]
    public Property Batch_norm_with_its_state_passes_in_training_and_in_evaluation() =>
        Prop.ForAll((from channels in Gen.Choose(1, 3)
                     from length in Gen.Choose(1, 3)
                     from rows in Gen.Choose(2, 4)
                     from training in Gen.Elements(false, true)
                     from seed in Generators.Seed
                     select (channels, length, rows, training, seed)).ToArbitrary(),
            c => Passes(Verify.Layer(new BatchNormSpec(c.channels), Shape.Of(c.channels, c.length), c.rows, c.seed, c.training)));

    // ---- Losses -------------------------------------------------------------------------------------------------------

    private static Property LossLaw(Func<int, Gen<LossSpec>> specs, int minWidth = 1) =>
        Prop.ForAll((from rows in Gen.Choose(1, 5)
                     from width in Gen.Choose(minWidth, 5)
                     from spec in specs(width)
                     from targets in Generators.Targets(spec, rows, width)
                     from seed in Generators.Seed
                     select (spec, width, targets, seed)).ToArbitrary(),
            c => Passes(Verify.Loss(c.spec, Shape.Of(c.width), c.targets, c.seed)));

    [Law(15)] public Property Mse_passes() => LossLaw(_ => Gen.Constant<LossSpec>(new MseSpec()));
    [Law(15)] public Property Huber_passes() => LossLaw(_ => Generators.Between(0.2, 3).Select(d => (LossSpec)new HuberSpec(d)));
    [Law(15)] public Property Binary_cross_entropy_with_targets_in_0_1_passes() => LossLaw(_ => Gen.Constant<LossSpec>(new BinaryCrossEntropySpec()));
    [Law(15)] public Property Softmax_cross_entropy_with_labels_passes() => LossLaw(_ => Gen.Constant<LossSpec>(new SoftmaxCrossEntropySpec()), minWidth: 2);

    [Law(15)]
    public Property Softmax_cross_entropy_with_class_weights_and_label_smoothing_passes() =>
        LossLaw(w => from weights in Gen.ArrayOf(Generators.Between(0.1, 3), w)
                     from eps in Generators.Between(0.05, 0.5)
                     select (LossSpec)new SoftmaxCrossEntropySpec(ImmutableArray.Create(weights), eps), minWidth: 2);

    // ---- Transforms ---------------------------------------------------------------------------------------------------

    /// <summary>One or two leaves of moderate values, [1–3] or [1–3, 1–3].</summary>
    private static Gen<ParamTree<double>> Tree { get; } =
        from two in Gen.Elements(false, true)
        from s1 in Generators.Shape(3, 3)
        from s2 in Generators.Shape(1, 3)
        from w in Generators.Matrix(s1.Rows, s1.Cols, 2.0)
        from b in Generators.Matrix(s2.Rows, s2.Cols, 2.0)
        select two ? new ParamTree<double>(["0.weight", "0.bias"], [w, b.Reshape(s2.Cols)]) : new ParamTree<double>(["0.weight"], [w]);

    private static Property TransformLaw(Gen<GradientTransform> transforms) =>
        Prop.ForAll((from t in transforms
                     from p in Tree
                     from steps in Gen.Choose(1, 5)
                     from seed in Generators.Seed
                     select (t, p, steps, seed)).ToArbitrary(),
            c => Passes(Verify.Transform(c.t, c.p, c.steps, c.seed)));

    private static Gen<double> Rate => Generators.Between(1e-3, 0.5);
    private static Gen<double> Beta => Generators.Between(0, 0.999);

    [Law(10)] public Property ScaleByLearningRate_passes() => TransformLaw(Rate.Select(r => (GradientTransform)new ScaleByLearningRate(r)));
    [Law(10)] public Property TraceMomentum_and_Nesterov_pass() => TransformLaw(from m in Beta from n in Gen.Elements(false, true) select (GradientTransform)new TraceMomentum(m, n));
    [Law(10)] public Property ScaleByAdam_and_AmsGrad_pass() =>
        TransformLaw(from b1 in Beta from b2 in Beta from ams in Gen.Elements(false, true) select (GradientTransform)new ScaleByAdam(b1, b2, 1e-8, ams));
    [Law(10)] public Property ScaleByRms_plain_and_centred_pass() => TransformLaw(from a in Beta from c in Gen.Elements(false, true) select (GradientTransform)new ScaleByRms(a, 1e-8, c));
    [Law(10)] public Property AddDecayedWeights_passes() => TransformLaw(Rate.Select(w => (GradientTransform)new AddDecayedWeights(w)));
    [Law(10)] public Property ClipByGlobalNorm_passes() => TransformLaw(Generators.Between(0.1, 5).Select(n => (GradientTransform)new ClipByGlobalNorm(n)));

    [Law(20)]
    public Property The_optimizer_aliases_pass() =>
        TransformLaw(from lr in Rate
                     from wd in Gen.Elements(0.0, 0.01, 0.1)
                     from m in Gen.Elements(0.0, 0.9)
                     from flag in Gen.Elements(false, true)
                     from which in Gen.Choose(0, 5)
                     select which switch
                     {
                         0 => Optimizer.Sgd(lr, wd),
                         1 => flag ? Optimizer.Nesterov(lr, 0.9, wd) : Optimizer.Momentum(lr, 0.9, wd),
                         2 => Optimizer.Adam(lr, weightDecay: wd, amsGrad: flag),
                         3 => Optimizer.AdamW(lr, weightDecay: wd, amsGrad: flag),
                         _ => Optimizer.RmsProp(lr, weightDecay: wd, momentum: m, centered: flag),
                     });

    /// <summary>The rest of the optimizers: Lion, Adagrad (with its learning-rate decay and initial accumulator), weight decay
    /// masked off the biases, parameter groups, gradient accumulation, clipping before them, and learning rates on a schedule.</summary>
    [Law(30)]
    public Property Lion_adagrad_masks_groups_accumulation_and_schedules_pass() =>
        TransformLaw(from lr in Rate
                     from wd in Gen.Elements(0.0, 0.1)
                     from k in Gen.Choose(1, 3)
                     from which in Gen.Choose(0, 7)
                     select which switch
                     {
                         0 => Optimizer.Lion(lr, weightDecay: wd),
                         1 => Optimizer.Adagrad(lr, lrDecay: 0.1, weightDecay: wd, initialAccumulator: 0.1),
                         2 => Optimizer.WithoutDecayOn(Optimizer.AdamW(lr, weightDecay: 0.1), ParamMask.Matching("bias")),
                         3 => Optimizer.Groups((ParamMask.Matching("0.weight"), Optimizer.Sgd(lr, momentum: 0.9)), (ParamMask.All, Optimizer.AdamW(lr, weightDecay: wd))),
                         4 => Optimizer.Accumulate(Optimizer.Adam(lr, weightDecay: wd), k),
                         5 => Optimizer.Sgd(new Schedule.Cosine(lr, 4), momentum: 0.9),
                         6 => Optimizer.AdamW(new Schedule.WarmupCosine(lr, 2, 6)),
                         _ => GradientTransform.Chain(new ClipByGlobalNorm(0.5), new ScaleByLion(), new ScaleByLearningRate(new Schedule.OneCycle(lr, 6))),
                     });

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void AdamW_and_Adam_have_a_fused_form_and_it_passes_the_fused_check(double weightDecay)
    {
        var p = new ParamTree<double>(["0.weight", "0.bias"], [NdArray.From<double>([0.5, -1, 2, 0.25, -0.75, 1.5], 2, 3), NdArray.Vector(0.1, -0.2)]);
        foreach (var t in new[] { Optimizer.AdamW(0.01, weightDecay: weightDecay), Optimizer.Adam(0.01, weightDecay: weightDecay) })
        {
            Assert.NotNull(t.OpenApplying(t.Init(p), p));
            var r = Verify.Transform(t, p, steps: 6, seed: 7);
            Assert.True(r.Passed, r.ToString());
            Assert.DoesNotContain("no fused form", r[Verify.FusedSteps]!.Detail);
        }
    }

    // ---- Negative tests: each check can fail --------------------------------------------------------------------------

    /// <summary>tanh with a wrong backward: dx = 2·f′·dy.</summary>
    private sealed record DoubledTanh : ActivationSpec
    {
        public override string Kind => "doubled-tanh";
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
        {
            for (int i = 0; i < x.Length; i++) y[i] = T.Tanh(x[i]);
        }
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
        {
            var two = T.One + T.One;
            for (int i = 0; i < x.Length; i++) dx[i] = two * (T.One - y[i] * y[i]) * dy[i];
        }
    }

    /// <summary>The identity, except that forward leaves the last element of y unwritten.</summary>
    private sealed record LeavesLastUnwritten : LayerSpec
    {
        public override string Kind => "leaves-last";
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a) => a.X[..^1].CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    /// <summary>The identity scaled by the thread count.</summary>
    private sealed record ThreadScaled : LayerSpec
    {
        public override string Kind => "thread-scaled";
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a)
        {
            var k = T.CreateChecked(a.Threads);
            for (int i = 0; i < a.X.Length; i++) a.Y[i] = a.X[i] * k;
        }
        public override void Backward<T>(in BackwardArgs<T> a)
        {
            var k = T.CreateChecked(a.Threads);
            for (int i = 0; i < a.DY.Length; i++) a.DX[i] = a.DY[i] * k;
        }
    }

    /// <summary>The identity that, through MemoryMarshal, zeroes x[0] (what the read-only span is there to prevent).</summary>
    private sealed record WritesItsInput : LayerSpec
    {
        public override string Kind => "writes-input";
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a)
        {
            a.X.CopyTo(a.Y);
            MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(a.X), a.X.Length)[0] = T.Zero;
        }
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    /// <summary>A dense-like layer with a bias b [width] (y = x + b) whose backward accumulates into the bias gradient (+=).</summary>
    private sealed record AccumulatingBias : LayerSpec
    {
        public override string Kind => "accumulating-bias";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("bias", input)];
        public override void Forward<T>(in ForwardArgs<T> a)
        {
            int w = a.Input.Size;
            for (int i = 0; i < a.X.Length; i++) a.Y[i] = a.X[i] + a.Parameter(0)[i % w];
        }
        public override void Backward<T>(in BackwardArgs<T> a)
        {
            int w = a.Input.Size;
            var g = a.Gradient(0);
            for (int i = 0; i < a.DY.Length; i++) g[i % w] += a.DY[i];
            if (a.InputGradient) a.DY.CopyTo(a.DX);
        }
    }

    /// <summary>A layer whose Init returns a bias of the wrong shape.</summary>
    private sealed record WrongInit : LayerSpec
    {
        public override string Kind => "wrong-init";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("bias", input)];
        public override ImmutableArray<NdArray<T>> Init<T>(Shape input, NeuralPure.Random.RandomKey key) => [NdArray.Zeros<T>(input.Size + 1)];
        public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    private static readonly Shape Width5 = Shape.Of(5);

    [Fact]
    public void A_wrong_backward_fails_the_gradient_check_and_names_dx()
    {
        var r = Verify.Layer(new DoubledTanh(), Width5, rows: 3);
        var g = r[Verify.GradientCheck]!;
        Assert.False(g.Passed, r.ToString());
        Assert.StartsWith("worst dx[", g.Detail);
        Assert.Contains("analytic", g.Detail);
        Assert.True(r.Checks.Where(c => c.Name != Verify.GradientCheck).All(c => c.Passed), r.ToString());
    }

    [Fact]
    public void A_forward_that_leaves_an_element_unwritten_fails_the_pure_vs_in_place_check()
    {
        var r = Verify.Layer(new LeavesLastUnwritten(), Width5, rows: 2);
        var c = r[Verify.PureVsInPlace]!;
        Assert.False(c.Passed, r.ToString());
        Assert.Contains("y[1, 4] differs", c.Detail);   // the last element of 2 × [5]
        Assert.Contains("in place NaN", c.Detail);
    }

    [Fact]
    public void A_backward_that_accumulates_into_its_gradient_fails_the_pure_vs_in_place_check_but_not_the_gradient_check()
    {
        var r = Verify.Layer(new AccumulatingBias(), Width5, rows: 3);
        Assert.True(r[Verify.GradientCheck]!.Passed, r.ToString()); // on the driver's fresh (zeroed) arrays it is right
        Assert.False(r[Verify.PureVsInPlace]!.Passed, r.ToString());
        Assert.Contains("bias[0] differs", r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_layer_whose_bits_depend_on_the_thread_count_fails_the_thread_check_only()
    {
        var r = Verify.Layer(new ThreadScaled(), Width5);
        Assert.False(r[Verify.Threads]!.Passed, r.ToString());
        Assert.Contains("1 thread", r[Verify.Threads]!.Detail);
        Assert.True(r.Checks.Where(c => c.Name != Verify.Threads).All(c => c.Passed), r.ToString());
    }

    [Fact]
    public void A_layer_that_writes_its_input_fails_the_no_input_written_check_and_names_x()
    {
        var r = Verify.Layer(new WritesItsInput(), Width5, rows: 2);
        var c = r[Verify.NoInputWritten]!;
        Assert.False(c.Passed, r.ToString());
        Assert.Contains("x[0, 0] differs", c.Detail);
    }

    [Fact]
    public void An_init_of_the_wrong_shape_fails_the_shape_check_and_the_other_checks_are_not_run()
    {
        var r = Verify.Layer(new WrongInit(), Width5);
        Assert.False(r[Verify.Shapes]!.Passed);
        Assert.Contains("declared [5]", r[Verify.Shapes]!.Detail);
        Assert.All(r.Checks, c => Assert.False(c.Passed));
    }

    /// <summary>MSE whose span form adds into the gradient destination instead of writing it.</summary>
    private sealed record AccumulatingMse : LossSpec
    {
        public override string Kind => "accumulating-mse";
        public override T ValueAndGrad<T>(in LossArgs<T> a)
        {
            T sum = T.Zero, n = T.CreateChecked(a.Output.Length);
            for (int i = 0; i < a.Output.Length; i++)
            {
                var d = a.Output[i] - a.Target[i];
                sum += d * d;
                a.Gradient[i] += (d + d) / n;
            }
            return sum / n;
        }
    }

    [Fact]
    public void A_loss_that_accumulates_into_its_gradient_fails_the_pure_vs_in_place_check()
    {
        var targets = NdArray.From<double>([0.5, -1, 2, 0, 1, -0.5], 2, 3);
        var r = Verify.Loss(new AccumulatingMse(), Shape.Of(3), targets);
        Assert.True(r[Verify.GradientCheck]!.Passed, r.ToString());
        Assert.False(r[Verify.PureVsInPlace]!.Passed, r.ToString());
        Assert.Contains("gradient[0, 0] differs", r[Verify.PureVsInPlace]!.Detail);
    }

    /// <summary>u ← u·n where n counts every update ever made, in a static: state that is not in the state.</summary>
    private sealed record HiddenCounter : GradientTransform
    {
        private static long calls;
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) { Expect<EmptyState>(state); return new Work<T>(); }
        private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
        {
            public override void Update(in UpdateArgs<T> a)
            {
                var k = T.CreateChecked(Interlocked.Increment(ref calls));
                for (int j = 0; j < a.Count; j++) foreach (ref var u in a.Updates(j)) u *= k;
            }
            public override OptState State() => EmptyState.Instance;
        }
    }

    private sealed record SumState(ParamTree<double> Sum) : OptState;

    /// <summary>u ← Σ of all updates so far (a running sum, in double only), whose State() wraps its live buffers.</summary>
    private sealed record LiveState : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => new SumState(parameters.Cast<double>().ZerosLike());
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) =>
            (TransformWorkspace<T>)(object)new Work(Expect<SumState>(state).Sum);
        private sealed class Work(ParamTree<double> start) : TransformWorkspace<double>
        {
            private readonly double[][] sum = [.. start.Leaves.Select(l => l.ToArray())];
            public override void Update(in UpdateArgs<double> a)
            {
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    for (int i = 0; i < u.Length; i++) { sum[j][i] += u[i]; u[i] = sum[j][i]; }
                }
            }
            public override OptState State() => new SumState(new ParamTree<double>(start.Names, [.. sum.Select((b, j) => NdArray.Own(b, start.Leaves[j].Shape))]));
        }
    }

    private static readonly ParamTree<double> SmallTree = new(["0.weight", "0.bias"], [NdArray.From<double>([0.5, -1, 2, 0.25], 2, 2), NdArray.Vector(0.1, -0.2)]);

    [Fact]
    public void A_workspace_with_a_hidden_static_counter_fails_the_in_place_check()
    {
        var r = Verify.Transform(new HiddenCounter(), SmallTree, steps: 3);
        Assert.False(r[Verify.InPlaceSteps]!.Passed, r.ToString());
        Assert.Contains("step 1: updates '0.weight'[0, 0] differs", r[Verify.InPlaceSteps]!.Detail);
    }

    [Fact]
    public void A_State_that_returns_the_live_buffers_fails_the_state_copy_check_only()
    {
        var r = Verify.Transform(new LiveState(), SmallTree, steps: 3);
        Assert.False(r[Verify.StateIsCopy]!.Passed, r.ToString());
        Assert.Contains("state.Sum['0.weight'][0, 0] differs", r[Verify.StateIsCopy]!.Detail);
        Assert.True(r.Checks.Where(c => c.Name != Verify.StateIsCopy).All(c => c.Passed), r.ToString());
    }

    /// <summary>SGD (u ← −η·u) whose fused form applies p ← fma(u, −η, p): one rounding instead of two, so other bits.</summary>
    private sealed record FmaFused(double Rate) : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) { Expect<EmptyState>(state); return new Work<T>(T.CreateChecked(-Rate), false); }
        public override TransformWorkspace<T>? OpenApplying<T>(OptState state, ParamTree<T> parameters) { Expect<EmptyState>(state); return new Work<T>(T.CreateChecked(-Rate), true); }
        private sealed class Work<T>(T factor, bool applies) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
        {
            public override bool AppliesUpdates => applies;
            public override void Update(in UpdateArgs<T> a)
            {
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    if (!applies) { foreach (ref var x in u) x *= factor; continue; }
                    var p = a.WritableParameters(j);
                    for (int i = 0; i < p.Length; i++) p[i] = T.FusedMultiplyAdd(u[i], factor, p[i]);
                }
            }
            public override OptState State() => EmptyState.Instance;
        }
    }

    [Fact]
    public void A_fused_form_with_other_bits_fails_the_fused_check_only()
    {
        var r = Verify.Transform(new FmaFused(0.1), SmallTree, steps: 4, seed: 3);
        Assert.False(r[Verify.FusedSteps]!.Passed, r.ToString());
        Assert.Contains("parameters '0.", r[Verify.FusedSteps]!.Detail);
        Assert.Contains("fused", r[Verify.FusedSteps]!.Detail);
        Assert.True(r.Checks.Where(c => c.Name != Verify.FusedSteps).All(c => c.Passed), r.ToString());
    }

    /// <summary>The running sum of <see cref="LiveState"/>, but Open forgets to copy: the workspace adds into the state's own arrays.</summary>
    private sealed record NoCopyAtOpen : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => new SumState(parameters.Cast<double>().ZerosLike());
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) =>
            (TransformWorkspace<T>)(object)new Work(Expect<SumState>(state).Sum);
        private sealed class Work(ParamTree<double> start) : TransformWorkspace<double>
        {
            private readonly double[][] sum = [.. start.Leaves.Select(l => l.Buffer)];
            public override void Update(in UpdateArgs<double> a)
            {
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    for (int i = 0; i < u.Length; i++) { sum[j][i] += u[i]; u[i] = sum[j][i]; }
                }
            }
            public override OptState State() => new SumState(new ParamTree<double>(start.Names, [.. sum.Select((b, j) => NdArray.From<double>(b, [.. start.Leaves[j].Shape]))]));
        }
    }

    [Fact]
    public void A_workspace_that_writes_the_state_it_was_opened_on_fails_the_no_input_written_check()
    {
        var r = Verify.Transform(new NoCopyAtOpen(), SmallTree, steps: 2);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        Assert.Contains("state.Sum['0.weight'][0, 0] differs", r[Verify.NoInputWritten]!.Detail);
    }

    // ---- Arguments ----------------------------------------------------------------------------------------------------

    [Fact]
    public void Verify_Layer_names_a_bad_argument()
    {
        Assert.Equal("layer", Assert.Throws<ArgumentNullException>(() => Verify.Layer(null!, Width5)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => Verify.Layer(new TanhSpec(), (Shape)null!)).ParamName);
        foreach (var rows in new[] { 0, -1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Verify.Layer(new TanhSpec(), Width5, rows));
            Assert.Equal("rows", e.ParamName);
            Assert.Equal(rows, e.ActualValue);
        }
        Assert.True(Verify.Layer(new TanhSpec(), Width5, rows: 1).Passed);
    }

    [Fact]
    public void Verify_Loss_names_a_bad_argument()
    {
        var targets = NdArray.From<double>([0.5, -1], 1, 2);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => Verify.Loss(null!, Shape.Of(2), targets)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => Verify.Loss(new MseSpec(), (Shape)null!, targets)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentNullException>(() => Verify.Loss(new MseSpec(), Shape.Of(2), null!)).ParamName);
        var scalar = Assert.Throws<ArgumentException>(() => Verify.Loss(new MseSpec(), Shape.Of(2), NdArray.Zeros<double>()));
        Assert.Equal("targets", scalar.ParamName);
        Assert.StartsWith("targets must be [rows ≥ 1, …], got []", scalar.Message);
        var empty = Assert.Throws<ArgumentException>(() => Verify.Loss(new MseSpec(), Shape.Of(2), NdArray.Zeros<double>(0, 2)));
        Assert.Equal("targets", empty.ParamName);
        Assert.StartsWith("targets must be [rows ≥ 1, …], got [0, 2]", empty.Message);
        Assert.True(Verify.Loss(new MseSpec(), Shape.Of(2), targets).Passed);
    }

    [Fact]
    public void Verify_Transform_names_a_bad_argument()
    {
        Assert.Equal("transform", Assert.Throws<ArgumentNullException>(() => Verify.Transform(null!, SmallTree)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Verify.Transform(Optimizer.Sgd(0.1), null!)).ParamName);
        foreach (var steps in new[] { 0, -3 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Verify.Transform(Optimizer.Sgd(0.1), SmallTree, steps));
            Assert.Equal("steps", e.ParamName);
            Assert.Equal(steps, e.ActualValue);
        }
        Assert.True(Verify.Transform(Optimizer.Sgd(0.1), SmallTree, steps: 1).Passed);
    }

    [Fact]
    public void Targets_that_do_not_fit_the_output_are_reported_by_the_loss_checks()
    {
        var r = Verify.Loss(new MseSpec(), Shape.Of(3), NdArray.From<double>([0.5, -1], 1, 2));
        Assert.False(r[Verify.GradientCheck]!.Passed);
        Assert.StartsWith("threw ArgumentException: ", r[Verify.GradientCheck]!.Detail);
    }

    // ---- The report ---------------------------------------------------------------------------------------------------

    [Fact]
    public void The_report_is_a_table_and_ThrowIfFailed_throws_it()
    {
        var ok = Verify.Layer(new TanhSpec(), Width5);
        Assert.True(ok.Passed, ok.ToString());
        ok.ThrowIfFailed();
        var lines = ok.ToString().Split('\n');
        Assert.Equal(1 + ok.Checks.Length, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.StartsWith("  ✓ ", l));

        var bad = Verify.Layer(new DoubledTanh(), Width5);
        var e = Assert.Throws<VerificationException>(bad.ThrowIfFailed);
        Assert.Equal(bad.ToString(), e.Message);
        Assert.Contains("✗ " + Verify.GradientCheck, e.Message);
        Assert.Contains("FAILED (1 of 6 checks)", e.Message);
    }

    [Fact]
    public void A_report_is_a_function_of_its_arguments()
    {
        Assert.Equal(Verify.Layer(new DenseSpec(3, 2), Shape.Of(3), seed: 9), Verify.Layer(new DenseSpec(3, 2), Shape.Of(3), seed: 9));
        Assert.Equal(Verify.Transform(Optimizer.AdamW(0.01), SmallTree), Verify.Transform(Optimizer.AdamW(0.01), SmallTree));
    }
}
