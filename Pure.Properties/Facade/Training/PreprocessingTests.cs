using System.Collections.Immutable;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Training;

public sealed class PreprocessingTests
{
    private static TabularData Table(double[] x, double[] y, TaskKind task, int features = 2) =>
        new("t", [.. Enumerable.Range(0, features).Select(i => $"f{i}")], "y", task, y.Length, features, [.. x], [.. y],
            task == TaskKind.Classification ? (int)y.Max() + 1 : 0, new string('0', 64));

    [Fact]
    public void Split_is_seeded_disjoint_and_complete()
    {
        var a = DataSplit.Create(100, 0.1, 0.2, 42);
        Assert.Equal(a, DataSplit.Create(100, 0.1, 0.2, 42));
        Assert.NotEqual(a, DataSplit.Create(100, 0.1, 0.2, 43));
        Assert.Equal((70, 10, 20), (a.Train.Length, a.Validation.Length, a.Test.Length));
        Assert.Equal(Enumerable.Range(0, 100), a.Train.Concat(a.Validation).Concat(a.Test).Order());
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Create(10, 0.5, 0.5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Create(10, -0.1, 0.2, 1));
    }

    [Fact]
    public void Standardizer_is_fitted_on_the_training_rows_only()
    {
        var t = Table([0, 10, 2, 10, 4, 10, 1000, -5], [0, 1, 0, 1], TaskKind.Classification);
        var s = Standardizer.Fit(t, [0, 1, 2]);
        Assert.Equal(2.0, s.Mean[0], 12);
        Assert.Equal(Math.Sqrt(8.0 / 3), s.Scale[0], 12);
        Assert.Equal(1.0, s.Scale[1]);                       // constant on the training rows: scale 1, not 0
        var z = s.TransformX(t, [0, 1, 2]);
        Assert.Equal(0f, z[1 * 2 + 0], 6);
        var all = s.TransformX(t, [3]);
        Assert.Equal((float)((1000 - 2) / Math.Sqrt(8.0 / 3)), all[0], 2);
    }

    [Fact]
    public void Regression_targets_are_standardized_and_inverted()
    {
        var t = Table([1, 2, 3, 4, 5, 6], [10, 20, 30], TaskKind.Regression);
        var s = Standardizer.Fit(t, [0, 1, 2]);
        Assert.Equal(20, s.TargetMean, 12);
        var y = s.TransformY(t, [0, 1, 2]);
        Assert.Equal([3, 1], y.Shape.ToArray());
        Assert.Equal(30.0, s.InverseTarget(y[2]), 5);
    }
}
