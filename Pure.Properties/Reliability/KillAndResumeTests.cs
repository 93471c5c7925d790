using System.Text.Json;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using NeuralPure.Properties.Facade.Data;
using Xunit;
using Xunit.Abstractions;

namespace NeuralPure.Properties.Reliability;

/// <summary>The uninterrupted run every interrupted one must reproduce, computed once in process.</summary>
public sealed class ReferenceRun
{
    /// <summary>digits, two hidden layers of 128 with dropout 0.1 (so the step key matters), 12 epochs of 45 batches: about 2 s of
    /// training, 13 checkpoints.</summary>
    public static readonly string[] TrainArgs =
        ["--data", "digits", "--layers", "128,128", "--dropout", "0.1", "--epochs", "12", "--seed", "7", "--checkpoint-every", "1"];

    public static readonly ExperimentConfig Config = new(Data: "digits", Layers: [128, 128], Dropout: 0.1, Epochs: 12, Seed: 7);

    public string Hash { get; } = Experiment.Run(Config).ParameterHash;
}

/// <summary>The CLI killed for real: SIGKILL at several points of a run (after the 1st checkpoint, after the 3rd, at arbitrary
/// moments, and between the last checkpoint and the outputs), resumed each time; Ctrl+C (SIGINT) mid-run; and a diverging run.
/// After every kill each file on disk must be complete, and the resumed run must end with the uninterrupted run's parameter hash.</summary>
/// <remarks>Linux and macOS only (signals); elsewhere the tests return at once. About 15 s together on two cores.</remarks>
[Collection("Processes")]
public sealed class KillAndResumeTests(ReferenceRun reference, ITestOutputHelper output) : IClassFixture<ReferenceRun>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static bool Supported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    private const int SIGINT = 2;

    private CliProcess Train(string outDir) => CliProcess.Start(_dir.Path, ["train", .. ReferenceRun.TrainArgs, "--out", outDir]);

    private CliProcess Resume(string outDir) => CliProcess.Start(_dir.Path, "resume", outDir);

    private static string Describe(FitCheckpoint? c) => c is null ? "no checkpoint" : $"epoch {c.State.Epoch}, cursor {c.Cursor}, step {c.State.Step} ({c.Reason})";

    [Fact]
    public void A_run_killed_with_SIGKILL_at_several_points_and_resumed_each_time_ends_with_the_uninterrupted_hash_and_no_file_is_ever_truncated()
    {
        if (!Supported) return;
        string run = Path.Combine(_dir.Path, "killed");
        var rng = new System.Random(2024);
        int kills = 0;

        // The kill points: after the first epoch's checkpoint, after the third, then at arbitrary moments after a new checkpoint
        // appears (inside an epoch or inside the next checkpoint's write), and finally right after training finished, while the
        // model, plot and record are being written.
        var points = new List<(string What, Func<FitCheckpoint, bool> When, int ExtraMs)>
        {
            ("after the 1st epoch checkpoint", c => c.State.Epoch >= 1, 0),
            ("after the 3rd epoch checkpoint", c => c.State.Epoch >= 3, 0),
            ("at a random moment of epoch 5", c => c.State.Epoch >= 4, rng.Next(0, 150)),
            ("at a random moment of epoch 8", c => c.State.Epoch >= 7, rng.Next(0, 150)),
            ("between the final checkpoint and the outputs", c => c.Finished, 0),
        };
        long lastStep = -1;
        foreach (var (what, when, extra) in points)
        {
            using var p = kills == 0 ? Train(run) : Resume(run);
            var c = RunFolder.WaitFor(run, p, when);
            if (extra > 0) Thread.Sleep(extra);
            p.Kill9();
            kills++;
            var now = RunFolder.TryCheckpoint(run);
            output.WriteLine($"SIGKILL {what}: checkpoint at {Describe(now)}; exit {(p.HasExited ? "137/killed" : "?")}");
            Assert.NotNull(now);
            Assert.True(now!.State.Step >= lastStep, "a checkpoint went backwards");
            lastStep = now.State.Step;
            RunFolder.AssertNothingTruncated(run, $"after SIGKILL {what}");
        }

        using (var last = Resume(run))
        {
            int code = last.WaitForExit();
            Assert.True(code == 0, $"resume exited {code}\n{last.Stdout}\n{last.Stderr}");
        }
        RunFolder.AssertNothingTruncated(run, "after the last resume");
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp")); // resume removes what the kills left
        Assert.Equal("completed", RunFolder.Status(run));
        Assert.Equal(reference.Hash, RunFolder.RecordedHash(run));
        Assert.Equal(reference.Hash, ModelFile.Load(Path.Combine(run, "model.safetensors")).Model.ParameterHash());
        var final = FitCheckpoint.Read(RunFolder.Checkpoint(run));
        Assert.Equal(reference.Hash, TrainedModel.HashParameters(final.State.Params));
        // The reference was computed from the same experiment the CLI recorded.
        Assert.Equal(ReferenceRun.Config, JsonSerializer.Deserialize<ExperimentConfig>(final.Metadata["config"], ExperimentConfig.JsonOptions));
        Assert.Equal(12, final.History.Length);
    }

    [Fact]
    public void Ctrl_C_finishes_the_batch_writes_a_checkpoint_and_a_cancelled_record_exits_130_and_resume_gives_the_uninterrupted_hash()
    {
        if (!Supported) return;
        string run = Path.Combine(_dir.Path, "interrupted");
        int code;
        string stderr;
        using (var p = Train(run))
        {
            RunFolder.WaitFor(run, p, c => c.State.Epoch >= 2);
            Thread.Sleep(40); // into epoch 3: a mid-epoch checkpoint
            p.Signal(SIGINT);
            code = p.WaitForExit();
            stderr = p.Stderr;
        }
        Assert.True(code == 130, $"exit {code}, expected 130\n{stderr}");
        Assert.Contains("interrupted", stderr);
        Assert.Contains("neuralpure resume", stderr);
        RunFolder.AssertNothingTruncated(run, "after SIGINT");
        Assert.Equal("cancelled", RunFolder.Status(run));
        var c = FitCheckpoint.Read(RunFolder.Checkpoint(run));
        output.WriteLine($"SIGINT: checkpoint at {Describe(c)}");
        Assert.Equal(CheckpointReason.Cancelled, c.Reason);
        Assert.True(c.State.Epoch < 12, "the run finished before the signal; nothing was tested");
        // The model written on Ctrl+C holds the checkpoint's parameters: the state after the last whole batch.
        Assert.Equal(TrainedModel.HashParameters(c.State.Params), RunFolder.RecordedHash(run));

        using (var r = Resume(run))
        {
            int rc = r.WaitForExit();
            Assert.True(rc == 0, $"resume exited {rc}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"batch {c.Cursor + 1}/", r.Stdout);
        }
        Assert.Equal("completed", RunFolder.Status(run));
        Assert.Equal(reference.Hash, RunFolder.RecordedHash(run));
        RunFolder.AssertNothingTruncated(run, "after resume");
    }

    [Fact]
    public void A_diverging_run_stops_naming_epoch_iteration_and_layer_keeps_finite_parameters_records_diverged_and_exits_1()
    {
        if (!Supported) return;
        string run = Path.Combine(_dir.Path, "diverged");
        using var p = CliProcess.Start(_dir.Path, "train", "--data", "auto-mpg", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "5", "--out", run);
        int code = p.WaitForExit();
        Assert.True(code == 1, $"exit {code}, expected 1\n{p.Stdout}\n{p.Stderr}");
        Assert.Matches(@"training diverged at epoch \d+, iteration \d+: .*first non-finite values in [^.]+\.", p.Stderr);
        Assert.Contains("lower learning rate", p.Stderr);
        Assert.Contains("clip", p.Stderr);
        Assert.Equal("diverged", RunFolder.Status(run));
        var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        var dv = record["divergence"]!;
        Assert.True(dv["epoch"]!.GetValue<int>() >= 1 && dv["iteration"]!.GetValue<int>() >= 1);
        Assert.Contains(dv["layer"]!.GetValue<string>(), p.Stderr);
        var (model, _) = ModelFile.Load(Path.Combine(run, "model.safetensors")); // refuses NaN/∞, so loading proves finiteness
        Assert.All(model.Parameters.Leaves, l => Assert.True(l.Span.ToArray().All(float.IsFinite)));
        Assert.Equal(model.ParameterHash(), RunFolder.RecordedHash(run));
        RunFolder.AssertNothingTruncated(run, "after divergence");
    }
}

/// <summary>The child-process tests run one after another so that they do not fight over the two cores.</summary>
[CollectionDefinition("Processes", DisableParallelization = true)]
public sealed class ProcessesCollection;
