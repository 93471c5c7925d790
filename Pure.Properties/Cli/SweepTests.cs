using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using NeuralPure.Properties.Facade.Plots;
using NeuralPure.Properties.Reliability;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>The issue's sweep, small: a 2 × 3 grid (optimizer × lr) with 2 seeds on iris, 6 epochs a trial (12 trials, about a
/// second together), run once uninterrupted with --jobs 2; the tests compare every other way of running it against this one.</summary>
public sealed class ReferenceSweep : IDisposable
{
    public const string Json = """
        {
          // the keys are train's option names
          "base": {"data": "iris", "epochs": 6, "layers": [16]},
          "axes": {"optimizer": ["adam", "sgd"], "lr": [0.003, 0.01, 0.03]},
          "seeds": [1, 2]
        }
        """;

    public string Dir { get; } = CliRunner.TempDir();
    public string File => Path.Combine(Dir, "sweep.json");
    public string Out => Path.Combine(Dir, "reference");
    public (int Code, string Out, string Err) Run { get; }
    public (int Code, string Out, string Err) Report { get; }

    public ReferenceSweep()
    {
        System.IO.File.WriteAllText(File, Json);
        Run = CliRunner.Run("sweep", "run", File, "--out", Out, "--jobs", "2");
        Report = CliRunner.Run("sweep", "report", Out);
    }

    public void Dispose() { try { Directory.Delete(Dir, true); } catch (IOException) { } }

    public static IReadOnlyList<string> TrialNames(string sweepOut) =>
        [.. JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(sweepOut, "sweep.json")))!["trials"]!.AsArray().Select(t => t!["name"]!.GetValue<string>())];

    /// <summary>A trial folder's content apart from timings: model and plot bytes, run.json without seconds and examples/s, and
    /// every tensor of the checkpoint but the two that hold wall-clock seconds (the epoch history's and the progress').</summary>
    public static void AssertSameRun(string expected, string actual)
    {
        foreach (var f in new[] { "model.safetensors", "loss.svg" })
            Assert.True(System.IO.File.ReadAllBytes(Path.Combine(expected, f)).AsSpan().SequenceEqual(System.IO.File.ReadAllBytes(Path.Combine(actual, f))), $"{f} differs: {actual}");
        Assert.Equal(Untimed(Path.Combine(expected, "run.json")), Untimed(Path.Combine(actual, "run.json")));
        var (a, b) = (Tensors(Path.Combine(expected, "checkpoint.safetensors")), Tensors(Path.Combine(actual, "checkpoint.safetensors")));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var k in a.Keys.Where(k => k is not "history/epochs" and not "progress/doubles"))
            Assert.True(a[k].AsSpan().SequenceEqual(b[k]), $"checkpoint tensor {k} differs: {actual}");
    }

    public static string Untimed(string runJson)
    {
        var o = JsonNode.Parse(System.IO.File.ReadAllText(runJson))!.AsObject();
        o.Remove("seconds"); o.Remove("examplesPerSecond");
        return o.ToJsonString();
    }

    /// <summary>The raw bytes of each tensor of a safetensors file.</summary>
    public static Dictionary<string, byte[]> Tensors(string path)
    {
        var bytes = System.IO.File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(bytes.AsSpan(8, (int)n))!.AsObject();
        var d = new Dictionary<string, byte[]>();
        foreach (var (k, v) in header)
        {
            if (k == "__metadata__") continue;
            var off = v!["data_offsets"]!.AsArray();
            int s = (int)off[0]!.GetValue<long>(), e = (int)off[1]!.GetValue<long>();
            d[k] = bytes.AsSpan(8 + (int)n + s, e - s).ToArray();
        }
        return d;
    }

    /// <summary>report.json without the examples/s (wall-clock) figures and the folder's path.</summary>
    public static string UntimedReport(string sweepOut)
    {
        var o = JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(sweepOut, "report.json")))!.AsObject();
        o.Remove("folder");
        foreach (var c in o["configurations"]!.AsArray())
        {
            c!.AsObject().Remove("examplesPerSecond");
            foreach (var t in c["trials"]!.AsArray()) t!.AsObject().Remove("examplesPerSecond");
        }
        return o.ToJsonString();
    }
}

[Collection("Console")]
public sealed class SweepTests(ReferenceSweep reference) : IClassFixture<ReferenceSweep>, IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Sweep_plan_prints_the_issues_twelve_trials_with_stable_indices_and_names()
    {
        var file = P("issue.json");
        File.WriteAllText(file, """{"base": {"data": "iris", "epochs": 30}, "axes": {"lr": [0.003, 0.01, 0.03], "optimizer": ["adam", "sgd"]}, "seeds": [1, 2]}""");
        var (code, stdout, err) = CliRunner.Run("sweep", "plan", file);
        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("12 trials", lines[^1]);
        Assert.Contains("12 trials (grid of lr 3 × optimizer 2 = 6 configurations, × 2 seeds)", lines[0]);
        var rows = lines.Skip(2).Take(12).Select(l => l.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i.ToString(CultureInfo.InvariantCulture)), rows.Select(r => r[0]));
        // the order: the last axis fastest, the seeds innermost
        Assert.StartsWith("lr=0.003_optimizer=adam_seed=1-", rows[0][1]);
        Assert.StartsWith("lr=0.003_optimizer=adam_seed=2-", rows[1][1]);
        Assert.StartsWith("lr=0.003_optimizer=sgd_seed=1-", rows[2][1]);
        Assert.StartsWith("lr=0.03_optimizer=sgd_seed=2-", rows[11][1]);
        Assert.Equal("--data iris --epochs 30 --lr 0.01 --optimizer sgd --seed 2", rows[7][2]);
        Assert.Equal(12, rows.Select(r => r[1]).Distinct().Count());

        // stable: the same file gives the same names; the names are the façade's, derived from the config
        Assert.Equal(stdout, CliRunner.Run("sweep", "plan", file).Out);
        var config = new ExperimentConfig(Data: "iris", Epochs: 30, LearningRate: 0.01, Optimizer: "sgd", Seed: 2);
        Assert.Equal(Sweep.TrialName([new("lr", "0.01"), new("optimizer", "sgd")], 2, config), rows[7][1]);
        // zip: the i-th values together
        var zip = P("zip.json");
        File.WriteAllText(zip, """{"base": {"data": "iris"}, "axes": {"lr": [0.01, 0.1, 0.2], "batch-size": [8, 16, 32]}, "mode": "zip", "seeds": [5]}""");
        var (zc, zout, zerr) = CliRunner.Run("sweep", "plan", zip);
        Assert.True(zc == 0, zerr);
        Assert.Contains("3 trials (zip of lr 3, batch-size 3 = 3 configurations, × 1 seed)", zout);
        Assert.Contains("--data iris --lr 0.1 --batch-size 16 --seed 5", zout);
        Assert.DoesNotContain("--lr 0.1 --batch-size 8", zout);
        // a long configuration still makes a file name: at most 160 characters and the hash
        var longName = Sweep.TrialName([new("arch", new string('x', 100)), new("no-decay", new string('y', 100)), new("layers", new string('z', 100))], 1, config);
        Assert.True(longName.Length <= 169, longName);
        Assert.EndsWith("-" + Sweep.ConfigHash(config)[..8], longName);
        // plan --json is the manifest sweep run writes
        var json = JsonNode.Parse(CliRunner.Run("sweep", "plan", file, "--json").Out)!;
        Assert.Equal(12, json["trials"]!.AsArray().Count);
        Assert.Equal(rows[7][1], json["trials"]![7]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_2x3_grid_with_2_seeds_on_iris_runs_with_jobs_2_and_each_trial_folder_is_what_train_writes_for_its_options()
    {
        var (code, stdout, err) = reference.Run;
        Assert.True(code == 0, stdout + err);
        Assert.Contains("12 trials (grid of optimizer 2 × lr 3 = 6 configurations, × 2 seeds), 2 at a time", stdout);
        Assert.Contains("12 of 12 trials finished", stdout);
        var names = ReferenceSweep.TrialNames(reference.Out);
        Assert.Equal(12, names.Count);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(reference.Out, "sweep.json")))!;
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            var folder = Path.Combine(reference.Out, name);
            Assert.Equal("completed", RunFolder.Status(folder));
            Assert.False(File.Exists(Path.Combine(folder, ".neuralpure.lock")));
        }
        // two trials against neuralpure train with the trial's own options: the same folder, timings apart
        foreach (int i in new[] { 3, 10 })
        {
            var args = manifest["trials"]![i]!["train"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
            var own = P($"train-{i}");
            var (c, _, e) = CliRunner.Run(["train", .. args, "--out", own]);
            Assert.True(c == 0, e);
            ReferenceSweep.AssertSameRun(own, Path.Combine(reference.Out, names[i]));
        }
    }

    [Fact]
    public void Killing_the_sweep_mid_way_and_running_it_again_gives_the_same_report_and_the_same_bits_in_every_trial()
    {
        var file = P("sweep.json");
        File.WriteAllText(file, ReferenceSweep.Json);
        var out1 = P("killed");
        // the kill: cancellation in the middle of trial 5's third epoch (trial 4 or 6 runs beside it: --jobs 2)
        SweepCommand_CancelAfter((i, epoch) => i == 5 && epoch == 3);
        (int Code, string Out, string Err) first;
        try { first = CliRunner.Run("sweep", "run", file, "--out", out1, "--jobs", "2"); }
        finally { SweepCommand_CancelAfter(null); }
        Assert.True(first.Code == 130, first.Out + first.Err);
        Assert.Contains("sweep interrupted; run the same command again", first.Err);
        var names = ReferenceSweep.TrialNames(out1);
        var five = Path.Combine(out1, names[5]);
        Assert.Equal("cancelled", RunFolder.Status(five));
        var at = RunFolder.TryCheckpoint(five)!;
        Assert.Equal(3, at.State.Epoch);
        Assert.False(File.Exists(Path.Combine(out1, names[11], "run.json"))); // never started
        // a report of the sweep so far: the finished trials only, counted
        var (pc, po, pe) = CliRunner.Run("sweep", "report", out1);
        Assert.True(pc == 0, pe);
        int sofar = JsonNode.Parse(File.ReadAllText(Path.Combine(out1, "report.json")))!["finished"]!.GetValue<int>();
        // trials 0–3 were done before trial 5 began; how many more finished beside it (4, 6, 7, …) depends on timing: the report
        // must count exactly the folders holding a finished run
        int finishedFolders = names.Count(n => File.Exists(Path.Combine(out1, n, "run.json")) && RunFolder.Status(Path.Combine(out1, n)) != "cancelled");
        Assert.True(sofar >= 4, $"{sofar} trials finished");
        Assert.Equal(finishedFolders, sofar);
        Assert.Contains($"sweep {out1}: {sofar} of 12 trials finished", po);
        Assert.Contains("  0/2  ", po); // the configurations not reached yet

        // and trial 5 then dies as SIGKILL would leave it: no record, model or plot, a stale temporary and the lock file
        foreach (var f in new[] { "run.json", "model.safetensors", "loss.svg" }) File.Delete(Path.Combine(five, f));
        File.WriteAllText(Path.Combine(five, ".checkpoint.safetensors.1234.tmp"), "half a write");
        File.WriteAllText(Path.Combine(five, ".neuralpure.lock"), "pid 1 since then\n");

        var (code, stdout, err) = CliRunner.Run("sweep", "run", file, "--out", out1, "--jobs", "2");
        Assert.True(code == 0, stdout + err);
        Assert.Contains($"trial 5/12 {names[5]}: resuming at epoch 4/6", stdout);
        Assert.Contains($"trial 0/12 {names[0]}: already finished, skipped", stdout);
        Assert.False(File.Exists(Path.Combine(five, ".checkpoint.safetensors.1234.tmp")));

        Assert.Equal(ReferenceSweep.TrialNames(reference.Out), names);
        foreach (var name in names) ReferenceSweep.AssertSameRun(Path.Combine(reference.Out, name), Path.Combine(out1, name));
        var (rc, _, rerr) = CliRunner.Run("sweep", "report", out1);
        Assert.True(rc == 0, rerr);
        Assert.Equal(ReferenceSweep.UntimedReport(reference.Out), ReferenceSweep.UntimedReport(out1));

        // a third run has nothing left to do
        var (c3, o3, _) = CliRunner.Run("sweep", "run", file, "--out", out1);
        Assert.Equal(0, c3);
        Assert.Contains("12 of 12 trials finished (12 already were)", o3);
    }

    /// <summary>The kill for real: a child <c>sweep run</c> killed with SIGKILL in the middle of its third trial (no handler runs,
    /// nothing is flushed), then the same command again in process: the trial resumes from its last checkpoint, and every
    /// trial and the report end as in an uninterrupted sweep.</summary>
    [Fact]
    public void A_sweep_killed_with_SIGKILL_in_a_trial_resumes_it_from_its_checkpoint_and_ends_with_the_uninterrupted_bits()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        var file = P("digits.json");
        File.WriteAllText(file, """{"base": {"data": "digits", "layers": [64], "epochs": 20}, "axes": {"lr": [0.001, 0.01]}, "seeds": [1, 2]}""");
        var whole = P("whole");
        Assert.Equal(0, CliRunner.Run("sweep", "run", file, "--out", whole).Code);
        var names = ReferenceSweep.TrialNames(whole);

        var killed = P("killed");
        using (var child = CliProcess.Start(_dir, "sweep", "run", file, "--out", killed))
        {
            var at = RunFolder.WaitFor(Path.Combine(killed, names[2]), child, c => c.State.Epoch >= 3);
            child.Kill9();
            Assert.NotNull(at);
            Assert.True(at!.State.Epoch < 20, "killed before trial 2 finished");
        }
        Assert.False(File.Exists(Path.Combine(killed, names[2], "run.json")));
        Assert.False(File.Exists(Path.Combine(killed, names[3], "run.json")));
        RunFolder.AssertNothingTruncated(Path.Combine(killed, names[2]), "after SIGKILL");

        var (code, stdout, err) = CliRunner.Run("sweep", "run", file, "--out", killed);
        Assert.True(code == 0, stdout + err);
        Assert.Contains($"trial 2/4 {names[2]}: resuming at epoch", stdout);
        Assert.Contains($"trial 1/4 {names[1]}: already finished, skipped", stdout);
        foreach (var name in names) ReferenceSweep.AssertSameRun(Path.Combine(whole, name), Path.Combine(killed, name));
        Assert.Equal(0, CliRunner.Run("sweep", "report", whole).Code);
        Assert.Equal(0, CliRunner.Run("sweep", "report", killed).Code);
        Assert.Equal(ReferenceSweep.UntimedReport(whole), ReferenceSweep.UntimedReport(killed));
    }

    private static void SweepCommand_CancelAfter(Func<int, int, bool>? hook) => NeuralPure.Cli.SweepCommand.CancelAfterEpoch = hook;

    /// <summary>Every file below <paramref name="dir"/> (its kept-aside folder too) but the lock: its relative path and SHA-256.</summary>
    private static List<string> Snapshot(string dir) =>
        [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != ".neuralpure.lock").Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(dir, f)} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}")];

    /// <summary>Running a sweep again loses nothing: a finished trial is skipped with its files as they were; a trial that starts
    /// again (a cancelled record without its checkpoint, as a train of its options with --checkpoint-every 0 leaves it) keeps
    /// that run in .neuralpure-replaced, as train --force does, gets it back when the new run fails, and drops it once the new
    /// run is written, even after a kill cut the restart short; a finished run that a train --force kept there is refused, not deleted.</summary>
    [Fact]
    public void Running_a_sweep_again_keeps_finished_trials_and_an_unfinished_trials_run_until_its_new_run_is_written()
    {
        var file = P("sweep.json");
        File.WriteAllText(file, """{"base": {"data": "iris", "epochs": 3}, "axes": {"lr": [0.01, 0.02]}}""");
        var out1 = P("s");
        SweepCommand_CancelAfter((i, epoch) => i == 0 && epoch == 2);
        try { Assert.Equal(130, CliRunner.Run("sweep", "run", file, "--out", out1).Code); }
        finally { SweepCommand_CancelAfter(null); }
        Assert.Equal(0, CliRunner.Run("sweep", "run", file, "--out", out1, "--index", "1").Code);
        var names = ReferenceSweep.TrialNames(out1);
        string zero = Path.Combine(out1, names[0]), one = Path.Combine(out1, names[1]);
        Assert.Equal("cancelled", RunFolder.Status(zero));
        Assert.Equal("completed", RunFolder.Status(one));
        File.Delete(Path.Combine(zero, "checkpoint.safetensors"));
        var (cancelled, finished) = (Snapshot(zero), Snapshot(one));

        // the restart fails in its first epoch (the disk is full): the cancelled run is back as it was, the finished trial untouched
        SweepCommand_CancelAfter((i, _) => i == 0 ? throw new IOException("no space left on device") : false);
        (int Code, string Out, string Err) failed;
        try { failed = CliRunner.Run("sweep", "run", file, "--out", out1); }
        finally { SweepCommand_CancelAfter(null); }
        Assert.True(failed.Code == 1, failed.Out + failed.Err);
        Assert.Contains($"trial 0/2 {names[0]}: started", failed.Out);
        Assert.Contains($"trial 0/2 {names[0]}: no space left on device", failed.Err);
        Assert.Contains($"trial 1/2 {names[1]}: already finished, skipped", failed.Out);
        Assert.Equal(cancelled, Snapshot(zero));
        Assert.Equal(finished, Snapshot(one));

        // a kill in the middle of the restart leaves the cancelled run aside and a temporary: the next run restarts from there
        // and, once its outputs are written, the run kept aside goes
        var aside = Path.Combine(zero, ".neuralpure-replaced");
        Directory.CreateDirectory(aside);
        foreach (var f in new[] { "run.json", "model.safetensors", "loss.svg" }) File.Move(Path.Combine(zero, f), Path.Combine(aside, f));
        File.WriteAllText(Path.Combine(zero, ".model.safetensors.77.tmp"), "half a write");
        var (code, stdout, err) = CliRunner.Run("sweep", "run", file, "--out", out1);
        Assert.True(code == 0, stdout + err);
        Assert.Contains($"trial 0/2 {names[0]}: started", stdout);
        Assert.Equal("completed", RunFolder.Status(zero));
        Assert.False(Directory.Exists(aside));
        Assert.False(File.Exists(Path.Combine(zero, ".model.safetensors.77.tmp")));
        Assert.Equal(finished, Snapshot(one));

        // a finished run that a train --force cut short kept aside, with no record of its own beside it: refused, left as it is
        var kept = Path.Combine(one, ".neuralpure-replaced");
        Directory.CreateDirectory(kept);
        foreach (var f in new[] { "run.json", "model.safetensors", "loss.svg" }) File.Move(Path.Combine(one, f), Path.Combine(kept, f));
        var left = Snapshot(one);
        var (c2, _, e2) = CliRunner.Run("sweep", "run", file, "--out", out1, "--index", "1");
        Assert.Equal(1, c2);
        Assert.Contains($"trial 1's folder '{one}' keeps a finished run in .neuralpure-replaced (a train --force there did not finish); the sweep never overwrites it", e2);
        Assert.Equal(left, Snapshot(one));
    }

    /// <summary>Array tasks start together: a task that finds the folder holding only another task's half-written manifest
    /// (AtomicFile's temporary file) goes on, and leaves that file to its writer (the race a full-suite run hit once in four).</summary>
    [Fact]
    public void A_task_that_finds_another_tasks_manifest_being_written_goes_on()
    {
        var file = P("sweep.json");
        File.WriteAllText(file, ReferenceSweep.Json);
        var out2 = P("racing");
        Directory.CreateDirectory(out2);
        var temp = Path.Combine(out2, ".sweep.json.0123456789ab.tmp");
        File.WriteAllText(temp, "{");
        var (code, stdout, err) = CliRunner.Run("sweep", "run", file, "--out", out2, "--index", "0");
        Assert.True(code == 0, stdout + err);
        Assert.True(File.Exists(Path.Combine(out2, "sweep.json")));
        Assert.Equal("{", File.ReadAllText(temp));
    }

    [Fact]
    public async Task Index_for_each_trial_in_separate_processes_gives_the_same_folders_as_the_local_run()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        var file = P("sweep.json");
        File.WriteAllText(file, ReferenceSweep.Json);
        var out2 = P("array");
        var names = ReferenceSweep.TrialNames(reference.Out);
        var clock = Stopwatch.StartNew();
        // two array tasks at a time, as a cluster would run them; the last two read their index from the job runner's variable
        for (int i = 0; i < names.Count; i += 2)
        {
            var tasks = new[] { i, i + 1 }.Select(k => Start(out2, file, k)).Select(p => (p, Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
            foreach (var (t, stdout, stderr) in tasks)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await t.WaitForExitAsync(limit.Token);
                var (o, e) = (await stdout, await stderr);
                Assert.True(t.ExitCode == 0, o + e);
                Assert.Contains("1 of 1 trial finished (0 already were)", o);
                t.Dispose();
            }
        }
        Assert.True(clock.Elapsed.TotalSeconds < 60, $"{clock.Elapsed.TotalSeconds} s");
        Assert.Equal(
            Directory.EnumerateDirectories(reference.Out).Select(Path.GetFileName).Order(),
            Directory.EnumerateDirectories(out2).Select(Path.GetFileName).Order());
        foreach (var name in names)
        {
            Assert.Equal(Directory.EnumerateFiles(Path.Combine(reference.Out, name)).Select(Path.GetFileName).Order(),
                Directory.EnumerateFiles(Path.Combine(out2, name)).Select(Path.GetFileName).Order());
            ReferenceSweep.AssertSameRun(Path.Combine(reference.Out, name), Path.Combine(out2, name));
        }
    }

    private static Process Start(string outDir, string file, int index)
    {
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { CliProcess.CliDll, "sweep", "run", file, "--out", outDir }) psi.ArgumentList.Add(a);
        psi.Environment.Remove("SLURM_ARRAY_TASK_ID"); psi.Environment.Remove("JOB_COMPLETION_INDEX");
        if (index == 10) { psi.ArgumentList.Add("--index-from-env"); psi.Environment["SLURM_ARRAY_TASK_ID"] = "10"; }
        else if (index == 11) { psi.ArgumentList.Add("--index-from-env"); psi.Environment["JOB_COMPLETION_INDEX"] = "11"; }
        else { psi.ArgumentList.Add("--index"); psi.ArgumentList.Add(index.ToString(CultureInfo.InvariantCulture)); }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(psi)!;
    }

    [Fact]
    public void The_reports_numbers_are_those_of_the_trials_records()
    {
        var (code, stdout, err) = reference.Report;
        Assert.True(code == 0, err);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(reference.Out, "report.json")))!;
        Assert.Equal("test accuracy", report["metric"]!.GetValue<string>());
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(reference.Out, "sweep.json")))!["trials"]!.AsArray();
        var configurations = report["configurations"]!.AsArray();
        Assert.Equal(6, configurations.Count);
        var csv = File.ReadAllLines(Path.Combine(reference.Out, "report.csv"));
        Assert.Equal(7, csv.Length);
        var head = csv[0].Split(',');
        var means = new List<(string Label, double Metric, double TestLoss)>();
        foreach (var (c, row) in configurations.Select((c, i) => (c!, csv[i + 1].Split(','))))
        {
            var settings = c["settings"]!.AsObject();
            var trials = manifest.Where(t => settings.All(s => t!["settings"]![s.Key]!.GetValue<string>() == s.Value!.GetValue<string>())).ToList();
            Assert.Equal(2, trials.Count);
            var records = trials.Select(t => JsonNode.Parse(File.ReadAllText(Path.Combine(reference.Out, t!["name"]!.GetValue<string>(), "run.json")))!).ToList();
            void Check(string key, Func<JsonNode, double> of, string csvName)
            {
                var v = records.Select(of).ToList();
                double mean = v.Average(), std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
                var s = c[key]!;
                Assert.Equal(2, s["n"]!.GetValue<int>());
                Assert.Equal(mean, s["mean"]!.GetValue<double>(), 1e-12);
                Assert.Equal(std, s["std"]!.GetValue<double>(), 1e-12);
                Assert.Equal(v.Min(), s["min"]!.GetValue<double>());
                Assert.Equal(v.Max(), s["max"]!.GetValue<double>());
                Assert.Equal(s["mean"]!.GetValue<double>(), double.Parse(row[Array.IndexOf(head, $"{csvName}_mean")], CultureInfo.InvariantCulture));
                Assert.Equal(s["max"]!.GetValue<double>(), double.Parse(row[Array.IndexOf(head, $"{csvName}_max")], CultureInfo.InvariantCulture));
            }
            Check("metric", r => r["test"]!["accuracy"]!.GetValue<double>(), "metric");
            Check("testLoss", r => r["test"]!["loss"]!.GetValue<double>(), "test_loss");
            Check("finalTrainLoss", r => r["history"]!.AsArray()[^1]!["trainLoss"]!.GetValue<double>(), "final_train_loss");
            Check("finalValLoss", r => r["history"]!.AsArray()[^1]!["valLoss"]!.GetValue<double>(), "final_val_loss");
            var eps = records.Select(r => r["examplesPerSecond"]!.GetValue<double>()).Average();
            Assert.Equal(eps, c["examplesPerSecond"]!["mean"]!.GetValue<double>(), 1e-9 * eps);
            Assert.Equal(records.Select(r => r["parameters"]!["sha256"]!.GetValue<string>()), c["trials"]!.AsArray().Select(t => t!["parameterSha256"]!.GetValue<string>()));
            means.Add((c["label"]!.GetValue<string>(), c["metric"]!["mean"]!.GetValue<double>(), c["testLoss"]!["mean"]!.GetValue<double>()));
        }
        // the best: the highest mean test accuracy, ties broken by the lower mean test loss
        var bestLabel = means.OrderByDescending(m => m.Metric).ThenBy(m => m.TestLoss).First().Label;
        Assert.Equal(bestLabel, report["best"]!.GetValue<string>());
        Assert.Contains($"best: {bestLabel} (test accuracy", stdout);
        Assert.Contains("configuration", stdout);

        // plots: the metric against each axis (mean, min, max over seeds per value of the other axis) and the best and worst curves
        var lr = SvgPlot.Load(Path.Combine(reference.Out, "metric-lr.svg"));
        Assert.Equal(3, lr.Named("optimizer=adam: mean").Points.Count);
        Assert.Equal(3, lr.Named("optimizer=sgd: max").Points.Count);
        var opt = SvgPlot.Load(Path.Combine(reference.Out, "metric-optimizer.svg"));
        Assert.Equal(2, opt.Named("lr=0.01: mean").Points.Count);
        var curves = SvgPlot.Load(Path.Combine(reference.Out, "loss-best-worst.svg"));
        Assert.Equal(4, curves.Series.Count);
        Assert.All(curves.Series, s => Assert.Equal(6, s.Points.Count));
        Assert.Equal(2, curves.Series.Count(s => s.Name.StartsWith($"best: {bestLabel} seed", StringComparison.Ordinal)));
    }

    [Fact]
    public void Bad_sweep_files_are_usage_errors_that_name_the_key_the_trial_or_the_line()
    {
        var cases = new (string Json, string Expected)[]
        {
            ("{\"base\": {\"data\": \"iris\",\n  \"epochs\": 3,,\n}}", "not valid JSON at line 2, column 15"),
            ("""{"base": {"data": "iris", "learning-rate": 0.1}}""", "unknown option \"learning-rate\" in \"base\" (did you mean \"lr\"?)"),
            ("""{"base": {"data": "iris"}, "axes": {"batchSize": [8]}}""", "unknown option \"batchSize\" in \"axes\" (did you mean \"batch-size\"?)"),
            ("""{"base": {"data": "iris"}, "axes": {"lr": [0.01, -1]}, "seeds": [1, 2]}""", "trial 2 (lr=-1, seed 1): --lr must be a positive number, got -1"),
            ("""{"base": {"data": "iris", "epochs": "many"}}""", "trial 0 (seed 42): Cannot parse argument 'many' for option '--epochs'"),
            ("""{"base": {"data": "iris", "out": "x"}}""", "\"out\" in \"base\": the sweep sets --out itself"),
            ("""{"base": {"data": "iris", "seed": 3}}""", "list the seeds in \"seeds\""),
            ("""{"base": {"data": "iris"}, "axes": {"lr": []}}""", "axis \"lr\" must be a non-empty list"),
            ("""{"base": {"data": "iris"}, "axes": {"lr": [0.1], "epochs": [1, 2]}, "mode": "zip"}""", "\"zip\" needs axes of the same length, got lr: 1, epochs: 2"),
            ("""{"base": {"data": "iris"}, "seeds": [1, 1]}""", "\"seeds\" lists 1 twice"),
            ("""{"base": {"data": "iris"}, "seeds": [-1]}""", "\"seeds\" holds -1"),
            ("""{"base": {"data": "iris", "lr": 0.1}, "axes": {"lr": [0.2]}}""", "\"lr\" is both in \"base\" and in \"axes\""),
            ("""{"base": {"data": "iris"}, "axis": {}}""", "unknown key \"axis\" at the top level"),
            ("""{"base": {"data": "iris", "nesterov": "yes"}}""", "--nesterov is a flag: give true or false"),
            ("""{"base": {"data": "iris", "checkpoint-every": 0}}""", "checkpoint-every must be ≥ 1 in a sweep"),
            ("""{"base": {"data": "iris", "arch": "dense(8),relu", "layers": [8]}}""", "trial 0 (seed 42): --layers describes the MLP"),
            ("""[1, 2]""", "a sweep file is a JSON object"),
            // one experiment under two spellings: the names differ, the configs do not
            ("""{"base": {"data": "iris"}, "axes": {"lr": [0.01, 1e-2]}}""", "trials 0 (lr=0.01_seed=42-"),
            ("""{"base": {"data": "iris"}, "axes": {"batch-size": [null, 32]}}""", "are the same experiment (config sha256 "),
            // --arch lines whose syntax is wrong: at plan time, not when their trial runs
            ("""{"base": {"data": "iris"}, "axes": {"arch": ["dense(8),relu", "dense(8,relu"]}}""", "trial 1 (arch=dense(8,relu, seed 42): --arch opens a parenthesis it does not close"),
            ("""{"base": {"data": "iris"}, "axes": {"arch": ["dense(8)/relu"]}}""", "--arch item 1 'dense(8)/relu' opens a parenthesis it does not close"),
            ("""{"base": {"data": "iris"}, "axes": {"arch": ["dense(8),rleu"]}}""", "--arch item 2 'rleu' is not a layer NeuralPure knows"),
            ("""{"base": {"data": "iris"}, "axes": {"arch": ["dense(8),relu(2)"]}}""", "--arch item relu takes at most 0 positional argument(s), got 1"),
        };
        foreach (var (json, expected) in cases)
        {
            var file = P("bad.json");
            File.WriteAllText(file, json);
            foreach (var verb in new[] { "plan", "run" })
            {
                string[] args = verb == "plan" ? ["sweep", "plan", file] : ["sweep", "run", file, "--out", P("never")];
                var (code, stdout, err) = CliRunner.Run(args);
                Assert.True(code == 2, $"{json}: exit {code}\n{stdout}{err}");
                Assert.Contains(expected, err);
                Assert.StartsWith($"neuralpure: {file}: ", err);
                Assert.DoesNotContain("   at ", err);
            }
            Assert.False(Directory.Exists(P("never")));
        }
        var (c1, _, e1) = CliRunner.Run("sweep", "plan", P("missing.json"));
        Assert.Equal(2, c1);
        Assert.Contains("does not exist", e1);
        File.WriteAllText(P("ok.json"), """{"base": {"data": "iris", "epochs": 1}}""");
        var (c2, _, e2) = CliRunner.Run("sweep", "run", P("ok.json"), "--out", P("o"), "--index", "1");
        Assert.Equal(2, c2);
        Assert.Contains("--index 1 is out of range: the sweep has 1 trials", e2);
    }

    [Fact]
    public void A_finished_trial_is_skipped_only_on_the_data_it_ran_on_and_the_report_refuses_trials_of_different_data()
    {
        var csv = P("two.csv");
        string Rows(bool flip) => "a,b,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 7},{(i * 3) % 5},{((i % 2 == 0) ^ flip ? "u" : "v")}\n"));
        File.WriteAllText(csv, Rows(false));
        var file = P("sweep.json");
        File.WriteAllText(file, $$$"""{"base": {"data": "{{{csv.Replace("\\", "/")}}}", "epochs": 2}, "axes": {"lr": [0.01, 0.03]}}""");
        Assert.Equal(0, CliRunner.Run("sweep", "run", file, "--out", P("s")).Code);
        var names = ReferenceSweep.TrialNames(P("s"));
        var records = names.Select(n => File.ReadAllText(Path.Combine(P("s"), n, "run.json"))).ToList();
        // the same data: skipped
        var (c0, o0, _) = CliRunner.Run("sweep", "run", file, "--out", P("s"));
        Assert.Equal(0, c0);
        Assert.Contains("already finished, skipped", o0);
        // the labels flipped: the finished trials are not this data's; refused, and left as they were
        File.WriteAllText(csv, Rows(true));
        var (c1, _, e1) = CliRunner.Run("sweep", "run", file, "--out", P("s"));
        Assert.Equal(1, c1);
        Assert.Contains("differs from the one trial 0 finished on (sha256 ", e1);
        Assert.Equal(records, names.Select(n => File.ReadAllText(Path.Combine(P("s"), n, "run.json"))));
        // a trial rerun on the new data beside one of the old: the report will not rank them together
        Directory.Delete(Path.Combine(P("s"), names[1]), true);
        Assert.Equal(0, CliRunner.Run("sweep", "run", file, "--out", P("s"), "--index", "1").Code);
        var (c2, _, e2) = CliRunner.Run("sweep", "report", P("s"));
        Assert.NotEqual(0, c2);
        Assert.Contains("ran on different data (sha256 ", e2);
        Assert.Contains("for trial 0", e2);
        Assert.Contains("for trial 1", e2);
        Assert.DoesNotContain("   at ", e2);
    }

    [Fact]
    public void A_folder_that_is_not_this_sweeps_or_this_trials_is_refused_and_left_untouched()
    {
        var file = P("sweep.json");
        File.WriteAllText(file, """{"base": {"data": "iris", "epochs": 2}, "axes": {"lr": [0.01, 0.02]}}""");
        // the --out folder holds the user's files
        Directory.CreateDirectory(P("mine"));
        File.WriteAllText(P("mine/notes.txt"), "keep");
        var (c1, _, e1) = CliRunner.Run("sweep", "run", file, "--out", P("mine"));
        Assert.Equal(1, c1);
        Assert.Contains("is not a sweep's folder", e1);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(P("mine")).Select(Path.GetFileName));

        var names = JsonNode.Parse(CliRunner.Run("sweep", "plan", file, "--json").Out)!["trials"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        // a trial's folder holds someone's file
        Assert.Equal(0, CliRunner.Run("sweep", "run", file, "--out", P("s")).Code);
        var zero = Path.Combine(P("s"), names[0], "run.json");
        var stamp = File.GetLastWriteTimeUtc(zero);
        Directory.Delete(Path.Combine(P("s"), names[1]), true);
        Directory.CreateDirectory(Path.Combine(P("s"), names[1]));
        File.WriteAllText(Path.Combine(P("s"), names[1], "data.csv"), "mine");
        var (c2, o2, e2) = CliRunner.Run("sweep", "run", file, "--out", P("s"));
        Assert.Equal(1, c2);
        Assert.Contains($"trial 1's folder '{Path.Combine(P("s"), names[1])}' holds files that are not this trial's run (data.csv)", e2);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(zero)); // nothing ran before the refusal
        // a --out holding only a folder of the user's (even one named like a trial) is not a sweep's folder: nothing is written
        Directory.CreateDirectory(Path.Combine(P("fresh"), names[0]));
        File.WriteAllText(Path.Combine(P("fresh"), names[0], "x.txt"), "mine");
        Assert.Equal(1, CliRunner.Run("sweep", "run", file, "--out", P("fresh")).Code);
        Assert.Equal([names[0]], Directory.EnumerateFileSystemEntries(P("fresh")).Select(Path.GetFileName));
        Assert.Equal(["x.txt"], Directory.EnumerateFileSystemEntries(Path.Combine(P("fresh"), names[0])).Select(Path.GetFileName));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(P("s"), names[1], "data.csv")));
        // a trial's folder holds another experiment's run
        File.Delete(Path.Combine(P("s"), names[1], "data.csv"));
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", Path.Combine(P("s"), names[1]), "--force").Code);
        var before = File.ReadAllText(Path.Combine(P("s"), names[1], "run.json"));
        var (c3, _, e3) = CliRunner.Run("sweep", "run", file, "--out", P("s"), "--index", "1");
        Assert.Equal(1, c3);
        Assert.Contains("holds a run of another experiment", e3);
        Assert.Equal(before, File.ReadAllText(Path.Combine(P("s"), names[1], "run.json")));
        _ = o2;
    }

    [Fact]
    public void The_facades_trials_are_the_clis_and_each_is_a_pure_function_of_its_config_and_seed()
    {
        var trials = Sweep.Trials(new ExperimentConfig(Data: "iris", Epochs: 6, Layers: [16]),
            [SweepAxis.Of("optimizer", (c, v) => c with { Optimizer = v }, "adam", "sgd"), SweepAxis.Of("lr", (c, v) => c with { LearningRate = v }, 0.003, 0.01, 0.03)],
            [1UL, 2UL]);
        Assert.Equal(12, trials.Length);
        Assert.Equal(ReferenceSweep.TrialNames(reference.Out), trials.Select(t => t.Name));
        Assert.Equal(Enumerable.Range(0, 12), trials.Select(t => t.Index));
        var results = Sweep.Run(trials, jobs: 2);
        foreach (var (t, r) in trials.Zip(results))
        {
            Assert.Equal(RunFolder.RecordedHash(Path.Combine(reference.Out, t.Name)), r.ParameterHash);
            Assert.Equal(Experiment.Run(t.Config).ParameterHash, r.ParameterHash);
        }
        Assert.Equal("optimizer=sgd lr=0.01", trials[8].ConfigurationLabel);
        Assert.Equal(2UL, trials[9].Seed);
        Assert.Throws<ArgumentException>(() => Sweep.Trials(new ExperimentConfig(), [], [1UL, 1UL]));
        Assert.Single(Sweep.Trials(new ExperimentConfig(), [], [7UL]));
    }
}
