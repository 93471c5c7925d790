namespace NeuralPure.Kernels;

/// <summary>Argument checks shared by every kernel: lengths and the overlap rule.</summary>
/// <remarks>
/// The overlap rule is TensorPrimitives': a destination may be exactly an input (same start, same length: an in-place
/// call) but must not overlap any input partially. Matrix products read inputs after writing outputs, so for them the
/// destination may not overlap an input at all.
/// </remarks>
internal static class Guard
{
    public static void Length<T>(ReadOnlySpan<T> s, int expected, string name)
    {
        if (s.Length != expected)
            throw new ArgumentException($"{name} has length {s.Length} but {expected} is needed", name);
    }

    public static void Length<T>(Span<T> s, int expected, string name) => Length((ReadOnlySpan<T>)s, expected, name);

    public static void SameLength<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, string xName, string yName)
    {
        if (x.Length != y.Length)
            throw new ArgumentException($"{xName} has length {x.Length} but {yName} has length {y.Length}", yName);
    }

    /// <summary>Throws when <paramref name="dest"/> overlaps <paramref name="input"/> other than exactly.</summary>
    public static void NoPartialOverlap<T>(ReadOnlySpan<T> input, Span<T> dest, string inputName)
    {
        if (input.Overlaps(dest, out int offset) && !(offset == 0 && input.Length == dest.Length))
            throw new ArgumentException($"destination partially overlaps {inputName}; pass the same span for an in-place call or separate memory", "destination");
    }

    /// <summary>Throws when <paramref name="dest"/> overlaps <paramref name="input"/> at all.</summary>
    public static void NoOverlap<T>(ReadOnlySpan<T> input, Span<T> dest, string inputName)
    {
        if (input.Overlaps(dest))
            throw new ArgumentException($"destination overlaps {inputName}; a matrix product cannot run in place", "destination");
    }

    public static void Dims(int m, int k, int n)
    {
        if (m < 0 || k < 0 || n < 0) throw new ArgumentException($"matrix dimensions must be ≥ 0, got m={m}, k={k}, n={n}");
    }
}
