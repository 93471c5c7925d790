using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralPure.Kernels;

/// <summary>Compiles the library's kernels for an element type on a background thread, so that a process's first training
/// step does not wait for the JIT.</summary>
/// <remarks>
/// <para>The kernels (matrix products, element-wise passes, optimizer updates, sums, sampling) are marked for full
/// optimization from their first call: tiered compilation would otherwise run them in unoptimized code first. That
/// compilation then happens on the training thread at the first step — for config d of <c>Pure.Bench report</c> it was about
/// 70 ms of a 240 ms start. <see cref="Start{T}"/> compiles the same methods on another core while the caller loads data and
/// initializes parameters: call it first thing (the <c>neuralpure</c> CLI does).</para>
/// <para>It changes no result: compiled code is the same code whichever thread compiles it. It only compiles; it runs nothing.
/// With one core there is no second one to use, and it does nothing.</para>
/// </remarks>
public static class KernelWarmup
{
    private static int started; // one bit per element type: 1 float, 2 double

    /// <summary>Starts compiling the kernels for <typeparamref name="T"/> (float or double) on a background thread, once per
    /// process and type; returns at once. The task completes when they are compiled (at once for other types, with one core,
    /// or when the runtime cannot compile code); it never faults.</summary>
    public static Task Start<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bit = typeof(T) == typeof(float) ? 1 : typeof(T) == typeof(double) ? 2 : 0;
        if (bit == 0 || Environment.ProcessorCount < 2 || !RuntimeFeature.IsDynamicCodeCompiled) return Task.CompletedTask;
        if ((Interlocked.Or(ref started, bit) & bit) != 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => { Compile<T>(); done.SetResult(); }) { IsBackground = true, Name = "NeuralPure kernel warm-up" };
        thread.Start();
        return done.Task;
    }

    /// <summary>The kernels for <typeparamref name="T"/>, matrix products first (their JIT is the longest): every method of the
    /// assembly marked <see cref="MethodImplOptions.AggressiveOptimization"/>, instantiated for T, and the register-blocked
    /// product for every width this machine may run.</summary>
    internal static IReadOnlyList<MethodInfo> Methods<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var widths = new List<Type[]>();
        foreach (var w in new[] { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128 })
            if (Gemm.Resolve<T>(w) == w)
                widths.Add(w switch
                {
                    VectorWidth.V512 => [typeof(V512Ops<T>), typeof(Vector512<T>), typeof(T)],
                    VectorWidth.V256 => [typeof(V256Ops<T>), typeof(Vector256<T>), typeof(T)],
                    _ => [typeof(V128Ops<T>), typeof(Vector128<T>), typeof(T)],
                });
        var methods = new List<MethodInfo>();
        var types = typeof(KernelWarmup).Assembly.GetTypes().Where(t => !t.IsGenericTypeDefinition).OrderBy(t => t == typeof(Gemm) ? 0 : 1).ThenBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var type in types)
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if ((m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) == 0) continue;
                if (!m.IsGenericMethodDefinition) { methods.Add(m); continue; }
                int arity = m.GetGenericArguments().Length;
                if (arity == 1) methods.Add(m.MakeGenericMethod(typeof(T)));
                else if (arity == 3) methods.AddRange(widths.Select(w => m.MakeGenericMethod(w)));
            }
        return methods;
    }

    private static void Compile<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        IReadOnlyList<MethodInfo> methods;
        try { methods = Methods<T>(); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException or ReflectionTypeLoadException) { return; }
        foreach (var m in methods)
        {
            // A method that cannot be compiled ahead is compiled at its first call, as without the warm-up.
            try { RuntimeHelpers.PrepareMethod(m.MethodHandle); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException or TypeLoadException) { }
        }
    }
}
