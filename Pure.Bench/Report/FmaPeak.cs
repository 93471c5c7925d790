using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralPure.Bench.Report;

/// <summary>The machine's float FMA peak as the report measured it: GFLOP/s on one thread and on <see cref="Threads"/> threads
/// started together (wall time), 2 FLOPs per lane per FMA.</summary>
/// <param name="Instruction">The instruction timed, e.g. <c>vfmadd (Avx512F.FusedMultiplyAdd), 16 float lanes</c>.</param>
/// <param name="Lanes">Float lanes per vector.</param>
/// <param name="Chains">Independent accumulators per thread.</param>
/// <param name="SingleThreadGflops">Best GFLOP/s of one thread.</param>
/// <param name="Threads">The all-thread count (<see cref="Environment.ProcessorCount"/>).</param>
/// <param name="AllThreadsGflops">Best GFLOP/s of <paramref name="Threads"/> threads together (total, wall time).</param>
public sealed record PeakResult(string Instruction, int Lanes, int Chains, double SingleThreadGflops, int Threads, double AllThreadsGflops)
{
    /// <summary>The peak for a row on <paramref name="threads"/> threads: the one-thread figure, the all-thread one, or none for
    /// another count.</summary>
    public double? For(int threads) => threads == 1 ? SingleThreadGflops : threads == Threads ? AllThreadsGflops : null;

    /// <summary>The higher of two measurements of the same probe, figure by figure: load elsewhere on the machine can only lower
    /// a peak, so the higher one is the nearer.</summary>
    public static PeakResult? Max(PeakResult? a, PeakResult? b) => a is null ? b : b is null ? a
        : a with { SingleThreadGflops = Math.Max(a.SingleThreadGflops, b.SingleThreadGflops), AllThreadsGflops = Math.Max(a.AllThreadsGflops, b.AllThreadsGflops) };
}

/// <summary>An FMA throughput probe: 12 independent chains of a = a·m + c in registers (no memory traffic), unrolled, about
/// 0.05 s per run; the best of many short runs, one thread and all threads in turn (on a shared machine short runs are
/// likelier to find the cores free).</summary>
/// <remarks>12 chains cover the FMA latency (4 cycles) times two FMA pipes with room to spare. m = 1 − 2⁻²³ and c chosen so
/// every chain stays at its fixed point 1: no overflow, no denormals.</remarks>
internal static class FmaPeak
{
    private const int Chains = 12;

    /// <summary>The peak, or null where neither AVX-512F (with Vector512 accelerated) nor FMA3 is available: no figure rather
    /// than a guessed one.</summary>
    public static PeakResult? Measure(bool quick)
    {
        int runs = quick ? 10 : 20, threads = Environment.ProcessorCount;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            return Measure<Vector512<float>, Lanes512>("vfmadd231ps zmm (Avx512F.FusedMultiplyAdd)", Vector512<float>.Count, runs, threads);
        if (Fma.IsSupported)
            return Measure<Vector256<float>, Lanes256>("vfmadd231ps ymm (Fma.MultiplyAdd)", Vector256<float>.Count, runs, threads);
        return null;
    }

    private static PeakResult Measure<TV, TOps>(string instruction, int lanes, int runs, int threads) where TV : struct where TOps : struct, ILanes<TV>
    {
        // Size a run to about 0.05 s on one thread.
        long iterations = 1 << 16;
        Chain<TV, TOps>(iterations);
        var sw = Stopwatch.StartNew();
        Chain<TV, TOps>(iterations);
        iterations = Math.Max(iterations, (long)(iterations * 0.05 / Math.Max(1e-6, sw.Elapsed.TotalSeconds)));
        double flops = 2.0 * lanes * Chains * iterations;
        double one = 0, all = 0;
        for (int r = 0; r < runs; r++)
        {
            one = Math.Max(one, flops / Together<TV, TOps>(1, iterations) / 1e9);
            if (threads > 1) all = Math.Max(all, threads * flops / Together<TV, TOps>(threads, iterations) / 1e9);
        }
        return new PeakResult(instruction, lanes, Chains, one, threads, threads > 1 ? all : one);
    }

    /// <summary>Starts <paramref name="threads"/> threads that each run the same number of iterations, releases them together,
    /// and returns the wall time until the last one is done.</summary>
    private static double Together<TV, TOps>(int threads, long iterations) where TV : struct where TOps : struct, ILanes<TV>
    {
        using var go = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => { go.SignalAndWait(); Chain<TV, TOps>(iterations); }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        go.SignalAndWait();
        var sw = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>Vector operations the probe needs, as static members so each vector width gets its own specialized loop.</summary>
    internal interface ILanes<TV> where TV : struct
    {
        static abstract TV Create(float value);
        static abstract TV MultiplyAdd(TV a, TV b, TV c);
        static abstract float Sum(TV a);
        static abstract TV Add(TV a, TV b);
    }

    private readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> a) => Vector512.Sum(a);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    }

    private readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> a) => Vector256.Sum(a);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    }

    /// <summary>The chains: <paramref name="iterations"/> × 12 dependent-per-chain FMAs. Returns their sum so nothing is dead code.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain<TV, TOps>(long iterations) where TV : struct where TOps : struct, ILanes<TV>
    {
        const float m = 1 - 1f / (1 << 23);
        var mul = TOps.Create(m);
        var add = TOps.Create(1 - m);
        TV a0 = TOps.Create(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = TOps.MultiplyAdd(a0, mul, add); a1 = TOps.MultiplyAdd(a1, mul, add); a2 = TOps.MultiplyAdd(a2, mul, add);
            a3 = TOps.MultiplyAdd(a3, mul, add); a4 = TOps.MultiplyAdd(a4, mul, add); a5 = TOps.MultiplyAdd(a5, mul, add);
            a6 = TOps.MultiplyAdd(a6, mul, add); a7 = TOps.MultiplyAdd(a7, mul, add); a8 = TOps.MultiplyAdd(a8, mul, add);
            a9 = TOps.MultiplyAdd(a9, mul, add); a10 = TOps.MultiplyAdd(a10, mul, add); a11 = TOps.MultiplyAdd(a11, mul, add);
        }
        var s = TOps.Add(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Add(TOps.Add(a4, a5), TOps.Add(a6, a7)));
        return TOps.Sum(TOps.Add(s, TOps.Add(TOps.Add(a8, a9), TOps.Add(a10, a11))));
    }
}
