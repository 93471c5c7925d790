using NeuralPure.Lessons;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class OptimizersLessonTests(LessonRuns runs)
{
    private OptimizersLessonResult Result => runs.Get("optimizers").As<OptimizersLessonResult>();

    [Fact]
    public void AdamW_ends_with_smaller_weights_than_Adam()
    {
        Assert.True(Result.Run("adamw").WeightNorm < Result.Run("adam").WeightNorm,
            $"AdamW {Result.Run("adamw").WeightNorm} vs Adam {Result.Run("adam").WeightNorm}");
    }

    [Fact]
    public void Adam_moves_nearly_every_weight_by_the_learning_rate_on_its_first_step_and_SGD_by_lr_times_gradient()
    {
        var adam = Result.Run("adam").FirstStep;
        Assert.InRange(adam.Median, 0.00099, 0.00101);
        Assert.InRange(adam.Largest, 0.00099, 0.00101);
        var sgd = Result.Run("sgd").FirstStep;
        Assert.True(sgd.Largest > 10 * sgd.Median, "SGD's steps follow the gradients' sizes");
        Assert.Equal(sgd, Result.Run("momentum").FirstStep);
        // Adagrad's first step is η·g/|g|; Lion's is η·sign(c) plus a decay of η·0.1·w (|w| < 0.2 at PyTorch's init here)
        Assert.InRange(Result.Run("adagrad").FirstStep.Median, 0.04999, 0.05001);
        var lion = Result.Run("lion").FirstStep;
        Assert.InRange(lion.Smallest, 3e-4 * (1 - 0.1 * 0.2), 3e-4);
        Assert.InRange(lion.Largest, 3e-4, 3e-4 * (1 + 0.1 * 0.2));
    }

    [Fact]
    public void Every_optimizer_trains_to_over_90_percent_on_held_out_images()
    {
        Assert.Equal(["sgd", "momentum", "adam", "adamw", "adagrad", "lion"], Result.Runs.Select(r => r.Name));
        Assert.All(Result.Runs, r =>
        {
            Assert.Equal(20, r.EpochLosses.Length);
            Assert.True(r.EpochLosses[^1] < 0.25 * r.EpochLosses[0], $"{r.Name} trains");
            Assert.True(r.TestAccuracy > 0.9, $"{r.Name} held-out accuracy {r.TestAccuracy}");
        });
    }

    [Fact]
    public void The_plot_has_one_curve_per_optimizer_on_a_log_axis()
    {
        var p = SvgPlot.Load(Assert.Single(Result.Plots));
        Assert.Equal(Result.Runs.Select(r => r.Name), p.Series.Select(s => s.Name));
        Assert.All(p.Series, s => Assert.Equal(Result.Run(s.Name).EpochLosses.Length, s.Markers));
        Assert.Equal("log10", (string)p.PlotAreaElement.Attribute("data-y-scale")!);
    }

    /// <summary>"Which optimizer is fastest" depends on the epoch: the lesson computes the leader at every epoch (adagrad early,
    /// momentum from epoch 6 here) instead of the page naming one, and the runs it prints cover the 20 epochs without a gap.</summary>
    [Fact]
    public void The_lowest_loss_line_names_the_leader_of_every_epoch()
    {
        var r = Result;
        Assert.Equal(1, r.Leaders[0].From);
        Assert.Equal(20, r.Leaders[^1].To);
        for (int i = 1; i < r.Leaders.Length; i++) Assert.Equal(r.Leaders[i - 1].To + 1, r.Leaders[i].From);
        foreach (var (name, from, to) in r.Leaders)
            for (int e = from; e <= to; e++)
                Assert.Equal(r.Runs.MinBy(x => x.EpochLosses[e - 1])!.Name, name);
        Assert.True(r.Leaders.Length > 1, "the lead changes hands: no single optimizer is 'fastest' at every epoch");
        Assert.Contains("  lowest loss: adagrad at epochs 1-5, momentum at epochs 6-20", runs.Get("optimizers").Checked);
        Assert.All(r.Runs, x => Assert.Equal(900, x.Steps));
    }
}
