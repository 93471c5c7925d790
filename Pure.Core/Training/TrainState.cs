using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Training;

/// <summary>Everything training changes, and nothing else: parameters, optimizer state, the step and epoch counters, the run's key.</summary>
/// <param name="Params">The model's parameters.</param>
/// <param name="OptState">The optimizer's state.</param>
/// <param name="Step">Updates applied so far (iterations).</param>
/// <param name="Epoch">Epochs completed so far.</param>
/// <param name="Key">The run's key. It never changes: step t's dropout uses Key.FoldIn(dropout).FoldIn(t), and epoch e's order
/// uses Key.FoldIn(shuffle).FoldIn(e), so any state can be resumed exactly.</param>
public sealed record TrainState<T>(ParamTree<T> Params, OptState OptState, long Step, int Epoch, RandomKey Key) where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly ParamTree<T> NoState = new([], []);

    /// <summary>The layers' non-trainable state (running statistics, <see cref="Layers.LayerSpec.State"/>): taken and returned by
    /// every step, like the optimizer state; an empty tree for a model without (the default).</summary>
    public ParamTree<T> LayerState { get; init; } = NoState;
}

/// <summary>How the fold walks the data.</summary>
/// <param name="BatchSize">Examples per iteration, ≥ 1.</param>
/// <param name="Epochs">Passes over the data, ≥ 1.</param>
/// <param name="DropLast">Drop the last, smaller batch of each epoch.</param>
/// <param name="Shuffle">Visit examples in a keyed random order each epoch (otherwise in stored order).</param>
public sealed record TrainConfig(int BatchSize = 32, int Epochs = 10, bool DropLast = false, bool Shuffle = true)
{
    /// <summary>The batch size, checked.</summary>
    public int BatchSize { get; } = BatchSize >= 1 ? BatchSize : throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be ≥ 1");

    /// <summary>The epoch count, checked.</summary>
    public int Epochs { get; } = Epochs >= 1 ? Epochs : throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be ≥ 1");
}

/// <summary>The loss of every iteration of one epoch and their example-weighted mean.</summary>
/// <param name="Epoch">The epoch's index (0-based).</param>
/// <param name="IterationLosses">Mean loss of each batch, in order.</param>
/// <param name="Loss">The epoch's training loss: Σ (batch loss × batch rows) / examples.</param>
public sealed record EpochHistory(int Epoch, ImmutableArray<double> IterationLosses, double Loss)
{
    /// <summary>Element-wise equality of the losses.</summary>
    public bool Equals(EpochHistory? other) => other is not null && Epoch == other.Epoch && Loss.Equals(other.Loss) && IterationLosses.SequenceEqual(other.IterationLosses);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Epoch, Loss, IterationLosses.Length);
}

/// <summary>The history of a fit: one entry per epoch.</summary>
/// <param name="Epochs">Per-epoch records in order.</param>
public sealed record History(ImmutableArray<EpochHistory> Epochs)
{
    /// <summary>An empty history.</summary>
    public static History Empty { get; } = new(ImmutableArray<EpochHistory>.Empty);

    /// <summary>Every iteration's loss, epoch after epoch.</summary>
    public ImmutableArray<double> IterationLosses => [.. Epochs.SelectMany(e => e.IterationLosses)];

    /// <summary>Each epoch's loss.</summary>
    public ImmutableArray<double> EpochLosses => [.. Epochs.Select(e => e.Loss)];

    /// <summary>This history with one more epoch.</summary>
    public History Add(EpochHistory e) => new(Epochs.Add(e));

    /// <summary>Element-wise equality.</summary>
    public bool Equals(History? other) => other is not null && Epochs.Length == other.Epochs.Length &&
        Epochs.Zip(other.Epochs).All(p => p.First.Epoch == p.Second.Epoch && p.First.Loss.Equals(p.Second.Loss) && p.First.IterationLosses.SequenceEqual(p.Second.IterationLosses));

    /// <inheritdoc/>
    public override int GetHashCode() => Epochs.Length;
}

/// <summary>The result of <see cref="Trainer.Fit{T}(Models.ModelSpec, GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, Kernels.Parallelism?)"/>: the final state and the history.</summary>
public sealed record FitResult<T>(TrainState<T> State, History History) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What an observed fold reports after each step.</summary>
/// <param name="Epoch">The epoch the step belongs to (0-based, as <see cref="TrainState{T}.Epoch"/>).</param>
/// <param name="Iteration">Batches of this epoch done, this one included (1-based).</param>
/// <param name="IterationsPerEpoch">Batches in a whole epoch.</param>
/// <param name="Step">Updates applied so far, this one included.</param>
/// <param name="Rows">Examples in this batch.</param>
/// <param name="Loss">The batch's loss (before the update).</param>
/// <param name="Finite">The loss and every parameter after the update are finite numbers.</param>
public readonly record struct StepReport(int Epoch, int Iteration, int IterationsPerEpoch, long Step, int Rows, double Loss, bool Finite);

/// <summary>Callbacks of an observed fit (<see cref="Trainer.Fit{T}(Models.ModelSpec, GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, TrainObserver{T}, int, Kernels.Parallelism?)"/>):
/// they see the fold from outside and may end it at a batch or epoch boundary, but cannot change what it computes.</summary>
/// <param name="AfterStep">Called after every step; return false to stop there. Stopped on an epoch's last step, the epoch
/// counts as done but <paramref name="AfterEpoch"/> is not called for it.</param>
/// <param name="AfterEpoch">Called after every whole epoch with the state after it (its own immutable copy: keep it as long as
/// you like) and the epoch's losses; return false to stop there.</param>
public sealed record TrainObserver<T>(Func<StepReport, bool>? AfterStep = null, Func<TrainState<T>, EpochHistory, bool>? AfterEpoch = null)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The result of an observed fit: where it stopped and the epochs it completed.</summary>
/// <param name="State">The state after the last step taken. Mid-epoch, its <see cref="TrainState{T}.Epoch"/> is the unfinished epoch.</param>
/// <param name="History">The epochs completed (an epoch begun mid-way counts only the batches this call ran).</param>
/// <param name="Cursor">Batches of <c>State.Epoch</c> already done: 0 at an epoch boundary; pass it as <c>startIteration</c> to go on.</param>
public sealed record ObservedFit<T>(TrainState<T> State, History History, int Cursor) where T : unmanaged, IFloatingPointIeee754<T>;
