using System.Collections.Immutable;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Facade.Training;

/// <summary>Why a checkpoint was written; it tells <see cref="Fitter.Resume"/> whether anything is left to do.</summary>
public enum CheckpointReason
{
    /// <summary>Before the first batch: the initial state, so that a run killed at any moment can be resumed.</summary>
    Start,
    /// <summary>After a completed epoch (every <see cref="CheckpointOptions.EveryEpochs"/> epochs).</summary>
    Epoch,
    /// <summary>The cancellation token fired; the cursor points into the middle of an epoch.</summary>
    Cancelled,
    /// <summary>Every epoch ran; resuming only reproduces the outcome.</summary>
    Completed,
    /// <summary>Early stopping ended the fit; resuming only reproduces the outcome.</summary>
    EarlyStopped,
}

/// <summary>Where and how often <see cref="Fitter"/> writes checkpoints.</summary>
/// <param name="Path">The checkpoint file (e.g. <c>run/checkpoint.safetensors</c>). Each write replaces it atomically
/// (temporary file, flush to disk, rename), so the file on disk is always the last complete checkpoint.</param>
/// <param name="EveryEpochs">Write after every N-th completed epoch, N ≥ 1; default 1. A checkpoint is also written before the
/// first batch, when the fit ends (completed or early-stopped) and when it is cancelled (mid-epoch).</param>
/// <param name="Metadata">Extra string metadata stored with each checkpoint (the CLI keeps the experiment's config and the data's
/// SHA-256 there); keys must not collide with the checkpoint's own (<see cref="CheckpointFile.ReservedKeys"/>).</param>
/// <param name="Kinds">The user kinds (layers, loss, optimizer states) the checkpoints hold, or null for the built-in ones only;
/// an unregistered user type makes the first write fail with a message that names it.</param>
public sealed record CheckpointOptions(string Path, int EveryEpochs = 1, ImmutableDictionary<string, string>? Metadata = null, Models.KindRegistry? Kinds = null)
{
    /// <summary>The kinds the checkpoint may hold besides the built-in ones (a user's layers, loss and optimizer states).</summary>
    public Models.KindRegistry Kinds { get; } = Kinds ?? Models.KindRegistry.BuiltIn;

    /// <summary>The path, checked non-empty.</summary>
    public string Path { get; } = !string.IsNullOrWhiteSpace(Path) ? Path : throw new ArgumentException("the checkpoint path must not be empty", nameof(Path));

    /// <summary>The interval in epochs, checked ≥ 1.</summary>
    public int EveryEpochs { get; } = EveryEpochs >= 1 ? EveryEpochs : throw new ArgumentOutOfRangeException(nameof(EveryEpochs), EveryEpochs, "checkpoint interval must be ≥ 1 epoch");

    /// <summary>The extra metadata (empty when none was given).</summary>
    public ImmutableDictionary<string, string> Metadata { get; } = Metadata ?? ImmutableDictionary<string, string>.Empty;
}

/// <summary>A fit caught between two batches: everything <see cref="Fitter.Resume"/> needs to finish it with the same bits as
/// an uninterrupted fit.</summary>
/// <remarks>
/// <para>Exactness rests on the core's keys: the state's <see cref="TrainState{T}.Key"/> never changes, epoch e's order depends
/// only on (key, e) and step t's dropout only on (key, t). So continuing from (parameters, optimizer state, step, epoch, cursor)
/// replays exactly the batches and masks the uninterrupted fit would have used; the partial-epoch accumulators and the history
/// make the reports and the early-stopping decisions the same too.</para>
/// </remarks>
/// <param name="State">Parameters, optimizer state, step, completed epochs and the run's key.</param>
/// <param name="Cursor">Batches of epoch <c>State.Epoch</c> already done (0 at an epoch boundary).</param>
/// <param name="IterationsPerEpoch">Batches per epoch, for checking that the data and batch size are the same on resume.</param>
/// <param name="EpochLossSum">Σ batch loss × batch rows over the <paramref name="Cursor"/> batches done in this epoch.</param>
/// <param name="EpochExamples">Examples seen in this epoch so far.</param>
/// <param name="History">Every completed epoch's report.</param>
/// <param name="IterationLosses">Every iteration's loss so far.</param>
/// <param name="BestValLoss">The lowest validation loss so far (+∞ before the first validation).</param>
/// <param name="BestEpoch">Its 1-based epoch (0 before the first validation).</param>
/// <param name="SinceBest">Epochs since the best one (early stopping's patience counter).</param>
/// <param name="BestParams">The best epoch's parameters (kept only with early stopping; else the state's).</param>
/// <param name="Reason">Why it was written.</param>
/// <param name="Examples">Training examples processed so far (for throughput reports).</param>
/// <param name="Seconds">Training wall time so far.</param>
/// <param name="Options">The fit's options as they were (checkpoint interval and iteration reports excluded).</param>
/// <param name="Architecture">The model's architecture as JSON (<see cref="Models.SpecJson"/>).</param>
/// <param name="Optimizer">The optimizer's description (its <c>ToString()</c>), compared on resume.</param>
/// <param name="Metadata">The caller's extra metadata (<see cref="CheckpointOptions.Metadata"/>).</param>
public sealed record FitCheckpoint(
    TrainState<float> State,
    int Cursor,
    int IterationsPerEpoch,
    double EpochLossSum,
    int EpochExamples,
    ImmutableArray<EpochReport> History,
    ImmutableArray<double> IterationLosses,
    double BestValLoss,
    int BestEpoch,
    int SinceBest,
    ParamTree<float> BestParams,
    CheckpointReason Reason,
    long Examples,
    double Seconds,
    FitOptions Options,
    string Architecture,
    string Optimizer,
    ImmutableDictionary<string, string> Metadata)
{
    /// <summary>The best epoch's layer state (running statistics) under early stopping, for a model whose layers carry state;
    /// null otherwise.</summary>
    public ParamTree<float>? BestLayerState { get; init; }

    /// <summary>True when the fit this checkpoint belongs to has ended (completed or early-stopped).</summary>
    public bool Finished => Reason is CheckpointReason.Completed or CheckpointReason.EarlyStopped;

    /// <summary>Reads and validates a checkpoint file (see <see cref="CheckpointFile.Read"/>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="Data.DataFormatException">The file is not a complete, self-consistent NeuralPure checkpoint.</exception>
    public static FitCheckpoint Read(string path, Models.KindRegistry? kinds = null) => CheckpointFile.Read(path, kinds);

    /// <summary>Writes the checkpoint atomically (see <see cref="CheckpointFile.Write"/>).</summary>
    public void Write(string path, Models.KindRegistry? kinds = null) => CheckpointFile.Write(path, this, kinds);
}
