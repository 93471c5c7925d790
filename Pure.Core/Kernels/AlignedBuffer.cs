using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralPure.Kernels;

/// <summary>A workspace whose usable part starts on a cache line (64 bytes): a pinned array (it never moves, so the start
/// stays aligned) with the elements before the first line boundary left unused.</summary>
/// <remarks>
/// <para>Why: a threaded product gives each thread a block of C's columns (<see cref="Gemm"/>). Block boundaries are whole
/// micro-tiles (128 bytes of float at Vector512, 64 at Vector256) from C's first element; when that element is not on a
/// line boundary, every row's boundary shares a line between two threads, and the line travels between their cores on each
/// store (false sharing). Config b's first product (C = [64, 128], four column blocks on 2 threads, Zen 4): 209 µs with C
/// 48 bytes past a line, 104 µs on a line. .NET aligns an array's elements to 8 bytes only.</para>
/// <para>Where an element sits never changes a result; only the time.</para>
/// </remarks>
internal sealed class AlignedBuffer<T> where T : unmanaged
{
    /// <summary>Bytes per cache line on the x64 and Arm64 cores this runs on.</summary>
    public const int Alignment = 64;

    private readonly T[] array;
    private readonly int offset;

    /// <summary>A zeroed workspace of <paramref name="length"/> elements starting on a cache line.</summary>
    public unsafe AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int pad = Alignment / sizeof(T);
        array = GC.AllocateArray<T>(checked(length + pad), pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        // An array's elements are at least 8-byte aligned, so the distance to the next line is a whole number of elements.
        offset = (int)((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(T);
        Length = length;
    }

    /// <summary>Usable elements.</summary>
    public int Length { get; }

    /// <summary>All usable elements; the first on a cache line.</summary>
    public Span<T> Span => array.AsSpan(offset, Length);

    /// <summary>Elements [start, start + length) of the usable part.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the usable part.</exception>
    public Span<T> Slice(int start, int length) => Span.Slice(start, length);
}
