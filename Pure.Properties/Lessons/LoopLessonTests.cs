using NeuralPure.Lessons;
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

    [Fact]
    public void The_plot_is_written_as_svg() => Assert.StartsWith("<?xml", File.ReadAllText(Assert.Single(Result.Plots)));
}
