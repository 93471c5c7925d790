namespace NeuralPure.Facade.Data;

/// <summary>Options for <see cref="CsvReader"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>Gets the default options: last column is the target, task inferred, comma-separated.</summary>
    public static CsvOptions Default { get; } = new();

    /// <summary>Gets the name of the target column (case-sensitive); null means the last column.</summary>
    public string? Target { get; init; }

    /// <summary>
    /// Gets the task kind; null means infer it: the table is <see cref="TaskKind.Classification"/> if and only if
    /// every target value is a whole number from 0 to <see cref="CsvReader.MaxInferredClasses"/> − 1 inclusive
    /// (so there are at most 100 distinct labels and <c>Classes</c> ≤ 100), otherwise <see cref="TaskKind.Regression"/>.
    /// </summary>
    public TaskKind? Task { get; init; }

    /// <summary>
    /// Gets the field separator (default ','); it must be a tab or a visible ASCII character (not a space) other
    /// than a double quote, a letter, a digit, '.', '+' or '-'.
    /// </summary>
    public char Separator { get; init; } = ',';
}
