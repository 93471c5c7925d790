using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
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
        if (values.IsDefault)
        {
            throw new ArgumentException("The values array is uninitialized.", nameof(values));
        }

        Check(name, shape, dtype, values.Length);
        Name = name;
        Shape = shape;
        DType = dtype;
        _values = values;
    }

    /// <summary>An F32 tensor held as the floats it will be written as (a checkpoint's parameters and optimizer state): written and
    /// hashed from their bytes, with no conversion to double and back; <see cref="Values"/> makes the doubles only if asked.
    /// The bytes are those the double-held tensor writes for the same values (float → double → float gives the value back,
    /// NaN included as arithmetic makes it).</summary>
    internal NamedTensor(string name, ImmutableArray<int> shape, NeuralPure.Tensors.NdArray<float> floats)
    {
        ArgumentNullException.ThrowIfNull(floats);
        Check(name, shape, SafeTensorDType.F32, floats.Span.Length);
        Name = name;
        Shape = shape;
        DType = SafeTensorDType.F32;
        _floats = floats;
    }

    private static void Check(string name, ImmutableArray<int> shape, SafeTensorDType dtype, int values)
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

        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Tensor '{name}': shape {FormatShape(shape.AsSpan())} has a negative dimension.", nameof(shape));
            }

            count = d == 0 || count == 0 ? 0 : (count > long.MaxValue / d ? long.MaxValue : count * d);
        }

        if (count != values)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Tensor '{name}': shape {FormatShape(shape.AsSpan())} holds {count} values but {values} were given."),
                "values");
        }
    }

    private readonly NeuralPure.Tensors.NdArray<float>? _floats; // immutable, so held as it is: no copy
    private ImmutableArray<double> _values;

    /// <summary>Whether the tensor was made from floats (<see cref="Floats"/>).</summary>
    internal bool HasFloats => _floats is not null;

    /// <summary>The values as floats, when the tensor was made from them (else empty).</summary>
    internal ReadOnlySpan<float> Floats => _floats is { } f ? f.Span : default;

    /// <summary>The number of values.</summary>
    internal int Count => _floats?.Span.Length ?? _values.Length;

    /// <summary>Gets the tensor's name.</summary>
    public string Name { get; }

    /// <summary>Gets the dimensions (empty for a scalar).</summary>
    public ImmutableArray<int> Shape { get; }

    /// <summary>Gets the element type used when writing.</summary>
    public SafeTensorDType DType { get; }

    /// <summary>Gets the values, row-major.</summary>
    public ImmutableArray<double> Values
    {
        get
        {
            if (_values.IsDefault && _floats is { } a)
            {
                var f = a.Span;
                var d = new double[f.Length];
                for (int i = 0; i < f.Length; i++) d[i] = f[i];
                _values = ImmutableCollectionsMarshal.AsImmutableArray(d);
            }

            return _values;
        }
    }

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
    public override int GetHashCode() => HashCode.Combine(Name, DType, Count);

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
