using BenchmarkDotNet.Attributes;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;

namespace NeuralPure.Bench.Kernels;

/// <summary>The three dense-layer products at the shapes of configs b (layer 1) and d (layer 2), float: the scalar reference
/// (baseline), the blocked kernel on one thread, and on every core. Shapes are m×k×n as the kernels take them.</summary>
public abstract class MatMulBenchmarkBase
{
    [Params("64x784x128", "256x1024x1024")]
    public string Shape { get; set; } = "64x784x128";

    protected int M, K, N;
    protected float[] A = [], B = [], C = [], Bias = [];

    protected abstract (int A, int B, int C) Lengths(int m, int k, int n);

    [GlobalSetup]
    public void Setup()
    {
        (M, K, N) = Data.Shape(Shape);
        var (al, bl, cl) = Lengths(M, K, N);
        A = Data.Floats(al, 1); B = Data.Floats(bl, 2); C = new float[cl]; Bias = Data.Floats(N, 3);
    }
}

/// <summary>Y = X·Wᵀ: the forward product.</summary>
[MemoryDiagnoser]
public class MultiplyTransposedBBenchmarks : MatMulBenchmarkBase
{
    protected override (int A, int B, int C) Lengths(int m, int k, int n) => (m * k, n * k, m * n);

    [Benchmark(Baseline = true)]
    public void ScalarReference_() => ScalarReference.MultiplyTransposedB<float>(A, B, C, M, K, N);

    [Benchmark]
    public void Blocked_1_thread() => MatMul.MultiplyTransposedB<float>(A, B, C, M, K, N, 1);

    [Benchmark]
    public void Blocked_all_cores() => MatMul.MultiplyTransposedB<float>(A, B, C, M, K, N, Environment.ProcessorCount);
}

/// <summary>dX = dY·W: the input-gradient product.</summary>
[MemoryDiagnoser]
public class MultiplyBenchmarks : MatMulBenchmarkBase
{
    protected override (int A, int B, int C) Lengths(int m, int k, int n) => (m * k, k * n, m * n);

    [Benchmark(Baseline = true)]
    public void ScalarReference_() => ScalarReference.Multiply<float>(A, B, C, M, K, N);

    [Benchmark]
    public void Blocked_1_thread() => MatMul.Multiply<float>(A, B, C, M, K, N, 1);

    [Benchmark]
    public void Blocked_all_cores() => MatMul.Multiply<float>(A, B, C, M, K, N, Environment.ProcessorCount);
}

/// <summary>dW = dYᵀ·X: the weight-gradient product (C is k×n).</summary>
[MemoryDiagnoser]
public class MultiplyTransposedABenchmarks : MatMulBenchmarkBase
{
    protected override (int A, int B, int C) Lengths(int m, int k, int n) => (m * k, m * n, k * n);

    [Benchmark(Baseline = true)]
    public void ScalarReference_() => ScalarReference.MultiplyTransposedA<float>(A, B, C, M, K, N);

    [Benchmark]
    public void Blocked_1_thread() => MatMul.MultiplyTransposedA<float>(A, B, C, M, K, N, 1);

    [Benchmark]
    public void Blocked_all_cores() => MatMul.MultiplyTransposedA<float>(A, B, C, M, K, N, Environment.ProcessorCount);
}

/// <summary>The forward product with the bias fused, against the reference product followed by the reference bias add.</summary>
[MemoryDiagnoser]
public class MultiplyTransposedBAddRowBenchmarks : MatMulBenchmarkBase
{
    protected override (int A, int B, int C) Lengths(int m, int k, int n) => (m * k, n * k, m * n);

    [Benchmark(Baseline = true)]
    public void ScalarReference_then_AddRow()
    {
        ScalarReference.MultiplyTransposedB<float>(A, B, C, M, K, N);
        ScalarReference.AddRowInPlace<float>(C, Bias, M, N);
    }

    [Benchmark]
    public void Blocked_then_AddRow()
    {
        MatMul.MultiplyTransposedB<float>(A, B, C, M, K, N, 1);
        MatMul.AddRowInPlace<float>(C, Bias, M, N);
    }

    [Benchmark]
    public void Blocked_fused_bias() => MatMul.MultiplyTransposedBAddRow<float>(A, B, Bias, C, M, K, N, 1);
}
