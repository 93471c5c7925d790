using NeuralPure.Lessons;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class LoopLessonTests(LessonRuns runs)
{
    private LoopLessonResult Result => runs.Get("loop").As<LoopLessonResult>();

    [Fact]
    public void Ten_thousand_images_at_batch_32_are_313_iterations_per_epoch_from_the_real_loader()
    {
        Assert.Equal(10_000, Result.Images);
        Assert.Equal(32, Result.BatchSize);
        Assert.Equal(313, Result.IterationsPerEpoch);
        Assert.Equal(313, Result.BatchesYielded);
        Assert.Equal(16, Result.LastBatchRows);
        Assert.Contains("iterations per epoch       313 = ceil(10000 / 32) = ceil(312.5)", runs.Get("loop").Checked);
    }

    [Fact]
    public void The_five_steps_by_hand_are_Trainer_Step_and_lower_the_batch_loss()
    {
        Assert.True(Result.StepMatchesTrainer);
        Assert.True(Result.LossAfter < Result.LossBefore);
    }

    [Fact]
    public void Smaller_batches_mean_more_iterations_and_a_noisier_loss()
    {
        var t = Result.TradeOff;
        Assert.Equal([10_000, 256, 32, 1], t.Select(e => e.BatchSize));
        Assert.Equal([1, 40, 313, 10_000], t.Select(e => e.Iterations));
        Assert.Equal(0, t[0].BatchLossSpread);
        for (int i = 1; i < t.Length; i++) Assert.True(t[i].BatchLossSpread > t[i - 1].BatchLossSpread, $"batch {t[i].BatchSize} is noisier than {t[i - 1].BatchSize}");
        Assert.True(t.First(e => e.BatchSize == 32).LossAfter < t.First(e => e.BatchSize == 10_000).LossAfter, "313 steps beat one step");
        Assert.All(t, e => Assert.True(e.Seconds > 0));
    }

    [Fact]
    public void The_timings_are_printed_only_on_time_lines()
    {
        var run = runs.Get("loop");
        Assert.Equal(5, run.Output.Split('\n').Count(l => l.StartsWith("time:", StringComparison.Ordinal)));
        Assert.DoesNotContain(" ms", run.Checked);
    }

    /// <summary>The batch-size plot is readable: batch 1's 10,000 noisy points are a thin translucent band drawn beneath the
    /// other three curves, the log axis stops at 0.01 (batch 1's smallest losses are near 1e-14), and the legend is beside the
    /// plot area.</summary>
    [Fact]
    public void The_plot_draws_batch_1_beneath_the_other_curves_with_the_legend_beside_them()
    {
        var p = SvgPlot.Load(Assert.Single(Result.Plots));
        Assert.Equal(["batch 1", "batch 10000", "batch 256", "batch 32"], p.Series.Select(s => s.Name));
        Assert.Equal([1, 40, 313], p.Series.Skip(1).Select(s => s.Points.Count));
        // One point per iteration, less the few single images whose float loss is exactly 0: a log axis leaves those out.
        Assert.InRange(p.Named("batch 1").Points.Count, 9_900, 10_000);
        var one = p.Named("batch 1");
        Assert.True(one.Opacity < 1 && one.Width < 1, $"batch 1 drawn with opacity {one.Opacity}, width {one.Width}");
        Assert.All(p.Series.Skip(1), s => Assert.Equal(1, s.Opacity));
        Assert.Equal(1, p.Named("batch 10000").Markers);
        Assert.Equal(0.01, p.Attr("data-y-min"), 1e-12);
        Assert.Equal("log10", (string)p.PlotAreaElement.Attribute("data-y-scale")!);
        Assert.True(p.Legend.X >= p.PlotArea.Right);
        // The curves of the larger batches are inside the plot area, none cut off by the axis' bottom.
        Assert.All(p.Series.Skip(1).SelectMany(s => s.Points), pt => Assert.True(p.PlotArea.Contains(pt.X, pt.Y), $"{pt}"));
    }

    /// <summary>The numbers of the five steps' lines are the data's and the batch's: chance is 1/classes, uniform guessing costs
    /// ln(classes), and the batch size is the loader's first batch (they were typed into the strings).</summary>
    [Fact]
    public void The_five_steps_print_chance_and_uniform_loss_from_the_number_of_classes()
    {
        var text = runs.Get("loop").Checked;
        Assert.Contains($"(chance is {1.0 / 10:0.###})", text);
        Assert.Contains($"(guessing uniformly would give ln 10 = {Math.Log(10).ToString("F4", System.Globalization.CultureInfo.InvariantCulture)})", text);
        Assert.Contains("  2. loss       mean cross-entropy over the 32 images:", text);
        Assert.True(Math.Abs(Result.LossBefore - Math.Log(10)) < 0.1, $"an untrained network's loss {Result.LossBefore} is near ln 10");
    }
}
