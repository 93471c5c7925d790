using System.Diagnostics;
using System.Globalization;
using NeuralPure.Bench.Support;
using NeuralPure.Models;
using NeuralPure.Training;

namespace NeuralPure.Bench.Report;

/// <summary>The first-step child <c>report</c> starts in fresh processes: the JIT build (<c>Pure.Bench first-step &lt;config&gt;</c>)
/// and the NativeAOT build of the same code (<c>Pure.Bench/Aot</c>, which compiles this file and Support/Configs.cs alone).</summary>
public static class FirstStepChild
{
    /// <summary>The child side: prints "ms-since-process-start ms-for-init-and-first-step peak-working-set-MB parameter-hash product-vectors" (the
    /// hash of the parameters the 21-step fit ends on, FNV-1a over their bytes: a NativeAOT child and a JIT child must print the
    /// same; the products' register width, KernelInfo.ProductVectors, which a NativeAOT build fixes when it is compiled).</summary>
    /// <remarks>The first step is <see cref="Trainer.Init{T}(ModelSpec, NeuralPure.Optimizers.GradientTransform, NeuralPure.Random.RandomKey)"/>
    /// and the first step of one observed <see cref="Trainer.Fit{T}(ModelSpec, NeuralPure.Optimizers.GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, TrainObserver{T}, int, NeuralPure.Kernels.Parallelism?)"/>
    /// of 21 steps over 4 batches, as a user's run would take it (one fit, one set of workspaces); the peak working set is taken
    /// after those 21 steps, so it covers training too.</remarks>
    public static int Run(string name)
    {
        // Moments are stamped with DateTime.UtcNow (cheap) and turned into times since the process started only at the end:
        // reading the start time (Process.StartTime, from /proc) cost ~8 ms of the training thread's start when done on the way.
        static double Jit() => System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds;
        bool parts = Environment.GetEnvironmentVariable("NEURALPURE_FIRST_STEP_PARTS") == "1";
        // Minor page faults so far (Linux, /proc/self/stat field 10; -1 elsewhere): a first touch of fresh memory cost ~2 µs a
        // 4 KB page on the 2-core EPYC VMs, so the pages a start touches are part of its time.
        long Faults() => parts ? MinorFaults() : 0;
        long faults0 = Faults();
        // As the neuralpure CLI does when it trains: the kernels compile on the second core while data and parameters are made
        // (NEURALPURE_WARMUP=0 leaves them to the first step, to measure what it saves).
        if (Environment.GetEnvironmentVariable("NEURALPURE_WARMUP") != "0") _ = NeuralPure.Kernels.KernelWarmup.Start<float>();
        var config = BenchConfig.Get(name);
        var data = config.Data(4);
        DateTime dataMade = DateTime.UtcNow, firstDone = default;
        double jit0 = Jit();
        long faults1 = Faults(), faults2 = 0, faults3 = 0;
        var sw = Stopwatch.StartNew();
        var spec = config.Spec; var opt = config.Optimizer;
        var state = config.InitialState();
        double initMs = sw.Elapsed.TotalMilliseconds, jit1 = Jit();
        faults2 = Faults();
        double firstMs = 0, sinceStart = 0, jit2 = 0, secondMs = 0, jit3 = 0;
        long methods = 0, first = state.Step + 1;
        var observer = new TrainObserver<float>(AfterStep: r =>
        {
            if (r.Step == first) { firstMs = sw.Elapsed.TotalMilliseconds; firstDone = DateTime.UtcNow; jit2 = Jit(); methods = System.Runtime.JitInfo.GetCompiledMethodCount(); faults3 = Faults(); }
            else if (r.Step == first + 1) { secondMs = sw.Elapsed.TotalMilliseconds - firstMs; jit3 = Jit(); }
            return r.Step < first + 20;
        });
        var fitted = Trainer.Fit(spec, opt, state, data, new TrainConfig(config.Batch, 6, Shuffle: false), observer);
        using var self = Process.GetCurrentProcess();
        var started = self.StartTime.ToUniversalTime();
        double mainMs = (dataMade - started).TotalMilliseconds;
        sinceStart = (firstDone - started).TotalMilliseconds;
        if (parts)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"process start → data made: {mainMs:F1} ms (JIT {jit0:F1} ms, {faults1} page faults, {faults1 - faults0} of them since Main); Init: {initMs:F1} ms (JIT {jit1 - jit0:F1} ms, {faults2 - faults1} page faults); the fit to its first step: {firstMs - initMs:F1} ms (JIT {jit2 - jit1:F1} ms, {methods} methods in all, {faults3 - faults2} page faults); process start → first step done: {sinceStart:F1} ms; the second step: {secondMs:F1} ms (JIT {jit3 - jit2:F1} ms)"));
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sinceStart:F1} {firstMs:F1} {self.PeakWorkingSet64 / 1048576.0:F1} {ParameterHash(fitted.State.Params):X16} {NeuralPure.Kernels.KernelInfo.ProductVectors}"));
        return 0;
    }

    /// <summary>FNV-1a (64-bit) over the bytes of every parameter leaf, in order: equal for equal bits.</summary>
    private static ulong ParameterHash(NeuralPure.Tensors.ParamTree<float> parameters)
    {
        ulong h = 14695981039346656037UL;
        for (int i = 0; i < parameters.Count; i++)
            foreach (byte b in System.Runtime.InteropServices.MemoryMarshal.AsBytes(parameters[i].Span))
                h = (h ^ b) * 1099511628211UL;
        return h;
    }

    /// <summary>This process's minor page faults so far, all threads (field 10 of /proc/self/stat), or -1 where it cannot be read.</summary>
    private static long MinorFaults()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": state is field 3
            return long.Parse(fields[10 - 3], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException) { return -1; }
    }

}
