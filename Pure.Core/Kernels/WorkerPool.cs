namespace NeuralPure.Kernels;

/// <summary>A few long-lived helper threads that run the parts of one kernel call alongside the calling thread.</summary>
/// <remarks>
/// <para>Why not Parallel.For: it allocates on every call and queues behind whatever else the thread pool runs; a training
/// step makes a dozen products, so the helpers here park on a semaphore between calls and a call allocates nothing.</para>
/// <para>Parts are claimed one at a time by whichever thread is free, and the caller claims too. The caller waits only for
/// parts that were claimed: if a helper is slow to wake (its core busy elsewhere), the caller simply runs the remaining
/// parts itself and returns, and the late helper finds nothing left. Which thread runs which part never changes a result:
/// kernels give every part a disjoint block of the output and never split a reduction.</para>
/// <para>The caller claims from the first part up and the helpers from the last part down, so on two threads each runs one
/// contiguous run of parts and the threads meet once. Claimed alternately (0, 1, 2, … by whoever was free), neighbouring
/// parts often ran on different cores, and where a part boundary is not on a cache line (a weight gradient's first element
/// is wherever its array starts: 16–48 bytes past a line for configs b–d) every row's boundary line went back and forth
/// between the cores. Config b's weight gradient (C = [128, 784], 7 column blocks) alone on 2 threads, the two ways
/// alternated in one process, best of 40: 71.3 → 68.0 and 77.1 → 70.3 µs; c's (256 × 784) 268.1 → 260.5, d's (1024 × 1024)
/// 2,561 → 2,517 µs; step-rate b, 16 alternated windows, 4 processes: best 274,438 → 289,298, 260,852 → 267,420,
/// 278,952 → 288,044, 278,881 → 287,960 examples/s (c and d within noise).</para>
/// <para>A call is tagged by a generation number that is part of the claim counter, so a helper still finishing an earlier
/// call can never claim a part of the next one with stale arguments. One call runs at a time; a call that finds the pool
/// busy (another thread's product) runs all its parts on its own thread, which gives the same bits.</para>
/// </remarks>
internal static unsafe class WorkerPool
{
    private static readonly object Gate = new();
    private static SemaphoreSlim? wake;
    private static int helperCount;
    private static int busy;

    // The current call. body, state and parts are written before claims is published: generation << 32 | parts claimed from
    // the front << 16 | parts claimed from the back.
    private static delegate*<void*, int, void> body;
    private static void* state;
    private static int parts;
    private static long claims;
    private static int completed;
    private static Exception? failure;

    /// <summary>The most parts a call splits among threads (a claim counts parts in 16 bits); a call with more runs them all on
    /// its own thread. Kernels ask for a few per thread.</summary>
    private const int MaxParts = 0xFFFF;

    /// <summary>Helper threads available (processor count − 1).</summary>
    public static int Helpers => Math.Max(0, Environment.ProcessorCount - 1);

    /// <summary>How long a helper keeps looking for the next call before it sleeps: products come back to back in a step.</summary>
    private const int HelperSpinMicroseconds = 300;

    /// <summary>Runs <c>work(arg, i)</c> for i in [0, count), on the calling thread and up to count − 1 helpers, and returns when all are done.</summary>
    /// <exception cref="AggregateException">A part threw (its exception is inside).</exception>
    public static void Run(int count, delegate*<void*, int, void> work, void* arg)
    {
        int helpers = Math.Min(count - 1, Helpers);
        if (helpers <= 0 || count > MaxParts || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            // On this thread alone, with the threaded path's contract: every part runs, and the first failure is thrown wrapped
            // (a part's exception escaped bare and the parts after it never ran when another thread's product held the pool).
            Exception? first = null;
            for (int i = 0; i < count; i++)
            {
                try { work(arg, i); }
                catch (Exception e) { first ??= e; }
            }
            if (first is not null) throw new AggregateException("a kernel part failed", first);
            return;
        }
        try
        {
            EnsureStarted();
            body = work; state = arg; parts = count; completed = 0; failure = null;
            long generation = (Volatile.Read(ref claims) >> 32) + 1;
            Volatile.Write(ref claims, generation << 32);
            if (wake!.CurrentCount < helpers) wake.Release(helpers - wake.CurrentCount);
            Drain(generation);
            var spin = new SpinWait();
            while (Volatile.Read(ref completed) < count) spin.SpinOnce(sleep1Threshold: -1);
            if (failure is { } e) throw new AggregateException("a kernel part failed", e);
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Below this many elements an element-wise pass stays on the calling thread (waking a helper costs more).</summary>
    public const int ElementwiseThreshold = 1 << 16;

    private struct BlockJob
    {
        public delegate*<void*, int, int, void> Work;
        public void* Arg;
        public int Length, Chunk;
    }

    /// <summary>Runs <c>work(arg, start, length)</c> over [0, <paramref name="length"/>) cut into blocks (two per thread, each a
    /// multiple of 64 elements) on up to <paramref name="threads"/> threads, or in one call on the calling thread when the pass
    /// is short, <paramref name="threads"/> ≤ 1 or there is no helper. For element-wise kernels: every element is computed
    /// alone, so the split changes no bit.</summary>
    public static void RunBlocks(int length, int threads, delegate*<void*, int, int, void> work, void* arg)
    {
        if (threads <= 1 || length < ElementwiseThreshold || Helpers == 0)
        {
            work(arg, 0, length);
            return;
        }
        var job = new BlockJob { Work = work, Arg = arg, Length = length, Chunk = (length / (threads * 2) + 63) & ~63 };
        Run((length + job.Chunk - 1) / job.Chunk, &BlockPart, &job);
    }

    private struct RangeJob
    {
        public delegate*<void*, int, int, void> Work;
        public void* Arg;
        public int Units, Parts;
    }

    /// <summary>Runs <c>work(arg, from, to)</c> over the units [0, <paramref name="units"/>) (channels, rows of a column matrix)
    /// cut into whole-unit ranges [part·units/parts, (part + 1)·units/parts), two per thread, when the pass touches at least
    /// <see cref="ElementwiseThreshold"/> <paramref name="elements"/>; otherwise in one call over all units on the calling
    /// thread. For passes whose units are independent, so the split changes no bit.</summary>
    public static void RunRanges(int units, long elements, int threads, delegate*<void*, int, int, void> work, void* arg)
    {
        int parts = threads <= 1 || Helpers == 0 || elements < ElementwiseThreshold ? 1 : Math.Min(units, 2 * threads);
        if (parts <= 1) { work(arg, 0, units); return; }
        var job = new RangeJob { Work = work, Arg = arg, Units = units, Parts = parts };
        Run(parts, &RangePart, &job);
    }

    private static void RangePart(void* state, int part)
    {
        ref var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<RangeJob>(state);
        job.Work(job.Arg, (int)((long)part * job.Units / job.Parts), (int)((long)(part + 1) * job.Units / job.Parts));
    }

    private static void BlockPart(void* state, int part)
    {
        ref var job = ref System.Runtime.CompilerServices.Unsafe.AsRef<BlockJob>(state);
        int start = part * job.Chunk, length = Math.Min(job.Chunk, job.Length - start);
        if (length > 0) job.Work(job.Arg, start, length);
    }

    /// <summary>Claims and runs parts of call <paramref name="generation"/> until none is left (or that call is over): the caller
    /// from the first part up, helpers (<paramref name="fromBack"/>) from the last part down.</summary>
    private static void Drain(long generation, bool fromBack = false)
    {
        while (true)
        {
            long c = Volatile.Read(ref claims);
            if (c >> 32 != generation) return;
            var f = body; var s = state; int n = parts;
            int front = (int)((c >> 16) & 0xFFFF), back = (int)(c & 0xFFFF);
            if (front + back >= n) return;
            int i = fromBack ? n - 1 - back : front;
            long next = fromBack ? c + 1 : c + (1L << 16);
            // The claim succeeds only if no other claim (and no new call) came in between: then f, s and n were this call's.
            if (Interlocked.CompareExchange(ref claims, next, c) != c) continue;
            try { f(s, i); }
            catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
            Interlocked.Increment(ref completed);
        }
    }

    private static void EnsureStarted()
    {
        if (Volatile.Read(ref helperCount) == Helpers) return;
        lock (Gate)
        {
            wake ??= new SemaphoreSlim(0);
            while (helperCount < Helpers)
            {
                var t = new Thread(HelperLoop) { IsBackground = true, Name = $"NeuralPure kernel helper {helperCount + 1}" };
                t.Start();
                Volatile.Write(ref helperCount, helperCount + 1);
            }
        }
    }

    private static void HelperLoop()
    {
        long seen = 0;
        long spinTicks = System.Diagnostics.Stopwatch.Frequency * HelperSpinMicroseconds / 1_000_000;
        while (true)
        {
            wake!.Wait();
            // Work on the current call, then keep watching for the next one for a moment before sleeping again.
            long since = System.Diagnostics.Stopwatch.GetTimestamp();
            while (System.Diagnostics.Stopwatch.GetTimestamp() - since < spinTicks)
            {
                long generation = Volatile.Read(ref claims) >> 32;
                if (generation != seen)
                {
                    Drain(generation, fromBack: true);
                    seen = generation;
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                else Thread.SpinWait(20);
            }
        }
    }
}
