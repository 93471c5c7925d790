using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>A CNN with everything a real one has — augmentation (flips and shifts), two conv blocks with batch norm, max and average pooling, dropout in two
/// places, AdamW with a schedule and clipping: the fold gives the pure steps' bits (parameters, optimizer state and batch
/// norm's running statistics), on 1 and 2 threads alike, and allocates nothing per step.</summary>
public sealed class CnnFoldTests
{
    internal static ModelSpec Cnn() => new(Shape.Of(1, 6, 6),
        [new RandomFlipSpec(), RandomShiftSpec.Square(1),
         Conv2dSpec.Square(1, 4, 3, padding: 1), new BatchNormSpec(4), new ReluSpec(), MaxPool2dSpec.Square(2),
         new DropoutSpec(0.2),
         Conv2dSpec.Square(4, 6, 3, padding: 1), new BatchNormSpec(6), new ReluSpec(), AvgPool2dSpec.Square(3),
         new FlattenSpec(), new DropoutSpec(0.3), new DenseSpec(6, 2)],
        new SoftmaxCrossEntropySpec());

    private static GradientTransform Opt() =>
        GradientTransform.Chain(new ClipByGlobalNorm(1.0), Optimizer.AdamW(new Schedule.Cosine(0.02, 80), weightDecay: 0.05));

    [Fact]
    public void The_fold_of_a_cnn_with_batch_norm_and_dropout_gives_the_pure_steps_bits_and_learns()
    {
        var spec = Cnn();
        var opt = Opt();
        var data = ConvolutionTests.Bars<float>(64);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(5));
        var config = new TrainConfig(8, 10);
        var fit = Trainer.Fit(spec, opt, start, data, config);
        var pure = TrainingProblems.StepFold(spec, opt, start, data, config);
        Assert.Equal(pure, fit.State);
        // The running statistics moved: the state carried is batch norm's, not the zeros/ones it started from.
        Assert.NotEqual(start.LayerState, fit.State.LayerState);
        var losses = fit.History.EpochLosses;
        Assert.True(losses[^1] < 0.5 * losses[0], $"epoch losses {string.Join(", ", losses)}");
    }

    [Fact]
    public void In_double_the_fold_equals_the_pure_steps_on_two_threads_and_the_bits_do_not_depend_on_the_thread_count()
    {
        var spec = Cnn();
        var opt = Opt();
        var data = ConvolutionTests.Bars<double>(48);
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(6));
        var config = new TrainConfig(16, 2);
        var one = Trainer.Fit(spec, opt, start, data, config, new Parallelism(1)).State;
        var two = Trainer.Fit(spec, opt, start, data, config, new Parallelism(2)).State;
        Assert.Equal(one, two);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config, parallelism: new Parallelism(2)), two);
    }

    [Fact]
    public void A_step_of_the_fold_allocates_nothing_on_a_cnn_with_batch_norm_and_dropout() =>
        FoldAllocation.AssertStepsAllocateNothing("cnn with batch norm and dropout", Cnn(), Opt(), ConvolutionTests.Bars<float>(400));
}
