using System.Collections.Immutable;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Evaluation;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Lessons;

/// <summary>What the convolution lesson computed.</summary>
/// <param name="FeatureMap">The edge filter's output on the tiny image, row by row.</param>
/// <param name="FilterGradient">dL/d(filter) by backpropagation, 3×3.</param>
/// <param name="NumericGradient">The same by central differences.</param>
/// <param name="Mlp">The MLP's parameters and held-out accuracy.</param>
/// <param name="Cnn">The CNN's parameters and held-out accuracy.</param>
/// <param name="Image">The tiny image's pixels, row by row (5×5).</param>
/// <param name="Filter">The edge filter's weights, row by row (3×3).</param>
public sealed record ConvLessonResult(ImmutableArray<ImmutableArray<double>> FeatureMap, ImmutableArray<double> FilterGradient, ImmutableArray<double> NumericGradient,
    (long Parameters, double Accuracy) Mlp, (long Parameters, double Accuracy) Cnn, ImmutableArray<double> Image, ImmutableArray<double> Filter);

/// <summary>Lesson 7: convolution. A filter slides over an image; its gradient is the image seen through the error; a small CNN
/// against an MLP on Fashion-MNIST.</summary>
public static class ConvLesson
{
    private const ulong Seed = 7;
    private const int Epochs = 5;
    private const double Rate = 2e-3;

    /// <summary>Runs the lesson.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Unused: this lesson draws no plot.</param>
    public static ConvLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: convolution. A small filter slides over the image and answers the same question at every place.");

        // Part 1: a 5x5 image, dark on the left, bright on the right, and a 3x3 filter that looks for that edge.
        double[] pixels =
        [
            0, 0, 1, 1, 1,
            0, 0, 1, 1, 1,
            0, 0, 1, 1, 1,
            0, 0, 1, 1, 1,
            0, 0, 1, 1, 1,
        ];
        var image = NdArray.From<double>(pixels, 1, 1, 5, 5);                    // one image, one channel, 5x5
        var conv = new Conv2dSpec(1, 1, 3, 3, Bias: false);                       // valid convolution: 5x5 → 3x3
        var filter = NdArray.From<double>([-1.0, 0, 1, -1, 0, 1, -1, 0, 1], 1, 1, 3, 3);
        var y = Layer.Forward(conv, [filter], image);
        w.Heading($"A filter is a small weight matrix; the layer slides it over the image");
        w.Line($"  image (5x5)        filter (3x3)      feature map (3x3): sum of image patch * filter");
        var map = ImmutableArray.CreateBuilder<ImmutableArray<double>>();
        for (int r = 0; r < 5; r++)
        {
            string img = string.Join(" ", pixels.Skip(r * 5).Take(5).Select(v => v.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)));
            string f = r < 3 ? string.Join(" ", filter.Span.Slice(r * 3, 3).ToArray().Select(v => v.ToString("+0;-0;0", System.Globalization.CultureInfo.InvariantCulture).PadLeft(2))) : "";
            string m = "";
            if (r < 3)
            {
                var row = y.Span.Slice(r * 3, 3).ToArray();
                map.Add([.. row]);
                m = string.Join(" ", row.Select(v => v.ToString("F0", System.Globalization.CultureInfo.InvariantCulture).PadLeft(2)));
            }
            w.Line($"  {img,-17}  {f,-16}  {m}");
        }
        double edge = y.Span.ToArray().Max(), flatGround = y.Span.ToArray().Min();
        w.Line($"The filter answers \"is it brighter on the right than on the left?\": {edge:F0} where the edge is, {flatGround:F0} on flat ground.");
        w.Line($"The same {filter.Length} weights are used at every position: a dense layer from {image.Length} pixels to {y.Length} outputs would need {image.Length * y.Length}.");

        // Part 2: the gradient of L = sum of (feature map * c) with respect to the filter, c a fixed upstream gradient. With c = 1
        // everywhere (L is the sum of the feature map) each weight's gradient is the sum of the pixels it touched, which can be
        // checked on paper; and it is not the filter itself, so the printout cannot be mistaken for the weights.
        var c = NdArray.From<double>([1.0, 1, 1, 1, 1, 1, 1, 1, 1], 1, 1, 3, 3);
        var (_, grads) = Layer.Backward(conv, [filter], image, c);
        var numeric = NumericGrad.OfInput(f => Sum(Layer.Forward(conv, [f], image), c), filter);
        w.Heading($"Its gradient: backprop traced on the tiny image, checked by NumericGrad");
        w.Line($"Take L = the sum of the feature map, so dL/d(feature map) = c = 1 at each of its {c.Length} positions. dL/d(filter) is");
        w.Line($"the image seen through c: each filter weight collects pixel * c over every position it touched, here the sum of");
        w.Line($"the {c.Length} pixels under it (the left column of weights only saw one bright column of the image, the right one three).");
        w.Line($"  backprop dL/dW   {Fmt.List(grads[0].Span.ToArray(), 1)}");
        w.Line($"  numeric  dL/dW   {Fmt.List(numeric.Span.ToArray(), 1)}");
        double worst = 0;
        for (int i = 0; i < numeric.Length; i++) worst = Math.Max(worst, Math.Abs(numeric[i] - grads[0][i]));
        w.Line($"  largest difference {(worst < 1e-6 ? "below 1e-6" : worst.ToString("E1", System.Globalization.CultureInfo.InvariantCulture))}: {(worst < 1e-6 ? "the convolution's backward pass is the chain rule, done right" : "the check FAILS")}.");

        // Part 3: a small CNN against an MLP with one hidden layer of 64 (over five times the CNN's weights) on 3,000 Fashion-MNIST images.
        var folder = BundledDataSets.FindFashionMnistFolder();
        var table = IdxData.Load(Path.Combine(folder, BundledDataSets.FashionMnistImagesFile), Path.Combine(folder, BundledDataSets.FashionMnistLabelsFile), "fashion-mnist-test");
        const int Train = 2400, Test = 600;
        var xs = new float[(Train + Test) * 784];
        for (int i = 0; i < xs.Length; i++) xs[i] = (float)(table.X[i] / 255.0);
        var ys = table.Labels.Take(Train + Test).Select(v => (float)v).ToArray();
        var trainSet = new DataSet<float>(NdArray.From<float>(xs.AsSpan(0, Train * 784), Train, 1, 28, 28), NdArray.From<float>(ys.AsSpan(0, Train), Train));
        var testSet = new DataSet<float>(NdArray.From<float>(xs.AsSpan(Train * 784), Test, 1, 28, 28), NdArray.From<float>(ys.AsSpan(Train), Test));
        var flat = (DataSet<float> d) => new DataSet<float>(d.X.Reshape(d.Rows, 784), d.Y);

        var mlp = ModelSpec.Mlp([784, 64, 10], new ReluSpec(), new SoftmaxCrossEntropySpec());
        var cnn = new ModelSpec(Shape.Of(1, 28, 28),
            [Conv2dSpec.Square(1, 8, 3, padding: 1), new ReluSpec(), MaxPool2dSpec.Square(2), Conv2dSpec.Square(8, 16, 3, padding: 1), new ReluSpec(), MaxPool2dSpec.Square(2),
             new FlattenSpec(), new DenseSpec(16 * 7 * 7, 10)], new SoftmaxCrossEntropySpec());
        var adam = Optimizer.Adam(Rate);
        var config = new TrainConfig(BatchSize: 32, Epochs: Epochs);
        var key = RandomKey.FromSeed(Seed);
        var mlpFit = Trainer.Fit(mlp, adam, Trainer.Init<float>(mlp, adam, key), flat(trainSet), config).State;
        var cnnFit = Trainer.Fit(cnn, adam, Trainer.Init<float>(cnn, adam, key), trainSet, config).State;
        double mlpAcc = Evaluate.Classification(mlp, mlpFit.Params, flat(testSet)).Accuracy, cnnAcc = Evaluate.Classification(cnn, cnnFit.Params, testSet).Accuracy;
        long mlpP = mlpFit.Params.ParameterCount, cnnP = cnnFit.Params.ParameterCount;
        w.Heading($"A small CNN against an MLP on Fashion-MNIST ({Train} images to train on, {Test} held out, {Epochs} epochs, Adam {Fmt.Rate(Rate)})");
        w.Line($"  MLP  {mlp}");
        w.Line($"       {mlpP} weights, held-out accuracy {Fmt.Percent(mlpAcc)}");
        w.Line($"  CNN  {cnn}");
        w.Line($"       {cnnP} weights, held-out accuracy {Fmt.Percent(cnnAcc)}");
        w.Line($"The CNN has {(double)mlpP / cnnP:F1} times fewer weights: its filters are shared across the image, and pooling halves the size twice.");
        return new ConvLessonResult(map.ToImmutable(), [.. grads[0].Span.ToArray()], [.. numeric.Span.ToArray()], (mlpP, mlpAcc), (cnnP, cnnAcc), [.. pixels], [.. filter.Span.ToArray()]);
    }

    private static double Sum(NdArray<double> a, NdArray<double> c)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * c[i];
        return s;
    }
}
