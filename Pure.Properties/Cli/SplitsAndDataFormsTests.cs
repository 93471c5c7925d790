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

    [Fact]
    public void Train_says_when_a_split_with_a_fraction_above_zero_came_out_empty_and_evaluate_says_why_there_is_no_test_split()
    {
        var two = Csv("two.csv", "a,b,y", "1,2,0", "2,3,1");
        var (code, stdout, err) = CliRunner.Run("train", "--data", two, "--epochs", "1", "--out", P("r2"), "--checkpoint-every", "0", "--val-fraction", "0.2");
        Assert.True(code == 0, err);
        Assert.Contains("two: note: --val-fraction 0.2 of 2 rows rounds to 0 validation rows, so the run reports no validation loss", stdout);
        Assert.Contains("two: note: --test-fraction 0.2 of 2 rows rounds to 0 test rows, so the run reports no test metrics", stdout);

        var (c2, s2, e2) = CliRunner.Run("evaluate", P("r2"));
        Assert.Equal(2, c2);
        Assert.Equal("", s2);
        Assert.Contains("kept no test split (--test-fraction 0.2 of 2 rows rounds to 0 test rows); pass --all-rows", e2);

        // a split that is empty because its fraction is 0 is as asked: no note
        var (c3, s3, e3) = CliRunner.Run("train", "--data", "iris", "--epochs", "1", "--out", P("r0"), "--checkpoint-every", "0", "--val-fraction", "0", "--test-fraction", "0");
        Assert.True(c3 == 0, e3);
        Assert.DoesNotContain("rounds to 0", s3);
        Assert.Contains("kept no test split (--test-fraction 0)", CliRunner.Run("evaluate", P("r0")).Err);
    }

    /// <summary>Tiny IDX files with names that hold no dot: 12 images of 2×3 pixels and their labels 0..2.</summary>
    private static void WriteIdx(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "img-idx3-ubyte"), IdxReaderTests.Idx(0x08, [12, 2, 3], [.. Enumerable.Range(0, 12 * 6).Select(i => (byte)(i * 37 % 251))]));
        File.WriteAllBytes(Path.Combine(folder, "lab-idx1-ubyte"), IdxReaderTests.Idx(0x08, [12], [.. Enumerable.Range(0, 12).Select(i => (byte)(i % 3))]));
    }

    [Fact]
    public void Replay_evaluate_and_resume_find_data_files_whose_names_hold_no_dot_from_another_directory()
    {
        var idx = P("idx");
        WriteIdx(idx);
        File.WriteAllLines(Path.Combine(idx, "table"), ["a,b,y", .. Enumerable.Range(0, 20).Select(i => $"{i},{i * 7 % 5},{i % 2}")]);
        var cwd = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(idx);
            var (c1, _, e1) = CliRunner.Run("train", "--data", "img-idx3-ubyte", "--labels", "lab-idx1-ubyte", "--out", Path.Combine("..", "i0"), "--epochs", "1");
            Assert.True(c1 == 0, e1);
            var (c2, _, e2) = CliRunner.Run("train", "--data", "table", "--out", Path.Combine("..", "t0"), "--epochs", "1");
            Assert.True(c2 == 0, e2);
            File.Copy("table", "gone");
            Assert.Equal(0, CliRunner.Run("train", "--data", "gone", "--out", Path.Combine("..", "g0"), "--epochs", "1").Code);
            File.Delete("gone");
            Directory.SetCurrentDirectory(_dir);
            foreach (var run in new[] { "i0", "t0" })
            {
                var (rc, rs, re) = CliRunner.Run("replay", run);
                Assert.True(rs.Trim() == "identical", run + ": " + rs + re);
                var (ec, _, ee) = CliRunner.Run("evaluate", run);
                Assert.True(ec == 0, run + ": " + ee);
                var (uc, us, ue) = CliRunner.Run("resume", run);
                Assert.True(uc == 0, run + ": " + us + ue);
            }
            // found nowhere: the missing file is named as a file, not as an unknown bundled data set
            var (mc, _, me) = CliRunner.Run("replay", "g0");
            Assert.Equal(1, mc);
            Assert.Contains($"data file '{Path.Combine(idx, "gone")}' does not exist", me);
            Assert.DoesNotContain("bundled", me);
        }
        finally { Directory.SetCurrentDirectory(cwd); }
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

    [Fact]
    public void Evaluate_matches_a_csv_to_the_model_by_column_name_as_predict_does()
    {
        // y = 1 when a > b: a model that scores well on (a, b) scores badly when the columns are swapped
        var rng = new System.Random(7);
        var rows = Enumerable.Range(0, 200).Select(_ => (A: rng.NextDouble() * 4, B: rng.NextDouble() * 4)).ToList();
        string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var train = Csv("ab.csv", ["a,b,y", .. rows.Select(r => $"{F(r.A)},{F(r.B)},{(r.A > r.B ? 1 : 0)}")]);
        var (c0, _, e0) = CliRunner.Run("train", "--data", train, "--epochs", "40", "--lr", "0.05", "--out", P("m"), "--checkpoint-every", "0");
        Assert.True(c0 == 0, e0);
        var model = P("m", "model.safetensors");
        var test = rows.Take(100).ToList();
        var ab = Csv("test-ab.csv", ["a,b,y", .. test.Select(r => $"{F(r.A)},{F(r.B)},{(r.A > r.B ? 1 : 0)}")]);
        var ba = Csv("test-ba.csv", ["b,a,y", .. test.Select(r => $"{F(r.B)},{F(r.A)},{(r.A > r.B ? 1 : 0)}")]);
        var extra = Csv("test-extra.csv", ["id,b,y,a", .. test.Select((r, i) => $"{i},{F(r.B)},{(r.A > r.B ? 1 : 0)},{F(r.A)}")]);

        static string Accuracy(string stdout) => stdout.Split('\n').First(l => l.Contains("accuracy")).Trim();
        var (c1, s1, e1) = CliRunner.Run("evaluate", "--model", model, "--data", ab);
        Assert.True(c1 == 0, e1);
        Assert.True(double.Parse(Accuracy(s1).Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture) > 0.8, s1); // so swapped columns would show
        foreach (var other in new[] { ba, extra })
        {
            var (c, s, e) = CliRunner.Run("evaluate", "--model", model, "--data", other);
            Assert.True(c == 0, e);
            Assert.Equal(Accuracy(s1), Accuracy(s));
        }
        // predict reads the same columns: the same predictions
        Assert.Equal(0, CliRunner.Run("predict", "--model", model, "--data", ab, "--out", P("p-ab.csv")).Code);
        Assert.Equal(0, CliRunner.Run("predict", "--model", model, "--data", ba, "--out", P("p-ba.csv")).Code);
        Assert.Equal(File.ReadAllText(P("p-ab.csv")), File.ReadAllText(P("p-ba.csv")));

        var missing = Csv("test-missing.csv", ["b,y", .. test.Select(r => $"{F(r.B)},{(r.A > r.B ? 1 : 0)}")]);
        var (c4, s4, e4) = CliRunner.Run("evaluate", "--model", model, "--data", missing);
        Assert.Equal(1, c4);
        Assert.Equal("", s4);
        Assert.Contains("the model needs column 'a', which the header lacks", e4);
    }

    [Fact]
    public void Predict_takes_idx_images_without_labels()
    {
        var idx = P("idx");
        WriteIdx(idx);
        var images = Path.Combine(idx, "img-idx3-ubyte");
        var (c0, _, e0) = CliRunner.Run("train", "--data", images, "--labels", Path.Combine(idx, "lab-idx1-ubyte"), "--out", P("i"), "--epochs", "1", "--checkpoint-every", "0");
        Assert.True(c0 == 0, e0);
        var model = P("i", "model.safetensors");

        var (c1, s1, e1) = CliRunner.Run("predict", "--model", model, "--data", images, "--out", P("alone.csv"));
        Assert.True(c1 == 0, e1);
        Assert.Contains("wrote 12 predictions", s1);
        var (c2, _, e2) = CliRunner.Run("predict", "--model", model, "--data", images, "--labels", Path.Combine(idx, "lab-idx1-ubyte"), "--out", P("labelled.csv"));
        Assert.True(c2 == 0, e2);
        Assert.Equal(File.ReadAllText(P("labelled.csv")), File.ReadAllText(P("alone.csv")));

        // gzip-compressed too; and images of another size are refused, naming both sizes
        var gz = P("img-idx3-ubyte.gz");
        File.WriteAllBytes(gz, IdxReaderTests.Gzip(File.ReadAllBytes(images)));
        Assert.Equal(0, CliRunner.Run("predict", "--model", model, "--data", gz, "--out", P("gz.csv")).Code);
        Assert.Equal(File.ReadAllText(P("alone.csv")), File.ReadAllText(P("gz.csv")));
        var big = P("big-idx3-ubyte");
        File.WriteAllBytes(big, IdxReaderTests.Idx(0x08, [2, 3, 3], new byte[18]));
        var (c3, _, e3) = CliRunner.Run("predict", "--model", model, "--data", big, "--out", P("big.csv"));
        Assert.Equal(2, c3);
        Assert.Contains("the model takes 6 features but", e3);
        Assert.Contains("holds 3×3 images (9 pixels)", e3);
    }
}
