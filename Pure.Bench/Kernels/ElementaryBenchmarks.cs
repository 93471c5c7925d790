using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using NeuralPure.Numerics;

namespace NeuralPure.Bench.Kernels;

/// <summary>
/// NeuralPure's elementary functions beside the C library's (System.Math / MathF, the baseline of each category), over 4096
/// arguments in each function's working range: the price of the same bits on every platform.
/// </summary>
[MemoryDiagnoser, CategoriesColumn, GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class ElementaryBenchmarks
{
    private const int N = 4096;
    private readonly double[] x = new double[N], pos = new double[N], d = new double[N];
    private readonly float[] xf = new float[N], df = new float[N];

    [GlobalSetup]
    public void Setup()
    {
        var r = new System.Random(1);
        for (int i = 0; i < N; i++) { x[i] = r.NextDouble() * 20 - 10; pos[i] = Math.Exp(r.NextDouble() * 40 - 20); xf[i] = (float)x[i]; }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("exp")] public void Exp_Math() { for (int i = 0; i < N; i++) d[i] = Math.Exp(x[i]); }
    [Benchmark, BenchmarkCategory("exp")] public void Exp_Elementary() { for (int i = 0; i < N; i++) d[i] = Elementary.Exp(x[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("log")] public void Log_Math() { for (int i = 0; i < N; i++) d[i] = Math.Log(pos[i]); }
    [Benchmark, BenchmarkCategory("log")] public void Log_Elementary() { for (int i = 0; i < N; i++) d[i] = Elementary.Log(pos[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("tanh")] public void Tanh_Math() { for (int i = 0; i < N; i++) d[i] = Math.Tanh(x[i]); }
    [Benchmark, BenchmarkCategory("tanh")] public void Tanh_Elementary() { for (int i = 0; i < N; i++) d[i] = Elementary.Tanh(x[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("pow")] public void Pow_Math() { for (int i = 0; i < N; i++) d[i] = Math.Pow(pos[i], x[i]); }
    [Benchmark, BenchmarkCategory("pow")] public void Pow_Elementary() { for (int i = 0; i < N; i++) d[i] = Elementary.Pow(pos[i], x[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("cospi")] public void CosPi_Math() { for (int i = 0; i < N; i++) d[i] = Math.Cos(Math.PI * x[i]); }
    [Benchmark, BenchmarkCategory("cospi")] public void CosPi_Elementary() { for (int i = 0; i < N; i++) d[i] = Elementary.CosPi(x[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("expf")] public void ExpF_MathF() { for (int i = 0; i < N; i++) df[i] = MathF.Exp(xf[i]); }
    [Benchmark, BenchmarkCategory("expf")] public void ExpF_Elementary() { for (int i = 0; i < N; i++) df[i] = ElementaryF.Exp(xf[i]); }
    [Benchmark(Baseline = true), BenchmarkCategory("tanhf")] public void TanhF_MathF() { for (int i = 0; i < N; i++) df[i] = MathF.Tanh(xf[i]); }
    [Benchmark, BenchmarkCategory("tanhf")] public void TanhF_Elementary() { for (int i = 0; i < N; i++) df[i] = ElementaryF.Tanh(xf[i]); }
}
