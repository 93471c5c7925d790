using System.Text.Json.Nodes;
using NeuralPure.Facade.Models;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>Labels as users have them, end to end through the CLI; and records that replay, evaluate and resume from anywhere,
/// checked against everything they hold.</summary>
[Collection("Console")]
public sealed class RecordsAndLabelsTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    private static readonly string[] Species = ["setosa", "versicolor", "virginica"];

    /// <summary>The bundled iris rewritten as a user would have it: ';'-separated, species as text.</summary>
    private string IrisWithTextLabels(string path)
    {
        var iris = NeuralPure.Facade.Data.BundledDataSets.Load("iris");
        var lines = new List<string> { string.Join(";", iris.FeatureNames) + ";species" };
        for (int r = 0; r < iris.Rows; r++)
            lines.Add(string.Join(";", iris.GetRow(r).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + ";" + Species[iris.Labels[r]]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Text_labels_train_and_their_names_reach_the_model_the_record_predict_and_evaluate()
    {
        var csv = IrisWithTextLabels(P("data", "iris-text.csv"));
        var (code, stdout, err) = CliRunner.Run("train", "--data", csv, "--epochs", "3", "--out", P("run"));
        Assert.True(code == 0, err);
        Assert.Contains("classification: 3 classes [setosa, versicolor, virginica] from column 'species' (inferred; --task regression", stdout);
        Assert.Contains("separator", stdout); // the reader says it chose ';'

        var (model, _) = ModelFile.Load(P("run", "model.safetensors"));
        Assert.Equal(Species, model.ClassNames);
        var record = JsonNode.Parse(File.ReadAllText(P("run", "run.json")))!;
        Assert.Equal(Species, record["data"]!["classNames"]!.AsArray().Select(n => n!.GetValue<string>()));

        // the same data with numeric labels 0..2 (the bundled iris) gives the same bits: the encoding is the sorted names
        var (c2, s2, e2) = CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--out", P("bundled"), "--json");
        Assert.True(c2 == 0, e2);
        Assert.Equal(JsonNode.Parse(s2)!["parameters"]!["sha256"]!.GetValue<string>(), record["parameters"]!["sha256"]!.GetValue<string>());

        var (c3, _, e3) = CliRunner.Run("predict", "--model", P("run", "model.safetensors"), "--data", csv, "--out", P("pred.csv"));
        Assert.True(c3 == 0, e3);
        var pred = File.ReadAllLines(P("pred.csv"));
        Assert.EndsWith(";species,p(setosa),p(versicolor),p(virginica)".Replace(";", ","), pred[0]);
        Assert.All(pred.Skip(1), l => Assert.Contains(l.Split(',')[4], Species));

        var (c4, s4, e4) = CliRunner.Run("evaluate", P("run"));
        Assert.True(c4 == 0, e4);
        Assert.Contains("virginica", s4);
        Assert.Contains("the run's test split, 30 rows", s4);
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, "classification: 3 classes [1, 2, 3]")]
    [InlineData(new[] { -1, 0, 1 }, "classification: 3 classes [-1, 0, 1]")]
    [InlineData(new[] { 70, 76, 82 }, "classification: 3 classes [70, 76, 82]")]
    public void Whole_number_labels_are_their_distinct_values_not_a_range_from_zero(int[] labels, string said)
    {
        var iris = NeuralPure.Facade.Data.BundledDataSets.Load("iris");
        var csv = P($"labels{labels[0]}.csv");
        File.WriteAllLines(csv, [string.Join(",", iris.FeatureNames) + ",label",
            .. Enumerable.Range(0, iris.Rows).Select(r => string.Join(",", iris.GetRow(r).ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "," + labels[iris.Labels[r]])]);
        var (code, stdout, err) = CliRunner.Run("train", "--data", csv, "--epochs", "1", "--out", P($"run{labels[0]}"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        Assert.Contains(said, stdout);
        Assert.Equal(3, ModelFile.Load(P($"run{labels[0]}", "model.safetensors")).Model.Classes);
    }

    [Fact]
    public void Replay_checks_everything_the_record_holds()
    {
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "5", "--out", P("r"), "--checkpoint-every", "0").Code);
        var run = P("r", "run.json");
        var original = File.ReadAllText(run);
        void Tamper(Action<JsonNode> edit) { var n = JsonNode.Parse(original)!; edit(n); File.WriteAllText(run, n.ToJsonString()); }

        Tamper(n => n["test"]!["accuracy"] = 1.0);
        var (c1, s1, _) = CliRunner.Run("replay", run);
        Assert.Equal(1, c1);
        Assert.StartsWith("different: test.accuracy: recorded 1, now", s1.Trim());

        Tamper(n => { var h = n["history"]!.AsArray(); while (h.Count > 3) h.RemoveAt(h.Count - 1); });
        var (c2, s2, _) = CliRunner.Run("replay", run);
        Assert.Equal(1, c2);
        Assert.StartsWith("different: history: 3 entries recorded, 5 now", s2.Trim());

        Tamper(n => n["status"] = "early-stopped");
        Assert.Contains("status: recorded \"early-stopped\", now \"completed\"", CliRunner.Run("replay", run).Out);

        Tamper(n => n["format"] = "neuralpure-run/9");
        var (c4, _, e4) = CliRunner.Run("replay", run);
        Assert.Equal(1, c4);
        Assert.Contains("run record format 'neuralpure-run/9' is not one this NeuralPure reads", e4);

        File.WriteAllText(run, original);
        Assert.Equal("identical", CliRunner.Run("replay", run).Out.Trim());
    }

    /// <summary>The diagnosis's prose is made from the history, which replay compares number by number: a record whose wording an
    /// earlier version wrote replays identical, while its kind and its epochs (the evidence in numbers) are held to it.</summary>
    [Fact]
    public void A_diagnosis_is_recorded_with_its_epochs_and_replay_compares_its_kind_and_epochs_not_its_wording()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--out", P("dg"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        var run = P("dg", "run.json");
        var original = File.ReadAllText(run);
        var dg = JsonNode.Parse(original)!["diagnosis"]!;
        Assert.Equal("[1,3]", dg["epochs"]!.ToJsonString());
        void Write(Action<JsonNode> change) { var n = JsonNode.Parse(original)!; change(n); File.WriteAllText(run, n.ToJsonString()); }

        Write(n => { n["diagnosis"]!["evidence"] = "worded by an older version"; n["diagnosis"]!["summary"] = "steady, said otherwise"; });
        Assert.Equal("identical", CliRunner.Run("replay", run).Out.Trim());
        Write(n => n["diagnosis"]!.AsObject().Remove("epochs")); // written before the field
        Assert.Equal("identical", CliRunner.Run("replay", run).Out.Trim());
        Write(n => n["diagnosis"]!["kind"] = "plateau");
        Assert.Contains("diagnosis.kind: recorded \"plateau\", now \"steady\"", CliRunner.Run("replay", run).Out);
        Write(n => n["diagnosis"]!["epochs"] = new JsonArray(1, 2));
        Assert.Contains("diagnosis.epochs[1]: recorded 2, now 3", CliRunner.Run("replay", run).Out);
    }

    [Fact]
    public void A_run_with_accumulation_says_and_records_its_updates_and_unapplied_batches_and_replays_with_or_without_them()
    {
        // iris: 105 training rows at batch 8 are 14 batches an epoch; 3 epochs are 42 batches: 10 updates of 4, 2 batches left
        var (code, stdout, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--batch-size", "8", "--accumulate", "4", "--out", P("acc"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        Assert.Contains("note: --accumulate 4 over 42 batches (14 an epoch, so updates straddle epochs): 10 updates; the last 2 batches' gradients were accumulated but not applied\n", stdout.ReplaceLineEndings("\n"));
        var run = P("acc", "run.json");
        var original = File.ReadAllText(run);
        var acc = JsonNode.Parse(original)!["accumulation"]!;
        Assert.Equal("""{"batchesPerUpdate":4,"batchesPerEpoch":14,"batches":42,"updates":10,"batchesNotApplied":2}""", acc.ToJsonString());
        Assert.Equal("identical", CliRunner.Run("replay", run).Out.Trim());

        // a record written before the field: replay does not ask it of the record
        var old = JsonNode.Parse(original)!.AsObject();
        Assert.True(old.Remove("accumulation"));
        File.WriteAllText(run, old.ToJsonString());
        Assert.Equal("identical", CliRunner.Run("replay", run).Out.Trim());
        // a record that has it is held to it
        var wrong = JsonNode.Parse(original)!;
        wrong["accumulation"]!["updates"] = 11;
        File.WriteAllText(run, wrong.ToJsonString());
        var (c1, s1, _) = CliRunner.Run("replay", run);
        Assert.Equal(1, c1);
        Assert.Equal("different: accumulation.updates: recorded 11, now 10", s1.Trim());

        // every batch applied (42 = 21 × 2): recorded, no note; no accumulation: null, no note
        var (c2, s2, e2) = CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--batch-size", "8", "--accumulate", "2", "--out", P("all"), "--checkpoint-every", "0");
        Assert.True(c2 == 0, e2);
        Assert.DoesNotContain("note: --accumulate", s2);
        Assert.Equal(0, JsonNode.Parse(File.ReadAllText(P("all", "run.json")))!["accumulation"]!["batchesNotApplied"]!.GetValue<int>());
        var (c3, s3, e3) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", P("none"), "--checkpoint-every", "0");
        Assert.True(c3 == 0, e3);
        Assert.DoesNotContain("note: --accumulate", s3);
        var none = JsonNode.Parse(File.ReadAllText(P("none", "run.json")))!.AsObject();
        Assert.True(none.ContainsKey("accumulation"));
        Assert.Null(none["accumulation"]);
    }

    [Fact]
    public void Replay_evaluate_and_resume_find_a_relative_data_path_from_anywhere_and_data_points_elsewhere()
    {
        var work = P("work");
        IrisWithTextLabels(Path.Combine(work, "data", "iris.csv"));
        var cwd = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(work);
            var (code, _, err) = CliRunner.Run("train", "--data", Path.Combine("data", "iris.csv"), "--epochs", "2", "--out", "run");
            Assert.True(code == 0, err);
            Directory.SetCurrentDirectory(_dir); // elsewhere: the relative path no longer resolves from here
            Assert.Equal("identical", CliRunner.Run("replay", Path.Combine(work, "run")).Out.Trim());
            Assert.Equal(0, CliRunner.Run("evaluate", Path.Combine(work, "run")).Code);

            // the whole tree moved: found through the path relative to the run folder
            var moved = P("moved");
            Directory.Move(work, moved);
            Assert.Equal("identical", CliRunner.Run("replay", Path.Combine(moved, "run")).Out.Trim());
            var (rc, rs, re) = CliRunner.Run("resume", Path.Combine(moved, "run"));
            Assert.True(rc == 0, re + rs);

            // --data points elsewhere; a different file is named as different
            var copy = P("copy.csv");
            File.Copy(Path.Combine(moved, "data", "iris.csv"), copy);
            Assert.Equal("identical", CliRunner.Run("replay", Path.Combine(moved, "run"), "--data", copy).Out.Trim());
            File.AppendAllText(copy, "5.0;3.0;1.0;0.1;setosa\n");
            var (c2, _, e2) = CliRunner.Run("replay", Path.Combine(moved, "run"), "--data", copy);
            Assert.Equal(1, c2);
            Assert.Contains("differs from the recorded run's", e2);
        }
        finally { Directory.SetCurrentDirectory(cwd); }
    }

    /// <summary>A run interrupted (a sweep's trial, on a path relative to where the sweep ran) and resumed from another folder
    /// keeps the data as it was given: config.data and data.given (in run.json, the model file and the new checkpoint) are the
    /// user's relative path, and data.resolved and relativeToRun say where resume found it. So replay works on the resumed
    /// record, and the sweep still takes the trial as its own and finished.</summary>
    [Fact]
    public void A_resumed_run_records_its_data_as_given_and_where_resume_found_it()
    {
        var work = P("work");
        var csv = IrisWithTextLabels(Path.Combine(work, "data", "iris.csv"));
        File.WriteAllText(Path.Combine(work, "sweep.json"), """{"base": {"data": "data/iris.csv", "epochs": 3}, "axes": {"lr": [0.01]}}""");
        var cwd = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(work);
            NeuralPure.Cli.SweepCommand.CancelAfterEpoch = (_, epoch) => epoch == 1;
            try { Assert.Equal(130, CliRunner.Run("sweep", "run", "sweep.json", "--out", "s").Code); }
            finally { NeuralPure.Cli.SweepCommand.CancelAfterEpoch = null; }
            var trial = Path.Combine(work, "s", JsonNode.Parse(File.ReadAllText(Path.Combine(work, "s", "sweep.json")))!["trials"]![0]!["name"]!.GetValue<string>());
            Assert.Equal("cancelled", JsonNode.Parse(File.ReadAllText(Path.Combine(trial, "run.json")))!["status"]!.GetValue<string>());

            Directory.SetCurrentDirectory(_dir); // elsewhere: data/iris.csv is not here; resume finds it from the run folder
            var (code, stdout, err) = CliRunner.Run("resume", trial);
            Assert.True(code == 0, stdout + err);
            Assert.Contains("resuming", stdout);
            var record = JsonNode.Parse(File.ReadAllText(Path.Combine(trial, "run.json")))!;
            Assert.Equal("completed", record["status"]!.GetValue<string>());
            Assert.Equal("data/iris.csv", record["config"]!["data"]!.GetValue<string>());
            Assert.Equal("data/iris.csv", record["data"]!["given"]!.GetValue<string>());
            Assert.Equal(Path.GetFullPath(csv), record["data"]!["resolved"]!.GetValue<string>());
            Assert.Equal("../../data/iris.csv", record["data"]!["relativeToRun"]!.GetValue<string>());
            var (_, modelConfig) = ModelFile.Load(Path.Combine(trial, "model.safetensors"));
            Assert.Equal("data/iris.csv", JsonNode.Parse(modelConfig!)!["data"]!.GetValue<string>());
            var checkpoint = NeuralPure.Facade.Training.FitCheckpoint.Read(Path.Combine(trial, "checkpoint.safetensors"));
            Assert.Equal("data/iris.csv", JsonNode.Parse(checkpoint.Metadata["config"])!["data"]!.GetValue<string>());
            Assert.Equal(Path.GetFullPath(csv), checkpoint.Metadata["data.resolved"]);
            Assert.Equal("identical", CliRunner.Run("replay", trial).Out.Trim());
            // resumed again (it had finished: its outputs rewritten), from here: the same record of the data
            Assert.Equal(0, CliRunner.Run("resume", trial).Code);
            Assert.Equal(record["data"]!.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(trial, "run.json")))!["data"]!.ToJsonString());

            Directory.SetCurrentDirectory(work); // and the sweep knows its trial, finished
            var (c2, o2, e2) = CliRunner.Run("sweep", "run", "sweep.json", "--out", "s");
            Assert.True(c2 == 0, o2 + e2);
            Assert.Contains("already finished, skipped", o2);
        }
        finally { Directory.SetCurrentDirectory(cwd); }
    }

    [Fact]
    public void Evaluate_refuses_to_pass_training_rows_off_as_a_test_without_all_rows()
    {
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", P("e"), "--checkpoint-every", "0").Code);
        var model = P("e", "model.safetensors");
        var (c1, s1, e1) = CliRunner.Run("evaluate", "--model", model, "--data", "iris");
        Assert.Equal(2, c1);
        Assert.Contains("'iris' is the data this model was trained on", e1);
        Assert.Equal("", s1);
        var (c2, _, e2) = CliRunner.Run("evaluate", P("e"), "--model", model);
        Assert.Equal(2, c2);
        Assert.Contains("not both or neither", e2);
        // other data: every row, said so
        var other = IrisWithTextLabels(P("other.csv"));
        var (c3, s3, e3) = CliRunner.Run("evaluate", "--model", model, "--data", other);
        Assert.True(c3 == 0, e3);
        Assert.Contains("all 150 rows", s3);
    }

    [Fact]
    public void Resume_never_brings_an_older_run_back_over_a_newer_record()
    {
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", P("a")).Code);
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--lr", "0.01", "--out", P("b"), "--checkpoint-every", "0").Code);
        var newer = File.ReadAllText(P("b", "run.json"));
        File.WriteAllText(P("a", "run.json"), newer); // a record of another experiment beside a's checkpoint
        var (code, _, err) = CliRunner.Run("resume", P("a"));
        Assert.Equal(1, code);
        Assert.Contains("is newer than its checkpoint (it belongs to another experiment)", err);
        Assert.Equal(newer, File.ReadAllText(P("a", "run.json")));
    }
}
