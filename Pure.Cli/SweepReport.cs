using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Plots;
using NeuralPure.Facade.Runs;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure sweep report &lt;folder&gt;</c>: reads the sweep's manifest and every trial's run.json, and writes per
/// configuration the mean, the sample standard deviation (n − 1) and the min–max over seeds of the test metric and the final
/// losses, and the mean examples/s; the best configuration (highest mean test metric: accuracy, or R² for regression; ties: the lower mean test loss); report.csv,
/// report.json, and SVG plots: the metric against each axis (mean with min and max over seeds) and the loss curves of the best
/// and worst configurations.</summary>
internal static class SweepReport
{
    /// <summary>One trial's figures, read from its run.json.</summary>
    internal sealed record TrialFigures(int Index, string Name, ulong Seed, string Status, double? Metric, double? TestLoss, double? TrainLoss,
        double? ValLoss, double ExamplesPerSecond, string ParameterHash, IReadOnlyList<double> TrainCurve);

    /// <summary>Mean, sample standard deviation (null for one value), min and max of the non-null values, and how many there were.</summary>
    internal sealed record Stats(int N, double? Mean, double? Std, double? Min, double? Max)
    {
        public static Stats Of(IEnumerable<double?> values)
        {
            var v = values.Where(x => x is { } d && double.IsFinite(d)).Select(x => x!.Value).ToList();
            if (v.Count == 0) return new Stats(0, null, null, null, null);
            double mean = v.Sum() / v.Count;
            double? std = v.Count < 2 ? null : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
            return new Stats(v.Count, mean, std, v.Min(), v.Max());
        }

        public JsonObject ToJson() => new() { ["n"] = N, ["mean"] = Mean, ["std"] = Std, ["min"] = Min, ["max"] = Max };

        public string Text => Mean is not { } m ? "—" : $"{Num(m)} ± {(Std is { } s ? Num(s) : "—")} ({Num(Min!.Value)}–{Num(Max!.Value)})";

        /// <summary>Four decimals, or three significant digits for the huge losses of a diverged run.</summary>
        private static string Num(double v) => Math.Abs(v) < 1e5 ? Fmt.N(v) : v.ToString("G3", CultureInfo.InvariantCulture);
    }

    internal sealed record Configuration(string Label, IReadOnlyList<KeyValuePair<string, string>> Settings, IReadOnlyList<TrialFigures> Trials, int Planned)
    {
        public Stats Metric => Stats.Of(Trials.Select(t => t.Metric));
        public Stats TestLoss => Stats.Of(Trials.Select(t => t.TestLoss));
        public Stats TrainLoss => Stats.Of(Trials.Select(t => t.TrainLoss));
        public Stats ValLoss => Stats.Of(Trials.Select(t => t.ValLoss));
        public Stats ExamplesPerSecond => Stats.Of(Trials.Select(t => (double?)t.ExamplesPerSecond));
    }

    public static int Run(string folder, bool json)
    {
        var manifestPath = Path.Combine(folder, SweepFile.ManifestName);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"sweep folder '{folder}' does not exist");
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"'{folder}' holds no {SweepFile.ManifestName}: it is not the --out of neuralpure sweep run", manifestPath);
        JsonObject manifest;
        try { manifest = JsonNode.Parse(File.ReadAllText(manifestPath)) as JsonObject ?? throw new System.Text.Json.JsonException("not an object"); }
        catch (System.Text.Json.JsonException e) { throw new DataFormatException(manifestPath, null, null, $"not a sweep manifest: {e.Message}", e); }
        if (manifest["format"]?.GetValue<string>() != SweepFile.ManifestFormat) throw DataFormatException.InField(manifestPath, "format", $"not a sweep manifest ({SweepFile.ManifestFormat})");

        var axes = (manifest["axes"] as JsonArray ?? []).Select(a => a!.GetValue<string>()).ToList();
        var planned = (manifest["trials"] as JsonArray ?? []).Select(t => t!.AsObject()).ToList();
        var figures = new List<(JsonObject Plan, TrialFigures? Figures)>();
        string? metricName = null;
        var dataOf = new List<(int Trial, string Sha256)>();
        foreach (var t in planned)
        {
            var name = t["name"]!.GetValue<string>();
            var record = Path.Combine(folder, name, "run.json");
            TrialFigures? f = null;
            if (File.Exists(record))
            {
                var r = RunRecord.ReadJson(record);
                var status = r["status"]?.GetValue<string>() ?? "?";
                if (status != "cancelled")
                {
                    dataOf.Add((t["index"]!.GetValue<int>(), r["data"]?["sha256"]?.GetValue<string>() ?? "?"));
                    var test = r["test"] as JsonObject;
                    bool classification = r["data"]?["task"]?.GetValue<string>() == "classification";
                    metricName ??= classification ? "test accuracy" : "test R²";
                    var history = (r["history"] as JsonArray ?? []).Select(h => h!.AsObject()).ToList();
                    double? D(JsonNode? n) => n is null ? null : n.GetValue<double>();
                    f = new TrialFigures(t["index"]!.GetValue<int>(), name, t["seed"]!.GetValue<ulong>(), status,
                        D(test?[classification ? "accuracy" : "r2"]), D(test?["loss"]),
                        history.Count > 0 ? D(history[^1]["trainLoss"]) : null, history.Count > 0 ? D(history[^1]["valLoss"]) : null,
                        r["examplesPerSecond"]!.GetValue<double>(), r["parameters"]!["sha256"]!.GetValue<string>(),
                        [.. history.Select(h => D(h["trainLoss"]) ?? double.NaN)]);
                }
            }
            figures.Add((t, f));
        }
        var datas = dataOf.GroupBy(d => d.Sha256).ToList();
        if (datas.Count > 1)
            throw new InvalidOperationException($"the trials in '{folder}' ran on different data ({string.Join("; ", datas.Select(g => $"sha256 {g.Key[..Math.Min(12, g.Key.Length)]}… for trial{(g.Count() > 1 ? "s" : "")} {string.Join(", ", g.Select(d => d.Trial).Take(8))}{(g.Count() > 8 ? ", …" : "")}"))}): their figures do not compare; move the trials of the other data away and rerun them");
        metricName ??= "test metric";
        var configurations = figures
            .GroupBy(x => string.Join(" ", axes.Select(a => $"{a}={x.Plan["settings"]![a]!.GetValue<string>()}")))
            .Select(g => new Configuration(g.Key.Length == 0 ? "base" : g.Key,
                [.. axes.Select(a => KeyValuePair.Create(a, g.First().Plan["settings"]![a]!.GetValue<string>()))],
                [.. g.Where(x => x.Figures is not null).Select(x => x.Figures!)], g.Count()))
            .ToList();
        int done = configurations.Sum(c => c.Trials.Count);
        if (done == 0) throw new InvalidOperationException($"no trial in '{folder}' has finished yet; run neuralpure sweep run first");
        var ranked = configurations.Where(c => c.Metric.Mean is not null).ToList();
        var best = ranked.OrderByDescending(c => c.Metric.Mean!.Value).ThenBy(c => c.TestLoss.Mean ?? double.PositiveInfinity).FirstOrDefault(); // ties: the lower test loss
        var worst = ranked.OrderBy(c => c.Metric.Mean!.Value).ThenByDescending(c => c.TestLoss.Mean ?? double.PositiveInfinity).FirstOrDefault();

        var report = ToJson(folder, metricName, axes, configurations, best, worst, planned.Count, done);
        AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), report.ToJsonString(ExperimentConfig.JsonOptions) + "\n");
        AtomicFile.WriteAllText(Path.Combine(folder, "report.csv"), Csv(metricName, axes, configurations));
        var plots = Plots(folder, metricName, axes, configurations, best, worst);
        if (json)
        {
            Console.WriteLine(report.ToJsonString(ExperimentConfig.JsonOptions));
            return 0;
        }
        Console.WriteLine($"sweep {folder}: {done} of {planned.Count} trials finished; {metricName} (higher is better): mean ± std (min–max) over seeds");
        var header = new[] { "configuration", "seeds", metricName, "test loss", "final train loss", "final val loss", "examples/s" };
        var rows = configurations.Select(c => new[]
        {
            c.Label, c.Trials.Count == c.Planned ? $"{c.Trials.Count}" : $"{c.Trials.Count}/{c.Planned}", c.Metric.Text, c.TestLoss.Text, c.TrainLoss.Text, c.ValLoss.Text,
            c.ExamplesPerSecond.Mean is { } e ? Fmt.Rate(e) : "—",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows) Console.WriteLine(string.Join("  ", r.Select((x, i) => x.PadRight(widths[i]))).TrimEnd());
        foreach (var c in configurations.Where(c => c.Trials.Any(t => t.Status == "diverged")))
            Console.WriteLine($"note: {c.Label}: {c.Trials.Count(t => t.Status == "diverged")} of {c.Trials.Count} seeds diverged");
        if (best is not null)
            Console.WriteLine($"best: {best.Label} ({metricName} {Fmt.N(best.Metric.Mean!.Value)}{(best.Metric.Std is { } s ? $" ± {Fmt.N(s)}" : "")} over {best.Metric.N} seed{(best.Metric.N == 1 ? "" : "s")})");
        Console.WriteLine($"wrote {Path.Combine(folder, "report.json")}, report.csv, {string.Join(", ", plots)}");
        return 0;
    }

    private static JsonObject ToJson(string folder, string metric, List<string> axes, List<Configuration> configurations, Configuration? best, Configuration? worst, int planned, int done) => new()
    {
        ["format"] = "neuralpure-sweep-report/1",
        ["folder"] = Path.GetFullPath(folder),
        ["metric"] = metric,
        ["higherIsBetter"] = true,
        ["trials"] = planned,
        ["finished"] = done,
        ["axes"] = new JsonArray([.. axes.Select(a => (JsonNode?)a)]),
        ["best"] = best?.Label,
        ["worst"] = worst?.Label,
        ["configurations"] = new JsonArray([.. configurations.Select(c => (JsonNode?)new JsonObject
        {
            ["label"] = c.Label,
            ["settings"] = new JsonObject([.. c.Settings.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))]),
            ["planned"] = c.Planned,
            ["finished"] = c.Trials.Count,
            ["metric"] = c.Metric.ToJson(),
            ["testLoss"] = c.TestLoss.ToJson(),
            ["finalTrainLoss"] = c.TrainLoss.ToJson(),
            ["finalValLoss"] = c.ValLoss.ToJson(),
            ["examplesPerSecond"] = c.ExamplesPerSecond.ToJson(),
            ["trials"] = new JsonArray([.. c.Trials.Select(t => (JsonNode?)new JsonObject
            {
                ["index"] = t.Index, ["name"] = t.Name, ["seed"] = t.Seed, ["status"] = t.Status, ["metric"] = t.Metric, ["testLoss"] = t.TestLoss,
                ["finalTrainLoss"] = t.TrainLoss, ["finalValLoss"] = t.ValLoss, ["examplesPerSecond"] = t.ExamplesPerSecond, ["parameterSha256"] = t.ParameterHash,
            })]),
        })]),
    };

    private static string R(double? v) => v is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string CsvField(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static string Csv(string metric, List<string> axes, List<Configuration> configurations)
    {
        var sb = new StringBuilder();
        var stats = new[] { "metric", "test_loss", "final_train_loss", "final_val_loss" };
        sb.Append(string.Join(",", new[] { "configuration" }.Concat(axes).Append("seeds").Append("metric_name")
            .Concat(stats.SelectMany(s => new[] { $"{s}_mean", $"{s}_std", $"{s}_min", $"{s}_max" })).Append("examples_per_second_mean").Select(CsvField))).Append('\n');
        foreach (var c in configurations)
        {
            var fields = new List<string> { c.Label };
            fields.AddRange(c.Settings.Select(s => s.Value));
            fields.Add(c.Trials.Count.ToString(CultureInfo.InvariantCulture));
            fields.Add(metric);
            foreach (var s in new[] { c.Metric, c.TestLoss, c.TrainLoss, c.ValLoss }) fields.AddRange([R(s.Mean), R(s.Std), R(s.Min), R(s.Max)]);
            fields.Add(R(c.ExamplesPerSecond.Mean));
            sb.Append(string.Join(",", fields.Select(CsvField))).Append('\n');
        }
        return sb.ToString();
    }

    private static List<string> Plots(string folder, string metric, List<string> axes, List<Configuration> configurations, Configuration? best, Configuration? worst)
    {
        var written = new List<string>();
        var axisOrder = axes.Select(a => configurations.Select(c => c.Settings.First(s => s.Key == a).Value).Distinct().ToList()).ToList();
        for (int a = 0; a < axes.Count; a++)
        {
            var values = axisOrder[a];
            bool numeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            double X(string v) => numeric ? double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture) : values.IndexOf(v) + 1;
            var xs = values.Select(X).ToList();
            bool log = numeric && xs.All(x => x > 0) && xs.Max() / xs.Min() >= 10;
            var series = new List<LineSeries>();
            // one line per combination of the other axes: the mean over seeds, and thin lines for the min and the max
            var groups = configurations.GroupBy(c => string.Join(" ", c.Settings.Where(s => s.Key != axes[a]).Select(s => $"{s.Key}={s.Value}")));
            foreach (var g in groups)
            {
                var points = g.OrderBy(c => X(c.Settings.First(s => s.Key == axes[a]).Value)).ToList();
                var px = points.Select(c => X(c.Settings.First(s => s.Key == axes[a]).Value)).ToList();
                string prefix = g.Key.Length == 0 ? "" : g.Key + ": ";
                series.Add(new LineSeries($"{prefix}mean", px, [.. points.Select(c => c.Metric.Mean ?? double.NaN)]));
                series.Add(new LineSeries($"{prefix}min", px, [.. points.Select(c => c.Metric.Min ?? double.NaN)]) { Width = 1, Opacity = 0.5 });
                series.Add(new LineSeries($"{prefix}max", px, [.. points.Select(c => c.Metric.Max ?? double.NaN)]) { Width = 1, Opacity = 0.5 });
            }
            string file = $"metric-{Safe(axes[a])}.svg";
            string xLabel = numeric ? axes[a] : $"{axes[a]} ({string.Join(", ", values.Select((v, i) => $"{i + 1} = {v}"))})";
            LinePlot.Write(Path.Combine(folder, file), $"{metric} against {axes[a]} (mean, min and max over seeds)", xLabel, metric, series,
                new LinePlotOptions { LogX = log });
            written.Add(file);
        }
        if (best is not null && worst is not null)
        {
            var series = new List<LineSeries>();
            foreach (var (what, c) in best == worst ? new[] { ("best", best) } : [("best", best), ("worst", worst)])
                foreach (var t in c.Trials)
                    series.Add(new LineSeries($"{what}: {c.Label} seed {t.Seed}", LinePlot.OneTo(t.TrainCurve.Count), t.TrainCurve));
            LinePlot.Write(Path.Combine(folder, "loss-best-worst.svg"), "training loss per epoch: the best and the worst configuration", "epoch", "train loss", series);
            written.Add("loss-best-worst.svg");
        }
        return written;
    }

    private static string Safe(string s) => new([.. s.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_')]);
}
