using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Properties.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>What a small data set's split leaves (said by train, refused before an output folder is touched, and named by
/// evaluate), data files found by what the record says rather than by their names, records compared by value, and evaluate
/// and predict reading data alike.</summary>
[Collection("Console")]
public sealed class SplitsAndDataFormsTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    private string Csv(string name, params string[] lines)
    {
        File.WriteAllLines(P(name), lines);
        return P(name);
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void Force_with_early_stopping_on_an_empty_validation_split_is_refused_before_the_old_run_is_touched()
    {
        var folder = P("F2");
        var (c0, _, e0) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", folder);
        Assert.True(c0 == 0, e0);
        var before = Files(folder);
        var four = Csv("four.csv", "a,b,y", "1,2,0", "2,3,1", "3,1,0", "4,5,1");

        var (code, stdout, err) = CliRunner.Run("train", "--data", four, "--early-stopping", "1", "--out", folder, "--force");
        Assert.Equal(2, code);
        Assert.Contains("--early-stopping watches the validation loss, but --val-fraction 0.1 of 4 rows rounds to 0 validation rows (the split is 3 train, 0 validation, 1 test); give a --val-fraction above 0.125", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.DoesNotContain("training on", stdout);
        var after = Files(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
    }
}
