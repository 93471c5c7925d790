using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
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
/// initializes parameters: call it first thing (the <c>neuralpure</c> CLI does). Compiling them all takes longer than a
/// first step (about 200 ms of one core on a Zen 3), so they come in the order a run first calls them, and a kernel the training
/// thread reaches before the warm-up does is compiled there, as without it. Past the kernels of a dense ReLU classifier's
/// first step (<see cref="FirstStepRanks"/>) the rest waits until a fold's first step is done (<see cref="FirstStepDone"/>),
/// or <see cref="RestWaitMilliseconds"/> at most: compiled during that step it took the core the step's second thread
/// runs on (first-step d from process start: 168.9 -> 155.5 ms, medians of 11 interleaved runs).</para>
/// <para>It changes no result: compiled code is the same code whichever thread compiles it. It only compiles; it runs nothing.
/// With one core there is no second one to use, and it does nothing.</para>
/// </remarks>
public static class KernelWarmup
{
    /// <summary>Why the warm-up's reflection needs a JIT (and untrimmed metadata).</summary>
    private const string NeedsJit = "The warm-up finds the kernels in this assembly's metadata and compiles their instantiations at run time: only where a JIT compiles code.";

    private static int started; // one bit per element type: 1 float, 2 double

    /// <summary>Set once a fold's first step is done; the kernels ranked past <see cref="FirstStepRanks"/> wait for it.</summary>
    private static readonly ManualResetEventSlim firstStepDone = new(false);

    /// <summary>Ranks compiled at once: sampling and the checks, the products at the widths a dense classifier runs, its first
    /// step's other kernels (<see cref="Rank"/>).</summary>
    internal const int FirstStepRanks = 2;

    /// <summary>How long the other kernels wait for a first step at most (a process that steps no fold still gets them).</summary>
    internal const int RestWaitMilliseconds = 2000;

    /// <summary>A fold's first step is done: the warm-up goes on with the kernels that waited for it. Cheap after the first call.</summary>
    internal static void FirstStepDone()
    {
        if (!firstStepDone.IsSet) firstStepDone.Set();
    }

    /// <summary>Starts compiling the kernels for <typeparamref name="T"/> (float or double) on a background thread, once per
    /// process and type; returns at once. The task completes when they are compiled (at once for other types, with one core,
    /// or when the runtime cannot compile code); it never faults.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "It compiles the methods of this assembly its metadata lists; a trimmed application's metadata lists only the methods it kept, and a kernel the trimmer removed is one nothing calls.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by RuntimeFeature.IsDynamicCodeSupported: the thread is started only where code is compiled at run time.")]
    public static Task Start<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bit = typeof(T) == typeof(float) ? 1 : typeof(T) == typeof(double) ? 2 : 0;
        // Under NativeAOT there is no JIT and nothing to warm up (IsDynamicCodeSupported is false, and the trimming analyzer
        // takes it as the guard of the reflection below).
        if (bit == 0 || Environment.ProcessorCount < 2 || !RuntimeFeature.IsDynamicCodeSupported || !RuntimeFeature.IsDynamicCodeCompiled) return Task.CompletedTask;
        if ((Interlocked.Or(ref started, bit) & bit) != 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => { Compile<T>(); done.SetResult(); }) { IsBackground = true, Name = "NeuralPure kernel warm-up" };
        thread.Start();
        return done.Task;
    }

    /// <summary>The kernels for <typeparamref name="T"/>: every method of the assembly marked
    /// <see cref="MethodImplOptions.AggressiveOptimization"/>, instantiated for T, and the register-blocked product for every
    /// width this machine may run — in the order a training run first calls them: sampling for parameter initialization and the
    /// finiteness check of data and state, the products at the widest width and at a classifier layer's width, the other
    /// kernels a dense ReLU classifier's first step with Adam calls (<see cref="DenseStep"/>), the rest of the element-wise,
    /// sum, loss and optimizer kernels, the products at the other widths, then the rest (dropout masks, normalization, …).</summary>
    /// <remarks>The marked methods are found in the assembly's metadata, not by loading every type and listing its methods
    /// (which took about 45 ms of the warm-up's start); only the types that declare a kernel are loaded.</remarks>
    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    internal static IReadOnlyList<MethodInfo> Methods<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var methods = new List<MethodInfo>();
        foreach (var rank in Ranked(Widths<T>())) methods.AddRange(rank);
        return methods;
    }

    /// <summary>What the ranking needs to know of T: its type, the widest width and a classifier's, and for each width this
    /// machine runs its products' type arguments and row counts. Small, so that <see cref="Ranked"/> and
    /// <see cref="Compile(ElementWidths)"/> need not be generic: as generic methods over float they were JIT-compiled at tier 0 on the warm-up thread first
    /// (crossgen2 does not precompile float instantiations under interface constraints), not taken from ReadyToRun code.</summary>
    private static ElementWidths Widths<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var widths = new List<WidthKernels>(3);
        foreach (var w in new[] { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128 })
            if (Gemm.Resolve<T>(w) == w)
                widths.Add(new WidthKernels(w, w switch
                {
                    VectorWidth.V512 => [typeof(V512Ops<T>), typeof(Vector512<T>), typeof(T)],
                    VectorWidth.V256 => [typeof(V256Ops<T>), typeof(Vector256<T>), typeof(T)],
                    _ => [typeof(V128Ops<T>), typeof(Vector128<T>), typeof(T)],
                }, Gemm.RowCounts<T>(w)));
        // No vector width (no SIMD, or x64 without FMA): the products run the scalar kernels, which are then the ones to compile.
        if (widths.Count == 0) widths.Add(new WidthKernels(VectorWidth.Scalar, [typeof(ScalarOps<T>), typeof(T), typeof(T)], Gemm.RowCounts<T>(VectorWidth.Scalar)));
        // A classifier's output layer (10 columns) runs at a narrower width when the widest would leave most lanes empty
        // (Gemm.Narrowest): its products come in the first step too, right after the wide layers'.
        return new ElementWidths(typeof(T), Gemm.Resolve<T>(VectorWidth.Best), Gemm.Narrowest<T>(10), widths);
    }

    // Classes, not value tuples, in the warm-up's own lists: List, HashSet and the sort over a value-tuple type are
    // instantiations CoreLib's ReadyToRun code does not have, and their tier-0 compilation took ~20 ms of the warm-up thread
    // before its first kernel (an EventPipe JIT trace of first-step d); over reference types they share CoreLib's precompiled code.
    private sealed record WidthKernels(VectorWidth Width, Type[] Arguments, Type[] Rows);

    private sealed record ElementWidths(Type Element, VectorWidth Best, VectorWidth Classifier, List<WidthKernels> Widths);

    /// <summary><see cref="Methods{T}"/> by rank (index = rank, each in metadata order), for the element type and widths of
    /// <paramref name="e"/>.</summary>
    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static List<MethodInfo>[] Ranked(ElementWidths e)
    {
        var ranked = new List<MethodInfo>[Ranks];
        for (int r = 0; r < Ranks; r++) ranked[r] = [];
        foreach (var m in MarkedMethods())
        {
            if (m.DeclaringType is not { IsGenericTypeDefinition: false } type) continue;
            int rank = Rank(type, m.Name);
            if (!m.IsGenericMethodDefinition) { ranked[rank].Add(m); continue; }
            int arity = m.GetGenericArguments().Length;
            if (arity == 1) ranked[rank].Add(m.MakeGenericMethod(e.Element));
            else if (arity == 3)
                foreach (var w in e.Widths) ranked[w.Width == e.Best || w.Width == e.Classifier ? rank : OtherWidths].Add(m.MakeGenericMethod(w.Arguments));
            else if (arity == 5)
                // The micro-kernel: a width's three arguments and each row count it runs with, with two registers of columns,
                // then all of them again with one (a last tile's, which a dense step's products rarely have).
                foreach (var cols in Gemm.ColumnCounts)
                    foreach (var w in e.Widths)
                        foreach (var rows in w.Rows)
                            ranked[w.Width == e.Best || w.Width == e.Classifier ? rank : OtherWidths].Add(m.MakeGenericMethod([.. w.Arguments, rows, cols]));
        }
        return ranked;
    }

    /// <summary>The ranks <see cref="Rank"/> gives: 0–5.</summary>
    private const int Ranks = 6;

    /// <summary>Products at a width that is neither the widest nor a classifier's.</summary>
    private const int OtherWidths = 4;

    /// <summary>When a kernel is compiled (lower first); products at other widths are <see cref="OtherWidths"/>.</summary>
    internal static int Rank(Type type, string name) =>
        type.Namespace == typeof(NeuralPure.Random.Sampling).Namespace ? (IsDropoutMask(name) ? 5 : 0)
        : type == typeof(Elementwise) && name == nameof(Elementwise.FirstNonFinite) ? 0 // the fit's checks of data and state, before its first step
        : type == typeof(Gemm) ? 1
        : InDenseStep(type, name) ? 2
        : type == typeof(Elementwise) || type == typeof(LaneSums) || type == typeof(OptimizerKernels) || type == typeof(MatMul) || type.Namespace == LossesNamespace ? 3
        : 5;

    /// <summary>Dropout's keep masks (Sampling.Keep*): drawn in a step, and only by a model with dropout.</summary>
    private static bool IsDropoutMask(string name) => name.StartsWith("Keep", StringComparison.Ordinal);

    /// <summary>Besides the products: the kernels the first step of a dense ReLU classifier with softmax cross-entropy and Adam
    /// calls (those the training thread compiled itself in <c>Pure.Bench first-step d</c> with <c>NEURALPURE_WARMUP=0</c>), by
    /// declaring type and name (every overload). They come before the other element-wise and optimizer kernels, which that
    /// step waited for when they were compiled first.</summary>
    internal static (string Type, string Name)[] DenseStep => denseStep ??= // made on the warm-up thread, when ranking
    [
        (typeof(Elementwise).FullName!, "Check"),
        (typeof(Elementwise).FullName!, nameof(Elementwise.Relu)),
        (typeof(Elementwise).FullName!, nameof(Elementwise.ReluBackward)),
        (typeof(Elementwise).FullName!, nameof(Elementwise.AllFinite)),
        (typeof(MatMul).FullName!, nameof(MatMul.ColumnSums)),
        (LossesNamespace + ".SoftmaxCrossEntropy", "ValueAndGrad"),
        (LossesNamespace + ".SoftmaxCrossEntropy", "Row"),
        (LossesNamespace + ".SoftmaxCrossEntropy", "Rows"),
        (typeof(OptimizerKernels).FullName!, nameof(OptimizerKernels.AdamStep)),
        (typeof(OptimizerKernels).FullName!, "AdamRange"),
    ];

    private static (string Type, string Name)[]? denseStep;

    /// <summary>Whether <see cref="DenseStep"/> names this kernel (a loop over ten names: a set of tuples cost more to compile than it saved).</summary>
    private static bool InDenseStep(Type type, string name)
    {
        foreach (var (t, n) in DenseStep)
            if (n == name && t == type.FullName) return true;
        return false;
    }

    /// <summary>The losses' kernels (softmax cross-entropy's) come with the dense network's element-wise kernels; named, not
    /// referenced: Kernels sits below Losses.</summary>
    private const string LossesNamespace = "NeuralPure.Losses";

    /// <summary>The assembly's methods marked AggressiveOptimization, in metadata order.</summary>
    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static unsafe IEnumerable<MethodInfo> MarkedMethods()
    {
        var assembly = typeof(KernelWarmup).Assembly;
        var module = assembly.ManifestModule;
        if (!assembly.TryGetRawMetadata(out byte* blob, out int length))
            return assembly.GetTypes().SelectMany(MarkedMethodsOf);
        var reader = new MetadataReader(blob, length);
        var marked = new List<MethodInfo>();
        foreach (var handle in reader.MethodDefinitions)
            if ((reader.GetMethodDefinition(handle).ImplAttributes & MethodImplAttributes.AggressiveOptimization) != 0
                && module.ResolveMethod(MetadataTokens.GetToken(handle)) is MethodInfo m)
                marked.Add(m);
        return marked;
    }

    /// <summary>One type's methods marked AggressiveOptimization (by reflection: it loads the type).</summary>
    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static IEnumerable<MethodInfo> MarkedMethodsOf(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0);

    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static void Compile<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Parameter initialization is the first thing a run calls, often before the full list below is made (the training thread
        // reached Init ~10 ms before the list was ready and compiled the sampling kernels itself): those two types go first,
        // listed directly. PrepareMethod on a method compiled already returns at once, so the full list may repeat them.
        CompileSampling(typeof(T));
        ElementWidths widths;
        try { widths = Widths<T>(); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException) { return; }
        Compile(widths);
    }

    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static void CompileSampling(Type element)
    {
        try
        {
            foreach (var type in new[] { typeof(NeuralPure.Random.Sampling), typeof(NeuralPure.Random.Threefry) })
                foreach (var m in MarkedMethodsOf(type))
                    if (!IsDropoutMask(m.Name))
                        Prepare(!m.IsGenericMethodDefinition ? m : m.GetGenericArguments().Length == 1 ? m.MakeGenericMethod(element) : null);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException) { }
    }

    [RequiresDynamicCode(NeedsJit), RequiresUnreferencedCode(NeedsJit)]
    private static void Compile(ElementWidths widths)
    {
        List<MethodInfo>[] ranked;
        try { ranked = Ranked(widths); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException or ReflectionTypeLoadException) { return; }
        for (int rank = 0; rank < ranked.Length; rank++)
        {
            if (rank == FirstStepRanks + 1) firstStepDone.Wait(RestWaitMilliseconds);
            foreach (var m in ranked[rank]) Prepare(m);
        }
    }

    private static void Prepare(MethodInfo? m)
    {
        if (m is null) return;
        // A method that cannot be compiled ahead is compiled at its first call, as without the warm-up.
        try { RuntimeHelpers.PrepareMethod(m.MethodHandle); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException or TypeLoadException) { }
    }
}
