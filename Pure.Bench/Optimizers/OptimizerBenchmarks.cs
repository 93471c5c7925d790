using BenchmarkDotNet.Attributes;
using NeuralPure.Bench.Support;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace NeuralPure.Bench.Optimizers;

/// <summary>One optimizer step (Update, then ApplyUpdates) on a 784×128 dense layer's tree (W [128, 784] and b [128]), float,
/// through the pure surface: new state and parameters each call.</summary>
[MemoryDiagnoser]
public class OptimizerBenchmarks
{
    private ParamTree<float> parameters = null!, grads = null!;
    private OptState adamState = null!, adamWState = null!, sgdState = null!;
    private readonly GradientTransform adam = Optimizer.Adam(), adamW = Optimizer.AdamW(), sgd = Optimizer.Momentum();

    [GlobalSetup]
    public void Setup()
    {
        ParamTree<float> Tree(int seed) => new(["0.weight", "0.bias"],
            [NdArray.From<float>(Data.Floats(128 * 784, seed), 128, 784), NdArray.From<float>(Data.Floats(128, seed + 1), 128)]);
        parameters = Tree(1);
        grads = Tree(10);
        // One step first, so the moments are not all zero.
        adamState = adam.Update(grads, adam.Init(parameters), parameters).State;
        adamWState = adamW.Update(grads, adamW.Init(parameters), parameters).State;
        sgdState = sgd.Update(grads, sgd.Init(parameters), parameters).State;
    }

    private ParamTree<float> StepWith(GradientTransform t, OptState s)
    {
        var (updates, _) = t.Update(grads, s, parameters);
        return Optimizer.ApplyUpdates(parameters, updates);
    }

    [Benchmark(Baseline = true)]
    public ParamTree<float> Adam() => StepWith(adam, adamState);

    [Benchmark]
    public ParamTree<float> AdamW() => StepWith(adamW, adamWState);

    [Benchmark]
    public ParamTree<float> SgdMomentum() => StepWith(sgd, sgdState);
}
