using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Cli;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>The bits of today's runs, pinned before the core is reshaped (issue 12: "not one bit may change"): the README's
/// two <c>train</c> commands and a table of model × optimizer × loss × schedule combinations trained by <see cref="Trainer.Fit{T}(ModelSpec, GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/>.</summary>
/// <remarks>Each hash is SHA-256 over the final parameters' bytes (leaf after leaf, as stored) followed by every iteration's
/// loss as a double; the values were produced by the code at 2501a7a (before the redesign) and must never change unless an
/// issue says so.</remarks>
[Collection("Console")]
public sealed class PinnedHashTests
{
    /// <summary>SHA-256 of the parameters' bytes and then the iteration losses' bytes.</summary>
    internal static string Hash<T>(ParamTree<T> parameters, IEnumerable<double> losses) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var leaf in parameters.Leaves) sha.AppendData(MemoryMarshal.AsBytes(leaf.Span));
        foreach (var l in losses) sha.AppendData(BitConverter.GetBytes(l));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>120 rows, 6 features in [−2, 2), labels 0..2 that depend on the features (so training moves), and regression
    /// and binary targets derived from the same rows.</summary>
    private static (NdArray<T> X, NdArray<T> Labels, NdArray<T> Values, NdArray<T> Binary) Data<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int rows = 120, features = 6;
        var r = new System.Random(20261201);
        var x = new T[rows * features];
        var labels = new T[rows]; var values = new T[rows * 2]; var binary = new T[rows * 2];
        for (int i = 0; i < rows; i++)
        {
            double s = 0, t = 0;
            for (int j = 0; j < features; j++)
            {
                double v = r.NextDouble() * 4 - 2;
                x[i * features + j] = T.CreateChecked(v);
                s += (j % 2 == 0 ? 1 : -1) * v; t += v * v;
            }
            labels[i] = T.CreateChecked(s > 0.5 ? 2 : s < -0.5 ? 0 : 1);
            values[2 * i] = T.CreateChecked(0.5 * s); values[2 * i + 1] = T.CreateChecked(Math.Sqrt(t) - 2);
            binary[2 * i] = T.CreateChecked(s > 0 ? 1 : 0); binary[2 * i + 1] = T.CreateChecked(t > 8 ? 1 : 0);
        }
        return (NdArray.From<T>(x, rows, features), NdArray.From<T>(labels, rows), NdArray.From<T>(values, rows, 2), NdArray.From<T>(binary, rows, 2));
    }

    private static readonly ImmutableArray<double> Weights = [1.0, 2.0, 0.5];

    /// <summary>The table: a name, the model's hidden activation, dropout, loss, optimizer and training config.</summary>
    public static TheoryData<string> Cases => [.. Table.Keys];

    private sealed record Case(ActivationSpec Activation, LossSpec Loss, GradientTransform Optimizer, double Dropout = 0, Initializer? Init = null,
        int Batch = 16, int Epochs = 3, bool DropLast = false, bool Shuffle = true);

    private static readonly IReadOnlyDictionary<string, Case> Table = new Dictionary<string, Case>
    {
        ["identity-adam-ce"] = new(new IdentitySpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["relu-adam-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["leaky-adam-ce"] = new(new LeakyReluSpec(0.1), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["sigmoid-adam-ce"] = new(new SigmoidSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["tanh-adam-ce"] = new(new TanhSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["gelu-adam-ce"] = new(new GeluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01)),
        ["relu-dropout-adamw-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.AdamW(0.01), Dropout: 0.2),
        ["tanh-dropout-rmsprop-ce"] = new(new TanhSpec(), new SoftmaxCrossEntropySpec(), Optimizer.RmsProp(0.01), Dropout: 0.3),
        ["relu-sgd-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Sgd(0.1)),
        ["relu-sgd-decay-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Sgd(0.1, weightDecay: 0.01)),
        ["relu-momentum-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Momentum(0.05, 0.9, weightDecay: 0.001)),
        ["relu-nesterov-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Nesterov(0.05, 0.8)),
        ["relu-adam-decay-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01, weightDecay: 0.01)),
        ["relu-amsgrad-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01, amsGrad: true)),
        ["relu-adamw-amsgrad-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.AdamW(0.01, amsGrad: true)),
        ["relu-rmsprop-centred-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.RmsProp(0.005, weightDecay: 0.001, momentum: 0.5, centered: true)),
        ["relu-clip-adam-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(),
            GradientTransform.Chain(new ClipByGlobalNorm(0.5), new ScaleByAdam(), new ScaleByLearningRate(0.01))),
        ["relu-clip-sgd-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(),
            GradientTransform.Chain(new ClipByGlobalNorm(0.1), new ScaleByLearningRate(0.5))),
        ["relu-adam-weighted-smoothed-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(Weights, 0.1), Optimizer.Adam(0.01)),
        ["tanh-adam-mse"] = new(new TanhSpec(), new MseSpec(), Optimizer.Adam(0.01)),
        ["relu-sgd-mse"] = new(new ReluSpec(), new MseSpec(), Optimizer.Sgd(0.05)),
        ["gelu-adam-huber"] = new(new GeluSpec(), new HuberSpec(0.5), Optimizer.Adam(0.01)),
        ["relu-adamw-bce"] = new(new ReluSpec(), new BinaryCrossEntropySpec(), Optimizer.AdamW(0.01)),
        ["sigmoid-momentum-bce"] = new(new SigmoidSpec(), new BinaryCrossEntropySpec(), Optimizer.Momentum(0.1)),
        ["relu-adam-step-decay"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(new Schedule.StepDecay(0.02, 7, 0.5))),
        ["relu-adam-exponential"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(new Schedule.Exponential(0.02, 0.97))),
        ["relu-adamw-cosine"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.AdamW(new Schedule.Cosine(0.02, 24, 0.001))),
        ["relu-sgd-warmup-cosine"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Sgd(new Schedule.WarmupCosine(0.2, 5, 24, 0.01, 0.001))),
        ["relu-adam-one-cycle"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(new Schedule.OneCycle(0.05, 24))),
        ["relu-he-normal-adam-ce"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01), Init: Initializer.HeNormal),
        ["tanh-xavier-uniform-sgd-ce"] = new(new TanhSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Sgd(0.1), Init: Initializer.XavierUniform),
        ["relu-adam-ce-batch7-droplast"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01), Batch: 7, DropLast: true),
        ["relu-adam-ce-unshuffled"] = new(new ReluSpec(), new SoftmaxCrossEntropySpec(), Optimizer.Adam(0.01), Shuffle: false),
    };

    private static readonly IReadOnlyDictionary<string, string> Expected = new Dictionary<string, string>
    {
        ["gelu-adam-ce"] = "2d5fc6044a8b4459999213ae5637e16226cc437dae54de115d59df2d689ca413",
        ["gelu-adam-huber"] = "1c42a4739578672337ccb24a9c82f4e844e64ff4b317abee0b399007220b960a",
        ["gelu-adam-huber/double"] = "f9a5cc7c173dc72d27a9df4eaf277605146caa7c535b7aedf651ca16257ea537",
        ["identity-adam-ce"] = "99d9dcfa33fb70924e3b0dde14eb0d21cda0d062ed7d93585d2fa0b0d22e70a9",
        ["leaky-adam-ce"] = "081beb7a13b11e3e4bdbd99605ca321d31356f18ced1d560a40d2c77c8bfbf84",
        ["relu-adam-ce"] = "77f6ec8687b88d7f0fc929406b1420fde230b040e30ed6855f48f20324ea545a",
        ["relu-adam-ce-batch7-droplast"] = "763f0d875ce0fe7e99aadb08ddae5e597e84997f3ac511955db02a3a77b7a195",
        ["relu-adam-ce-unshuffled"] = "390a94750080cf7dbd9d275dfe8dada91b51ace1347cc995cff7b6e2481848c1",
        ["relu-adam-decay-ce"] = "3f0f680fe47710229c8b91a47aac7f4a559b0f2b7b731397a87ea793fa8b98c0",
        ["relu-adam-exponential"] = "9630abf8b9e7c4e5362726d1c9c5a7cd634623c52d4e995900ded24ea04e0830",
        ["relu-adam-one-cycle"] = "d57b10c95e3a02464dff6b9cdd8ab16b899d46adc8d79f24b39b19094210bcef",
        ["relu-adam-step-decay"] = "c53b44c3b9b04854ff1f2d6542dfb206148bf29ffcdb67368aaa7d7916889591",
        ["relu-adam-weighted-smoothed-ce"] = "ed88ec7759ad50779671ced636c62bcdb3fd76f0485c72fb0035d628ccbb39ba",
        ["relu-adamw-amsgrad-ce"] = "b7677cdbe93e7e49de111620edbcbbc26f854af989aaa553f303b0cde8504ae7",
        ["relu-adamw-bce"] = "71edc6cd2db6a9fc9a67b540c19436e8fa60023d9bb15fdc6626ae8438254872",
        ["relu-adamw-cosine"] = "b69f146f60c2e421397bb12b930d314fb6d2bbb70fb9b689f40b95d514b0f64b",
        ["relu-adamw-cosine/double"] = "5e192ebb1d37f1b8c5e4826ea891d5811fb95a464a237208141a128d68636396",
        ["relu-amsgrad-ce"] = "6e2dbc304519647d9319b9943f900a3683ad2eb56d57e647bd7300fbaf906b62",
        ["relu-clip-adam-ce"] = "d1d0aa7a7424930d8139bd1f39d0e93fd6a78e03b8e5b5cdead653819ad6f6a7",
        ["relu-clip-sgd-ce"] = "6e5b8bf4cca5bc77596b2c1b6f01582e9a1a9a25b5a0da8a5b608182ba1d9f5d",
        ["relu-dropout-adamw-ce"] = "61f648484d38611e2b7a655d8917bdb85f49f8a50a25854dcb8b04be6e549b27",
        ["relu-he-normal-adam-ce"] = "ce2ec34b714a95a49b9d81b53b8465a7dcf5161172c61eb68ae015a6da5ba6f2",
        ["relu-momentum-ce"] = "5fa7750b403a1933ff86a4d2ea62bb027b611f342b96e7adb0e919d090eb64aa",
        ["relu-nesterov-ce"] = "4f1049d38221e941841953726a77391580a7e64824fe62db51e88d4b53cff3d5",
        ["relu-rmsprop-centred-ce"] = "76f6c4c08313d01a4df0e7cd64f186dc4bce53eb60566365c20d06bae8b7fbad",
        ["relu-sgd-ce"] = "8d0d00d9f7b3117046fd8b28763fe0a6639bf9253b57550ed11b03d682039f6a",
        ["relu-sgd-decay-ce"] = "69c8adcb9b350945a1cca8fb1bf92a219b679a9e2ad316f27f9aec897b0e463f",
        ["relu-sgd-mse"] = "1ae47b81b12d160ccd645c5849d168a8a534a12b360249087f6d8a8081517eeb",
        ["relu-sgd-warmup-cosine"] = "245c54ddc13d05b536315a610d9d503da79bf0e834b45ade8c2569dbfca81d59",
        ["sigmoid-adam-ce"] = "8463b03890dc962367ad151506e1fb5c449e9917c1aab85ab9e2b1c0ca4ce545",
        ["sigmoid-momentum-bce"] = "feddb90dbdbd08c70e52b833679c7cd78d05fcbb41199140422d9b178ae7cf5c",
        ["tanh-adam-ce"] = "37c5a394d9b062c7a5b18e7c3ebdf2c5ba746bc12595cb62979a439913617ff6",
        ["tanh-adam-mse"] = "670e3fdb7a930b1c140688d9f06d3b98e667dd16ed764545e802d399a1663d35",
        ["tanh-dropout-rmsprop-ce"] = "e3272b4ab3d209ebc92b5af06ebddf09cc1ccc405ec26f66b2eb9cba621bc185",
        ["tanh-dropout-rmsprop-ce/double"] = "e9f8e4930b86c4f73ab20becf457c22b5ce63964f1dd77fd63c0130d6ffacc29",
        ["tanh-xavier-uniform-sgd-ce"] = "5f1d23fa2c5fa639673ce3153b58d2b12bb0c88d27a6ac3185e23f05525065a2",
    };

    private static string Run<T>(Case c, bool pure) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, labels, values, binary) = Data<T>();
        var y = c.Loss.UsesLabels ? labels : c.Loss is BinaryCrossEntropySpec ? binary : values;
        int outputs = c.Loss.UsesLabels ? 3 : 2;
        var spec = ModelSpec.Mlp([6, 10, 8, outputs], c.Activation, c.Loss, c.Init, c.Dropout);
        var data = new DataSet<T>(x, y);
        var config = new TrainConfig(c.Batch, c.Epochs, c.DropLast, c.Shuffle);
        var start = Trainer.Init<T>(spec, c.Optimizer, RandomKey.FromSeed(11));
        if (pure)
        {
            var losses = new List<double>();
            var end = TrainingProblems.StepFold(spec, c.Optimizer, start, data, config, losses);
            return Hash(end.Params, losses);
        }
        var fit = Trainer.Fit(spec, c.Optimizer, start, data, config);
        return Hash(fit.State.Params, fit.History.IterationLosses);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trainer_Fit_gives_the_pinned_bits(string name)
    {
        var actual = Run<float>(Table[name], pure: false);
        Assert.True(Expected.TryGetValue(name, out var expected) && expected == actual, $"[\"{name}\"] = \"{actual}\",");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_folded_by_hand_gives_the_same_pinned_bits(string name) =>
        Assert.Equal(Run<float>(Table[name], pure: false), Run<float>(Table[name], pure: true));

    [Theory]
    [InlineData("relu-adamw-cosine")]
    [InlineData("tanh-dropout-rmsprop-ce")]
    [InlineData("gelu-adam-huber")]
    public void Trainer_Fit_in_double_gives_the_pinned_bits(string name)
    {
        var actual = Run<double>(Table[name], pure: false);
        Assert.True(Expected.TryGetValue(name + "/double", out var expected) && expected == actual, $"[\"{name}/double\"] = \"{actual}\",");
    }

    private static string CliHash(params string[] args)
    {
        var dir = CliRunner.TempDir();
        try
        {
            var (code, stdout, err) = CliRunner.Run([.. args, "--out", Path.Combine(dir, "run"), "--json"]);
            Assert.True(code == 0, err);
            return JsonNode.Parse(stdout)!["parameters"]!["sha256"]!.GetValue<string>();
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
    }

    /// <summary>The README's command 1, <c>neuralpure train</c> on the bundled digits.</summary>
    [Fact]
    public void The_READMEs_train_gives_the_pinned_parameter_hash() =>
        Assert.Equal("27a705d9602471ce7c7fae4c531d3f5046fc73cb2a48b5337933a462db2fd08c", CliHash("train"));

    /// <summary>The README's Fashion-MNIST command.</summary>
    [Fact]
    public void The_READMEs_Fashion_MNIST_train_gives_the_pinned_parameter_hash()
    {
        var folder = BundledDataSets.FindFashionMnistFolder();
        Assert.Equal("32ab30ca0d791d3f8f345dfcbe4834946521cd36249f54efa1a578a9abfdf3bb", CliHash("train",
            "--data", Path.Combine(folder, BundledDataSets.FashionMnistImagesFile), "--labels", Path.Combine(folder, BundledDataSets.FashionMnistLabelsFile),
            "--layers", "128", "--epochs", "20", "--optimizer", "adamw", "--schedule", "cosine"));
    }
}
