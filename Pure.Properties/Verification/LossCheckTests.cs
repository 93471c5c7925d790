using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;
using static NeuralPure.Properties.Support.ReportChecks;

namespace NeuralPure.Properties.Verification;

/// <summary><c>Verify.Loss</c> on user-style losses that each break one part of the loss contract.</summary>
public sealed class LossCheckTests
{
    /// <summary>What a <see cref="Mse"/> loss gets wrong.</summary>
    public enum Fault { None, WrongGradient, WrongValue, LeavesUnwritten, ValueFromDestination, ReadsScratch, AccumulatesUnlessNaN, WritesOutput, WritesTarget, Throws }

    /// <summary>Mean squared error, L = Σ (o − t)² / n and dL/do = 2(o − t)/n, written as a user would, with one deliberate <see cref="Fault"/>.</summary>
    private sealed record Mse(Fault Fault = Fault.None) : LossSpec
    {
        public override string Kind => "user-mse";
        public override int ScratchDoubles(Shape output) => Fault == Fault.ReadsScratch ? 2 : 0;

        public override T ValueAndGrad<T>(in LossArgs<T> a)
        {
            if (Fault == Fault.Throws) throw new ArgumentException("targets must be probabilities", "target");
            T n = T.CreateChecked(a.Output.Length), sum = T.Zero;
            if (Fault == Fault.ValueFromDestination) sum += a.Gradient[0];   // reads the destination before writing it
            if (Fault == Fault.ReadsScratch) sum += T.CreateChecked(a.Scratch[1]);
            int written = Fault == Fault.LeavesUnwritten ? a.Output.Length - 1 : a.Output.Length;
            for (int i = 0; i < a.Output.Length; i++)
            {
                var d = a.Output[i] - a.Target[i];
                sum += d * d;
                var g = (d + d) / n;
                if (Fault == Fault.WrongGradient && i == 4) g += g;
                if (Fault == Fault.AccumulatesUnlessNaN && !T.IsNaN(a.Gradient[i])) g += a.Gradient[i];
                if (i < written) a.Gradient[i] = g;
            }
            if (Fault == Fault.WritesOutput) Writable(a.Output)[0] = T.CreateChecked(7);
            if (Fault == Fault.WritesTarget) Writable(a.Target)[1] = T.CreateChecked(7);
            return Fault == Fault.WrongValue ? sum / n + a.Output[0] : sum / n;   // a term whose gradient (1 at [0, 0]) is missing
        }
    }

    private static readonly NdArray<double> Targets = NdArray.From<double>([0.5, -1, 2, 0, 1, -0.5], 2, 3);

    private static VerificationReport Check(Fault fault) => Verify.Loss(new Mse(fault), Shape.Of(3), Targets);

    [Fact]
    public void A_correct_user_loss_passes_and_each_check_says_what_it_saw()
    {
        var r = Check(Fault.None);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("loss user-mse (Mse { Kind = user-mse, UsesLabels = False, Fault = None }) on 2 × [3], seed 1", r.Subject);
        Assert.Equal([Verify.GradientCheck, Verify.PureVsInPlace, Verify.NoInputWritten], r.Checks.Select(c => c.Name));
        Assert.Matches(@"^6 elements agree; worst output\[[01], [012]\]: analytic \S+, numeric \S+ \([0-9.E-]+ of the tolerance\)$", r[Verify.GradientCheck]!.Detail);
        var output = Sampling.Uniform<double>(RandomKey.FromSeed(1), -2, 2, 2, 3);   // the outputs, as documented: uniform in [−2, 2] from the seed
        Assert.Equal($"value {R(new Mse().Value(output, Targets))} and gradient equal the pure bits, on NaN-filled and on reused destinations", r[Verify.PureVsInPlace]!.Detail);
        Assert.Equal("outputs and targets are unchanged", r[Verify.NoInputWritten]!.Detail);
    }

    [Law(10)]
    public Property A_correct_user_loss_passes_for_any_rows_width_and_seed() =>
        Prop.ForAll((from rows in Gen.Choose(1, 4)
                     from width in Gen.Choose(1, 4)
                     from t in Generators.Matrix(rows, width, 2.0)
                     from seed in Generators.Seed
                     select (width, t, seed)).ToArbitrary(),
            c =>
            {
                var r = Verify.Loss(new Mse(), Shape.Of(c.width), c.t, c.seed);
                return r.Passed.Label(r.ToString());
            });

    [Fact]
    public void A_wrong_gradient_fails_the_gradient_check_naming_the_element()
    {
        var r = Check(Fault.WrongGradient);
        OnlyFails(r, Verify.GradientCheck);
        var m = Matched(r[Verify.GradientCheck]!.Detail, @"^worst output\[1, 1\]: analytic (\S+), numeric (\S+), \|a − n\| = (\S+) > tolerance (\S+) \(atol 1E-06, rtol 0\.0001, h 1E-06\); 1 of 6 elements fail$");
        double a = Number(m[1]), n = Number(m[2]);
        Assert.Equal(2 * n, a, 1e-6);
        Assert.Equal(R(Math.Abs(a - n)), m[3]);
        Assert.Equal(R(Verify.Atol + Verify.Rtol * Math.Max(Math.Abs(a), Math.Abs(n))), m[4]);
    }

    [Fact]
    public void A_value_with_a_term_the_gradient_misses_fails_the_gradient_check()
    {
        var r = Check(Fault.WrongValue);
        OnlyFails(r, Verify.GradientCheck);
        var m = Matched(r[Verify.GradientCheck]!.Detail, @"^worst output\[0, 0\]: analytic (\S+), numeric (\S+), .*; 1 of 6 elements fail$");
        Assert.Equal(1, Number(m[2]) - Number(m[1]), 1e-6);
    }

    [Fact]
    public void A_gradient_element_left_unwritten_shows_as_NaN_in_the_pure_vs_in_place_check()
    {
        var r = Check(Fault.LeavesUnwritten);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace);
        Assert.Equal("gradient[1, 2] differs: pure 0, in place NaN (1 of 6 elements differ) (on a NaN-filled destination)", r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_value_that_reads_the_gradient_destination_differs_in_place()
    {
        var r = Check(Fault.ValueFromDestination);
        OnlyFails(r, Verify.PureVsInPlace);
        Assert.Matches(@"^the value differs on a NaN-filled destination: pure \S+, in place NaN$", r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_value_that_reads_scratch_it_never_wrote_sees_the_NaN_fill()
    {
        var r = Check(Fault.ReadsScratch);
        OnlyFails(r, Verify.PureVsInPlace);
        Assert.Matches(@"^the value differs on a NaN-filled destination: pure \S+, in place NaN$", r[Verify.PureVsInPlace]!.Detail);
    }

    [Fact]
    public void A_gradient_that_accumulates_unless_it_sees_NaN_fails_only_on_the_reused_destination()
    {
        var r = Check(Fault.AccumulatesUnlessNaN);
        OnlyFails(r, Verify.PureVsInPlace);
        var m = Matched(r[Verify.PureVsInPlace]!.Detail, @"^gradient\[0, 0\] differs: pure (\S+), in place (\S+) \(6 of 6 elements differ\) \(on the reused destination\)$");
        Assert.Equal(2 * Number(m[1]), Number(m[2]));
    }

    [Fact]
    public void A_loss_that_writes_its_output_fails_the_no_input_written_check_naming_it()
    {
        var r = Check(Fault.WritesOutput);
        Assert.False(r[Verify.NoInputWritten]!.Passed, r.ToString());
        Assert.Matches(@"^an input was written: output\[0, 0\] differs: before \S+, after 7$", r[Verify.NoInputWritten]!.Detail);
    }

    [Fact]
    public void A_loss_that_writes_its_targets_fails_the_no_input_written_check_naming_them()
    {
        var targets = NdArray.From<double>([0.5, -1, 2, 0, 1, -0.5], 2, 3);
        var r = Verify.Loss(new Mse(Fault.WritesTarget), Shape.Of(3), targets);
        Assert.Equal(new CheckResult(Verify.NoInputWritten, false, "an input was written: target[0, 1] differs: before -1, after 7"), r[Verify.NoInputWritten]);
    }

    [Fact]
    public void A_loss_that_throws_fails_the_checks_that_call_it_with_the_exception()
    {
        var r = Check(Fault.Throws);
        OnlyFails(r, Verify.GradientCheck, Verify.PureVsInPlace);
        Assert.Equal("threw ArgumentException: targets must be probabilities (Parameter 'target')", r[Verify.GradientCheck]!.Detail);
        Assert.Equal("threw ArgumentException: targets must be probabilities (Parameter 'target')", r[Verify.PureVsInPlace]!.Detail);
    }

    /// <summary>Poisson negative log-likelihood with the rate as the output (PyTorch's <c>PoissonNLLLoss(log_input=False)</c>
    /// without its ε): L = mean(o − t·log o), dL/do = (1 − t/o)/n; defined for o &gt; 0.</summary>
    private sealed record PoissonRate : LossSpec
    {
        public override string Kind => "poisson-rate";
        public override T ValueAndGrad<T>(in LossArgs<T> a)
        {
            RequireValueTargets(a);
            double sum = 0; int n = a.Output.Length;
            for (int i = 0; i < n; i++)
            {
                double o = double.CreateChecked(a.Output[i]), t = double.CreateChecked(a.Target[i]);
                sum += o - t * Math.Log(o);
                a.Gradient[i] = T.CreateChecked((1 - t / o) / n);
            }
            return T.CreateChecked(sum / n);
        }
    }

    [Fact]
    public void A_loss_defined_only_for_positive_outputs_is_checked_on_outputs_given()
    {
        var counts = NdArray.From<double>([1, 0, 3, 2, 5, 1], 3, 2);
        var drawn = Verify.Loss(new PoissonRate(), Shape.Of(2), counts);
        Assert.False(drawn[Verify.GradientCheck]!.Passed);
        Assert.Contains(": not finite (NaN or ∞ in the value, or its central difference: ", drawn[Verify.GradientCheck]!.Detail);

        var rates = NdArray.From<double>([0.5, 0.2, 2.5, 1.5, 4, 1.1], 3, 2);
        var r = Verify.Loss(new PoissonRate(), rates, counts);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("loss poisson-rate (PoissonRate { Kind = poisson-rate, UsesLabels = False }) on 3 × [2] (outputs given)", r.Subject);
    }

    [Fact]
    public void Verify_Loss_on_outputs_given_names_a_bad_argument()
    {
        var o = NdArray.Zeros<double>(2, 3);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => Verify.Loss(null!, o, o)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => Verify.Loss(new Mse(), (NdArray<double>)null!, o)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentNullException>(() => Verify.Loss(new Mse(), o, null!)).ParamName);
        Assert.StartsWith("output must be [rows ≥ 1, …], got [0, 3]", Assert.Throws<ArgumentException>(() => Verify.Loss(new Mse(), NdArray.Zeros<double>(0, 3), o)).Message);
        var rows = Assert.Throws<ArgumentException>(() => Verify.Loss(new Mse(), o, NdArray.Zeros<double>(3, 3)));
        Assert.Equal("targets", rows.ParamName);
        Assert.StartsWith("targets must be [2, …] (the outputs' rows), got [3, 3]", rows.Message);
    }

    /// <summary>MSE plus 1e-3 on every other call, from a counter the loss keeps: not a function of its arguments.</summary>
    private sealed record CountingMse : LossSpec
    {
        private int calls;
        public override string Kind => "counting-mse";
        public override T ValueAndGrad<T>(in LossArgs<T> a) => new Mse().ValueAndGrad(a) + T.CreateChecked(1e-3 * (calls++ % 2));
    }

    [Fact]
    public void A_loss_with_hidden_state_is_not_compared_with_central_differences_and_the_check_says_why()
    {
        var r = Verify.Loss(new CountingMse(), Shape.Of(3), Targets);
        Assert.Matches(@"^not compared: two calls on the same arguments differ \(the value: first call \S+, second call \S+\), so the function has no derivative to check; ",
            r[Verify.GradientCheck]!.Detail);
        Assert.False(r[Verify.PureVsInPlace]!.Passed);
    }
}
