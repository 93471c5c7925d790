using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors) for F32 and F64 tensors,
/// validating untrusted files as strictly as the reference implementation.
/// </summary>
/// <remarks>
/// <para>Layout: an 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON
/// <c>{"__metadata__": {string: string}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}</c>
/// padded with spaces to a multiple of 8; then the little-endian data buffer, which the tensors' byte ranges
/// (relative to its start) must cover exactly, without gaps or overlaps.</para>
/// <para>Writing lays the tensors out contiguously in the order given and writes <c>__metadata__</c> first (omitted
/// when empty) with its keys in ordinal order. Reading returns the tensors in the order of their data; for files
/// written here that is the order they were given. F32 values are rounded to float when written (see
/// <see cref="NamedTensor"/>); NaN and infinities are stored and loaded as they are.</para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The reserved header key holding string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private const int ChunkBytes = 64 * 1024;

    /// <summary>Writes a safetensors file atomically: either the whole new file replaces the target, or nothing changes.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="file">The content.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, a name is not valid UTF-16, or the header would exceed <see cref="MaxHeaderBytes"/>.</exception>
    /// <exception cref="IOException">The file cannot be written; the message names the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory may not be written; the message names the path.</exception>
    public static void Write(string path, SafeTensorsFile file)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(file);
        byte[] header = BuildHeader(file, out _);
        AtomicFile.Write(path, stream => WriteBody(stream, header, file));
    }

    /// <summary>Writes a safetensors file's bytes to a stream.</summary>
    /// <param name="destination">A writable stream.</param>
    /// <param name="file">The content.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A name is not valid UTF-16, or the header would exceed <see cref="MaxHeaderBytes"/>.</exception>
    /// <exception cref="IOException">Writing fails.</exception>
    public static void WriteTo(Stream destination, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(file);
        byte[] header = BuildHeader(file, out _);
        WriteBody(destination, header, file);
    }

    /// <summary>Returns a safetensors file's bytes.</summary>
    /// <param name="file">The content.</param>
    /// <returns>A new array the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="file"/> is null.</exception>
    /// <exception cref="ArgumentException">A name is not valid UTF-16, the header would exceed <see cref="MaxHeaderBytes"/>,
    /// or the result would exceed the largest possible array.</exception>
    public static byte[] Serialize(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] header = BuildHeader(file, out long dataBytes);
        long total = 8 + header.Length + dataBytes;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException(
                Invariant($"The serialized file would be {total} bytes, more than one array can hold; use Write or WriteTo instead."),
                nameof(file));
        }

        var result = new byte[total];
        using var ms = new MemoryStream(result, writable: true);
        WriteBody(ms, header, file);
        return result;
    }

    /// <summary>Reads and validates a safetensors file.</summary>
    /// <param name="path">The file's path; it is also the source named in error messages.</param>
    /// <returns>The content.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist, or the path is a folder.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">The content is malformed, or the file is larger than 2 GB.</exception>
    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new FileNotFoundException($"'{path}' is a folder, not a safetensors file", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > Array.MaxLength)
        {
            throw new DataFormatException(path, null, null, Invariant($"the file is {length} bytes; files larger than {Array.MaxLength} bytes are not supported"));
        }

        var bytes = new byte[length];
        int n = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return Deserialize(bytes.AsSpan(0, n), path);
    }

    /// <summary>Parses and validates the bytes of a safetensors file.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="sourceName">The file path or resource name to name in error messages.</param>
    /// <returns>The content, tensors in the order of their data.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sourceName"/> is null.</exception>
    /// <exception cref="DataFormatException">The content is malformed: the message says exactly how.</exception>
    public static SafeTensorsFile Deserialize(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var src = sourceName;
        if (bytes.Length < 8)
        {
            throw Error(src, $"the file is {DataText.Bytes(bytes.Length)} long, shorter than the 8-byte header length at its start");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        long afterPrefix = bytes.Length - 8L;
        if (headerLength > MaxHeaderBytes)
        {
            throw Error(src, Invariant($"the header length is {headerLength} bytes, more than the limit of {MaxHeaderBytes}"));
        }

        if (headerLength > (ulong)afterPrefix)
        {
            throw Error(src, Invariant($"the header length is {headerLength} bytes but only {afterPrefix} bytes follow the length prefix"));
        }

        int n = (int)headerLength;
        ReadOnlySpan<byte> header = bytes.Slice(8, n);
        ReadOnlySpan<byte> data = bytes[(8 + n)..];
        if (!Utf8.IsValid(header))
        {
            throw Error(src, "the header is not valid UTF-8");
        }

        if (header.IsEmpty || header[0] != (byte)'{')
        {
            throw Error(src, "the header must be a JSON object starting with '{'");
        }

        List<Entry> entries;
        ImmutableDictionary<string, string> metadata;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
            (metadata, entries) = ParseHeader(doc.RootElement, src, data.Length);
        }
        catch (JsonException ex)
        {
            throw new DataFormatException(src, null, null, $"the header is not valid JSON: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json reports strings it cannot turn into UTF-16 (e.g. an escaped lone surrogate) this way.
            throw new DataFormatException(src, null, null, $"the header holds a string that cannot be decoded: {ex.Message}", ex);
        }

        CheckLayout(entries, src, data.Length);

        var tensors = ImmutableArray.CreateBuilder<NamedTensor>(entries.Count);
        foreach (Entry e in entries)
        {
            tensors.Add(new NamedTensor(e.Name, e.Shape, e.DType, Decode(data[(int)e.Begin..(int)e.End], e.DType)));
        }

        return new SafeTensorsFile(metadata, tensors.MoveToImmutable());
    }

    private static (ImmutableDictionary<string, string> Metadata, List<Entry> Entries) ParseHeader(JsonElement root, string src, long dataLength)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(src, $"the header must be a JSON object, found {Kind(root)}");
        }

        var metadata = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (JsonProperty prop in root.EnumerateObject())
        {
            string name = prop.Name;
            if (name == MetadataKey)
            {
                if (sawMetadata)
                {
                    throw Error(src, $"the header has more than one '{MetadataKey}' entry");
                }

                sawMetadata = true;
                ParseMetadata(prop.Value, metadata, src);
                continue;
            }

            if (!names.Add(name))
            {
                throw Error(src, $"the header names tensor {DataText.Quote(name)} more than once");
            }

            entries.Add(ParseEntry(name, prop.Value, entries.Count, src, dataLength));
        }

        return (metadata.ToImmutable(), entries);
    }

    private static void ParseMetadata(JsonElement value, ImmutableDictionary<string, string>.Builder metadata, string src)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(src, $"'{MetadataKey}' must be an object of string values, found {Kind(value)}");
        }

        foreach (JsonProperty kv in value.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(src, $"'{MetadataKey}' value for key {DataText.Quote(kv.Name)} is {Kind(kv.Value)}; metadata values must be strings");
            }

            if (!metadata.TryAdd(kv.Name, kv.Value.GetString()!))
            {
                throw Error(src, $"'{MetadataKey}' has key {DataText.Quote(kv.Name)} more than once");
            }
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, int index, string src, long dataLength)
    {
        string t = "tensor " + DataText.Quote(name);
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(src, $"{t} must be an object with dtype, shape and data_offsets, found {Kind(value)}");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeEl))
        {
            throw Error(src, $"{t} has no 'dtype'");
        }

        if (dtypeEl.ValueKind != JsonValueKind.String)
        {
            throw Error(src, $"{t} has a 'dtype' that is {Kind(dtypeEl)}, not a string");
        }

        string dtypeText = dtypeEl.GetString()!;
        SafeTensorDType dtype = dtypeText switch
        {
            "F32" => SafeTensorDType.F32,
            "F64" => SafeTensorDType.F64,
            _ => throw Error(src, $"{t} has dtype {DataText.Quote(dtypeText)}, which is not supported (supported: F32, F64)"),
        };

        if (!value.TryGetProperty("shape", out JsonElement shapeEl))
        {
            throw Error(src, $"{t} has no 'shape'");
        }

        if (shapeEl.ValueKind != JsonValueKind.Array)
        {
            throw Error(src, $"{t} has a 'shape' that is {Kind(shapeEl)}, not an array");
        }

        var shape = new int[shapeEl.GetArrayLength()];
        long count = 1;
        bool overflow = false;
        int k = 0;
        foreach (JsonElement d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
            {
                throw Error(src, Invariant($"{t} has shape entry {Raw(d)} at position {k}; shape entries must be non-negative integers"));
            }

            if (dim > int.MaxValue)
            {
                throw Error(src, Invariant($"{t} has shape entry {dim} at position {k}, larger than the supported maximum 2^31-1"));
            }

            // Same rule as the reference implementation: a left fold with checked multiplication.
            if (!overflow)
            {
                if (dim != 0 && count > long.MaxValue / dim)
                {
                    overflow = true;
                }
                else
                {
                    count *= dim;
                }
            }

            shape[k++] = (int)dim;
        }

        if (overflow)
        {
            throw Error(src, $"{t} has shape {NamedTensor.FormatShape(shape)}, whose element count overflows a 64-bit integer");
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offEl))
        {
            throw Error(src, $"{t} has no 'data_offsets'");
        }

        if (offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2
            || offEl[0].ValueKind != JsonValueKind.Number || offEl[1].ValueKind != JsonValueKind.Number
            || !offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end)
            || begin < 0 || end < begin)
        {
            throw Error(src, $"{t} has data_offsets {Raw(offEl)}; expected two non-negative integers [begin, end] with begin <= end");
        }

        if (end > dataLength)
        {
            throw Error(src, Invariant($"{t} has data_offsets [{begin}, {end}], which end past the data buffer of {dataLength} bytes"));
        }

        int size = dtype == SafeTensorDType.F32 ? 4 : 8;
        long span = end - begin;
        if (span % size != 0 || span / size != count)
        {
            throw Error(
                src,
                Invariant($"{t} has shape {NamedTensor.FormatShape(shape)} and dtype {dtypeText}, which need {(count > long.MaxValue / size ? "more than 2^63" : (count * size).ToString(CultureInfo.InvariantCulture))} bytes, but its data_offsets [{begin}, {end}] span {span} bytes"));
        }

        return new Entry(name, ImmutableCollectionsMarshal.AsImmutableArray(shape), dtype, begin, end, index);
    }

    private static void CheckLayout(List<Entry> entries, string src, long dataLength)
    {
        entries.Sort(static (a, b) =>
        {
            int c = a.Begin.CompareTo(b.Begin);
            if (c == 0)
            {
                c = a.End.CompareTo(b.End);
            }

            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });

        long covered = 0;
        Entry? previous = null;
        foreach (Entry e in entries)
        {
            if (e.Begin > covered)
            {
                string before = previous is null ? "the start of the data buffer" : $"tensor {DataText.Quote(previous.Name)}";
                throw Error(src, Invariant($"bytes {covered}..{e.Begin} of the data buffer belong to no tensor (a gap between {before} and tensor {DataText.Quote(e.Name)}); tensors must cover the buffer exactly"));
            }

            if (e.Begin < covered)
            {
                throw Error(src, Invariant($"tensor {DataText.Quote(e.Name)} [{e.Begin}, {e.End}) overlaps tensor {DataText.Quote(previous!.Name)} [{previous.Begin}, {previous.End})"));
            }

            covered = e.End;
            previous = e;
        }

        if (covered != dataLength)
        {
            throw Error(src, Invariant($"the data buffer holds {dataLength} bytes but the tensors cover only {covered}; bytes {covered}..{dataLength} belong to no tensor"));
        }
    }

    private static ImmutableArray<double> Decode(ReadOnlySpan<byte> raw, SafeTensorDType dtype)
    {
        double[] values;
        if (dtype == SafeTensorDType.F32)
        {
            values = new double[raw.Length / 4];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
            }
        }
        else
        {
            values = new double[raw.Length / 8];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * 8)..]);
            }
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(values);
    }

    private static byte[] BuildHeader(SafeTensorsFile file, out long dataBytes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (file.Metadata.Count > 0)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (key, value) in file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            long offset = 0;
            foreach (NamedTensor t in file.Tensors)
            {
                long bytes = (long)t.Count * (t.DType == SafeTensorDType.F32 ? 4 : 8);
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType == SafeTensorDType.F32 ? "F32" : "F64");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }

            w.WriteEndObject();
            dataBytes = offset;
        }

        int json = buffer.WrittenCount;
        int padded = (json + 7) / 8 * 8;
        if (padded > MaxHeaderBytes)
        {
            throw new ArgumentException(Invariant($"The header would be {padded} bytes, more than the format's limit of {MaxHeaderBytes}."), nameof(file));
        }

        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(json).Fill((byte)' ');
        return header;
    }

    private static void WriteBody(Stream destination, byte[] header, SafeTensorsFile file)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        destination.Write(prefix);
        destination.Write(header);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            foreach (NamedTensor t in file.Tensors)
            {
                if (t.HasFloats && BitConverter.IsLittleEndian)
                {
                    destination.Write(MemoryMarshal.AsBytes(t.Floats)); // already the file's bytes
                    continue;
                }

                ReadOnlySpan<double> values = t.Values.AsSpan();
                int size = t.DType == SafeTensorDType.F32 ? 4 : 8;
                int perChunk = ChunkBytes / size;
                for (int start = 0; start < values.Length; start += perChunk)
                {
                    ReadOnlySpan<double> part = values.Slice(start, Math.Min(perChunk, values.Length - start));
                    Span<byte> dst = chunk.AsSpan(0, part.Length * size);
                    if (size == 4)
                    {
                        for (int i = 0; i < part.Length; i++)
                        {
                            BinaryPrimitives.WriteSingleLittleEndian(dst[(i * 4)..], (float)part[i]);
                        }
                    }
                    else
                    {
                        for (int i = 0; i < part.Length; i++)
                        {
                            BinaryPrimitives.WriteDoubleLittleEndian(dst[(i * 8)..], part[i]);
                        }
                    }

                    destination.Write(dst);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    private static string Raw(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length <= DataText.MaxQuoted ? raw : raw[..DataText.MaxQuoted] + "...";
    }

    private static DataFormatException Error(string src, string problem) => new(src, null, null, problem);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed record Entry(string Name, ImmutableArray<int> Shape, SafeTensorDType DType, long Begin, long End, int Index);
}
