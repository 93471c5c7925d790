using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralPure.Tensors;

/// <summary>An immutable, shape-checked, dense n-dimensional array of numbers stored row-major.</summary>
/// <remarks>
/// Nothing outside Pure.Core can write to its storage: the public surface exposes a <see cref="ReadOnlySpan{T}"/>
/// and copies (<see cref="ToArray"/>). Inside the core, kernels write into freshly allocated buffers and then hand
/// them over with <see cref="NdArray.Own{T}(T[], ImmutableArray{int})"/>, so the hot path never copies.
/// The name avoids System.Numerics.Tensors' <c>Tensor&lt;T&gt;</c>.
/// </remarks>
public sealed class NdArray<T> : IEquatable<NdArray<T>> where T : unmanaged, INumberBase<T>
{
    private readonly T[] _data;

    internal NdArray(T[] data, ImmutableArray<int> shape)
    {
        _data = data;
        Shape = shape;
    }

    /// <summary>The size of each dimension, outermost first.</summary>
    public ImmutableArray<int> Shape { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length => _data.Length;

    /// <summary>Rows of a matrix (the first dimension; 1 for a scalar).</summary>
    public int Rows => Rank == 0 ? 1 : Shape[0];

    /// <summary>Columns of a matrix: the product of every dimension after the first (1 for a vector).</summary>
    public int Cols => Rank <= 1 ? 1 : NdArray.Product(Shape.Skip(1));

    /// <summary>The elements, row-major, read-only.</summary>
    public ReadOnlySpan<T> Span => _data;

    /// <summary>The storage, for kernels only: never written after construction.</summary>
    internal T[] Buffer => _data;

    /// <summary>Element <paramref name="index"/> in row-major order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, Length).</exception>
    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_data.Length)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"index {index} is outside [0, {_data.Length}) for shape {ShapeText}");
            return _data[index];
        }
    }

    /// <summary>Element (<paramref name="row"/>, <paramref name="col"/>) of a rank-2 array.</summary>
    /// <exception cref="InvalidOperationException">The array is not rank 2.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The row or column is out of range.</exception>
    public T this[int row, int col]
    {
        get
        {
            if (Rank != 2) throw new InvalidOperationException($"a [row, col] index needs a rank-2 array, not shape {ShapeText}");
            if ((uint)row >= (uint)Shape[0]) throw new ArgumentOutOfRangeException(nameof(row), row, $"row {row} is outside [0, {Shape[0]}) for shape {ShapeText}");
            if ((uint)col >= (uint)Shape[1]) throw new ArgumentOutOfRangeException(nameof(col), col, $"column {col} is outside [0, {Shape[1]}) for shape {ShapeText}");
            return _data[row * Shape[1] + col];
        }
    }

    /// <summary>Row <paramref name="row"/> of a matrix (or the element of a vector) as a read-only span.</summary>
    public ReadOnlySpan<T> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"row {row} is outside [0, {Rows}) for shape {ShapeText}");
        return _data.AsSpan(row * Cols, Cols);
    }

    /// <summary>A copy of the elements that the caller owns.</summary>
    public T[] ToArray() => (T[])_data.Clone();

    /// <summary>The same elements seen with another shape of equal element count; shares storage, which is safe because neither can change.</summary>
    /// <exception cref="ArgumentException">The new shape has a different element count or a negative dimension.</exception>
    public NdArray<T> Reshape(params int[] shape)
    {
        var s = NdArray.CheckShape(shape, nameof(shape));
        if (NdArray.Product(s) != _data.Length)
            throw new ArgumentException($"cannot reshape {ShapeText} ({_data.Length} elements) to {NdArray.ShapeString(s)}", nameof(shape));
        return new NdArray<T>(_data, s);
    }

    /// <summary>Converts every element to another number type (e.g. double for gradient checks, float for training).</summary>
    public NdArray<TOut> Cast<TOut>() where TOut : unmanaged, INumberBase<TOut>
    {
        var r = new TOut[_data.Length];
        for (int i = 0; i < r.Length; i++) r[i] = TOut.CreateChecked(_data[i]);
        return new NdArray<TOut>(r, Shape);
    }

    /// <summary>The shape written as [a, b].</summary>
    public string ShapeText => NdArray.ShapeString(Shape);

    /// <summary>True when both have the same shape and the same bits in every element (NaN equals NaN).</summary>
    public bool Equals(NdArray<T>? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (!Shape.SequenceEqual(other.Shape)) return false;
        var a = System.Runtime.InteropServices.MemoryMarshal.AsBytes(_data.AsSpan());
        var b = System.Runtime.InteropServices.MemoryMarshal.AsBytes(other._data.AsSpan());
        return a.SequenceEqual(b);
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NdArray<T> o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Shape) h.Add(d);
        h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_data.AsSpan()));
        return h.ToHashCode();
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var n = Math.Min(_data.Length, 8);
        var head = string.Join(", ", _data.Take(n).Select(v => v.ToString()));
        return $"NdArray{ShapeText} [{head}{(_data.Length > n ? ", …" : "")}]";
    }
}

/// <summary>Creates <see cref="NdArray{T}"/> values.</summary>
public static class NdArray
{
    /// <summary>A copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape is negative or its product differs from the data length.</exception>
    public static NdArray<T> From<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var s = CheckShape(shape, nameof(shape));
        if (Product(s) != data.Length)
            throw new ArgumentException($"shape {ShapeString(s)} holds {Product(s)} elements but data has {data.Length}", nameof(data));
        return new NdArray<T>(data.ToArray(), s);
    }

    /// <summary>A vector (rank 1) holding a copy of <paramref name="data"/>.</summary>
    public static NdArray<T> Vector<T>(params T[] data) where T : unmanaged, INumberBase<T> => From<T>(data, data.Length);

    /// <summary>A matrix holding a copy of a rectangular array.</summary>
    public static NdArray<T> Matrix<T>(T[,] data) where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        int r = data.GetLength(0), c = data.GetLength(1);
        var a = new T[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) a[i * c + j] = data[i, j];
        return new NdArray<T>(a, [r, c]);
    }

    /// <summary>A matrix from rows, which must all have the same length.</summary>
    /// <exception cref="ArgumentException">The rows are ragged or there are none.</exception>
    public static NdArray<T> FromRows<T>(IReadOnlyList<IReadOnlyList<T>> rows) where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("at least one row is needed", nameof(rows));
        int c = rows[0].Count;
        var a = new T[rows.Count * c];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Count != c) throw new ArgumentException($"row {i} has {rows[i].Count} elements but row 0 has {c}", nameof(rows));
            for (int j = 0; j < c; j++) a[i * c + j] = rows[i][j];
        }
        return new NdArray<T>(a, [rows.Count, c]);
    }

    /// <summary>An array of zeros.</summary>
    public static NdArray<T> Zeros<T>(params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var s = CheckShape(shape, nameof(shape));
        return new NdArray<T>(new T[Product(s)], s);
    }

    /// <summary>An array with every element equal to <paramref name="value"/>.</summary>
    public static NdArray<T> Full<T>(T value, params int[] shape) where T : unmanaged, INumberBase<T>
    {
        var s = CheckShape(shape, nameof(shape));
        var a = new T[Product(s)];
        a.AsSpan().Fill(value);
        return new NdArray<T>(a, s);
    }

    /// <summary>Zeros with the shape of <paramref name="like"/>.</summary>
    public static NdArray<T> ZerosLike<T>(NdArray<T> like) where T : unmanaged, INumberBase<T> => new(new T[like.Length], like.Shape);

    /// <summary>Hands a freshly written buffer to an immutable array without copying; the caller must never touch it again.</summary>
    internal static NdArray<T> Own<T>(T[] data, ImmutableArray<int> shape) where T : unmanaged, INumberBase<T> => new(data, shape);

    /// <inheritdoc cref="Own{T}(T[], ImmutableArray{int})"/>
    internal static NdArray<T> Own<T>(T[] data, params int[] shape) where T : unmanaged, INumberBase<T> => new(data, [.. shape]);

    internal static ImmutableArray<int> CheckShape(int[] shape, string name)
    {
        ArgumentNullException.ThrowIfNull(shape, name);
        long p = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape {ShapeString(shape)} has a negative dimension", name);
            p *= d;
            if (p > Array.MaxLength) throw new ArgumentException($"shape {ShapeString(shape)} has more than {Array.MaxLength} elements", name);
        }
        return [.. shape];
    }

    internal static int Product(IEnumerable<int> shape)
    {
        int p = 1;
        foreach (var d in shape) p *= d;
        return p;
    }

    internal static string ShapeString(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}
