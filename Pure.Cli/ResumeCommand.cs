using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure resume &lt;run folder&gt;</c>: continues a killed or interrupted run from its last checkpoint and finishes it,
/// with the same final parameters, bit for bit, as the run done without interruption.</summary>
/// <remarks>The checkpoint carries the experiment's config and the data's SHA-256, so nothing else is needed; the data must be
/// reachable by the same name or path as when the run started (relative paths from the same working directory).</remarks>
internal static class ResumeCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("run") { Description = "The run folder written by neuralpure train (holding checkpoint.safetensors)" };
        var cmd = new Command("resume", "Continue a killed or interrupted run from its last checkpoint and finish it (same final parameters as an uninterrupted run)")
        {
            folder, TrainCommand.Json, ReplayCommand.DataOverride, ReplayCommand.LabelsOverride,
        };
        cmd.SetAction(p => Run(p.GetValue(folder)!, p.GetValue(TrainCommand.Json), p.GetValue(ReplayCommand.DataOverride), p.GetValue(ReplayCommand.LabelsOverride)));
        return cmd;
    }

    private static int Run(string folder, bool json, string? dataOverride, string? labelsOverride)
    {
        if (File.Exists(folder) && Path.GetFileName(folder) == TrainCommand.CheckpointFileName) folder = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"run folder '{folder}' does not exist");
        string path = Path.Combine(folder, TrainCommand.CheckpointFileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{folder}' holds no {TrainCommand.CheckpointFileName}; only runs trained with checkpoints (--checkpoint-every ≥ 1, the default) can be resumed", path);
        using var held = RunFolder.Reopen(folder);
        RemoveStaleTemporaries(folder);

        var checkpoint = FitCheckpoint.Read(path);
        ValidatedConfig validated;
        try
        {
            validated = ExperimentConfig.FromJson(Meta(checkpoint, "config", path)).Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw DataFormatException.InMetadata(path, "config", $"the checkpoint's experiment config is unusable: {Program.OneLine(e)}", e);
        }
        var config = validated.Config;
        if (!int.TryParse(Meta(checkpoint, "checkpointEvery", path), NumberStyles.None, CultureInfo.InvariantCulture, out int every) || every < 1)
            throw DataFormatException.InMetadata(path, "checkpointEvery", "the checkpoint interval must be a whole number ≥ 1");

        // where the data is now: --data, the recorded path from here, from the run folder, or the absolute path recorded. The run
        // goes on with its config as given (its record's data.given and config.data say what the user gave train); where the
        // data was found goes to the record's data.resolved and relativeToRun, and to the checkpoint's, for the next resume.
        var where = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, field) in new[] { ("data.resolved", "resolved"), ("data.relativeToRun", "relativeToRun"), ("data.labelsResolved", "labelsResolved"), ("data.labelsRelativeToRun", "labelsRelativeToRun") })
            if (checkpoint.Metadata.TryGetValue(key, out var v) && v.Length > 0) where[field] = v;
        var found = RecordedData.Locate(config, Path.GetFullPath(folder), where, dataOverride, labelsOverride);
        IReadOnlyList<string>? names = null;
        if (checkpoint.Metadata.TryGetValue("data.classNames", out var namesJson))
        {
            try { names = JsonSerializer.Deserialize(namesJson, CliJson.Compact.ListString); }
            catch (JsonException e) { throw DataFormatException.InMetadata(path, "data.classNames", "the class names are not a JSON list", e); }
        }
        var data = TrainCommand.LoadData(found, names is { Count: > 0 } ? names : null);
        string recorded = Meta(checkpoint, "data.sha256", path);
        if (data.Sha256 != recorded)
            throw new InvalidOperationException($"the data '{found.Data}' differs from the run's (sha256 {data.Sha256[..12]}… vs recorded {recorded[..Math.Min(12, recorded.Length)]}…); resume needs the same data");

        RequireNotBehindTheRecord(folder, checkpoint, config);
        var plan = TrainCommand.Plan(validated, data);
        var checkpointing = TrainCommand.CheckpointFor(folder, config, data, every, found);
        // Refused now, before it says it resumes or rewrites anything: a checkpoint that is not this run's.
        try { Fitter.RequireResumable(plan.Spec, plan.Optimizer, plan.Train, plan.Validation, plan.FitOptions, checkpoint, checkpointing?.Kinds); }
        catch (ArgumentException e) when (e.ParamName == "from") { throw NotItsConfig(path, e); }
        if (!json)
        {
            var s = checkpoint.State;
            Console.WriteLine(checkpoint.Finished
                ? $"the run in {folder} had already finished ({checkpoint.Reason.ToString().ToLowerInvariant()} after {s.Epoch} epochs); rewriting its outputs"
                : $"resuming {data.Name} in {folder} at epoch {s.Epoch + 1}/{config.Epochs}, batch {checkpoint.Cursor + 1}/{checkpoint.IterationsPerEpoch} (step {s.Step}; checkpoint written at {checkpoint.Reason.ToString().ToLowerInvariant()})");
        }
        try
        {
            int code = TrainCommand.Execute(plan, folder, json, checkpointing, checkpoint, found);
            held.Commit(); // a run a killed --force run had kept aside is replaced now that this one is written
            return code;
        }
        catch (ArgumentException e) when (e.ParamName == "from") { throw NotItsConfig(path, e); }
    }

    /// <summary>Fitter's refusal of a checkpoint whose model, optimizer or options differ from what its own config builds (a hand-edited file).</summary>
    private static DataFormatException NotItsConfig(string path, ArgumentException e) =>
        new(path, null, null, $"the checkpoint does not belong to its config: {Program.OneLine(e)}", e);

    /// <summary>Resume never goes back in time: a run.json in the folder that belongs to another experiment than the checkpoint, or
    /// that records more epochs than the checkpoint holds, means the checkpoint is older than the run there; refuse.</summary>
    private static void RequireNotBehindTheRecord(string folder, FitCheckpoint checkpoint, ExperimentConfig config)
    {
        var record = Path.Combine(folder, "run.json");
        if (!File.Exists(record)) return;
        ExperimentConfig recordedConfig; int epochs;
        try
        {
            var (c, _, _, losses) = RunRecord.Read(record);
            recordedConfig = c; epochs = losses.Length;
        }
        catch (DataFormatException) { return; } // an unreadable record is rewritten by the run
        bool same = recordedConfig with { Data = config.Data, Labels = config.Labels, Threads = config.Threads } == config with { Threads = config.Threads };
        if (!same || epochs > checkpoint.State.Epoch)
            throw new InvalidOperationException(
                $"the run record in '{folder}' is newer than its checkpoint ({(same ? $"it records {epochs} epochs, the checkpoint {checkpoint.State.Epoch}" : "it belongs to another experiment")}); "
                + "resuming would bring an older run back over it. Train afresh with --force, or move the record away");
    }

    private static string Meta(FitCheckpoint c, string key, string path) =>
        c.Metadata.TryGetValue(key, out var v) ? v
            : throw DataFormatException.InMetadata(path, key, "missing; the checkpoint was not written by neuralpure train");

    /// <summary>Deletes <c>.{output}.*.tmp</c> files that AtomicFile leaves only when the process dies between creating and renaming them.</summary>
    internal static void RemoveStaleTemporaries(string folder)
    {
        foreach (var name in RunFolder.Outputs)
            foreach (var tmp in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
            {
                try { File.Delete(tmp); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
    }
}
