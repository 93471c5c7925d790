using System.Reflection;
using System.Runtime.CompilerServices;
using NeuralPure.Kernels;
using NeuralPure.Random;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>KernelWarmup: what it compiles (every kernel marked for full optimization, the products at every width this
/// machine runs, in the order a run first calls them), that each compiles, and that Start runs once per type and finishes.</summary>
public sealed class KernelWarmupTests
{
    [Fact]
    public void It_compiles_every_fully_optimized_kernel_at_each_width_this_machine_runs_in_the_order_a_run_calls_them()
    {
        var methods = KernelWarmup.Methods<float>();
        Assert.All(methods, m => Assert.True((m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0, m.Name));
        Assert.All(methods, m => Assert.False(m.ContainsGenericParameters, m.Name));
        // Sampling (parameter initialization) and the finiteness check first, then the products at the widest width and a
        // 10-wide classifier's, the other kernels of a dense ReLU classifier's first step with Adam, the rest of the element-wise,
        // sum, loss and optimizer kernels, the products at narrower widths, the rest (dropout masks among them).
        Assert.Equal(typeof(Sampling).Namespace, methods[0].DeclaringType!.Namespace);
        var best = Gemm.Resolve<float>(VectorWidth.Best);
        bool PerWidth(MethodInfo m) => m.IsGenericMethod && m.GetGenericArguments().Length is 3 or 5;
        var classifier = Gemm.Narrowest<float>(10);
        bool AtClassifier(MethodInfo m) => PerWidth(m) && m.GetGenericArguments()[1].Name.StartsWith(classifier switch { VectorWidth.V512 => "Vector512", VectorWidth.V256 => "Vector256", VectorWidth.V128 => "Vector128", _ => nameof(Single) });
        bool AtBest(MethodInfo m) => PerWidth(m) && m.GetGenericArguments()[1].Name.StartsWith(best switch { VectorWidth.V512 => "Vector512", VectorWidth.V256 => "Vector256", VectorWidth.V128 => "Vector128", _ => nameof(Single) });
        bool DenseStep(MethodInfo m) => KernelWarmup.DenseStep.Contains((m.DeclaringType!.FullName!, m.Name));
        int Rank(MethodInfo m) => m.DeclaringType!.Namespace == typeof(Sampling).Namespace ? (m.Name.StartsWith("Keep") ? 5 : 0)
            : m.DeclaringType == typeof(Elementwise) && m.Name == nameof(Elementwise.FirstNonFinite) ? 0
            : m.DeclaringType == typeof(Gemm) && (AtBest(m) || AtClassifier(m) || !PerWidth(m)) ? 1
            : m.DeclaringType == typeof(Gemm) ? 4
            : DenseStep(m) ? 2
            : m.DeclaringType == typeof(Elementwise) || m.DeclaringType == typeof(LaneSums) || m.DeclaringType == typeof(OptimizerKernels) || m.DeclaringType == typeof(MatMul) || m.DeclaringType == typeof(NeuralPure.Losses.SoftmaxCrossEntropy) ? 3
            : 5;
        var ranks = methods.Select(Rank).ToList();
        Assert.Equal(ranks.OrderBy(r => r), ranks);
        Assert.Contains(1, ranks); Assert.Contains(2, ranks); Assert.Contains(3, ranks); Assert.Contains(5, ranks);
        // Every name of the dense step's list is a kernel (a renamed kernel would silently drop out of it otherwise).
        Assert.All(KernelWarmup.DenseStep, k => Assert.Contains(methods, m => m.DeclaringType!.FullName == k.Type && m.Name == k.Name));
        Assert.Contains(methods, m => m.Name.StartsWith("Keep") && Rank(m) == 5);
        var names = methods.Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToHashSet();
        foreach (var k in new[] { "Gemm.Kernel", "Gemm.Blocked", "Gemm.PackA", "Gemm.PackB", "Elementwise.Relu", "OptimizerKernels.AdamStep", "SoftmaxCrossEntropy.ValueAndGrad", "Sampling.Uniform", "Threefry.UnitDoubles" })
            Assert.Contains(k, names);
        var runs = new[] { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128 }.Where(w => Gemm.Resolve<float>(w) == w).ToList();
        if (runs.Count == 0) runs.Add(VectorWidth.Scalar); // no SIMD: the scalar kernels are the ones that run
        int widths = runs.Count;
        // The micro-kernel at each width, once per row count (all rows, and the shorter last panels: 4, and 8 where a panel has 12)
        // and column count (two registers, and one for a narrow last tile).
        int kernels = runs.Sum(w => Gemm.RowCounts<float>(w).Length) * Gemm.ColumnCounts.Length;
        Assert.Equal(kernels, methods.Count(m => m.DeclaringType == typeof(Gemm) && m.Name == "Kernel"));
        Assert.True(kernels > widths);
        // Every fully optimized method of the assembly is in the list (for float), so a new kernel is warmed up without a change here.
        int declared = typeof(KernelWarmup).Assembly.GetTypes().Where(t => !t.IsGenericTypeDefinition)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0)
            .Sum(m => !m.IsGenericMethodDefinition ? 1 : m.GetGenericArguments().Length switch { 3 => widths, 5 => kernels, _ => 1 });
        Assert.Equal(declared, methods.Count);
        foreach (var m in methods) RuntimeHelpers.PrepareMethod(m.MethodHandle);
        foreach (var m in KernelWarmup.Methods<double>()) RuntimeHelpers.PrepareMethod(m.MethodHandle);
    }

    [Fact]
    public async Task Start_compiles_once_per_type_and_finishes()
    {
        var first = KernelWarmup.Start<double>();
        await first.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(first.IsCompletedSuccessfully);
        Assert.True(KernelWarmup.Start<double>().IsCompleted);       // a second call has nothing to start
        Assert.True(KernelWarmup.Start<Half>().IsCompleted);         // only float and double have kernels
    }
}
