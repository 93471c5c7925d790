using System.Collections.Immutable;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using NeuralPure.Losses;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace NeuralPure.Lessons;

/// <summary>One learning rate's walk down the valley.</summary>
/// <param name="Label">too large, too small or good.</param>
/// <param name="LearningRate">η.</param>
/// <param name="Path">w after each step, starting with the starting point.</param>
public sealed record ValleyWalk(string Label, double LearningRate, ImmutableArray<double> Path);

/// <summary>One learning rate's training run on a real model.</summary>
/// <param name="Label">too large, too small or good.</param>
/// <param name="LearningRate">η.</param>
/// <param name="ValidationLosses">The validation loss after each completed epoch.</param>
/// <param name="Diagnosis">What <see cref="HistoryDiagnosis"/> says about the run.</param>
public sealed record DescentRun(string Label, double LearningRate, ImmutableArray<double> ValidationLosses, Diagnosis Diagnosis);

/// <summary>What the descent lesson computed.</summary>
/// <param name="Minimum">Where the valley's bottom is.</param>
/// <param name="Walks">The three walks down the valley.</param>
/// <param name="Runs">The three training runs.</param>
/// <param name="Plots">The SVG files written.</param>
public sealed record DescentLessonResult(double Minimum, ImmutableArray<ValleyWalk> Walks, ImmutableArray<DescentRun> Runs, ImmutableArray<string> Plots)
{
    /// <summary>The walk or run with this label.</summary>
    public ValleyWalk Walk(string label) => Walks.First(x => x.Label == label);

    /// <summary>The training run with this label.</summary>
    public DescentRun Run(string label) => Runs.First(x => x.Label == label);
}

/// <summary>Lesson 3: gradient descent steps downhill, w ← w − η·gradient, and the step size η decides whether it gets there.</summary>
public static class DescentLesson
{
    private const double Target = 3, Start = 0;
    private const int Steps = 12;

    /// <summary>Walks down a one-dimensional valley with three learning rates, then trains a real model with three, and plots both.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Where <c>descent-valley.svg</c> and <c>descent-loss.svg</c> go.</param>
    public static DescentLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: descent. new weight = old weight - learning rate * gradient, repeated.");

        // Part 1. The valley L(w) = (w − 3)²: the mean squared error of one prediction w against the target 3, so the loss
        // and its gradient 2(w − 3) come from NeuralPure's Mse, and each step from its SGD optimizer.
        w.Heading($"A one-dimensional valley: L(w) = (w - {Target:F0})^2, starting at w = {Start:F0}");
        w.Line($"The gradient is 2(w - {Target:F0}). Each step multiplies the distance to the bottom by (1 - 2 * learning rate),");
        w.Line($"so a rate above 1 overshoots by more than it corrects, and a tiny rate barely moves.");
        var walks = ImmutableArray.Create(
            Walk("too large", 1.05), Walk("too small", 0.01), Walk("good", 0.3));
        w.Line();
        w.Line($"  step   {string.Join("  ", walks.Select(x => $"{x.Label + " " + Fmt.Rate(x.LearningRate),-16}"))}");
        for (int s = 0; s <= Steps; s++)
            w.Line($"  {s,4}   {string.Join("  ", walks.Select(x => Fmt.I($"w = {x.Path[s],-12:F4}")))}");
        w.Line();
        foreach (var x in walks)
        {
            double d0 = Math.Abs(x.Path[0] - Target), d = Math.Abs(x.Path[^1] - Target);
            string verdict = d > d0 ? "overshoots and bounces further out every step: it diverges"
                : d > 0.5 * d0 ? Fmt.I($"crawls: after {Steps} steps it is still far from the bottom")
                : "converges: each step removes most of the remaining distance";
            w.Line($"  {x.Label,-9} (rate {Fmt.Rate(x.LearningRate)}): distance to the bottom {d0:F2} -> {d:F4}, {verdict}");
        }

        // Part 2. The same three regimes on a real network: digits (8x8 images, 10 classes), one hidden layer of 32, plain SGD,
        // batch 32, 15 epochs, seed 42; the same as `neuralpure train --data digits --layers 32 --optimizer sgd --lr 0.05 --epochs 15`.
        // Experiment.Run standardizes the inputs, splits train/validation/test and records the validation loss after each epoch;
        // HistoryDiagnosis reads that curve.
        w.Heading($"A real model: digits, 64 -> 32 (relu) -> 10, plain SGD, batch 32, 15 epochs, seed 42");
        var runs = ImmutableArray.Create(Train("too large", 1.6), Train("too small", 0.0001), Train("good", 0.05));
        w.Line($"What NeuralPure's history diagnosis (HistoryDiagnosis.Diagnose) says about each run's validation loss:");
        foreach (var r in runs) w.Line($"  {$"{r.Label} (rate {Fmt.Rate(r.LearningRate)}):",-24} {r.Diagnosis.Summary}");
        w.Line();
        w.Line($"Validation loss after each epoch, for the two rates that behave:");
        var calm = runs.Where(r => r.Diagnosis.Kind != DiagnosisKind.Diverged).ToList();
        w.Line($"  epoch  {string.Join("  ", calm.Select(r => $"{r.Label + " " + Fmt.Rate(r.LearningRate),-16}"))}");
        for (int e = 0; e < calm.Max(r => r.ValidationLosses.Length); e++)
            w.Line($"  {e + 1,5}  {string.Join("  ", calm.Select(r => Fmt.I($"{(e < r.ValidationLosses.Length ? Fmt.I($"{r.ValidationLosses[e]:F4}") : "-"),-16}")))}");
        // Past the edge of stability every rounding difference grows, so these numbers are not worth memorising: only the verdict is.
        foreach (var r in runs.Except(calm))
            w.Line($"And {r.Label} (rate {Fmt.Rate(r.LearningRate)}), which bounces up and down while it grows: {string.Join(", ", r.ValidationLosses.Select(v => Fmt.I($"{v:G3}")))}");
        w.Line();
        w.Line($"The evidence behind each verdict:");
        foreach (var r in runs) w.Line($"  {r.Label,-9}  {r.Diagnosis.Evidence}");

        var valley = Fmt.OutputPath(outputFolder, "descent-valley.svg");
        LinePlot.Write(valley, "Walking down L(w) = (w - 3)^2", "step", "w",
            [.. walks.Select(x => new LineSeries($"{x.Label} (rate {Fmt.Rate(x.LearningRate)})", [.. Enumerable.Range(0, x.Path.Length).Select(i => (double)i)], x.Path))]);
        var loss = Fmt.OutputPath(outputFolder, "descent-loss.svg");
        LinePlot.Write(loss, "digits: validation loss per epoch", "epoch", "validation loss",
            [.. runs.Select(r => new LineSeries($"{r.Label} (rate {Fmt.Rate(r.LearningRate)})", LinePlot.OneTo(r.ValidationLosses.Length), r.ValidationLosses))], new LinePlotOptions { LogY = true });
        w.Line();
        w.Line($"Plots: descent-valley.svg (w after each step) and descent-loss.svg (validation loss per epoch, log scale).");
        return new DescentLessonResult(Target, walks, runs, [valley, loss]);
    }

    /// <summary>Gradient descent on (w − 3)² with NeuralPure's SGD: the gradient from <see cref="Mse"/>, the step from <see cref="Optimizer.Sgd"/>.</summary>
    private static ValleyWalk Walk(string label, double rate)
    {
        var sgd = Optimizer.Sgd(rate);
        var w = new ParamTree<double>(["w"], [NdArray.Vector(Start)]);
        var state = sgd.Init(w);
        var path = ImmutableArray.CreateBuilder<double>();
        path.Add(w[0][0]);
        for (int s = 0; s < Steps; s++)
        {
            var (_, gradient) = Mse.ValueAndGrad(w[0], NdArray.Vector(Target));   // dL/dw = 2(w − 3)
            var grads = new ParamTree<double>(w.Names, [gradient.Reshape(1)]);
            (var updates, state) = sgd.Update(grads, state, w);                   // updates = −η·gradient
            w = Optimizer.ApplyUpdates(w, updates);                               // w ← w + updates
            path.Add(w[0][0]);
        }
        return new ValleyWalk(label, rate, path.ToImmutable());
    }

    /// <summary>Trains the digits model with SGD at <paramref name="rate"/>; a run whose loss becomes NaN stops there (Fitter's divergence check).</summary>
    private static DescentRun Train(string label, double rate)
    {
        var config = new ExperimentConfig(Data: "digits", Layers: [32], Optimizer: "sgd", LearningRate: rate, Epochs: 15, Seed: 42);
        var result = Experiment.Run(config);
        var curve = result.Fit.History.Select(h => h.ValLoss ?? double.NaN).ToList();
        if (result.Fit.Status == FitStatus.Diverged) curve.Add(double.NaN);
        return new DescentRun(label, rate, [.. curve], result.Diagnosis ?? HistoryDiagnosis.Diagnose(curve));
    }
}
