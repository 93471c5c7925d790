using NeuralPure.Facade.Training;
using NeuralPure.Lessons;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class DiagnoseLessonTests(LessonRuns runs)
{
    private DiagnoseLessonResult Result => runs.Get("diagnose").As<DiagnoseLessonResult>();

    [Fact]
    public void Network_A_is_steady()
    {
        Assert.Equal(DiagnosisKind.Steady, Result.A.Diagnosis.Kind);
        Assert.Equal("steady", Result.A.Diagnosis.Summary);
        Assert.Equal([3.2, 2.1, 1.4, 0.9, 0.5, 0.3], Result.A.Losses.ToArray());
    }

    [Fact]
    public void Network_B_oscillates_at_epochs_3_and_5_because_its_learning_rate_is_too_high()
    {
        Assert.Equal(DiagnosisKind.Oscillating, Result.B.Diagnosis.Kind);
        Assert.Equal("oscillating: learning rate likely too high", Result.B.Diagnosis.Summary);
        Assert.Equal([3, 5], Result.B.Diagnosis.Epochs.ToArray());
        var text = runs.Get("diagnose").Checked;
        Assert.Contains("    diagnosis: oscillating: learning rate likely too high", text);
        Assert.Contains("the loss rose at epochs 3, 5", text);
    }

    [Fact]
    public void The_real_run_with_too_high_a_rate_is_caught_and_the_fix_is_steady()
    {
        Assert.Contains(Result.TooHigh.Diagnosis.Kind, new[] { DiagnosisKind.Oscillating, DiagnosisKind.Diverged });
        Assert.NotEmpty(Result.TooHigh.Diagnosis.Epochs);
        Assert.Equal(DiagnosisKind.Steady, Result.Fixed.Diagnosis.Kind);
        Assert.Equal(20, Result.Fixed.Losses.Length);
    }

    [Fact]
    public void The_plot_has_the_four_curves()
    {
        var p = SvgPlot.Load(Assert.Single(Result.Plots));
        Assert.Equal(new[] { Result.A, Result.B, Result.TooHigh, Result.Fixed }.Select(c => (c.Name, c.Losses.Length)), p.Series.Select(s => (s.Name, s.Points.Count)));
    }

    /// <summary>The real runs hold out a validation split, so Experiment.Run diagnoses them with both curves, which names
    /// overfitting before the four rules: the rules the lesson prints include it (they listed four, and the page said nothing of
    /// overfitting though `train` prints it). An oscillating verdict's evidence spells out five rises and points at
    /// <see cref="Diagnosis.Epochs"/> for the rest: the lesson prints them all.</summary>
    [Fact]
    public void The_rules_include_overfitting_and_every_rise_of_the_real_run_is_printed()
    {
        var text = runs.Get("diagnose").Checked;
        Assert.Contains("  overfitting  the validation loss was lowest two or more epochs before the last and ended 5% or more above", text);
        int rules = text.IndexOf("The rules (HistoryDiagnosis.Diagnose", StringComparison.Ordinal), real = text.IndexOf("A real run:", StringComparison.Ordinal);
        Assert.InRange(text.IndexOf("  overfitting  ", StringComparison.Ordinal), rules, real);
        // the rule as printed is the one the façade applies: a curve made to fit it is diagnosed so
        double[] val = [1.0, 0.6, 0.5, 0.52, 0.55, 0.56], train = [1.0, 0.5, 0.3, 0.2, 0.1, 0.05];
        Assert.Equal(DiagnosisKind.Overfitting, HistoryDiagnosis.Diagnose(train, val).Kind);
        Assert.NotEqual(DiagnosisKind.Overfitting, HistoryDiagnosis.Diagnose(train, [1.0, 0.6, 0.5, 0.51, 0.52, 0.52]).Kind);  // 4% above: no
        if (Result.TooHigh.Diagnosis.Kind == DiagnosisKind.Oscillating)
            Assert.Contains($"  every epoch it rose at (Diagnosis.Epochs): {string.Join(", ", Result.TooHigh.Diagnosis.Epochs)}", text);
        Assert.Contains("(Adam at 50 times its default rate)", text);
    }
}
