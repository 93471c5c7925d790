using System.Collections.Immutable;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;

namespace NeuralPure.Lessons;

/// <summary>One diagnosed loss curve.</summary>
/// <param name="Name">Which network or run.</param>
/// <param name="Losses">Its loss per epoch.</param>
/// <param name="Diagnosis">What <see cref="HistoryDiagnosis.Diagnose(IReadOnlyList{double})"/> says.</param>
public sealed record DiagnosedCurve(string Name, ImmutableArray<double> Losses, Diagnosis Diagnosis);

/// <summary>What the diagnose lesson computed.</summary>
/// <param name="A">Network A of the quick check.</param>
/// <param name="B">Network B of the quick check.</param>
/// <param name="TooHigh">A real run with a learning rate that is too high.</param>
/// <param name="Fixed">The same run with the learning rate lowered.</param>
/// <param name="Plots">The SVG files written.</param>
public sealed record DiagnoseLessonResult(DiagnosedCurve A, DiagnosedCurve B, DiagnosedCurve TooHigh, DiagnosedCurve Fixed, ImmutableArray<string> Plots);

/// <summary>Lesson 6: reading a loss curve. NeuralPure's <see cref="HistoryDiagnosis"/> says steady, oscillating, diverged or plateau, with the epochs that show it.</summary>
public static class DiagnoseLesson
{
    private const double TooHighRate = 0.05, FixedRate = 0.001;

    /// <summary>Diagnoses networks A and B of the quick check, then a real run whose learning rate is too high, and the same run with a lower one.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Where <c>diagnose-curves.svg</c> goes.</param>
    public static DiagnoseLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: diagnose. The loss per epoch tells you whether training is working, and often why not.");

        w.Heading($"The quick check: two networks' loss per epoch");
        var a = Diagnose("network A", [3.2, 2.1, 1.4, 0.9, 0.5, 0.3]);
        var b = Diagnose("network B", [3.2, 0.1, 3.8, 0.2, 4.1, 0.15]);
        foreach (var c in new[] { a, b })
        {
            w.Line($"  {c.Name}: {string.Join(", ", c.Losses.Select(v => Fmt.I($"{v:0.0##}")))}");
            w.Line($"    diagnosis: {c.Diagnosis.Summary}");
            w.Line($"    evidence:  {c.Diagnosis.Evidence}");
        }
        w.Line();
        w.Line($"The rules (HistoryDiagnosis.Diagnose, in this order):");
        w.Line($"  diverged     a loss is NaN or infinite, or the last loss is over 10 times the first");
        w.Line($"  oscillating  the loss rose by over 10% at two or more epochs, at least a third of them");
        w.Line($"  plateau      the loss improved by less than 1% from the first epoch to the last");
        w.Line($"  steady       otherwise");
        w.Line($"With a validation curve beside the training one (neuralpure train's runs), one rule comes first:");
        w.Line($"  overfitting  the validation loss was lowest two or more epochs before the last and ended 5% or more above");
        w.Line($"               that lowest value, while the training loss kept falling");

        // A real run, exactly what `neuralpure train --data digits --lr 0.05 --epochs 20` does (defaults: one hidden layer of 64,
        // relu, Adam, batch 32, seed 42): Experiment.Run trains, records the validation loss after every epoch and diagnoses that curve.
        w.Heading($"A real run: neuralpure train --data digits --lr {Fmt.Rate(TooHighRate)} --epochs 20 (Adam at {TooHighRate / FixedRate:F0} times its default rate)");
        var tooHigh = Train($"Adam lr {Fmt.Rate(TooHighRate)}", TooHighRate);
        w.Line($"  diagnosis: {tooHigh.Diagnosis.Summary}");
        w.Line($"  evidence:  {tooHigh.Diagnosis.Evidence}");
        if (tooHigh.Diagnosis.Kind == DiagnosisKind.Oscillating)
            w.Line($"  every epoch it rose at (Diagnosis.Epochs): {string.Join(", ", tooHigh.Diagnosis.Epochs)}");
        w.Line($"  validation loss: {Fmt.List(tooHigh.Losses, 3)}");

        w.Heading($"The fix: the same run with --lr {Fmt.Rate(FixedRate)} (Adam's default)");
        var fixedRun = Train($"Adam lr {Fmt.Rate(FixedRate)}", FixedRate);
        w.Line($"  diagnosis: {fixedRun.Diagnosis.Summary}");
        w.Line($"  evidence:  {fixedRun.Diagnosis.Evidence}");
        w.Line($"  validation loss: {Fmt.List(fixedRun.Losses, 3)}");
        w.Line();
        w.Line($"neuralpure train prints the same diagnosis line at the end of every run.");

        var plot = Fmt.OutputPath(outputFolder, "diagnose-curves.svg");
        LinePlot.Write(plot, "Loss per epoch", "epoch", "loss",
            [.. new[] { a, b, tooHigh, fixedRun }.Select(c => new LineSeries(c.Name, LinePlot.OneTo(c.Losses.Length), c.Losses))]);
        w.Line();
        w.Line($"Plot: diagnose-curves.svg (all four curves).");
        return new DiagnoseLessonResult(a, b, tooHigh, fixedRun, [plot]);
    }

    private static DiagnosedCurve Diagnose(string name, ImmutableArray<double> losses) => new(name, losses, HistoryDiagnosis.Diagnose(losses));

    private static DiagnosedCurve Train(string name, double rate)
    {
        var result = Experiment.Run(new ExperimentConfig(Data: "digits", LearningRate: rate, Epochs: 20));
        var curve = result.Fit.History.Select(h => h.ValLoss ?? double.NaN).ToImmutableArray();
        return new DiagnosedCurve(name, curve, result.Diagnosis ?? HistoryDiagnosis.Diagnose(curve));
    }
}
