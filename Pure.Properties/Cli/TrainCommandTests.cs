using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Properties.Facade.Plots;
using Xunit;

namespace NeuralPure.Properties.Cli;

[Collection("Console")]
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string Out(string name) => Path.Combine(_dir, name);

    private static string[] Quick(string outDir, params string[] extra) =>
        ["train", "--data", "iris", "--epochs", "3", "--out", outDir, .. extra];

    [Fact]
    public void Train_writes_the_run_record_model_and_plot_and_the_same_seed_gives_the_same_hash()
    {
        var (code, stdout, err) = CliRunner.Run(Quick(Out("a"), "--json"));
        Assert.True(code == 0, err);
        var printed = JsonNode.Parse(stdout)!;
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(Out("a"), "run.json")))!;
        Assert.Equal(printed["parameters"]!["sha256"]!.GetValue<string>(), written["parameters"]!["sha256"]!.GetValue<string>());
        foreach (var key in new[] { "seed", "config", "data", "history", "test", "parameters", "environment", "seconds", "examplesPerSecond" })
            Assert.NotNull(written[key]);
        Assert.Equal(3, written["history"]!.AsArray().Count);
        Assert.Equal("completed", written["status"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(Out("a"), "model.safetensors")));
        var plot = SvgPlot.Load(Path.Combine(Out("a"), "loss.svg"));
        Assert.Equal(3, plot.Named("train").Points.Count);
        Assert.True(plot.Legend.X >= plot.PlotArea.Right);

        var (code2, stdout2, _) = CliRunner.Run(Quick(Out("b"), "--json", "--threads", "1"));
        Assert.Equal(0, code2);
        var (code3, stdout3, _) = CliRunner.Run(Quick(Out("c"), "--json", "--threads", "2"));
        Assert.Equal(0, code3);
        string Hash(string s) => JsonNode.Parse(s)!["parameters"]!["sha256"]!.GetValue<string>();
        Assert.Equal(Hash(stdout), Hash(stdout2));
        Assert.Equal(Hash(stdout2), Hash(stdout3));

        var (model, config) = ModelFile.Load(Path.Combine(Out("a"), "model.safetensors"));
        Assert.Equal(Hash(stdout), model.ParameterHash());
        Assert.NotNull(config);
    }

    /// <summary>loss.svg and the lessons' plots are drawn by Pure.Facade's LinePlot: neither the CLI nor the lessons reference
    /// a drawing library (ScottPlot, SkiaSharp), and the lessons no longer carry a plotting helper of their own.</summary>
    [Fact]
    public void The_cli_and_the_lessons_draw_with_the_facades_line_plot_and_no_drawing_library()
    {
        var cli = System.Reflection.Assembly.Load("neuralpure");
        var lessons = typeof(NeuralPure.Lessons.LoopLesson).Assembly;
        foreach (var a in new[] { cli, lessons })
            Assert.DoesNotContain(a.GetReferencedAssemblies(), r => r.Name!.StartsWith("ScottPlot", StringComparison.Ordinal) || r.Name!.StartsWith("SkiaSharp", StringComparison.Ordinal));
        Assert.Contains(cli.GetReferencedAssemblies(), r => r.Name == "Pure.Facade");
        Assert.Null(lessons.GetType("NeuralPure.Lessons.LessonPlots"));
    }

    [Fact]
    public void Replay_says_identical_and_names_the_first_differing_epoch_of_a_tampered_record()
    {
        Assert.Equal(0, CliRunner.Run(Quick(Out("r"))).Code);
        var run = Path.Combine(Out("r"), "run.json");
        var (code, stdout, err) = CliRunner.Run("replay", run);
        Assert.True(code == 0, err);
        Assert.Equal("identical", stdout.Trim());

        var node = JsonNode.Parse(File.ReadAllText(run))!;
        node["history"]![1]!["trainLoss"] = 0.123;
        node["parameters"]!["sha256"] = new string('0', 64);
        File.WriteAllText(run, node.ToJsonString());
        var (code2, stdout2, _) = CliRunner.Run("replay", run);
        Assert.Equal(1, code2);
        Assert.Contains("epoch 2", stdout2);
    }

    [Fact]
    public void Evaluate_and_predict_use_the_saved_model()
    {
        Assert.Equal(0, CliRunner.Run(["train", "--data", "iris", "--epochs", "60", "--lr", "0.01", "--out", Out("m")]).Code);
        var model = Path.Combine(Out("m"), "model.safetensors");
        var (code, stdout, err) = CliRunner.Run("evaluate", Out("m"));
        Assert.True(code == 0, err);
        Assert.Contains("accuracy", stdout);
        Assert.Contains("the run's test split, 30 rows", stdout);
        var (codeAll, stdoutAll, errAll) = CliRunner.Run("evaluate", "--model", model, "--data", "iris", "--all-rows");
        Assert.True(codeAll == 0, errAll);
        Assert.Contains("all 150 rows, any the model was trained on included", stdoutAll);
        var csv = Out("in.csv");
        File.WriteAllText(csv, "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n");
        var (code2, _, err2) = CliRunner.Run("predict", "--model", model, "--data", csv, "--out", Out("out.csv"));
        Assert.True(code2 == 0, err2);
        var lines = File.ReadAllLines(Out("out.csv"));
        Assert.Equal(3, lines.Length);
        Assert.Equal("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species,p(setosa),p(versicolor),p(virginica)", lines[0]);
        Assert.Contains(",setosa,", lines[1]);
        Assert.Contains(",virginica,", lines[2]);
        foreach (var line in lines.Skip(1))
            Assert.Equal(1.0, line.Split(',')[^3..].Sum(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), 5);
    }

    [Fact]
    public void Gradcheck_passes_and_datasets_lists_the_bundled_sets()
    {
        var (code, stdout, err) = CliRunner.Run("gradcheck", "--data", "iris", "--layers", "5");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("0.weight", stdout);
        var (code2, stdout2, _) = CliRunner.Run("datasets");
        Assert.Equal(0, code2);
        foreach (var name in new[] { "digits", "iris", "breast-cancer", "auto-mpg" }) Assert.Contains(name, stdout2);
    }

    public static TheoryData<string, string[], int, string> BadInputs()
    {
        var d = new TheoryData<string, string[], int, string>();
        d.Add("missing file", ["train", "--data", "/nonexistent/x.csv"], 1, "does not exist");
        d.Add("unknown data set", ["train", "--data", "nosuch"], 2, "nosuch");
        d.Add("lr zero", ["train", "--lr", "0"], 2, "--lr");
        d.Add("lr negative", ["train", "--lr", "-1"], 2, "--lr");
        d.Add("epochs zero", ["train", "--epochs", "0"], 2, "--epochs");
        d.Add("batch size zero", ["train", "--batch-size", "0"], 2, "--batch-size");
        d.Add("bad layers", ["train", "--layers", "64,x"], 2, "--layers");
        d.Add("unknown optimizer", ["train", "--optimizer", "lbfgs"], 2, "lbfgs");
        d.Add("unknown option", ["train", "--bogus"], 2, "--bogus");
        d.Add("unwritable output", ["train", "--data", "iris", "--epochs", "1", "--out", "/proc/np-cannot-write"], 1, "/proc/np-cannot-write");
        return d;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_line_on_stderr_with_the_right_exit_code(string what, string[] args, int expectedCode, string mention)
    {
        var (code, stdout, err) = CliRunner.Run(args);
        Assert.True(expectedCode == code, $"{what}: exit {code}, stderr: {err}");
        Assert.Contains(mention, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", err);
        Assert.Equal("", stdout);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "ragged row", "a,b,y\n1,2,0\n3,1\n", "line 3" },
        { "non-numeric", "a,b,y\n1,2,0\n3,abc,1\n", "line 3" },
        { "NaN", "a,b,y\n1,NaN,0\n", "line 2" },
        { "infinity", "a,b,y\n1,2,0\n1,Infinity,1\n", "line 3" },
        { "empty", "", "empty" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_csv_names_the_line_and_exits_1(string what, string content, string mention)
    {
        var csv = Out(what.Replace(' ', '_') + ".csv");
        File.WriteAllText(csv, content);
        var (code, _, err) = CliRunner.Run("train", "--data", csv, "--out", Out("o-" + what.Replace(' ', '_')));
        Assert.True(code == 1, $"{what}: exit {code}: {err}");
        Assert.Contains(mention, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(Out("o-" + what.Replace(' ', '_'))) && Directory.EnumerateFiles(Out("o-" + what.Replace(' ', '_'))).Any());
    }

    [Fact]
    public void Missing_target_column_and_existing_output_folder_are_refused()
    {
        var csv = Out("t.csv");
        File.WriteAllText(csv, "a,b,y\n1,2,0\n3,4,1\n");
        var (code, _, err) = CliRunner.Run("train", "--data", csv, "--target", "label", "--out", Out("t1"));
        Assert.Equal(1, code);
        Assert.Contains("label", err);

        Directory.CreateDirectory(Out("exists"));
        File.WriteAllText(Path.Combine(Out("exists"), "keep.txt"), "mine");
        var (code2, _, err2) = CliRunner.Run("train", "--data", "iris", "--out", Out("exists"));
        Assert.Equal(1, code2);
        Assert.Contains("--force", err2);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Out("exists"), "keep.txt")));
    }

    [Fact]
    public void A_model_trained_with_3_classes_refuses_data_with_a_label_out_of_range()
    {
        Assert.Equal(0, CliRunner.Run(["train", "--data", "iris", "--epochs", "1", "--out", Out("m3")]).Code);
        var csv = Out("labels.csv");
        File.WriteAllText(csv, "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species\n5.1,3.5,1.4,0.2,0\n6.7,3.0,5.2,2.3,7\n");
        var (code, _, err) = CliRunner.Run("evaluate", "--model", Path.Combine(Out("m3"), "model.safetensors"), "--data", csv);
        Assert.Equal(1, code);
        Assert.Contains("7", err);
    }
}
