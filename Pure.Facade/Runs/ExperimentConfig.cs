using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralPure.Facade.Runs;

/// <summary>Every choice of an experiment, defaults included: with the data and the seed, it determines the run bit for bit.</summary>
/// <param name="Data">A bundled data set name (digits, iris, breast-cancer, auto-mpg), a CSV path, or an IDX images file (with <paramref name="Labels"/>).</param>
/// <param name="Labels">The IDX labels file, when <paramref name="Data"/> is IDX images.</param>
/// <param name="Target">CSV target column name (default: the last column).</param>
/// <param name="Task">classification or regression (default: inferred, or the bundled set's).</param>
/// <param name="Layers">Hidden layer widths (default: one hidden layer of 64).</param>
/// <param name="Activation">Hidden activation (default relu).</param>
/// <param name="Init">Initializer name (default pytorch: U(±1/√fan_in), as torch.nn.Linear).</param>
/// <param name="Loss">Loss name (default: cross-entropy for classification, mse for regression).</param>
/// <param name="Optimizer">sgd (PyTorch's SGD: momentum, dampening, Nesterov), momentum, nesterov, adam (default), adamw, rmsprop, adagrad, lion, adamax, nadam, radam.</param>
/// <param name="LearningRate">Learning rate (default 1e-3).</param>
/// <param name="WeightDecay">Weight decay (default: the optimizer's; 0.01 for adamw as PyTorch, else 0).</param>
/// <param name="Momentum">Momentum (sgd, momentum, nesterov, rmsprop; default: 0.9 for momentum/nesterov, else 0).</param>
/// <param name="Schedule">Learning-rate schedule (default constant).</param>
/// <param name="ClipNorm">Gradient clipping by global norm (default none).</param>
/// <param name="Dropout">Dropout rate after each hidden activation (default 0).</param>
/// <param name="BatchSize">Batch size (default 32).</param>
/// <param name="Epochs">Epochs (default 30).</param>
/// <param name="Seed">Seed (default 42).</param>
/// <param name="Threads">Threads for the kernels (default 0: all cores). Results are bit-identical for any value.</param>
/// <param name="ValFraction">Validation fraction (default 0.1).</param>
/// <param name="TestFraction">Test fraction (default 0.2).</param>
/// <param name="EarlyStopping">Patience in epochs, or null (default) for none.</param>
/// <param name="MinDelta">Early stopping's minimum improvement (default 0).</param>
/// <param name="Dampening">SGD's momentum dampening τ (sgd and momentum only; default 0, as PyTorch).</param>
/// <param name="Separator">CSV field separator (one character, "tab", "semicolon", …; default: detected among , ; tab |).</param>
/// <param name="Header">Whether a CSV's first line is a header (default: detected; a first line of numbers is read as data, with a notice).</param>
/// <param name="LrDecay">Adagrad's learning-rate decay (adagrad only; default 0).</param>
/// <param name="NoDecay">Parameter names (globs, comma-separated: "bias", "0.*") kept out of the weight decay (default: none; decay all, as PyTorch).</param>
/// <param name="Accumulate">Batches per update, gradient accumulation (default 1: none).</param>
/// <param name="Arch">The model in one line instead of an MLP (<see cref="Networks.Arch"/>: <c>conv(32,3,pad=1),relu,maxpool(2),flatten,dense(128),relu</c>);
/// null: the MLP of <paramref name="Layers"/>, <paramref name="Activation"/>, <paramref name="Init"/> and <paramref name="Dropout"/>.</param>
/// <param name="LabelSmoothing">Cross-entropy's label smoothing ε in [0, 1] (PyTorch's <c>label_smoothing</c>; default 0: none); cross-entropy only.</param>
/// <param name="Nesterov">SGD's Nesterov form (sgd only; default false, as PyTorch; the nesterov optimizer is sgd with it and momentum 0.9).</param>
public sealed record ExperimentConfig(
    string Data = "digits",
    string? Labels = null,
    string? Target = null,
    string? Task = null,
    ImmutableArray<int> Layers = default,
    string Activation = "relu",
    string Init = "pytorch",
    string? Loss = null,
    string Optimizer = "adam",
    double LearningRate = 1e-3,
    double? WeightDecay = null,
    double? Momentum = null,
    string Schedule = "constant",
    double? ClipNorm = null,
    double Dropout = 0,
    int BatchSize = 32,
    int Epochs = 30,
    ulong Seed = 42,
    int Threads = 0,
    double ValFraction = 0.1,
    double TestFraction = 0.2,
    int? EarlyStopping = null,
    double MinDelta = 0,
    double? Dampening = null,
    bool? Nesterov = null,
    string? Separator = null,
    bool? Header = null,
    double? LrDecay = null,
    string? NoDecay = null,
    int Accumulate = 1,
    string? Arch = null,
    double LabelSmoothing = 0)
{
    /// <summary>Hidden widths, with the default applied.</summary>
    public ImmutableArray<int> Layers { get; init; } = Layers.IsDefault ? [64] : Layers;

    /// <summary>The JSON options of run files (camelCase, indented).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The config as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FacadeJson.Run.ExperimentConfig);

    /// <summary>A config from its JSON (<see cref="ToJson"/>'s form, as run records and checkpoints hold it), read without
    /// reflection, so it reads the same in a trimmed or NativeAOT application.</summary>
    /// <exception cref="JsonException">The text is not JSON of a config, or is JSON <c>null</c>.</exception>
    public static ExperimentConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize(json, FacadeJson.Run.ExperimentConfig) ?? throw new JsonException("the config is null");
    }

    /// <summary>Element-wise equality of the layers.</summary>
    public bool Equals(ExperimentConfig? other) => other is not null && ToJson() == other.ToJson();

    /// <inheritdoc/>
    public override int GetHashCode() => ToJson().GetHashCode(StringComparison.Ordinal);

    /// <summary>Checks every value, naming the first bad one; the result is the proof that it was checked, which
    /// <see cref="Experiment.Plan(ValidatedConfig, Data.TabularData)"/> takes so that nothing checks it again.</summary>
    /// <exception cref="ArgumentException">A value is out of range (its message names the option and the value).</exception>
    public ValidatedConfig Validate()
    {
        if (string.IsNullOrWhiteSpace(Data)) throw new ArgumentException("--data must name a data set or a file", nameof(Data));
        if (Layers.Any(w => w < 1)) throw new ArgumentException($"--layers must be widths ≥ 1, got {string.Join(",", Layers)}", nameof(Layers));
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentException($"--lr must be a positive number, got {LearningRate}", nameof(LearningRate));
        if (WeightDecay is { } wd && (!(wd >= 0) || !double.IsFinite(wd))) throw new ArgumentException($"--weight-decay must be ≥ 0, got {wd}", nameof(WeightDecay));
        if (Momentum is { } m && !(m >= 0 && m < 1)) throw new ArgumentException($"--momentum must be in [0, 1), got {m}", nameof(Momentum));
        if (ClipNorm is { } c && (!(c > 0) || !double.IsFinite(c))) throw new ArgumentException($"--clip-norm must be positive, got {c}", nameof(ClipNorm));
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"--dropout must be in [0, 1), got {Dropout}", nameof(Dropout));
        if (Dropout > 0 && Arch is null && Layers.IsEmpty)
            throw new ArgumentException($"--dropout {Dropout} acts on hidden layers, but --layers none is a linear model (one dense layer from the features to the outputs)", nameof(Dropout));
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be ≥ 1, got {BatchSize}", nameof(BatchSize));
        if (Epochs < 1) throw new ArgumentException($"--epochs must be ≥ 1, got {Epochs}", nameof(Epochs));
        if (Threads < 0) throw new ArgumentException($"--threads must be ≥ 0 (0: all cores), got {Threads}", nameof(Threads));
        if (!(ValFraction >= 0 && ValFraction < 1)) throw new ArgumentException($"--val-fraction must be in [0, 1), got {ValFraction}", nameof(ValFraction));
        if (!(TestFraction >= 0 && TestFraction < 1)) throw new ArgumentException($"--test-fraction must be in [0, 1), got {TestFraction}", nameof(TestFraction));
        if (ValFraction + TestFraction >= 1) throw new ArgumentException($"--val-fraction {ValFraction} and --test-fraction {TestFraction} leave nothing to train on", nameof(ValFraction));
        if (EarlyStopping is { } p && p < 1) throw new ArgumentException($"--early-stopping patience must be ≥ 1, got {p}", nameof(EarlyStopping));
        if (EarlyStopping is not null && ValFraction == 0)
            throw new ArgumentException("--early-stopping watches the validation loss, but --val-fraction is 0: give a validation fraction such as 0.1", nameof(EarlyStopping));
        if (Separator is not null)
        {
            try { _ = NeuralPure.Facade.Data.CsvOptions.ParseSeparator(Separator); }
            catch (ArgumentException e) { throw new ArgumentException($"--separator: {e.Message.Split(" (Parameter")[0]}", nameof(Separator), e); }
        }
        if (Arch is not null && Arch.Trim().Length == 0) throw new ArgumentException("--arch is empty: give layers like dense(64),relu, or leave --arch out for an MLP", nameof(Arch));
        if (Accumulate < 1) throw new ArgumentException($"--accumulate must be ≥ 1 (batches per update), got {Accumulate}", nameof(Accumulate));
        if (!(LabelSmoothing >= 0 && LabelSmoothing <= 1)) throw new ArgumentException($"--label-smoothing must be in [0, 1], got {LabelSmoothing}", nameof(LabelSmoothing));
        if (LabelSmoothing > 0 && Loss is not null && Loss != "cross-entropy")
            throw new ArgumentException($"--label-smoothing applies to --loss cross-entropy, not {Loss}", nameof(LabelSmoothing));
        if (LrDecay is { } ld && (!(ld >= 0) || !double.IsFinite(ld))) throw new ArgumentException($"--lr-decay must be ≥ 0, got {ld}", nameof(LrDecay));
        if (NoDecay is not null && NoDecayPatterns.IsEmpty) throw new ArgumentException("--no-decay is empty: give parameter names or globs such as bias or 0.*", nameof(NoDecay));
        if (Dampening is { } dm && !(dm >= 0 && dm <= 1)) throw new ArgumentException($"--dampening must be in [0, 1], got {dm}", nameof(Dampening));
        if (Task is not null and not "classification" and not "regression") throw new ArgumentException($"--task must be classification or regression, got '{Task}'", nameof(Task));
        _ = NeuralPure.Layers.ActivationSpec.Parse(Activation);
        _ = NeuralPure.Layers.Initializer.Parse(Init);
        if (Loss is not null) _ = NeuralPure.Losses.LossSpec.Parse(Loss);
        RequireOptimizerTakes();
        try { _ = ToOptimizerOptions().Build(100); }
        catch (ArgumentException e) when (e.ParamName == "NoDecay")
        {
            throw new ArgumentException($"--no-decay {NoDecay} would do nothing: --optimizer {Optimizer} has no weight decay here; give --weight-decay", nameof(NoDecay), e);
        }
        catch (ArgumentException e) when (e.ParamName == "nesterov")
        {
            // sgd --nesterov, or the nesterov optimizer, with no momentum: plain SGD that would be recorded as Nesterov's
            string given = $"--optimizer {Optimizer}{(Nesterov is true ? " --nesterov" : "")}{(Momentum is { } mu ? $" --momentum {mu}" : "")}";
            throw new ArgumentException($"{given}: {e.Message.Split(" (Parameter")[0]}", nameof(Nesterov), e);
        }
        return new ValidatedConfig(this);
    }

    /// <summary>The optimizer options this config describes (null options take the optimizer's defaults).</summary>
    public Training.OptimizerOptions ToOptimizerOptions() =>
        new(Optimizer, LearningRate, WeightDecay ?? double.NaN, Momentum ?? double.NaN, Schedule, ClipNorm, Dampening ?? double.NaN, Nesterov, LrDecay ?? double.NaN,
            NoDecayPatterns, Accumulate);

    /// <summary>The --no-decay globs, split at commas.</summary>
    [JsonIgnore]
    public ImmutableArray<string> NoDecayPatterns => NoDecay is null ? [] : [.. NoDecay.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>Refuses an optimizer option the chosen optimizer does not take (it would be silently ignored), naming both.</summary>
    private void RequireOptimizerTakes()
    {
        var takes = NeuralPure.Optimizers.Optimizer.OptionsOf(Optimizer);
        (string Name, string Option, bool Given)[] options =
            [("weightDecay", "--weight-decay", WeightDecay is not null), ("momentum", "--momentum", Momentum is not null),
             ("dampening", "--dampening", Dampening is not null), ("nesterov", "--nesterov", Nesterov is not null), ("lrDecay", "--lr-decay", LrDecay is not null)];
        foreach (var (name, option, given) in options)
            if (given && !takes.Contains(name))
                throw new ArgumentException(
                    $"{option} does not apply to --optimizer {Optimizer}; it takes --lr, --schedule, --clip-norm{string.Concat(options.Where(o => takes.Contains(o.Name)).Select(o => ", " + o.Option))}",
                    name);
    }
}

/// <summary>An <see cref="ExperimentConfig"/> that <see cref="ExperimentConfig.Validate"/> has checked (only it makes one).</summary>
public sealed class ValidatedConfig
{
    internal ValidatedConfig(ExperimentConfig config) => Config = config;

    /// <summary>The checked config (records are immutable, so it stays checked).</summary>
    public ExperimentConfig Config { get; }
}
