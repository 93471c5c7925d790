using NeuralPure.Lessons;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class ConvLessonTests(LessonRuns runs)
{
    private ConvLessonResult Result => runs.Get("conv").As<ConvLessonResult>();

    [Fact]
    public void The_edge_filter_answers_3_on_the_edge_and_0_on_flat_ground()
    {
        Assert.All(Result.FeatureMap, row => Assert.Equal(new[] { 3.0, 3.0, 0.0 }, row.ToArray()));
    }

    [Fact]
    public void The_filters_gradient_by_backprop_is_the_numeric_one()
    {
        for (int i = 0; i < 9; i++) Assert.True(Math.Abs(Result.FilterGradient[i] - Result.NumericGradient[i]) <= 1e-6, $"weight {i}: {Result.FilterGradient[i]} vs {Result.NumericGradient[i]}");
        Assert.Contains(Result.FilterGradient, g => g != 0);
    }

    [Fact]
    public void The_cnn_learns_with_far_fewer_weights_than_the_mlp()
    {
        Assert.True(Result.Cnn.Parameters * 4 < Result.Mlp.Parameters, $"{Result.Cnn.Parameters} vs {Result.Mlp.Parameters}");
        Assert.True(Result.Cnn.Accuracy > 0.7 && Result.Mlp.Accuracy > 0.7, $"CNN {Result.Cnn.Accuracy}, MLP {Result.Mlp.Accuracy}");
    }

    /// <summary>The gradient the lesson shows is the one the page derives on paper, dL/dW[i,j] = Σ c·image[p+i, q+j] with c = 1,
    /// computed here from the image alone, and it is not the filter's own numbers (the lesson's c once made them equal, so a
    /// backward pass that handed back the weights would have printed the same lines).</summary>
    [Fact]
    public void The_filters_gradient_is_the_sum_of_the_pixels_each_weight_touched_not_the_filter()
    {
        var r = Result;
        var byHand = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int p = 0; p < 3; p++)
                    for (int q = 0; q < 3; q++) byHand[i * 3 + j] += r.Image[(p + i) * 5 + q + j];
        Assert.Equal([3.0, 6, 9, 3, 6, 9, 3, 6, 9], byHand);
        Assert.Equal(byHand, r.FilterGradient.ToArray());
        Assert.NotEqual(r.Filter.ToArray(), r.FilterGradient.ToArray());
        Assert.Contains("the convolution's backward pass is the chain rule, done right.", runs.Get("conv").Checked);
    }
}
