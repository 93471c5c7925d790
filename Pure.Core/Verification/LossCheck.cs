using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Verification;

/// <summary>The checks of <c>Verify.Loss</c> (both overloads).</summary>
internal static class LossCheck
{
    /// <summary>The checks on outputs drawn from <paramref name="seed"/> in [−2, 2], or on <paramref name="givenOutput"/> when the caller gives them.</summary>
    public static VerificationReport Run(LossSpec loss, Shape outputShape, NdArray<double> targets, ulong seed, NdArray<double>? givenOutput = null)
    {
        int rows = targets.Shape[0];
        string subject = $"loss {loss.Kind} ({loss}) on {rows} × {outputShape}{(givenOutput is null ? $", seed {seed}" : " (outputs given)")}";
        var output = givenOutput ?? Sampling.Uniform<double>(RandomKey.FromSeed(seed), -2, 2, [.. outputShape.Batch(rows)]);
        var before = Inputs(output, targets);
        var gradient = Compare.Guard(Verify.GradientCheck, () =>
        {
            double v1 = loss.Value(output, targets), v2 = loss.Value(output, targets);
            if (BitConverter.DoubleToInt64Bits(v1) != BitConverter.DoubleToInt64Bits(v2))
                return LayerCheck.NotAFunction($"the value: first call {Compare.R(v1)}, second call {Compare.R(v2)}");
            var analytic = loss.ValueAndGrad(output, targets).Gradient;
            var numeric = NumericGrad.OfInput(o => loss.Value(o, targets), output, Verify.Step);
            var tally = new Compare.GradientTally();
            tally.Add("output", output.Shape, analytic.Span, numeric.Span);
            return tally.Result(Verify.GradientCheck);
        });
        var pure = Compare.Guard(Verify.PureVsInPlace, () => PureVsInPlace(loss, outputShape, output, targets));
        var diff = Compare.SnapshotDifference(before, Inputs(output, targets), "before", "after");
        var noWrite = diff is null ? new CheckResult(Verify.NoInputWritten, true, "outputs and targets are unchanged")
            : new CheckResult(Verify.NoInputWritten, false, $"an input was written: {diff}");
        return new VerificationReport(subject, [gradient, pure, noWrite]);
    }

    private static List<Compare.Entry> Inputs(NdArray<double> output, NdArray<double> targets) =>
        [.. Compare.Snapshot(output, "output"), .. Compare.Snapshot(targets, "target")];

    private static CheckResult PureVsInPlace(LossSpec loss, Shape outputShape, NdArray<double> output, NdArray<double> targets)
    {
        const string name = Verify.PureVsInPlace;
        var (value, grad) = loss.ValueAndGrad(output, targets);
        var g = new double[output.Length];
        var scratch = new double[loss.ScratchDoubles(outputShape)];
        g.AsSpan().Fill(double.NaN); scratch.AsSpan().Fill(double.NaN);
        for (int run = 1; run <= 2; run++)
        {
            string when = run == 1 ? "on a NaN-filled destination" : "on the reused destination";
            double v = loss.ValueAndGrad(new LossArgs<double>(output.Rows, outputShape, output.Span, Shape.OfExamples(targets.Shape), targets.Span, g, scratch));
            if (BitConverter.DoubleToInt64Bits(v) != BitConverter.DoubleToInt64Bits(value))
                return new(name, false, $"the value differs {when}: pure {Compare.R(value)}, in place {Compare.R(v)}");
            if (Compare.BitDifference("gradient", output.Shape, grad.Span, g, "pure", "in place") is { } d) return new(name, false, $"{d} ({when})");
        }
        return new(name, true, $"value {Compare.R(value)} and gradient equal the pure bits, on NaN-filled and on reused destinations");
    }
}
