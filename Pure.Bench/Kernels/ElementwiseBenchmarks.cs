using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using NeuralPure.Bench.Support;
using NeuralPure.Kernels;

namespace NeuralPure.Bench.Kernels;

/// <summary>Element-wise kernels on a [256, 1024] activation (config d's hidden layer), each against its scalar reference.</summary>
[MemoryDiagnoser, CategoriesColumn, GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ElementwiseBenchmarks
{
    private const int Length = 256 * 1024;
    private float[] x = [], y = [], d = [];

    [GlobalSetup]
    public void Setup() { x = Data.Floats(Length, 1); y = Data.Floats(Length, 2); d = new float[Length]; }

    [Benchmark(Baseline = true), BenchmarkCategory("Relu")] public void Relu_reference() => ScalarReference.Relu<float>(x, d);
    [Benchmark, BenchmarkCategory("Relu")] public void Relu() => Elementwise.Relu<float>(x, d);

    [Benchmark(Baseline = true), BenchmarkCategory("ReluBackward")] public void ReluBackward_reference() => ScalarReference.ReluBackward<float>(x, y, d);
    [Benchmark, BenchmarkCategory("ReluBackward")] public void ReluBackward() => Elementwise.ReluBackward<float>(x, y, d);

    [Benchmark(Baseline = true), BenchmarkCategory("Add")] public void Add_reference() => ScalarReference.Add<float>(x, y, d);
    [Benchmark, BenchmarkCategory("Add")] public void Add() => Elementwise.Add<float>(x, y, d);

    [Benchmark(Baseline = true), BenchmarkCategory("ScaleAdd")] public void ScaleAdd_reference() => ScalarReference.ScaleAdd<float>(x, 0.5f, y, d);
    [Benchmark, BenchmarkCategory("ScaleAdd")] public void ScaleAdd() => Elementwise.ScaleAdd<float>(x, 0.5f, y, d);

    [Benchmark(Baseline = true), BenchmarkCategory("Tanh")] public void Tanh_reference() => ScalarReference.Tanh<float>(x, d);
    [Benchmark, BenchmarkCategory("Tanh")] public void Tanh() => Elementwise.Tanh<float>(x, d);

    [Benchmark(Baseline = true), BenchmarkCategory("Sigmoid")] public void Sigmoid_reference() => ScalarReference.Sigmoid<float>(x, d);
    [Benchmark, BenchmarkCategory("Sigmoid")] public void Sigmoid() => Elementwise.Sigmoid<float>(x, d);

    [Benchmark(Baseline = true), BenchmarkCategory("FirstNonFinite")] public int FirstNonFinite_reference() => ScalarReference.FirstNonFinite<float>(x);
    [Benchmark, BenchmarkCategory("FirstNonFinite")] public int FirstNonFinite() => Elementwise.FirstNonFinite<float>(x);

    [Benchmark(Baseline = true), BenchmarkCategory("ColumnSums")] public void ColumnSums_reference() => ScalarReference.ColumnSums<float>(x, d.AsSpan(0, 1024), 256, 1024);
    [Benchmark, BenchmarkCategory("ColumnSums")] public void ColumnSums() => MatMul.ColumnSums<float>(x, d.AsSpan(0, 1024), 256, 1024);

    [Benchmark(Baseline = true), BenchmarkCategory("AddRowInPlace")] public void AddRowInPlace_reference() => ScalarReference.AddRowInPlace<float>(d, y.AsSpan(0, 1024), 256, 1024);
    [Benchmark, BenchmarkCategory("AddRowInPlace")] public void AddRowInPlace() => MatMul.AddRowInPlace<float>(d, y.AsSpan(0, 1024), 256, 1024);
}

/// <summary>Adam's element-wise kernels on config d's largest weight (1024 × 1024), each against its scalar reference.</summary>
[MemoryDiagnoser, CategoriesColumn, GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class OptimizerKernelsBenchmarks
{
    private const int Length = 1024 * 1024;
    private float[] m = [], v = [], g = [], d = [];

    [GlobalSetup]
    public void Setup()
    {
        m = Data.Floats(Length, 1); g = Data.Floats(Length, 2); d = new float[Length];
        v = Data.Floats(Length, 3); for (int i = 0; i < v.Length; i++) v[i] = Math.Abs(v[i]);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Moment")] public void Moment_reference() => ScalarReference.Moment<float>(m, 0.9f, g, 0.1f, d);
    [Benchmark, BenchmarkCategory("Moment")] public void Moment() => OptimizerKernels.Moment<float>(m, 0.9f, g, 0.1f, d);

    [Benchmark(Baseline = true), BenchmarkCategory("SecondMoment")] public void SecondMoment_reference() => ScalarReference.SecondMoment<float>(v, 0.999f, g, 0.001f, d);
    [Benchmark, BenchmarkCategory("SecondMoment")] public void SecondMoment() => OptimizerKernels.SecondMoment<float>(v, 0.999f, g, 0.001f, d);

    [Benchmark(Baseline = true), BenchmarkCategory("AdamDirection")] public void AdamDirection_reference() => ScalarReference.AdamDirection<float>(m, v, 10f, 0.03f, 1e-8f, d);
    [Benchmark, BenchmarkCategory("AdamDirection")] public void AdamDirection() => OptimizerKernels.AdamDirection<float>(m, v, 10f, 0.03f, 1e-8f, d);

    [Benchmark(Baseline = true), BenchmarkCategory("DivideBySqrtPlus")] public void DivideBySqrtPlus_reference() => ScalarReference.DivideBySqrtPlus<float>(g, v, 1e-8f, d);
    [Benchmark, BenchmarkCategory("DivideBySqrtPlus")] public void DivideBySqrtPlus() => OptimizerKernels.DivideBySqrtPlus<float>(g, v, 1e-8f, d);
}
