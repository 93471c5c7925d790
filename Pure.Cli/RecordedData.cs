using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;

namespace NeuralPure.Cli;

/// <summary>Finds a recorded run's data wherever the command runs from: <c>--data</c>/<c>--labels</c> when given, else the
/// recorded path as given (bundled names, or paths relative to the working directory), else the path relative to the run
/// folder (so a moved tree works), else the absolute path recorded at training time.</summary>
internal static class RecordedData
{
    /// <summary>The config with its Data and Labels pointing at files that exist (or left as recorded when none does, so the load names it).</summary>
    public static ExperimentConfig Locate(ExperimentConfig config, string runFolder, JsonNode? recordedData, string? dataOverride, string? labelsOverride)
    {
        string Pick(string given, string? relative, string? resolved)
        {
            if (!given.Contains('/') && !given.Contains('\\') && !given.Contains('.') && !File.Exists(given)) return given; // bundled
            if (File.Exists(given)) return given;
            if (relative is not null && File.Exists(Path.Combine(runFolder, relative))) return Path.Combine(runFolder, relative);
            if (resolved is not null && File.Exists(resolved)) return resolved;
            return given;
        }
        string? S(string key) => recordedData?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var data = dataOverride ?? Pick(config.Data, S("relativeToRun"), S("resolved"));
        var labels = labelsOverride ?? (config.Labels is { } l ? Pick(l, S("labelsRelativeToRun"), S("labelsResolved")) : null);
        return config with { Data = data, Labels = labels };
    }
}
