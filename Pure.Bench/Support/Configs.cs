using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Bench.Support;

/// <summary>One training configuration of the report, in float with softmax cross-entropy: the ReLU MLPs a–d of issue 5
/// (Adam) and the README's CNN on Fashion-MNIST-shaped images (AdamW).</summary>
public sealed class BenchConfig
{
    private BenchConfig(string name, string model, int batch, ModelSpec spec, GradientTransform optimizer, string optimizerName, int[]? sizes)
    {
        Name = name; Model = model; Batch = batch; Spec = spec; Optimizer = optimizer; OptimizerName = optimizerName; Sizes = sizes;
    }

    /// <summary>A ReLU MLP of the given widths, softmax cross-entropy, Adam with PyTorch's defaults.</summary>
    public static BenchConfig Mlp(string name, int[] sizes, int batch) =>
        new(name, string.Join("-", sizes), batch, ModelSpec.Mlp(sizes, new ReluSpec(), new SoftmaxCrossEntropySpec()), NeuralPure.Optimizers.Optimizer.Adam(), "Adam", sizes);

    /// <summary>The README's CNN (<c>--arch "flip,shift(1),conv(32,3,pad=1),batchnorm,relu,maxpool(2),conv(64,3,pad=1),batchnorm,relu,maxpool(2),flatten,dropout(0.25),dense(128),relu,dropout(0.25)"</c>
    /// and the output layer dense(10)) on [1, 28, 28] images, softmax cross-entropy, AdamW with PyTorch's defaults (weight decay 0.01).</summary>
    public static ModelSpec CnnSpec => new(Shape.Of(1, 28, 28),
    [
        new RandomFlipSpec(), RandomShiftSpec.Square(1),
        Conv2dSpec.Square(1, 32, 3, padding: 1), new BatchNormSpec(32), new ReluSpec(), MaxPool2dSpec.Square(2),
        Conv2dSpec.Square(32, 64, 3, padding: 1), new BatchNormSpec(64), new ReluSpec(), MaxPool2dSpec.Square(2),
        new FlattenSpec(), new DropoutSpec(0.25), new DenseSpec(64 * 7 * 7, 128), new ReluSpec(), new DropoutSpec(0.25), new DenseSpec(128, 10),
    ], new SoftmaxCrossEntropySpec());

    /// <summary>The configurations' names: the four MLPs of issue 5 and the CNN.</summary>
    public static IReadOnlyList<string> Names { get; } = ["a", "b", "c", "d", "cnn"];

    /// <summary>The four MLPs of issue 5 and the CNN.</summary>
    public static IReadOnlyList<BenchConfig> All => [.. Names.Select(Get)];

    /// <summary>The configuration called <paramref name="name"/>, built alone (a first-step child builds only its own model, as a
    /// user's program does).</summary>
    /// <exception cref="ArgumentException">No configuration has that name.</exception>
    public static BenchConfig Get(string name) => name switch
    {
        "a" => Mlp("a", [64, 32, 10], 32),
        "b" => Mlp("b", [784, 128, 10], 64),
        "c" => Mlp("c", [784, 256, 128, 10], 128),
        "d" => Mlp("d", [784, 1024, 1024, 10], 256),
        "cnn" => new("cnn", "CNN 1×28×28 (conv32-conv64-128-10)", 64, CnnSpec, NeuralPure.Optimizers.Optimizer.AdamW(), "AdamW", null),
        _ => throw new ArgumentException($"no configuration '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>a, b, c, d or cnn.</summary>
    public string Name { get; }

    /// <summary>The model in a few words: the MLP's widths, or the CNN's name.</summary>
    public string Model { get; }

    /// <summary>Examples per step.</summary>
    public int Batch { get; }

    public ModelSpec Spec { get; }

    public GradientTransform Optimizer { get; }

    /// <summary>Adam or AdamW.</summary>
    public string OptimizerName { get; }

    /// <summary>Input, hidden…, output widths of an MLP; null for the CNN (the scalar-reference step and the part-by-part table
    /// exist for MLPs only).</summary>
    public int[]? Sizes { get; }

    /// <summary>Trainable parameters (BatchNorm's running statistics are state, not counted).</summary>
    public long Parameters => Spec.ParameterShapes.Sum(p => (long)p.Shape.Size);

    /// <summary>Floating-point operations of the matrix products one step executes (<see cref="ExecutedFlops"/>).</summary>
    public double FlopsPerStep => ExecutedFlops.PerStep(Spec, Batch);

    /// <summary>A data set of <paramref name="batches"/> batches: inputs uniform in [−1, 1], labels uniform over the classes, from a fixed key.</summary>
    public DataSet<float> Data(int batches = 4)
    {
        int rows = Batch * batches;
        var key = RandomKey.FromSeed(2024);
        var x = Sampling.Uniform<float>(key.FoldIn(1), -1, 1, [rows, .. Spec.Input.Dims]);
        var r = new System.Random(5);
        var y = new float[rows];
        for (int i = 0; i < rows; i++) y[i] = r.Next(Spec.OutputWidth);
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

/// <summary>The FLOPs of the matrix products one training step executes, the one convention of the report, its part-by-part
/// table and <c>compare-torch</c>.</summary>
/// <remarks>
/// <para>Counted, at 2 FLOPs per multiply-add: each dense layer's forward product 2·N·in·out, and each convolution's
/// 2·N·OC·OH·OW·IC·KH·KW; the weight gradient of each the same; the input gradient the same again, except for the first layer
/// with parameters, whose input gradient a training step does not compute (nothing below it needs it).</para>
/// <para>Not counted: bias adds and bias gradients, activations, batch normalization, pooling, dropout, im2col/col2im, the
/// loss and the optimizer — element-wise work, a few percent of these configs' FLOPs.</para>
/// </remarks>
public static class ExecutedFlops
{
    /// <summary>The executed product FLOPs of one step of <paramref name="spec"/> on <paramref name="batch"/> examples.</summary>
    public static double PerStep(ModelSpec spec, int batch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int first = 0;
        while (first < spec.Layers.Length && spec.ParameterOffsets[first + 1] == spec.ParameterOffsets[first]) first++;
        double total = 0;
        for (int i = 0; i < spec.Layers.Length; i++)
            total += Forward(spec.Layers[i], spec.Shapes[i + 1], batch) * (i > first ? 3 : 2);
        return total;
    }

    /// <summary>The forward product's FLOPs of one layer (0 for a layer without a product).</summary>
    public static double Forward(LayerSpec layer, Shape output, int batch) => layer switch
    {
        DenseSpec d => 2.0 * batch * d.In * d.Out,
        Conv2dSpec c => 2.0 * batch * c.OutChannels * output[1] * output[2] * c.FanIn,
        _ => 0,
    };
}
