namespace NeuralPure.Facade.Data;

/// <summary>A read-only stream that replays a few already-read bytes before reading on from another stream.</summary>
internal sealed class PrefixStream(byte[] prefix, Stream inner) : Stream
{
    private int _served;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_served < prefix.Length && buffer.Length > 0)
        {
            int n = Math.Min(buffer.Length, prefix.Length - _served);
            prefix.AsSpan(_served, n).CopyTo(buffer);
            _served += n;
            return n;
        }

        return inner.Read(buffer);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
