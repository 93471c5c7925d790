using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NeuralPure.Facade.Runs;

/// <summary>One option varied by a sweep: its name (as the trial names show it), the values' labels, and how a value changes a config.</summary>
/// <param name="Name">The option's name, e.g. <c>lr</c>.</param>
/// <param name="Labels">Each value as text (invariant culture), in order; the trial names are made of these.</param>
/// <param name="Apply">Sets the value of the given position on a config.</param>
public sealed record SweepAxis(string Name, ImmutableArray<string> Labels, Func<ExperimentConfig, int, ExperimentConfig> Apply)
{
    /// <summary>An axis of typed values: <c>SweepAxis.Of("lr", (c, v) =&gt; c with { LearningRate = v }, 0.003, 0.01, 0.03)</c>.</summary>
    public static SweepAxis Of<T>(string name, Func<ExperimentConfig, T, ExperimentConfig> apply, params T[] values)
    {
        ArgumentNullException.ThrowIfNull(apply); ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToImmutableArray();
        return new SweepAxis(name, [.. copy.Select(v => Sweep.Label(v))], (c, i) => apply(c, copy[i]));
    }
}

/// <summary>One trial of a sweep: a pure function of its config (the seed included).</summary>
/// <param name="Index">Its position in the sweep: configurations in axis order (the last axis fastest), the seeds innermost.</param>
/// <param name="Name">A stable name derived from the configuration: the varied values, the seed and a short hash of the whole config
/// (a file-name-safe string; the folder a sweep writes the trial to).</param>
/// <param name="Settings">The varied options and their values, in axis order.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Config">The experiment.</param>
public sealed record SweepTrial(int Index, string Name, ImmutableArray<KeyValuePair<string, string>> Settings, ulong Seed, ExperimentConfig Config)
{
    /// <summary>The configuration's label without the seed (the trials of one configuration over several seeds share it).</summary>
    public string ConfigurationLabel => Settings.Length == 0 ? "base" : string.Join(" ", Settings.Select(s => $"{s.Key}={s.Value}"));
}

/// <summary>Sweeps: the trials of a grid (or zip) of option values times seeds, each a pure function of its config and seed, so a trial
/// gives the same bits wherever and whenever it runs.</summary>
public static class Sweep
{
    /// <summary>The value combinations: the grid (every combination, the last axis fastest) or, with <paramref name="zip"/>, the i-th value
    /// of every axis together (all axes the same length). No axes: one empty combination.</summary>
    /// <exception cref="ArgumentException">An axis has no values, or zipped axes differ in length.</exception>
    public static ImmutableArray<ImmutableArray<int>> Combinations(IReadOnlyList<int> axisLengths, bool zip)
    {
        ArgumentNullException.ThrowIfNull(axisLengths);
        for (int a = 0; a < axisLengths.Count; a++)
            if (axisLengths[a] < 1) throw new ArgumentException($"axis {a + 1} has no values", nameof(axisLengths));
        if (axisLengths.Count == 0) return [[]];
        if (zip)
        {
            if (axisLengths.Distinct().Count() > 1) throw new ArgumentException($"zipped axes must have the same number of values, got {string.Join(", ", axisLengths)}", nameof(axisLengths));
            return [.. Enumerable.Range(0, axisLengths[0]).Select(i => Enumerable.Repeat(i, axisLengths.Count).ToImmutableArray())];
        }
        var all = ImmutableArray.CreateBuilder<ImmutableArray<int>>();
        var at = new int[axisLengths.Count];
        while (true)
        {
            all.Add([.. at]);
            int k = at.Length - 1;
            while (k >= 0 && ++at[k] == axisLengths[k]) at[k--] = 0;
            if (k < 0) return all.ToImmutable();
        }
    }

    /// <summary>The trials: every combination of <paramref name="axes"/> applied to <paramref name="baseConfig"/>, times every seed.</summary>
    /// <exception cref="ArgumentException">No seeds, a repeated seed, an empty axis, or zipped axes of different lengths.</exception>
    public static ImmutableArray<SweepTrial> Trials(ExperimentConfig baseConfig, IReadOnlyList<SweepAxis> axes, IReadOnlyList<ulong> seeds, bool zip = false)
    {
        ArgumentNullException.ThrowIfNull(baseConfig); ArgumentNullException.ThrowIfNull(axes); ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("a sweep needs at least one seed", nameof(seeds));
        if (seeds.Distinct().Count() != seeds.Count) throw new ArgumentException("the seeds repeat", nameof(seeds));
        var trials = ImmutableArray.CreateBuilder<SweepTrial>();
        foreach (var combo in Combinations([.. axes.Select(a => a.Labels.Length)], zip))
        {
            var config = baseConfig;
            for (int a = 0; a < axes.Count; a++) config = axes[a].Apply(config, combo[a]);
            var settings = axes.Select((a, i) => KeyValuePair.Create(a.Name, a.Labels[combo[i]])).ToImmutableArray();
            foreach (var seed in seeds)
            {
                var c = config with { Seed = seed };
                trials.Add(new SweepTrial(trials.Count, TrialName(settings, seed, c), settings, seed, c));
            }
        }
        return trials.ToImmutable();
    }

    /// <summary>Runs the trials, <paramref name="jobs"/> at a time; the results in trial order, each bit for bit what
    /// <see cref="Experiment.Run(ExperimentConfig, IProgress{Training.EpochReport}?, IProgress{Training.IterationReport}?, CancellationToken)"/> gives for its config alone.</summary>
    public static ImmutableArray<ExperimentResult> Run(IReadOnlyList<SweepTrial> trials, int jobs = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        var results = new ExperimentResult[trials.Count];
        Parallel.For(0, trials.Count, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancellationToken },
            i => results[i] = Experiment.Run(trials[i].Config, cancellationToken: cancellationToken));
        return [.. results];
    }

    /// <summary>A value's label: numbers in the invariant culture's round-trip form, booleans lower case, lists comma-separated.</summary>
    public static string Label<T>(T value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        string s => s,
        System.Collections.IEnumerable e => string.Join(",", e.Cast<object?>().Select(o => Label(o))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A trial's name: <c>lr=0.01_optimizer=sgd_seed=2-1a2b3c4d</c>, the settings (characters outside letters, digits and
    /// <c>.,=+()-</c> replaced by <c>~</c>, a long value shortened, the whole at most 160 characters), the seed, and the first 8 hex digits of the SHA-256 of the config's JSON
    /// (threads set to 0: they never change the bits), so that two different configs never share a name.</summary>
    public static string TrialName(IEnumerable<KeyValuePair<string, string>> settings, ulong seed, ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(settings); ArgumentNullException.ThrowIfNull(config);
        var parts = settings.Select(s => $"{Safe(s.Key, 24)}={Safe(s.Value, 40)}").Append($"seed={seed.ToString(CultureInfo.InvariantCulture)}");
        var readable = string.Join("_", parts);
        if (readable.Length > MaxReadable) readable = readable[..(MaxReadable - 1)] + "~"; // file names stop at 255 bytes; the hash keeps it unique
        return $"{readable}-{ConfigHash(config)[..8]}";
    }

    /// <summary>The SHA-256 (hex) of the config's JSON with threads set to 0.</summary>
    public static string ConfigHash(ExperimentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((config with { Threads = 0 }).ToJson())));
    }

    private const int MaxReadable = 160;

    private static string Safe(string text, int max)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text) sb.Append(char.IsAsciiLetterOrDigit(ch) || ".,=+()-".Contains(ch, StringComparison.Ordinal) ? ch : '~');
        var s = sb.ToString();
        return s.Length <= max ? s : s[..(max - 1)] + "~";
    }
}
