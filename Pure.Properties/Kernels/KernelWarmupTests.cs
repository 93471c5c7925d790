using System.Reflection;
using System.Runtime.CompilerServices;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>KernelWarmup: what it compiles (every kernel marked for full optimization, the products at every width this
/// machine runs, products first), that each compiles, and that Start runs once per type and finishes.</summary>
public sealed class KernelWarmupTests
{
    [Fact]
    public void It_compiles_every_fully_optimized_kernel_products_first_at_each_width_this_machine_runs()
    {
        var methods = KernelWarmup.Methods<float>();
        Assert.All(methods, m => Assert.True((m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0, m.Name));
        Assert.All(methods, m => Assert.False(m.ContainsGenericParameters, m.Name));
        Assert.Equal(typeof(Gemm), methods[0].DeclaringType);
        var names = methods.Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToHashSet();
        foreach (var k in new[] { "Gemm.Kernel", "Gemm.Blocked", "Gemm.PackA", "Gemm.PackB", "Elementwise.Relu", "OptimizerKernels.AdamStep", "Sampling.Uniform", "Threefry.UnitDoubles" })
            Assert.Contains(k, names);
        int widths = new[] { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128 }.Count(w => Gemm.Resolve<float>(w) == w);
        Assert.Equal(widths, methods.Count(m => m.DeclaringType == typeof(Gemm) && m.Name == "Kernel"));
        // Every fully optimized method of the assembly is in the list (for float), so a new kernel is warmed up without a change here.
        int declared = typeof(KernelWarmup).Assembly.GetTypes().Where(t => !t.IsGenericTypeDefinition)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0)
            .Sum(m => m.IsGenericMethodDefinition && m.GetGenericArguments().Length == 3 ? widths : 1);
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
