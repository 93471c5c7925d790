using System.Collections.Immutable;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;

namespace NeuralPure.Lessons;

/// <summary>One learning rate of the sweep, over its seeds.</summary>
/// <param name="LearningRate">η.</param>
/// <param name="Accuracies">The test accuracy of each seed, in seed order.</param>
/// <param name="ValidationLosses">The last epoch's validation loss of each seed.</param>
/// <param name="Diverged">How many seeds diverged.</param>
/// <param name="Verdict">too small, just right or too large.</param>
public sealed record SweptRate(double LearningRate, ImmutableArray<double> Accuracies, ImmutableArray<double> ValidationLosses, int Diverged, string Verdict)
{
    /// <summary>The mean test accuracy over the seeds.</summary>
    public double Mean => Accuracies.Average();

    /// <summary>The sample standard deviation (n − 1) of the test accuracy over the seeds.</summary>
    public double Std => Math.Sqrt(Accuracies.Sum(a => (a - Mean) * (a - Mean)) / (Accuracies.Length - 1));
}

/// <summary>What the sweep lesson computed.</summary>
/// <param name="Seeds">The seeds every rate ran with.</param>
/// <param name="Rates">Each rate's figures, smallest rate first.</param>
/// <param name="Trials">The sweep's trials (the façade's list: each a pure function of its config).</param>
/// <param name="ParameterHashes">Each trial's final parameter hash, in trial order.</param>
/// <param name="Plots">The SVG files written.</param>
public sealed record SweepLessonResult(ImmutableArray<ulong> Seeds, ImmutableArray<SweptRate> Rates, ImmutableArray<SweepTrial> Trials,
    ImmutableArray<string> ParameterHashes, ImmutableArray<string> Plots)
{
    /// <summary>The rate with the highest mean test accuracy.</summary>
    public SweptRate Best => Rates.MaxBy(r => r.Mean)!;
}

/// <summary>Lesson 8: one run is an anecdote. The learning rate swept over decades on digits, three seeds each: the spread between
/// seeds says how much of a difference between two rates is the rate, and the curve shows "too small, just right, too large"
/// as a measurement.</summary>
public static class SweepLesson
{
    /// <summary>Two points a decade, from 0.001 to 3.</summary>
    public static ImmutableArray<double> LearningRates { get; } = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3];

    /// <summary>Sweeps the rate with <see cref="Sweep.Trials"/> and <see cref="Sweep.Run"/>, prints the table and the verdicts, and plots the curve.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Where <c>sweep-lr.svg</c> goes.</param>
    public static SweepLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: sweep. One run is an anecdote; the same configuration over several seeds is a measurement, with a spread.");

        // The trials: the base config (digits, one hidden layer of 32, plain SGD, 10 epochs), one axis (the learning rate) and
        // three seeds. The seed draws the initial weights, the split's shuffle and the batches' order; everything else is fixed.
        ImmutableArray<ulong> seeds = [1, 2, 3];
        var baseConfig = new ExperimentConfig(Data: "digits", Layers: [32], Optimizer: "sgd", Epochs: 10);
        var trials = Sweep.Trials(baseConfig, [SweepAxis.Of("lr", (c, v) => c with { LearningRate = v }, [.. LearningRates])], seeds);
        w.Heading($"The sweep: digits, 64 -> 32 (relu) -> 10, plain SGD, batch 32, 10 epochs");
        w.Line($"{LearningRates.Length} learning rates from {Fmt.Rate(LearningRates[0])} to {Fmt.Rate(LearningRates[^1])} (two a decade) x {seeds.Length} seeds = {trials.Length} trials, e.g.");
        foreach (var t in trials.Take(2)) w.Line($"  trial {t.Index}: {t.Name}");
        w.Line($"The same from the command line: neuralpure sweep run sweep.json --out sweeps/lr, with the sweep file");
        w.Line($"  {{\"base\": {{\"data\": \"digits\", \"layers\": [32], \"optimizer\": \"sgd\", \"epochs\": 10}},");
        w.Line($"   \"axes\": {{\"lr\": [{string.Join(", ", LearningRates.Select(Fmt.Rate))}]}}, \"seeds\": [{string.Join(", ", seeds)}]}}");

        var (results, elapsed) = LessonWriter.Timed(() => Sweep.Run(trials, jobs: 2));
        w.Time($"{trials.Length} trials", elapsed);

        var rates = ImmutableArray.CreateBuilder<SweptRate>();
        for (int r = 0; r < LearningRates.Length; r++)
        {
            var mine = Enumerable.Range(r * seeds.Length, seeds.Length).Select(i => results[i]).ToList();
            rates.Add(new SweptRate(LearningRates[r], [.. mine.Select(x => x.TestClassification!.Accuracy)],
                [.. mine.Select(x => x.Fit.History.Length > 0 ? x.Fit.History[^1].ValLoss ?? double.NaN : double.NaN)],
                mine.Count(x => x.Fit.Status == FitStatus.Diverged), ""));
        }
        // The verdicts, measured: just right is within one standard deviation (the best rate's, over its seeds) of the best mean;
        // below that, a rate smaller than the best is too small and a larger one too large.
        var best = rates.MaxBy(r => r.Mean)!;
        var judged = rates.Select(r => r with
        {
            Verdict = r.Diverged > 0 ? "too large" : r.Mean >= best.Mean - best.Std ? "just right" : r.LearningRate < best.LearningRate ? "too small" : "too large",
        }).ToImmutableArray();

        w.Heading($"Test accuracy over the {seeds.Length} seeds: mean, standard deviation, min - max");
        w.Line($"  rate    mean    std     min - max        final val loss (per seed)    verdict");
        foreach (var r in judged)
        {
            string losses = string.Join(" ", r.ValidationLosses.Select(v => double.IsFinite(v) && Math.Abs(v) < 1e4 ? Fmt.I($"{v,7:F4}") : Fmt.I($"{v,7:G2}")));
            string note = r.Diverged > 0 ? Fmt.I($" (diverged: {r.Diverged} of {seeds.Length} seeds)") : "";
            w.Line($"  {Fmt.Rate(r.LearningRate),-6}  {r.Mean:F4}  {r.Std:F4}  {r.Accuracies.Min():F4} - {r.Accuracies.Max():F4}  {losses,-27}  {r.Verdict}{note}");
        }
        w.Line();
        w.Line($"The curve, one mark per 0.02 of mean test accuracy (| the min and max over seeds):");
        foreach (var r in judged)
        {
            int mean = (int)Math.Round(r.Mean / 0.02), lo = (int)Math.Round(r.Accuracies.Min() / 0.02), hi = (int)Math.Round(r.Accuracies.Max() / 0.02);
            var bar = new char[51];
            for (int i = 0; i < bar.Length; i++) bar[i] = i < mean ? '#' : ' ';
            bar[Math.Min(lo, 50)] = '|'; bar[Math.Min(hi, 50)] = '|';
            w.Line($"  {Fmt.Rate(r.LearningRate),-6} {new string(bar).TrimEnd()}");
        }
        w.Line();
        var right = judged.Where(r => r.Verdict == "just right").ToList();
        w.Line($"Best mean: rate {Fmt.Rate(best.LearningRate)}, {best.Mean:F4} +- {best.Std:F4}. Just right (within one of its standard deviations): {string.Join(", ", right.Select(r => Fmt.Rate(r.LearningRate)))}.");
        foreach (var r in judged.Where(r => r.Verdict != "just right"))
        {
            double gap = best.Mean - r.Mean;
            w.Line($"  rate {Fmt.Rate(r.LearningRate),-5}: {gap:F4} below the best mean ({gap / best.Std:F1} of its standard deviations): {r.Verdict}{(r.Diverged > 0 ? ", its loss ran away" : "")}");
        }
        // Why seeds: the runner-up against the best, seed by seed (the same seed: the same initial weights, split and batch order).
        var runner = judged.Where(r => r.LearningRate != best.LearningRate && r.Diverged == 0).MaxBy(r => r.Mean)!;
        double lead = best.Mean - runner.Mean;
        int wins = Enumerable.Range(0, seeds.Length).Count(i => runner.Accuracies[i] > best.Accuracies[i]);
        int ties = Enumerable.Range(0, seeds.Length).Count(i => runner.Accuracies[i] == best.Accuracies[i]);
        w.Line();
        w.Line($"The runner-up, rate {Fmt.Rate(runner.LearningRate)}, is {lead:F4} below the best: {(lead < best.Std ? "less" : "more")} than the spread between the best's seeds ({best.Std:F4}).");
        w.Line($"With the same seed (the same initial weights, split and batch order) it wins {wins}, ties {ties} and loses {seeds.Length - wins - ties} of {seeds.Length}.");
        if (runner.Accuracies.Max() > best.Accuracies.Min())
            w.Line($"But its best seed ({runner.Accuracies.Max():F4}) beats the best rate's worst ({best.Accuracies.Min():F4}): one run of each, with other seeds, could have ranked them the other way round.");
        else
            w.Line($"Even its best seed ({runner.Accuracies.Max():F4}) stays below the best rate's worst ({best.Accuracies.Min():F4}): here the ranking holds whatever the seed.");

        var plot = Fmt.OutputPath(outputFolder, "sweep-lr.svg");
        var xs = judged.Select(r => r.LearningRate).ToList();
        LinePlot.Write(plot, $"digits, SGD, 10 epochs: test accuracy against the learning rate ({seeds.Length} seeds)", "learning rate", "test accuracy",
        [
            new LineSeries("mean", xs, [.. judged.Select(r => r.Mean)]),
            new LineSeries("min", xs, [.. judged.Select(r => r.Accuracies.Min())]) { Width = 1, Opacity = 0.5 },
            new LineSeries("max", xs, [.. judged.Select(r => r.Accuracies.Max())]) { Width = 1, Opacity = 0.5 },
        ], new LinePlotOptions { LogX = true, YMin = 0, YMax = 1 });
        w.Line();
        w.Line($"Plot: sweep-lr.svg (mean, min and max test accuracy against the rate, log scale).");
        return new SweepLessonResult(seeds, judged, trials, [.. results.Select(x => x.ParameterHash)], [plot]);
    }
}
