using System.Globalization;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Thrown by the readers in <see cref="NeuralPure.Facade.Data"/> when a file or stream has malformed content;
/// the message always names the source and, where it applies, the line and column (text files) or the metadata key or
/// tensor (safetensors files: <see cref="InMetadata"/>, <see cref="InTensor"/>).
/// </summary>
/// <remarks>
/// The message starts with the source name, then the line and column when known, then the problem, for example
/// <c>iris.csv: line 17: expected 5 fields, found 4</c>, or <c>ck.safetensors: metadata key 'sha256': …</c>. The same facts
/// are available as properties for tools.
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

    /// <summary>Creates an exception for an entry of a safetensors file's metadata (a model file's or a checkpoint's): the message
    /// names the source and the key, <c>ck.safetensors: metadata key 'sha256': …</c>, not a column.</summary>
    /// <param name="source">The file path or resource name, or null if unknown.</param>
    /// <param name="key">The metadata key at fault.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The exception that revealed the problem, if any.</param>
    public static DataFormatException InMetadata(string? source, string key, string problem, Exception? innerException = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new DataFormatException(source, "metadata key " + DataText.Quote(key), problem, innerException) { MetadataKey = key };
    }

    /// <summary>Creates an exception for a tensor of a safetensors file: the message names the source and the tensor,
    /// <c>ck.safetensors: tensor 'history/epochs': …</c>, not a column.</summary>
    /// <param name="source">The file path or resource name, or null if unknown.</param>
    /// <param name="tensor">The name of the tensor at fault.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The exception that revealed the problem, if any.</param>
    public static DataFormatException InTensor(string? source, string tensor, string problem, Exception? innerException = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new DataFormatException(source, "tensor " + DataText.Quote(tensor), problem, innerException) { Tensor = tensor };
    }

    /// <summary>Creates an exception for a field of a JSON file (a run record's, a sweep manifest's): the message names the source
    /// and the field, <c>run.json: field 'format': …</c>, not a column.</summary>
    /// <param name="source">The file path or resource name, or null if unknown.</param>
    /// <param name="field">The JSON field at fault.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The exception that revealed the problem, if any.</param>
    public static DataFormatException InField(string? source, string field, string problem, Exception? innerException = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        return new DataFormatException(source, "field " + DataText.Quote(field), problem, innerException) { Field = field };
    }

    private DataFormatException(string? source, string where, string problem, Exception? innerException)
        : base(Compose(source, [where], problem), innerException)
    {
        _source = source;
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

    /// <summary>Gets the safetensors metadata key at fault (<see cref="InMetadata"/>), or null if the problem is not tied to one.</summary>
    public string? MetadataKey { get; private init; }

    /// <summary>Gets the name of the safetensors tensor at fault (<see cref="InTensor"/>), or null if the problem is not tied to one.</summary>
    public string? Tensor { get; private init; }

    /// <summary>Gets the JSON field at fault (<see cref="InField"/>), or null if the problem is not tied to one.</summary>
    public string? Field { get; private init; }

    private static string Compose(string? source, long? line, string? column, int? columnNumber, string problem)
    {
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

        return Compose(source, where, problem);
    }

    /// <summary>The message: the source, then the places (joined by ", "), then the problem, each part followed by ": ".</summary>
    private static string Compose(string? source, List<string> where, string problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var prefix = new List<string>(2);
        if (!string.IsNullOrEmpty(source))
        {
            prefix.Add(source);
        }

        if (where.Count > 0)
        {
            prefix.Add(string.Join(", ", where));
        }

        return prefix.Count == 0 ? problem : string.Join(": ", prefix) + ": " + problem;
    }
}
