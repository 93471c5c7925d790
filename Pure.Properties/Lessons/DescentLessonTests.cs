using NeuralPure.Facade.Training;
using NeuralPure.Lessons;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class DescentLessonTests(LessonRuns runs)
{
    private DescentLessonResult Result => runs.Get("descent").As<DescentLessonResult>();

    private double Distance(string label, int step) => Math.Abs(Result.Walk(label).Path[step] - Result.Minimum);

    [Fact]
    public void On_the_valley_too_large_bounces_away_too_small_crawls_and_good_converges()
    {
        var large = Result.Walk("too large").Path;
        Assert.True(Distance("too large", large.Length - 1) > Distance("too large", 0), "too large a rate ends further away than it started");
        for (int s = 1; s < large.Length; s++)
            Assert.True(Math.Sign(large[s] - Result.Minimum) != Math.Sign(large[s - 1] - Result.Minimum), $"step {s} overshoots to the other side");
        int last = Result.Walk("too small").Path.Length - 1;
        Assert.True(Distance("too small", last) > 0.5 * Distance("too small", 0), "too small a rate is still more than half-way up");
        Assert.True(Distance("good", last) < 1e-3);
    }

    [Fact]
    public void On_the_real_model_the_diagnosis_tells_the_three_rates_apart()
    {
        Assert.Contains(Result.Run("too large").Diagnosis.Kind, new[] { DiagnosisKind.Oscillating, DiagnosisKind.Diverged });
        Assert.Equal(DiagnosisKind.Plateau, Result.Run("too small").Diagnosis.Kind);
        Assert.Equal(DiagnosisKind.Steady, Result.Run("good").Diagnosis.Kind);
        Assert.True(Result.Run("good").ValidationLosses[^1] < 0.5 * Result.Run("too small").ValidationLosses[^1]);
        Assert.True(Result.Run("too large").LearningRate > Result.Run("good").LearningRate && Result.Run("good").LearningRate > Result.Run("too small").LearningRate);
    }

    [Fact]
    public void Both_plots_are_written_as_svg()
    {
        Assert.Equal(2, Result.Plots.Length);
        var valley = SvgPlot.Load(Result.Plots[0]);
        Assert.Equal(Result.Walks.Select(x => x.Path.Length), valley.Series.Select(s => s.Points.Count));
        var loss = SvgPlot.Load(Result.Plots[1]);
        Assert.Equal(Result.Runs.Select(r => r.ValidationLosses.Length), loss.Series.Select(s => s.Points.Count));
        Assert.Equal("log10", (string)loss.PlotAreaElement.Attribute("data-y-scale")!);
    }
}
