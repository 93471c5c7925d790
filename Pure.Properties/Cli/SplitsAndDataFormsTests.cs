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

    /// <summary>Rewrites every fractional number of a JSON document in another spelling of the same value (as Python's json module does
    /// 1E-08 as 1e-08), indented: the text changes, the values do not.</summary>
    private static string Respelled(JsonNode node)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            void Write(JsonNode? n)
            {
                switch (n)
                {
                    case null: w.WriteNullValue(); break;
                    case JsonObject o: w.WriteStartObject(); foreach (var (k, v) in o) { w.WritePropertyName(k); Write(v); } w.WriteEndObject(); break;
                    case JsonArray a: w.WriteStartArray(); foreach (var v in a) Write(v); w.WriteEndArray(); break;
                    case JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.ToJsonString().AsSpan().IndexOfAny(".eE") >= 0: // whole numbers stay whole (the config's ints)
                        var d = double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
                        w.WriteRawValue(d.ToString("e16", System.Globalization.CultureInfo.InvariantCulture)); break;
                    default: n.WriteTo(w); break;
                }
            }
            Write(node);
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    [Fact]
    public void Replay_compares_numbers_by_value_so_a_reformatted_record_is_identical_and_a_last_bit_still_differs()
    {
        Assert.Equal(0, CliRunner.Run("train", "--data", "iris", "--epochs", "3", "--out", P("rp0"), "--checkpoint-every", "0").Code);
        var run = P("rp0", "run.json");
        var record = JsonNode.Parse(File.ReadAllText(run))!;
        Assert.Equal("1E-08", record["optimizer"]!["transforms"]![0]!["eps"]!.ToJsonString()); // the spelling the reviewer's Python changed

        var respelled = Respelled(record);
        Assert.Contains("1.0000000000000000e-008", respelled);
        File.WriteAllText(run, respelled);
        var (c1, s1, e1) = CliRunner.Run("replay", run);
        Assert.True(c1 == 0, s1 + e1);
        Assert.Equal("identical", s1.Trim());

        var loss = record["history"]![1]!["trainLoss"]!.GetValue<double>();
        record["history"]![1]!["trainLoss"] = Math.BitIncrement(loss);
        File.WriteAllText(run, Respelled(record));
        var (c2, s2, _) = CliRunner.Run("replay", run);
        Assert.Equal(1, c2);
        Assert.StartsWith("different: history[1].trainLoss (epoch 2): recorded", s2.Trim());
    }
}
