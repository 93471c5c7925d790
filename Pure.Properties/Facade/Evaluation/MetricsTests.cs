using NeuralPure.Facade.Evaluation;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Evaluation;

public sealed class MetricsTests
{
    // An identity "network": one dense layer with W = I, b = 0, so the outputs are the inputs we choose.
    private static (ModelSpec, ParamTree<float>) Identity(int k, LossSpec loss)
    {
        var spec = new ModelSpec(k, [new DenseSpec(k, k)], loss);
        var w = new float[k * k];
        for (int i = 0; i < k; i++) w[i * k + i] = 1;
        return (spec, new ParamTree<float>(spec.ParameterNames, [NdArray.From<float>(w, k, k), NdArray.Zeros<float>(k)]));
    }

    [Fact]
    public void Accuracy_precision_recall_and_confusion_by_hand()
    {
        var (spec, p) = Identity(3, new SoftmaxCrossEntropySpec());
        // predictions (arg-max): 0, 0, 1, 2, 2 ; labels: 0, 1, 1, 2, 0
        var x = NdArray.From<float>([5, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 5], 5, 3);
        var y = NdArray.Vector<float>(0, 1, 1, 2, 0);
        var m = Evaluate.Classification(spec, p, new DataSet<float>(x, y));
        Assert.Equal(3.0 / 5, m.Accuracy, 12);
        Assert.Equal([1, 0, 1], m.Confusion[0].ToArray());
        Assert.Equal([1, 1, 0], m.Confusion[1].ToArray());
        Assert.Equal([0, 0, 1], m.Confusion[2].ToArray());
        Assert.Equal(0.5, m.Precision[0], 12);   // predicted 0 twice, right once
        Assert.Equal(0.5, m.Recall[0], 12);      // two true 0s, one found
        Assert.Equal(1.0, m.Precision[1], 12);
        Assert.Equal(0.5, m.Recall[1], 12);
        Assert.Equal(0.5, m.Precision[2], 12);
        Assert.Equal(1.0, m.Recall[2], 12);
    }

    [Fact]
    public void Regression_metrics_in_the_targets_units()
    {
        var (spec, p) = Identity(1, new MseSpec());
        var st = new Standardizer([0.0], [1.0], TargetMean: 100, TargetScale: 10);
        // standardized predictions 0, 1, -1 → 100, 110, 90; targets 100, 120, 90
        var data = new DataSet<float>(NdArray.From<float>([0, 1, -1], 3, 1), NdArray.From<float>([0, 2, -1], 3, 1));
        var m = Evaluate.Regression(spec, p, data, st);
        Assert.Equal(100.0 / 3, m.Mse, 4);
        Assert.Equal(Math.Sqrt(100.0 / 3), m.Rmse, 4);
        Assert.Equal(10.0 / 3, m.Mae, 4);
        double mean = 310.0 / 3, tot = Math.Pow(100 - mean, 2) + Math.Pow(120 - mean, 2) + Math.Pow(90 - mean, 2);
        Assert.Equal(1 - 100 / tot, m.R2, 4);
    }
}
