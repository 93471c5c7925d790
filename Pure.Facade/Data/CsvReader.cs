using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Reads numeric CSV files into <see cref="TabularData"/>, streaming line by line so that memory use is about
/// the size of the numbers, never the size of the text.
/// </summary>
/// <remarks>
/// <para>Accepted input: UTF-8 text (an optional byte-order mark is skipped; a NUL byte or invalid UTF-8 in the first KB
/// means a binary file, refused as "not a text CSV file"); a header row of column names, unless
/// <see cref="CsvOptions.HasHeader"/> says or finds there is none; then one record per line, each with exactly as many
/// fields as the first line; LF or CRLF line ends; any number of empty lines at the very end. The separator is
/// <see cref="CsvOptions.Separator"/> or, by default, detected from the first lines. A field may be wrapped in double
/// quotes, which are removed (<c>""</c> inside quotes stands for one quote); quoted fields cannot span lines. Every
/// feature field must parse as a finite <see cref="double"/> with <see cref="CultureInfo.InvariantCulture"/> (surrounding
/// spaces allowed, no thousands separators); NaN and infinities are refused. The target field is a number or, unless the
/// task is regression, a text class label (trimmed); see <see cref="CsvOptions.Task"/> for how the task and the classes
/// are decided. Column names are trimmed, must be non-empty and unique.</para>
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
    /// <summary>A numeric target is inferred to be a class label only if every value is a whole number and there are at
    /// most this many distinct values (a text target is always a class label).</summary>
    public const int MaxInferredClasses = 100;

    /// <summary>The largest label <see cref="IdxData.FromIdx"/> accepts (<see cref="MaxClasses"/> − 1). CSV class labels are
    /// encoded from their distinct values, so their size does not matter, only their count.</summary>
    public const int MaxClassLabel = 65_535;

    /// <summary>The longest data field accepted, in bytes; no finite double needs more.</summary>
    public const int MaxFieldBytes = 1024;

    /// <summary>The longest column name accepted, in bytes.</summary>
    public const int MaxColumnNameBytes = 4096;

    /// <summary>The most columns accepted in the header, so a hostile header cannot cost many times its size in names.</summary>
    public const int MaxColumns = 1_000_000;

    /// <summary>The most distinct classes accepted (text labels, or numbers when the task is classification).</summary>
    public const int MaxClasses = 65_536;

    private const int ChunkSize = 64 * 1024;

    /// <summary>How much of the start of a file must be NUL-free valid UTF-8 for it to be read as text.</summary>
    private const int TextCheckBytes = 1024;

    /// <summary>How many non-empty lines at the start of a file are sampled for the separator and the header.</summary>
    private const int SniffLines = 20;

    /// <summary>The separators tried, in the order a tie would be broken if ties were broken (they are not: a tie is ',').</summary>
    private static readonly byte[] SeparatorCandidates = [(byte)',', (byte)';', (byte)'\t', (byte)'|'];

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
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            // The first chunk is read whole before parsing: it is checked for binary content and sampled for the separator
            // and the header, then parsed like every other chunk.
            int n = hashing.ReadAtLeast(buffer.AsSpan(0, ChunkSize), ChunkSize, throwOnEndOfStream: false);
            bool ended = n < ChunkSize;
            ReadOnlySpan<byte> first = buffer.AsSpan(0, n);
            int bom = first.StartsWith("\uFEFF"u8) ? 3 : 0;
            first = first[bom..];
            CheckText(first, ended, bom, sourceName);
            Layout layout = Sniff(first, ended, options);
            var parser = new Parser(sourceName, options, size, layout);
            parser.Feed(first);
            while ((n = hashing.Read(buffer, 0, ChunkSize)) > 0)
            {
                parser.Feed(buffer.AsSpan(0, n));
            }

            return parser.Finish(tableName, hashing.FinishHex());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Refuses a file whose first KB holds a NUL byte or invalid UTF-8: it is binary (gzip, an image, a workbook),
    /// and parsing it as text would only complain about line ends or numbers.</summary>
    private static void CheckText(ReadOnlySpan<byte> first, bool ended, int offset, string source)
    {
        ReadOnlySpan<byte> head = first[..Math.Min(first.Length, TextCheckBytes)];
        string? what = null;
        int nul = head.IndexOf((byte)0);
        if (nul >= 0)
        {
            what = Invariant($"byte {offset + nul + 1} is a NUL byte");
        }
        else
        {
            Span<char> chars = stackalloc char[TextCheckBytes];
            bool final = ended && head.Length == first.Length;
            if (Utf8.ToUtf16(head, chars, out int read, out _, replaceInvalidSequences: false, isFinalBlock: final) == OperationStatus.InvalidData)
            {
                what = Invariant($"byte {offset + read + 1} is not valid UTF-8");
            }
        }

        if (what is not null)
        {
            string kind = KindOf(offset == 0 ? first : []);
            throw new DataFormatException(
                source,
                null,
                null,
                $"the file is not a text CSV file: {what}{kind}; a CSV file must be UTF-8 text");
        }
    }

    /// <summary>Names a few common binary formats by their first bytes, for the not-text message.</summary>
    private static string KindOf(ReadOnlySpan<byte> start) =>
        start.StartsWith([(byte)0x1f, (byte)0x8b]) ? " (it starts like gzip-compressed data; decompress it first)"
        : start.StartsWith([(byte)0xFF, (byte)0xFE]) || start.StartsWith([(byte)0xFE, (byte)0xFF]) ? " (it starts like UTF-16 text; save it as UTF-8)"
        : start.StartsWith("PK\u0003\u0004"u8) ? " (it starts like a zip archive, which is what an .xlsx workbook is; export the sheet as CSV)"
        : start.StartsWith([(byte)0x89, (byte)'P', (byte)'N', (byte)'G']) ? " (it starts like a PNG image)"
        : start.StartsWith([(byte)0xFF, (byte)0xD8, (byte)0xFF]) ? " (it starts like a JPEG image)"
        : start.StartsWith("%PDF"u8) ? " (it starts like a PDF document)"
        : start.StartsWith([(byte)0, (byte)0, (byte)0x08]) ? " (it starts like an IDX file; load it as IDX images or labels)"
        : string.Empty;

    /// <summary>Decides the separator and whether there is a header, from the first lines of the first chunk (see
    /// <see cref="CsvOptions.Separator"/> and <see cref="CsvOptions.HasHeader"/>).</summary>
    private static Layout Sniff(ReadOnlySpan<byte> first, bool ended, CsvOptions options)
    {
        var lines = new List<byte[]>();
        ReadOnlySpan<byte> rest = first;
        while (lines.Count < SniffLines && !rest.IsEmpty)
        {
            int nl = rest.IndexOf((byte)'\n');
            if (nl < 0 && !ended && lines.Count > 0)
            {
                break; // an incomplete line: the chunk ends inside it (but a first line longer than the chunk is sampled as far as it goes)
            }

            ReadOnlySpan<byte> line = nl < 0 ? rest : rest[..nl];
            rest = nl < 0 ? [] : rest[(nl + 1)..];
            line = line.TrimEnd((byte)'\r');
            if (!line.IsEmpty)
            {
                lines.Add(line.ToArray());
            }
        }

        var notices = new List<string>();
        byte sep;
        bool guessed = false;
        if (options.Separator is { } given)
        {
            sep = (byte)given;
        }
        else
        {
            byte[] fits = [.. SeparatorCandidates.Where(c => lines.Count > 0 && CountUnquoted(lines[0], c) > 0 && lines.All(l => CountUnquoted(l, c) == CountUnquoted(lines[0], c)))];
            if (fits.Length == 0)
            {
                // No candidate is consistent over the sample (a ragged line?): trust the header line alone if it is clear.
                fits = [.. SeparatorCandidates.Where(c => lines.Count > 0 && CountUnquoted(lines[0], c) > 0)];
            }

            guessed = fits.Length != 1;
            sep = guessed ? (byte)',' : fits[0];
            if (!guessed && sep != (byte)',')
            {
                notices.Add($"the separator {SeparatorName(sep)} was detected from the first lines");
            }
        }

        bool hasHeader = options.HasHeader ?? GuessHeader(lines, sep, options, notices);
        return new Layout(sep, guessed, hasHeader, notices);
    }

    private static bool GuessHeader(List<byte[]> lines, byte sep, CsvOptions options, List<string> notices)
    {
        if (lines.Count == 0)
        {
            return true;
        }

        List<string> head = SplitSample(lines[0], sep);
        if (head.Count < 2 || (options.Target is { } name && head.Contains(name, StringComparer.Ordinal)))
        {
            // One column is an error either way, and it reads best as a header with one column (the separator is wrong).
            return true;
        }

        int[] text = [.. Enumerable.Range(0, head.Count).Where(i => !IsNumber(head[i]))];
        string? why = null;
        if (text.Length == 0)
        {
            why = "only numbers";
        }
        else if (text.Length == 1 && lines.Count > 1 && TargetIndex(options.Target, head.Count) is { } t && text[0] == t)
        {
            List<string> second = SplitSample(lines[1], sep);
            if (second.Count == head.Count && !IsNumber(second[t]) && second[t].Length > 0)
            {
                why = "numbers and, like the next line, a text target";
            }
        }

        if (why is null)
        {
            return true;
        }

        notices.Add(Invariant($"line 1 holds {why}, so it is read as data, not as column names; the columns are named column_1..column_{head.Count} (set HasHeader to true to read line 1 as a header)"));
        return false;
    }

    /// <summary>The 0-based index a target option names by 1-based number or as the default last column; null for a name.</summary>
    private static int? TargetIndex(string? target, int columns) =>
        target is null ? columns - 1
        : int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1 && k <= columns ? k - 1
        : null;

    private static bool IsNumber(string field) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v);

    private static int CountUnquoted(byte[] line, byte c)
    {
        int count = 0;
        bool quoted = false;
        foreach (byte b in line)
        {
            if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (b == c && !quoted)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Splits a sampled line into trimmed, unquoted fields (lossy UTF-8; only for guessing).</summary>
    private static List<string> SplitSample(byte[] line, byte sep)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        foreach (char ch in Encoding.UTF8.GetString(line))
        {
            if (ch == '"')
            {
                quoted = !quoted;
            }
            else if (ch == (char)sep && !quoted)
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(ch);
            }
        }

        fields.Add(field.ToString().Trim());
        return fields;
    }

    private static string SeparatorName(byte sep) => sep == (byte)'\t' ? "tab" : DataText.Quote(((char)sep).ToString());

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

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
        char s = options.Separator ?? ',';
        if (!CsvOptions.IsAllowedSeparator(s))
        {
            throw new ArgumentException(
                $"The separator {DataText.Quote(s.ToString())} is not allowed; use a tab or a visible ASCII character other than a double quote, letter, digit, '.', '+' or '-'.",
                nameof(options));
        }

        if (options.Task is { } t && !Enum.IsDefined(t))
        {
            throw new ArgumentException($"Unknown task kind {t}.", nameof(options));
        }

        if (options.ClassNames is { } names)
        {
            if (options.Task == TaskKind.Regression)
            {
                throw new ArgumentException("Class names were given but the task is regression.", nameof(options));
            }

            if (names.Count == 0 || names.Count > MaxClasses || names.Any(n => n is null) || names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            {
                throw new ArgumentException(Invariant($"The class names must be 1 to {MaxClasses} distinct non-null strings."), nameof(options));
            }
        }
    }

    /// <summary>The invariant-culture text naming a numeric class: whole numbers in full ("70", "-1"), others round-trip.</summary>
    internal static string NumberName(double v)
    {
        v += 0.0; // -0 names the class "0"
        return v == Math.Floor(v) ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>What <see cref="Sniff"/> decided before parsing.</summary>
    private sealed record Layout(byte Separator, bool SeparatorGuessed, bool HasHeader, List<string> Notices);

    /// <summary>One bit per row, in chunks: whether the row's target was text.</summary>
    private sealed class BitList
    {
        private readonly List<ulong> _words = [];
        private long _count;

        public void Add(bool bit)
        {
            if ((_count & 63) == 0)
            {
                _words.Add(0);
            }

            if (bit)
            {
                _words[^1] |= 1UL << (int)(_count & 63);
            }

            _count++;
        }

        public bool this[long i] => (_words[(int)(i >> 6)] & (1UL << (int)(i & 63))) != 0;
    }

    /// <summary>The byte-level state machine; one instance per parse.</summary>
    private sealed class Parser
    {
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private readonly string _source;
        private readonly CsvOptions _options;
        private readonly byte _sep;
        private readonly Layout _layout;
        private readonly SearchValues<byte> _special;
        private readonly List<string> _header = [];
        private readonly (long Lines, long Bytes)? _size;
        private readonly BitList _textRows = new();
        private readonly Dictionary<string, int> _texts = new(StringComparer.Ordinal);
        private readonly List<string> _textList = [];
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
        private bool _rowIsText;
        private bool _anyNumericTarget;
        private long _firstTextLine;
        private int _rows;
        private bool _classify;

        public Parser(string source, CsvOptions options, (long Lines, long Bytes)? size, Layout layout)
        {
            _size = size;
            _source = source;
            _options = options;
            _layout = layout;
            _sep = layout.Separator;
            _classify = options.Task == TaskKind.Classification || options.ClassNames is not null;
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

            ImmutableArray<double> y = _y.ToImmutable();
            double[] ys = ImmutableCollectionsMarshal.AsArray(y)!;
            bool anyText = _textList.Count > 0;
            TaskKind task = anyText || _classify ? TaskKind.Classification : _options.Task ?? InferNumeric(ys);
            ImmutableArray<string> classNames = task == TaskKind.Classification ? Encode(ys) : [];
            if (anyText && _anyNumericTarget && _options.Task is null && _options.ClassNames is null)
            {
                // Probably a numeric column with a few missing-value markers ("?", "n/a"): say why it became classes.
                _layout.Notices.Add(Invariant($"the target column {DataText.Quote(_header[_target])} holds numbers and text (the first text, {DataText.Quote(_textList[0])}, on line {_firstTextLine}), so every value is read as a text class label; give the task regression to have the text refused"));
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
                classNames.Length,
                sha256,
                classNames)
            {
                Notices = [.. _layout.Notices],
            };
        }

        /// <summary>Classification for whole numbers with at most <see cref="MaxInferredClasses"/> distinct values.</summary>
        private static TaskKind InferNumeric(double[] ys)
        {
            var distinct = new HashSet<double>();
            foreach (double v in ys)
            {
                if (v != Math.Floor(v) || (distinct.Add(v + 0.0) && distinct.Count > MaxInferredClasses))
                {
                    return TaskKind.Regression;
                }
            }

            return TaskKind.Classification;
        }

        /// <summary>Replaces every target by its label (its class's index) and returns the class names in label order.
        /// On entry a number row holds its number and a text row the index of its text in <see cref="_textList"/>.</summary>
        private ImmutableArray<string> Encode(double[] ys)
        {
            bool anyText = _textList.Count > 0;
            string[] names;
            if (_options.ClassNames is { } given)
            {
                names = [.. given];
            }
            else if (!anyText)
            {
                // Numbers only: sorted numerically, as LabelEncoder sorts a numeric column.
                var distinct = new HashSet<double>();
                for (int i = 0; i < ys.Length; i++)
                {
                    if (distinct.Add(ys[i] + 0.0) && distinct.Count > MaxClasses)
                    {
                        throw TooManyClasses(i);
                    }
                }

                double[] sorted = [.. distinct];
                Array.Sort(sorted);
                names = [.. sorted.Select(NumberName)];
            }
            else
            {
                // Text (and perhaps numbers, named by their text): sorted ordinally, as LabelEncoder sorts strings.
                var distinct = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < ys.Length; i++)
                {
                    if (distinct.Add(NameOf(ys, i)) && distinct.Count > MaxClasses)
                    {
                        throw TooManyClasses(i);
                    }
                }

                names = [.. distinct];
                Array.Sort(names, StringComparer.Ordinal);
            }

            // The classes found in the data are matched by name (so numbers in a text column, named by NumberName, match
            // too); given classes by the ClassMatcher's rules.
            var matcher = new ClassMatcher(names);
            bool byName = anyText && _options.ClassNames is null;
            for (int i = 0; i < ys.Length; i++)
            {
                int k;
                bool found = _textRows[i]
                    ? matcher.TryText(_textList[(int)ys[i]], out k)
                    : byName ? matcher.TryText(NumberName(ys[i]), out k) : matcher.TryNumber(ys[i], out k);
                if (!found)
                {
                    throw Error(
                        LineOf(i),
                        _target + 1,
                        _header[_target],
                        $"the class label {DataText.Quote(NameOf(ys, i))} is not one of the {matcher.Describe()}");
                }

                ys[i] = k;
            }

            return ImmutableCollectionsMarshal.AsImmutableArray(names);
        }

        private string NameOf(double[] ys, int row) => _textRows[row] ? _textList[(int)ys[row]] : NumberName(ys[row]);

        private long LineOf(int row) => row + (_layout.HasHeader ? 2L : 1L);

        private DataFormatException TooManyClasses(int row) =>
            Error(LineOf(row), _target + 1, _header[_target], Invariant($"the target has more than {MaxClasses} distinct class labels (this row brings one too many)"));

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
                    throw Error(_line, _fieldCount + 1, null, _layout.HasHeader ? "the column name is not valid UTF-8" : "the field is not valid UTF-8", ex);
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
                _row[_fieldCount] = _fieldCount == _target ? ParseTarget(text) : ParseNumber(text, _fieldCount);
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

        /// <summary>Parses the target field: a number, or (unless the task is regression) a text label, whose index in
        /// <see cref="_textList"/> is returned with <see cref="_rowIsText"/> set.</summary>
        private double ParseTarget(ReadOnlySpan<byte> text)
        {
            _rowIsText = false;
            ReadOnlySpan<byte> trimmed = text.Trim(" \t"u8);
            string column = _header[_target];
            if (trimmed.IsEmpty)
            {
                _rowError = Error(_line, _target + 1, column, "the target is empty; every row needs a target value");
                return 0;
            }

            if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))
            {
                if (_classify && v != Math.Floor(v))
                {
                    _rowError = Error(
                        _line,
                        _target + 1,
                        column,
                        $"the class label {DataText.Quote(trimmed)} is not a whole number; with the task classification a numeric target must hold whole numbers (a fractional target is a regression target)");
                }

                _anyNumericTarget = true;
                return v;
            }

            string lower = Encoding.UTF8.GetString(trimmed[..Math.Min(trimmed.Length, 32)]).ToLowerInvariant().TrimStart('+', '-');
            if (lower is "nan" or "inf" or "infinity" or "∞" || double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return ParseNumber(text, _target); // a non-finite or overflowing number: refused as in any column
            }

            if (_options.Task == TaskKind.Regression)
            {
                _rowError = Error(
                    _line,
                    _target + 1,
                    column,
                    $"the target {DataText.Quote(trimmed)} is not a number; a regression target must be numeric (text targets are class labels: use the task classification)");
                return 0;
            }

            Span<char> chars = trimmed.Length <= MaxFieldBytes ? stackalloc char[MaxFieldBytes] : new char[trimmed.Length];
            if (Utf8.ToUtf16(trimmed, chars, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                _rowError = Error(_line, _target + 1, column, "the class label is not valid UTF-8");
                return 0;
            }

            var lookup = _texts.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(chars[..written], out int id))
            {
                if (_texts.Count == MaxClasses)
                {
                    _rowError = Error(_line, _target + 1, column, Invariant($"the target has more than {MaxClasses} distinct class labels (this row brings one too many)"));
                    return 0;
                }

                string label = new(chars[..written]);
                id = _textList.Count;
                _texts.Add(label, id);
                _textList.Add(label);
            }

            _rowIsText = true;
            if (_firstTextLine == 0)
            {
                _firstTextLine = _line;
            }

            return id;
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
                _rowIsText = false;
            }
        }

        private void FinishHeader()
        {
            _columns = _header.Count;
            if (!_layout.HasHeader)
            {
                FinishFirstDataRow();
                return;
            }

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

            CheckColumnCount();
            _target = ResolveTarget(seen);
            StartRows(_size is { } size ? size.Lines - 1 : 0);
        }

        /// <summary>Without a header, line 1 was collected as text like a header: name the columns and parse it as a row.</summary>
        private void FinishFirstDataRow()
        {
            CheckColumnCount();
            string[] values = [.. _header];
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            _header.Clear();
            for (int c = 0; c < _columns; c++)
            {
                string name = Invariant($"column_{c + 1}");
                _header.Add(name);
                seen.Add(name, c);
            }

            _target = ResolveTarget(seen);
            StartRows(_size is { } size ? size.Lines : 0);
            _lineHasContent = true;
            for (int c = 0; c < _columns && _rowError is null; c++)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(values[c]);
                _row[c] = c == _target ? ParseTarget(bytes) : ParseNumber(bytes, c);
            }

            if (_rowError is not null)
            {
                throw _rowError;
            }

            AddRow();
        }

        private void CheckColumnCount()
        {
            if (_columns < 2)
            {
                string what = _layout.HasHeader ? "the header has" : "the file has";
                string hint = _layout.SeparatorGuessed
                    ? " (no separator was given and none of ',', ';', tab or '|' splits the first lines consistently, so ',' was tried; give the separator, e.g. --separator ';')"
                    : string.Empty;
                throw Error(1, Invariant($"{what} {_columns} column; at least one feature column and one target column are needed{hint}"));
            }

            if ((long)(_columns - 1) > Array.MaxLength)
            {
                throw Error(1, "too many columns");
            }
        }

        private int ResolveTarget(Dictionary<string, int> seen)
        {
            string? target = _options.Target;
            if (target is null)
            {
                return _columns - 1;
            }

            if (seen.TryGetValue(target, out int index))
            {
                return index;
            }

            if (TargetIndex(target, _columns) is { } number)
            {
                return number;
            }

            string? caseMatch = _header.FirstOrDefault(h => string.Equals(h, target, StringComparison.OrdinalIgnoreCase));
            string hint = caseMatch is null ? string.Empty : $" (names are case-sensitive; did you mean {DataText.Quote(caseMatch)}?)";
            string noHeader = _layout.HasHeader ? string.Empty : " (the file has no header row)";
            throw Error(1, Invariant($"the target column {DataText.Quote(target)} does not exist{hint}; give a name or a 1-based column number from 1 to {_columns}; the columns are{noHeader}: {DataText.List(_header)}"));
        }

        private void StartRows(long rows)
        {
            _row = new double[_columns];
            _headerDone = true;

            // Every line with content after the header is a row in a valid file, so the arrays can be made exactly. A row needs
            // at least two bytes per field (a character and a separator or line end), so this never allocates more than 4 bytes
            // per byte really present, whatever the lines hold; a file that is not valid fails as it would have anyway.
            if (_size is { } size && rows > 0)
            {
                long features = _columns - 1;
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
            for (int c = 0; c < _columns; c++)
            {
                if (c != _target)
                {
                    _x.Add(_row[c]);
                }
            }

            _y.Add(label);
            _textRows.Add(_rowIsText);
            _rowIsText = false;
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
