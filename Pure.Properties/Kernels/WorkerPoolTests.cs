using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The worker pool's contract: every part of a call runs exactly once and the call returns only after all of them,
/// whichever threads claim them (the caller from the front, helpers from the back), call after call; a part that throws
/// fails the call without stopping the others.</summary>
public unsafe class WorkerPoolTests
{
    private struct Counts
    {
        public int* Runs;
        public int Throw;
    }

    private static void Count(void* state, int part)
    {
        ref var c = ref *(Counts*)state;
        Interlocked.Increment(ref c.Runs[part]);
        // A little work, so that helpers have time to claim parts from the back while the caller works from the front.
        Thread.SpinWait(50);
        if (part == c.Throw) throw new InvalidOperationException($"part {part}");
    }

    private static int[] RunCounting(int count, int throwAt = -1)
    {
        var runs = new int[count];
        fixed (int* r = runs)
        {
            var c = new Counts { Runs = r, Throw = throwAt };
            WorkerPool.Run(count, &Count, &c);
        }
        return runs;
    }

    [Fact]
    public void EveryPartRunsExactlyOnceCallAfterCall() =>
        Prop.ForAll(Gen.Choose(1, 300).ArrayOf().ToArbitrary(), counts =>
        {
            // Back to back, as a step issues its products: a helper still draining one call must not take a part of the next.
            foreach (var n in counts)
            {
                var runs = RunCounting(n);
                if (runs.Any(r => r != 1)) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void APartThatThrowsFailsTheCallAndTheOthersStillRun()
    {
        foreach (int n in new[] { 2, 7, 64 })
            for (int at = 0; at < n; at += Math.Max(1, n / 4))
            {
                var runs = new int[n];
                AggregateException? caught = null;
                fixed (int* r = runs)
                {
                    var c = new Counts { Runs = r, Throw = at };
                    try { WorkerPool.Run(n, &Count, &c); }
                    catch (AggregateException e) { caught = e; }
                }
                Assert.NotNull(caught);
                Assert.Equal($"part {at}", Assert.IsType<InvalidOperationException>(caught!.InnerException).Message);
                Assert.All(runs, x => Assert.Equal(1, x));
            }
    }

    private static readonly ManualResetEventSlim Holding = new(), Release = new();

    private static void Hold(void* state, int part)
    {
        if (part != 0) return;
        Holding.Set();
        Release.Wait();
    }

    /// <summary>While another thread's call holds the pool, a call runs all its parts on its own thread: with the same contract
    /// (every part runs once, the failure comes wrapped). It used to let the part's exception out bare and skip the parts after it.</summary>
    [Fact]
    public void APartThatThrowsWhileThePoolIsBusyFailsTheCallTheSameWay()
    {
        Holding.Reset(); Release.Reset();
        var holder = new Thread(() => WorkerPool.Run(2, &Hold, null));
        holder.Start();
        try
        {
            Assert.True(Holding.Wait(TimeSpan.FromSeconds(30)), "the holding call did not start");
            const int n = 7;
            var runs = new int[n];
            AggregateException? caught = null;
            fixed (int* r = runs)
            {
                var c = new Counts { Runs = r, Throw = 2 };
                try { WorkerPool.Run(n, &Count, &c); }
                catch (AggregateException e) { caught = e; }
            }
            Assert.NotNull(caught);
            Assert.Equal("part 2", Assert.IsType<InvalidOperationException>(caught!.InnerException).Message);
            Assert.All(runs, x => Assert.Equal(1, x));
        }
        finally
        {
            Release.Set();
            holder.Join();
        }
    }
}
