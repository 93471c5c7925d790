using NeuralPure.Lessons;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class BackpropLessonTests(LessonRuns runs)
{
    private BackpropLessonResult Result => runs.Get("backprop").As<BackpropLessonResult>();

    [Fact]
    public void Every_gradient_passes_the_numeric_check()
    {
        Assert.Equal(9, Result.Weights);
        Assert.Equal(Result.Weights, Result.Checked);
        Assert.True(Result.MaxDifference < 1e-8, $"max |backprop − numeric| = {Result.MaxDifference}");
        Assert.Contains("9 of 9 gradients agree", runs.Get("backprop").Checked);
        Assert.Contains("The check passes", runs.Get("backprop").Checked);
    }

    [Fact]
    public void Weights_are_unchanged_by_backprop()
    {
        Assert.True(Result.WeightsUnchanged);
        Assert.Contains("Weights unchanged: yes", runs.Get("backprop").Checked);
    }

    [Fact]
    public void Layer_shares_run_from_output_to_input_and_add_up_to_the_whole()
    {
        Assert.Equal(["layer 2 (dense)", "layer 0 (dense)"], Result.LayerShares.Select(s => s.Layer));
        Assert.Equal(1.0, Result.LayerShares.Sum(s => s.Share), 12);
        Assert.True(Result.Loss > 0);
    }

    [Fact]
    public void Output_lists_the_backward_pass_from_the_output_layer_to_the_input_layer()
    {
        var text = runs.Get("backprop").Checked;
        int forward = text.IndexOf("Forward:", StringComparison.Ordinal), backward = text.IndexOf("Backward:", StringComparison.Ordinal);
        Assert.True(forward >= 0 && backward > forward);
        int layer2 = text.IndexOf("layer 2 (dense)      dL/dW2", backward, StringComparison.Ordinal);
        int layer0 = text.IndexOf("layer 0 (dense)      dL/dW0", backward, StringComparison.Ordinal);
        Assert.True(layer2 > backward && layer0 > layer2, "layer 2's gradients come before layer 0's");
    }
}
