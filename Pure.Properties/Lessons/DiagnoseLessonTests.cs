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
}
