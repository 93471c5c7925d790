using NeuralPure.Numerics;
using NeuralPure.Optimizers;

namespace NeuralPure.Facade.Training;

/// <summary>An optimizer described by options, with documented defaults (PyTorch's, except where noted).</summary>
/// <param name="Name">sgd, momentum, nesterov, adam (default), adamw, rmsprop, adagrad, lion, adamax, nadam, radam.</param>
/// <param name="LearningRate">Peak learning rate; default 1e-3.</param>
/// <param name="WeightDecay">Weight decay; NaN takes the optimizer's default (0.01 for AdamW, as PyTorch; 0 otherwise).</param>
/// <param name="Momentum">Momentum; NaN takes the default (0.9 for momentum/nesterov, 0 for rmsprop).</param>
/// <param name="Schedule">constant (default), cosine, warmup-cosine (5% warm-up), step (×0.1 at each third), exponential (to 1% at the end), onecycle.</param>
/// <param name="ClipNorm">Clip gradients to this global norm first; null: no clipping.</param>
/// <param name="Dampening">SGD's momentum dampening (sgd, momentum); NaN: 0.</param>
/// <param name="Nesterov">SGD's Nesterov form (sgd); null: off.</param>
/// <param name="LrDecay">Adagrad's learning-rate decay (adagrad); NaN: 0.</param>
/// <param name="NoDecay">Parameter-name globs kept out of the weight decay (say "bias"); empty: decay everything, as PyTorch.</param>
/// <param name="Accumulate">Micro-batches per update (gradient accumulation); 1: none.</param>
/// <remarks>An option the named optimizer does not take (say, a momentum for adam) is refused by <see cref="Build"/> (see <see cref="Optimizer.OptionsOf"/>).
/// The transform is <c>MultiSteps(WithoutDecayOn(Chain(ClipByGlobalNorm, alias), NoDecay), Accumulate)</c>, each part only when asked for:
/// clipping sees the accumulated mean, as when PyTorch users clip before <c>optimizer.step()</c>.</remarks>
public sealed record OptimizerOptions(string Name = "adam", double LearningRate = 1e-3, double WeightDecay = double.NaN, double Momentum = double.NaN,
    string Schedule = "constant", double? ClipNorm = null, double Dampening = double.NaN, bool? Nesterov = null, double LrDecay = double.NaN,
    System.Collections.Immutable.ImmutableArray<string> NoDecay = default, int Accumulate = 1)
{
    /// <summary>The no-decay globs (empty by default).</summary>
    public System.Collections.Immutable.ImmutableArray<string> NoDecay { get; init; } = NoDecay.IsDefault ? [] : NoDecay;

    /// <summary>Micro-batches per update, checked ≥ 1.</summary>
    public int Accumulate { get; init; } = Accumulate >= 1 ? Accumulate : throw new ArgumentOutOfRangeException(nameof(Accumulate), Accumulate, "accumulation needs at least 1 micro-batch per update");

    /// <summary>The learning rate, checked.</summary>
    public double LearningRate { get; } = LearningRate > 0 && double.IsFinite(LearningRate) ? LearningRate
        : throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "the learning rate must be a positive finite number");

    /// <summary>The schedule of the learning rate over <paramref name="totalSteps"/> updates.</summary>
    /// <exception cref="ArgumentException">Unknown schedule name.</exception>
    public Schedule BuildSchedule(long totalSteps)
    {
        long total = Math.Max(2, totalSteps);
        return Schedule.ToLowerInvariant() switch
        {
            "constant" => new Schedule.Constant(LearningRate),
            "cosine" => new Schedule.Cosine(LearningRate, total),
            "warmup-cosine" => new Schedule.WarmupCosine(LearningRate, Math.Max(1, total / 20), total),
            "step" => new Schedule.StepDecay(LearningRate, Math.Max(1, total / 3), 0.1),
            "exponential" => new Schedule.Exponential(LearningRate, Elementary.Pow(0.01, 1.0 / total)),
            "onecycle" => new Schedule.OneCycle(LearningRate, total),
            _ => throw new ArgumentException($"unknown schedule '{Schedule}'; known: constant, cosine, warmup-cosine, step, exponential, onecycle", nameof(Schedule)),
        };
    }

    /// <summary>The optimizer as a core transform (see the remarks); <paramref name="totalSteps"/> counts real updates, for the schedule.</summary>
    /// <exception cref="ArgumentException">Unknown optimizer or schedule, or an option the optimizer does not take.</exception>
    public GradientTransform Build(long totalSteps)
    {
        var alias = Optimizer.Parse(Name, BuildSchedule(totalSteps), WeightDecay, Momentum, Dampening, Nesterov, LrDecay);
        var o = ClipNorm is { } c ? GradientTransform.Chain(new ClipByGlobalNorm(c), alias) : alias;
        if (!NoDecay.IsEmpty)
        {
            var masked = Optimizer.WithoutDecayOn(o, ParamMask.Matching([.. NoDecay]));
            if (masked.Equals(o)) throw new ArgumentException($"no-decay {string.Join(",", NoDecay)} would do nothing: {Name} here has no weight decay (give a weight decay, or leave no-decay out)", nameof(NoDecay));
            o = masked;
        }
        return Accumulate > 1 ? Optimizer.Accumulate(o, Accumulate) : o;
    }

    /// <summary>The weight decay actually used (the optimizer's default when NaN).</summary>
    public double EffectiveWeightDecay => double.IsNaN(WeightDecay) ? (Name.Equals("adamw", StringComparison.OrdinalIgnoreCase) ? 0.01 : 0) : WeightDecay;

    /// <summary>The momentum actually used (the optimizer's default when NaN).</summary>
    public double EffectiveMomentum => double.IsNaN(Momentum) ? (Name.ToLowerInvariant() is "momentum" or "nesterov" ? 0.9 : 0) : Momentum;
}

/// <summary>Early stopping on the validation loss.</summary>
/// <param name="Patience">Epochs without improvement before stopping, ≥ 1.</param>
/// <param name="MinDelta">The least decrease that counts as improvement; default 0.</param>
/// <param name="RestoreBest">Return the parameters of the best epoch (default true, as Keras's restore_best_weights=True would).</param>
public sealed record EarlyStopping(int Patience = 5, double MinDelta = 0, bool RestoreBest = true)
{
    /// <summary>Patience, checked.</summary>
    public int Patience { get; } = Patience >= 1 ? Patience : throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "patience must be ≥ 1");
    /// <summary>Minimum improvement, checked ≥ 0.</summary>
    public double MinDelta { get; } = MinDelta >= 0 && double.IsFinite(MinDelta) ? MinDelta : throw new ArgumentOutOfRangeException(nameof(MinDelta), MinDelta, "min delta must be a finite number ≥ 0");
}

/// <summary>How <see cref="Fitter"/> trains.</summary>
/// <param name="Epochs">Passes over the training data; default 20.</param>
/// <param name="BatchSize">Examples per iteration; default 32.</param>
/// <param name="Seed">The run's seed; default 42.</param>
/// <param name="Shuffle">Shuffle each epoch (keyed by seed and epoch); default true.</param>
/// <param name="DropLast">Drop each epoch's last, smaller batch; default false.</param>
/// <param name="EarlyStopping">Early stopping, or null (default) for none.</param>
/// <param name="ReportIterations">Also report every iteration; default false.</param>
/// <param name="Threads">Threads for the matrix products (0, the default: all cores). The bits do not depend on it.</param>
public sealed record FitOptions(int Epochs = 20, int BatchSize = 32, ulong Seed = 42, bool Shuffle = true, bool DropLast = false,
    EarlyStopping? EarlyStopping = null, bool ReportIterations = false, int Threads = 0)
{
    /// <summary>Threads, checked ≥ 0.</summary>
    public int Threads { get; } = Threads >= 0 ? Threads : throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be ≥ 0 (0: all cores)");

    /// <summary>Epochs, checked.</summary>
    public int Epochs { get; } = Epochs >= 1 ? Epochs : throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be ≥ 1");
    /// <summary>Batch size, checked.</summary>
    public int BatchSize { get; } = BatchSize >= 1 ? BatchSize : throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be ≥ 1");
}
