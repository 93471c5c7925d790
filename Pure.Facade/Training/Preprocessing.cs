using System.Collections.Immutable;
using NeuralPure.Facade.Data;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Facade.Training;

/// <summary>Per-feature standardization z = (x − mean)/scale, fitted on the training part only and stored with the model.</summary>
/// <param name="Mean">Per-feature means of the training rows.</param>
/// <param name="Scale">Per-feature population standard deviations (1 where a feature is constant).</param>
/// <param name="TargetMean">Regression: the training target's mean (0 for classification).</param>
/// <param name="TargetScale">Regression: the training target's standard deviation (1 for classification).</param>
public sealed record Standardizer(ImmutableArray<double> Mean, ImmutableArray<double> Scale, double TargetMean = 0, double TargetScale = 1)
{
    /// <summary>Fits means and scales on rows <paramref name="rows"/> of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">No rows.</exception>
    public static Standardizer Fit(TabularData data, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (rows.Length == 0) throw new ArgumentException("cannot fit a standardizer on 0 rows", nameof(rows));
        int f = data.Features;
        var mean = new double[f]; var m2 = new double[f];
        double tMean = 0, tM2 = 0;
        int n = 0;
        foreach (var r in rows)
        {
            n++;
            var x = data.GetRow(r);
            for (int j = 0; j < f; j++) { double d = x[j] - mean[j]; mean[j] += d / n; m2[j] += d * (x[j] - mean[j]); } // Welford
            double y = data.Y[r], dy = y - tMean; tMean += dy / n; tM2 += dy * (y - tMean);
        }
        var scale = m2.Select(v => Math.Sqrt(v / n)).Select(s => s > 1e-12 ? s : 1.0);
        bool regression = data.Task == TaskKind.Regression;
        double tScale = Math.Sqrt(tM2 / n);
        return new Standardizer([.. mean], [.. scale], regression ? tMean : 0, regression && tScale > 1e-12 ? tScale : 1);
    }

    /// <summary>Standardized features of the given rows as a float matrix [rows, features].</summary>
    public NdArray<float> TransformX(TabularData data, ReadOnlySpan<int> rows)
    {
        RequireWidth(data.Features);
        var r = new float[rows.Length * data.Features];
        for (int i = 0; i < rows.Length; i++)
        {
            var x = data.GetRow(rows[i]);
            for (int j = 0; j < x.Length; j++) r[i * x.Length + j] = (float)((x[j] - Mean[j]) / Scale[j]);
        }
        return NdArray.From<float>(r, rows.Length, data.Features);
    }

    /// <summary>Standardized features of raw rows [rows, features].</summary>
    public NdArray<float> TransformX(ReadOnlySpan<double> x, int rows)
    {
        int f = Mean.Length;
        if (x.Length != rows * f) throw new ArgumentException($"expected {rows} rows of {f} features ({rows * f} values), got {x.Length}", nameof(x));
        var r = new float[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = (float)((x[i] - Mean[i % f]) / Scale[i % f]);
        return NdArray.From<float>(r, rows, f);
    }

    /// <summary>Targets of the given rows: labels [rows] for classification, standardized values [rows, 1] for regression.</summary>
    public NdArray<float> TransformY(TabularData data, ReadOnlySpan<int> rows)
    {
        var r = new float[rows.Length];
        for (int i = 0; i < rows.Length; i++) r[i] = (float)((data.Y[rows[i]] - TargetMean) / TargetScale);
        return data.Task == TaskKind.Classification ? NdArray.From<float>(r, rows.Length) : NdArray.From<float>(r, rows.Length, 1);
    }

    /// <summary>A model output back in the target's units.</summary>
    public double InverseTarget(double z) => z * TargetScale + TargetMean;

    /// <summary>The data set of the given rows, standardized.</summary>
    public DataSet<float> ToDataSet(TabularData data, ReadOnlySpan<int> rows) => new(TransformX(data, rows), TransformY(data, rows));

    private void RequireWidth(int features)
    {
        if (features != Mean.Length) throw new ArgumentException($"the standardizer was fitted on {Mean.Length} features but the data has {features}", nameof(features));
    }

    /// <summary>Element-wise equality.</summary>
    public bool Equals(Standardizer? other) => other is not null && Mean.SequenceEqual(other.Mean) && Scale.SequenceEqual(other.Scale)
        && TargetMean.Equals(other.TargetMean) && TargetScale.Equals(other.TargetScale);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean.Length, TargetMean, TargetScale);
}

/// <summary>A seeded train/validation/test split of row indices.</summary>
/// <param name="Train">Training rows.</param>
/// <param name="Validation">Validation rows (may be empty).</param>
/// <param name="Test">Test rows (may be empty).</param>
public sealed record DataSplit(ImmutableArray<int> Train, ImmutableArray<int> Validation, ImmutableArray<int> Test)
{
    /// <summary>Shuffles 0..rows−1 with the seed's split key and cuts it: test first, then validation, the rest for training.</summary>
    /// <remarks>Sizes are round(rows·fraction). The permutation depends only on (seed, rows).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is outside [0, 1) or they leave no training row.</exception>
    public static DataSplit Create(int rows, double validationFraction, double testFraction, ulong seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "the validation fraction must be in [0, 1)");
        if (!(testFraction >= 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be in [0, 1)");
        int nTest = (int)Math.Round(rows * testFraction), nVal = (int)Math.Round(rows * validationFraction);
        if (rows - nTest - nVal < 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation {validationFraction} and test {testFraction} of {rows} rows leave no training row");
        var p = Sampling.Permutation(RandomKey.FromSeed(seed).FoldIn(0x53504C54), rows); // "SPLT"
        return new DataSplit(p[(nTest + nVal)..], p[nTest..(nTest + nVal)], p[..nTest]);
    }

    /// <summary>Element-wise equality.</summary>
    public bool Equals(DataSplit? other) => other is not null && Train.SequenceEqual(other.Train) && Validation.SequenceEqual(other.Validation) && Test.SequenceEqual(other.Test);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Train.Length, Validation.Length, Test.Length);
}
