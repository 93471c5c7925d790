using System.Collections.Immutable;
using System.Numerics;

namespace NeuralPure.Tensors;

/// <summary>An immutable, ordered collection of named arrays: a model's parameters, their gradients, an optimizer's moments.</summary>
/// <remarks>
/// The leaves keep their order (the order a file stores them in) and their names (PyTorch's <c>nn.Sequential</c>
/// names: <c>0.weight</c>, <c>0.bias</c>, <c>2.weight</c>, …). <see cref="Map"/> and <see cref="Zip"/> are how optimizers
/// touch every parameter without knowing which layer it belongs to (optax's tree_map).
/// </remarks>
public sealed class ParamTree<T> : IEquatable<ParamTree<T>> where T : unmanaged, INumberBase<T>
{
    /// <summary>Builds a tree from names and leaves of equal count.</summary>
    /// <exception cref="ArgumentException">The counts differ or a name repeats.</exception>
    public ParamTree(ImmutableArray<string> names, ImmutableArray<NdArray<T>> leaves)
    {
        if (names.IsDefault) throw new ArgumentNullException(nameof(names));
        if (leaves.IsDefault) throw new ArgumentNullException(nameof(leaves));
        if (names.Length != leaves.Length)
            throw new ArgumentException($"{names.Length} names but {leaves.Length} leaves", nameof(leaves));
        if (names.Distinct().Count() != names.Length)
            throw new ArgumentException($"leaf names repeat: {string.Join(", ", names)}", nameof(names));
        foreach (var l in leaves) ArgumentNullException.ThrowIfNull(l, nameof(leaves));
        Names = names;
        Leaves = leaves;
    }

    /// <summary>Leaf names, in order.</summary>
    public ImmutableArray<string> Names { get; }

    /// <summary>Leaves, in order.</summary>
    public ImmutableArray<NdArray<T>> Leaves { get; }

    /// <summary>The number of leaves.</summary>
    public int Count => Leaves.Length;

    /// <summary>The total number of scalars over all leaves.</summary>
    public long ParameterCount => Leaves.Sum(l => (long)l.Length);

    /// <summary>Leaf <paramref name="index"/>.</summary>
    public NdArray<T> this[int index] => Leaves[index];

    /// <summary>The leaf called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No leaf has that name.</exception>
    public NdArray<T> this[string name]
    {
        get
        {
            int i = Names.IndexOf(name);
            if (i < 0) throw new KeyNotFoundException($"no parameter named '{name}'; the tree has {string.Join(", ", Names)}");
            return Leaves[i];
        }
    }

    /// <summary>A tree with the same names whose leaves are <paramref name="f"/> of these leaves.</summary>
    public ParamTree<T> Map(Func<NdArray<T>, NdArray<T>> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new ParamTree<T>(Names, [.. Leaves.Select(f)]);
    }

    /// <summary>A tree with the same names whose leaves are <paramref name="f"/> of corresponding leaves of both trees.</summary>
    /// <exception cref="ArgumentException">The trees differ in names or shapes.</exception>
    public static ParamTree<T> Zip(ParamTree<T> a, ParamTree<T> b, Func<NdArray<T>, NdArray<T>, NdArray<T>> f, string? argName = null)
    {
        ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b); ArgumentNullException.ThrowIfNull(f);
        RequireSameStructure(a, b, argName ?? nameof(b));
        var r = ImmutableArray.CreateBuilder<NdArray<T>>(a.Count);
        for (int i = 0; i < a.Count; i++) r.Add(f(a.Leaves[i], b.Leaves[i]));
        return new ParamTree<T>(a.Names, r.MoveToImmutable());
    }

    /// <summary>True when both trees have the same names and leaf shapes in the same order.</summary>
    public bool SameStructure(ParamTree<T> other)
    {
        if (other.Count != Count) return false;
        for (int i = 0; i < Count; i++)
            if (Names[i] != other.Names[i] || !Leaves[i].Shape.SequenceEqual(other.Leaves[i].Shape)) return false;
        return true;
    }

    /// <summary>Throws unless both trees have the same structure, naming the first difference.</summary>
    /// <exception cref="ArgumentException">Names, counts or shapes differ.</exception>
    public static void RequireSameStructure(ParamTree<T> expected, ParamTree<T> actual, string argName)
    {
        if (expected.Count != actual.Count)
            throw new ArgumentException($"parameter trees differ: {expected.Count} leaves ({string.Join(", ", expected.Names)}) vs {actual.Count} ({string.Join(", ", actual.Names)})", argName);
        for (int i = 0; i < expected.Count; i++)
        {
            if (expected.Names[i] != actual.Names[i])
                throw new ArgumentException($"parameter trees differ at leaf {i}: '{expected.Names[i]}' vs '{actual.Names[i]}'", argName);
            if (!expected.Leaves[i].Shape.SequenceEqual(actual.Leaves[i].Shape))
                throw new ArgumentException($"parameter trees differ in the shape of '{expected.Names[i]}': {expected.Leaves[i].ShapeText} vs {actual.Leaves[i].ShapeText}", argName);
        }
    }

    /// <summary>A tree of zeros with this structure.</summary>
    public ParamTree<T> ZerosLike() => Map(NdArray.ZerosLike);

    /// <summary>Converts every leaf to another number type.</summary>
    public ParamTree<TOut> Cast<TOut>() where TOut : unmanaged, INumberBase<TOut> => new(Names, [.. Leaves.Select(l => l.Cast<TOut>())]);

    /// <summary>Every scalar of every leaf, concatenated in order (the layout of a saved file).</summary>
    public T[] Flatten()
    {
        var r = new T[ParameterCount];
        int o = 0;
        foreach (var l in Leaves) { l.Span.CopyTo(r.AsSpan(o)); o += l.Length; }
        return r;
    }

    /// <summary>A tree with this structure holding <paramref name="flat"/> (the inverse of <see cref="Flatten"/>).</summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="ParameterCount"/>.</exception>
    public ParamTree<T> Unflatten(ReadOnlySpan<T> flat)
    {
        if (flat.Length != ParameterCount) throw new ArgumentException($"expected {ParameterCount} values, got {flat.Length}", nameof(flat));
        var r = ImmutableArray.CreateBuilder<NdArray<T>>(Count);
        int o = 0;
        foreach (var l in Leaves) { r.Add(NdArray.Own(flat.Slice(o, l.Length).ToArray(), l.Shape)); o += l.Length; }
        return new ParamTree<T>(Names, r.MoveToImmutable());
    }

    /// <summary>True when names, shapes and every bit of every leaf agree.</summary>
    public bool Equals(ParamTree<T>? other) =>
        other is not null && SameStructure(other) && Leaves.Zip(other.Leaves).All(p => p.First.Equals(p.Second));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ParamTree<T> o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var l in Leaves) h.Add(l);
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString() => "ParamTree{" + string.Join(", ", Names.Zip(Leaves, (n, l) => n + l.ShapeText)) + "}";
}
