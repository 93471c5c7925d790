using System.Collections.Immutable;

namespace NeuralPure.Tensors;

/// <summary>The shape of one example, without the batch dimension: [features] for a table row, [C, H, W] for an image, [] for a
/// scalar target.</summary>
/// <remarks>A batch of <c>rows</c> examples of shape s is stored row-major as [rows, …s]: example i occupies elements
/// [i·s.Size, (i + 1)·s.Size). Shapes compare by value.</remarks>
public sealed record Shape
{
    /// <summary>A shape with the given dimensions, outermost first.</summary>
    /// <exception cref="ArgumentException">A dimension is below 1.</exception>
    public Shape(ImmutableArray<int> Dims)
    {
        if (Dims.IsDefault) Dims = [];
        long size = 1;
        for (int i = 0; i < Dims.Length; i++)
        {
            if (Dims[i] < 1) throw new ArgumentException($"dimension {i} of shape {NdArray.ShapeString(Dims)} is {Dims[i]}; every dimension must be ≥ 1", nameof(Dims));
            size *= Dims[i];
            if (size > int.MaxValue) throw new ArgumentException($"shape {NdArray.ShapeString(Dims)} has more than {int.MaxValue} elements", nameof(Dims));
        }
        this.Dims = Dims;
        Size = (int)size;
    }

    /// <summary>The dimensions, outermost first.</summary>
    public ImmutableArray<int> Dims { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Dims.Length;

    /// <summary>The number of elements (1 for the scalar shape []).</summary>
    public int Size { get; }

    /// <summary>Dimension <paramref name="i"/>.</summary>
    public int this[int i] => Dims[i];

    /// <summary>The scalar shape [].</summary>
    public static Shape Scalar { get; } = new([]);

    /// <summary>A shape from its dimensions.</summary>
    public static Shape Of(params int[] dims) => new([.. dims]);

    /// <summary>A vector of <paramref name="width"/> features.</summary>
    public static implicit operator Shape(int width) => Of(width);

    /// <summary>The shape of a batch of <paramref name="rows"/> such examples: [rows, …dims].</summary>
    public ImmutableArray<int> Batch(int rows) => Dims.Insert(0, rows);

    /// <summary>The example shape of a batch array [rows, …]: its dimensions after the first.</summary>
    /// <exception cref="ArgumentException">The array has rank 0.</exception>
    public static Shape OfExamples(ImmutableArray<int> batchShape) =>
        batchShape.Length >= 1 ? new Shape(batchShape.RemoveAt(0)) : throw new ArgumentException("a batch needs a row dimension", nameof(batchShape));

    /// <summary>Value equality over the dimensions.</summary>
    public bool Equals(Shape? other) => other is not null && Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override int GetHashCode() => Dims.Aggregate(17, HashCode.Combine);

    /// <summary>"[1, 28, 28]".</summary>
    public override string ToString() => NdArray.ShapeString(Dims);
}

/// <summary>A parameter a layer declares: its name (PyTorch's, as in <c>state_dict</c>) and its shape.</summary>
/// <param name="Name">The name within the layer (<c>weight</c>, <c>bias</c>).</param>
/// <param name="Shape">The tensor's full shape (no batch dimension).</param>
public sealed record ParamShape(string Name, Shape Shape)
{
    /// <summary>The name, checked non-empty.</summary>
    public string Name { get; } = !string.IsNullOrWhiteSpace(Name) ? Name : throw new ArgumentException("a parameter needs a name", nameof(Name));

    /// <summary>The shape, checked non-null.</summary>
    public Shape Shape { get; } = Shape ?? throw new ArgumentNullException(nameof(Shape));
}
