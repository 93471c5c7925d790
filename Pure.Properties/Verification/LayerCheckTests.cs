using System.Text.RegularExpressions;
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Layers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;
using static NeuralPure.Properties.Support.ReportChecks;

namespace NeuralPure.Properties.Verification;

/// <summary><c>Verify.Layer</c> on user-style layers that each break one part of the layer contract: the report fails on
/// the check that owns that part, names the entry and shows its values, and the other checks still pass.</summary>
public sealed class LayerCheckTests
{
    /// <summary>What a <see cref="Scale"/> layer gets wrong.</summary>
    public enum Fault
    {
        None, WrongDx, WrongWeightGradient, LeavesDxUnwritten, LeavesGradientUnwritten, AccumulatesUnlessNaN, WritesDy, WritesY,
        WritesWeight, WritesX, ReadsScratch, DxByThreads, GradientByThreads, BackwardThrows, ReturnsWithoutDx, ZeroGradientsWithoutDx, WritesDxUnasked,
        GradientByThreadsWithoutDx,
    }

    /// <summary>y = w ⊙ x for each example, w [width] drawn in [0.5, 1.5]; dx = w ⊙ dy and dw = Σ over rows of x ⊙ dy — written
    /// as a user would, with one deliberate <see cref="Fault"/>.</summary>
    private sealed record Scale(Fault Fault = Fault.None) : LayerSpec
    {
        public override string Kind => "scale";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("weight", input)];
        public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key) => [Sampling.Uniform<T>(key, 0.5, 1.5, [.. input.Dims])];
        public override int ScratchBytes<T>(Shape input, int rows) => Fault == Fault.ReadsScratch ? 3 : 0;

        public override void Forward<T>(in ForwardArgs<T> a)
        {
            int w = a.Input.Size;
            var p = a.Parameter(0);
            for (int i = 0; i < a.X.Length; i++) a.Y[i] = p[i % w] * a.X[i];
            if (Fault == Fault.ReadsScratch) a.Y[0] += T.CreateChecked(a.Scratch[0]);   // scratch it never wrote
            if (Fault == Fault.WritesWeight) Writable(p)[1] += T.One;
            if (Fault == Fault.WritesX) Writable(a.X)[2] = T.Zero;
        }

        public override void Backward<T>(in BackwardArgs<T> a)
        {
            if (Fault == Fault.BackwardThrows) throw new InvalidOperationException("backward is not written yet");
            if (Fault == Fault.ReturnsWithoutDx && !a.InputGradient) return;   // "nothing to do without dx": the gradients are left as they were
            if (Fault == Fault.ZeroGradientsWithoutDx && !a.InputGradient) { a.Gradient(0).Clear(); return; }
            if (Fault == Fault.WritesDxUnasked) a.DX[0] = T.Zero;             // before looking at InputGradient
            int w = a.Input.Size;
            var p = a.Parameter(0);
            var g = a.Gradient(0);
            if (Fault == Fault.WritesY) Writable(a.Y)[0] += a.InputGradient && T.IsNaN(a.DX[0]) ? T.One : T.One + T.One;   // +1 on a fresh dx, +2 on a reused one
            int nx = Fault == Fault.LeavesDxUnwritten ? a.DX.Length - 1 : a.DX.Length;
            for (int i = 0; i < nx; i++) a.DX[i] = p[i % w] * a.DY[i];
            int ng = Fault == Fault.LeavesGradientUnwritten ? w - 1 : w;
            for (int j = 0; j < ng; j++)
            {
                T sum = T.Zero;
                for (int r = 0; r < a.Rows; r++) sum += a.X[r * w + j] * a.DY[r * w + j];
                g[j] = Fault == Fault.AccumulatesUnlessNaN ? (T.IsNaN(g[j]) ? T.Zero : g[j]) + sum : sum;
            }
            var threads = T.CreateChecked(a.Threads);
            switch (Fault)
            {
                case Fault.WrongDx when a.InputGradient: a.DX[5] += T.One; break;
                case Fault.WrongWeightGradient: g[2] += g[2]; break;
                case Fault.WritesDy: Writable(a.DY)[0] += T.One; break;
                case Fault.DxByThreads: foreach (ref var d in a.DX) d *= threads; break;
                case Fault.GradientByThreads: foreach (ref var d in g) d *= threads; break;
                case Fault.GradientByThreadsWithoutDx when !a.InputGradient: foreach (ref var d in g) d *= threads; break;
            }
        }
    }

    private static readonly Shape Width4 = Shape.Of(4);

    private static VerificationReport Check(Fault fault, int rows = 3) => Verify.Layer(new Scale(fault), Width4, rows);

    // ---- A correct layer ----------------------------------------------------------------------------------------------

    [Fact]
    public void A_correct_user_layer_passes_and_each_check_says_what_it_saw()
    {
        var r = Check(Fault.None);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("layer scale (Scale { Kind = scale, Fault = None }) on 3 × [4], seed 1", r.Subject);
        Assert.Equal([Verify.GradientCheck, Verify.PureVsInPlace, Verify.NoInputWritten, Verify.Threads, Verify.Shapes, Verify.SharedBuffers], r.Checks.Select(c => c.Name));
        Assert.Equal("claims neither BackwardInPlace nor IsView: the fold gives it buffers of its own", r[Verify.SharedBuffers]!.Detail);
        Assert.Matches(@"^20 elements agree, 4 of them computed without dx; worst (dx|weight)\[[0-9, ]+\]: analytic \S+, numeric \S+ \([0-9.E-]+ of the tolerance\)$", r[Verify.GradientCheck]!.Detail);
        Assert.Equal("y, dx and 1 gradient(s) equal the driver's bits, on NaN-filled and on reused destinations (scratch 0 bytes, 0xCD-filled); the gradients without dx too", r[Verify.PureVsInPlace]!.Detail);
        Assert.Equal("x, the parameters, dy and y (in backward) are unchanged", r[Verify.NoInputWritten]!.Detail);
        Assert.Equal("y, dx and the gradients have the same bits with 1 and 3 threads", r[Verify.Threads]!.Detail);
        Assert.Equal("output [4]; parameters weight [4]; scratch 0 bytes", r[Verify.Shapes]!.Detail);
        Assert.Equal("layer scale (Scale { Kind = scale, Fault = None }) on 2 × [4], seed 7, training", Verify.Layer(new Scale(), Width4, rows: 2, seed: 7, training: true).Subject);
    }

    [Law(10)]
    public Property A_correct_user_layer_passes_for_any_shape_rows_seed_and_mode() =>
        Prop.ForAll((from w in Gen.Choose(1, 6)
                     from rows in Gen.Choose(1, 4)
                     from training in Gen.Elements(false, true)
                     from seed in Generators.Seed
                     select (w, rows, training, seed)).ToArbitrary(),
            c =>
            {
                var r = Verify.Layer(new Scale(), Shape.Of(c.w), c.rows, c.seed, c.training);
                return r.Passed.Label(r.ToString());
            });

    /// <summary>Records the inputs it sees (the identity otherwise).</summary>
    private sealed record Recorder : LayerSpec
    {
        public List<double[]> Seen { get; } = [];
        public List<double[]> SeenDy { get; } = [];
        public List<bool> Modes { get; } = [];
        public override string Kind => "recorder";
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a)
        {
            a.X.CopyTo(a.Y);
            Modes.Add(a.Training);
            Seen.Add([.. a.X.ToArray().Select(double.CreateChecked)]);
        }
        public override void Backward<T>(in BackwardArgs<T> a)
        {
            a.DY.CopyTo(a.DX);
            SeenDy.Add([.. a.DY.ToArray().Select(double.CreateChecked)]);
        }
    }

    [Fact]
    public void The_inputs_are_drawn_away_from_zero_and_the_cotangent_in_minus_one_to_one_both_with_both_signs()
    {
        var layer = new Recorder();
        Assert.True(Verify.Layer(layer, Shape.Of(50), rows: 4).Passed);
        var (x, dy) = (layer.Seen[0], layer.SeenDy[0]);
        Assert.Equal((200, 200), (x.Length, dy.Length));
        Assert.All(x, v => Assert.InRange(Math.Abs(v), Verify.InputMargin, 2));
        Assert.Contains(x, v => Math.Abs(v) > 1);
        Assert.All(dy, v => Assert.InRange(v, -1, 1));
        Assert.All(layer.SeenDy, d => Assert.Equal(dy, d));   // one fixed cotangent for every call
        foreach (var a in new[] { x, dy })
        {
            Assert.Contains(a, v => v < -0.5);
            Assert.Contains(a, v => v > 0.5);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_forward_pass_runs_in_the_mode_asked_for(bool training)
    {
        var layer = new Recorder();
        Assert.True(Verify.Layer(layer, Width4, rows: 2, training: training).Passed);
        Assert.NotEmpty(layer.Modes);
        Assert.All(layer.Modes, m => Assert.Equal(training, m));
    }

    // ---- (1) the gradient check ---------------------------------------------------------------------------------------

    [Fact]
    public void A_wrong_dx_fails_the_gradient_check_naming_the_element_and_its_two_values()
    {
        var r = Check(Fault.WrongDx);
        OnlyFails(r, Verify.GradientCheck);
        var m = Matched(r[Verify.GradientCheck]!.Detail, @"^worst dx\[1, 1\]: analytic (\S+), numeric (\S+), \|a − n\| = (\S+) > tolerance (\S+) \(atol 1E-06, rtol 0\.0001, h 1E-06\); 1 of 20 elements fail$");
        double a = Number(m[1]), n = Number(m[2]);
        Assert.InRange(a - n, 1 - 1e-6, 1 + 1e-6);   // dx[5] is off by exactly one
        Assert.Equal(R(Math.Abs(a - n)), m[3]);
        Assert.Equal(R(Verify.Atol + Verify.Rtol * Math.Max(Math.Abs(a), Math.Abs(n))), m[4]);
    }

    [Fact]
    public void A_wrong_parameter_gradient_fails_the_gradient_check_naming_the_parameter()
    {
        var r = Check(Fault.WrongWeightGradient);
        OnlyFails(r, Verify.GradientCheck);
        var m = Matched(r[Verify.GradientCheck]!.Detail, @"^worst weight\[2\]: analytic (\S+), numeric (\S+), .*; 2 of 20 elements fail$");   // with dx and without
        double a = Number(m[1]), n = Number(m[2]);
        Assert.Equal(2 * n, a, 1e-6);
    }

    [Fact]
    public void The_tolerances_are_printed_in_the_invariant_culture() =>
        Assert.Contains("(atol 1E-06, rtol 0.0001, h 1E-06)", Cultures.WithDecimalComma(() => Check(Fault.WrongDx))[Verify.GradientCheck]!.Detail);

    [Fact]
    public void A_backward_that_throws_fails_every_check_that_runs_it_with_the_exception()
    {
        var r = Check(Fault.BackwardThrows);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace, Verify.Threads);
        const string threw = "threw InvalidOperationException: backward is not written yet";
        Assert.Equal(threw, r[Verify.GradientCheck]!.Detail);
        Assert.Equal(threw, r[Verify.PureVsInPlace]!.Detail);
        Assert.Equal(threw, r[Verify.Threads]!.Detail);
    }

    // ---- (2) pure vs in place -----------------------------------------------------------------------------------------

    [Fact]
    public void A_dx_element_left_unwritten_shows_as_NaN_in_the_pure_vs_in_place_check()
    {
        var r = Check(Fault.LeavesDxUnwritten);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace);   // the driver's fresh dx holds 0 there: a wrong gradient too
        Assert.Equal("dx[2, 3] differs: driver 0, in place NaN (1 of 12 elements differ) (backward on NaN-filled destinations)", r[Verify.PureVsInPlace]!.Detail);
        Assert.StartsWith("worst dx[2, 3]: analytic 0, numeric ", r[Verify.GradientCheck]!.Detail);
    }

    [Fact]
    public void A_gradient_element_left_unwritten_names_the_parameter()
    {
        var r = Check(Fault.LeavesGradientUnwritten);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace);
        Assert.Equal("weight[3] differs: driver 0, in place NaN (1 of 4 elements differ) (backward on NaN-filled destinations)", r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_backward_that_accumulates_unless_it_sees_NaN_fails_only_on_the_reused_destinations()
    {
        var r = Check(Fault.AccumulatesUnlessNaN);
        OnlyFails(r, Verify.PureVsInPlace);
        var m = Matched(r[Verify.PureVsInPlace]!.Detail, @"^weight\[0\] differs: driver (\S+), in place (\S+) \(4 of 4 elements differ\) \(backward on reused destinations\)$");
        Assert.Equal(2 * Number(m[1]), Number(m[2]));
    }

    [Fact]
    public void A_forward_that_reads_scratch_it_never_wrote_sees_the_0xCD_fill()
    {
        var r = Check(Fault.ReadsScratch);
        OnlyFails(r, Verify.PureVsInPlace);
        var m = Matched(r[Verify.PureVsInPlace]!.Detail, @"^y\[0, 0\] differs: driver (\S+), in place (\S+) \(1 of 12 elements differ\) \(forward on NaN-filled destinations\)$");
        Assert.Equal(0xCD, Number(m[2]) - Number(m[1]), 1e-9);
        Assert.Equal("output [4]; parameters weight [4]; scratch 3 bytes", r[Verify.Shapes]!.Detail);
    }

    // ---- (3) no input written -----------------------------------------------------------------------------------------

    [Fact]
    public void A_backward_that_writes_dy_fails_the_no_input_written_check_naming_dy()
    {
        var r = Check(Fault.WritesDy);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        var m = Matched(r[Verify.NoInputWritten]!.Detail, @"^an input was written: dy\[0, 0\] differs: before (\S+), after (\S+)$");
        Assert.NotEqual(m[1], m[2]);
    }

    [Fact]
    public void A_forward_that_writes_a_parameter_fails_the_no_input_written_check_naming_it()
    {
        var r = Check(Fault.WritesWeight);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        var m = Matched(r[Verify.NoInputWritten]!.Detail, @"^an input was written: weight\[1\] differs: before (\S+), after (\S+)$");
        Assert.True(Number(m[2]) > Number(m[1]) + 1, r[Verify.NoInputWritten]!.Detail);
    }

    [Fact]
    public void A_forward_that_writes_x_fails_the_no_input_written_check_naming_x()
    {
        var r = Check(Fault.WritesX);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        Assert.Matches(@"^an input was written: x\[0, 2\] differs: before \S+, after 0$", r[Verify.NoInputWritten]!.Detail);
    }

    [Fact]
    public void A_backward_that_writes_y_is_caught_in_the_direct_call_and_named_by_its_first_run()
    {
        var r = Check(Fault.WritesY);
        OnlyFails(r, Verify.NoInputWritten);   // the driver's y is its own, so only the direct call sees the write
        var m = Matched(r[Verify.NoInputWritten]!.Detail, @"^backward wrote its input y\[0, 0\] differs: before backward (\S+), after (\S+) \(1 of 12 elements differ\)$");
        Assert.Equal(1, Number(m[2]) - Number(m[1]), 1e-9);   // +1: the first run's write, on a NaN-filled dx
    }

    // ---- (4) threads --------------------------------------------------------------------------------------------------

    [Fact]
    public void A_dx_that_depends_on_the_thread_count_fails_the_thread_check_naming_dx()
    {
        var r = Check(Fault.DxByThreads);
        OnlyFails(r, Verify.Threads);
        var m = Matched(r[Verify.Threads]!.Detail, @"^dx\[0, 0\] differs: 1 thread (\S+), 3 threads (\S+) \(12 of 12 elements differ\)$");
        Assert.Equal(3 * Number(m[1]), Number(m[2]), 1e-12);
    }

    [Fact]
    public void A_parameter_gradient_that_depends_on_the_thread_count_names_the_parameter()
    {
        var r = Check(Fault.GradientByThreads);
        OnlyFails(r, Verify.Threads);
        Assert.Matches(@"^weight\[0\] differs: 1 thread \S+, 3 threads \S+ \(4 of 4 elements differ\)$", r[Verify.Threads]!.Detail);
    }

    /// <summary>The identity scaled by the thread count in forward only.</summary>
    private sealed record ForwardByThreads : LayerSpec
    {
        public override string Kind => "forward-by-threads";
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a)
        {
            var k = T.CreateChecked(a.Threads);
            for (int i = 0; i < a.X.Length; i++) a.Y[i] = a.X[i] * k;
        }
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    [Fact]
    public void A_forward_that_depends_on_the_thread_count_names_y()
    {
        var r = Verify.Layer(new ForwardByThreads(), Width4, rows: 2);
        OnlyFails(r, Verify.Threads);
        Assert.Matches(@"^y\[0, 0\] differs: 1 thread \S+, 3 threads \S+ \(8 of 8 elements differ\)$", r[Verify.Threads]!.Detail);
        Assert.Equal("y, dx and 0 gradient(s) equal the driver's bits, on NaN-filled and on reused destinations (scratch 0 bytes, 0xCD-filled)", r[Verify.PureVsInPlace]!.Detail);
        Assert.Equal("output [4]; parameters none; scratch 0 bytes", r[Verify.Shapes]!.Detail);
    }

    // ---- state --------------------------------------------------------------------------------------------------------

    /// <summary>What a <see cref="Running"/> layer gets wrong.</summary>
    public enum StateFault { None, ByThreads, ReadsDestination, StateDefault, InitStateDefault, InitStateMissing, InitStateNull, InitStateWrongShape }

    /// <summary>The identity carrying a running mean: in training running_mean ← ¾·running_mean + ¼·(the batch's mean of x), per
    /// feature, from ½ — with one deliberate <see cref="StateFault"/>.</summary>
    private sealed record Running(StateFault Fault = StateFault.None) : LayerSpec
    {
        public override string Kind => "running";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> State(Shape input) => Fault == StateFault.StateDefault ? default : [new("running_mean", input)];
        public override ImmutableArray<NdArray<T>> InitState<T>(Shape input) => Fault switch
        {
            StateFault.InitStateDefault => default,
            StateFault.InitStateMissing => [],
            StateFault.InitStateNull => [null!],
            StateFault.InitStateWrongShape => [NdArray.Zeros<T>(input.Size + 1)],
            _ => [NdArray.Full(T.CreateChecked(0.5), [.. input.Dims])],
        };

        public override void Forward<T>(in ForwardArgs<T> a)
        {
            int w = a.Input.Size;
            if (a.Training)
            {
                var s = a.State(0);
                for (int j = 0; j < w; j++)
                {
                    T sum = T.Zero;
                    for (int r = 0; r < a.Rows; r++) sum += a.X[r * w + j];
                    s[j] = T.CreateChecked(0.75) * s[j] + T.CreateChecked(0.25) * sum / T.CreateChecked(a.Rows);
                    if (Fault == StateFault.ByThreads) s[j] += T.CreateChecked(a.Threads - 1);
                    if (Fault == StateFault.ReadsDestination) s[j] += a.Y[j];   // y is not written yet
                }
            }
            a.X.CopyTo(a.Y);
        }

        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_correct_layer_with_state_passes_and_its_state_is_listed(bool training)
    {
        var r = Verify.Layer(new Running(), Width4, rows: 3, training: training);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("output [4]; parameters none; state running_mean [4]; scratch 0 bytes", r[Verify.Shapes]!.Detail);
    }

    [Fact]
    public void A_state_that_depends_on_the_thread_count_fails_the_thread_check_naming_the_state()
    {
        var r = Verify.Layer(new Running(StateFault.ByThreads), Width4, rows: 3, training: true);
        OnlyFails(r, Verify.Threads);
        var m = Matched(r[Verify.Threads]!.Detail, @"^running_mean\[0\] differs: 1 thread (\S+), 3 threads (\S+) \(4 of 4 elements differ\)$");
        Assert.Equal(2, Number(m[2]) - Number(m[1]), 1e-12);
    }

    [Fact]
    public void A_state_update_that_reads_the_destination_fails_pure_vs_in_place_naming_the_state()
    {
        var r = Verify.Layer(new Running(StateFault.ReadsDestination), Width4, rows: 3, training: true);
        OnlyFails(r, Verify.PureVsInPlace);
        Assert.Matches(@"^running_mean\[0\] differs: driver \S+, in place NaN \(4 of 4 elements differ\) \(forward on NaN-filled destinations\)$", r[Verify.PureVsInPlace]!.Detail);
        Assert.True(Verify.Layer(new Running(StateFault.ReadsDestination), Width4, rows: 3).Passed);   // in evaluation the state is only read
    }

    [Theory]
    [InlineData(StateFault.StateDefault, "State returned a default array")]
    [InlineData(StateFault.InitStateDefault, "InitState returned a default array")]
    [InlineData(StateFault.InitStateMissing, "InitState returned 0 arrays for 1 declared state arrays (running_mean)")]
    [InlineData(StateFault.InitStateNull, "InitState returned null for running_mean")]
    [InlineData(StateFault.InitStateWrongShape, "InitState's running_mean is [5], declared [4]")]
    public void A_wrong_initial_state_fails_the_shape_check_and_the_other_checks_are_not_run(StateFault fault, string detail)
    {
        var r = Verify.Layer(new Running(fault), Width4, rows: 2, training: true);
        AssertNotRun(r, detail);
    }

    // ---- (5) shapes and init ------------------------------------------------------------------------------------------

    /// <summary>What a <see cref="BadShapes"/> layer gets wrong.</summary>
    public enum ShapeFault { OutputThrows, OutputNull, ParametersDefault, InitDefault, InitCount, InitNull, InitWrongShape, InitRandom, InitCountChanges, NegativeScratch }

    /// <summary>The identity with two ignored parameters, weight [width] and bias [1], and one deliberate <see cref="ShapeFault"/>.</summary>
    private sealed record BadShapes(ShapeFault Fault) : LayerSpec
    {
        private int inits;
        public override string Kind => "bad-shapes";
        public override Shape OutputShape(Shape input) => Fault switch
        {
            ShapeFault.OutputThrows => throw new ArgumentException("takes no input"),
            ShapeFault.OutputNull => null!,
            _ => input,
        };
        public override ImmutableArray<ParamShape> Parameters(Shape input) => Fault == ShapeFault.ParametersDefault ? default : [new("weight", input), new("bias", Shape.Of(1))];
        public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key)
        {
            var w = NdArray.Full(T.CreateChecked(++inits), [.. input.Dims]);
            var b = NdArray.Zeros<T>(1);
            return Fault switch
            {
                ShapeFault.InitDefault => default,
                ShapeFault.InitCount => [w],
                ShapeFault.InitNull => [w, null!],
                ShapeFault.InitWrongShape => [w, NdArray.Zeros<T>(2)],
                ShapeFault.InitRandom => [w, b],
                ShapeFault.InitCountChanges => inits == 1 ? [NdArray.Zeros<T>([.. input.Dims]), b] : [NdArray.Zeros<T>([.. input.Dims])],
                _ => [NdArray.Zeros<T>([.. input.Dims]), b],
            };
        }
        public override int ScratchBytes<T>(Shape input, int rows) => Fault == ShapeFault.NegativeScratch ? -1 : 0;
        public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a)
        {
            a.DY.CopyTo(a.DX);
            a.Gradient(0).Clear(); a.Gradient(1).Clear();
        }
    }

    private static void AssertNotRun(VerificationReport r, string shapes)
    {
        const string notRun = "not run: " + Verify.Shapes + " failed";
        Assert.Equal<CheckResult>([new(Verify.GradientCheck, false, notRun), new(Verify.PureVsInPlace, false, notRun), new(Verify.NoInputWritten, false, notRun),
            new(Verify.Threads, false, notRun), new CheckResult(Verify.Shapes, false, shapes), new(Verify.SharedBuffers, false, notRun)], r.Checks);
    }

    [Theory]
    [InlineData(ShapeFault.OutputThrows, "threw ArgumentException: takes no input")]
    [InlineData(ShapeFault.OutputNull, "threw InvalidOperationException: OutputShape returned null")]
    [InlineData(ShapeFault.ParametersDefault, "Parameters returned a default array")]
    [InlineData(ShapeFault.InitDefault, "Init returned a default array")]
    [InlineData(ShapeFault.InitCount, "Init returned 1 arrays for 2 declared parameters (weight, bias)")]
    [InlineData(ShapeFault.InitNull, "Init returned null for bias")]
    [InlineData(ShapeFault.InitWrongShape, "Init's bias is [2], declared [1]")]
    [InlineData(ShapeFault.InitRandom, "Init is not a function of its key: weight differs between two calls with the same key")]
    [InlineData(ShapeFault.InitCountChanges, "Init is not a function of its key: weight differs between two calls with the same key")]
    [InlineData(ShapeFault.NegativeScratch, "ScratchBytes is -1")]
    public void A_wrong_declaration_fails_the_shape_check_and_the_other_checks_are_not_run(ShapeFault fault, string detail) =>
        AssertNotRun(Verify.Layer(new BadShapes(fault), Width4), detail);

    [Fact]
    public void An_input_shape_the_layer_cannot_take_is_reported_by_the_shape_check()
    {
        var r = Verify.Layer(new DenseSpec(3, 2), Shape.Of(4));
        Assert.False(r[Verify.Shapes]!.Passed);
        Assert.StartsWith("threw ArgumentException: ", r[Verify.Shapes]!.Detail);
        Assert.All(r.Checks.Take(4), c => Assert.Equal("not run: " + Verify.Shapes + " failed", c.Detail));
    }

    // ---- Inputs given by the caller -----------------------------------------------------------------------------------

    /// <summary>y = √x, defined for x &gt; 0; dx = dy / (2y).</summary>
    private sealed record Sqrt : ActivationSpec
    {
        public override string Kind => "sqrt";
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) { for (int i = 0; i < x.Length; i++) y[i] = T.Sqrt(x[i]); }
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
        {
            for (int i = 0; i < x.Length; i++) dx[i] = dy[i] / (y[i] + y[i]);
        }
    }

    [Fact]
    public void A_layer_defined_only_for_positive_inputs_is_checked_on_inputs_given_and_the_draw_says_where_to_give_them()
    {
        var drawn = Verify.Layer(new Sqrt(), Width4);
        OnlyFails(drawn, Verify.GradientCheck);   // the draw has both signs: √ of a negative is NaN
        Assert.Matches(@"^worst dx\[\d, \d\]: analytic \S+, numeric NaN: not finite \(NaN or ∞ in the value, or its central difference: an input outside the op's domain " +
            @"gives that; Verify\.Layer\(layer, x\) and Verify\.Loss\(loss, output, targets\) take inputs of your own\); 16 of 16 elements fail$", drawn[Verify.GradientCheck]!.Detail);

        var x = Sampling.Uniform<double>(RandomKey.FromSeed(4), 0.1, 3, 3, 4);
        var r = Verify.Layer(new Sqrt(), x);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("layer sqrt (Sqrt { Kind = sqrt }) on 3 × [4] (x given), seed 1", r.Subject);
        Assert.StartsWith("12 elements agree; ", r[Verify.GradientCheck]!.Detail);
    }

    /// <summary>f(x) = (eˣ − 1)/x, with its Taylor series 1 + x/2 + x²/6 below |x| = 0.01 where the quotient cancels — whose
    /// derivative there drops the x/3 term: a branch the draw (|x| ≥ <see cref="Verify.InputMargin"/>) never reaches.</summary>
    private sealed record Expm1OverX : ActivationSpec
    {
        public override string Kind => "expm1-over-x";
        private static readonly double Small = 0.01;
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
        {
            for (int i = 0; i < x.Length; i++)
            {
                double v = double.CreateChecked(x[i]);
                y[i] = T.CreateChecked(Math.Abs(v) < Small ? 1 + v / 2 + v * v / 6 : (Math.Exp(v) - 1) / v);
            }
        }
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
        {
            for (int i = 0; i < x.Length; i++)
            {
                double v = double.CreateChecked(x[i]);
                double d = Math.Abs(v) < Small ? 0.5 : (v * Math.Exp(v) - Math.Exp(v) + 1) / (v * v);   // the bug: 1/2 + x/3 below 0.01
                dx[i] = dy[i] * T.CreateChecked(d);
            }
        }
    }

    [Fact]
    public void A_branch_below_the_input_margin_passes_the_draw_and_is_caught_on_inputs_given_there()
    {
        Assert.True(Verify.Layer(new Expm1OverX(), Width4).Passed);
        var near0 = NdArray.From<double>([-0.009, -0.004, 0.003, 0.008, 0.5, -1.2, 0.006, -0.0075], 2, 4);
        var r = Verify.Layer(new Expm1OverX(), near0);
        OnlyFails(r, Verify.GradientCheck);
        Assert.Matches(@"^worst dx\[0, 0\]: analytic \S+, numeric \S+, \|a − n\| = \S+ > tolerance \S+ \(atol 1E-06, rtol 0\.0001, h 1E-06\); 6 of 8 elements fail$",
            r[Verify.GradientCheck]!.Detail);
    }

    [Fact]
    public void Parameters_given_are_checked_at_their_values_and_ones_that_do_not_fit_the_declaration_fail_the_shape_check()
    {
        var x = Sampling.Uniform<double>(RandomKey.FromSeed(5), -1, 1, 2, 4);
        var w = NdArray.Vector(0.0, -2.5, 1e-3, 40.0);   // values Init (in [0.5, 1.5]) never draws
        var r = Verify.Layer(new Scale(), x, [w], seed: 3);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("layer scale (Scale { Kind = scale, Fault = None }) on 2 × [4] (x and parameters given), seed 3", r.Subject);
        var wrong = Verify.Layer(new Scale(Fault.WrongWeightGradient), x, [w]);
        OnlyFails(wrong, Verify.GradientCheck);
        Assert.StartsWith("worst weight[2]: ", wrong[Verify.GradientCheck]!.Detail);

        var misfit = Verify.Layer(new Scale(), x, [NdArray.Vector(1.0, 2.0)]);
        Assert.All(misfit.Checks, c => Assert.False(c.Passed));
        Assert.Equal("the weight given is [2], declared [4]", misfit[Verify.Shapes]!.Detail);
        Assert.Equal("2 parameter arrays given for 1 declared (weight)", Verify.Layer(new Scale(), x, [w, w])[Verify.Shapes]!.Detail);
    }

    [Fact]
    public void Verify_Layer_on_inputs_given_names_a_bad_argument()
    {
        Assert.Equal("layer", Assert.Throws<ArgumentNullException>(() => Verify.Layer(null!, NdArray.Zeros<double>(1, 4))).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Verify.Layer(new Sqrt(), (NdArray<double>)null!)).ParamName);
        var empty = Assert.Throws<ArgumentException>(() => Verify.Layer(new Sqrt(), NdArray.Zeros<double>(0, 4)));
        Assert.Equal("x", empty.ParamName);
        Assert.StartsWith("x must be [rows ≥ 1, …], got [0, 4]", empty.Message);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => Verify.Layer(new Scale(), NdArray.Zeros<double>(1, 4), [null!])).ParamName);
    }

    // ---- Without dx: a model's first layer with parameters --------------------------------------------------------------

    private const string WithoutDxMeans = " (without dx: Backward with InputGradient false and DX empty, as a model runs its first layer with parameters, whose input is data)";

    [Fact]
    public void A_backward_that_returns_early_without_dx_fails_the_gradient_and_pure_checks_naming_its_gradients_without_dx()
    {
        // In a model whose first layer this is, its weight would get no gradient (the driver's fresh zeros, the fold's stale buffer).
        var r = Check(Fault.ReturnsWithoutDx);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace);
        Assert.Matches(@"^worst weight\[\d\] without dx: analytic 0, numeric \S+, \|a − n\| = \S+ > tolerance \S+ \(atol 1E-06, rtol 0\.0001, h 1E-06\); 4 of 20 elements fail" +
            Regex.Escape(WithoutDxMeans) + "$", r[Verify.GradientCheck]!.Detail);
        Assert.Equal("weight[0] differs: driver 0, in place NaN (4 of 4 elements differ) without dx (on NaN-filled destinations)" + WithoutDxMeans, r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_backward_that_zeroes_its_gradients_without_dx_fails_the_gradient_check_only()
    {
        var r = Check(Fault.ZeroGradientsWithoutDx);
        OnlyFails(r, Verify.GradientCheck);
        Assert.StartsWith("worst weight[", r[Verify.GradientCheck]!.Detail);
        Assert.Contains("] without dx: analytic 0, numeric ", r[Verify.GradientCheck]!.Detail);
    }

    [Fact]
    public void A_backward_that_writes_dx_when_not_asked_fails_saying_the_call_without_dx_threw()
    {
        var r = Check(Fault.WritesDxUnasked);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace, Verify.Threads);
        string threw = "threw InvalidOperationException: the backward without dx" + WithoutDxMeans + " threw IndexOutOfRangeException: Index was outside the bounds of the array.";
        Assert.Equal(threw, r[Verify.GradientCheck]!.Detail);
        Assert.Equal(threw, r[Verify.PureVsInPlace]!.Detail);
        Assert.Equal(threw, r[Verify.Threads]!.Detail);
    }

    [Fact]
    public void Gradients_without_dx_that_depend_on_the_thread_count_fail_the_thread_check()
    {
        var r = Check(Fault.GradientByThreadsWithoutDx);
        OnlyFails(r, Verify.Threads);
        Assert.Matches(@"^weight\[0\] differs: 1 thread \S+, 3 threads \S+ \(4 of 4 elements differ\) without dx" + Regex.Escape(WithoutDxMeans) + "$", r[Verify.Threads]!.Detail);
    }

    [Fact]
    public void A_layer_without_parameters_is_not_run_without_dx()
    {
        var r = Verify.Layer(new TanhSpec(), Width4);
        Assert.StartsWith("16 elements agree; worst dx[", r[Verify.GradientCheck]!.Detail);
        Assert.Equal("y, dx and 0 gradient(s) equal the driver's bits, on NaN-filled and on reused destinations (scratch 0 bytes, 0xCD-filled)", r[Verify.PureVsInPlace]!.Detail);
    }

    // ---- A forward that is not a function of its arguments ------------------------------------------------------------

    /// <summary>The identity plus a hidden counter's parity (1e-3 on every other call): state outside the arguments.</summary>
    private sealed record Counting : ActivationSpec
    {
        private int calls;
        public override string Kind => "counting";
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
        {
            T bump = T.CreateChecked(1e-3 * (calls++ % 2));
            for (int i = 0; i < x.Length; i++) y[i] = x[i] + bump;
        }
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => dy.CopyTo(dx);
    }

    [Fact]
    public void A_forward_with_hidden_state_is_not_compared_with_central_differences_and_the_check_says_why()
    {
        var r = Verify.Layer(new Counting(), Width4, rows: 2);
        Assert.False(r.Passed);
        Assert.Matches(@"^not compared: two calls on the same arguments differ \(y\[0, 0\] differs: first call \S+, second call \S+ \(8 of 8 elements differ\)\), " +
            "so the function has no derivative to check; it depends on something besides its arguments, or writes one of them$", r[Verify.GradientCheck]!.Detail);
        Assert.False(r[Verify.PureVsInPlace]!.Passed);   // and the bit checks see it too
    }
}
