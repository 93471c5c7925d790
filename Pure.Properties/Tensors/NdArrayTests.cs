using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Tensors;

/// <summary>NdArray: shape checks, copying in and out, bitwise equality, reshaping and indexing.</summary>
public sealed class NdArrayTests
{
    private static readonly Gen<int[]> Shapes = Gen.Choose(0, 4).SelectMany(rank => Gen.ArrayOf(Gen.Choose(0, 5), rank));

    private static double[] Data(int n) => Enumerable.Range(0, n).Select(i => i * 1.5 - 3).ToArray();

    [Fact]
    public void Shape_checks_throw_ArgumentException_naming_the_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => NdArray.From<double>(new double[6], 2, 4));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("[2, 4]", e.Message);
        var neg = Assert.Throws<ArgumentException>(() => NdArray.Zeros<float>(3, -1));
        Assert.Equal("shape", neg.ParamName);
        Assert.Contains("[3, -1]", neg.Message);
        Assert.Contains("[2, -3]", Assert.Throws<ArgumentException>(() => NdArray.From<double>([], 2, -3)).Message);
        Assert.Contains("[-1]", Assert.Throws<ArgumentException>(() => NdArray.Full(1.0, -1)).Message);
        var big = Assert.Throws<ArgumentException>(() => NdArray.Zeros<byte>(1 << 16, 1 << 16));
        Assert.Equal("shape", big.ParamName);
        var r = Assert.Throws<ArgumentException>(() => NdArray.Vector(1.0, 2.0, 3.0).Reshape(2, 2));
        Assert.Equal("shape", r.ParamName);
        Assert.Contains("[2, 2]", r.Message);
        Assert.Contains("[3]", r.Message);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => NdArray.FromRows<double>([[1.0, 2.0], [3.0]])).ParamName);
        Assert.Throws<ArgumentException>(() => NdArray.FromRows<double>([]));
        Assert.Throws<ArgumentNullException>(() => NdArray.Zeros<double>(null!));
    }

    [Law(100)]
    public Property From_copies_its_source() =>
        Prop.ForAll(Shapes.ToArbitrary(), shape =>
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            var src = Data(n);
            var a = NdArray.From<double>(src, shape);
            var before = a.ToArray();
            for (int i = 0; i < src.Length; i++) src[i] = double.NaN;
            return (a.Shape.SequenceEqual(shape) && a.Length == n && a.Rank == shape.Length).Label("shape")
                .And(a.ToArray().SequenceEqual(before).Label("mutating the source changed the array"))
                .And(a.ToArray().SequenceEqual(Data(n)).Label("contents"));
        });

    [Fact]
    public void Vector_and_Matrix_copy_their_sources_too()
    {
        var v = new[] { 1.0, 2.0 };
        var a = NdArray.Vector(v);
        v[0] = 99;
        Assert.Equal(1.0, a[0]);
        var m = new double[,] { { 1, 2, 3 }, { 4, 5, 6 } };
        var b = NdArray.Matrix(m);
        m[1, 2] = 99;
        Assert.Equal(6.0, b[1, 2]);
        Assert.Equal([2, 3], b.Shape.ToArray());
        var shape = new[] { 2, 3 };
        var z = NdArray.Zeros<float>(shape);
        shape[0] = 7; // the shape array is copied as well
        Assert.Equal([2, 3], z.Shape.ToArray());
    }

    [Law(100)]
    public Property ToArray_returns_a_copy() =>
        Prop.ForAll(Gen.Choose(1, 50).ToArbitrary(), n =>
        {
            var a = NdArray.From<double>(Data(n), n);
            var copy = a.ToArray();
            copy[0] = double.NaN;
            var again = a.ToArray();
            return (!ReferenceEquals(copy, again) && again[0] == Data(n)[0] && a[0] == Data(n)[0]).ToProperty();
        });

    /// <summary>Equality is shape plus bits: NaN equals NaN (same bits), +0 and −0 differ, [2, 3] differs from [3, 2] and [6] with
    /// the same elements; equal arrays hash equally.</summary>
    [Fact]
    public void Equality_is_bitwise_and_includes_the_shape()
    {
        Assert.Equal(NdArray.Vector(double.NaN, 1.0), NdArray.Vector(double.NaN, 1.0));
        Assert.NotEqual(NdArray.Vector(0.0), NdArray.Vector(-0.0));
        var data = Data(6);
        Assert.NotEqual(NdArray.From<double>(data, 2, 3), NdArray.From<double>(data, 3, 2));
        Assert.NotEqual(NdArray.From<double>(data, 2, 3), NdArray.From<double>(data, 6));
        Assert.Equal(NdArray.From<double>(data, 2, 3), NdArray.From<double>(data, 2, 3));
        Assert.Equal(NdArray.From<double>(data, 2, 3).GetHashCode(), NdArray.From<double>((double[])data.Clone(), 2, 3).GetHashCode());
        Assert.False(NdArray.Vector(1.0).Equals(null));
        Assert.False(NdArray.Vector(1.0).Equals((object)NdArray.Vector(1.0f)));
        Assert.NotEqual(NdArray.Zeros<double>(0, 3), NdArray.Zeros<double>(3, 0)); // both empty, different shapes
    }

    [Law(100)]
    public Property Reshape_keeps_the_elements_and_round_trips() =>
        Prop.ForAll(Shapes.ToArbitrary(), shape =>
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            var a = NdArray.From<double>(Data(n), shape);
            var flat = a.Reshape(n);
            var back = flat.Reshape(shape);
            return (flat.Rank == 1 && flat.Span.SequenceEqual(a.Span)).Label("flat").And(back.Equals(a).Label("round trip"));
        });

    [Fact]
    public void Indexers_check_their_ranges_and_rank()
    {
        var m = NdArray.From<double>(Data(6), 2, 3);
        Assert.Equal(Data(6)[5], m[1, 2]);
        Assert.Equal(Data(6)[4], m[4]);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => m[6]).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => m[-1]).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => m[2, 0]).ParamName);
        Assert.Equal("col", Assert.Throws<ArgumentOutOfRangeException>(() => m[0, 3]).ParamName);
        Assert.Throws<InvalidOperationException>(() => NdArray.Vector(1.0, 2.0)[0, 0]);
        Assert.Equal(Data(6)[3..6], m.Row(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Row(2).ToArray());
        Assert.Equal((2, 3), (m.Rows, m.Cols));
        Assert.Equal((1, 1), (NdArray.Full(2.0).Rows, NdArray.Full(2.0).Cols)); // a scalar
        Assert.Equal((4, 6), (NdArray.Zeros<float>(4, 2, 3).Rows, NdArray.Zeros<float>(4, 2, 3).Cols));
    }

    /// <summary>Rows is the first dimension and Cols "the product of every dimension after the first" for any shape of rank ≥ 2,
    /// including an empty first dimension: [0, 3] has 3 columns (and 0 elements).</summary>
    [Law(100)]
    public Property Rows_times_Cols_follow_the_shape_even_with_zero_rows() =>
        Prop.ForAll(Gen.Choose(2, 4).SelectMany(rank => Gen.ArrayOf(Gen.Choose(0, 4), rank)).ToArbitrary(), shape =>
        {
            var a = NdArray.Zeros<float>(shape);
            int trailing = shape.Skip(1).Aggregate(1, (x, y) => x * y);
            return (a.Rows == shape[0]).Label("Rows").And((a.Cols == trailing).Label($"Cols of [{string.Join(", ", shape)}] is {a.Cols}, expected {trailing}"));
        });

    [Fact]
    public void Full_Zeros_ZerosLike_and_Cast()
    {
        Assert.All(NdArray.Full(2.5f, 3, 2).ToArray(), v => Assert.Equal(2.5f, v));
        Assert.All(NdArray.Zeros<double>(4).ToArray(), v => Assert.Equal(0.0, v));
        var a = NdArray.From<double>(Data(6), 3, 2);
        var z = NdArray.ZerosLike(a);
        Assert.Equal(a.Shape.ToArray(), z.Shape.ToArray());
        Assert.All(z.ToArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(a, a.Cast<float>().Cast<double>()); // these values are exact in float
        Assert.Equal(0.1f, NdArray.Vector(0.1).Cast<float>()[0]);
    }
}
