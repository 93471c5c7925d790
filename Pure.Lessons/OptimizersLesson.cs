using System.Collections.Immutable;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Evaluation;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Lessons;

/// <summary>One optimizer's run.</summary>
/// <param name="Name">sgd, momentum, adam, adamw, adagrad or lion.</param>
/// <param name="Settings">Its hyperparameters, in words.</param>
/// <param name="EpochLosses">Training loss per epoch.</param>
/// <param name="FirstStep">How far weights moved in the first step: smallest, median and largest |Δw| over weights with a nonzero gradient.</param>
/// <param name="WeightNorm">The norm of all weights after training, √Σw².</param>
/// <param name="TestAccuracy">Accuracy on the held-out 20%.</param>
/// <param name="Steps">Updates made over the whole run.</param>
public sealed record OptimizerRun(string Name, string Settings, ImmutableArray<double> EpochLosses, (double Smallest, double Median, double Largest) FirstStep,
    double WeightNorm, double TestAccuracy, long Steps);

/// <summary>What the optimizers lesson computed.</summary>
/// <param name="InitialNorm">The starting weights' norm (the same for every optimizer).</param>
/// <param name="Runs">One run per optimizer.</param>
/// <param name="Plots">The SVG files written.</param>
/// <param name="Leaders">Which optimizer had the lowest training loss, epoch by epoch: (name, first epoch, last epoch), 1-based.</param>
public sealed record OptimizersLessonResult(double InitialNorm, ImmutableArray<OptimizerRun> Runs, ImmutableArray<string> Plots,
    ImmutableArray<(string Name, int From, int To)> Leaders)
{
    /// <summary>The run of the optimizer called <paramref name="name"/>.</summary>
    public OptimizerRun Run(string name) => Runs.First(r => r.Name == name);
}

/// <summary>Lesson 5: optimizers. The same model, data and starting weights; only the rule that turns gradients into steps changes.</summary>
public static class OptimizersLesson
{
    private const int Epochs = 20;
    private const ulong Seed = 42;
    // The hyperparameters, once: the optimizers are built from them and the lines that explain them print them.
    private const double SgdRate = 0.05, Mu = 0.9, AdamRate = 0.001, AdamWDecay = 0.01, AdagradRate = 0.05, LionRate = 3e-4, LionDecay = 0.1;

    /// <summary>Trains the digits model with SGD, momentum, Adam, AdamW, Adagrad and Lion from the same seed, and compares losses, step sizes and weight norms.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Where <c>optimizers-loss.svg</c> goes.</param>
    public static OptimizersLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: optimizers. Same model, same data, same starting weights; only the update rule changes.");

        // Digits: 80% to train on, 20% held out, inputs standardized with the training rows' means and deviations.
        var table = BundledDataSets.Load("digits");
        var split = DataSplit.Create(table.Rows, validationFraction: 0, testFraction: 0.2, Seed);
        var standardizer = Standardizer.Fit(table, split.Train.AsSpan());
        var train = standardizer.ToDataSet(table, split.Train.AsSpan());
        var test = standardizer.ToDataSet(table, split.Test.AsSpan());
        var spec = ModelSpec.Mlp([table.Features, 32, table.Classes], new ReluSpec(), new SoftmaxCrossEntropySpec());
        var key = RandomKey.FromSeed(Seed);
        var config = new TrainConfig(BatchSize: 32, Epochs: Epochs);
        w.Line($"Data: digits, {train.Rows} images to train on, {test.Rows} held out. Model: {spec}. Batch 32, {Epochs} epochs, seed {Seed}.");

        // Each optimizer is one expression over NeuralPure's gradient transforms (see Optimizer.cs for the chains).
        var optimizers = new (string Name, string Settings, GradientTransform Transform)[]
        {
            ("sgd", Fmt.I($"w -= {Fmt.Rate(SgdRate)} * g"), Optimizer.Sgd(SgdRate)),
            ("momentum", Fmt.I($"v = {Fmt.Rate(Mu)} v + g; w -= {Fmt.Rate(SgdRate)} * v"), Optimizer.Momentum(SgdRate, momentum: Mu)),
            ("adam", Fmt.I($"lr {Fmt.Rate(AdamRate)}, betas 0.9/0.999 (PyTorch's defaults)"), Optimizer.Adam(AdamRate)),
            ("adamw", Fmt.I($"adam + decoupled decay w -= {Fmt.Rate(AdamRate)} * {Fmt.Rate(AdamWDecay)} * w (PyTorch's defaults)"), Optimizer.AdamW(AdamRate, weightDecay: AdamWDecay)),
            ("adagrad", Fmt.I($"s = s + g^2; w -= {Fmt.Rate(AdagradRate)} * g / (sqrt(s) + 1e-10)"), Optimizer.Adagrad(AdagradRate)),
            ("lion", Fmt.I($"c = 0.9 m + 0.1 g; w -= {Fmt.Rate(LionRate)} * (sign(c) + {Fmt.Rate(LionDecay)} w); m = 0.99 m + 0.01 g"), Optimizer.Lion(LionRate, weightDecay: LionDecay)),
        };
        var start = Trainer.Init<float>(spec, optimizers[0].Transform, key);
        double initialNorm = Optimizer.GlobalNorm(start.Params);

        var runs = ImmutableArray.CreateBuilder<OptimizerRun>();
        foreach (var (name, settings, transform) in optimizers)
        {
            var state = Trainer.Init<float>(spec, transform, key);       // the same weights for every optimizer: Init depends only on the key
            var firstBatch = Trainer.Batches(train, config, key, epoch: 0).First();
            var (afterOne, _) = Trainer.Step(spec, transform, state, firstBatch);
            var (_, grads) = Model.ValueAndGrad(spec, state.Params, firstBatch);
            var fit = Trainer.Fit(spec, transform, state, train, config);
            runs.Add(new OptimizerRun(name, settings, fit.History.EpochLosses, StepSizes(state.Params, afterOne.Params, grads),
                Optimizer.GlobalNorm(fit.State.Params), Evaluate.Classification(spec, fit.State.Params, test).Accuracy, fit.State.Step));
        }
        var all = runs.ToImmutable();

        w.Heading($"The optimizers");
        foreach (var r in all) w.Line($"  {r.Name,-9} {r.Settings}");

        w.Heading($"Training loss per epoch");
        w.Line($"  epoch   {string.Join("  ", all.Select(r => $"{r.Name,-9}"))}");
        foreach (int e in new[] { 1, 2, 3, 5, 10, 15, 20 })
            w.Line($"  {e,5}   {string.Join("  ", all.Select(r => Fmt.I($"{r.EpochLosses[e - 1],-9:F4}")))}");
        // Which is "fastest" depends on when you look: the optimizer with the lowest loss, epoch by epoch, in runs of epochs.
        var leaders = ImmutableArray.CreateBuilder<(string, int, int)>();
        for (int e = 1; e <= Epochs; e++)
        {
            string lowest = all.MinBy(r => r.EpochLosses[e - 1])!.Name;
            if (leaders.Count > 0 && leaders[^1].Item1 == lowest) leaders[^1] = (lowest, leaders[^1].Item2, e);
            else leaders.Add((lowest, e, e));
        }
        w.Line($"  lowest loss: {string.Join(", ", leaders.Select(l => l.Item2 == l.Item3 ? Fmt.I($"{l.Item1} at epoch {l.Item2}") : Fmt.I($"{l.Item1} at epochs {l.Item2}-{l.Item3}")))}");
        w.Line($"  held-out accuracy after {Epochs} epochs: {string.Join(", ", all.Select(r => $"{r.Name} {Fmt.Percent(r.TestAccuracy)}"))}");

        w.Heading($"Step sizes: how far the weights moved in the very first step (weights with a nonzero gradient)");
        w.Line($"  optimizer   smallest    median      largest");
        foreach (var r in all) w.Line($"  {r.Name,-9}   {r.FirstStep.Smallest,-10:F6}  {r.FirstStep.Median,-10:F6}  {r.FirstStep.Largest,-10:F6}");
        // Each sentence below states what the table must show, and says so only when it does.
        var sgdRun = all.First(r => r.Name == "sgd"); var momentumRun = all.First(r => r.Name == "momentum");
        var adamRun = all.First(r => r.Name == "adam"); var adagradRun = all.First(r => r.Name == "adagrad");
        bool Near(double value, double rate) => Math.Abs(value - rate) <= 0.01 * rate;
        w.Line($"  SGD's step is the learning rate times the gradient, so weights with small gradients barely move.");
        w.Line($"  Momentum's first step {(momentumRun.FirstStep == sgdRun.FirstStep ? "equals" : "DIFFERS FROM")} SGD's (its velocity starts at zero); later steps add up the past gradients.");
        w.Line($"  Adam divides each weight's step by the size of that weight's own recent gradients. Its bias correction divides");
        w.Line($"  m and v by 1 - 0.9^t and 1 - 0.999^t, so on the first step (t = 1) they are g and g^2 and the step is");
        w.Line($"  {Fmt.Rate(AdamRate)} * g / (|g| + 1e-8): {(Near(adamRun.FirstStep.Median, AdamRate) ? "nearly every weight moves by the learning rate" : "NOT nearly every weight moves by the learning rate")}, {Fmt.Rate(AdamRate)}, whatever its gradient.");
        w.Line($"  That is the per-weight step size.");
        w.Line($"  Adagrad's first step is g / |g| too, times its rate {Fmt.Rate(AdagradRate)}{(Near(adagradRun.FirstStep.Median, AdagradRate) ? "" : " (NOT what the table shows)")}; after that its sum s only grows,");
        w.Line($"  so each weight's rate {Fmt.Rate(AdagradRate)} / sqrt(s) only shrinks.");
        w.Line($"  Lion takes the sign of its interpolated momentum: every weight moves by its rate, {Fmt.Rate(LionRate)}, on every step");
        w.Line($"  (give or take its decoupled decay, {Fmt.Rate(LionRate)} * {Fmt.Rate(LionDecay)} * w).");

        w.Heading($"What each did to the weights: the norm sqrt(sum of w^2) over all weights");
        w.Line($"  {"at the start (all six)",-24}  {initialNorm,8:F4}");
        foreach (var r in all) w.Line($"  {"after " + r.Name,-24}  {r.WeightNorm,8:F4}");
        var adam = all.First(r => r.Name == "adam"); var adamW = all.First(r => r.Name == "adamw");
        w.Line($"  AdamW ends with a {(adamW.WeightNorm < adam.WeightNorm ? "smaller" : "LARGER")} norm than Adam ({adamW.WeightNorm:F4} vs {adam.WeightNorm:F4}): every step it also pulls each weight");
        w.Line($"  towards zero by learning rate * weight decay * w, separately from the gradient (decoupled weight decay),");
        w.Line($"  here {Fmt.Rate(AdamRate)} * {Fmt.Rate(AdamWDecay)} = {Fmt.Rate(100 * AdamRate * AdamWDecay)}% of each weight per step, over {adamW.Steps} steps.");

        var plot = Fmt.OutputPath(outputFolder, "optimizers-loss.svg");
        LinePlot.Write(plot, "digits: training loss per epoch", "epoch", "training loss",
            [.. all.Select(r => new LineSeries(r.Name, LinePlot.OneTo(r.EpochLosses.Length), r.EpochLosses))], new LinePlotOptions { LogY = true });
        w.Line();
        w.Line($"Plot: optimizers-loss.svg (training loss per epoch, log scale).");
        return new OptimizersLessonResult(initialNorm, all, [plot], leaders.ToImmutable());
    }

    /// <summary>Smallest, median and largest |after − before| over the weights whose gradient is not zero.</summary>
    private static (double, double, double) StepSizes(ParamTree<float> before, ParamTree<float> after, ParamTree<float> grads)
    {
        var b = before.Flatten(); var a = after.Flatten(); var g = grads.Flatten();
        var moved = Enumerable.Range(0, b.Length).Where(i => g[i] != 0).Select(i => Math.Abs((double)a[i] - b[i])).Order().ToArray();
        return (moved[0], moved[moved.Length / 2], moved[^1]);
    }
}
