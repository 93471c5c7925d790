using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Properties.Support;

/// <summary>FsCheck generators for the layer, loss and model properties: moderate finite numbers, points away from kinks,
/// and whole random networks with valid targets.</summary>
/// <remarks>
/// Numbers are drawn uniformly from a range with FsCheck's <c>Gen.Choose</c> (size-independent: the first case is as
/// varied as the last). Every case type prints all of its numbers with round-trip precision, so a counterexample printed
/// by FsCheck can be rebuilt exactly; the Replay seed reproduces the whole run.
/// </remarks>
public static class Generators
{
    private const int Resolution = 1_000_000_000;

    /// <summary>A double uniform in [−<paramref name="bound"/>, <paramref name="bound"/>] with a resolution of bound·1e-9.</summary>
    public static Gen<double> Moderate(double bound = 2.0) =>
        Gen.Choose(-Resolution, Resolution).Select(i => i * (bound / Resolution));

    /// <summary>A double uniform in [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static Gen<double> Between(double low, double high) =>
        Gen.Choose(0, Resolution).Select(i => low + (high - low) * ((double)i / Resolution));

    /// <summary>A double in [−bound, −margin] ∪ [margin, bound]: a point whose ±h neighbourhood stays on one side of a kink at 0.</summary>
    public static Gen<double> AwayFromZero(double bound = 2.0, double margin = 1e-3) =>
        from sign in Gen.Elements(-1.0, 1.0)
        from magnitude in Between(margin, bound)
        select sign * magnitude;

    /// <summary>A [rows, cols] matrix whose elements come from <paramref name="element"/>.</summary>
    public static Gen<NdArray<double>> Matrix(int rows, int cols, Gen<double> element) =>
        Gen.ArrayOf(element, rows * cols).Select(a => NdArray.From<double>(a, rows, cols));

    /// <summary>A [rows, cols] matrix of moderate values in [−bound, bound].</summary>
    public static Gen<NdArray<double>> Matrix(int rows, int cols, double bound = 2.0) => Matrix(rows, cols, Moderate(bound));

    /// <summary>A [rows, cols] matrix with every element at least <paramref name="margin"/> away from 0 (ReLU's and LeakyReLU's kink).</summary>
    public static Gen<NdArray<double>> MatrixAwayFromKink(int rows, int cols, double bound = 2.0, double margin = 1e-3) =>
        Matrix(rows, cols, AwayFromZero(bound, margin));

    /// <summary>A shape [rows, cols] with rows in [1, maxRows] and cols in [1, maxCols].</summary>
    public static Gen<(int Rows, int Cols)> Shape(int maxRows = 16, int maxCols = 12) =>
        Gen.Zip(Gen.Choose(1, maxRows), Gen.Choose(1, maxCols));

    /// <summary>A 62-bit seed (two size-independent 31-bit halves).</summary>
    public static Gen<ulong> Seed { get; } =
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, int.MaxValue)).Select(p => ((ulong)p.Item1 << 31) | (uint)p.Item2);

    /// <summary>Every activation, LeakyReLU with PyTorch's slope or a random one in [0.01, 0.5].</summary>
    public static Gen<ActivationSpec> Activation { get; } = Gen.OneOf(
        Gen.Elements<ActivationSpec>(new IdentitySpec(), new ReluSpec(), new LeakyReluSpec(), new SigmoidSpec(), new TanhSpec(), new GeluSpec()),
        Between(0.01, 0.5).Select(s => (ActivationSpec)new LeakyReluSpec(s)));

    /// <summary>The activations with a continuous derivative everywhere (no kink): sigmoid, tanh, GELU.</summary>
    public static Gen<ActivationSpec> SmoothActivation { get; } = Gen.Elements<ActivationSpec>(new SigmoidSpec(), new TanhSpec(), new GeluSpec());

    /// <summary>Every loss with every option that fits an output of <paramref name="width"/>: MSE, BCE, Huber with δ ∈ [0.2, 3],
    /// cross-entropy plain, with class weights in [0.1, 3], with label smoothing in [0.05, 0.5], and with both (the last four need width ≥ 2).</summary>
    public static Gen<LossSpec> Loss(int width)
    {
        var value = Gen.OneOf(
            Gen.Constant<LossSpec>(new MseSpec()),
            Gen.Constant<LossSpec>(new BinaryCrossEntropySpec()),
            Between(0.2, 3).Select(d => (LossSpec)new HuberSpec(d)));
        return width < 2 ? value : Gen.OneOf(value, CrossEntropy(width));
    }

    /// <summary>Softmax cross-entropy for <paramref name="classes"/> classes, without options, with class weights, with label smoothing, or with both.</summary>
    public static Gen<LossSpec> CrossEntropy(int classes) =>
        from weighted in Gen.Elements(false, true)
        from smoothed in Gen.Elements(false, true)
        from weights in Gen.ArrayOf(Between(0.1, 3), classes)
        from eps in Between(0.05, 0.5)
        select (LossSpec)new SoftmaxCrossEntropySpec(weighted ? ImmutableArray.Create(weights) : null, smoothed ? eps : 0);

    /// <summary>Valid targets for <paramref name="loss"/> after an output [rows, width]: labels [rows] in [0, width) for cross-entropy,
    /// values in [0, 1] (hard 0/1 or soft) for BCE, moderate values [rows, width] otherwise.</summary>
    public static Gen<NdArray<double>> Targets(LossSpec loss, int rows, int width) => loss switch
    {
        SoftmaxCrossEntropySpec => Gen.ArrayOf(Gen.Choose(0, width - 1), rows).Select(l => NdArray.Vector(l.Select(v => (double)v).ToArray())),
        BinaryCrossEntropySpec => Matrix(rows, width, Gen.OneOf(Gen.Elements(0.0, 1.0), Between(0, 1))),
        _ => Matrix(rows, width, Moderate(2.0)),
    };

    /// <summary>A loss from <paramref name="specs"/> (given the output width), an output [1–<paramref name="maxRows"/>,
    /// <paramref name="minWidth"/>–<paramref name="maxWidth"/>] of values in [−bound, bound] and valid targets. For Huber,
    /// cases with some |ŷ − y| within 1e-3 of δ (its second derivative's jump) are filtered out.</summary>
    public static Gen<LossCase> LossCase(Func<int, Gen<LossSpec>> specs, int minWidth = 1, int maxWidth = 8, int maxRows = 16, double bound = 4.0) =>
        (from rows in Gen.Choose(1, maxRows)
         from width in Gen.Choose(minWidth, maxWidth)
         from spec in specs(width)
         from output in Matrix(rows, width, bound)
         from target in Targets(spec, rows, width)
         select new LossCase(spec, output, target))
        .Where(c => c.Spec is not HuberSpec h || !c.Output.ToArray().Zip(c.Target.ToArray()).Any(p => Math.Abs(Math.Abs(p.First - p.Second) - h.Delta) <= 1e-3));

    /// <summary>The initializers that draw non-zero weights.</summary>
    public static Gen<Initializer> RandomInitializer { get; } =
        Gen.Elements(Initializer.PyTorchLinear, Initializer.HeUniform, Initializer.HeNormal, Initializer.XavierUniform, Initializer.XavierNormal);

    /// <summary>A random network: 1–<paramref name="maxDepth"/> dense layers of widths 1–<paramref name="maxWidth"/>, an activation from
    /// <paramref name="activation"/> after every hidden dense layer, a loss from <paramref name="loss"/> (default <see cref="Loss"/>),
    /// a batch of 1–<paramref name="maxBatch"/> rows of moderate inputs with valid targets, and parameters from
    /// <see cref="Model.Init{T}"/> with a random initializer and seed.</summary>
    /// <param name="maxDepth">The most dense layers (at least 1).</param>
    /// <param name="maxWidth">The widest layer.</param>
    /// <param name="maxBatch">The most rows.</param>
    /// <param name="activation">The hidden activations; null for <see cref="Activation"/>.</param>
    /// <param name="loss">The loss for an output width; null for <see cref="Loss"/>.</param>
    /// <param name="dropout">When true, a dropout layer with rate in [0.1, 0.7] follows every hidden activation.</param>
    public static Gen<NetworkCase> Network(int maxDepth = 4, int maxWidth = 12, int maxBatch = 16,
        Gen<ActivationSpec>? activation = null, Func<int, Gen<LossSpec>>? loss = null, bool dropout = false)
    {
        var act = activation ?? Activation;
        var lossOf = loss ?? Loss;
        return
            from depth in Gen.Choose(1, maxDepth)
            from widths in Gen.ArrayOf(Gen.Choose(1, maxWidth), depth + 1)
            from acts in Gen.ArrayOf(act, depth - 1)
            from rate in Between(0.1, 0.7)
            from lossSpec in lossOf(widths[depth])
            let outWidth = lossSpec.UsesLabels ? Math.Max(2, widths[depth]) : widths[depth]
            from init in RandomInitializer
            from seed in Seed
            from rows in Gen.Choose(1, maxBatch)
            from x in Matrix(rows, widths[0])
            from y in Targets(lossSpec, rows, outWidth)
            select Build(widths, outWidth, acts, dropout ? rate : 0, lossSpec, init, seed, x, y);
    }

    private static NetworkCase Build(int[] widths, int outWidth, ActivationSpec[] acts, double dropout, LossSpec loss, Initializer init, ulong seed,
        NdArray<double> x, NdArray<double> y)
    {
        var layers = ImmutableArray.CreateBuilder<LayerSpec>();
        int depth = widths.Length - 1;
        for (int i = 0; i < depth; i++)
        {
            int outW = i == depth - 1 ? outWidth : widths[i + 1];
            layers.Add(new DenseSpec(widths[i], outW, init));
            if (i < depth - 1)
            {
                layers.Add(acts[i]);
                if (dropout > 0) layers.Add(new DropoutSpec(dropout));
            }
        }
        var spec = new ModelSpec(widths[0], layers.ToImmutable(), loss);
        return new NetworkCase(spec, init, seed, Model.Init<double>(spec, RandomKey.FromSeed(seed)), new Batch<double>(x, y));
    }

    /// <summary>True when no ReLU/LeakyReLU input (a dense output, read from <see cref="Model.Backprop{T}"/>'s Activations) lies
    /// within <paramref name="margin"/> of 0, and, for Huber, no |ŷ − y| lies within <paramref name="huberMargin"/> of δ.</summary>
    /// <remarks>Central differences across a kink measure the average of the two one-sided slopes, not the derivative, so
    /// such cases are rejected rather than tolerated. A step h = 1e-6 in one parameter or input moves a pre-activation by
    /// about h·|x| ≤ 1e-5 here, well inside the 1e-4 margin.</remarks>
    public static bool AwayFromKinks(ModelSpec spec, ParamTree<double> parameters, Batch<double> batch, RandomKey? dropoutKey = null,
        double margin = 1e-4, double huberMargin = 1e-3)
    {
        var t = Model.Backprop(spec, parameters, batch, dropoutKey);
        for (int i = 0; i < spec.Layers.Length; i++)
            if (spec.Layers[i] is ReluSpec or LeakyReluSpec)
                foreach (var v in t.Activations[i].Span)
                    if (Math.Abs(v) <= margin) return false;
        if (spec.Loss is HuberSpec h)
        {
            var yHat = t.Activations[^1].Span; var y = batch.Y.Span;
            for (int i = 0; i < yHat.Length; i++)
                if (Math.Abs(Math.Abs(yHat[i] - y[i]) - h.Delta) <= huberMargin) return false;
        }
        return true;
    }

    /// <inheritdoc cref="AwayFromKinks(ModelSpec, ParamTree{double}, Batch{double}, RandomKey?, double, double)"/>
    public static bool AwayFromKinks(NetworkCase c, RandomKey? dropoutKey = null) => AwayFromKinks(c.Spec, c.Params, c.Batch, dropoutKey);

    /// <summary>All elements with round-trip precision, e.g. <c>[2, 3] {1, -0.5, …}</c>.</summary>
    public static string Show<T>(NdArray<T> a) where T : unmanaged, System.Numerics.INumberBase<T> =>
        a.ShapeText + " {" + string.Join(", ", a.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "}";
}

/// <summary>A random network, its parameters and a batch, printed in full so a counterexample can be rebuilt.</summary>
/// <param name="Spec">The architecture and loss.</param>
/// <param name="Init">The initializer of every dense layer.</param>
/// <param name="Seed">The seed of <see cref="Model.Init{T}"/>.</param>
/// <param name="Params">The parameters Model.Init drew from the seed.</param>
/// <param name="Batch">Inputs and valid targets.</param>
public sealed record NetworkCase(ModelSpec Spec, Initializer Init, ulong Seed, ParamTree<double> Params, Batch<double> Batch)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"network {Spec} (init {Init.Name}, seed {Seed}; loss {Describe(Spec.Loss)})\n  X = {Generators.Show(Batch.X)}\n  Y = {Generators.Show(Batch.Y)}";

    /// <summary>A loss with its options.</summary>
    public static string Describe(LossSpec loss) => loss switch
    {
        SoftmaxCrossEntropySpec ce => $"cross-entropy(weights {(ce.ClassWeights is { } w ? "[" + string.Join(", ", w.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]" : "none")}, smoothing {ce.LabelSmoothing.ToString("R", CultureInfo.InvariantCulture)})",
        HuberSpec h => $"huber(δ {h.Delta.ToString("R", CultureInfo.InvariantCulture)})",
        _ => loss.Kind,
    };
}

/// <summary>A loss, an output batch and valid targets, printed in full.</summary>
/// <param name="Spec">The loss and its options.</param>
/// <param name="Output">The model's output [rows, width] (logits for BCE and cross-entropy).</param>
/// <param name="Target">Labels [rows] for cross-entropy, values [rows, width] otherwise.</param>
public sealed record LossCase(LossSpec Spec, NdArray<double> Output, NdArray<double> Target)
{
    /// <inheritdoc/>
    public override string ToString() => $"{NetworkCase.Describe(Spec)}\n  output = {Generators.Show(Output)}\n  target = {Generators.Show(Target)}";
}
