using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;

namespace NeuralPure.Cli;

/// <summary>Finds a recorded run's data wherever the command runs from: <c>--data</c>/<c>--labels</c> when given, else the
/// recorded path as given (bundled names, as the record's <c>resolved</c> says, or paths relative to the working directory), else the path relative to the run
/// folder (so a moved tree works), else the absolute path recorded at training time.</summary>
internal static class RecordedData
{
    /// <summary>The config with its Data and Labels pointing at files that exist (or, when none does, as recorded, or its recorded full path for a bare file name, so the load names the missing file).</summary>
    public static ExperimentConfig Locate(ExperimentConfig config, string runFolder, JsonNode? recordedData, string? dataOverride, string? labelsOverride)
    {
        string Pick(string given, string? relative, string? resolved)
        {
            // The record says whether the run read a bundled set (resolved "bundled:<name>"); a file's name may hold no dot or
            // slash (train-images-idx3-ubyte, a CSV without extension), so the name alone does not. Records without a resolved
            // value fall back to the name.
            bool bundled = resolved is null ? DataSource.NamesBundledSet(given)
                : resolved.StartsWith(DataSource.BundledPrefix, StringComparison.Ordinal);
            if (bundled) return given;
            if (File.Exists(given)) return given;
            if (relative is not null && File.Exists(Path.Combine(runFolder, relative))) return Path.Combine(runFolder, relative);
            if (resolved is not null && File.Exists(resolved)) return resolved;
            // found nowhere: a bare name would be loaded as a bundled set, so the load is given the recorded full path to name as missing
            return resolved is not null && given.IndexOfAny(['/', '\\', '.']) < 0 ? resolved : given;
        }
        string? S(string key) => recordedData?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var data = dataOverride ?? Pick(config.Data, S("relativeToRun"), S("resolved"));
        var labels = labelsOverride ?? (config.Labels is { } l ? Pick(l, S("labelsRelativeToRun"), S("labelsResolved")) : null);
        return config with { Data = data, Labels = labels };
    }
}
