using System.Numerics;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Training;

/// <summary>Examples to train on: inputs X [rows, features] and targets Y (labels [rows] or values [rows, width]).</summary>
public sealed record DataSet<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pairs inputs with targets of the same row count.</summary>
    /// <exception cref="ArgumentException">X is not a matrix, the row counts differ, or there are no rows.</exception>
    public DataSet(NdArray<T> X, NdArray<T> Y)
    {
        var b = new Batch<T>(X, Y); // same checks
        if (b.Rows == 0) throw new ArgumentException("a data set needs at least one row", nameof(X));
        this.X = X; this.Y = Y;
    }

    /// <summary>Inputs [rows, features].</summary>
    public NdArray<T> X { get; }

    /// <summary>Targets.</summary>
    public NdArray<T> Y { get; }

    /// <summary>The number of examples.</summary>
    public int Rows => X.Rows;

    /// <summary>The whole set as one batch (full-batch training, evaluation).</summary>
    public Batch<T> AsBatch() => new(X, Y);

    /// <summary>The batch holding rows <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentException">An index is outside [0, Rows).</exception>
    public Batch<T> Gather(ReadOnlySpan<int> indices) => new(GatherRows(X, indices), GatherRows(Y, indices));

    /// <summary>A data set of rows <paramref name="indices"/> (a split).</summary>
    public DataSet<T> Subset(ReadOnlySpan<int> indices) => new(GatherRows(X, indices), GatherRows(Y, indices));

    private static NdArray<T> GatherRows(NdArray<T> a, ReadOnlySpan<int> indices)
    {
        var r = new T[indices.Length * a.Cols];
        NeuralPure.Kernels.Rows.Gather<T>(a.Span, a.Rows, a.Cols, indices, r, threads: 1);
        var shape = a.Shape.SetItem(0, indices.Length);
        return NdArray.Own(r, shape);
    }
}
