using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary><see cref="AlignedBuffer{T}"/>: the fold's workspaces start on a cache line, hold exactly what was asked, start
/// zeroed, and refuse a slice outside their usable part.</summary>
public sealed class AlignedBufferTests
{
    private static unsafe nint Address<T>(Span<T> s) where T : unmanaged => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(s));

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(784 * 64)]
    [InlineData(1_000_003)]
    public void The_usable_part_starts_on_a_cache_line_and_is_zeroed(int length)
    {
        // Many buffers: .NET places arrays at any 8-byte boundary, so some of these would be off a line without the offset.
        for (int i = 0; i < 16; i++)
        {
            var f = new AlignedBuffer<float>(length);
            var d = new AlignedBuffer<double>(length);
            var b = new AlignedBuffer<byte>(length);
            Assert.Equal(0, Address(f.Span) % AlignedBuffer<float>.Alignment);
            Assert.Equal(0, Address(d.Span) % AlignedBuffer<double>.Alignment);
            Assert.Equal(0, Address(b.Span) % AlignedBuffer<byte>.Alignment);
            Assert.Equal(length, f.Span.Length); Assert.Equal(length, d.Span.Length); Assert.Equal(length, b.Span.Length);
            Assert.True(f.Span.IndexOfAnyExcept(0f) < 0 && d.Span.IndexOfAnyExcept(0d) < 0 && b.Span.IndexOfAnyExcept((byte)0) < 0);
        }
    }

    [Fact]
    public void Slices_stay_inside_the_usable_part()
    {
        var f = new AlignedBuffer<float>(100);
        f.Slice(90, 10).Fill(7f);
        Assert.Equal(7f, f.Span[99]);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Slice(95, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Slice(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer<float>(-1));
        Assert.Equal(0, new AlignedBuffer<float>(0).Span.Length);
    }

    [Fact]
    public void The_start_does_not_move_when_the_collector_compacts()
    {
        var f = new AlignedBuffer<float>(4096);
        nint before = Address(f.Span);
        for (int i = 0; i < 50; i++) _ = new byte[10_000];
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.Equal(before, Address(f.Span));
    }
}
