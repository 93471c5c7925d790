using BenchmarkDotNet.Attributes;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Tensors;

namespace NeuralPure.Bench.Layers;

/// <summary>Dense forward (y = x·Wᵀ + b) and backward (dW, db, dx) as the pure surface runs them (allocating the results),
/// at config b's first layer and config d's second, on one thread and on every core.</summary>
[MemoryDiagnoser]
public class DenseBenchmarks
{
    [Params("64x784x128", "256x1024x1024")]
    public string Shape { get; set; } = "64x784x128";

    [Params(1, 0)]
    public int Threads { get; set; }

    private DenseParams<float> p = null!;
    private NdArray<float> x = null!, dy = null!;
    private Parallelism par = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (m, k, n) = Data.Shape(Shape);
        p = new DenseParams<float>(NdArray.From<float>(Data.Floats(n * k, 1), n, k), NdArray.From<float>(Data.Floats(n, 2), n));
        x = NdArray.From<float>(Data.Floats(m * k, 3), m, k);
        dy = NdArray.From<float>(Data.Floats(m * n, 4), m, n);
        par = new Parallelism(Threads);
    }

    [Benchmark]
    public NdArray<float> Forward() => Dense.Forward(p, x, par);

    [Benchmark]
    public DenseGrads<float> Backward() => Dense.Backward(p, x, dy, par);
}
