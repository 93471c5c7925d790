using BenchmarkDotNet.Attributes;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace NeuralPure.Bench.Optimizers;

/// <summary>One optimizer step as the training fold runs it, on a 784×128 dense layer's tree (W [128, 784] and b [128]), float:
/// the workspace opened once (the fused form when the optimizer has one, as the fold takes it), then per step the gradients
/// copied into the update buffers (the fold's backward writes them there; the copy is the same for every optimizer), the update
/// in place, and p ← p + u. Adam is the baseline; 0 bytes per step for each.</summary>
[MemoryDiagnoser]
public class OptimizerFoldBenchmarks
{
    /// <summary>The optimizer, by the names the rows print.</summary>
    [Params("adam", "adamw", "momentum", "sgd-dampened", "rmsprop-centred", "adagrad", "lion", "adamax", "nadam", "radam", "adamw-no-decay-on-biases", "adam-accumulate-4")]
    public string Name { get; set; } = "adam";

    private static readonly System.Collections.Immutable.ImmutableArray<string> Names = ["0.weight", "0.bias"];
    private float[][] parameters = null!, grads = null!, updates = null!;
    private TransformWorkspace<float> work = null!;

    internal static GradientTransform Build(string name) => name switch
    {
        "adam" => Optimizer.Adam(),
        "adamw" => Optimizer.AdamW(),
        "momentum" => Optimizer.Momentum(),
        "sgd-dampened" => Optimizer.Sgd(1e-3, 0, 0.9, 0.1),
        "rmsprop-centred" => Optimizer.RmsProp(centered: true),
        "adagrad" => Optimizer.Adagrad(),
        "lion" => Optimizer.Lion(weightDecay: 0.1),
        "adamax" => Optimizer.Adamax(),
        "nadam" => Optimizer.NAdam(),
        "radam" => Optimizer.RAdam(),
        "adamw-no-decay-on-biases" => Optimizer.WithoutDecayOn(Optimizer.AdamW(), ParamMask.Matching("bias")),
        "adam-accumulate-4" => Optimizer.Accumulate(Optimizer.Adam(), 4),
        _ => throw new ArgumentException(name),
    };

    [GlobalSetup]
    public void Setup()
    {
        var opt = Build(Name);
        var tree = new ParamTree<float>(Names, [NdArray.From<float>(Data.Floats(128 * 784, 1), 128, 784), NdArray.From<float>(Data.Floats(128, 2), 128)]);
        parameters = [.. tree.Leaves.Select(l => l.ToArray())];
        grads = [Data.Floats(128 * 784, 10), Data.Floats(128, 11)];
        updates = [.. grads.Select(g => new float[g.Length])];
        var state = opt.Init(tree);
        work = opt.OpenApplying(state, tree) ?? opt.Open(state, tree);
        for (int i = 0; i < 3; i++) Step(); // not all-zero moments
    }

    [Benchmark]
    public void Step()
    {
        for (int j = 0; j < grads.Length; j++) grads[j].CopyTo(updates[j], 0);
        work.Update(new UpdateArgs<float>(Names, updates, parameters, writableParameters: work.AppliesUpdates, threads: 1));
        if (!work.AppliesUpdates)
            for (int j = 0; j < parameters.Length; j++) Elementwise.Add<float>(parameters[j], updates[j], parameters[j]);
    }
}
