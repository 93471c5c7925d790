using NeuralPure.Facade.Runs;
using NeuralPure.Lessons;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class SweepLessonTests(LessonRuns runs)
{
    private SweepLessonResult Result => runs.Get("sweep").As<SweepLessonResult>();

    [Fact]
    public void The_rate_is_swept_over_decades_with_three_seeds_and_the_curve_goes_too_small_just_right_too_large()
    {
        var r = Result;
        Assert.Equal([1UL, 2UL, 3UL], r.Seeds.ToArray());
        Assert.Equal(SweepLesson.LearningRates, r.Rates.Select(x => x.LearningRate));
        Assert.True(r.Rates[^1].LearningRate / r.Rates[0].LearningRate >= 1000, "the sweep spans decades");
        Assert.All(r.Rates, x => Assert.Equal(3, x.Accuracies.Length));
        // the verdicts, in order of the rate: too small ..., just right ..., too large ...: one run of each, no going back
        var verdicts = r.Rates.Select(x => x.Verdict).ToList();
        Assert.Equal("too small", verdicts[0]);
        Assert.Equal("too large", verdicts[^1]);
        Assert.Contains("just right", verdicts);
        var order = new[] { "too small", "just right", "too large" };
        Assert.True(verdicts.Select(v => Array.IndexOf(order, v)).Zip(verdicts.Skip(1).Select(v => Array.IndexOf(order, v))).All(p => p.First <= p.Second), string.Join(", ", verdicts));
        // the measured rule: just right is within one of the best's standard deviations of the best mean
        var best = r.Best;
        Assert.All(r.Rates.Where(x => x.Verdict == "just right"), x => Assert.True(x.Mean >= best.Mean - best.Std));
        Assert.All(r.Rates.Where(x => x.Verdict != "just right"), x => Assert.True(x.Mean < best.Mean - best.Std || x.Diverged > 0));
        Assert.True(r.Rates[^1].Diverged > 0, "the largest rate diverges");
        // the spread is shown and real: every rate's seeds disagree
        Assert.All(r.Rates, x => Assert.True(x.Std > 0));
    }

    [Fact]
    public void Each_trial_is_a_pure_function_of_its_config_and_seed()
    {
        var r = Result;
        Assert.Equal(24, r.Trials.Length);
        foreach (int i in new[] { 0, 13 })
            Assert.Equal(Experiment.Run(r.Trials[i].Config).ParameterHash, r.ParameterHashes[i]);
        Assert.Equal(r.Trials[13].Seed, r.Seeds[13 % 3]);
        Assert.Equal(SweepLesson.LearningRates[13 / 3], r.Trials[13].Config.LearningRate);
    }

    [Fact]
    public void The_plot_shows_the_mean_and_the_spread_on_a_log_axis()
    {
        var plot = SvgPlot.Load(Assert.Single(Result.Plots));
        Assert.Equal(["max", "mean", "min"], plot.Series.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.All(plot.Series, s => Assert.Equal(8, s.Points.Count));
        Assert.Equal("log10", (string)plot.PlotAreaElement.Attribute("data-x-scale")!);
    }

    /// <summary>What the page says about the diverged rate is what its numbers show: the kept parameters score far below the
    /// best rate, yet above guessing (the page said "no better than guessing among ten classes (0.1)" of seeds at 0.12–0.26).</summary>
    [Fact]
    public void The_page_describes_the_diverged_rates_accuracy_as_measured()
    {
        var page = File.ReadAllText(LessonText.RepoFile("lessons", "sweep", "README.md")).Replace("\r\n", "\n").Replace("\n", " ");
        var diverged = Result.Rates[^1];
        Assert.Equal(3, diverged.Diverged);
        Assert.True(diverged.Accuracies.Max() < 0.5 * Result.Best.Mean, $"{diverged.Accuracies.Max()} vs the best mean {Result.Best.Mean}");
        Assert.Contains("far below the other rates", page);
        if (diverged.Accuracies.Min() > 0.1)
        {
            Assert.DoesNotContain("no better than guessing", page);
            Assert.Contains("above guessing among ten classes (0.1)", page);
        }
    }
}
