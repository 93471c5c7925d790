using System.Security.Cryptography;

namespace NeuralPure.Facade.Data;

/// <summary>
/// A read-only, forward-only pass-through stream that feeds every byte read into an incremental SHA-256 and counts them.
/// </summary>
internal sealed class HashingStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly bool _leaveOpen;

    public HashingStream(Stream inner, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanRead)
        {
            throw new ArgumentException("The stream must be readable.", nameof(inner));
        }

        _inner = inner;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Gets the number of bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Gets the number of bytes left in the inner stream, or null if it cannot tell.</summary>
    public long? Remaining
    {
        get
        {
            if (!_inner.CanSeek)
            {
                return null;
            }

            try
            {
                return Math.Max(0, _inner.Length - _inner.Position);
            }
            catch (NotSupportedException)
            {
                return null;
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    /// <summary>Reads and hashes the rest of the inner stream without keeping it.</summary>
    public void Drain()
    {
        byte[] buffer = new byte[81920];
        while (Read(buffer, 0, buffer.Length) > 0)
        {
        }
    }

    /// <summary>Finishes the hash and returns it as lowercase hex. Call once, after the last read.</summary>
    public string FinishHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = _inner.Read(buffer);
        if (n > 0)
        {
            _hash.AppendData(buffer[..n]);
            BytesRead += n;
        }

        return n;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
