using System.Collections.Immutable;
using NeuralPure.Random;

namespace NeuralPure.Training;

/// <summary>How an epoch is cut into batches: the iteration arithmetic and the keyed shuffle.</summary>
public static class Batching
{
    /// <summary>Iterations in one epoch: ⌈n / batchSize⌉, or ⌊n / batchSize⌋ when the last, smaller batch is dropped.</summary>
    /// <remarks>10,000 examples at batch 32: ⌈312.5⌉ = 313 iterations (the last batch holds 16), or 312 with drop-last.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0 or batchSize ≤ 0.</exception>
    public static int IterationsPerEpoch(int n, int batchSize, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1");
        return dropLast ? n / batchSize : n / batchSize + (n % batchSize != 0 ? 1 : 0); // no n + b − 1: it overflows near int.MaxValue
    }

    /// <summary>The order of examples in <paramref name="epoch"/>: a permutation of 0..n−1 that depends only on (key, epoch).</summary>
    public static ImmutableArray<int> Shuffle(int n, RandomKey key, int epoch) => Sampling.Permutation(key.FoldIn((uint)epoch), n);

    /// <summary>The index ranges of each batch of an epoch, in order, over an ordering of n examples.</summary>
    public static IEnumerable<Range> BatchRanges(int n, int batchSize, bool dropLast = false)
    {
        int iterations = IterationsPerEpoch(n, batchSize, dropLast);
        for (int i = 0; i < iterations; i++)
        {
            int start = i * batchSize;
            yield return new Range(start, Math.Min(start + batchSize, n));
        }
    }
}
