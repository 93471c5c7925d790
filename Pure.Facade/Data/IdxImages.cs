using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>An immutable stack of 8-bit grey-scale images read from an IDX file (as used by MNIST and Fashion-MNIST).</summary>
/// <remarks>Equality compares contents (shape, every pixel and the hash), not array identity.</remarks>
public sealed record IdxImages
{
    /// <summary>Creates an image stack after checking that the pixel count matches the shape.</summary>
    /// <param name="count">The number of images (may be 0).</param>
    /// <param name="rows">The height of each image in pixels (at least 1).</param>
    /// <param name="cols">The width of each image in pixels (at least 1).</param>
    /// <param name="pixels">The pixels, image after image, each row-major: <c>count × rows × cols</c> bytes.</param>
    /// <param name="sha256">The SHA-256 of the file's bytes as stored (compressed, if it was), as 64 lowercase hex digits.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or size is out of range.</exception>
    /// <exception cref="ArgumentException">The pixel count does not match the shape, or the hash is malformed.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="sha256"/> is null.</exception>
    public IdxImages(int count, int rows, int cols, ImmutableArray<byte> pixels, string sha256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentNullException.ThrowIfNull(sha256);
        long expected = (long)count * rows * cols;
        if (pixels.IsDefault || pixels.Length != expected)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected {expected} pixels ({count} images of {rows}x{cols}), got {(pixels.IsDefault ? 0 : pixels.Length)}."),
                nameof(pixels));
        }

        if (sha256.Length != 64 || !sha256.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new ArgumentException("The SHA-256 must be 64 lowercase hex digits.", nameof(sha256));
        }

        Count = count;
        Rows = rows;
        Cols = cols;
        Pixels = pixels;
        Sha256 = sha256;
    }

    /// <summary>Gets the number of images.</summary>
    public int Count { get; }

    /// <summary>Gets the height of each image in pixels.</summary>
    public int Rows { get; }

    /// <summary>Gets the width of each image in pixels.</summary>
    public int Cols { get; }

    /// <summary>Gets all pixels (0..255), image after image, each image row-major.</summary>
    public ImmutableArray<byte> Pixels { get; }

    /// <summary>Gets the SHA-256 of the file's bytes as stored (compressed, if it was), as 64 lowercase hex digits.</summary>
    public string Sha256 { get; }

    /// <summary>Gets the number of pixels in one image (<c>Rows × Cols</c>).</summary>
    public int PixelsPerImage => Rows * Cols;

    /// <summary>Returns one image's pixels as a read-only view.</summary>
    /// <param name="index">The 0-based image index.</param>
    /// <returns>The <see cref="PixelsPerImage"/> pixels of that image, row-major.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in 0..Count-1.</exception>
    public ReadOnlySpan<byte> GetImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan().Slice(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>Compares two image stacks by content.</summary>
    /// <param name="other">The other stack.</param>
    /// <returns>True if shape, pixels and hash are equal.</returns>
    public bool Equals(IdxImages? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Count == other.Count && Rows == other.Rows && Cols == other.Cols && Sha256 == other.Sha256
                && Pixels.AsSpan().SequenceEqual(other.Pixels.AsSpan())));

    /// <summary>Returns a hash code consistent with <see cref="Equals(IdxImages?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(Count, Rows, Cols, Sha256);

    /// <summary>Describes the stack without listing its pixels.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"IdxImages {{ Count = {Count}, Rows = {Rows}, Cols = {Cols}, Sha256 = {Sha256} }}");

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Count = {Count}, Rows = {Rows}, Cols = {Cols}");
        return true;
    }
}
