using BenchmarkDotNet.Attributes;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Bench.Training;

/// <summary>A whole training step (forward, cross-entropy, backprop, Adam, apply) for configs a–d of issue 5: the step with
/// the scalar-reference kernels (baseline), <see cref="Trainer.Step{T}"/> on one thread and on every core.</summary>
/// <remarks>Each invocation is one step from the same starting state on the same batch, so every invocation does the same
/// work. <c>report</c> measures the same steps as throughput over many steps.</remarks>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    [Params("a", "b", "c", "d")]
    public string Config { get; set; } = "a";

    private ModelSpec spec = null!;
    private GradientTransform optimizer = null!;
    private TrainState<float> state = null!;
    private Batch<float> batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var c = BenchConfig.Get(Config);
        spec = c.Spec; optimizer = c.Optimizer; batch = c.Batches(1)[0];
        state = Trainer.Step(spec, optimizer, c.InitialState(), batch).State;
    }

    [Benchmark(Baseline = true)]
    public TrainState<float> Scalar_reference_kernels() => ReferenceStep.Step(spec, optimizer, state, batch).State;

    [Benchmark]
    public TrainState<float> Step_1_thread() => Trainer.Step(spec, optimizer, state, batch, Parallelism.SingleThread).State;

    [Benchmark]
    public TrainState<float> Step_all_cores() => Trainer.Step(spec, optimizer, state, batch, Parallelism.AllCores).State;
}

/// <summary>The same steps inside the fold (<see cref="Trainer.Fit{T}(NeuralPure.Models.ModelSpec, NeuralPure.Optimizers.GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/>'s workspaces, created once in setup): what a step costs
/// in a fit, and that it allocates nothing (MemoryDiagnoser's Allocated column).</summary>
[MemoryDiagnoser]
public class FoldStepBenchmarks
{
    [Params("a", "b", "c", "d")]
    public string Config { get; set; } = "a";

    [Params(1, 0)]
    public int Threads { get; set; }

    private Fold<float> fold = null!;
    private DataSet<float> data = null!;
    private TrainState<float> state = null!;
    private int batch;
    private long step;

    [GlobalSetup]
    public void Setup()
    {
        var c = BenchConfig.Get(Config);
        data = c.Data(1); batch = c.Batch;
        state = c.InitialState();
        fold = Fold<float>.Create(c.Spec, c.Optimizer, state, data, batch, new Parallelism(Threads));
    }

    [Benchmark]
    public float Step() => fold.Step(data, default, 0, batch, state.Key, step++);
}
