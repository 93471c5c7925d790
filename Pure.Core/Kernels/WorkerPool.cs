namespace NeuralPure.Kernels;

/// <summary>A few long-lived helper threads that run the parts of one kernel call alongside the calling thread.</summary>
/// <remarks>
/// <para>Why not Parallel.For: it allocates on every call and wakes pool threads that may be busy elsewhere; a training step
/// makes dozens of products, so the helpers here park on a semaphore between calls and the call itself allocates nothing.</para>
/// <para>Parts are claimed with an interlocked counter, so a busy core does less of the work. Which thread runs which part
/// never changes a result: kernels give every part a disjoint block of the output and never split a reduction.</para>
/// <para>One call runs at a time; a call that finds the pool busy (another thread's product, or a nested call) runs all its
/// parts on the calling thread, which gives the same bits.</para>
/// </remarks>
internal static unsafe class WorkerPool
{
    private static readonly object Gate = new();
    private static SemaphoreSlim? wake;
    private static ManualResetEventSlim? finished;
    private static int helperCount;
    private static int busy;

    // The current call, published before the helpers are released (SemaphoreSlim.Release is a full fence).
    private static delegate*<void*, int, void> body;
    private static void* state;
    private static int parts, next, running;
    private static Exception? failure;

    /// <summary>Helper threads available (processor count − 1).</summary>
    public static int Helpers => Math.Max(0, Environment.ProcessorCount - 1);

    /// <summary>Runs <c>body(state, i)</c> for i in [0, count), on the calling thread and up to count − 1 helpers, and returns when all are done.</summary>
    /// <exception cref="AggregateException">A part threw (its exception is inside).</exception>
    public static void Run(int count, delegate*<void*, int, void> work, void* arg)
    {
        int helpers = Math.Min(count - 1, Helpers);
        if (helpers <= 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) work(arg, i);
            return;
        }
        try
        {
            EnsureStarted();
            body = work; state = arg; parts = count; next = 0; failure = null;
            running = helpers;
            finished!.Reset();
            wake!.Release(helpers);
            Drain();
            finished.Wait();
            if (failure is { } e) throw new AggregateException("a kernel part failed", e);
        }
        finally
        {
            body = null; state = null;
            Volatile.Write(ref busy, 0);
        }
    }

    private static void Drain()
    {
        int i;
        while ((i = Interlocked.Increment(ref next) - 1) < parts)
        {
            try { body(state, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
        }
    }

    private static void EnsureStarted()
    {
        if (Volatile.Read(ref helperCount) == Helpers) return;
        lock (Gate)
        {
            if (wake is null) { wake = new SemaphoreSlim(0); finished = new ManualResetEventSlim(false, spinCount: 2000); }
            while (helperCount < Helpers)
            {
                var t = new Thread(HelperLoop) { IsBackground = true, Name = $"NeuralPure kernel helper {helperCount + 1}" };
                t.Start();
                helperCount++;
            }
        }
    }

    private static void HelperLoop()
    {
        while (true)
        {
            wake!.Wait();
            Drain();
            if (Interlocked.Decrement(ref running) == 0) finished!.Set();
        }
    }
}
