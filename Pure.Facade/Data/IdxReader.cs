using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed, refusing malformed or
/// hostile headers before allocating anything they claim.
/// </summary>
/// <remarks>
/// <para>Format: two zero bytes; a type byte, which must be 0x08 (unsigned byte); a dimension-count byte; one
/// big-endian 32-bit size per dimension; then the data, with nothing after it. Image files have 3 dimensions
/// (count, rows, cols), label files 1 (count). Gzip is recognised by its magic bytes 0x1f 0x8b, never by the file
/// name.</para>
/// <para>Memory: for a plain seekable stream the data size is checked against the bytes left before any allocation;
/// for gzip or unseekable streams the buffer grows by doubling as data actually arrives, from 64 KB, so a false header
/// costs at most about twice the bytes really present plus 64 KB.</para>
/// </remarks>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;
    // The first buffer for data whose length cannot be checked before it arrives. It was 1 MB; fuzzing showed a 16 KB
    // unseekable input claiming a megabyte cost 64× its size. Doubling from 64 KB to a 47 MB file takes ~10 resizes whose copies add up to less than the file.
    private const int InitialChunk = 64 << 10;

    /// <summary>Reads an IDX image file (3 dimensions: count, rows, cols).</summary>
    /// <param name="path">The file's path; it is also the source named in error messages.</param>
    /// <returns>The images, with the SHA-256 of the file as stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">The content is not a valid IDX image file.</exception>
    public static IdxImages ReadImages(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenRead(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads an IDX image file from a stream, to its end; the stream is left open.</summary>
    /// <param name="stream">A readable stream positioned at the start of the file.</param>
    /// <param name="sourceName">The file path or resource name to name in error messages.</param>
    /// <returns>The images, with the SHA-256 of the bytes read.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The stream is not readable.</exception>
    /// <exception cref="IOException">Reading the stream fails.</exception>
    /// <exception cref="DataFormatException">The content is not a valid IDX image file.</exception>
    public static IdxImages ReadImages(Stream stream, string sourceName)
    {
        var (dims, data, sha) = Read(stream, sourceName, images: true);
        return new IdxImages(dims[0], dims[1], dims[2], ImmutableCollectionsMarshal.AsImmutableArray(data), sha);
    }

    /// <summary>Reads an IDX label file (1 dimension: count).</summary>
    /// <param name="path">The file's path; it is also the source named in error messages.</param>
    /// <returns>The labels (0..255), one per item.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">The content is not a valid IDX label file.</exception>
    public static ImmutableArray<int> ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenRead(path);
        return ReadLabels(stream, path);
    }

    /// <summary>Reads an IDX label file from a stream, to its end; the stream is left open.</summary>
    /// <param name="stream">A readable stream positioned at the start of the file.</param>
    /// <param name="sourceName">The file path or resource name to name in error messages.</param>
    /// <returns>The labels (0..255), one per item.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The stream is not readable.</exception>
    /// <exception cref="IOException">Reading the stream fails.</exception>
    /// <exception cref="DataFormatException">The content is not a valid IDX label file.</exception>
    public static ImmutableArray<int> ReadLabels(Stream stream, string sourceName)
    {
        var (_, data, _) = Read(stream, sourceName, images: false);
        var labels = new int[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            labels[i] = data[i];
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(labels);
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);

    private static (int[] Dims, byte[] Data, string Sha256) Read(Stream stream, string sourceName, bool images)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        using var hashing = new HashingStream(stream, leaveOpen: true);
        byte[] magic = new byte[2];
        int got = hashing.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        if (got == 0)
        {
            throw Error(sourceName, "the file is empty");
        }

        bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        var replay = new PrefixStream(magic[..got], hashing);
        try
        {
            using Stream payload = gzip ? new GZipStream(replay, CompressionMode.Decompress, leaveOpen: true) : replay;
            var (dims, data) = ReadPayload(payload, gzip ? null : hashing, sourceName, images, gzip);
            hashing.Drain();
            return (dims, data, hashing.FinishHex());
        }
        catch (InvalidDataException ex)
        {
            throw Error(sourceName, "the gzip data is corrupt: " + ex.Message, ex);
        }
    }

    private static (int[] Dims, byte[] Data) ReadPayload(Stream payload, HashingStream? plain, string source, bool images, bool gzip)
    {
        string where = gzip ? "the decompressed data" : "the file";
        Span<byte> head = stackalloc byte[4];
        int n = ReadFully(payload, head);
        if (n < 4)
        {
            throw Error(source, Invariant($"{where} is too short for an IDX header ({n} bytes; at least 4 needed)"));
        }

        if (head[0] != 0 || head[1] != 0)
        {
            throw Error(source, Invariant($"not an IDX file: it must start with two zero bytes, found 0x{head[0]:x2} 0x{head[1]:x2}"));
        }

        if (head[2] != UnsignedByteType)
        {
            throw Error(source, Invariant($"unsupported IDX element type 0x{head[2]:x2} ({TypeName(head[2])}); only 0x08 (unsigned byte) is supported"));
        }

        int expectedDims = images ? 3 : 1;
        if (head[3] != expectedDims)
        {
            string what = images ? "an image file needs 3 (count, rows, cols)" : "a label file needs 1 (count)";
            string hint = images && head[3] == 1 ? "; is this a label file?" : !images && head[3] == 3 ? "; is this an image file?" : string.Empty;
            throw Error(source, Invariant($"the header declares {head[3]} dimensions, but {what}{hint}"));
        }

        Span<byte> dimBytes = stackalloc byte[4 * 3];
        dimBytes = dimBytes[..(4 * expectedDims)];
        n = ReadFully(payload, dimBytes);
        if (n < dimBytes.Length)
        {
            throw Error(source, Invariant($"{where} ends inside the header: {expectedDims} dimension sizes need {dimBytes.Length} bytes after the first 4, found {n}"));
        }

        int[] dims = new int[expectedDims];
        string[] dimNames = images ? ["count", "rows", "cols"] : ["count"];
        for (int d = 0; d < expectedDims; d++)
        {
            uint v = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * d)..]);
            if (v > int.MaxValue)
            {
                throw Error(source, Invariant($"dimension {d + 1} ({dimNames[d]}) is {v}, which is larger than 2^31-1"));
            }

            if (v == 0 && d > 0)
            {
                throw Error(source, Invariant($"dimension {d + 1} ({dimNames[d]}) is 0; image sizes must be at least 1"));
            }

            dims[d] = (int)v;
        }

        UInt128 total = 1;
        foreach (int d in dims)
        {
            total *= (uint)d;
        }

        string claim = images
            ? Invariant($"the header claims {dims[0]} images of {dims[1]}x{dims[2]} ({total} bytes of pixels)")
            : Invariant($"the header claims {dims[0]} labels ({total} bytes)");
        string unit = images ? "bytes of pixels" : "bytes of labels";

        long? available = plain?.Remaining;
        if (available is { } avail)
        {
            if (total > (ulong)avail)
            {
                throw Error(source, Invariant($"{claim} but the file holds {avail} {unit}"));
            }

            if (total < (ulong)avail)
            {
                throw Error(source, Invariant($"{claim} but the file holds {avail} {unit}: {avail - (long)total} trailing bytes"));
            }
        }

        if (total > (ulong)Array.MaxLength)
        {
            throw Error(source, Invariant($"{claim}, more than the {Array.MaxLength} bytes that can be loaded"));
        }

        int size = (int)total;
        byte[] data;
        if (available is not null)
        {
            data = new byte[size];
            n = ReadFully(payload, data);
            if (n < size)
            {
                throw Error(source, Invariant($"{claim} but the file holds {n} {unit}"));
            }
        }
        else
        {
            data = new byte[Math.Min(size, InitialChunk)];
            int filled = 0;
            while (filled < size)
            {
                if (filled == data.Length)
                {
                    Array.Resize(ref data, (int)Math.Min((long)data.Length * 2, size));
                }

                int r = payload.Read(data, filled, data.Length - filled);
                if (r == 0)
                {
                    throw Error(source, Invariant($"{claim} but {where} holds {filled} {unit}"));
                }

                filled += r;
            }
        }

        if (payload.ReadByte() >= 0)
        {
            throw Error(source, Invariant($"{claim} but {where} has trailing bytes after them"));
        }

        return (dims, data);
    }

    private static int ReadFully(Stream s, Span<byte> buffer) => s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);

    private static string TypeName(byte t) => t switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "not an IDX type",
    };

    private static DataFormatException Error(string source, string problem, Exception? inner = null) =>
        new(source, null, null, problem, inner);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
