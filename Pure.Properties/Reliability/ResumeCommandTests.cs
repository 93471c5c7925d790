using System.Text.Json.Nodes;
using NeuralPure.Facade.Training;
using NeuralPure.Properties.Cli;
using Xunit;

namespace NeuralPure.Properties.Reliability;

/// <summary><c>neuralpure resume</c> in process: what it refuses (no checkpoint, a damaged one, different data) and that resuming a
/// finished run only rewrites the same outputs.</summary>
[Collection("Console")]
public sealed class ResumeCommandTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private static string Hash(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["parameters"]!["sha256"]!.GetValue<string>();

    [Fact]
    public void Resuming_a_finished_run_rewrites_the_same_outputs_and_a_changed_data_file_or_damaged_checkpoint_is_refused()
    {
        string csv = Path.Combine(_dir, "data.csv");
        File.WriteAllText(csv, "a,b,y\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{i % 7},{i % 5 * 0.5},{i % 2}\n")));
        string run = Path.Combine(_dir, "run");
        var (code, _, err) = CliRunner.Run("train", "--data", csv, "--epochs", "4", "--layers", "8", "--out", run);
        Assert.True(code == 0, err);
        string hash = Hash(run);
        var c = FitCheckpoint.Read(Path.Combine(run, "checkpoint.safetensors"));
        Assert.Equal(CheckpointReason.Completed, c.Reason);
        Assert.Equal(hash, NeuralPure.Facade.Models.TrainedModel.HashParameters(c.State.Params));

        var (rc, stdout, rerr) = CliRunner.Run("resume", run);
        Assert.True(rc == 0, rerr);
        Assert.Contains("had already finished", stdout);
        Assert.Equal(hash, Hash(run));

        // The data changed since the run: resume names the difference and exits 1.
        File.AppendAllText(csv, "1,1,1\n");
        var (dc, _, derr) = CliRunner.Run("resume", run);
        Assert.Equal(1, dc);
        Assert.Contains("differs from the run's", derr);

        // A damaged checkpoint: a clear one-line message, exit 1, nothing else touched.
        var path = Path.Combine(run, "checkpoint.safetensors");
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var (bc, _, berr) = CliRunner.Run("resume", run);
        Assert.Equal(1, bc);
        Assert.Contains("SHA-256", berr);
        Assert.Equal(hash, Hash(run));

        // No checkpoint at all.
        File.Delete(path);
        var (nc, _, nerr) = CliRunner.Run("resume", run);
        Assert.Equal(1, nc);
        Assert.Contains("holds no checkpoint.safetensors", nerr);
    }

    [Fact]
    public void A_checkpoint_without_what_resume_needs_is_refused_naming_the_metadata_key_not_a_column()
    {
        string run = Path.Combine(_dir, "keys");
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", run);
        Assert.True(code == 0, err);
        string path = Path.Combine(run, "checkpoint.safetensors");
        var file = NeuralPure.Facade.Data.SafeTensors.Read(path);
        void Write(System.Collections.Immutable.ImmutableDictionary<string, string> metadata) =>
            NeuralPure.Facade.Data.SafeTensors.Write(path, new NeuralPure.Facade.Data.SafeTensorsFile(metadata, file.Tensors));

        Write(file.Metadata.Remove("config"));
        var (c1, _, e1) = CliRunner.Run("resume", run);
        Assert.Equal(1, c1);
        Assert.Equal($"neuralpure: {path}: metadata key 'config': missing; the checkpoint was not written by neuralpure train", e1.Trim());
        Write(file.Metadata.SetItem("checkpointEvery", "0"));
        Assert.Contains($"{path}: metadata key 'checkpointEvery': the checkpoint interval must be a whole number ≥ 1", CliRunner.Run("resume", run).Err);
        Write(file.Metadata.SetItem("sha256", new string('0', 64)));
        var (c3, _, e3) = CliRunner.Run("resume", run);
        Assert.Equal(1, c3);
        Assert.Contains($"{path}: metadata key 'sha256': the tensors do not match the checkpoint's recorded SHA-256", e3);
        Assert.DoesNotContain("column", e1 + e3);
    }

    [Fact]
    public void Checkpoint_every_0_writes_none_and_a_negative_interval_is_a_usage_error()
    {
        string run = Path.Combine(_dir, "none");
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--checkpoint-every", "0", "--out", run);
        Assert.True(code == 0, err);
        Assert.False(File.Exists(Path.Combine(run, "checkpoint.safetensors")));
        var (bad, _, berr) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--checkpoint-every", "-1", "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(2, bad);
        Assert.Contains("--checkpoint-every", berr);
    }
}
