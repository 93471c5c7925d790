using System.Collections.Immutable;
using System.Globalization;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Models;
using NeuralPure.Optimizers;

namespace NeuralPure.Facade.Training;

/// <summary>A fit on in-memory arrays: the trained model (which standardizes raw rows itself) and how the fit went.</summary>
/// <param name="Model">The model, ready for raw rows: <see cref="TrainedModel.Predict(double[,])"/>, <see cref="TrainedModel.PredictProba"/>, …</param>
/// <param name="Outcome">The fit's outcome: status, history, final state.</param>
public sealed record FittedModel(TrainedModel Model, FitOutcome Outcome)
{
    /// <summary>Predictions for raw rows: the class index (classification) or the value in the target's units (regression).</summary>
    public double[] Predict(double[,] x) => Model.Predict(x);

    /// <summary>The predicted class names for raw rows (classification).</summary>
    public string[] PredictClasses(double[,] x) => Model.PredictClasses(x);

    /// <summary>Each class's probability for raw rows, [rows, classes] (classification).</summary>
    public double[,] PredictProba(double[,] x) => Model.PredictProba(x);
}

public static partial class Fitter
{
    /// <summary>Trains a classifier on raw rows <paramref name="x"/> [rows, features] with class labels <paramref name="y"/> (any
    /// strings: the classes are the sorted distinct labels, as scikit-learn's LabelEncoder). The features are standardized on these
    /// rows (the model keeps the standardization); Adam (lr 1e-3) unless <paramref name="optimizer"/> is given.</summary>
    /// <exception cref="ArgumentException">A shape or value is wrong (the message names the argument and the row), or the model
    /// does not fit the data (its input width, its output width against the classes, a loss that does not take class labels).</exception>
    public static FittedModel Fit(ModelSpec spec, double[,] x, string[] y, FitOptions? options = null, GradientTransform? optimizer = null,
        double[,]? validationX = null, string[]? validationY = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(y);
        for (int i = 0; i < y.Length; i++) if (y[i] is null) throw new ArgumentException($"y[{i}] is null; every row needs a label", nameof(y));
        var classes = y.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray();
        return FitClassifier(spec, x, y, classes, options, optimizer, validationX, validationY, progress, cancellationToken);
    }

    /// <summary>Trains a classifier on raw rows with whole-number labels (the classes are the sorted distinct values, named by them).</summary>
    /// <exception cref="ArgumentException">As the overload with string labels.</exception>
    public static FittedModel Fit(ModelSpec spec, double[,] x, int[] y, FitOptions? options = null, GradientTransform? optimizer = null,
        double[,]? validationX = null, int[]? validationY = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(y);
        var classes = y.Distinct().Order().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToImmutableArray();
        static string[]? Text(int[]? labels) => labels?.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray();
        return FitClassifier(spec, x, Text(y)!, classes, options, optimizer, validationX, Text(validationY), progress, cancellationToken);
    }

    /// <summary>Trains a regressor on raw rows with real targets (the targets are standardized too; predictions come back in their units).</summary>
    /// <exception cref="ArgumentException">A shape or value is wrong, or the model's loss takes class labels.</exception>
    public static FittedModel Fit(ModelSpec spec, double[,] x, double[] y, FitOptions? options = null, GradientTransform? optimizer = null,
        double[,]? validationX = null, double[]? validationY = null, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(y);
        if (spec.Loss.UsesLabels) throw new ArgumentException($"the model's loss '{spec.Loss.Kind}' takes class labels; give y as int[] or string[] labels, or use a regression loss (mse, huber)", nameof(spec));
        RefuseBinaryCrossEntropy(spec);
        RequireValidationX(validationX, validationY);
        if (spec.OutputWidth != 1) throw new ArgumentException($"regression on one target needs one output; the model has {spec.OutputWidth}", nameof(spec));
        var train = Table(x, [.. y], TaskKind.Regression, [], nameof(x), nameof(y));
        var val = validationX is null ? null : Table(validationX, [.. validationY ?? throw new ArgumentException("validationX needs validationY", nameof(validationY))], TaskKind.Regression, [], nameof(validationX), nameof(validationY));
        return FitTables(spec, train, val, options, optimizer, progress, cancellationToken);
    }

    private static FittedModel FitClassifier(ModelSpec spec, double[,] x, string[] y, ImmutableArray<string> classes, FitOptions? options, GradientTransform? optimizer,
        double[,]? validationX, string[]? validationY, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        RefuseBinaryCrossEntropy(spec);
        RequireValidationX(validationX, validationY);
        ArgumentNullException.ThrowIfNull(x);
        if (x.GetLength(0) == 0 || y.Length == 0) throw new ArgumentException($"x has {x.GetLength(0)} rows and y {y.Length} labels; a fit needs at least one row", x.GetLength(0) == 0 ? nameof(x) : nameof(y));
        if (!spec.Loss.UsesLabels) throw new ArgumentException($"the model's loss '{spec.Loss.Kind}' does not take class labels; end the network with Output(classes, \"cross-entropy\")", nameof(spec));
        if (classes.Length < 2) throw new ArgumentException($"classification needs at least 2 classes; y has {classes.Length}", nameof(y));
        if (spec.OutputWidth != classes.Length)
            throw new ArgumentException($"the model outputs {spec.OutputWidth} values but y has {classes.Length} classes [{Names(classes)}]; end it with Output({classes.Length}, \"cross-entropy\")", nameof(spec));
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal);
        var train = Table(x, [.. y.Select(l => index[l])], TaskKind.Classification, classes, nameof(x), nameof(y));
        DataTable? val = null;
        if (validationX is not null)
        {
            if (validationY is null) throw new ArgumentException("validationX needs validationY", nameof(validationY));
            var encoded = new double[validationY.Length];
            for (int i = 0; i < encoded.Length; i++)
                encoded[i] = validationY[i] is { } l && index.TryGetValue(l, out var k) ? k
                    : throw new ArgumentException($"validationY[{i}] is {DataText.Quote(validationY[i] ?? "null")}, which is not one of the training classes [{Names(classes)}]", nameof(validationY));
            val = Table(validationX, [.. encoded], TaskKind.Classification, classes, nameof(validationX), nameof(validationY));
        }
        return FitTables(spec, train, val, options, optimizer, progress, cancellationToken);
    }

    /// <summary>Binary cross-entropy takes 0/1 (or [0, 1]) targets per output from logits: neither class labels, which the
    /// classifier overloads encode as class indices, nor real targets, which the regression overload standardizes (they would
    /// leave [0, 1]). Refused here, as the CLI refuses <c>--loss bce</c>, rather than failing on a value the caller never gave.</summary>
    private static void RefuseBinaryCrossEntropy(ModelSpec spec)
    {
        if (spec.Loss is NeuralPure.Losses.BinaryCrossEntropySpec)
            throw new ArgumentException("the model's loss 'bce' takes 0/1 targets per output, which these array overloads do not: for two classes give int[] or string[] labels and end the network with Output(2, \"cross-entropy\"); for 0/1 targets per output (multi-label) give them as a DataSet<float> to Fitter.Fit(spec, optimizer, train, validation, options)", nameof(spec));
    }

    /// <summary>Validation labels or targets without validation rows would be ignored: refused instead.</summary>
    private static void RequireValidationX(double[,]? validationX, Array? validationY)
    {
        if (validationX is null && validationY is not null) throw new ArgumentException("validationY needs validationX (the validation rows it labels)", nameof(validationX));
    }

    private static string Names(ImmutableArray<string> classes) => classes.Length <= 10 ? string.Join(", ", classes) : string.Join(", ", classes.Take(10)) + ", …";

    private sealed record DataTable(TabularData Data);

    private static DataTable Table(double[,] x, ImmutableArray<double> y, TaskKind task, ImmutableArray<string> classes, string xName, string yName)
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        int rows = x.GetLength(0), features = x.GetLength(1);
        if (rows == 0 || features == 0) throw new ArgumentException($"{xName} is {rows}×{features}; it needs at least one row and one column", xName);
        if (y.Length != rows) throw new ArgumentException($"{xName} has {rows} rows but {yName} has {y.Length} values", yName);
        var flat = new double[rows * features];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < features; c++)
                flat[r * features + c] = double.IsFinite(x[r, c]) ? x[r, c] : throw new ArgumentException($"{xName}[{r}, {c}] is {x[r, c]}; every value must be finite", xName);
        for (int r = 0; r < rows; r++) if (!double.IsFinite(y[r])) throw new ArgumentException($"{yName}[{r}] is {y[r]}; every target must be finite", yName);
        var names = Enumerable.Range(0, features).Select(c => $"x{c}").ToImmutableArray();
        return new DataTable(new TabularData("arrays", names, "y", task, rows, features, [.. flat], y, task == TaskKind.Classification ? classes.Length : 0,
            new string('0', 64), task == TaskKind.Classification ? classes : default));
    }

    private static FittedModel FitTables(ModelSpec spec, DataTable train, DataTable? validation, FitOptions? options, GradientTransform? optimizer,
        IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        var data = train.Data;
        if (data.Features != spec.InputWidth) throw new ArgumentException($"the model takes {spec.InputWidth} features but x has {data.Features} columns", nameof(spec));
        if (validation is not null && validation.Data.Features != data.Features)
            throw new ArgumentException($"validationX has {validation.Data.Features} columns but x has {data.Features}", "validationX");
        var all = Enumerable.Range(0, data.Rows).ToArray();
        var standardizer = Standardizer.Fit(data, all);
        var outcome = Fit(spec, optimizer ?? Optimizers.Optimizer.Adam(1e-3), standardizer.ToDataSet(data, all),
            validation is null ? null : standardizer.ToDataSet(validation.Data, [.. Enumerable.Range(0, validation.Data.Rows)]),
            options ?? new FitOptions(), progress, cancellationToken: cancellationToken);
        var model = new TrainedModel(spec, outcome.Parameters, standardizer, data.Task, data.Classes, data.FeatureNames, data.TargetName, data.ClassNames)
        { LayerState = outcome.LayerState };
        return new FittedModel(model, outcome);
    }
}
