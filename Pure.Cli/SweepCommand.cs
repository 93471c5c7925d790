using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure sweep plan|run|report</c>: many <c>train</c> runs from one sweep file (a base config, axes of values, seeds),
/// on this machine (<c>--jobs</c>) or one trial per job-array task (<c>--index</c>, <c>--index-from-env</c>), and their comparison.</summary>
/// <remarks>Each trial is an ordinary run folder, <c>&lt;out&gt;/&lt;trial name&gt;</c>, written by train's own code (plan, checkpoints,
/// outputs, run.json last), so it holds what <c>neuralpure train &lt;the trial's options&gt; --out &lt;folder&gt;</c> writes, timings
/// apart. Re-running skips finished trials and resumes interrupted ones from their checkpoints.</remarks>
internal static class SweepCommand
{
    /// <summary>A test's stand-in for a kill: called after every epoch of every trial with (trial index, epoch); true cancels the
    /// whole sweep at the next batch boundary, as Ctrl+C does.</summary>
    internal static Func<int, int, bool>? CancelAfterEpoch;

    /// <summary>The environment variables <c>--index-from-env</c> reads, in order: Slurm job arrays, Kubernetes Indexed Jobs.</summary>
    internal static readonly string[] IndexVariables = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

    public static Command Create()
    {
        var file = new Argument<string>("sweep") { Description = "The sweep file (JSON): {\"base\": {train options}, \"axes\": {option: [values]}, \"seeds\": [...], \"mode\": \"grid\"|\"zip\"}" };
        var json = new Option<bool>("--json") { Description = "Print the trials as JSON (what sweep run writes to <out>/sweep.json)" };
        var plan = new Command("plan", "Print the trials of a sweep file: index, name and train options, and their count") { file, json };
        plan.SetAction(p => Plan(p.GetValue(file)!, p.GetValue(json)));

        var runFile = new Argument<string>("sweep") { Description = file.Description };
        var outDir = new Option<string>("--out") { Description = "The sweep's folder: one run folder per trial, <out>/<trial name>", Required = true };
        var jobs = new Option<int>("--jobs") { Description = "Trials run at once on this machine", DefaultValueFactory = _ => 1 };
        var index = new Option<int?>("--index") { Description = "Run only the trial of this index (what a job array task calls)" };
        var fromEnv = new Option<bool>("--index-from-env") { Description = $"Run only the trial whose index is in {string.Join(" or ", IndexVariables)}" };
        var run = new Command("run", "Run the trials of a sweep file (skipping finished ones, resuming interrupted ones from their checkpoints)")
        {
            runFile, outDir, jobs, index, fromEnv,
        };
        run.SetAction(p => Run(p.GetValue(runFile)!, p.GetValue(outDir)!, p.GetValue(jobs), p.GetValue(index), p.GetValue(fromEnv)));

        var folder = new Argument<string>("folder") { Description = "The sweep's folder (the --out of sweep run)" };
        var reportJson = new Option<bool>("--json") { Description = "Print report.json to stdout and nothing else" };
        var report = new Command("report", "Compare the trials of a sweep: per configuration mean, std and min–max over seeds; the best; CSV, JSON and SVG plots")
        {
            folder, reportJson,
        };
        report.SetAction(p => SweepReport.Run(p.GetValue(folder)!, p.GetValue(reportJson)));

        return new Command("sweep", "Sweeps over configurations and seeds: plan, run (here, --jobs N, or one --index per job-array task) and report")
        {
            plan, run, report,
        };
    }

    private static int Plan(string path, bool json)
    {
        var sweep = SweepFile.Load(path);
        if (json)
        {
            Console.WriteLine(sweep.Manifest().ToJsonString(ExperimentConfig.JsonOptions));
            return 0;
        }
        Console.WriteLine($"{path}: {Describe(sweep)}");
        int width = Math.Max(4, sweep.Trials.Max(t => t.Trial.Name.Length));
        Console.WriteLine($"{"index",5}  {"name".PadRight(width)}  train options");
        foreach (var t in sweep.Trials)
            Console.WriteLine($"{t.Trial.Index,5}  {t.Trial.Name.PadRight(width)}  {string.Join(" ", t.TrainArgs.Select(Quote))}");
        Console.WriteLine($"{sweep.Trials.Length} trials");
        return 0;
    }

    private static string Describe(SweepFile sweep)
    {
        int seeds = sweep.Trials.Select(t => t.Trial.Seed).Distinct().Count();
        int configurations = sweep.Trials.Length / seeds;
        string axes = sweep.Axes.Length == 0 ? "no axes"
            : string.Join(sweep.Zip ? ", " : " × ", sweep.Axes.Select(a => $"{a} {sweep.Trials.Select(t => t.Trial.Settings.First(s => s.Key == a).Value).Distinct().Count()}"));
        return $"{sweep.Trials.Length} trials ({(sweep.Zip ? "zip" : "grid")} of {axes} = {configurations} configuration{(configurations == 1 ? "" : "s")}, × {seeds} seed{(seeds == 1 ? "" : "s")})";
    }

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_.,=+/:".Contains(c, StringComparison.Ordinal)) ? a : $"'{a.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    /// <summary>The index a job-array task runs: <c>--index</c>, or the first of <see cref="IndexVariables"/> that is set.</summary>
    internal static int? SelectedIndex(int? index, bool fromEnv, int count)
    {
        if (index is not null && fromEnv) throw new UsageException("--index and --index-from-env contradict each other; give one");
        if (fromEnv)
        {
            var (name, value) = IndexVariables.Select(v => (v, Environment.GetEnvironmentVariable(v))).FirstOrDefault(p => !string.IsNullOrWhiteSpace(p.Item2));
            if (name is null) throw new UsageException($"--index-from-env: neither {string.Join(" nor ", IndexVariables)} is set (run as a Slurm array task or a Kubernetes Indexed Job, or pass --index)");
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int i)) throw new UsageException($"--index-from-env: {name} is '{value}', not a trial index");
            index = i;
            if (i >= count) throw new UsageException($"--index-from-env: {name} is {i}, but the sweep has {count} trials (indices 0 to {count - 1}; e.g. sbatch --array=0-{count - 1})");
        }
        if (index is { } k && (k < 0 || k >= count)) throw new UsageException($"--index {k} is out of range: the sweep has {count} trials (indices 0 to {count - 1})");
        return index;
    }

    private static int Run(string path, string outDir, int jobs, int? indexArg, bool fromEnv)
    {
        if (jobs < 1) throw new UsageException($"--jobs must be ≥ 1, got {jobs}");
        OutputPath.RequireFolder("--out", outDir);
        var sweep = SweepFile.Load(path);
        int? index = SelectedIndex(indexArg, fromEnv, sweep.Trials.Length);
        var selected = index is { } i ? [sweep.Trials[i]] : sweep.Trials.ToList();
        RequireSweepFolder(outDir);
        foreach (var t in selected) Classify(TrialFolder(outDir, t), t); // refuse a foreign folder before anything is written
        WriteManifest(outDir, sweep);

        var gate = new object();
        void Say(string line) { lock (gate) Console.WriteLine(line); }
        Say(index is { } only ? $"sweep {path}: trial {only} of {sweep.Trials.Length}, into {outDir}" : $"sweep {path}: {Describe(sweep)}, {jobs} at a time, into {outDir}");

        using var stop = new StopSignals();
        var cts = stop.Source;
        var outcomes = new Outcome[selected.Count];
        int next = -1;
        void Worker()
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < selected.Count)
                outcomes[k] = cts.IsCancellationRequested ? new Outcome(Kind.NotStarted, null) : RunTrial(selected[k], TrialFolder(outDir, selected[k]), sweep.Trials.Length, cts, Say);
        }
        var workers = Enumerable.Range(0, Math.Min(jobs, selected.Count)).Select(_ => Task.Factory.StartNew(Worker, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(workers);

        int finished = outcomes.Count(o => o.What is Kind.Done or Kind.Skipped);
        int failed = outcomes.Count(o => o.What == Kind.Failed);
        int stopped = outcomes.Count(o => o.What is Kind.Cancelled or Kind.NotStarted);
        Say($"{finished} of {selected.Count} trial{(selected.Count == 1 ? "" : "s")} finished ({outcomes.Count(o => o.What == Kind.Skipped)} already were){(failed > 0 ? $", {failed} failed" : "")}{(stopped > 0 ? $", {stopped} interrupted or not started" : "")}");
        if (stopped > 0)
        {
            Console.Error.WriteLine($"neuralpure: sweep interrupted; run the same command again to finish it (finished trials are skipped, interrupted ones resume from their checkpoints)");
            return stop.Signalled == TrainCommand.Terminated ? TrainCommand.Terminated : Program.Interrupted;
        }
        if (failed > 0) return outcomes.Any(o => o.What == Kind.Failed && o.Usage) ? Program.Usage : Program.Failure;
        if (index is null) Say($"compare them with: neuralpure sweep report {outDir}");
        return 0;
    }

    private enum Kind { Done, Skipped, Cancelled, NotStarted, Failed }

    private sealed record Outcome(Kind What, string? Message, bool Usage = false);

    internal static string TrialFolder(string outDir, SweepTrialSpec t) => Path.Combine(outDir, t.Trial.Name);

    /// <summary>The sweep's folder is new, empty, or an existing sweep's (it holds a sweep.json manifest); a folder with other files is refused.</summary>
    /// <remarks>Job-array tasks start at once: while one writes the manifest, the folder holds only that write's temporary file
    /// (<see cref="AtomicFile"/>'s <c>.sweep.json.{random}.tmp</c>; the manifest is written before any trial folder), which is
    /// another task of this sweep at work, not someone else's file.</remarks>
    private static void RequireSweepFolder(string outDir)
    {
        var manifest = Path.Combine(outDir, SweepFile.ManifestName);
        static bool ManifestBeingWritten(string entry)
        {
            var name = Path.GetFileName(entry);
            return name.StartsWith($".{SweepFile.ManifestName}.", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal);
        }
        if (Directory.Exists(outDir) && !File.Exists(manifest) && Directory.EnumerateFileSystemEntries(outDir).All(ManifestBeingWritten)) return;
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            if (!File.Exists(manifest))
                throw new IOException($"'{outDir}' already exists and is not a sweep's folder (it has no {SweepFile.ManifestName}); choose another --out (a sweep never writes into someone else's folder)");
            JsonObject? existing = null;
            try { existing = JsonNode.Parse(File.ReadAllText(manifest)) as JsonObject; }
            catch (System.Text.Json.JsonException) { }
            if (existing?["format"]?.GetValue<string>() != SweepFile.ManifestFormat)
                throw new IOException($"'{manifest}' is not a NeuralPure sweep manifest ({SweepFile.ManifestFormat}); choose another --out");
        }
    }

    /// <summary>Writes this plan's sweep.json (replacing a previous plan's: the trial folders are named by their configs, so the trials
    /// of another plan are simply not this plan's, and stay untouched).</summary>
    private static void WriteManifest(string outDir, SweepFile sweep)
    {
        var manifest = Path.Combine(outDir, SweepFile.ManifestName);
        try
        {
            Directory.CreateDirectory(outDir);
            AtomicFile.WriteAllText(manifest, sweep.Manifest().ToJsonString(ExperimentConfig.JsonOptions) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"cannot write to sweep folder '{outDir}': {e.Message}", e); }
    }

    internal enum TrialState { New, Finished, Resumable, Restart }

    private static bool SameExperiment(ExperimentConfig a, ExperimentConfig b) => a with { Threads = 0 } == b with { Threads = 0 };

    /// <summary>What a trial's folder holds: nothing (or only a lock and temporaries a kill left): new; this trial's finished run:
    /// finished; its checkpoint: resumable; its cancelled record without a checkpoint: restart. Anything else is refused, and so
    /// is a finished run kept aside (<see cref="RunFolder.ReplacedFolderName"/>, by a <c>train --force</c> that did not write its
    /// own) that a restart would delete. A cancelled run kept there (a restart killed before it wrote its outputs) is the
    /// trial's: the next restart keeps it aside, the next resume replaces it.</summary>
    internal static TrialState Classify(string folder, SweepTrialSpec t)
    {
        if (!Directory.Exists(folder)) return TrialState.New;
        var config = t.Validated.Config;
        IOException Refuse(string why) => new IOException($"trial {t.Trial.Index}'s folder '{folder}' {why}; the sweep never overwrites it: move it away, or choose another --out");
        var record = Path.Combine(folder, "run.json");
        var checkpoint = Path.Combine(folder, TrainCommand.CheckpointFileName);
        string? StatusOf(string file)
        {
            string where = file == record ? "" : $"in {RunFolder.ReplacedFolderName} ";
            try
            {
                var (recorded, _, _, _) = RunRecord.Read(file);
                if (!SameExperiment(recorded, config)) throw Refuse($"holds {where}a run of another experiment");
                return RunRecord.ReadJson(file)["status"]?.GetValue<string>();
            }
            catch (Exception e) when (e is DataFormatException or InvalidOperationException) { throw Refuse($"holds {where}a run.json that is not a NeuralPure run record ({Program.OneLine(e)})"); }
        }
        bool hasRecord = File.Exists(record);
        string? status = hasRecord ? StatusOf(record) : null;
        if (hasRecord && status != "cancelled") return TrialState.Finished;
        var kept = Path.Combine(folder, RunFolder.ReplacedFolderName, "run.json");
        if (File.Exists(kept) && StatusOf(kept) != "cancelled")
            throw Refuse($"keeps a finished run in {RunFolder.ReplacedFolderName} (a train --force there did not finish)");
        if (File.Exists(checkpoint))
        {
            FitCheckpoint c;
            try { c = FitCheckpoint.Read(checkpoint); }
            catch (Exception e) when (e is DataFormatException or IOException or ArgumentException or InvalidOperationException) { throw Refuse($"holds an unreadable checkpoint ({Program.OneLine(e)})"); }
            ExperimentConfig? recorded = null;
            try { recorded = c.Metadata.TryGetValue("config", out var j) ? ExperimentConfig.FromJson(j) : null; }
            catch (System.Text.Json.JsonException) { }
            if (recorded is null || !SameExperiment(recorded, config)) throw Refuse("holds a checkpoint of another experiment");
            return TrialState.Resumable;
        }
        if (status == "cancelled") return TrialState.Restart;
        var others = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName)
            .Where(n => n != RunFolder.LockFileName && n != RunFolder.ReplacedFolderName && !RunFolder.Outputs.Any(o => n!.StartsWith($".{o}.", StringComparison.Ordinal) && n.EndsWith(".tmp", StringComparison.Ordinal))).ToList();
        if (others.Count > 0) throw Refuse($"holds files that are not this trial's run ({string.Join(", ", others.Take(3))})");
        return TrialState.New;
    }

    private static Outcome RunTrial(SweepTrialSpec t, string folder, int count, CancellationTokenSource cts, Action<string> say)
    {
        string who = $"trial {t.Trial.Index}/{count} {t.Trial.Name}";
        try
        {
            using var held = RunFolder.Hold(folder);
            var state = Classify(folder, t); // again, under the lock: another process may have finished it meanwhile
            var validated = t.Validated;
            var config = validated.Config;
            var data = TrainCommand.LoadData(config);
            if (state == TrialState.Finished)
            {
                // Finished on this data, or the sweep's trials would not be comparable (a resumed trial is checked the same way).
                var (_, recorded, _, _) = RunRecord.Read(Path.Combine(folder, "run.json"));
                if (recorded != data.Sha256)
                    throw new InvalidOperationException($"the data '{config.Data}' differs from the one trial {t.Trial.Index} finished on (sha256 {data.Sha256[..12]}… vs recorded {recorded[..Math.Min(12, recorded.Length)]}…); its figures would not compare with the others': rerun the sweep on that data, or choose another --out");
                say($"{who}: already finished, skipped");
                return new Outcome(Kind.Skipped, null);
            }
            var plan = TrainCommand.Plan(validated, data);
            FitCheckpoint? resume = null;
            if (state == TrialState.Resumable)
            {
                ResumeCommand.RemoveStaleTemporaries(folder);
                resume = FitCheckpoint.Read(Path.Combine(folder, TrainCommand.CheckpointFileName));
                if (!resume.Metadata.TryGetValue("data.sha256", out var sha) || sha != data.Sha256)
                    throw new InvalidOperationException($"the data '{config.Data}' differs from the one trial {t.Trial.Index}'s checkpoint was trained on; the sweep needs the same data to resume it");
                say(resume.Finished ? $"{who}: had finished training but not written its outputs; writing them from the checkpoint"
                    : $"{who}: resuming at epoch {resume.State.Epoch + 1}/{config.Epochs}");
            }
            else
            {
                // A cancelled record without checkpoint waits aside, as train --force keeps the run it replaces, until this run's
                // outputs are written (it comes back if this run fails); temporaries a kill left are deleted.
                held.SetAside();
                say($"{who}: started");
            }
            var checkpoint = TrainCommand.CheckpointFor(folder, config, data, t.CheckpointEvery);
            var progress = new SyncProgress<EpochReport>(r => { if (CancelAfterEpoch?.Invoke(t.Trial.Index, r.Epoch) == true) cts.Cancel(); });
            var result = Experiment.Run(plan, progress, null, cts.Token, checkpoint, resume);
            TrainCommand.WriteOutputs(folder, result);
            held.Commit(); // the outputs are written: the run kept aside (by this restart, or one a kill cut short) goes now
            if (result.Fit.Status == FitStatus.Cancelled)
            {
                say($"{who}: interrupted after epoch {result.Fit.History.Length}; checkpoint saved");
                return new Outcome(Kind.Cancelled, null);
            }
            string metric = result.TestClassification is { } c ? $"test accuracy {Fmt.N(c.Accuracy)}" : result.TestRegression is { } g ? $"test R² {Fmt.N(g.R2)}" : "no test split";
            say($"{who}: {result.Status}, {metric}, {Fmt.N(result.Fit.Seconds, 2)} s");
            return new Outcome(Kind.Done, null);
        }
        catch (Exception e) when (e is UsageException or DataFormatException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            var message = $"{who}: {Program.OneLine(e)}";
            lock (Console.Error) Console.Error.WriteLine($"neuralpure: {message}");
            return new Outcome(Kind.Failed, message, e is UsageException);
        }
    }
}
