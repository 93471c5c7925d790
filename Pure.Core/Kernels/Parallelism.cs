namespace NeuralPure.Kernels;

/// <summary>How many threads the large matrix products of a computation may use. It changes speed only, never a result.</summary>
/// <remarks>
/// <para>Pass it where a computation starts (<c>Trainer.Step</c>, <c>Trainer.Fit</c>, <c>Model.ValueAndGrad</c>,
/// <c>Model.Forward</c>); nothing reads a global setting. Every product splits its output into blocks and gives each
/// thread whole blocks; a sum is never split, so each number is computed by exactly the same operations in the same order
/// whatever the thread count, and the results are bit-identical (the property suite checks 1 vs 2 threads).</para>
/// <para>Small products run on the calling thread regardless (waking a helper costs more than it saves).</para>
/// </remarks>
public sealed record Parallelism
{
    /// <summary>A thread budget.</summary>
    /// <param name="Threads">Threads to use, ≥ 0; 0 means one per processor (<see cref="Environment.ProcessorCount"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Threads is negative.</exception>
    public Parallelism(int Threads = 0)
    {
        this.Threads = Threads >= 0 ? Threads : throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be ≥ 0 (0: all cores)");
    }

    /// <summary>The requested thread count; 0 means all cores.</summary>
    public int Threads { get; }

    /// <summary>One thread per processor: the default wherever a <see cref="Parallelism"/> is optional.</summary>
    public static Parallelism AllCores { get; } = new(0);

    /// <summary>The calling thread only.</summary>
    public static Parallelism SingleThread { get; } = new(1);

    /// <summary>The thread count that will be used: <see cref="Threads"/>, or the processor count when it is 0.</summary>
    public int EffectiveThreads => Threads == 0 ? Environment.ProcessorCount : Threads;

    /// <summary>The thread count of <paramref name="parallelism"/>, or of <see cref="AllCores"/> when it is null.</summary>
    internal static int Resolve(Parallelism? parallelism) => (parallelism ?? AllCores).EffectiveThreads;
}
