using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;

namespace NeuralPure.Cli;

/// <summary>One trial of a sweep file: the façade's trial (index, name, settings, seed, config), the <c>train</c> options that
/// give it (what <c>neuralpure train</c> would be called with), the config as train validated it, and the checkpoint interval.</summary>
internal sealed record SweepTrialSpec(SweepTrial Trial, ImmutableArray<string> TrainArgs, ValidatedConfig Validated, int CheckpointEvery);

/// <summary>A sweep file read and expanded: every trial checked by <c>train</c>'s own parser and validation.</summary>
/// <remarks>
/// The file: <c>{"base": {...}, "axes": {"lr": [...], ...}, "seeds": [1, 2], "mode": "grid"}</c>. The keys of <c>base</c> and
/// <c>axes</c> are <c>train</c>'s option names without the dashes (<c>lr</c>, <c>batch-size</c>, <c>data</c>, …); a value is a
/// string or a number as it would be written after the option, <c>true</c>/<c>false</c> for a flag (<c>nesterov</c>), a list of
/// numbers for <c>layers</c>, or null for the default. <c>mode</c> is <c>grid</c> (default: every combination, the last axis
/// fastest) or <c>zip</c> (the i-th value of every axis together). <c>seeds</c> default to the base's seed (42).
/// </remarks>
internal sealed record SweepFile(string Path, bool Zip, ImmutableArray<string> Axes, ImmutableArray<SweepTrialSpec> Trials)
{
    /// <summary>train's options a sweep may not set: the sweep decides where each trial goes and what it prints.</summary>
    private static readonly string[] Managed = ["out", "force", "json", "seed"];

    private static readonly string[] TopLevel = ["base", "axes", "seeds", "mode"];

    /// <summary>Reads and expands a sweep file; every problem is a <see cref="UsageException"/> naming the key, the trial or the line.</summary>
    public static SweepFile Load(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"sweep file '{path}' does not exist");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"cannot read sweep file '{path}': {e.Message}"); }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            var what = e.Message.Split(" Path: ")[0].Split(" LineNumber: ")[0].TrimEnd(' ', '|', '.');
            throw new UsageException($"{path}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: {what}");
        }
        using (doc) return Expand(path, doc.RootElement);
    }

    private static SweepFile Expand(string path, JsonElement root)
    {
        UsageException Bad(string message) => new($"{path}: {message}");
        if (root.ValueKind != JsonValueKind.Object) throw Bad("a sweep file is a JSON object with \"base\", \"axes\" and \"seeds\"");
        var top = Properties(root, "the sweep file", Bad);
        foreach (var key in top.Keys)
            if (!TopLevel.Contains(key)) throw Bad($"unknown key \"{key}\" at the top level; a sweep file has {string.Join(", ", TopLevel.Select(k => $"\"{k}\""))}");

        var train = TrainCommand.Create();
        var options = train.Options.ToDictionary(o => o.Name.TrimStart('-'), o => o, StringComparer.Ordinal);
        Option Known(string key, string where)
        {
            if (key == "seed") throw Bad($"\"seed\" in {where}: list the seeds in \"seeds\" instead (e.g. \"seeds\": [1, 2, 3])");
            if (Managed.Contains(key)) throw Bad($"\"{key}\" in {where}: the sweep sets --{key} itself (each trial's folder is <--out>/<trial name>)");
            if (options.TryGetValue(key, out var o)) return o;
            var near = Suggest(key, options.Keys.Where(k => !Managed.Contains(k)).ToList());
            throw Bad($"unknown option \"{key}\" in {where} (did you mean \"{near}\"?); the keys are train's options: {string.Join(", ", options.Keys.Where(k => !Managed.Contains(k)))}");
        }

        var baseArgs = new List<(string Key, JsonElement Value)>();
        if (top.TryGetValue("base", out var baseNode))
        {
            if (baseNode.ValueKind != JsonValueKind.Object) throw Bad("\"base\" must be an object of train options, e.g. {\"data\": \"iris\", \"epochs\": 30}");
            foreach (var (key, value) in Properties(baseNode, "\"base\"", Bad)) { Known(key, "\"base\""); baseArgs.Add((key, value)); }
        }

        var axes = new List<(string Key, ImmutableArray<JsonElement> Values)>();
        if (top.TryGetValue("axes", out var axesNode))
        {
            if (axesNode.ValueKind != JsonValueKind.Object) throw Bad("\"axes\" must be an object of option: [values], e.g. {\"lr\": [0.001, 0.01]}");
            foreach (var (key, value) in Properties(axesNode, "\"axes\"", Bad))
            {
                Known(key, "\"axes\"");
                if (baseArgs.Any(b => b.Key == key)) throw Bad($"\"{key}\" is both in \"base\" and in \"axes\"; give it in one of them");
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0) throw Bad($"axis \"{key}\" must be a non-empty list of values, e.g. \"{key}\": [a, b]");
                axes.Add((key, [.. value.EnumerateArray()]));
            }
        }

        bool zip = false;
        if (top.TryGetValue("mode", out var modeNode))
        {
            var mode = modeNode.ValueKind == JsonValueKind.String ? modeNode.GetString() : null;
            zip = mode switch
            {
                "grid" => false,
                "zip" => true,
                _ => throw Bad($"\"mode\" must be \"grid\" (every combination) or \"zip\" (the i-th values together), got {modeNode.GetRawText()}"),
            };
        }

        ImmutableArray<ulong> seeds = [new ExperimentConfig().Seed];
        if (top.TryGetValue("seeds", out var seedsNode))
        {
            if (seedsNode.ValueKind != JsonValueKind.Array || seedsNode.GetArrayLength() == 0) throw Bad("\"seeds\" must be a non-empty list of whole numbers ≥ 0, e.g. [1, 2, 3]");
            var list = new List<ulong>();
            foreach (var s in seedsNode.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.Number || !s.TryGetUInt64(out var seed)) throw Bad($"\"seeds\" holds {s.GetRawText()}: a seed is a whole number from 0 to {ulong.MaxValue}");
                if (list.Contains(seed)) throw Bad($"\"seeds\" lists {seed} twice");
                list.Add(seed);
            }
            seeds = [.. list];
        }

        ImmutableArray<ImmutableArray<int>> combos;
        try { combos = Sweep.Combinations([.. axes.Select(a => a.Values.Length)], zip); }
        catch (ArgumentException) { throw Bad($"\"mode\": \"zip\" needs axes of the same length, got {string.Join(", ", axes.Select(a => $"{a.Key}: {a.Values.Length}"))}"); }

        var trials = ImmutableArray.CreateBuilder<SweepTrialSpec>();
        foreach (var combo in combos)
        {
            var settings = axes.Select((a, i) => KeyValuePair.Create(a.Key, Label(a.Values[combo[i]]))).ToImmutableArray();
            foreach (var seed in seeds)
            {
                int index = trials.Count;
                string who = $"trial {index} ({string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}").Append($"seed {seed}"))})";
                var args = new List<string>();
                foreach (var (key, value) in baseArgs) AddArg(args, options[key], key, value, $"\"base\"", Bad);
                for (int a = 0; a < axes.Count; a++) AddArg(args, options[axes[a].Key], axes[a].Key, axes[a].Values[combo[a]], $"axis \"{axes[a].Key}\"", Bad);
                args.Add("--seed"); args.Add(seed.ToString(CultureInfo.InvariantCulture));
                var parsed = train.Parse(args);
                if (parsed.Errors.Count > 0) throw Bad($"{who}: {Program.Plain(parsed.Errors[0].Message)}");
                ValidatedConfig validated;
                try { validated = TrainCommand.ConfigFrom(parsed); }
                catch (UsageException e) { throw Bad($"{who}: {e.Message}"); }
                int every = parsed.GetValue(TrainCommand.CheckpointEvery);
                if (every < 1) throw Bad($"{who}: checkpoint-every must be ≥ 1 in a sweep (an interrupted trial resumes from its checkpoint), got {every}");
                var config = validated.Config;
                // The line's syntax now, not when its trial runs (its shapes need the data, which train's plan checks).
                if (config.Arch is { } arch)
                    try { NeuralPure.Facade.Networks.Arch.CheckSyntax(arch); }
                    catch (ArgumentException e) { throw Bad($"{who}: {e.Message.Split(" (Parameter")[0]}"); }
                var trial = new SweepTrial(index, Sweep.TrialName(settings, seed, config), settings, seed, config);
                trials.Add(new SweepTrialSpec(trial, [.. args], validated, every));
            }
        }
        var names = trials.GroupBy(t => t.Trial.Name).FirstOrDefault(g => g.Count() > 1);
        if (names is not null) throw Bad($"trials {string.Join(" and ", names.Select(t => t.Trial.Index))} are the same experiment ({names.Key}): an axis lists a value twice");
        // The same config under two spellings (0.01 and 1e-2, null and the default): one experiment run and reported twice.
        var same = trials.GroupBy(t => Sweep.ConfigHash(t.Trial.Config)).FirstOrDefault(g => g.Count() > 1);
        if (same is not null)
            throw Bad($"trials {string.Join(" and ", same.Select(t => $"{t.Trial.Index} ({t.Trial.Name})"))} are the same experiment (config sha256 {same.Key[..12]}…): an axis lists one value twice in different spellings");
        return new SweepFile(path, zip, [.. axes.Select(a => a.Key)], trials.ToImmutable());
    }

    private static Dictionary<string, JsonElement> Properties(JsonElement o, string where, Func<string, UsageException> bad)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in o.EnumerateObject())
            if (!d.TryAdd(p.Name, p.Value)) throw bad($"\"{p.Name}\" appears twice in {where}");
        return d;
    }

    /// <summary>The value's label in trial names and reports: a string as is, a number as written, a list comma-separated.</summary>
    private static string Label(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Array => string.Join(",", v.EnumerateArray().Select(Label)),
        JsonValueKind.Null => "default",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => v.GetRawText(),
    };

    private static void AddArg(List<string> args, Option option, string key, JsonElement value, string where, Func<string, UsageException> bad)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null: return; // the default
            case JsonValueKind.True when option is Option<bool>: args.Add(option.Name); return;
            case JsonValueKind.False when option is Option<bool>: return;
            case JsonValueKind.True or JsonValueKind.False: throw bad($"\"{key}\" in {where} is {value.GetRawText()}, but --{key} takes a value, not true/false");
            case JsonValueKind.String or JsonValueKind.Number when option is Option<bool>:
                throw bad($"\"{key}\" in {where} is {value.GetRawText()}, but --{key} is a flag: give true or false");
            case JsonValueKind.String: args.Add(option.Name); args.Add(value.GetString()!); return;
            case JsonValueKind.Number: args.Add(option.Name); args.Add(value.GetRawText()); return;
            case JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind is JsonValueKind.Number or JsonValueKind.String):
                args.Add(option.Name); args.Add(Label(value)); return;
            default: throw bad($"\"{key}\" in {where} is {Short(value.GetRawText())}: a value is a string, a number, true/false or a list of numbers");
        }
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>The option meant: the key in kebab case (batchSize, batch_size: batch-size), a config field's long name
    /// (learning-rate: lr), or the nearest by edit distance.</summary>
    private static string Suggest(string key, List<string> known)
    {
        var kebab = string.Concat(key.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c == '_' ? "-" : c.ToString()));
        if (known.Contains(kebab)) return kebab;
        if (kebab is "learning-rate" or "learningrate") return "lr";
        return known.OrderBy(k => Distance(k, kebab)).First();
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    /// <summary>The manifest written into the sweep's folder (<c>sweep.json</c>): what <c>sweep report</c> reads.</summary>
    public JsonObject Manifest() => new()
    {
        ["format"] = ManifestFormat,
        ["source"] = System.IO.Path.GetFullPath(Path),
        ["mode"] = Zip ? "zip" : "grid",
        ["axes"] = new JsonArray([.. Axes.Select(a => (JsonNode?)a)]),
        ["trials"] = new JsonArray([.. Trials.Select(t => (JsonNode?)new JsonObject
        {
            ["index"] = t.Trial.Index,
            ["name"] = t.Trial.Name,
            ["seed"] = t.Trial.Seed,
            ["settings"] = new JsonObject([.. t.Trial.Settings.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]),
            ["train"] = new JsonArray([.. t.TrainArgs.Select(a => (JsonNode?)a)]),
        })]),
    };

    /// <summary>The manifest's format tag.</summary>
    public const string ManifestFormat = "neuralpure-sweep/1";

    /// <summary>The manifest's file name inside the sweep's folder.</summary>
    public const string ManifestName = "sweep.json";
}
