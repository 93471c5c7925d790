using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Models;

/// <summary>A batch: inputs X [rows, …example shape] and targets Y (labels [rows] or values [rows, …]).</summary>
public sealed record Batch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pairs inputs with targets of the same row count.</summary>
    /// <exception cref="ArgumentException">X has no example dimension or the row counts differ.</exception>
    public Batch(NdArray<T> X, NdArray<T> Y)
    {
        ArgumentNullException.ThrowIfNull(X); ArgumentNullException.ThrowIfNull(Y);
        if (X.Rank < 2) throw new ArgumentException($"X must be [rows, features] (or [rows, …example shape]), got {X.ShapeText}", nameof(X));
        if (Y.Rank < 1 || Y.Shape[0] != X.Rows)
            throw new ArgumentException($"Y must have {X.Rows} rows to match X {X.ShapeText}, got {Y.ShapeText}", nameof(Y));
        this.X = X; this.Y = Y;
    }

    /// <summary>Inputs [rows, …example shape].</summary>
    public NdArray<T> X { get; }

    /// <summary>Targets: class labels [rows] or values [rows, width].</summary>
    public NdArray<T> Y { get; }

    /// <summary>The number of examples.</summary>
    public int Rows => X.Rows;

    /// <summary>A classification batch from integer labels.</summary>
    public static Batch<T> Classification(NdArray<T> x, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var y = new T[labels.Count];
        for (int i = 0; i < y.Length; i++) y[i] = T.CreateChecked(labels[i]);
        return new Batch<T>(x, NdArray.Own(y, y.Length));
    }
}
