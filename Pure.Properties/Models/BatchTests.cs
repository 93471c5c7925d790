using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Batches: rows must match, X must be a matrix, and integer labels convert exactly.</summary>
public sealed class BatchTests
{
    [Law(100)]
    public Property Classification_holds_the_labels_as_whole_numbers() =>
        Prop.ForAll((from rows in Gen.Choose(1, 16)
                     from x in Generators.Matrix(rows, 3)
                     from labels in Gen.ArrayOf(Gen.Choose(0, 1_000_000), rows)
                     select (x, labels)).ToArbitrary(), t =>
        {
            var (x, labels) = t;
            var b = Batch<double>.Classification(x, labels);
            var bf = Batch<float>.Classification(x.Cast<float>(), labels);
            return (b.Rows == x.Rows && b.X.Equals(x) && b.Y.Rank == 1).Label($"batch {b.X.ShapeText}, {b.Y.ShapeText}")
                .And(b.Y.ToArray().SequenceEqual(labels.Select(l => (double)l)).Label("double labels differ"))
                .And(bf.Y.ToArray().Select(v => (int)v).SequenceEqual(labels).Label("float labels differ"));
        });

    [Fact]
    public void Rows_of_X_and_Y_must_match_and_the_message_names_both_shapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Batch<double>(NdArray.Zeros<double>(4, 3), NdArray.Zeros<double>(5)));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[5]", e.Message);
        Assert.Equal("Y", e.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => Batch<double>.Classification(NdArray.Zeros<double>(2, 3), [0, 1, 2]));
        Assert.Contains("[3]", e2.Message);
    }

    [Fact]
    public void X_must_have_an_example_dimension_and_Y_the_same_rows()
    {
        var e = Assert.Throws<ArgumentException>(() => new Batch<double>(NdArray.Zeros<double>(4), NdArray.Zeros<double>(4)));
        Assert.Contains("[rows, features]", e.Message);
        Assert.Contains("[4]", e.Message);
        Assert.Throws<ArgumentException>(() => new Batch<double>(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(3, 1, 1)));
        Assert.Equal(2, new Batch<double>(NdArray.Zeros<double>(2, 1, 4, 4), NdArray.Zeros<double>(2)).Rows); // images [rows, C, H, W]
        Assert.Throws<ArgumentException>(() => new Batch<double>(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>()));
        Assert.Equal(2, new Batch<double>(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(2, 4)).Rows);
    }

    [Fact]
    public void Null_arguments_are_rejected()
    {
        Assert.Equal("X", Assert.Throws<ArgumentNullException>(() => new Batch<double>(null!, NdArray.Zeros<double>(1))).ParamName);
        Assert.Equal("Y", Assert.Throws<ArgumentNullException>(() => new Batch<double>(NdArray.Zeros<double>(1, 1), null!)).ParamName);
        Assert.Throws<ArgumentNullException>(() => Batch<double>.Classification(NdArray.Zeros<double>(1, 1), null!));
    }
}
