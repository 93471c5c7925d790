using System.Collections.Immutable;
using NeuralPure.Facade.Training;
using NeuralPure.Models;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Facade.Evaluation;

/// <summary>Classification quality on a data set.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Fraction of rows whose arg-max class is the label.</param>
/// <param name="Precision">Per class: true positives / predicted positives (NaN when the class was never predicted).</param>
/// <param name="Recall">Per class: true positives / actual positives (NaN when the class never occurs).</param>
/// <param name="Confusion">Confusion[actual][predicted] counts.</param>
public sealed record ClassificationMetrics(double Loss, double Accuracy, ImmutableArray<double> Precision, ImmutableArray<double> Recall, ImmutableArray<ImmutableArray<int>> Confusion);

/// <summary>Regression quality on a data set, in the target's own units.</summary>
/// <param name="Loss">Mean loss on standardized targets (what training minimises).</param>
/// <param name="Mse">Mean squared error.</param>
/// <param name="Rmse">√MSE.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="R2">Coefficient of determination 1 − SS_res/SS_tot.</param>
public sealed record RegressionMetrics(double Loss, double Mse, double Rmse, double Mae, double R2);

/// <summary>Predictions and metrics, computed in chunks of rows so memory stays bounded.</summary>
public static class Evaluate
{
    private const int MaxChunk = 1024;
    /// <summary>About this many bytes of layer scratch and activations per chunk: an image model's activations are hundreds of
    /// kilobytes per row (the README's CNN: ≈ 0.5 MB per image), so a fixed thousand rows would take ~0.5 GB.</summary>
    private const long ChunkBytes = 64L << 20;

    /// <summary>Rows per chunk: as many as fit <see cref="ChunkBytes"/> (at least 16, at most <see cref="MaxChunk"/>). Each row's
    /// outputs in evaluation mode depend on that row only, so the chunking cannot change a value.</summary>
    private static int Chunk(ModelSpec spec)
    {
        long perRow = 0;
        for (int i = 0; i < spec.Layers.Length; i++)
            perRow += spec.Layers[i].ScratchBytes<float>(spec.Shapes[i], 1) + (long)spec.Shapes[i + 1].Size * sizeof(float);
        return (int)Math.Clamp(ChunkBytes / Math.Max(1, perRow), 16, MaxChunk);
    }

    /// <summary>The model's outputs [rows, width] in evaluation mode, up to a thousand rows at a time (fewer for models whose
    /// layers need much scratch per row, such as convolutions); a model whose layers carry state
    /// (batch normalization's running statistics) needs it as <paramref name="state"/>.</summary>
    /// <exception cref="ArgumentException">The model carries state and none (or a wrong one) is given, or x does not fit.</exception>
    public static NdArray<float> Outputs(ModelSpec spec, ParamTree<float> parameters, NdArray<float> x, ParamTree<float>? state = null)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(x);
        NdArray<float> Run(NdArray<float> part) => spec.HasState
            ? Model.Forward(spec, parameters, state ?? throw new ArgumentException($"the model's layers carry state ({string.Join(", ", spec.StateShapes.Select(s => s.Name))}); pass it to evaluate", nameof(state)), part)
            : Model.Forward(spec, parameters, part);
        int chunk = Chunk(spec);
        if (x.Rows <= chunk) return Run(x);
        int per = x.Length / x.Rows;
        var r = new float[x.Rows * spec.OutputWidth];
        for (int start = 0; start < x.Rows; start += chunk)
        {
            int n = Math.Min(chunk, x.Rows - start);
            var part = Run(NdArray.From(x.Span.Slice(start * per, n * per), [.. x.Shape.SetItem(0, n)]));
            part.Span.CopyTo(r.AsSpan(start * spec.OutputWidth));
        }
        return NdArray.From<float>(r, x.Rows, spec.OutputWidth);
    }

    /// <summary>The arg-max class of each row of outputs.</summary>
    public static int[] ArgMax(NdArray<float> outputs)
    {
        var r = new int[outputs.Rows];
        for (int i = 0; i < r.Length; i++)
        {
            var row = outputs.Row(i);
            int best = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
            r[i] = best;
        }
        return r;
    }

    /// <summary>Loss, accuracy, per-class precision and recall, and the confusion matrix (in evaluation mode; <paramref name="state"/> for a model with layer state).</summary>
    public static ClassificationMetrics Classification(ModelSpec spec, ParamTree<float> parameters, DataSet<float> data, ParamTree<float>? state = null)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(data);
        var outputs = Outputs(spec, parameters, data.X, state);
        double loss = spec.Loss.Value(outputs, data.Y);
        int k = spec.OutputWidth;
        var predicted = ArgMax(outputs);
        var confusion = new int[k, k];
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            int actual = (int)data.Y[i];
            confusion[actual, predicted[i]]++;
            if (actual == predicted[i]) correct++;
        }
        var precision = new double[k]; var recall = new double[k];
        for (int c = 0; c < k; c++)
        {
            int tp = confusion[c, c], predPos = 0, actPos = 0;
            for (int j = 0; j < k; j++) { predPos += confusion[j, c]; actPos += confusion[c, j]; }
            precision[c] = predPos == 0 ? double.NaN : (double)tp / predPos;
            recall[c] = actPos == 0 ? double.NaN : (double)tp / actPos;
        }
        var rows = Enumerable.Range(0, k).Select(a => Enumerable.Range(0, k).Select(p => confusion[a, p]).ToImmutableArray()).ToImmutableArray();
        return new ClassificationMetrics(loss, (double)correct / predicted.Length, [.. precision], [.. recall], rows);
    }

    /// <summary>Loss, MSE, RMSE, MAE and R² in the target's units (outputs are de-standardized first; <paramref name="state"/> for a model with layer state).</summary>
    public static RegressionMetrics Regression(ModelSpec spec, ParamTree<float> parameters, DataSet<float> data, Standardizer standardizer, ParamTree<float>? state = null)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(data); ArgumentNullException.ThrowIfNull(standardizer);
        var outputs = Outputs(spec, parameters, data.X, state);
        double loss = spec.Loss.Value(outputs, data.Y);
        int n = data.Rows;
        double se = 0, ae = 0, mean = 0;
        for (int i = 0; i < n; i++) mean += standardizer.InverseTarget(data.Y[i]);
        mean /= n;
        double tot = 0;
        for (int i = 0; i < n; i++)
        {
            double y = standardizer.InverseTarget(data.Y[i]), yHat = standardizer.InverseTarget(outputs[i]);
            se += (y - yHat) * (y - yHat); ae += Math.Abs(y - yHat); tot += (y - mean) * (y - mean);
        }
        double mse = se / n;
        return new RegressionMetrics(loss, mse, Math.Sqrt(mse), ae / n, tot > 0 ? 1 - se / tot : double.NaN);
    }
}
