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
using static NeuralPure.Properties.Support.ReportChecks;

namespace NeuralPure.Properties.Verification;

/// <summary><see cref="Verify.Transform"/> on user-style gradient transforms that each break one part of the transform contract.</summary>
public sealed class TransformCheckTests
{
    /// <summary>What a <see cref="Momentum"/> transform gets wrong.</summary>
    public enum Fault
    {
        None, InitThrows, InitNull, OpenNull, ForgetsCount, IgnoresVelocity, WritesParameters, PlainFormApplies, FusedNotApplying,
        FusedForgetsCount, FusedLiveState, FusedSkipsALeaf, AppliesFromSecondStep, FusedDependsOnThreads,
    }

    /// <summary>Heavy-ball momentum's state: the steps done and the velocity, one array per leaf (a user's state need not be a
    /// parameter tree: the kit compares it through its public properties).</summary>
    private sealed record VelocityState(long Count, double[][] Velocity) : OptState;

    /// <summary>v ← ½·v + u, u ← v (in double), with a fused form that adds the update to the parameters — written as a user
    /// would, with one deliberate <see cref="Fault"/>.</summary>
    private sealed record Momentum(Fault Fault = Fault.None) : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => Fault switch
        {
            Fault.InitThrows => throw new InvalidOperationException("no velocity for these parameters"),
            Fault.InitNull => null!,
            _ => new VelocityState(0, [.. parameters.Leaves.Select(l => new double[l.Length])]),
        };

        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) =>
            Fault == Fault.OpenNull ? null! : (TransformWorkspace<T>)(object)new Work(Expect<VelocityState>(state), Fault, applies: false);

        public override TransformWorkspace<T>? OpenApplying<T>(OptState state, ParamTree<T> parameters) =>
            Fault == Fault.OpenNull ? null : (TransformWorkspace<T>)(object)new Work(Expect<VelocityState>(state), Fault, applies: true);

        private sealed class Work(VelocityState start, Fault fault, bool applies) : TransformWorkspace<double>
        {
            private long count = fault == Fault.ForgetsCount ? 0 : start.Count;
            private int updates;
            private readonly double[][] v = [.. start.Velocity.Select(l => fault == Fault.IgnoresVelocity ? new double[l.Length] : (double[])l.Clone())];

            public override bool AppliesUpdates => applies && fault != Fault.FusedNotApplying;

            public override void Update(in UpdateArgs<double> a)
            {
                updates++;   // on this workspace (the pure Update opens a fresh one per step)
                if (!applies || fault != Fault.FusedForgetsCount) count++;
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    for (int i = 0; i < u.Length; i++) { v[j][i] = 0.5 * v[j][i] + u[i]; u[i] = v[j][i]; }
                    if (fault == Fault.WritesParameters) Writable(a.Parameters(j))[0] = 0;
                    if (fault == Fault.AppliesFromSecondStep && !applies && updates >= 2) a.WritableParameters(j)[0] += 0;   // "applies" nothing, but asks
                    if (fault == Fault.PlainFormApplies || (applies && !(fault == Fault.FusedSkipsALeaf && j == a.Count - 1)))
                    {
                        var p = a.WritableParameters(j);
                        double k = fault == Fault.FusedDependsOnThreads && a.Threads > 1 ? 1 + Math.ScaleB(1, -40) : 1;
                        for (int i = 0; i < p.Length; i++) p[i] += u[i] * k;
                    }
                }
            }

            public override OptState State() => new VelocityState(count, applies && fault == Fault.FusedLiveState ? v : [.. v.Select(b => (double[])b.Clone())]);
        }
    }

    private static readonly ParamTree<double> Tree = new(["0.weight", "0.bias"], [NdArray.From<double>([0.5, -1, 2, 0.25], 2, 2), NdArray.Vector(0.1, -0.2)]);

    private static VerificationReport Check(Fault fault, int steps = 3) => Verify.Transform(new Momentum(fault), Tree, steps);

    [Fact]
    public void A_correct_user_transform_with_a_fused_form_passes_and_each_check_says_what_it_saw()
    {
        var r = Check(Fault.None);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("transform Momentum { Fault = None } on ParamTree{0.weight[2, 2], 0.bias[2]} (6 parameters), 3 steps, seed 1", r.Subject);
        Assert.Equal<CheckResult>([
            new CheckResult(Verify.InPlaceSteps, true, "3 in-place steps on one workspace give the pure updates' bits and state"),
            new CheckResult(Verify.FusedSteps, true, "3 fused steps give the parameters and state of the pure updates and ApplyUpdates"),
            new CheckResult(Verify.NoInputWritten, true, "the gradients, the parameters and the state passed to Open are unchanged"),
            new CheckResult(Verify.Threads, true, "3 steps give the same updates and state with 1 and 3 threads (plain and fused forms)"),
            new CheckResult(Verify.StateIsCopy, true, "a State() snapshot is unchanged by further steps (plain and fused forms)"),
            new CheckResult(Verify.ZeroGradient, true, "3 steps of zero gradients at zero parameters give zero updates, and the fused form leaves the parameters at 0")], r.Checks);
    }

    [Law(10)]
    public Property A_correct_user_transform_passes_for_any_steps_and_seed() =>
        Prop.ForAll((from steps in Gen.Choose(1, 6) from seed in Generators.Seed select (steps, seed)).ToArbitrary(),
            c =>
            {
                var r = Verify.Transform(new Momentum(), Tree, c.steps, c.seed);
                return r.Passed.Label(r.ToString());
            });

    [Fact]
    public void A_transform_without_a_fused_form_passes_the_fused_check_saying_so()
    {
        var r = Verify.Transform(new ScaleByLearningRate(0.1), Tree, steps: 2);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("no fused form (OpenApplying returns null)", r[Verify.FusedSteps]!.Detail);
        Assert.Equal("a State() snapshot is unchanged by further steps", r[Verify.StateIsCopy]!.Detail);
        Assert.Equal("2 in-place steps on one workspace give the pure updates' bits and state", r[Verify.InPlaceSteps]!.Detail);
        Assert.Equal("2 steps give the same updates and state with 1 and 3 threads", r[Verify.Threads]!.Detail);
    }

    [Theory]
    [InlineData(Fault.InitThrows, "Init threw InvalidOperationException: no velocity for these parameters")]
    [InlineData(Fault.InitNull, "Init threw InvalidOperationException: Init returned null")]
    public void An_Init_that_fails_fails_every_check_with_its_exception(Fault fault, string detail) =>
        Assert.Equal<CheckResult>([new CheckResult(Verify.InPlaceSteps, false, detail), new(Verify.FusedSteps, false, detail), new(Verify.NoInputWritten, false, detail),
            new(Verify.Threads, false, detail), new(Verify.StateIsCopy, false, detail), new(Verify.ZeroGradient, false, detail)], Check(fault).Checks);

    [Fact]
    public void An_Open_that_returns_null_fails_the_checks_that_open_a_workspace()
    {
        var r = Check(Fault.OpenNull);
        OnlyFails(r, Verify.InPlaceSteps, Verify.Threads, Verify.StateIsCopy, Verify.ZeroGradient);
        Assert.Equal("threw InvalidOperationException: Open returned null", r[Verify.InPlaceSteps]!.Detail);
        Assert.Equal("threw InvalidOperationException: Open returned null", r[Verify.Threads]!.Detail);
        Assert.Equal("threw InvalidOperationException: Open returned null", r[Verify.StateIsCopy]!.Detail);
        Assert.Equal("threw InvalidOperationException: Momentum.Open returned null", r[Verify.ZeroGradient]!.Detail);   // the pure Update's words
    }

    [Fact]
    public void A_workspace_that_forgets_the_step_count_it_was_opened_on_fails_the_in_place_check_on_the_state()
    {
        var r = Check(Fault.ForgetsCount);
        OnlyFails(r, Verify.InPlaceSteps, Verify.FusedSteps);
        Assert.Equal("after 3 steps: state.Count differs: pure 1, in place 3", r[Verify.InPlaceSteps]!.Detail);
        Assert.Equal("after 3 steps: state.Count differs: pure 1, fused 3", r[Verify.FusedSteps]!.Detail);
    }

    [Fact]
    public void A_workspace_that_ignores_the_velocity_it_was_opened_on_fails_at_the_second_step()
    {
        var r = Check(Fault.IgnoresVelocity);
        OnlyFails(r, Verify.InPlaceSteps, Verify.FusedSteps);
        Assert.Matches(@"^step 2: updates '0\.weight'\[0, 0\] differs: pure \S+, in place \S+ \(4 of 4 elements differ\)$", r[Verify.InPlaceSteps]!.Detail);
        Assert.Matches(@"^step 2: parameters '0\.weight'\[0, 0\] differs: pure \+ apply \S+, fused \S+ \(4 of 4 elements differ\)$", r[Verify.FusedSteps]!.Detail);
    }

    [Fact]
    public void A_workspace_that_writes_its_read_only_parameters_fails_the_no_input_written_check()
    {
        var r = Check(Fault.WritesParameters);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        Assert.Equal("an input was written: parameters['0.weight'][0, 0] differs: before 0.5, after 0", r[Verify.NoInputWritten]!.Detail);
    }

    [Fact]
    public void A_plain_workspace_that_applies_its_updates_is_refused_writable_parameters()
    {
        var r = Check(Fault.PlainFormApplies);
        OnlyFails(r, Verify.InPlaceSteps, Verify.FusedSteps, Verify.Threads, Verify.StateIsCopy, Verify.ZeroGradient);
        const string refused = "threw InvalidOperationException: these parameters are read-only: only a workspace that applies its updates gets writable parameters";
        Assert.Equal(refused, r[Verify.InPlaceSteps]!.Detail);
        Assert.Equal(refused, r[Verify.FusedSteps]!.Detail);
        Assert.Equal(refused, r[Verify.Threads]!.Detail);
        Assert.Equal(refused, r[Verify.StateIsCopy]!.Detail);
        Assert.Equal(refused, r[Verify.ZeroGradient]!.Detail);
    }

    [Fact]
    public void A_fused_workspace_that_does_not_declare_it_applies_fails_the_fused_check()
    {
        var r = Check(Fault.FusedNotApplying);
        OnlyFails(r, Verify.FusedSteps);
        Assert.Equal("OpenApplying returned a workspace whose AppliesUpdates is false", r[Verify.FusedSteps]!.Detail);
    }

    [Fact]
    public void A_fused_workspace_whose_state_lags_fails_the_fused_check_on_the_state()
    {
        var r = Check(Fault.FusedForgetsCount, steps: 4);
        OnlyFails(r, Verify.FusedSteps);
        Assert.Equal("after 4 steps: state.Count differs: pure 4, fused 0", r[Verify.FusedSteps]!.Detail);
    }

    [Fact]
    public void A_fused_workspace_that_skips_a_leaf_names_the_leaf()
    {
        var r = Check(Fault.FusedSkipsALeaf);
        OnlyFails(r, Verify.FusedSteps);
        Assert.Matches(@"^step 1: parameters '0\.bias'\[0\] differs: pure \+ apply \S+, fused 0\.1 \(2 of 2 elements differ\)$", r[Verify.FusedSteps]!.Detail);
    }

    [Fact]
    public void A_fused_State_that_returns_the_live_buffers_fails_the_state_copy_check_on_the_fused_form()
    {
        var r = Check(Fault.FusedLiveState);
        OnlyFails(r, Verify.StateIsCopy);
        Assert.Matches(@"^fused form: the state taken after step 1 changed when the workspace stepped on: state\.Velocity\[0\]\[0\] differs: at State\(\) \S+, after further steps \S+$",
            r[Verify.StateIsCopy]!.Detail);
    }

    [Fact]
    public void Inside_a_chain_a_difference_is_named_by_its_path_through_the_chain_state()
    {
        var r = Verify.Transform(GradientTransform.Chain(new ScaleByLearningRate(0.1), new Momentum(Fault.ForgetsCount)), Tree, steps: 2);
        Assert.False(r[Verify.InPlaceSteps]!.Passed, r.ToString());
        Assert.Equal("after 2 steps: state.States[1].Count differs: pure 1, in place 2", r[Verify.InPlaceSteps]!.Detail);
    }

    /// <summary>The identity, recording the gradients it is handed.</summary>
    private sealed record GradientRecorder : GradientTransform
    {
        public List<double[]> Seen { get; } = [];
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => (TransformWorkspace<T>)(object)new Work(Seen);
        private sealed class Work(List<double[]> seen) : TransformWorkspace<double>
        {
            public override void Update(in UpdateArgs<double> a)
            {
                for (int j = 0; j < a.Count; j++) seen.Add(a.Updates(j).ToArray());
            }
            public override OptState State() => EmptyState.Instance;
        }
    }

    [Fact]
    public void The_gradients_are_drawn_in_minus_one_to_one_with_both_signs_and_differ_by_step()
    {
        var big = new ParamTree<double>(["w"], [NdArray.Zeros<double>(40)]);
        var t = new GradientRecorder();
        Assert.True(Verify.Transform(t, big, steps: 2).Passed);
        var first = t.Seen[0];
        Assert.All(t.Seen.SelectMany(g => g), v => Assert.InRange(v, -1, 1));
        Assert.Contains(first, v => v < -0.5);
        Assert.Contains(first, v => v > 0.5);
        Assert.Contains(t.Seen, g => !g.SequenceEqual(first));   // the second step's gradients are drawn anew
    }

    /// <summary>The sum of every third step's updates (the identity otherwise), kept in a buffer that <c>State()</c> hands out
    /// live, as a lookahead-style slow copy might: a snapshot changes only on a third step.</summary>
    private sealed record EveryThirdLive : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => new SlowState(0, [.. parameters.Leaves.Select(l => new double[l.Length])]);
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => (TransformWorkspace<T>)(object)new Work(Expect<SlowState>(state));
        private sealed class Work(SlowState start) : TransformWorkspace<double>
        {
            private long count = start.Count;
            private readonly double[][] slow = [.. start.Slow.Select(b => (double[])b.Clone())];
            public override void Update(in UpdateArgs<double> a)
            {
                if (++count % 3 != 0) return;
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    for (int i = 0; i < u.Length; i++) slow[j][i] += u[i];
                }
            }
            public override OptState State() => new SlowState(count, slow);
        }
    }

    private sealed record SlowState(long Count, double[][] Slow) : OptState;

    [Fact]
    public void The_state_copy_check_steps_on_at_least_twice_after_its_snapshot()
    {
        var r = Verify.Transform(new EveryThirdLive(), Tree, steps: 1);
        OnlyFails(r, Verify.StateIsCopy);
        Assert.Matches(@"^the state taken after step 1 changed when the workspace stepped on: state\.Slow\[0\]\[0\] differs: at State\(\) 0, after further steps \S+$",
            r[Verify.StateIsCopy]!.Detail);
    }

    [Fact]
    public void A_plain_workspace_that_asks_for_writable_parameters_on_a_later_step_is_refused_them()
    {
        var r = Check(Fault.AppliesFromSecondStep);
        OnlyFails(r, Verify.InPlaceSteps, Verify.Threads, Verify.StateIsCopy);   // the pure Update opens a fresh workspace each step: only these see a second update
        const string refused = "threw InvalidOperationException: these parameters are read-only: only a workspace that applies its updates gets writable parameters";
        Assert.Equal(refused, r[Verify.InPlaceSteps]!.Detail);
        Assert.Equal(refused, r[Verify.Threads]!.Detail);
        Assert.Equal(refused, r[Verify.StateIsCopy]!.Detail);
    }

    /// <summary>A running sum of the updates (the identity otherwise) whose buffer is allocated at the first update and from then
    /// on handed out live by <c>State()</c> (before it, State() returns fresh zeros).</summary>
    private sealed record LazyLive : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => new SlowState(0, [.. parameters.Leaves.Select(l => new double[l.Length])]);
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => (TransformWorkspace<T>)(object)new Work(Expect<SlowState>(state));
        private sealed class Work(SlowState start) : TransformWorkspace<double>
        {
            private double[][]? sum;
            public override void Update(in UpdateArgs<double> a)
            {
                sum ??= [.. start.Slow.Select(b => (double[])b.Clone())];
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    for (int i = 0; i < u.Length; i++) sum[j][i] += u[i];
                }
            }
            public override OptState State() => new SlowState(start.Count, sum ?? [.. start.Slow.Select(b => (double[])b.Clone())]);
        }
    }

    [Fact]
    public void The_state_copy_check_takes_its_snapshot_after_a_first_step()
    {
        var r = Verify.Transform(new LazyLive(), Tree, steps: 2);
        OnlyFails(r, Verify.StateIsCopy);
        Assert.StartsWith("the state taken after step 1 changed when the workspace stepped on: state.Slow[0][0] differs: at State() ", r[Verify.StateIsCopy]!.Detail);
    }

    /// <summary>Clipping by the global norm (optax's <c>clip_by_global_norm</c>) written as a user might for speed: the squared norm
    /// summed in <see cref="UpdateArgs{T}.Threads"/> chunks, one partial sum per thread, then the partial sums added — so its last
    /// bit, and the updates', depend on the thread count the training fold passes.</summary>
    private sealed record ChunkedClip(double MaxNorm) : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) { Expect<EmptyState>(state); return (TransformWorkspace<T>)(object)new Work(MaxNorm); }
        private sealed class Work(double maxNorm) : TransformWorkspace<double>
        {
            public override void Update(in UpdateArgs<double> a)
            {
                double sum = 0;
                for (int j = 0; j < a.Count; j++)
                {
                    var u = a.Updates(j);
                    int chunk = (u.Length + a.Threads - 1) / a.Threads;
                    for (int start = 0; start < u.Length; start += chunk)
                    {
                        double part = 0;
                        foreach (var v in u.Slice(start, Math.Min(chunk, u.Length - start))) part += v * v;
                        sum += part;
                    }
                }
                double scale = Math.Min(1, maxNorm / Math.Sqrt(sum));
                for (int j = 0; j < a.Count; j++) foreach (ref var v in a.Updates(j)) v *= scale;
            }
            public override OptState State() => EmptyState.Instance;
        }
    }

    [Fact]
    public void A_transform_whose_bits_depend_on_the_thread_count_fails_the_thread_check_which_the_fold_would_meet()
    {
        var wide = new ParamTree<double>(["0.weight"], [NdArray.Zeros<double>(7, 9)]);
        var r = Verify.Transform(new ChunkedClip(0.5), wide, steps: 3);
        OnlyFails(r, Verify.Threads);
        Assert.Matches(@"^step \d: updates '0\.weight'\[\d, \d\] differs: 1 thread \S+, 3 threads \S+ \(\d+ of 63 elements differ\)$", r[Verify.Threads]!.Detail);

        // What the check stands for: in the fold, on 2 threads, such a transform leaves the bits of the pure steps (1 thread).
        var spec = new ModelSpec(2, [new DenseSpec(2, 16), new TanhSpec(), new DenseSpec(16, 1)], new MseSpec());
        var opt = GradientTransform.Chain(new ChunkedClip(0.05), new ScaleByLearningRate(0.1));
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(3));
        var data = TrainingProblems.Linear<double>(64);
        var one = Trainer.Fit(spec, opt, start, data, new TrainConfig(16, 2), new Parallelism(1)).State.Params;
        var two = Trainer.Fit(spec, opt, start, data, new TrainConfig(16, 2), new Parallelism(2)).State.Params;
        Assert.Contains(Enumerable.Range(0, one.Count), i => !one[i].Equals(two[i]));
    }

    [Fact]
    public void A_fused_form_whose_bits_depend_on_the_thread_count_fails_the_thread_check_naming_the_parameters()
    {
        var r = Check(Fault.FusedDependsOnThreads);
        OnlyFails(r, Verify.Threads);
        Assert.Matches(@"^fused form: step 1: parameters '0\.weight'\[0, 0\] differs: 1 thread \S+, 3 threads \S+ \(\d of 4 elements differ\)$", r[Verify.Threads]!.Detail);
    }

    /// <summary>sign-SGD's direction, u ← sign(u) (Bernstein et al. 2018), written as a user might: with <paramref name="ZeroIsPlus"/>
    /// the sign is taken by u ≥ 0, so a zero gradient gives +1.</summary>
    private sealed record ScaleBySign(bool ZeroIsPlus) : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) { Expect<EmptyState>(state); return new Work<T>(ZeroIsPlus); }
        private sealed class Work<T>(bool zeroIsPlus) : TransformWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            public override void Update(in UpdateArgs<T> a)
            {
                for (int j = 0; j < a.Count; j++)
                    foreach (ref var u in a.Updates(j)) u = zeroIsPlus ? (u >= T.Zero ? T.One : -T.One) : T.CreateChecked(T.Sign(u));
            }
            public override OptState State() => EmptyState.Instance;
        }
    }

    [Fact]
    public void A_sign_taken_as_plus_one_at_zero_fails_the_zero_gradient_law_only_and_the_right_sign_passes_it()
    {
        // The drawn gradients are never exactly 0, so every other check passes: only the law sees the frozen parameter that drifts.
        var r = Verify.Transform(new ScaleBySign(ZeroIsPlus: true), Tree, steps: 2);
        OnlyFails(r, Verify.ZeroGradient);
        Assert.Equal("step 1: updates '0.weight'[0, 0] is 1, not 0, for zero gradients at zero parameters (6 of 6 elements are not 0)", r[Verify.ZeroGradient]!.Detail);
        var right = Verify.Transform(GradientTransform.Chain(new ScaleBySign(ZeroIsPlus: false), new ScaleByLearningRate(0.01)), Tree, steps: 2);
        Assert.True(right.Passed, right.ToString());
        Assert.Equal("2 steps of zero gradients at zero parameters give zero updates", right[Verify.ZeroGradient]!.Detail);
    }

    [Fact]
    public void Adam_with_eps_zero_fails_the_zero_gradient_law_with_NaN_and_weight_decay_at_zero_parameters_keeps_it()
    {
        var r = Verify.Transform(new ScaleByAdam(Eps: 0), Tree, steps: 2);
        OnlyFails(r, Verify.ZeroGradient);   // 0/(√0 + 0): a parameter that gets no gradient becomes NaN, as in torch.optim.Adam(eps=0)
        Assert.StartsWith("step 1: updates '0.weight'[0, 0] is NaN, not 0,", r[Verify.ZeroGradient]!.Detail);
        foreach (var t in new[] { Optimizer.AdamW(0.01, weightDecay: 0.1), Optimizer.Sgd(0.1, weightDecay: 0.1), Optimizer.Lion(0.01, weightDecay: 0.1) })
        {
            var d = Verify.Transform(t, Tree, steps: 3);
            Assert.True(d.Passed, d.ToString());
        }
    }
}
