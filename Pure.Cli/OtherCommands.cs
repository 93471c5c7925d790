using System.CommandLine;
using System.Globalization;
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

/// <summary><c>neuralpure replay run.json</c>: re-runs a recorded experiment and checks the parameter hash.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("run") { Description = "A run.json written by neuralpure train (or its folder)" };
        var cmd = new Command("replay", "Re-run a recorded experiment; prints 'identical' when the final parameters match bit for bit") { file };
        cmd.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            if (Directory.Exists(path)) path = Path.Combine(path, "run.json");
            if (!File.Exists(path)) throw new FileNotFoundException($"run record '{path}' does not exist", path);
            var (config, dataSha, hash, losses) = RunRecord.Read(path);
            var data = TrainCommand.LoadData(config);
            if (data.Sha256 != dataSha)
            {
                Console.Error.WriteLine($"neuralpure: the data differs from the recorded run (sha256 {data.Sha256[..12]}… vs recorded {dataSha[..12]}…)");
                return Program.Failure;
            }
            var result = Experiment.Run(config, data);
            if (result.ParameterHash == hash) { Console.WriteLine("identical"); return 0; }
            var now = result.Fit.History.Select(h => h.TrainLoss).ToList();
            int first = Enumerable.Range(0, Math.Max(now.Count, losses.Length)).FirstOrDefault(i => i >= now.Count || i >= losses.Length || !now[i].Equals(losses[i]), -1);
            Console.WriteLine(first < 0
                ? $"different: every epoch's loss matches but the parameter hash is {result.ParameterHash[..16]}…, recorded {hash[..16]}…"
                : $"different: first at epoch {first + 1} (train loss recorded {(first < losses.Length ? losses[first].ToString("R", CultureInfo.InvariantCulture) : "none")}, now {(first < now.Count ? now[first].ToString("R", CultureInfo.InvariantCulture) : "none")})");
            return Program.Failure;
        });
        return cmd;
    }
}

/// <summary><c>neuralpure evaluate --model m.safetensors --data …</c>.</summary>
internal static class EvaluateCommand
{
    internal static readonly Option<string> ModelPath = new("--model") { Description = "A model.safetensors written by neuralpure train", Required = true };

    public static Command Create()
    {
        var cmd = new Command("evaluate", "Evaluate a saved model on a data set (all of its rows)") { ModelPath, TrainCommand.Data, TrainCommand.Labels, TrainCommand.Target };
        cmd.SetAction(p =>
        {
            var (model, _) = LoadModel(p.GetValue(ModelPath)!);
            var config = new ExperimentConfig(p.GetValue(TrainCommand.Data)!, p.GetValue(TrainCommand.Labels), p.GetValue(TrainCommand.Target) ?? model.TargetName,
                model.Task == TaskKind.Classification ? "classification" : "regression");
            var data = TrainCommand.LoadData(config);
            if (data.Features != model.Spec.InputWidth)
                throw new UsageException($"the model takes {model.Spec.InputWidth} features but '{config.Data}' has {data.Features}");
            var rows = Enumerable.Range(0, data.Rows).ToArray();
            var set = model.Standardizer.ToDataSet(data, rows);
            if (model.Task == TaskKind.Classification)
            {
                if (data.Classes > model.Classes) throw new InvalidOperationException($"the data has labels up to {data.Classes - 1} but the model knows {model.Classes} classes");
                var m = Evaluate.Classification(model.Spec, model.Parameters, set);
                Console.WriteLine($"{data.Name}: {data.Rows} rows  loss {Fmt.N(m.Loss)}  accuracy {Fmt.N(m.Accuracy)}");
                var table = new Table().AddColumn("class").AddColumn("precision").AddColumn("recall");
                for (int c = 0; c < m.Precision.Length; c++) table.AddRow(c.ToString(CultureInfo.InvariantCulture), Fmt.N(m.Precision[c], 3), Fmt.N(m.Recall[c], 3));
                AnsiConsole.Write(table);
                Console.WriteLine("confusion matrix (rows: actual, columns: predicted):");
                foreach (var row in m.Confusion) Console.WriteLine("  " + string.Join(" ", row.Select(v => v.ToString(CultureInfo.InvariantCulture).PadLeft(4))));
            }
            else
            {
                var m = Evaluate.Regression(model.Spec, model.Parameters, set, model.Standardizer);
                Console.WriteLine($"{data.Name}: {data.Rows} rows  MSE {Fmt.N(m.Mse)}  RMSE {Fmt.N(m.Rmse)}  MAE {Fmt.N(m.Mae)}  R² {Fmt.N(m.R2)}");
            }
            return 0;
        });
        return cmd;
    }

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
        var input = new Option<string>("--data") { Description = "A CSV with a header holding the model's feature columns (others are ignored)", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the predictions (CSV); never the --data file, and an existing file only with --force", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing --out file (never the --data file itself)" };
        var cmd = new Command("predict", "Predict with a saved model: writes the input's feature columns plus a prediction column") { EvaluateCommand.ModelPath, input, output, force };
        cmd.SetAction(p =>
        {
            var (model, _) = EvaluateCommand.LoadModel(p.GetValue(EvaluateCommand.ModelPath)!);
            var inPath = p.GetValue(input)!;
            if (!File.Exists(inPath)) throw new FileNotFoundException($"data file '{inPath}' does not exist", inPath);
            var outPath = p.GetValue(output)!;
            if (SameFile(inPath, outPath)) throw new UsageException($"--out '{outPath}' is the --data file itself; predictions never overwrite their input");
            if (File.Exists(outPath) && !p.GetValue(force)) throw new UsageException($"--out '{outPath}' already exists; pass --force to replace it");
            if (Directory.Exists(outPath)) throw new UsageException($"--out '{outPath}' is a folder; give a file name");
            var (rows, values) = ReadFeatures(inPath, model.FeatureNames);
            var predictions = model.Predict(values, rows);
            var sb = new StringBuilder();
            sb.Append(string.Join(",", model.FeatureNames)).Append(",prediction\n");
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < model.FeatureNames.Length; j++) sb.Append(values[i * model.FeatureNames.Length + j].ToString("R", CultureInfo.InvariantCulture)).Append(',');
                sb.Append(predictions[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
            AtomicFile.WriteAllText(outPath, sb.ToString());
            Console.WriteLine($"wrote {rows} predictions to {outPath}");
            return 0;
        });
        return cmd;
    }

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

    /// <summary>Reads the named feature columns of a CSV, streaming, with errors that name the line and column.</summary>
    internal static (int Rows, double[] Values) ReadFeatures(string path, IReadOnlyList<string> features)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var header = reader.ReadLine() ?? throw new DataFormatException(path, 1, null, "the file is empty; a header row is needed");
        var names = header.Split(',').Select(s => s.Trim().Trim('"')).ToList();
        var index = new int[features.Count];
        for (int j = 0; j < features.Count; j++)
        {
            index[j] = names.IndexOf(features[j]);
            if (index[j] < 0) throw new DataFormatException(path, 1, features[j], $"the model needs column '{features[j]}', which the header lacks (it has {string.Join(", ", names)})");
        }
        var values = new List<double>();
        int rows = 0; long line = 1;
        for (string? s; (s = reader.ReadLine()) is not null;)
        {
            line++;
            if (s.Length == 0) continue;
            var fields = s.Split(',');
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
        var layers = new Option<string>("--layers") { Description = "Hidden widths", DefaultValueFactory = _ => "16,8" };
        var activation = new Option<string>("--activation") { Description = "Hidden activation (smooth ones avoid kinks)", DefaultValueFactory = _ => "tanh" };
        var loss = new Option<string?>("--loss") { Description = "Loss (default: by task)" };
        var cmd = new Command("gradcheck", "Check a network's backprop against NumericGrad (double precision) and print the worst relative error per tensor")
        { TrainCommand.Data, TrainCommand.Labels, TrainCommand.Target, layers, activation, loss, rowsOpt, TrainCommand.Seed };
        cmd.SetAction(p =>
        {
            var config = new ExperimentConfig(p.GetValue(TrainCommand.Data)!, p.GetValue(TrainCommand.Labels), p.GetValue(TrainCommand.Target),
                Layers: [.. (p.GetValue(layers) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s, out var w) ? w : throw new UsageException($"--layers must be widths, got '{s}'"))],
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
