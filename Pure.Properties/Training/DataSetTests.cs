using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>DataSet: its checks, Gather and Subset.</summary>
public sealed class DataSetTests
{
    /// <summary>Gather returns the requested rows in the requested order (repeats allowed), X and Y alike, with Y's rank kept.</summary>
    [Law(100)]
    public Property Gather_returns_the_requested_rows_in_order() =>
        Prop.ForAll(Gen.Choose(1, 60).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), Gen.ArrayOf(Gen.Choose(0, 1_000_000)).ToArbitrary(), (rows, width, raw) =>
        {
            var indices = raw.Select(r => r % rows).ToArray();
            var x = NdArray.From<double>(Enumerable.Range(0, rows * width).Select(i => i * 0.5).ToArray(), rows, width);
            var labels = NdArray.From<double>(Enumerable.Range(0, rows).Select(i => (double)(i % 3)).ToArray(), rows);
            var targets = NdArray.From<double>(Enumerable.Range(0, rows * 2).Select(i => -(double)i).ToArray(), rows, 2);
            var b = new DataSet<double>(x, labels).Gather(indices);
            var c = new DataSet<double>(x, targets).Gather(indices);
            bool shapes = b.X.Shape.SequenceEqual([indices.Length, width]) && b.Y.Shape.SequenceEqual([indices.Length]) && c.Y.Shape.SequenceEqual([indices.Length, 2]);
            bool rowsOk = indices.Select((idx, r) => b.X.Row(r).SequenceEqual(x.Row(idx)) && b.Y[r] == labels[idx] && c.Y.Row(r).SequenceEqual(targets.Row(idx))).All(ok => ok);
            return shapes.Label("shapes").And(rowsOk.Label("rows"));
        });

    [Fact]
    public void Gather_rejects_indices_out_of_range()
    {
        var d = new DataSet<float>(NdArray.Zeros<float>(5, 2), NdArray.Zeros<float>(5));
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => d.Gather([0, 5])).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => d.Gather([-1])).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => d.Subset([int.MaxValue])).ParamName);
        Assert.Equal(0, d.Gather([]).Rows); // an empty batch is a valid value; the model rejects it later
    }

    [Fact]
    public void Subset_is_a_data_set_of_those_rows()
    {
        var x = NdArray.From<double>([1, 2, 3, 4, 5, 6], 3, 2);
        var y = NdArray.Vector(10.0, 20.0, 30.0);
        var d = new DataSet<double>(x, y);
        var s = d.Subset([2, 0]);
        Assert.Equal(2, s.Rows);
        Assert.Equal([5.0, 6.0, 1.0, 2.0], s.X.ToArray());
        Assert.Equal([30.0, 10.0], s.Y.ToArray());
        Assert.Equal("X", Assert.Throws<ArgumentException>(() => d.Subset([])).ParamName); // a data set needs a row
        Assert.Equal(x, d.AsBatch().X);
        Assert.Equal(y, d.AsBatch().Y);
        Assert.Equal(x, d.X); // unchanged by the subsets
    }

    [Fact]
    public void The_constructor_checks_shapes_and_rows()
    {
        Assert.Equal("X", Assert.Throws<ArgumentException>(() => new DataSet<double>(NdArray.Vector(1.0, 2.0), NdArray.Vector(1.0, 2.0))).ParamName);
        Assert.Equal("Y", Assert.Throws<ArgumentException>(() => new DataSet<double>(NdArray.Zeros<double>(3, 2), NdArray.Zeros<double>(4))).ParamName);
        Assert.Equal("Y", Assert.Throws<ArgumentException>(() => new DataSet<double>(NdArray.Zeros<double>(3, 2), NdArray.Zeros<double>(2, 1, 1))).ParamName);
        Assert.Equal(3, new DataSet<double>(NdArray.Zeros<double>(3, 1, 2, 2), NdArray.Zeros<double>(3, 1, 1)).Rows); // images, and targets of any shape
        Assert.Equal("X", Assert.Throws<ArgumentException>(() => new DataSet<double>(NdArray.Zeros<double>(0, 2), NdArray.Zeros<double>(0))).ParamName);
        Assert.Throws<ArgumentNullException>(() => new DataSet<double>(null!, NdArray.Zeros<double>(1)));
        var ok = new DataSet<float>(NdArray.Zeros<float>(3, 4), NdArray.Zeros<float>(3, 2));
        Assert.Equal(3, ok.Rows);
    }
}
