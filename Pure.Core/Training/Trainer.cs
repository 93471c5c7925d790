using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Training;

/// <summary>Training as a fold: <c>Step(state, batch) → state</c>; an epoch folds Step over its batches; Fit folds epochs.</summary>
/// <remarks>
/// One iteration is the lesson's loop: forward, loss, backprop (<see cref="Model.ValueAndGrad{T}(ModelSpec, ParamTree{T}, Batch{T}, RandomKey?, Parallelism?)"/>), optimizer update,
/// apply. Nothing here keeps state between calls; the same (spec, optimizer, state, data, config) always gives the same bits.
/// </remarks>
public static class Trainer
{
    internal const uint ShuffleStream = 0x5348_5546, DropoutStream = 0x4452_4F50; // "SHUF", "DROP"

    /// <summary>The starting state: parameters from <c>key.FoldIn(init)</c>, a fresh optimizer state, step 0.</summary>
    public static TrainState<T> Init<T>(ModelSpec spec, GradientTransform optimizer, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(optimizer);
        var p = Model.Init<T>(spec, key.FoldIn(0x494E_4954)); // "INIT"
        return new TrainState<T>(p, optimizer.Init(p), 0, 0, key) { LayerState = Model.InitState<T>(spec) };
    }

    /// <summary>The starting state from given parameters.</summary>
    public static TrainState<T> Init<T>(ModelSpec spec, GradientTransform optimizer, ParamTree<T> parameters, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Model.RequireParameters(spec, parameters, nameof(parameters));
        return new TrainState<T>(parameters, optimizer.Init(parameters), 0, 0, key) { LayerState = Model.InitState<T>(spec) };
    }

    /// <summary>One iteration: loss and gradients on the batch, the optimizer's updates, new parameters. Returns the new state and the batch's loss.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="optimizer">The gradient transform.</param>
    /// <param name="state">The state before the step (unchanged).</param>
    /// <param name="batch">The batch.</param>
    /// <param name="parallelism">Threads for the matrix products (null: all cores); the new state's bits do not depend on it.</param>
    /// <exception cref="ArgumentException">The batch does not fit the model (width, labels, non-finite values, no rows).</exception>
    public static (TrainState<T> State, T Loss) Step<T>(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, Batch<T> batch, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(state);
        Model.RequireParameters(spec, state.Params, nameof(state)); // named as the state's (ValueAndGrad would say "parameters")
        var dropoutKey = state.Key.FoldIn(DropoutStream).FoldIn((uint)state.Step);
        var (loss, grads, layerState) = Model.ValueAndGrad(spec, state.Params, state.LayerState, batch, dropoutKey, parallelism);
        var (updates, optState) = optimizer.Update(grads, state.OptState, state.Params);
        var parameters = Optimizer.ApplyUpdates(state.Params, updates);
        return (state with { Params = parameters, OptState = optState, LayerState = layerState, Step = state.Step + 1 }, loss);
    }

    /// <summary>The batches of epoch <see cref="TrainState{T}.Epoch"/> in order: a keyed shuffle (or stored order), cut by <see cref="Batching.BatchRanges"/>.</summary>
    public static IEnumerable<Batch<T>> Batches<T>(DataSet<T> data, TrainConfig config, RandomKey key, int epoch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Checked here, when called: an iterator's own checks would wait for the first MoveNext.
        ArgumentNullException.ThrowIfNull(data); ArgumentNullException.ThrowIfNull(config);
        return Iterate(data, config, key, epoch);
    }

    private static IEnumerable<Batch<T>> Iterate<T>(DataSet<T> data, TrainConfig config, RandomKey key, int epoch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var order = config.Shuffle ? Batching.Shuffle(data.Rows, key.FoldIn(ShuffleStream), epoch) : [.. Enumerable.Range(0, data.Rows)];
        foreach (var r in Batching.BatchRanges(data.Rows, config.BatchSize, config.DropLast))
            yield return data.Gather(order.AsSpan()[r]);
    }

    /// <summary>One epoch: Step folded over the epoch's batches. Returns the state (Epoch + 1) and the epoch's history.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="optimizer">The gradient transform.</param>
    /// <param name="state">The state before the epoch (unchanged).</param>
    /// <param name="data">The training data.</param>
    /// <param name="config">Batch size, shuffling, drop-last.</param>
    /// <param name="parallelism">Threads for the matrix products (null: all cores); the result's bits do not depend on it.</param>
    /// <exception cref="ArgumentException">Drop-last leaves no batch (fewer rows than the batch size).</exception>
    public static (TrainState<T> State, EpochHistory History) RunEpoch<T>(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, DataSet<T> data, TrainConfig config, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(data); ArgumentNullException.ThrowIfNull(config);
        if (Batching.IterationsPerEpoch(data.Rows, config.BatchSize, config.DropLast) == 0)
            throw new ArgumentException($"{data.Rows} rows at batch size {config.BatchSize} with drop-last give no iteration", nameof(config));
        // The same step in workspaces (no allocation per step, same bits).
        RequireData(spec, data);
        var fold = Fold<T>.Create(spec, optimizer, state, data, config.BatchSize, parallelism);
        var (counters, history, _, _) = fold.RunEpoch(state, data, config);
        return (fold.Release(counters), history);
    }

    /// <summary>Training: RunEpoch folded over <see cref="TrainConfig.Epochs"/> epochs, starting from <paramref name="state"/>.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="optimizer">The gradient transform.</param>
    /// <param name="state">The starting state (unchanged).</param>
    /// <param name="data">The training data.</param>
    /// <param name="config">Epochs, batch size, shuffling, drop-last.</param>
    /// <param name="parallelism">Threads for the matrix products (null: all cores); the result's bits do not depend on it.</param>
    public static FitResult<T> Fit<T>(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, DataSet<T> data, TrainConfig config, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(data);
        if (Batching.IterationsPerEpoch(data.Rows, config.BatchSize, config.DropLast) == 0)
            throw new ArgumentException($"{data.Rows} rows at batch size {config.BatchSize} with drop-last give no iteration", nameof(config));
        // RunEpoch folded over the epochs, with one set of workspaces for the whole fit.
        RequireData(spec, data);
        var fold = Fold<T>.Create(spec, optimizer, state, data, config.BatchSize, parallelism);
        var history = History.Empty;
        var s = state;
        for (int e = 0; e < config.Epochs; e++)
        {
            (s, var epoch, _, _) = fold.RunEpoch(s, data, config);
            history = history.Add(epoch);
        }
        return new FitResult<T>(fold.Release(s), history);
    }

    /// <summary>Training, observed: <see cref="Fit{T}(ModelSpec, GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, Parallelism?)"/>
    /// with callbacks after every step and every epoch that may stop it, and a start in the middle of an epoch. The steps it
    /// takes are the same (same bits) as those of the unobserved fit; only where it stops differs.</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="optimizer">The gradient transform.</param>
    /// <param name="state">The starting state (unchanged).</param>
    /// <param name="data">The training data.</param>
    /// <param name="config">Batch size, shuffling, drop-last, and the epochs to run: epoch <c>state.Epoch</c> (from batch
    /// <paramref name="startIteration"/>) and the ones after it, <see cref="TrainConfig.Epochs"/> in all.</param>
    /// <param name="observer">The callbacks.</param>
    /// <param name="startIteration">Batches of epoch <c>state.Epoch</c> already done (a mid-epoch <see cref="ObservedFit{T}.Cursor"/>).</param>
    /// <param name="parallelism">Threads for the matrix products (null: all cores); the result's bits do not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startIteration"/> is not a batch of the epoch.</exception>
    /// <exception cref="ArgumentException">Drop-last leaves no batch, or the data does not fit the model.</exception>
    public static ObservedFit<T> Fit<T>(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, DataSet<T> data, TrainConfig config,
        TrainObserver<T> observer, int startIteration = 0, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(data); ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(observer);
        int perEpoch = Batching.IterationsPerEpoch(data.Rows, config.BatchSize, config.DropLast);
        if (perEpoch == 0) throw new ArgumentException($"{data.Rows} rows at batch size {config.BatchSize} with drop-last give no iteration", nameof(config));
        if (startIteration < 0 || startIteration >= perEpoch)
            throw new ArgumentOutOfRangeException(nameof(startIteration), startIteration, $"an epoch of this data has batches 0 to {perEpoch - 1}");
        RequireData(spec, data);
        var fold = Fold<T>.Create(spec, optimizer, state, data, config.BatchSize, parallelism);
        var history = History.Empty;
        var s = state;
        int skip = startIteration;
        for (int e = 0; e < config.Epochs; e++, skip = 0)
        {
            var (next, epoch, cursor, stopped) = fold.RunEpoch(s, data, config, skip, observer.AfterStep);
            s = next;
            if (cursor != 0) return new ObservedFit<T>(fold.Release(s), history, cursor);
            history = history.Add(epoch);
            if (stopped) break; // stopped on the epoch's last step: the epoch is done, but AfterEpoch is not asked
            if (observer.AfterEpoch is { } after && !after(fold.State(s), epoch)) break;
        }
        return new ObservedFit<T>(fold.Release(s), history, 0);
    }

    /// <summary>Before the fold steps batch by batch: inputs that are finite and targets the loss takes, a bad one named by its
    /// row in the data set (a step would name its row in a shuffled batch). The state's parameters and layer state are the
    /// fold's to check (<see cref="Fold{T}.Create"/>), which names them as the state's.</summary>
    private static void RequireData<T>(ModelSpec spec, DataSet<T> data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Model.RequireInput(spec, data.X, nameof(data));
        try { spec.Loss.RequireTargets(spec.OutputShape, data.Rows, Shape.OfExamples(data.Y.Shape), data.Y.Span); }
        catch (ArgumentException e) { throw new ArgumentException($"the data's targets do not suit the loss '{spec.Loss.Kind}': {e.Message.Split(" (Parameter")[0]}", nameof(data), e); }
    }
}
