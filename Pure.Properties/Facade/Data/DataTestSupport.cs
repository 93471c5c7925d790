using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Facade.Data;

namespace NeuralPure.Properties.Facade.Data;

/// <summary>A fresh temporary directory, deleted with everything in it on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("neuralpure-data-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One edit applied to a valid input to make it (probably) invalid.</summary>
internal sealed record Mutation(int Kind, int Position, byte Value)
{
    public override string ToString() => Kind switch
    {
        0 => $"overwrite @{Position} with 0x{Value:x2}",
        1 => $"truncate @{Position}",
        2 => $"insert 0x{Value:x2} @{Position}",
        _ => $"delete @{Position}",
    };
}

internal static class DataTestSupport
{
    /// <summary>One to four random edits: overwrite, truncate, insert or delete a byte.</summary>
    public static Arbitrary<Mutation[]> Mutations { get; } =
        Gen.Choose(1, 4)
            .SelectMany(n => Gen.ArrayOf(
                from kind in Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)), (1, Gen.Constant(3)))
                from pos in Gen.Choose(0, int.MaxValue)
                from value in Gen.Elements<byte>(0, 1, 0x7f, 0x80, 0xff, (byte)'"', (byte)',', (byte)'\n', (byte)'\r', (byte)'{', (byte)'9', (byte)'-', (byte)'e', 0x1f, 0x8b, 0x08, 0x03)
                select new Mutation(kind, pos, value),
                n))
            .ToArbitrary();

    public static byte[] Apply(byte[] valid, Mutation[] mutations)
    {
        var bytes = new List<byte>(valid);
        foreach (Mutation m in mutations)
        {
            int count = bytes.Count;
            switch (m.Kind)
            {
                case 0 when count > 0:
                    bytes[m.Position % count] = m.Value;
                    break;
                case 1:
                    bytes.RemoveRange(m.Position % (count + 1), count - (m.Position % (count + 1)));
                    break;
                case 2:
                    bytes.Insert(m.Position % (count + 1), m.Value);
                    break;
                case 3 when count > 0:
                    bytes.RemoveAt(m.Position % count);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Runs an action; true if it succeeds or throws <see cref="DataFormatException"/>, rethrows anything else.</summary>
    public static bool SucceedsOrDataFormat(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (DataFormatException)
        {
            return true;
        }
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Measures bytes allocated on this thread while running an action.</summary>
    public static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>Asserts that the action throws <see cref="DataFormatException"/> whose message contains every fragment.</summary>
    public static DataFormatException ThrowsData(Action action, params string[] fragments)
    {
        var ex = Xunit.Assert.Throws<DataFormatException>(action);
        foreach (string f in fragments)
        {
            Xunit.Assert.Contains(f, ex.Message, StringComparison.Ordinal);
        }

        return ex;
    }
}

/// <summary>A read-only stream that hides seeking and returns few bytes per read, like a network stream.</summary>
internal sealed class TrickleStream(Stream inner, int maxPerRead = 7) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, maxPerRead));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
