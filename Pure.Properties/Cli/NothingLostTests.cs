using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>Nothing the user had is lost: predictions never overwrite their input or another file without --force, run
/// folders never collide, --force clears the run it replaces (so resume cannot bring it back) once the new run is written
/// and puts it back if the new run fails, and a model too large for the machine is refused before anything is allocated.</summary>
[Collection("Console")]
public sealed class NothingLostTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string P(string name) => Path.Combine(_dir, name);

    private string TrainedModel()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", P("run"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        return Path.Combine(P("run"), "model.safetensors");
    }

    private string IrisCsv()
    {
        var csv = P("iris.csv");
        File.WriteAllLines(csv, ["sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species", "5.1,3.5,1.4,0.2,0", "6.7,3.0,5.2,2.3,2"]);
        return csv;
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_that_is_not_its_configs_before_it_says_it_resumes_or_rewrites_anything()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", P("run"), "--checkpoint-every", "1");
        Assert.True(code == 0, err);
        File.Delete(Path.Combine(P("run"), "run.json")); // a finished run whose record is gone: resume would rewrite its outputs
        var path = Path.Combine(P("run"), "checkpoint.safetensors");
        var file = NeuralPure.Facade.Data.SafeTensors.Read(path);
        var config = JsonNode.Parse(file.Metadata["config"])!.AsObject();
        config["learningRate"] = 0.5; // the config no longer builds the optimizer whose state the checkpoint holds
        NeuralPure.Facade.Data.SafeTensors.Write(path, new NeuralPure.Facade.Data.SafeTensorsFile(file.Metadata.SetItem("config", config.ToJsonString()), file.Tensors));
        var model = File.ReadAllBytes(Path.Combine(P("run"), "model.safetensors"));
        var (c2, o2, e2) = CliRunner.Run("resume", P("run"));
        Assert.NotEqual(0, c2);
        Assert.Contains("the checkpoint does not belong to its config", e2);
        Assert.DoesNotContain("rewriting its outputs", o2);
        Assert.DoesNotContain("resuming", o2);
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(P("run"), "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(P("run"), "run.json")));
    }

    [Fact]
    public void Predict_never_overwrites_its_input_and_replaces_another_file_only_with_force()
    {
        var model = TrainedModel();
        var csv = IrisCsv();
        var before = File.ReadAllBytes(csv);

        foreach (var force in new[] { false, true })
        {
            var (code, _, err) = CliRunner.Run(["predict", "--model", model, "--data", csv, "--out", csv, .. force ? new[] { "--force" } : []]);
            Assert.Equal(2, code);
            Assert.Contains("is the --data file itself; predictions never overwrite their input", err);
        }
        // the same file by another spelling
        var (c2, _, e2) = CliRunner.Run("predict", "--model", model, "--data", csv, "--out", Path.Combine(_dir, ".", "x", "..", "iris.csv"));
        Assert.Equal(2, c2);
        Assert.Contains("is the --data file itself", e2);
        Assert.Equal(before, File.ReadAllBytes(csv));

        var other = P("notes.csv");
        File.WriteAllText(other, "keep me");
        var (c3, _, e3) = CliRunner.Run("predict", "--model", model, "--data", csv, "--out", other);
        Assert.Equal(2, c3);
        Assert.Contains("already exists; pass --force to replace it", e3);
        Assert.Equal("keep me", File.ReadAllText(other));

        var (c4, _, e4) = CliRunner.Run("predict", "--model", model, "--data", csv, "--out", other, "--force");
        Assert.True(c4 == 0, e4);
        Assert.StartsWith("sepal_length_cm", File.ReadAllText(other));
    }

    [Fact]
    public void Predict_refuses_an_input_reached_through_a_symbolic_link()
    {
        if (OperatingSystem.IsWindows()) return;
        var model = TrainedModel();
        var csv = IrisCsv();
        var link = P("link.csv");
        File.CreateSymbolicLink(link, csv);
        var (code, _, err) = CliRunner.Run("predict", "--model", model, "--data", csv, "--out", link, "--force");
        Assert.Equal(2, code);
        Assert.Contains("is the --data file itself", err);
        Assert.Equal(5, File.ReadAllLines(csv)[0].Split(',').Length);
    }

    [Fact]
    public void Default_run_folders_are_unique_even_within_one_second()
    {
        var now = new DateTime(2026, 12, 2, 10, 0, 0);
        var cwd = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(_dir);
            var held = Enumerable.Range(0, 6).Select(_ => NeuralPure.Cli.RunFolder.CreateDefault("iris", now)).ToList();
            Assert.Equal(6, held.Select(h => h.Path).Distinct().Count());
            Assert.Equal(Path.Combine("runs", "iris-20261202-100000"), held[0].Path);
            Assert.Equal(Path.Combine("runs", "iris-20261202-100000-6"), held[5].Path);
            foreach (var h in held) h.Dispose();
            // a folder someone has written into is never reused
            File.WriteAllText(Path.Combine(held[0].Path, "mine.txt"), "x");
            using var next = NeuralPure.Cli.RunFolder.CreateDefault("iris", now);
            Assert.NotEqual(held[0].Path, next.Path);
        }
        finally { Directory.SetCurrentDirectory(cwd); }
    }

    [Fact]
    public void A_second_live_run_in_the_same_folder_is_refused_and_the_first_keeps_its_files()
    {
        var folder = P("live");
        using (var first = NeuralPure.Cli.RunFolder.Claim(folder, force: false))
        {
            var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", folder, "--force");
            Assert.Equal(1, code);
            Assert.Contains($"another neuralpure run is writing to '{folder}'", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.Equal([RunFolderLock], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
        }
        // released: a run can take the folder, and leaves no lock behind
        var (c2, _, e2) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", folder, "--force");
        Assert.True(c2 == 0, e2);
        Assert.False(File.Exists(Path.Combine(folder, RunFolderLock)));
    }

    private const string RunFolderLock = ".neuralpure.lock";

    [Fact]
    public void Force_without_checkpoints_clears_the_old_checkpoint_so_resume_cannot_bring_the_old_run_back()
    {
        var folder = P("f");
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--out", folder).Code);
        Assert.True(File.Exists(Path.Combine(folder, "checkpoint.safetensors")));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var (code, stdout, err) = CliRunner.Run("train", "--data", "digits", "--epochs", "1", "--out", folder, "--force", "--checkpoint-every", "0", "--json");
        Assert.True(code == 0, err);
        var hash = JsonNode.Parse(stdout)!["parameters"]!["sha256"]!.GetValue<string>();
        Assert.False(File.Exists(Path.Combine(folder, "checkpoint.safetensors")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "notes.txt"))); // not a run output: left alone

        var (c2, _, e2) = CliRunner.Run("resume", folder);
        Assert.Equal(1, c2);
        Assert.Contains("holds no checkpoint.safetensors", e2);
        Assert.Equal(hash, RunRecord.Read(Path.Combine(folder, "run.json")).ParameterHash);
    }

    private static Dictionary<string, byte[]> Files(string folder) => Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertSameFiles(Dictionary<string, byte[]> before, string folder)
    {
        var after = Files(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
    }

    private const string Replaced = ".neuralpure-replaced";

    [Fact]
    public void Force_keeps_the_old_run_until_the_new_one_is_written_and_puts_it_back_when_the_new_one_fails()
    {
        var folder = P("keep");
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", folder, "--checkpoint-every", "0").Code);
        var before = Files(folder);

        // a run that fails after the folder is claimed: its checkpoint cannot be written (a folder has that name)
        Directory.CreateDirectory(Path.Combine(folder, "checkpoint.safetensors"));
        var (code, _, err) = CliRunner.Run("train", "--data", "digits", "--epochs", "1", "--out", folder, "--force");
        Assert.Equal(1, code);
        Assert.Contains("checkpoint.safetensors", err);
        AssertSameFiles(before, folder);
        Assert.False(Directory.Exists(Path.Combine(folder, Replaced)));
        Directory.Delete(Path.Combine(folder, "checkpoint.safetensors"));

        // the same in process: the partial outputs of the failed run go, the old ones come back
        using (var claimed = NeuralPure.Cli.RunFolder.Claim(folder, force: true))
        {
            Assert.Equal([RunFolderLock], Directory.GetFiles(folder).Select(Path.GetFileName)); // the old outputs are aside
            File.WriteAllText(Path.Combine(folder, "checkpoint.safetensors"), "partial");
        }
        AssertSameFiles(before, folder);

        // a forced run that finishes replaces the old one and leaves nothing of it
        var (c2, s2, e2) = CliRunner.Run("train", "--data", "digits", "--epochs", "1", "--out", folder, "--force", "--json");
        Assert.True(c2 == 0, e2);
        Assert.False(Directory.Exists(Path.Combine(folder, Replaced)));
        Assert.Equal(JsonNode.Parse(s2)!["parameters"]!["sha256"]!.GetValue<string>(), RunRecord.Read(Path.Combine(folder, "run.json")).ParameterHash);
        Assert.NotEqual(before["model.safetensors"], File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public void A_forced_run_killed_before_its_record_leaves_the_old_run_kept_and_the_next_force_or_resume_settles_it()
    {
        var folder = P("killed");
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", folder, "--checkpoint-every", "0").Code);
        var before = Files(folder);
        // as a SIGKILL after the claim leaves it: the old run kept aside, the new run's first checkpoint, no record
        var aside = Path.Combine(folder, Replaced);
        Directory.CreateDirectory(aside);
        foreach (var name in before.Keys) File.Move(Path.Combine(folder, name), Path.Combine(aside, name));
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--out", P("other")).Code);
        File.Copy(Path.Combine(P("other"), "checkpoint.safetensors"), Path.Combine(folder, "checkpoint.safetensors"));

        var (c0, _, e0) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", folder);
        Assert.Equal(1, c0);
        Assert.Contains("already exists; pass --force", e0);

        // a forced run that fails (its checkpoint cannot be written: a folder has that name): the run that last finished is
        // what comes back, not the killed run
        File.Delete(Path.Combine(folder, "checkpoint.safetensors"));
        Directory.CreateDirectory(Path.Combine(folder, "checkpoint.safetensors"));
        Assert.Equal(1, CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", folder, "--force").Code);
        Directory.Delete(Path.Combine(folder, "checkpoint.safetensors"));
        AssertSameFiles(before, folder);
        Assert.False(Directory.Exists(aside));

        // resume finishing the killed run replaces the kept one
        Directory.CreateDirectory(aside);
        foreach (var name in before.Keys) File.Move(Path.Combine(folder, name), Path.Combine(aside, name), overwrite: true);
        File.Copy(Path.Combine(P("other"), "checkpoint.safetensors"), Path.Combine(folder, "checkpoint.safetensors"));
        var (c1, s1, e1) = CliRunner.Run("resume", folder);
        Assert.True(c1 == 0, s1 + e1);
        Assert.False(Directory.Exists(aside));
        Assert.Equal(RunRecord.Read(Path.Combine(P("other"), "run.json")).ParameterHash, RunRecord.Read(Path.Combine(folder, "run.json")).ParameterHash);
    }

    [Fact]
    public void A_model_too_large_for_the_machine_is_refused_with_its_parameter_count_and_bytes()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--layers", "100000000", "--out", P("big"));
        Assert.Equal(2, code);
        Assert.Contains("the model 4-100000000-3 has 800,000,003 parameters; training it needs at least", err);
        Assert.Contains("GiB", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(P("big")));

        var (c2, _, e2) = CliRunner.Run("train", "--data", "iris", "--layers", "100000,100000", "--out", P("big"));
        Assert.Equal(2, c2);
        Assert.Contains("exceed the", e2);
    }

    [Fact]
    public void The_memory_estimate_counts_parameters_gradients_optimizer_buffers_snapshots_and_activations()
    {
        var (p, bytes) = Experiment.MemoryEstimate(new ExperimentConfig(Optimizer: "adam"), [4, 10, 3], rows: 1, checkpoints: false);
        Assert.Equal(4 * 10 + 10 + 10 * 3 + 3, p);
        // params + grads + 2 moments during the step, a snapshot of params + 2 moments: 7 copies; activations 10·(4 + 10 + 3)
        Assert.Equal(4 * (83 * 7 + 10 * 17), bytes);
        Assert.Equal(4 * (83 * 3 + 10 * 17), Experiment.MemoryEstimate(new ExperimentConfig(Optimizer: "sgd"), [4, 10, 3], 1, false).Bytes);
        Assert.Equal(4 * (83 * 5 + 10 * 17), Experiment.MemoryEstimate(new ExperimentConfig(Optimizer: "sgd", Momentum: 0.9), [4, 10, 3], 1, false).Bytes);
        Assert.Equal(4 * (83 * 13 + 10 * 17 * 32), Experiment.MemoryEstimate(new ExperimentConfig(Optimizer: "adamw"), [4, 10, 3], 32).Bytes);
    }

    [Fact]
    public void Predict_takes_every_data_form_train_takes()
    {
        var model = TrainedModel();
        var (c1, _, e1) = CliRunner.Run("predict", "--model", model, "--data", "iris", "--out", P("bundled.csv"));
        Assert.True(c1 == 0, e1);
        Assert.Equal(151, File.ReadAllLines(P("bundled.csv")).Length);

        var semicolons = P("semi.csv");
        File.WriteAllLines(semicolons, ["sepal_length_cm;sepal_width_cm;petal_length_cm;petal_width_cm", "5.1;3.5;1.4;0.2"]);
        var (c2, _, e2) = CliRunner.Run("predict", "--model", model, "--data", semicolons, "--out", P("semi-out.csv"));
        Assert.True(c2 == 0, e2);
        Assert.Contains(",setosa,", File.ReadAllLines(P("semi-out.csv"))[1]);

        var gz = P("not-text.csv");
        File.WriteAllBytes(gz, [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00]);
        var (c3, _, e3) = CliRunner.Run("predict", "--model", model, "--data", gz, "--out", P("gz-out.csv"));
        Assert.Equal(1, c3);
        Assert.Contains("not a text CSV file", e3);
        Assert.False(File.Exists(P("gz-out.csv")));
    }
    [Fact]
    public void An_unusable_output_path_is_a_usage_error_naming_the_option_and_the_problem()
    {
        var model = TrainedModel();
        var csv = IrisCsv();
        var afile = P("afile");
        File.WriteAllText(afile, "keep me");
        string under = Path.Combine(afile, "x"), missing = Path.Combine(P("no-such-folder"), "out.x");
        var commands = new (Func<string, string[]> Args, string Option, bool Folder)[]
        {
            (o => ["train", "--data", "iris", "--epochs", "1", "--checkpoint-every", "0", "--out", o], "--out", true),
            (o => ["sweep", "run", P("sweep.json"), "--out", o], "--out", true),
            (o => ["lesson", "loss", "--out", o], "--out", true),
            (o => ["predict", "--model", model, "--data", csv, "--out", o], "--out", false),
            (o => ["export", model, "--onnx", o], "--onnx", false),
        };
        foreach (var (args, option, folder) in commands)
        {
            void Refused(string path, string message)
            {
                var (code, _, err) = CliRunner.Run(args(path));
                Assert.True(code == 2 && err.Trim() == $"neuralpure: {message}", $"{string.Join(' ', args(path))}: exit {code}, {err}");
            }
            Refused("", $"{option} is empty: give a path");
            Refused(" ", $"{option} is empty: give a path");
            Refused(under, $"{option} '{under}': '{afile}' is a file");
            if (folder) Refused(afile, $"{option} '{afile}' is a file, not a folder");
            else Refused(missing, $"{option} '{missing}': the folder '{Path.GetDirectoryName(missing)}' does not exist");
        }
        Assert.Equal("keep me", File.ReadAllText(afile));
        Assert.False(Directory.Exists(P("no-such-folder")));
    }
}
