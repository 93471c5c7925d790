using System.Globalization;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Thrown by the readers in <see cref="NeuralPure.Facade.Data"/> when a file or stream has malformed content;
/// the message always names the source and, where it applies, the line and column.
/// </summary>
/// <remarks>
/// The message starts with the source name, then the line and column when known, then the problem, for example
/// <c>iris.csv: line 17: expected 5 fields, found 4</c>. The same facts are available as properties for tools.
/// </remarks>
public sealed class DataFormatException : Exception
{
    private string? _source;

    /// <summary>Creates an exception with only a message.</summary>
    public DataFormatException()
        : this("The data is malformed.")
    {
    }

    /// <summary>Creates an exception with a complete message and no location.</summary>
    /// <param name="message">The complete message.</param>
    public DataFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a complete message, no location, and an inner exception.</summary>
    /// <param name="message">The complete message.</param>
    /// <param name="innerException">The exception that revealed the problem.</param>
    public DataFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception whose message is composed from the location and the problem.</summary>
    /// <param name="source">The file path or resource name, or null if unknown.</param>
    /// <param name="line">The 1-based line number, or null if not line-oriented.</param>
    /// <param name="column">The column name (or other position description), or null.</param>
    /// <param name="problem">What is wrong, e.g. "expected 5 fields, found 4".</param>
    /// <param name="innerException">The exception that revealed the problem, if any.</param>
    public DataFormatException(string? source, long? line, string? column, string problem, Exception? innerException = null)
        : this(source, line, column, null, problem, innerException)
    {
    }

    /// <summary>Creates an exception whose message is composed from the location (including a column number) and the problem.</summary>
    /// <param name="source">The file path or resource name, or null if unknown.</param>
    /// <param name="line">The 1-based line number, or null if not line-oriented.</param>
    /// <param name="column">The column name, or null.</param>
    /// <param name="columnNumber">The 1-based column number, or null.</param>
    /// <param name="problem">What is wrong, e.g. "cannot parse 'abc' as a number".</param>
    /// <param name="innerException">The exception that revealed the problem, if any.</param>
    public DataFormatException(string? source, long? line, string? column, int? columnNumber, string problem, Exception? innerException = null)
        : base(Compose(source, line, column, columnNumber, problem), innerException)
    {
        _source = source;
        Line = line;
        Column = column;
        ColumnNumber = columnNumber;
    }

    /// <summary>Gets or sets the file path or resource name the malformed data came from, or null if unknown.</summary>
    /// <remarks>This replaces <see cref="Exception.Source"/> (normally the throwing assembly's name) with the data source.</remarks>
    public override string? Source
    {
        get => _source;
        set => _source = value;
    }

    /// <summary>Gets the 1-based line number of the problem, or null if the format is not line-oriented.</summary>
    public long? Line { get; }

    /// <summary>Gets the name of the offending column, or null if the problem is not tied to one column.</summary>
    public string? Column { get; }

    /// <summary>Gets the 1-based number of the offending column, or null if the problem is not tied to one column.</summary>
    public int? ColumnNumber { get; }

    private static string Compose(string? source, long? line, string? column, int? columnNumber, string problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var prefix = new List<string>(3);
        if (!string.IsNullOrEmpty(source))
        {
            prefix.Add(source);
        }

        var where = new List<string>(2);
        if (line is { } l)
        {
            where.Add(string.Create(CultureInfo.InvariantCulture, $"line {l}"));
        }

        if (columnNumber is { } n)
        {
            where.Add(column is null
                ? string.Create(CultureInfo.InvariantCulture, $"column {n}")
                : string.Create(CultureInfo.InvariantCulture, $"column {n} ({DataText.Quote(column)})"));
        }
        else if (column is not null)
        {
            where.Add("column " + DataText.Quote(column));
        }

        if (where.Count > 0)
        {
            prefix.Add(string.Join(", ", where));
        }

        return prefix.Count == 0 ? problem : string.Join(": ", prefix) + ": " + problem;
    }
}
