using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Bench.Support;

/// <summary>One of the training configurations: a ReLU MLP with softmax cross-entropy and Adam, in float.</summary>
/// <param name="Name">a, b, c or d.</param>
/// <param name="Sizes">Input, hidden…, output widths.</param>
/// <param name="Batch">Examples per step.</param>
public sealed record BenchConfig(string Name, int[] Sizes, int Batch)
{
    /// <summary>The four configurations of issue 5, with TorchSharp's measured examples/s (best of 1 and 2 threads) and the target factor.</summary>
    public static IReadOnlyList<BenchConfig> All { get; } =
    [
        new("a", [64, 32, 10], 32),
        new("b", [784, 128, 10], 64),
        new("c", [784, 256, 128, 10], 128),
        new("d", [784, 1024, 1024, 10], 256),
    ];

    /// <summary>The configuration called <paramref name="name"/>.</summary>
    public static BenchConfig Get(string name) => All.Single(c => c.Name == name);

    public string Mlp => string.Join("-", Sizes);

    public ModelSpec Spec => ModelSpec.Mlp(Sizes, new ReluSpec(), new SoftmaxCrossEntropySpec());

    public GradientTransform Optimizer => NeuralPure.Optimizers.Optimizer.Adam();

    /// <summary>Parameters: Σ (in·out + out) over the dense layers.</summary>
    public long Parameters => Enumerable.Range(0, Sizes.Length - 1).Sum(i => (long)Sizes[i] * Sizes[i + 1] + Sizes[i + 1]);

    /// <summary>FLOPs of one step counted as 6·parameters·batch (2 forward, 4 backward), the usual dense-MLP estimate.</summary>
    public double FlopsPerStep => 6.0 * Parameters * Batch;

    /// <summary>TorchSharp 0.107 (libtorch 2.10, CPU) on the machine, examples/s, best of 1 and 2 threads (issue 5).</summary>
    public double TorchSharpExamplesPerSecond => Name switch { "a" => 150_000, "b" => 88_000, "c" => 49_000, _ => 10_900 };

    /// <summary>The target as a multiple of TorchSharp.</summary>
    public double TargetFactor => Name switch { "a" => 15, "b" => 2, "c" => 2, _ => 1.8 };

    /// <summary>A data set of <paramref name="batches"/> batches: inputs uniform in [−1, 1], labels uniform over the classes, from a fixed key.</summary>
    public DataSet<float> Data(int batches = 4)
    {
        int rows = Batch * batches;
        var key = RandomKey.FromSeed(2024);
        var x = Sampling.Uniform<float>(key.FoldIn(1), -1, 1, rows, Sizes[0]);
        var r = new System.Random(5);
        var y = new float[rows];
        for (int i = 0; i < rows; i++) y[i] = r.Next(Sizes[^1]);
        return new DataSet<float>(x, NdArray.Vector(y));
    }

    /// <summary>The batches of <see cref="Data"/> in stored order.</summary>
    public Batch<float>[] Batches(int count = 4)
    {
        var d = Data(count);
        return [.. Enumerable.Range(0, count).Select(i => d.Gather([.. Enumerable.Range(i * Batch, Batch)]))];
    }

    public TrainState<float> InitialState() => Trainer.Init<float>(Spec, Optimizer, RandomKey.FromSeed(1));
}
