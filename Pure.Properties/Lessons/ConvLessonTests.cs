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
}
