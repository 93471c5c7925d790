namespace NeuralPure.Facade.Data;

/// <summary>Options for <see cref="CsvReader"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>Gets the default options: last column is the target, task inferred, separator detected, header detected.</summary>
    public static CsvOptions Default { get; } = new();

    /// <summary>
    /// Gets the target column: its name (case-sensitive) or, when no column has that name, its 1-based number
    /// (e.g. <c>"3"</c>); null means the last column. A file without a header has columns named <c>column_1</c>..<c>column_N</c>.
    /// </summary>
    public string? Target { get; init; }

    /// <summary>
    /// Gets the task kind; null means infer it from the target column: text (any value that is not a number) means
    /// <see cref="TaskKind.Classification"/>; numbers that are all whole with at most <see cref="CsvReader.MaxInferredClasses"/>
    /// distinct values mean classification; anything else means <see cref="TaskKind.Regression"/>.
    /// </summary>
    /// <remarks>
    /// Classification encodes the sorted distinct target values as labels 0..K-1, as scikit-learn's <c>LabelEncoder</c> does:
    /// numbers sorted numerically, text sorted ordinally. Forced to classification, a target that is a number but not a whole
    /// number is refused (naming its line) rather than made a class of its own: scikit-learn would accept 0.5 as a label, but
    /// a fractional target almost always means a regression column. Forced to regression, a text target is refused.
    /// </remarks>
    public TaskKind? Task { get; init; }

    /// <summary>
    /// Gets the field separator, or null (the default) to detect it: ',', ';', tab or '|', whichever occurs the same
    /// non-zero number of times (outside quotes) on the header line and the first data lines; if none or several do,
    /// ','. A given separator must be a tab or a visible ASCII character (not a space) other than a double quote,
    /// a letter, a digit, '.', '+' or '-'.
    /// </summary>
    public char? Separator { get; init; }

    /// <summary>
    /// Gets whether the first line holds column names: true, false (every line is data, the columns are named
    /// <c>column_1</c>..<c>column_N</c>), or null (the default) to detect it: the first line is read as data when every
    /// field on it is a number, or when its only non-number is the target field and the second line's target is not a
    /// number either (a file of numbers and text labels without a header); otherwise it is the header. When the first
    /// line is read as data this way, <see cref="TabularData.Notices"/> says so.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// Gets the classes to encode the target against, in label order (e.g. a trained model's class names), or null to
    /// take them from the data. When given, the task is classification, label <c>k</c> is <c>ClassNames[k]</c>
    /// (<see cref="TabularData.Classes"/> is their count even if some are absent from the file), and a target value that
    /// is not one of them is refused, naming its line. Text matches by exact name. Numbers match by value ("1.0" is the
    /// class "1") when some names are numbers; when none is, a whole number k in 0..K-1 is class k, the way the bundled
    /// files store their named classes (iris's 0 is "setosa").
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// Reads a separator as a user types it on a command line: one character (",", ";", "|", ...), a tab character,
    /// or one of the words <c>tab</c>, <c>\t</c>, <c>comma</c>, <c>semicolon</c>, <c>pipe</c> (case-insensitive).
    /// </summary>
    /// <param name="text">The text given.</param>
    /// <returns>The separator, checked as <see cref="Separator"/> is.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException">The text is not one allowed separator; the message says what is.</exception>
    public static char ParseSeparator(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        char? sep = text.ToLowerInvariant() switch
        {
            "tab" or "\\t" or "\t" => '\t',
            "comma" => ',',
            "semicolon" => ';',
            "pipe" => '|',
            _ when text.Length == 1 => text[0],
            _ => null,
        };
        if (sep is not { } c || !IsAllowedSeparator(c))
        {
            throw new ArgumentException(
                $"The separator {DataText.Quote(text)} is not allowed; use one character such as ',', ';' or '|' (a visible ASCII character other than a double quote, letter, digit, '.', '+' or '-'), or 'tab'.",
                nameof(text));
        }

        return c;
    }

    /// <summary>Whether a character may separate fields.</summary>
    internal static bool IsAllowedSeparator(char s) =>
        s == '\t' || (s > ' ' && s < 127 && s != '"' && !char.IsAsciiLetterOrDigit(s) && s is not ('.' or '+' or '-'));
}
