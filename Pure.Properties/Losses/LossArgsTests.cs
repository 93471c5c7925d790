using NeuralPure.Losses;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>The argument bundle a loss gets from the fold and from a user: it refuses spans whose lengths do not fit the rows and
/// shapes, naming the span, and hands back exactly what it was given.</summary>
public sealed class LossArgsTests
{
    private static ArgumentException Refusal(int rows, int output, int target, int gradient, Shape? outputShape = null, Shape? targetShape = null) =>
        Assert.Throws<ArgumentException>(() =>
        {
            _ = new LossArgs<double>(rows, outputShape ?? 3, new double[output], targetShape ?? 3, new double[target], new double[gradient], new double[3]);
        });

    [Fact]
    public void An_empty_batch_is_refused_as_the_outputs_fault()
    {
        foreach (var rows in new[] { 0, -1 })
        {
            var e = Refusal(rows, 0, 0, 0);
            Assert.Equal("output", e.ParamName);
            Assert.Contains("the batch is empty (0 rows)", e.Message);
        }
    }

    [Fact]
    public void Each_span_of_the_wrong_length_is_named_with_both_counts()
    {
        var output = Refusal(2, 5, 6, 5);
        Assert.Equal("output", output.ParamName);
        Assert.Contains("output has 5 elements, not 2 × [3]", output.Message);

        var target = Refusal(2, 6, 3, 6, targetShape: Shape.Scalar);
        Assert.Equal("target", target.ParamName);
        Assert.Contains("target has 3 elements, not 2 × []", target.Message);

        var gradient = Refusal(2, 6, 6, 7);
        Assert.Equal("gradient", gradient.ParamName);
        Assert.Contains("gradient has 7 elements, the output 6", gradient.Message);
    }

    /// <summary>A single row is a batch: rows = 1 with spans of one example's size is accepted.</summary>
    [Fact]
    public void One_row_is_a_batch()
    {
        var a = new LossArgs<double>(1, 3, new double[3], Shape.Scalar, new double[1], new double[3], []);
        Assert.Equal(1, a.Rows);
        Assert.Equal(3, a.Output.Length);
        Assert.Equal(1, a.Target.Length);
    }

    [Fact]
    public void Null_shapes_are_refused_by_name()
    {
        Assert.Equal("outputShape", Assert.Throws<ArgumentNullException>(() => { _ = new LossArgs<double>(1, null!, new double[3], 3, new double[3], new double[3], []); }).ParamName);
        Assert.Equal("targetShape", Assert.Throws<ArgumentNullException>(() => { _ = new LossArgs<double>(1, 3, new double[3], null!, new double[3], new double[3], []); }).ParamName);
    }

    /// <summary>The properties are the arguments, spans over the caller's buffers (a write through Gradient lands in the caller's array).</summary>
    [Fact]
    public void The_properties_are_the_callers_arguments()
    {
        double[] output = [1, 2, 3, 4, 5, 6], target = [7, 8], gradient = new double[6], scratch = new double[4];
        var a = new LossArgs<double>(2, Shape.Of(3), output, Shape.Of(1), target, gradient, scratch);
        Assert.Equal(2, a.Rows);
        Assert.Equal(Shape.Of(3), a.OutputShape);
        Assert.Equal(Shape.Of(1), a.TargetShape);
        Assert.Equal(output, a.Output.ToArray());
        Assert.Equal(target, a.Target.ToArray());
        Assert.Equal(4, a.Scratch.Length);
        a.Gradient[5] = 9;
        a.Scratch[3] = 10;
        Assert.Equal(9, gradient[5]);
        Assert.Equal(10, scratch[3]);
    }
}
