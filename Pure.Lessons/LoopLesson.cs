using System.Collections.Immutable;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Data;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Lessons;

/// <summary>One batch size's epoch in the trade-off table.</summary>
/// <param name="BatchSize">Examples per iteration.</param>
/// <param name="Iterations">Iterations in the epoch.</param>
/// <param name="LossAfter">The loss on all images after one epoch.</param>
/// <param name="AccuracyAfter">The accuracy on all images after one epoch.</param>
/// <param name="BatchLossSpread">The standard deviation of the batch losses at the starting weights: how noisy one step's view of the loss is.</param>
/// <param name="Seconds">Wall time of the epoch (varies from run to run; printed on a <c>time:</c> line).</param>
public sealed record BatchSizeEpoch(int BatchSize, int Iterations, double LossAfter, double AccuracyAfter, double BatchLossSpread, double Seconds);

/// <summary>What the loop lesson computed.</summary>
/// <param name="Images">Images in the data set.</param>
/// <param name="BatchSize">The batch size of the epoch arithmetic (32).</param>
/// <param name="IterationsPerEpoch">Batching.IterationsPerEpoch(images, 32).</param>
/// <param name="BatchesYielded">How many batches the loader actually produced for one epoch.</param>
/// <param name="LastBatchRows">Rows in the last batch.</param>
/// <param name="LossBefore">The first batch's loss before the iteration.</param>
/// <param name="LossAfter">The same batch's loss after it.</param>
/// <param name="StepMatchesTrainer">True when the five steps by hand give the same bits as Trainer.Step.</param>
/// <param name="TradeOff">One epoch at each batch size.</param>
/// <param name="Plots">The SVG files written.</param>
public sealed record LoopLessonResult(int Images, int BatchSize, int IterationsPerEpoch, int BatchesYielded, int LastBatchRows,
    double LossBefore, double LossAfter, bool StepMatchesTrainer, ImmutableArray<BatchSizeEpoch> TradeOff, ImmutableArray<string> Plots);

/// <summary>Lesson 4: the training loop (forward, loss, backprop, update, repeat) and what epochs, batches and iterations are.</summary>
public static class LoopLesson
{
    private const int Hidden = 16;
    private const double LearningRate = 0.05;
    private const ulong Seed = 42;

    private static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Prints one iteration's five steps, the epoch arithmetic of the Fashion-MNIST test split at batch 32, and the
    /// batch-size trade-off, and plots the per-iteration loss of each batch size.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Where <c>loop-batch-size.svg</c> goes.</param>
    /// <exception cref="FileNotFoundException">The bundled data/fashion_mnist folder is not above the application or the current folder.</exception>
    public static LoopLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: loop. Forward, loss, backprop, update; then the next batch. That is all training is.");

        // The data: the Fashion-MNIST test split bundled in data/fashion_mnist (10,000 images of 28x28 pixels, 10 classes).
        var folder = BundledDataSets.FindFashionMnistFolder();
        var (table, loadTime) = LessonWriter.Timed(() => IdxData.Load(
            Path.Combine(folder, BundledDataSets.FashionMnistImagesFile), Path.Combine(folder, BundledDataSets.FashionMnistLabelsFile), "fashion-mnist-test"));
        var data = ToDataSet(table);
        w.Line($"Data: {data.Rows} Fashion-MNIST images of {table.Features} pixels (scaled from 0..255 to 0..1), {table.Classes} classes.");
        w.Time("loading the images took", loadTime);

        var spec = ModelSpec.Mlp([table.Features, Hidden, table.Classes], new ReluSpec(), new SoftmaxCrossEntropySpec());
        var sgd = Optimizer.Sgd(LearningRate);
        var key = RandomKey.FromSeed(Seed);
        var config = new TrainConfig(BatchSize: 32, Epochs: 1);
        w.Line($"Model: {spec}, {Model.Init<float>(spec, key).ParameterCount} weights; plain SGD, learning rate {LearningRate}; seed {Seed}.");

        // Part 1: one iteration, step by step, with the same functions Trainer.Step calls.
        var state = Trainer.Init<float>(spec, sgd, key);
        var batch = Trainer.Batches(data, config, state.Key, epoch: 0).First();
        w.Heading($"One iteration, the five steps (first batch of epoch 1: {batch.Rows} images)");
        var outputs = Model.Forward(spec, state.Params, batch.X);                                   // 1. forward
        var probabilities = SoftmaxCrossEntropy.Softmax(outputs);
        int label0 = (int)batch.Y[0];
        w.Line($"  1. forward    the batch [{batch.X.Shape[0]}, {batch.X.Shape[1]}] goes through the layers; out come scores {outputs.ShapeText}, {outputs.Shape[1]} per image.");
        w.Line($"                image 1 is a {ClassNames[label0]}; the untrained model gives that class probability {probabilities[0, label0]:F4} (chance is {1.0 / table.Classes:0.###}).");
        float lossBefore = spec.Loss.Value(outputs, batch.Y);                                         // 2. loss
        w.Line($"  2. loss       mean cross-entropy over the {batch.Rows} images: {lossBefore:F4} (guessing uniformly would give ln {table.Classes} = {Math.Log(table.Classes):F4})");
        var (_, grads) = Model.ValueAndGrad(spec, state.Params, batch);                               // 3. backprop
        w.Line($"  3. backprop   a gradient for every weight: {string.Join(", ", grads.Names.Zip(grads.Leaves, (n, g) => $"{n} {g.ShapeText}"))}; its norm is {Optimizer.GlobalNorm(grads):F4}");
        var (updates, optState) = sgd.Update(grads, state.OptState, state.Params);                    // 4. update
        w.Line($"  4. update     SGD turns gradients into steps: step = -{LearningRate} * gradient; the step's norm is {Optimizer.GlobalNorm(updates):F4}");
        var newParams = Optimizer.ApplyUpdates(state.Params, updates);                                // 5. apply
        float lossAfter = Model.Loss(spec, newParams, batch);
        w.Line($"  5. apply      new weight = old weight + step. On the same {batch.Rows} images the loss is now {lossAfter:F4} (was {lossBefore:F4}).");
        var (viaTrainer, _) = Trainer.Step(spec, sgd, state, batch);
        bool same = viaTrainer.Params.Equals(newParams) && viaTrainer.OptState.Equals(optState);
        w.Line($"  Trainer.Step(state, batch) does exactly these five things: its weights are {(same ? "bit for bit the same" : "DIFFERENT")}.");
        w.Line($"  Repeat with the next batch: Trainer.RunEpoch folds Step over the epoch's batches, Trainer.Fit folds RunEpoch over the epochs.");

        // Part 2: epochs, batches, iterations, from the real loader.
        w.Heading($"Epochs, batches and iterations");
        int perEpoch = Batching.IterationsPerEpoch(data.Rows, config.BatchSize);
        var sizes = Trainer.Batches(data, config, state.Key, epoch: 0).Select(b => b.Rows).ToList();
        int full = sizes.Count(s => s == config.BatchSize);
        w.Line($"  images                     {data.Rows}");
        w.Line($"  batch size                 {config.BatchSize}");
        w.Line($"  iterations per epoch       {perEpoch} = ceil({data.Rows} / {config.BatchSize}) = ceil({(double)data.Rows / config.BatchSize})");
        w.Line($"  batches the loader yields  {sizes.Count}: {full} of {config.BatchSize} images and {sizes.Count - full} of {sizes[^1]}");
        w.Line($"  with drop-last             {Batching.IterationsPerEpoch(data.Rows, config.BatchSize, dropLast: true)} iterations (the last {sizes[^1]} images wait for the next epoch's shuffle)");
        w.Line($"  10 epochs                  {10 * perEpoch} iterations; every image is seen 10 times, in a new order each epoch");

        // Part 3: the batch-size trade-off, one epoch each from the same starting weights. Before each timed epoch, a short
        // untimed one on the first 1,000 images warms up (JIT compilation, first touches of memory), so the times compare the work.
        w.Heading($"The batch-size trade-off: one epoch each, from the same starting weights, same learning rate");
        var warmUpData = data.Subset([.. Enumerable.Range(0, 1000)]);
        var runs = new List<(int Size, TrainState<float> After, EpochHistory History, TimeSpan Elapsed)>();
        foreach (int size in new[] { data.Rows, 256, 32, 1 })
        {
            var c = new TrainConfig(BatchSize: size, Epochs: 1);
            _ = Trainer.RunEpoch(spec, sgd, Trainer.Init<float>(spec, sgd, key), warmUpData, new TrainConfig(BatchSize: Math.Min(size, warmUpData.Rows), Epochs: 1));
            var ((after, history), elapsed) = LessonWriter.Timed(() => Trainer.RunEpoch(spec, sgd, Trainer.Init<float>(spec, sgd, key), data, c));
            runs.Add((size, after, history, elapsed));
        }
        // How noisy is the loss one step sees? Take one set of weights (those after the batch-32 epoch, where images differ a
        // lot in how well they are recognised) and measure every batch's loss: its spread shrinks like 1/sqrt(batch size).
        var reference = runs.First(r => r.Size == 32).After.Params;
        var epochs = ImmutableArray.CreateBuilder<BatchSizeEpoch>();
        var curves = new List<LineSeries>();
        foreach (var (size, after, history, elapsed) in runs)
        {
            var finalOutputs = Model.Forward(spec, after.Params, data.X);
            double loss = spec.Loss.Value(finalOutputs, data.Y);
            var c = new TrainConfig(BatchSize: size, Epochs: 1);
            double spread = StdDev([.. Trainer.Batches(data, c, key, epoch: 0).Select(b => (double)Model.Loss(spec, reference, b))]);
            epochs.Add(new BatchSizeEpoch(size, history.IterationLosses.Length, loss, Accuracy(finalOutputs, data.Y), spread, elapsed.TotalSeconds));
            var seen = Enumerable.Range(1, history.IterationLosses.Length).Select(i => (double)Math.Min(data.Rows, i * size)).ToList();
            curves.Add(new LineSeries($"batch {size}", seen, history.IterationLosses));
        }
        w.Line($"  batch size    iterations   loss after   accuracy after   spread of one batch's loss");
        w.Line($"                per epoch    one epoch    one epoch        (std dev, same weights)");
        foreach (var e in epochs)
            w.Line($"  {(e.BatchSize == data.Rows ? Fmt.I($"{e.BatchSize} (all)") : Fmt.I($"{e.BatchSize}")),-12}  {e.Iterations,10}   {e.LossAfter,10:F4}   {Fmt.Percent(e.AccuracyAfter),14}   {e.BatchLossSpread,10:F4}");
        foreach (var e in epochs)
            w.Time($"one epoch at batch {e.BatchSize}, {e.Iterations} iteration{(e.Iterations == 1 ? "" : "s")} of {1000 * e.Seconds / e.Iterations:F3} ms:", TimeSpan.FromSeconds(e.Seconds));
        w.Line($"(The time: lines are wall-clock times: they change from run to run and machine to machine.)");
        w.Line();
        w.Line($"  All images at once: one exact, noise-free step per epoch, but only one, so after an epoch the model has barely moved,");
        w.Line($"  and every image's activations must be in memory at the same time.");
        w.Line($"  One image at a time: {data.Rows} steps per epoch, each judged on a single image, so each step's view of the loss is");
        w.Line($"  very noisy, and the computer does {data.Rows} tiny matrix products instead of a few large ones.");
        w.Line($"  Mini-batches of 32 to 256: dozens to hundreds of steps per epoch, each on a loss averaged over enough images to");
        w.Line($"  point the right way, with only a batch's activations in memory.");

        var plot = Fmt.OutputPath(outputFolder, "loop-batch-size.svg");
        // Batch 1's 10,000 single-image losses are a translucent band beneath the other curves (LinePlot draws so dense a series
        // thin and first); the few images it already gets right have losses down to 1e-14, so the axis stops at 0.01 and that
        // band runs off the bottom, which leaves room for the curves of the larger batches.
        LinePlot.Write(plot, "Loss of each iteration's batch during one epoch", "images seen", "batch loss", curves, new LinePlotOptions { LogY = true, YMin = 0.01 });
        w.Line();
        w.Line($"Plot: loop-batch-size.svg (the loss each iteration saw, against images seen, log scale).");
        return new LoopLessonResult(data.Rows, config.BatchSize, perEpoch, sizes.Count, sizes[^1], lossBefore, lossAfter, same, epochs.ToImmutable(), [plot]);
    }

    /// <summary>Pixels 0..255 to floats 0..1; labels as floats.</summary>
    private static DataSet<float> ToDataSet(TabularData table)
    {
        var x = new float[table.X.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(table.X[i] / 255.0);
        var y = new float[table.Y.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (float)table.Y[i];
        return new DataSet<float>(NdArray.From<float>(x, table.Rows, table.Features), NdArray.Vector(y));
    }

    private static double Accuracy(NdArray<float> outputs, NdArray<float> labels)
    {
        int correct = 0;
        for (int i = 0; i < outputs.Rows; i++)
        {
            var row = outputs.Row(i);
            int best = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
            if (best == (int)labels[i]) correct++;
        }
        return (double)correct / outputs.Rows;
    }

    /// <summary>The population standard deviation (0 for a single value).</summary>
    private static double StdDev(IReadOnlyList<double> v)
    {
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Count);
    }
}
