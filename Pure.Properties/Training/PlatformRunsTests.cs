using System.IO.Compression;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Properties.Cli;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>
/// The platform table (Reference/platform-runs.txt) on this machine: every row's <c>neuralpure</c> run must give its pinned
/// parameter hash. <c>.ci/arm64</c> runs the same rows as a linux-arm64 build under qemu and holds them to the same hashes,
/// so a change that alters bits anywhere — here or only on another architecture — is noticed.
/// </summary>
[Collection("Console")]
public sealed class PlatformRunsTests
{
    private static readonly (string Name, string Hash, string Args)[] Rows =
    [
        .. File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Reference", "platform-runs.txt"))
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split('\t'))
            .Select(p => (p[0], p[1], p[2])),
    ];

    public static TheoryData<string> Names() => [.. Rows.Select(r => r.Name)];

    [Fact]
    public void The_table_covers_every_activation_loss_optimizer_schedule_and_initializer()
    {
        string all = string.Join(' ', Rows.Select(r => r.Args));
        string[] needed =
        [
            "--activation tanh", "--activation sigmoid", "--activation gelu", "--activation silu", "--activation elu", "--activation softplus",
            "--activation leaky-relu", "--activation identity", "--loss mse", "--loss huber", "--loss l1", "--loss smooth-l1",
            "--optimizer sgd", "--optimizer momentum", "--optimizer nesterov", "--optimizer adamw", "--optimizer rmsprop", "--optimizer adagrad",
            "--optimizer lion", "--optimizer adamax", "--optimizer nadam", "--optimizer radam", "--schedule cosine", "--schedule warmup-cosine",
            "--schedule step", "--schedule exponential", "--schedule onecycle", "--init he-uniform", "--init he-normal", "--init xavier-uniform",
            "--init xavier-normal", "--dropout", "--clip-norm", "--label-smoothing", "--accumulate", "--early-stopping", "batchnorm", "layernorm",
            "maxpool", "avgpool", "flip", "shift",
        ];
        var missing = needed.Where(n => !all.Contains(n, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "the platform table lacks: " + string.Join(", ", missing));
        Assert.Contains(Rows, r => r.Args == "train"); // the README's command 1 (its default: relu, adam, cross-entropy, constant)
    }

    [Theory, MemberData(nameof(Names))]
    public void Gives_its_pinned_hash(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        var dir = CliRunner.TempDir();
        try
        {
            var args = row.Args.Replace("{fashion-1k-images}", FashionSubset(dir, images: true), StringComparison.Ordinal)
                               .Replace("{fashion-1k-labels}", FashionSubset(dir, images: false), StringComparison.Ordinal)
                               .Split(' ');
            var (code, stdout, err) = CliRunner.Run([.. args, "--out", Path.Combine(dir, "run"), "--json"]);
            Assert.True(code == 0, err);
            string actual = JsonNode.Parse(stdout)!["parameters"]!["sha256"]!.GetValue<string>();
            Assert.True(actual == row.Hash, $"{name}: parameter hash {actual}, pinned {row.Hash} (platform-runs.txt)");
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    /// <summary>The first 1000 images (or labels) of the bundled Fashion-MNIST test set as an uncompressed IDX file whose header
    /// says 1000: byte for byte what .ci/arm64 writes with printf, gzip, tail and head.</summary>
    private static string FashionSubset(string dir, bool images)
    {
        string folder = BundledDataSets.FindFashionMnistFolder();
        string source = Path.Combine(folder, images ? BundledDataSets.FashionMnistImagesFile : BundledDataSets.FashionMnistLabelsFile);
        string path = Path.Combine(dir, images ? "fashion-1k-images.idx" : "fashion-1k-labels.idx");
        if (File.Exists(path)) return path;
        using var gz = new GZipStream(File.OpenRead(source), CompressionMode.Decompress);
        int header = images ? 16 : 8, body = images ? 1000 * 784 : 1000;
        var bytes = new byte[header + body];
        gz.ReadExactly(bytes);
        bytes[4] = 0; bytes[5] = 0; bytes[6] = 0x03; bytes[7] = 0xE8; // the count, big-endian: 1000
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
