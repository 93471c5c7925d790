using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>
/// One named tensor of a safetensors file: its shape, its stored element type, and its values held as doubles.
/// </summary>
/// <remarks>
/// Values are always held as <see cref="double"/> in memory and converted to <see cref="DType"/> when written:
/// with <see cref="SafeTensorDType.F32"/> each value is rounded to the nearest <see cref="float"/> (values beyond
/// the float range become infinities), so a written-then-read F32 tensor equals the original only if every value was
/// already a float. Values may be NaN or infinite. Equality compares contents, with NaN equal to NaN.
/// </remarks>
public sealed record NamedTensor
{
    /// <summary>Creates a tensor after checking that the shape's element count matches the values.</summary>
    /// <param name="name">The tensor's name; any string except <c>__metadata__</c>, which the format reserves.</param>
    /// <param name="shape">The dimensions; an empty shape is a scalar (one value).</param>
    /// <param name="dtype">The element type used when the tensor is written.</param>
    /// <param name="values">The values, row-major (last dimension fastest).</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is reserved, a dimension is negative, or the element count of
    /// <paramref name="shape"/> differs from the number of values.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is undefined.</exception>
    public NamedTensor(string name, ImmutableArray<int> shape, SafeTensorDType dtype, ImmutableArray<double> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == SafeTensors.MetadataKey)
        {
            throw new ArgumentException($"'{SafeTensors.MetadataKey}' is reserved by the safetensors format and cannot name a tensor.", nameof(name));
        }

        if (!Enum.IsDefined(dtype))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown element type.");
        }

        if (shape.IsDefault)
        {
            throw new ArgumentException("The shape array is uninitialized.", nameof(shape));
        }

        if (values.IsDefault)
        {
            throw new ArgumentException("The values array is uninitialized.", nameof(values));
        }

        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape.AsSpan())} has a negative dimension.", nameof(shape));
            }

            count = d == 0 || count == 0 ? 0 : (count > long.MaxValue / d ? long.MaxValue : count * d);
        }

        if (count != values.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Tensor '{name}': shape {FormatShape(shape.AsSpan())} holds {count} values but {values.Length} were given."),
                nameof(values));
        }

        Name = name;
        Shape = shape;
        DType = dtype;
        Values = values;
    }

    /// <summary>Gets the tensor's name.</summary>
    public string Name { get; }

    /// <summary>Gets the dimensions (empty for a scalar).</summary>
    public ImmutableArray<int> Shape { get; }

    /// <summary>Gets the element type used when writing.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>Gets the values, row-major.</summary>
    public ImmutableArray<double> Values { get; }

    /// <summary>Compares two tensors by name, element type, shape and values (NaN equals NaN).</summary>
    /// <param name="other">The other tensor.</param>
    /// <returns>True if they are equal.</returns>
    public bool Equals(NamedTensor? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Name == other.Name
                && DType == other.DType
                && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan())
                && Values.AsSpan().SequenceEqual(other.Values.AsSpan())));

    /// <summary>Returns a hash code consistent with <see cref="Equals(NamedTensor?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(Name, DType, Values.Length);

    /// <summary>Describes the tensor without listing its values.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() => $"NamedTensor {{ Name = {Name}, DType = {DType}, Shape = {FormatShape(Shape.AsSpan())} }}";

    internal static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            if (i == 16 && shape.Length > 17)
            {
                sb.Append(CultureInfo.InvariantCulture, $"... ({shape.Length} dimensions)");
                break;
            }

            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return sb.Append(']').ToString();
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Name = {Name}, DType = {DType}");
        return true;
    }
}
