using System.Collections.Immutable;
using NeuralPure.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Facade.Data;

public class TabularDataTests
{
    private const string Hash = "0000000000000000000000000000000000000000000000000000000000000000";

    private static TabularData Make(TaskKind task = TaskKind.Classification, double[]? x = null, double[]? y = null, int classes = 2, string sha = Hash) =>
        new("t", ["a", "b"], "y", task, 2, 2, [.. x ?? [1, 2, 3, 4]], [.. y ?? [0, 1]], classes, sha);

    [Fact]
    public void Equality_is_by_content()
    {
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), Make(x: [1, 2, 3, 5]));
        Assert.NotEqual(Make(), Make(classes: 3));
    }

    [Fact]
    public void Inconsistent_parts_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Make(x: [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => Make(y: [0]));
        Assert.Throws<ArgumentException>(() => Make(x: [1, double.NaN, 3, 4]));
        Assert.Throws<ArgumentException>(() => Make(y: [0, 2]));
        Assert.Throws<ArgumentException>(() => Make(y: [0, 0.5]));
        Assert.Throws<ArgumentException>(() => Make(TaskKind.Regression, classes: 2));
        Assert.Throws<ArgumentException>(() => Make(sha: "ABC"));
        Assert.Throws<ArgumentException>(() => new TabularData("t", ["a"], "y", TaskKind.Regression, 2, 2, [1, 2, 3, 4], [0, 1], 0, Hash));
        Assert.Throws<ArgumentException>(() => new TabularData("t", ["a", "b"], "y", TaskKind.Regression, 2, 2, default, [0, 1], 0, Hash));
    }

    [Fact]
    public void Labels_rows_and_text_are_available()
    {
        TabularData c = Make();
        Assert.Equal([0, 1], c.Labels.ToArray());
        Assert.Equal([3.0, 4.0], c.GetRow(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => c.GetRow(2).ToArray());
        TabularData r = Make(TaskKind.Regression, y: [0.5, -2], classes: 0);
        var ex = Assert.Throws<InvalidOperationException>(() => r.Labels);
        Assert.Contains("regression", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Rows = 2", r.ToString(), StringComparison.Ordinal);
        ImmutableArray<int> labels = c.Labels;
        Assert.Equal(labels, c.Labels.ToArray());
    }
}
