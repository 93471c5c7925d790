using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Evaluation;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Spectre.Console;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure replay run.json</c>: re-runs a recorded experiment and checks everything the record holds.</summary>
internal static class ReplayCommand
{
    internal static readonly Option<string?> DataOverride = new("--data") { Description = "The run's data at another path (its sha256 must match the record's)" };
    internal static readonly Option<string?> LabelsOverride = new("--labels") { Description = "The run's IDX labels at another path" };

    public static Command Create()
    {
        var file = new Argument<string>("run") { Description = "A run.json written by neuralpure train (or its folder)" };
        var cmd = new Command("replay", "Re-run a recorded experiment; prints 'identical' when parameters, history, test metrics and status all match bit for bit")
        { file, DataOverride, LabelsOverride };
        cmd.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            if (Directory.Exists(path)) path = Path.Combine(path, "run.json");
            if (!File.Exists(path)) throw new FileNotFoundException($"run record '{path}' does not exist", path);
            var recorded = RunRecord.ReadJson(path);
            var (config, dataSha, _, _) = RunRecord.Read(path);
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            config = RecordedData.Locate(config, folder, recorded["data"], p.GetValue(DataOverride), p.GetValue(LabelsOverride));
            var names = recorded["data"]?["classNames"] is JsonArray a ? a.Select(n => n!.GetValue<string>()).ToList() : null;
            var data = TrainCommand.LoadData(config, names);
            if (data.Sha256 != dataSha)
            {
                Console.Error.WriteLine($"neuralpure: the data '{config.Data}' differs from the recorded run's (sha256 {data.Sha256[..12]}… vs recorded {dataSha[..Math.Min(12, dataSha.Length)]}…); point --data at the run's data");
                return Program.Failure;
            }
            ValidatedConfig validated;
            try { validated = config.Validate(); } catch (ArgumentException e) { throw DataFormatException.InField(path, "config", $"the recorded config is invalid: {Program.OneLine(e)}", e); }
            var result = Experiment.Run(TrainCommand.Plan(validated, data));
            var now = JsonNode.Parse(RunRecord.ToJson(result).ToJsonString());
            var differences = RunRecord.Differences(recorded, now);
            if (differences.Count == 0) { Console.WriteLine("identical"); return 0; }
            Console.WriteLine($"different: {differences[0]}");
            foreach (var d in differences.Skip(1)) Console.WriteLine($"  also {d}");
            return Program.Failure;
        });
        return cmd;
    }
}

/// <summary><c>neuralpure evaluate &lt;run folder&gt;</c> (the run's own test split) or <c>evaluate --model … --data …</c> (every row).</summary>
internal static class EvaluateCommand
{
    internal static readonly Option<string> ModelPath = new("--model") { Description = "A model.safetensors written by neuralpure train" };
    internal static readonly Option<bool> AllRows = new("--all-rows") { Description = "Score every row of the data, the model's training rows included" };

    public static Command Create()
    {
        var run = new Argument<string?>("run") { Description = "A run folder (or its run.json): scores that run's own test split, reproduced from the record", Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "With a run folder: the run's data at another path. With --model: the data to score (every row)" };
        var cmd = new Command("evaluate", "Score a trained model: a run's own test split, or every row of a data set")
        { run, ModelPath, data, TrainCommand.Labels, TrainCommand.Target, TrainCommand.Separator, TrainCommand.NoHeader, TrainCommand.Header, AllRows };
        cmd.SetAction(p =>
        {
            var runArg = p.GetValue(run);
            var modelArg = p.GetValue(ModelPath);
            bool all = p.GetValue(AllRows);
            if (runArg is null == modelArg is null)
                throw new UsageException("give a run folder (scores its test split) or --model with --data (scores every row), not both or neither");
            TrainedModel model;
            ExperimentConfig config;
            int[] rows;
            string what;
            TabularData table;
            if (runArg is not null)
            {
                foreach (var (option, given) in new (string, bool)[] { ("--target", p.GetValue(TrainCommand.Target) is not null), ("--separator", p.GetValue(TrainCommand.Separator) is not null),
                    ("--header", p.GetValue(TrainCommand.Header)), ("--no-header", p.GetValue(TrainCommand.NoHeader)) })
                    if (given) throw new UsageException($"{option} does not apply to evaluate <run>: the run's record says how its data is read; to read other data your way, give --model and --data");
                var path = Directory.Exists(runArg) ? Path.Combine(runArg, "run.json") : runArg;
                if (!File.Exists(path)) throw new FileNotFoundException($"run record '{path}' does not exist", path);
                var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
                var recorded = RunRecord.ReadJson(path);
                var (recordedConfig, dataSha, _, _) = RunRecord.Read(path);
                (model, _) = LoadModel(Path.Combine(folder, "model.safetensors"));
                config = RecordedData.Locate(recordedConfig, folder, recorded["data"], p.GetValue(data), p.GetValue(TrainCommand.Labels));
                table = TrainCommand.LoadData(config, Names(model));
                if (table.Sha256 != dataSha)
                    throw new InvalidOperationException($"the data '{config.Data}' differs from the run's (sha256 {table.Sha256[..12]}… vs recorded {dataSha[..Math.Min(12, dataSha.Length)]}…); point --data at the run's data");
                var split = DataSplit.Create(table.Rows, recordedConfig.ValFraction, recordedConfig.TestFraction, recordedConfig.Seed);
                if (all) { rows = [.. Enumerable.Range(0, table.Rows)]; what = $"all {table.Rows} rows, the model's {split.Train.Length} training rows included"; }
                else
                {
                    if (split.Test.IsEmpty)
                        throw new UsageException($"the run in '{folder}' kept no test split ({(recordedConfig.TestFraction == 0 ? "--test-fraction 0" : Experiment.EmptySplit("--test-fraction", recordedConfig.TestFraction, table.Rows, "test"))}); "
                            + "pass --all-rows to score every row, training rows included");
                    rows = [.. split.Test];
                    what = $"the run's test split, {rows.Length} rows (seed {recordedConfig.Seed}, test fraction {recordedConfig.TestFraction}, reproduced from the record)";
                }
            }
            else
            {
                if (p.GetValue(data) is not { } dataArg) throw new UsageException("--model needs --data: the data to score");
                string? trainedOn;
                (model, var configJson) = LoadModel(modelArg!);
                trainedOn = configJson is null ? null : ExperimentConfig.FromJson(configJson).Data;
                config = new ExperimentConfig(dataArg, p.GetValue(TrainCommand.Labels), p.GetValue(TrainCommand.Target) ?? model.TargetName,
                    model.Task == TaskKind.Classification ? "classification" : "regression", Separator: p.GetValue(TrainCommand.Separator), Header: TrainCommand.HeaderFrom(p));
                if (!all && trainedOn is not null && DataSource.Resolve(trainedOn) == DataSource.Resolve(dataArg))
                    throw new UsageException($"'{dataArg}' is the data this model was trained on, so scoring it counts its training rows too; "
                        + "give the run folder (neuralpure evaluate <run>) to score its test split, or --all-rows to score every row anyway");
                table = TrainCommand.LoadData(config, Names(model));
                if (PredictCommand.ReadsByName(config.Data, config.Labels)) table = PredictCommand.InModelOrder(table, model, config.Data); // as predict reads it
                rows = [.. Enumerable.Range(0, table.Rows)];
                what = all ? $"all {table.Rows} rows, any the model was trained on included" : $"all {table.Rows} rows";
            }
            if (table.Features != model.Spec.InputWidth)
                throw new UsageException($"the model takes {model.Spec.InputWidth} features but '{config.Data}' has {table.Features}");
            var flat = model.Standardizer.ToDataSet(table, rows);
            var set = new NeuralPure.Training.DataSet<float>(model.Shaped(flat.X), flat.Y);
            Console.WriteLine($"{table.Name}: {what}");
            if (model.Task == TaskKind.Classification)
            {
                var m = Evaluate.Classification(model.Spec, model.Parameters, set, model.LayerState);
                Console.WriteLine($"  loss {Fmt.N(m.Loss)}  accuracy {Fmt.N(m.Accuracy)}");
                var t = new Table().AddColumn("class").AddColumn("precision").AddColumn("recall");
                for (int c = 0; c < m.Precision.Length; c++) t.AddRow(Markup.Escape(model.ClassNames[c]), Fmt.N(m.Precision[c], 3), Fmt.N(m.Recall[c], 3));
                AnsiConsole.Write(t);
                Console.WriteLine($"confusion matrix (rows: actual, columns: predicted; classes {string.Join(", ", model.ClassNames)}):");
                foreach (var row in m.Confusion) Console.WriteLine("  " + string.Join(" ", row.Select(v => v.ToString(CultureInfo.InvariantCulture).PadLeft(4))));
            }
            else
            {
                var m = Evaluate.Regression(model.Spec, model.Parameters, set, model.Standardizer, model.LayerState);
                Console.WriteLine($"  MSE {Fmt.N(m.Mse)}  RMSE {Fmt.N(m.Rmse)}  MAE {Fmt.N(m.Mae)}  R² {Fmt.N(m.R2)}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The model's class names to encode data labels against (null for regression).</summary>
    internal static IReadOnlyList<string>? Names(TrainedModel model) => model.Task == TaskKind.Classification ? model.ClassNames : null;

    internal static (TrainedModel, string?) LoadModel(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        return ModelFile.Load(path);
    }
}

/// <summary><c>neuralpure predict --model … --data in.csv --out out.csv</c>.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--data") { Description = "What train takes: a CSV with a header holding the model's feature columns (by name; others are ignored), a bundled data set, or IDX images (--labels not needed)", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the predictions (CSV); never the --data file, and an existing file only with --force", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing --out file (never the --data file itself)" };
        var cmd = new Command("predict", "Predict with a saved model: writes the feature columns, the predicted class (by name) and each class's probability, or the predicted value")
        { EvaluateCommand.ModelPath, input, TrainCommand.Labels, TrainCommand.Separator, output, force };
        cmd.SetAction(p =>
        {
            var modelPath = p.GetValue(EvaluateCommand.ModelPath) ?? throw new UsageException("predict needs --model: a model.safetensors written by neuralpure train");
            var (model, _) = EvaluateCommand.LoadModel(modelPath);
            var inPath = p.GetValue(input)!;
            var outPath = p.GetValue(output)!;
            OutputPath.RequireFile("--out", outPath);
            bool bundled = DataSource.NamesBundledSet(inPath);
            if (!bundled && !File.Exists(inPath)) throw new FileNotFoundException($"data file '{inPath}' does not exist", inPath);
            if (!bundled && SameFile(inPath, outPath)) throw new UsageException($"--out '{outPath}' is the --data file itself; predictions never overwrite their input");
            if (p.GetValue(TrainCommand.Labels) is { } lb && SameFile(lb, outPath)) throw new UsageException($"--out '{outPath}' is the --labels file; predictions never overwrite their input");
            OutputPath.RequireNewOrForced("--out", outPath, p.GetValue(force));
            int rows; double[] values;
            if (!ReadsByName(inPath, p.GetValue(TrainCommand.Labels)))
            {
                var table = TrainCommand.LoadData(new ExperimentConfig(inPath, p.GetValue(TrainCommand.Labels), Separator: p.GetValue(TrainCommand.Separator)), EvaluateCommand.Names(model));
                if (table.Features != model.Spec.InputWidth) throw new UsageException($"the model takes {model.Spec.InputWidth} features but '{inPath}' has {table.Features}");
                (rows, values) = (table.Rows, [.. table.X]);
            }
            else if (IsIdxImages(inPath))
            {
                // images alone: predicting needs no labels
                var images = IdxReader.ReadImages(inPath);
                if (images.PixelsPerImage != model.Spec.InputWidth)
                    throw new UsageException($"the model takes {model.Spec.InputWidth} features but '{inPath}' holds {images.Rows}×{images.Cols} images ({images.PixelsPerImage} pixels)");
                (rows, values) = (images.Count, [.. images.Pixels.Select(b => (double)b)]);
            }
            else (rows, values) = ReadFeatures(inPath, model.FeatureNames, p.GetValue(TrainCommand.Separator) is { } sep ? TrainCommand.ParseSeparator(sep) : null);
            var sb = new StringBuilder();
            sb.Append(string.Join(",", model.FeatureNames.Select(Csv))).Append(',').Append(Csv(model.TargetName));
            bool classification = model.Task == TaskKind.Classification;
            if (classification) foreach (var c in model.ClassNames) sb.Append(',').Append(Csv($"p({c})"));
            sb.Append('\n');
            var classes = classification ? model.PredictClasses(values, rows) : null;
            var probabilities = classification ? model.PredictProbabilities(values, rows) : null;
            var numbers = classification ? null : model.Predict(values, rows);
            int f = model.FeatureNames.Length;
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < f; j++) sb.Append(values[i * f + j].ToString("R", CultureInfo.InvariantCulture)).Append(',');
                if (classification)
                {
                    sb.Append(Csv(classes![i]));
                    for (int c = 0; c < model.Classes; c++) sb.Append(',').Append(probabilities![i * model.Classes + c].ToString("R", CultureInfo.InvariantCulture));
                }
                else sb.Append(numbers![i].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
            AtomicFile.WriteAllText(outPath, sb.ToString());
            Console.WriteLine(classification
                ? $"wrote {rows} predictions ({model.TargetName}: one of {string.Join(", ", model.ClassNames)}, with each class's probability) to {outPath}"
                : $"wrote {rows} predictions of {model.TargetName} to {outPath}");
            return 0;
        });
        return cmd;
    }

    /// <summary>A CSV field, quoted when it holds a comma, a quote or a line break.</summary>
    private static string Csv(string field) =>
        field.AsSpan().IndexOfAny(",\"\n\r") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";

    /// <summary>Whether two paths name the same file: the same full path once symbolic links are followed (hard links are not detected).</summary>
    internal static bool SameFile(string a, string b)
    {
        static string Real(string p)
        {
            var full = Path.GetFullPath(p);
            try { return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full; }
            catch (IOException) { return full; }
        }
        return string.Equals(Real(a), Real(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>Whether the file begins as IDX images do, plain or gzip-compressed (whatever its name): magic 0x00000803,
    /// unsigned bytes in 3 dimensions.</summary>
    internal static bool IsIdxImages(string path)
    {
        using var file = File.OpenRead(path);
        var head = new byte[4];
        bool gzip = file.ReadAtLeast(head.AsSpan(0, 2), 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1f && head[1] == 0x8b;
        file.Position = 0;
        using var stream = gzip ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true) : (Stream)file;
        try { return stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head is [0, 0, 0x08, 3]; }
        catch (InvalidDataException) { return false; } // not gzip after all
    }

    /// <summary>Where each of the model's features is among a CSV's columns, matched by name (order and extra columns do not
    /// matter); a feature the file lacks is refused by name.</summary>
    internal static int[] ColumnsByName(string path, IReadOnlyList<string> columns, IReadOnlyList<string> features)
    {
        var index = new int[features.Count];
        var names = columns as IList<string> ?? [.. columns];
        for (int j = 0; j < features.Count; j++)
        {
            index[j] = names.IndexOf(features[j]);
            if (index[j] < 0) throw new DataFormatException(path, 1, features[j], $"the model needs column '{features[j]}', which the header lacks (it has {string.Join(", ", columns)})");
        }
        return index;
    }

    /// <summary>Whether predict reads <paramref name="data"/> as a CSV matched to the model by column name (not a bundled set, nor
    /// IDX images with labels, which are matched by position as train reads them).</summary>
    internal static bool ReadsByName(string data, string? labels) => labels is null && !DataSource.NamesBundledSet(data);

    /// <summary>The table's feature columns in the model's order, matched by name as predict matches a CSV's header: a CSV
    /// whose columns are in another order, or hold more, is scored on the right ones.</summary>
    internal static TabularData InModelOrder(TabularData table, TrainedModel model, string path)
    {
        if (table.FeatureNames.SequenceEqual(model.FeatureNames)) return table;
        var index = ColumnsByName(path, table.FeatureNames, model.FeatureNames);
        int f = index.Length;
        var x = new double[(long)table.Rows * f];
        for (int r = 0; r < table.Rows; r++)
            for (int j = 0; j < f; j++) x[(long)r * f + j] = table.X[r * table.Features + index[j]];
        return new TabularData(table.Name, model.FeatureNames, table.TargetName, table.Task, table.Rows, f, [.. x], table.Y, table.Classes, table.Sha256, table.ClassNames);
    }

    /// <summary>Reads the named feature columns of a CSV, streaming, with errors that name the line and column.</summary>
    /// <remarks>The separator is <paramref name="separator"/>, or the one of , ; tab | that the header line holds most of.</remarks>
    internal static (int Rows, double[] Values) ReadFeatures(string path, IReadOnlyList<string> features, char? separator = null)
    {
        using (var probe = File.OpenRead(path))
        {
            Span<byte> head = stackalloc byte[1024];
            int n = probe.Read(head);
            if (head[..n].IndexOf((byte)0) >= 0) throw new DataFormatException(path, null, null, "the file is not a text CSV file (it holds NUL bytes)");
        }
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var header = reader.ReadLine() ?? throw new DataFormatException(path, 1, null, "the file is empty; a header row is needed");
        char sep = separator ?? new[] { ',', ';', '\t', '|' }.OrderByDescending(c => header.Count(h => h == c)).First();
        var names = header.Split(sep).Select(s => s.Trim().Trim('"')).ToList();
        var index = ColumnsByName(path, names, features);
        var values = new List<double>();
        int rows = 0; long line = 1;
        for (string? s; (s = reader.ReadLine()) is not null;)
        {
            line++;
            if (s.Length == 0) continue;
            var fields = s.Split(sep);
            if (fields.Length != names.Count) throw new DataFormatException(path, line, null, $"expected {names.Count} fields, found {fields.Length}");
            for (int j = 0; j < features.Count; j++)
            {
                var text = fields[index[j]].Trim().Trim('"');
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    throw new DataFormatException(path, line, features[j], index[j] + 1, $"'{text}' is not a finite number");
                values.Add(v);
            }
            rows++;
        }
        if (rows == 0) throw new DataFormatException(path, line, null, "no data rows after the header");
        return (rows, values.ToArray());
    }
}

/// <summary><c>neuralpure gradcheck</c>: backprop against central differences, per parameter tensor.</summary>
internal static class GradcheckCommand
{
    /// <summary>PyTorch <c>torch.autograd.gradcheck</c>'s defaults (the backprop lesson quotes them): an entry passes when
    /// |analytic − numeric| ≤ atol + rtol·|numeric|.</summary>
    internal const double GradcheckAtol = 1e-5, GradcheckRtol = 1e-3;

    public static Command Create()
    {
        var rowsOpt = new Option<int>("--rows") { Description = "Rows of the data to check on", DefaultValueFactory = _ => 8 };
        var layers = new Option<string>("--layers") { Description = "Hidden widths, e.g. 16,8 ('none': a linear model)", DefaultValueFactory = _ => "16,8" };
        var activation = new Option<string>("--activation") { Description = "Hidden activation (smooth ones avoid kinks)", DefaultValueFactory = _ => "tanh" };
        var loss = new Option<string?>("--loss") { Description = "Loss (default: by task)" };
        var cmd = new Command("gradcheck", "Check a network's backprop against NumericGrad (double precision) and print the worst relative error per tensor")
        { TrainCommand.Data, TrainCommand.Labels, TrainCommand.Target, layers, activation, loss, rowsOpt, TrainCommand.Seed };
        cmd.SetAction(p =>
        {
            var config = new ExperimentConfig(p.GetValue(TrainCommand.Data)!, p.GetValue(TrainCommand.Labels), p.GetValue(TrainCommand.Target),
                Layers: TrainCommand.HiddenWidths(p.GetValue(layers)),
                Activation: p.GetValue(activation)!, Loss: p.GetValue(loss), Seed: p.GetValue(TrainCommand.Seed));
            try { config.Validate(); } catch (ArgumentException e) { throw new UsageException(Program.OneLine(e)); }
            int n = p.GetValue(rowsOpt);
            if (n < 1) throw new UsageException($"--rows must be ≥ 1, got {n}");
            var data = TrainCommand.LoadData(config);
            ModelSpec spec;
            try { spec = Experiment.BuildSpec(config, data); } catch (ArgumentException e) { throw new UsageException(Program.OneLine(e)); }
            var rows = Enumerable.Range(0, Math.Min(n, data.Rows)).ToArray();
            var st = Standardizer.Fit(data, rows);
            var set = st.ToDataSet(data, rows);
            var batch = new Batch<double>(set.X.Cast<double>(), set.Y.Cast<double>());
            var parameters = Model.Init<double>(spec, RandomKey.FromSeed(config.Seed));
            var (_, analytic) = Model.ValueAndGrad(spec, parameters, batch);
            var numeric = NumericGrad.OfParameters(q => Model.Loss(spec, q, batch), parameters);
            Console.WriteLine($"gradcheck: {spec} on {rows.Length} rows of {data.Name}, double precision, central differences h = 1e-6");
            Console.WriteLine($"  rule: |backprop - numeric| <= {GradcheckAtol:0e0} + {GradcheckRtol:0e0}·|numeric| for every entry (PyTorch gradcheck's atol and rtol)");
            int bad = 0, total = 0;
            for (int i = 0; i < analytic.Count; i++)
            {
                double worstRel = 0, worstAbs = 0, worstRatio = 0;
                int failing = 0;
                var a = analytic[i].Span; var b = numeric[i].Span;
                for (int j = 0; j < a.Length; j++)
                {
                    double diff = Math.Abs(a[j] - b[j]), allowed = GradcheckAtol + GradcheckRtol * Math.Abs(b[j]);
                    worstAbs = Math.Max(worstAbs, diff);
                    worstRel = Math.Max(worstRel, diff / Math.Max(1e-8, Math.Max(Math.Abs(a[j]), Math.Abs(b[j]))));
                    worstRatio = Math.Max(worstRatio, diff / allowed);
                    if (!(diff <= allowed)) failing++;
                }
                bad += failing; total += a.Length;
                Console.WriteLine($"  {analytic.Names[i],-10} {analytic[i].ShapeText,-10} worst absolute {worstAbs:E2}  worst relative {worstRel:E2}  {(failing == 0 ? "ok" : $"{failing} of {a.Length} outside")} (worst at {worstRatio:P1} of the tolerance)");
            }
            bool ok = bad == 0;
            Console.WriteLine(ok ? $"ok: all {total} gradients agree with central differences"
                : $"MISMATCH: {bad} of {total} gradients differ from central differences by more than the tolerance");
            return ok ? 0 : Program.Failure;
        });
        return cmd;
    }
}

/// <summary><c>neuralpure datasets</c>.</summary>
internal static class DatasetsCommand
{
    public static Command Create()
    {
        var cmd = new Command("datasets", "List the bundled data sets");
        cmd.SetAction(_ =>
        {
            var table = new Table().AddColumn("name").AddColumn("task").AddColumn("rows").AddColumn("features").AddColumn("classes").AddColumn("licence");
            foreach (var d in BundledDataSets.All)
                table.AddRow(d.Name, d.Task.ToString().ToLowerInvariant(), d.Rows.ToString(CultureInfo.InvariantCulture), d.Features.ToString(CultureInfo.InvariantCulture),
                    d.Task == TaskKind.Classification ? d.Classes.ToString(CultureInfo.InvariantCulture) : "-", Markup.Escape(d.Licence.Split(';')[0].Split(" (")[0]));
            AnsiConsole.Write(table);
            Console.WriteLine("Provenance and licences: Pure.Facade/Data/Bundled/PROVENANCE.md. Fashion-MNIST (test split, MIT): data/fashion_mnist/.");
            return 0;
        });
        return cmd;
    }
}
