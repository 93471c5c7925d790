using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Reads numeric CSV files into <see cref="TabularData"/>, streaming line by line so that memory use is about
/// the size of the numbers, never the size of the text.
/// </summary>
/// <remarks>
/// <para>Accepted input: UTF-8 (an optional byte-order mark is skipped); a header row of column names; then one
/// record per line, each with exactly as many fields as the header; LF or CRLF line ends; any number of empty lines
/// at the very end. A field may be wrapped in double quotes, which are removed (<c>""</c> inside quotes stands for one
/// quote); quoted fields cannot span lines. Every data field must parse as a finite <see cref="double"/> with
/// <see cref="CultureInfo.InvariantCulture"/> (surrounding spaces allowed, no thousands separators); NaN and
/// infinities are refused. Column names are trimmed, must be non-empty and unique.</para>
/// <para>Every problem is reported as a <see cref="DataFormatException"/> naming the source, the 1-based line and,
/// where it applies, the column's 1-based number and name, and quoting the offending text.</para>
/// <para><see cref="TabularData.Sha256"/> is the SHA-256 of every byte read from the stream (from its position when
/// passed in to its end), computed while reading.</para>
/// <para>Memory: a seekable stream (a file) is first scanned for its line count, so the numbers are parsed straight into
/// arrays of their final size (peak about 1× the numbers: 1.0× measured on a 1 GB file, see fuzz/README.md); an unseekable
/// one is parsed into 64 KB chunks copied once into the final arrays at the end (peak about 2×).</para>
/// </remarks>
public static class CsvReader
{
    /// <summary>The task is inferred as classification only if every target is a whole number in 0..MaxInferredClasses-1.</summary>
    public const int MaxInferredClasses = 100;

    /// <summary>The largest class label accepted when the task is classification (so <c>Classes</c> ≤ 65536).</summary>
    public const int MaxClassLabel = 65_535;

    /// <summary>The longest data field accepted, in bytes; no finite double needs more.</summary>
    public const int MaxFieldBytes = 1024;

    /// <summary>The longest column name accepted, in bytes.</summary>
    public const int MaxColumnNameBytes = 4096;

    /// <summary>The most columns accepted in the header, so a hostile header cannot cost many times its size in names.</summary>
    public const int MaxColumns = 1_000_000;

    private const int ChunkSize = 64 * 1024;

    /// <summary>Loads a CSV file.</summary>
    /// <param name="path">The file's path; it is also the source named in error messages.</param>
    /// <param name="options">The options, or null for <see cref="CsvOptions.Default"/>.</param>
    /// <returns>The table, named after the file (without extension).</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the separator is not allowed.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">The file's directory does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">The content is malformed; the message names the line and column.</exception>
    public static TabularData Load(string path, CsvOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ValidateOptions(options ?? CsvOptions.Default);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return Parse(stream, path, Path.GetFileNameWithoutExtension(path), options);
    }

    /// <summary>Parses CSV text from a stream, reading it to the end; the stream is left open.</summary>
    /// <param name="stream">A readable stream positioned at the first byte of the CSV text.</param>
    /// <param name="sourceName">The file path or resource name to name in error messages; also the table's name.</param>
    /// <param name="options">The options, or null for <see cref="CsvOptions.Default"/>.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is null.</exception>
    /// <exception cref="ArgumentException">The stream is not readable, or the separator is not allowed.</exception>
    /// <exception cref="IOException">Reading the stream fails.</exception>
    /// <exception cref="DataFormatException">The content is malformed; the message names the line and column.</exception>
    public static TabularData Parse(Stream stream, string sourceName, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        return Parse(stream, sourceName, sourceName, options);
    }

    /// <summary>Parses CSV text from a stream, with a table name distinct from the source named in errors.</summary>
    internal static TabularData Parse(Stream stream, string sourceName, string tableName, CsvOptions? options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        ArgumentNullException.ThrowIfNull(tableName);
        options ??= CsvOptions.Default;
        ValidateOptions(options);

        // A seekable stream (a file) is counted first, so the numbers go straight into arrays of their final size: the peak is
        // then about 1× the numbers instead of 2× (chunks, then the exact copy). The count is of the bytes really present.
        var size = stream.CanSeek ? CountContentLines(stream) : null;
        using var hashing = new HashingStream(stream, leaveOpen: true);
        var parser = new Parser(sourceName, options, size);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            int n = hashing.ReadAtLeast(buffer.AsSpan(0, ChunkSize), 3, throwOnEndOfStream: false);
            ReadOnlySpan<byte> first = buffer.AsSpan(0, n);
            if (first.StartsWith("\uFEFF"u8))
            {
                first = first[3..];
            }

            parser.Feed(first);
            while ((n = hashing.Read(buffer, 0, ChunkSize)) > 0)
            {
                parser.Feed(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return parser.Finish(tableName, hashing.FinishHex());
    }

    /// <summary>Lines holding anything but a CR, and bytes, from the stream's position to its end; the position is restored.
    /// Null when the stream cannot seek after all.</summary>
    private static (long Lines, long Bytes)? CountContentLines(Stream stream)
    {
        long start;
        try
        {
            start = stream.Position;
        }
        catch (NotSupportedException)
        {
            return null;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        long lines = 0, bytes = 0;
        bool content = false;
        try
        {
            int n;
            while ((n = stream.Read(buffer, 0, ChunkSize)) > 0)
            {
                bytes += n;
                ReadOnlySpan<byte> rest = buffer.AsSpan(0, n);
                while (!rest.IsEmpty)
                {
                    int nl = rest.IndexOf((byte)'\n');
                    ReadOnlySpan<byte> piece = nl < 0 ? rest : rest[..nl];
                    content |= piece.IndexOfAnyExcept((byte)'\r') >= 0;
                    if (nl < 0)
                    {
                        break;
                    }

                    if (content)
                    {
                        lines++;
                    }

                    content = false;
                    rest = rest[(nl + 1)..];
                }
            }

            if (content)
            {
                lines++;
            }

            stream.Position = start;
        }
        catch (NotSupportedException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return (lines, bytes);
    }

    private static void ValidateOptions(CsvOptions options)
    {
        char s = options.Separator;
        bool ok = s == '\t' || (s > ' ' && s < 127 && s != '"' && !char.IsAsciiLetterOrDigit(s) && s is not ('.' or '+' or '-'));
        if (!ok)
        {
            throw new ArgumentException(
                $"The separator {DataText.Quote(s.ToString())} is not allowed; use a tab or a visible ASCII character other than a double quote, letter, digit, '.', '+' or '-'.",
                nameof(options));
        }

        if (options.Task is { } t && !Enum.IsDefined(t))
        {
            throw new ArgumentException($"Unknown task kind {t}.", nameof(options));
        }
    }

    /// <summary>The byte-level state machine; one instance per parse.</summary>
    private sealed class Parser
    {
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly string _source;
        private readonly CsvOptions _options;
        private readonly byte _sep;
        private readonly SearchValues<byte> _special;
        private readonly List<string> _header = [];
        private readonly (long Lines, long Bytes)? _size;
        private DoubleBuffer _x = new();
        private DoubleBuffer _y = new();

        private byte[] _field = new byte[64];
        private int _fieldLen;
        private QuoteState _quote;
        private bool _fieldQuoted;
        private bool _pendingCr;
        private bool _lineHasContent;
        private int _fieldCount;
        private long _line = 1;
        private long _firstBlankLine;

        private bool _headerDone;
        private int _columns;
        private int _target;
        private double[] _row = [];
        private DataFormatException? _rowError;
        private int _rows;
        private bool _inferClassification = true;
        private double _maxLabel = -1;

        public Parser(string source, CsvOptions options, (long Lines, long Bytes)? size)
        {
            _size = size;
            _source = source;
            _options = options;
            _sep = (byte)options.Separator;
            _special = SearchValues.Create([_sep, (byte)'\n', (byte)'\r', (byte)'"']);
        }

        private enum QuoteState
        {
            Unquoted,
            InQuotes,
            QuoteInQuotes,
        }

        private int FieldLimit => _headerDone ? MaxFieldBytes : MaxColumnNameBytes;

        public void Feed(ReadOnlySpan<byte> data)
        {
            int i = 0;
            while (i < data.Length)
            {
                if (_quote == QuoteState.Unquoted && !_pendingCr)
                {
                    // Fast path: copy the run of ordinary bytes up to the next special one.
                    int run = data[i..].IndexOfAny(_special);
                    int len = run < 0 ? data.Length - i : run;
                    if (len > 0)
                    {
                        Append(data.Slice(i, len));
                        _lineHasContent = true;
                        i += len;
                        continue;
                    }
                }

                Step(data[i]);
                i++;
            }
        }

        public TabularData Finish(string tableName, string sha256)
        {
            if (_pendingCr)
            {
                throw Error(_line, "the file ends with a carriage return (CR) that is not followed by a line feed (LF)");
            }

            if (_quote == QuoteState.InQuotes)
            {
                throw Error(_line, "the last field has an opening double quote but no closing one");
            }

            if (_lineHasContent)
            {
                EndField();
                EndLine();
            }

            if (!_headerDone)
            {
                throw Error(null, "the file is empty; a header row of column names is required");
            }

            if (_rows == 0)
            {
                throw Error(null, "the file has a header row but no data rows");
            }

            TaskKind task = _options.Task ?? (_inferClassification ? TaskKind.Classification : TaskKind.Regression);
            ImmutableArray<double> y = _y.ToImmutable();
            int classes = 0;
            if (task == TaskKind.Classification)
            {
                classes = (int)_maxLabel + 1;
                var ys = ImmutableCollectionsMarshal.AsArray(y)!;
                for (int i = 0; i < ys.Length; i++)
                {
                    ys[i] = (int)ys[i]; // turns -0 into 0
                }
            }

            var names = new string[_columns - 1];
            for (int c = 0, k = 0; c < _columns; c++)
            {
                if (c != _target)
                {
                    names[k++] = _header[c];
                }
            }

            return new TabularData(
                tableName,
                ImmutableCollectionsMarshal.AsImmutableArray(names),
                _header[_target],
                task,
                _rows,
                _columns - 1,
                _x.ToImmutable(),
                y,
                classes,
                sha256);
        }

        private void Step(byte b)
        {
            if (_pendingCr)
            {
                if (b != (byte)'\n')
                {
                    throw Error(_line, "carriage return (CR) not followed by a line feed (LF); only LF and CRLF line ends are supported");
                }

                _pendingCr = false;
            }

            if (b == (byte)'\r')
            {
                _pendingCr = true;
                return;
            }

            if (b == (byte)'\n')
            {
                if (_quote == QuoteState.InQuotes)
                {
                    throw FieldError("a quoted field is not closed before the end of the line (quoted fields cannot span lines)");
                }

                EndField();
                EndLine();
                return;
            }

            _lineHasContent = true;
            switch (_quote)
            {
                case QuoteState.InQuotes:
                    if (b == (byte)'"')
                    {
                        _quote = QuoteState.QuoteInQuotes;
                    }
                    else
                    {
                        Append(b);
                    }

                    break;

                case QuoteState.QuoteInQuotes:
                    if (b == (byte)'"')
                    {
                        Append(b);
                        _quote = QuoteState.InQuotes;
                    }
                    else if (b == _sep)
                    {
                        EndField();
                    }
                    else
                    {
                        throw FieldError($"unexpected {DataText.Quote(((char)b).ToString())} after the closing double quote of a quoted field");
                    }

                    break;

                default:
                    if (b == _sep)
                    {
                        EndField();
                    }
                    else if (b == (byte)'"' && _fieldLen == 0 && !_fieldQuoted)
                    {
                        _quote = QuoteState.InQuotes;
                        _fieldQuoted = true;
                    }
                    else
                    {
                        Append(b);
                    }

                    break;
            }
        }

        private void Append(byte b) => Append(new ReadOnlySpan<byte>(in b));

        private void Append(ReadOnlySpan<byte> bytes)
        {
            if (_fieldCount >= _columns && _headerDone)
            {
                return; // surplus field on a data line: only counted, never stored
            }

            int needed = _fieldLen + bytes.Length;
            if (needed > FieldLimit)
            {
                throw _headerDone
                    ? FieldError($"the field is longer than {MaxFieldBytes} bytes, which no number needs")
                    : Error(_line, _fieldCount + 1, null, $"the column name is longer than {MaxColumnNameBytes} bytes");
            }

            if (needed > _field.Length)
            {
                Array.Resize(ref _field, Math.Min(Math.Max(needed, _field.Length * 2), FieldLimit));
            }

            bytes.CopyTo(_field.AsSpan(_fieldLen));
            _fieldLen = needed;
        }

        private void EndField()
        {
            if (_quote == QuoteState.InQuotes)
            {
                throw FieldError("a quoted field is not closed");
            }

            ReadOnlySpan<byte> text = _field.AsSpan(0, _fieldLen);
            if (!_headerDone)
            {
                string name;
                try
                {
                    name = StrictUtf8.GetString(text).Trim();
                }
                catch (DecoderFallbackException ex)
                {
                    throw Error(_line, _fieldCount + 1, null, "the column name is not valid UTF-8", ex);
                }

                if (_header.Count == MaxColumns)
                {
                    throw Error(_line, Invariant($"the header has more than {MaxColumns} columns"));
                }

                _header.Add(name);
            }
            else if (_fieldCount < _columns && _rowError is null && _lineHasContent)
            {
                // A line with no content at all is a blank line, which EndLine accepts (at the end) or reports itself. Parsing its
                // one "empty field" would build a DataFormatException per blank line only to drop it: fuzzing found a file of
                // newlines allocating ~450 bytes per byte read.
                _row[_fieldCount] = ParseNumber(text, _fieldCount);
            }

            _fieldCount++;
            _fieldLen = 0;
            _fieldQuoted = false;
            _quote = QuoteState.Unquoted;
        }

        private double ParseNumber(ReadOnlySpan<byte> text, int column)
        {
            if (text.Trim((byte)' ').IsEmpty)
            {
                _rowError = Error(_line, column + 1, _header[column], "the field is empty; every field must be a number");
                return 0;
            }

            bool parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v);
            if (parsed && double.IsFinite(v))
            {
                return v;
            }

            string shown = DataText.Quote(text);
            string lower = Encoding.UTF8.GetString(text[..Math.Min(text.Length, 32)]).Trim().ToLowerInvariant().TrimStart('+', '-');
            bool nonFiniteWord = lower is "nan" or "inf" or "infinity" or "∞" || (parsed && lower.Any(c => c is 'n' or 'i' or '∞'));
            string problem = nonFiniteWord
                ? $"the value {shown} is not finite; NaN and infinities are not allowed"
                : parsed
                    ? $"the value {shown} is outside the range of a double"
                    : $"cannot parse {shown} as a number (expected an invariant-culture number such as 1.5 or -2e-3)";
            _rowError = Error(_line, column + 1, _header[column], problem);
            return 0;
        }

        private void EndLine()
        {
            long line = _line;
            bool empty = !_lineHasContent && _fieldCount <= 1 && _fieldLen == 0;
            try
            {
                if (empty)
                {
                    if (!_headerDone)
                    {
                        throw Error(line, "the header row is empty; the first line must hold the column names");
                    }

                    if (_firstBlankLine == 0)
                    {
                        _firstBlankLine = line;
                    }

                    return;
                }

                if (_firstBlankLine != 0)
                {
                    throw Error(_firstBlankLine, Invariant($"expected {_columns} fields, found an empty line (empty lines are allowed only at the end of the file)"));
                }

                if (!_headerDone)
                {
                    FinishHeader();
                    return;
                }

                if (_fieldCount != _columns)
                {
                    throw Error(line, Invariant($"expected {_columns} fields, found {_fieldCount}"));
                }

                if (_rowError is not null)
                {
                    throw _rowError;
                }

                AddRow();
            }
            finally
            {
                _line++;
                _fieldCount = 0;
                _fieldLen = 0;
                _fieldQuoted = false;
                _quote = QuoteState.Unquoted;
                _lineHasContent = false;
                _rowError = null;
            }
        }

        private void FinishHeader()
        {
            _columns = _header.Count;
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int c = 0; c < _header.Count; c++)
            {
                string name = _header[c];
                if (name.Length == 0)
                {
                    throw Error(1, c + 1, null, "the column name is empty; every column needs a name");
                }

                if (!seen.TryAdd(name, c))
                {
                    throw Error(1, c + 1, name, Invariant($"duplicate column name; column {seen[name] + 1} has the same name"));
                }
            }

            if (_columns < 2)
            {
                throw Error(1, Invariant($"the header has {_columns} column; at least one feature column and one target column are needed"));
            }

            if (_options.Target is null)
            {
                _target = _columns - 1;
            }
            else if (!seen.TryGetValue(_options.Target, out _target))
            {
                string? caseMatch = _header.FirstOrDefault(h => string.Equals(h, _options.Target, StringComparison.OrdinalIgnoreCase));
                string hint = caseMatch is null ? string.Empty : $" (names are case-sensitive; did you mean {DataText.Quote(caseMatch)}?)";
                throw Error(1, $"the target column {DataText.Quote(_options.Target)} does not exist{hint}; the columns are: {DataText.List(_header)}");
            }

            if ((long)(_columns - 1) > Array.MaxLength)
            {
                throw Error(1, "too many columns");
            }

            _row = new double[_columns];
            _headerDone = true;

            // Every line with content after the header is a row in a valid file, so the arrays can be made exactly. A row needs
            // at least two bytes per field (a character and a separator or line end), so this never allocates more than 4 bytes
            // per byte really present, whatever the lines hold; a file that is not valid fails as it would have anyway.
            if (_size is { } size && size.Lines > 1)
            {
                long rows = size.Lines - 1, features = _columns - 1;
                if (rows * _columns <= size.Bytes / 2 && rows * features <= Array.MaxLength && rows <= int.MaxValue)
                {
                    _x = new DoubleBuffer(rows * features);
                    _y = new DoubleBuffer(rows);
                }
            }
        }

        private void AddRow()
        {
            if (_rows == int.MaxValue || (long)(_rows + 1) * (_columns - 1) > Array.MaxLength)
            {
                throw Error(_line, "the table is too large to hold in memory (more than 2^31 values)");
            }

            double label = _row[_target];
            if (_options.Task == TaskKind.Classification)
            {
                if (label < 0 || label != Math.Floor(label) || label > MaxClassLabel)
                {
                    throw Error(
                        _line,
                        _target + 1,
                        _header[_target],
                        Invariant($"the class label {label.ToString("R", CultureInfo.InvariantCulture)} is not a whole number from 0 to {MaxClassLabel}"));
                }
            }
            else if (_inferClassification && (label < 0 || label != Math.Floor(label) || label > MaxInferredClasses - 1))
            {
                _inferClassification = false;
            }

            _maxLabel = Math.Max(_maxLabel, label);
            for (int c = 0; c < _columns; c++)
            {
                if (c != _target)
                {
                    _x.Add(_row[c]);
                }
            }

            _y.Add(label);
            _rows++;
        }

        private DataFormatException FieldError(string problem)
        {
            bool named = _headerDone && _fieldCount < _columns;
            return Error(_line, _fieldCount + 1, named ? _header[_fieldCount] : null, problem);
        }

        private DataFormatException Error(long? line, string problem) => new(_source, line, null, problem);

        private DataFormatException Error(long line, int column, string? name, string problem, Exception? inner = null) =>
            new(_source, line, name, column, problem, inner);

        private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A growable list of doubles kept in fixed-size chunks, so growing never copies and the peak cost of
    /// <see cref="ToImmutable"/> is the chunks plus one exact-size array (about twice the numbers, never more); or, when the
    /// count is known in advance, one array of exactly that size, handed out without a copy (about once the numbers).
    /// </summary>
    private sealed class DoubleBuffer
    {
        private const int ChunkLength = 8192; // 64 KB: below the large-object threshold
        private readonly List<double[]> _chunks = [];
        private double[] _current = [];
        private int _used;
        private double[]? _exact;
        private long _exactUsed;

        public DoubleBuffer()
        {
        }

        /// <summary>A buffer for <paramref name="exact"/> values; more still fit (in chunks after them) if the count was short.</summary>
        public DoubleBuffer(long exact)
        {
            _exact = new double[exact];
        }

        public long Count => _exactUsed + ((long)_chunks.Count * ChunkLength) + _used;

        public void Add(double value)
        {
            if (_exact is not null && _exactUsed < _exact.Length)
            {
                _exact[_exactUsed++] = value;
                return;
            }

            if (_used == _current.Length)
            {
                if (_current.Length > 0)
                {
                    _chunks.Add(_current);
                }

                _current = new double[ChunkLength];
                _used = 0;
            }

            _current[_used++] = value;
        }

        public ImmutableArray<double> ToImmutable()
        {
            double[] result;
            if (_exact is not null && _exactUsed == _exact.Length && _chunks.Count == 0 && _used == 0)
            {
                result = _exact;
            }
            else
            {
                result = new double[Count];
                int offset = 0;
                if (_exact is not null)
                {
                    Array.Copy(_exact, result, _exactUsed);
                    offset = (int)_exactUsed;
                }

                foreach (double[] chunk in _chunks)
                {
                    chunk.CopyTo(result, offset);
                    offset += ChunkLength;
                }

                _current.AsSpan(0, _used).CopyTo(result.AsSpan(offset));
            }

            _exact = null;
            _exactUsed = 0;
            _chunks.Clear();
            _current = [];
            _used = 0;
            return ImmutableCollectionsMarshal.AsImmutableArray(result);
        }
    }
}
