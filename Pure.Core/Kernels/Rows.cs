using System.Runtime.CompilerServices;

namespace NeuralPure.Kernels;

/// <summary>Row gathers: rows of a row-major matrix, picked by index, into a destination in order.</summary>
internal static unsafe class Rows
{
    /// <summary>Below this many elements a gather stays on the calling thread: config a's batch (2,048) does, b's (50,176) does
    /// not (nor the 128 × 96 batches of the thread tests, whose last batch of 44 rows stays). Not tuned between.</summary>
    private const int ParallelThreshold = 1 << 13;

    /// <summary>Rows <paramref name="indices"/> of <paramref name="source"/> (<paramref name="sourceRows"/> rows of
    /// <paramref name="width"/> elements) into the
    /// first indices.Length · width elements of <paramref name="destination"/>, in order, cut among up to
    /// <paramref name="threads"/> threads by rows (a copy: no bit depends on the cut). Returns that part of the destination.</summary>
    /// <remarks>A fold's shuffled batch copied on the calling thread alone cost config b 21-25 µs a step on 2 threads and 14 on 1
    /// (probably because both cores had read those lines in the step before, so each write must first take its line from the
    /// other core); cut between both threads, a shuffled fold runs about as fast as an unshuffled one. step-rate over shuffled
    /// batches, 16 windows alternated in one process: b 277,572 -> 299,975 and 278,936 -> 301,118 examples/s best,
    /// c 147,472 -> 153,223, d 17,867 -> 18,407; on 1 thread b 174,293 -> 174,401.</remarks>
    /// <exception cref="ArgumentException">An index is outside the source's rows, or the destination is too short.</exception>
    public static Span<T> Gather<T>(ReadOnlySpan<T> source, int sourceRows, int width, ReadOnlySpan<int> indices, Span<T> destination, int threads) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if ((long)sourceRows * width > source.Length) throw new ArgumentException($"{sourceRows} rows of {width} do not fit {source.Length} elements", nameof(source));
        long length = (long)indices.Length * width;
        if (length > destination.Length) throw new ArgumentException($"{indices.Length} rows of {width} do not fit {destination.Length} elements", nameof(destination));
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)sourceRows) throw new ArgumentException($"row index {indices[i]} (position {i}) is outside [0, {sourceRows})", nameof(indices));
        fixed (T* s = source) fixed (T* d = destination) fixed (int* r = indices)
        {
            var job = new Job<T> { Source = s, Destination = d, Indices = r, Width = width, Count = indices.Length, Parts = 1 };
            if (threads <= 1 || length < ParallelThreshold || WorkerPool.Helpers == 0) Part<T>(&job, 0);
            else
            {
                job.Parts = Math.Min(indices.Length, 2 * threads);
                WorkerPool.Run(job.Parts, &Part<T>, &job);
            }
        }
        return destination[..(int)length];
    }

    private struct Job<T> where T : unmanaged
    {
        public T* Source, Destination;
        public int* Indices;
        public int Width, Count, Parts;
    }

    private static void Part<T>(void* state, int part) where T : unmanaged
    {
        ref var job = ref Unsafe.AsRef<Job<T>>(state);
        int from = (int)((long)part * job.Count / job.Parts), to = (int)((long)(part + 1) * job.Count / job.Parts);
        for (int i = from; i < to; i++)
            new ReadOnlySpan<T>(job.Source + (long)job.Indices[i] * job.Width, job.Width).CopyTo(new Span<T>(job.Destination + (long)i * job.Width, job.Width));
    }
}
