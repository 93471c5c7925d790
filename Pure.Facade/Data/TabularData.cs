using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>
/// An immutable, fully numeric table loaded from a file: a row-major feature matrix, one target column,
/// and the facts needed to use it (task kind, class count, and the SHA-256 of the source bytes).
/// </summary>
/// <remarks>
/// Every value is finite. For <see cref="TaskKind.Classification"/> every target is a whole number in
/// <c>0..Classes-1</c>, the index of its class in <see cref="ClassNames"/>; for <see cref="TaskKind.Regression"/>
/// <see cref="Classes"/> is 0 and <see cref="ClassNames"/> is empty.
/// Equality compares contents (names, shape, class names, every value, and the hash), not array identity;
/// <see cref="Notices"/> are not compared.
/// </remarks>
public sealed record TabularData
{
    /// <summary>How many class names <see cref="DescribeTask"/> lists before eliding the rest.</summary>
    private const int DescribedClasses = 10;

    private readonly ImmutableArray<string> _notices;
    private int[]? _labels;

    /// <summary>Creates a table after checking that every part agrees with every other.</summary>
    /// <param name="name">A short name for the table, e.g. "iris".</param>
    /// <param name="featureNames">The names of the feature columns, one per feature.</param>
    /// <param name="targetName">The name of the target column.</param>
    /// <param name="task">Whether the target is a class label or a real number.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="features">The number of feature columns.</param>
    /// <param name="x">The features, row-major, <paramref name="rows"/> × <paramref name="features"/> values.</param>
    /// <param name="y">The target column, <paramref name="rows"/> values.</param>
    /// <param name="classes">The number of classes (0 for regression).</param>
    /// <param name="sha256">The SHA-256 of the source bytes as 64 lowercase hex digits.</param>
    /// <param name="classNames">The name of each class, in label order (label <c>k</c> is <c>classNames[k]</c>); default
    /// (or empty) means the labels' own numbers <c>"0"</c>..<c>"Classes-1"</c>. Must be empty for regression.</param>
    /// <exception cref="ArgumentNullException">A string argument is null.</exception>
    /// <exception cref="ArgumentException">The parts disagree: a length does not match, a value is not finite,
    /// a label is out of range, the class names are not <paramref name="classes"/> distinct non-null strings,
    /// or the hash is not 64 lowercase hex digits.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative or <paramref name="task"/> is undefined.</exception>
    public TabularData(
        string name,
        ImmutableArray<string> featureNames,
        string targetName,
        TaskKind task,
        int rows,
        int features,
        ImmutableArray<double> x,
        ImmutableArray<double> y,
        int classes,
        string sha256,
        ImmutableArray<string> classNames = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(targetName);
        ArgumentNullException.ThrowIfNull(sha256);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        ArgumentOutOfRangeException.ThrowIfNegative(classes);
        if (!Enum.IsDefined(task))
        {
            throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown task kind.");
        }

        if (featureNames.IsDefault || featureNames.Length != features)
        {
            throw new ArgumentException(
                Invariant($"Expected {features} feature names, got {(featureNames.IsDefault ? 0 : featureNames.Length)}."),
                nameof(featureNames));
        }

        if (featureNames.Any(n => n is null))
        {
            throw new ArgumentException("Feature names must not be null.", nameof(featureNames));
        }

        long cells = (long)rows * features;
        if (x.IsDefault || x.Length != cells)
        {
            throw new ArgumentException(
                Invariant($"Expected {cells} feature values ({rows} rows × {features} features), got {(x.IsDefault ? 0 : x.Length)}."),
                nameof(x));
        }

        if (y.IsDefault || y.Length != rows)
        {
            throw new ArgumentException(
                Invariant($"Expected {rows} target values, got {(y.IsDefault ? 0 : y.Length)}."), nameof(y));
        }

        int badX = IndexOfNonFinite(x.AsSpan());
        if (badX >= 0)
        {
            throw new ArgumentException(
                Invariant($"Feature value at row {badX / features}, feature {badX % features} is {x[badX]}; values must be finite."),
                nameof(x));
        }

        int badY = IndexOfNonFinite(y.AsSpan());
        if (badY >= 0)
        {
            throw new ArgumentException(Invariant($"Target value at row {badY} is {y[badY]}; values must be finite."), nameof(y));
        }

        if (task == TaskKind.Regression && classes != 0)
        {
            throw new ArgumentException(Invariant($"A regression table must have 0 classes, got {classes}."), nameof(classes));
        }

        if (task == TaskKind.Classification)
        {
            for (int i = 0; i < y.Length; i++)
            {
                double v = y[i];
                if (v < 0 || v >= classes || v != Math.Floor(v))
                {
                    throw new ArgumentException(
                        Invariant($"Target value at row {i} is {v}; class labels must be whole numbers in 0..{classes - 1}."),
                        nameof(y));
                }
            }
        }

        if (sha256.Length != 64 || !sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new ArgumentException("The SHA-256 must be 64 lowercase hex digits.", nameof(sha256));
        }

        ClassNames = CheckClassNames(classNames, classes);
        Name = name;
        FeatureNames = featureNames;
        TargetName = targetName;
        Task = task;
        Rows = rows;
        Features = features;
        X = x;
        Y = y;
        Classes = classes;
        Sha256 = sha256;
    }

    /// <summary>Gets the table's short name.</summary>
    public string Name { get; }

    /// <summary>Gets the feature column names, in column order.</summary>
    public ImmutableArray<string> FeatureNames { get; }

    /// <summary>Gets the target column's name.</summary>
    public string TargetName { get; }

    /// <summary>Gets whether the target is a class label or a real number.</summary>
    public TaskKind Task { get; }

    /// <summary>Gets the number of rows.</summary>
    public int Rows { get; }

    /// <summary>Gets the number of feature columns.</summary>
    public int Features { get; }

    /// <summary>Gets the features, row-major: row <c>r</c> is <c>X[r*Features .. (r+1)*Features)</c>.</summary>
    public ImmutableArray<double> X { get; }

    /// <summary>Gets the target column as numbers (class labels are whole numbers).</summary>
    public ImmutableArray<double> Y { get; }

    /// <summary>Gets the number of classes: 0 for regression, otherwise the length of <see cref="ClassNames"/>
    /// (at least the largest label + 1).</summary>
    public int Classes { get; }

    /// <summary>
    /// Gets the name of each class in label order: label <c>k</c> stands for <c>ClassNames[k]</c>. For a target read as
    /// numbers these are the numbers' invariant-culture text (e.g. <c>"-1"</c>, <c>"70"</c>); for a text target, the text.
    /// Empty for regression.
    /// </summary>
    public ImmutableArray<string> ClassNames { get; }

    /// <summary>
    /// Gets what the reader decided on its own while loading, one sentence each (e.g. that the first line was read as
    /// data because it holds only numbers, or which separator it detected); empty when it decided nothing. Not part of
    /// equality.
    /// </summary>
    public ImmutableArray<string> Notices
    {
        get => _notices.IsDefault ? [] : _notices;
        internal init => _notices = value;
    }

    /// <summary>Gets the shape of one example's features: [<see cref="Features"/>] for a table, [1, rows, cols] for IDX images
    /// (channels, height, width, as convolutions take them). Its size is always <see cref="Features"/>.</summary>
    /// <exception cref="ArgumentException">The dimensions do not multiply to <see cref="Features"/>.</exception>
    public ImmutableArray<int> ExampleShape
    {
        get => _exampleShape.IsDefault ? [Features] : _exampleShape;
        init => _exampleShape = value.IsDefault || value.Aggregate(1L, (a, d) => a * d) == Features && value.All(d => d >= 1) ? value
            : throw new ArgumentException($"an example shape of [{string.Join(", ", value)}] does not hold {Features} features", nameof(ExampleShape));
    }

    private ImmutableArray<int> _exampleShape;

    /// <summary>Gets the SHA-256 of the source bytes as 64 lowercase hex digits.</summary>
    public string Sha256 { get; }

    /// <summary>Gets the target column as integer class labels.</summary>
    /// <exception cref="InvalidOperationException">The table is a regression table.</exception>
    public ImmutableArray<int> Labels
    {
        get
        {
            if (Task != TaskKind.Classification)
            {
                throw new InvalidOperationException(
                    $"Table '{Name}' is a regression table (target '{TargetName}'); it has no class labels.");
            }

            int[]? labels = Volatile.Read(ref _labels);
            if (labels is null)
            {
                labels = new int[Rows];
                for (int i = 0; i < labels.Length; i++)
                {
                    labels[i] = (int)Y[i];
                }

                Volatile.Write(ref _labels, labels);
            }

            return ImmutableCollectionsMarshal.AsImmutableArray(labels);
        }
    }

    /// <summary>
    /// Describes the task in one line, for telling the user what was inferred: for example
    /// <c>classification: 3 classes [setosa, versicolor, virginica] from column 'species'</c> or
    /// <c>regression on 'mpg'</c>. More than 10 class names are elided after the tenth.
    /// </summary>
    /// <returns>The one-line description.</returns>
    public string DescribeTask()
    {
        string column = DataText.Quote(TargetName);
        if (Task == TaskKind.Regression)
        {
            return "regression on " + column;
        }

        string shown = string.Join(", ", ClassNames.Take(DescribedClasses));
        if (Classes > DescribedClasses)
        {
            shown += Invariant($", ... ({Classes - DescribedClasses} more)");
        }

        return Invariant($"classification: {Classes} {(Classes == 1 ? "class" : "classes")} [{shown}] from column {column}");
    }

    /// <summary>Returns a copy whose classes carry other names (same labels, same order, same everything else).</summary>
    internal TabularData WithClassNames(ImmutableArray<string> classNames) =>
        new(Name, FeatureNames, TargetName, Task, Rows, Features, X, Y, Classes, Sha256, classNames) { Notices = Notices };

    /// <summary>Returns one row of features as a read-only view.</summary>
    /// <param name="row">The 0-based row index.</param>
    /// <returns>The <see cref="Features"/> values of that row.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not in 0..Rows-1.</exception>
    public ReadOnlySpan<double> GetRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        return X.AsSpan().Slice(row * Features, Features);
    }

    /// <summary>Compares two tables by content: names, shape, task, class count, hash and every value.</summary>
    /// <param name="other">The other table.</param>
    /// <returns>True if both hold the same data.</returns>
    public bool Equals(TabularData? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Name == other.Name
                && TargetName == other.TargetName
                && Task == other.Task
                && Rows == other.Rows
                && Features == other.Features
                && Classes == other.Classes
                && Sha256 == other.Sha256
                && ClassNames.AsSpan().SequenceEqual(other.ClassNames.AsSpan())
                && FeatureNames.AsSpan().SequenceEqual(other.FeatureNames.AsSpan())
                && X.AsSpan().SequenceEqual(other.X.AsSpan())
                && Y.AsSpan().SequenceEqual(other.Y.AsSpan())));

    /// <summary>Returns a hash code consistent with <see cref="Equals(TabularData?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(Name, TargetName, Task, Rows, Features, Classes, Sha256);

    /// <summary>Describes the table without listing its values.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() =>
        Invariant($"TabularData {{ Name = {Name}, Task = {Task}, Rows = {Rows}, Features = {Features}, Classes = {Classes}, Target = {TargetName}, Sha256 = {Sha256} }}");

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Name = {Name}, Task = {Task}, Rows = {Rows}, Features = {Features}");
        return true;
    }

    private static ImmutableArray<string> CheckClassNames(ImmutableArray<string> classNames, int classes)
    {
        if (classNames.IsDefaultOrEmpty)
        {
            if (classes == 0)
            {
                return [];
            }

            var numbers = new string[classes];
            for (int k = 0; k < classes; k++)
            {
                numbers[k] = k.ToString(CultureInfo.InvariantCulture);
            }

            return ImmutableCollectionsMarshal.AsImmutableArray(numbers);
        }

        if (classNames.Length != classes)
        {
            throw new ArgumentException(Invariant($"Expected {classes} class names, got {classNames.Length}."), nameof(classNames));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string n in classNames)
        {
            if (n is null)
            {
                throw new ArgumentException("Class names must not be null.", nameof(classNames));
            }

            if (!seen.Add(n))
            {
                throw new ArgumentException($"The class name {DataText.Quote(n)} appears twice; class names must be distinct.", nameof(classNames));
            }
        }

        return classNames;
    }

    private static int IndexOfNonFinite(ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
