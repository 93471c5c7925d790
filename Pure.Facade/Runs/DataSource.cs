using NeuralPure.Facade.Data;

namespace NeuralPure.Facade.Runs;

/// <summary>Resolves an experiment's <c>--data</c>: a bundled name, a CSV file, or IDX images with labels.</summary>
public static class DataSource
{
    /// <summary>Loads the data the config names.</summary>
    /// <exception cref="ArgumentException">An unknown bundled name (listing the known ones), IDX images without labels, or an option
    /// that does not apply to the data: labels, a separator or a header for a bundled set; a target, a separator or a header for IDX data.</exception>
    /// <exception cref="FileNotFoundException">A named file does not exist.</exception>
    /// <exception cref="DataFormatException">The file's content is invalid (the message names line and column).</exception>
    /// <param name="config">The experiment (its data, labels, target, task, separator and header options).</param>
    /// <param name="classNames">The classes to encode the labels against (a model's, for evaluate and replay), or null to take the data's own.</param>
    public static TabularData Load(ExperimentConfig config, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var task = config.Task switch { "classification" => TaskKind.Classification, "regression" => TaskKind.Regression, _ => (TaskKind?)null };
        if (!LooksLikeFile(config.Data))
        {
            var t = BundledDataSets.Load(config.Data);
            RefuseWhatDoesNotApply(config, $"the bundled data set '{t.Name}'",
                ("--labels", config.Labels is not null, "its labels come with it (--labels is for IDX images)"),
                ("--separator", config.Separator is not null, "it is not read from a CSV file"),
                (HeaderOption(config), config.Header is not null, "it is not read from a CSV file"));
            if (classNames is not null && !classNames.SequenceEqual(t.ClassNames))
                throw new ArgumentException($"the bundled data set '{t.Name}' has classes [{string.Join(", ", t.ClassNames)}], not [{string.Join(", ", classNames)}]", nameof(classNames));
            if (config.Target is { } target && target != t.TargetName)
                throw new ArgumentException($"--target {target}: the bundled data set '{t.Name}' predicts '{t.TargetName}'; to predict another column, train on a CSV file of it", nameof(config));
            if (task is { } k && k != t.Task) throw new ArgumentException($"data set '{config.Data}' is {t.Task.ToString().ToLowerInvariant()}, not {config.Task}", nameof(config));
            return t;
        }
        if (!File.Exists(config.Data)) throw new FileNotFoundException($"data file '{config.Data}' does not exist", config.Data);
        if (config.Labels is not null || IsIdx(config.Data))
        {
            if (config.Labels is null) throw new ArgumentException($"'{config.Data}' is an IDX images file; give its labels with --labels", nameof(config));
            RefuseWhatDoesNotApply(config, $"IDX data ('{Path.GetFileName(config.Data)}' with --labels)",
                ("--target", config.Target is not null, "the labels file is the target"),
                ("--separator", config.Separator is not null, "IDX files are not CSV"),
                (HeaderOption(config), config.Header is not null, "IDX files are not CSV"));
            if (!File.Exists(config.Labels)) throw new FileNotFoundException($"labels file '{config.Labels}' does not exist", config.Labels);
            return IdxData.Load(config.Data, config.Labels, Path.GetFileName(config.Data), classNames);
        }
        return CsvReader.Load(config.Data, new CsvOptions
        {
            Target = config.Target, Task = task, ClassNames = classNames, HasHeader = config.Header,
            Separator = config.Separator is { } sep ? CsvOptions.ParseSeparator(sep) : null,
        });
    }

    /// <summary>Refuses an option given for data it does not apply to: it would be ignored, and recorded as if it had acted.</summary>
    private static void RefuseWhatDoesNotApply(ExperimentConfig config, string data, params (string Option, bool Given, string Why)[] options)
    {
        foreach (var (option, given, why) in options)
            if (given) throw new ArgumentException($"{option} does not apply to {data}: {why}; leave it out", nameof(config));
    }

    private static string HeaderOption(ExperimentConfig config) => config.Header is true ? "--header" : "--no-header";

    /// <summary>Where <c>--data</c> (or <c>--labels</c>) points: <c>bundled:&lt;name&gt;</c> for a bundled data set, else the file's full path.</summary>
    public static string Resolve(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!LooksLikeFile(data))
        {
            try { return BundledPrefix + BundledDataSets.GetInfo(data).Name; }
            catch (ArgumentException) { return data; }
        }
        return Path.GetFullPath(data);
    }

    private static bool LooksLikeFile(string data) => data.Contains('/') || data.Contains('\\') || data.Contains('.') || File.Exists(data);

    /// <summary>Whether <see cref="Load"/> reads <paramref name="data"/> as a bundled data set's name: no slash or dot, and no file here.</summary>
    internal static bool NamesBundledSet(string data) => !LooksLikeFile(data);

    /// <summary>How <see cref="Resolve"/> records a bundled data set: <c>bundled:&lt;name&gt;</c>.</summary>
    internal const string BundledPrefix = "bundled:";

    private static bool IsIdx(string path)
    {
        var name = Path.GetFileName(path).ToLowerInvariant();
        return name.Contains("idx") || name.EndsWith(".ubyte") || name.EndsWith("-ubyte.gz");
    }
}
