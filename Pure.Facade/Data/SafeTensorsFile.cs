using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>The content of a safetensors file: string metadata and an ordered list of uniquely named tensors.</summary>
/// <remarks>Equality compares contents: the same metadata entries and the same tensors in the same order.</remarks>
public sealed record SafeTensorsFile
{
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates a file's content after checking that tensor names are unique.</summary>
    /// <param name="metadata">The <c>__metadata__</c> entries (may be empty).</param>
    /// <param name="tensors">The tensors, in the order their data is laid out when written.</param>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="ArgumentException">A tensor or metadata value is null, or two tensors share a name.</exception>
    public SafeTensorsFile(ImmutableDictionary<string, string> metadata, ImmutableArray<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (tensors.IsDefault)
        {
            throw new ArgumentException("The tensors array is uninitialized.", nameof(tensors));
        }

        foreach (var (key, value) in metadata)
        {
            if (value is null)
            {
                throw new ArgumentException($"Metadata value for key '{key}' is null.", nameof(metadata));
            }
        }

        _index = new Dictionary<string, int>(tensors.Length, StringComparer.Ordinal);
        for (int i = 0; i < tensors.Length; i++)
        {
            NamedTensor t = tensors[i] ?? throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Tensor {i} is null."), nameof(tensors));
            if (!_index.TryAdd(t.Name, i))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Tensors {_index[t.Name]} and {i} are both named '{t.Name}'; names must be unique."),
                    nameof(tensors));
            }
        }

        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>Creates a file's content with no metadata.</summary>
    /// <param name="tensors">The tensors, in the order their data is laid out when written.</param>
    /// <exception cref="ArgumentException">A tensor is null, or two tensors share a name.</exception>
    public SafeTensorsFile(params ImmutableArray<NamedTensor> tensors)
        : this(ImmutableDictionary<string, string>.Empty, tensors)
    {
    }

    /// <summary>Gets the <c>__metadata__</c> entries.</summary>
    public ImmutableDictionary<string, string> Metadata { get; }

    /// <summary>Gets the tensors, in data order.</summary>
    public ImmutableArray<NamedTensor> Tensors { get; }

    /// <summary>Gets the tensor with the given name.</summary>
    /// <param name="name">The tensor's name (case-sensitive).</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message lists the names that exist.</exception>
    public NamedTensor this[string name] => Get(name);

    /// <summary>Gets the tensor with the given name.</summary>
    /// <param name="name">The tensor's name (case-sensitive).</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">No tensor has that name; the message lists the names that exist.</exception>
    public NamedTensor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_index.TryGetValue(name, out int i))
        {
            return Tensors[i];
        }

        throw new KeyNotFoundException(
            $"There is no tensor named {DataText.Quote(name)}; the tensors are: {DataText.List(Tensors.Select(t => t.Name).ToList())}.");
    }

    /// <summary>Looks a tensor up by name without throwing.</summary>
    /// <param name="name">The tensor's name (case-sensitive).</param>
    /// <param name="tensor">The tensor, or null if there is none with that name.</param>
    /// <returns>True if the tensor exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NamedTensor? tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        tensor = _index.TryGetValue(name, out int i) ? Tensors[i] : null;
        return tensor is not null;
    }

    /// <summary>Compares two files by content.</summary>
    /// <param name="other">The other file.</param>
    /// <returns>True if metadata entries and tensors (in order) are equal.</returns>
    public bool Equals(SafeTensorsFile? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (Metadata.Count != other.Metadata.Count || !Tensors.SequenceEqual(other.Tensors))
        {
            return false;
        }

        foreach (var (key, value) in Metadata)
        {
            if (!other.Metadata.TryGetValue(key, out string? v) || v != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Returns a hash code consistent with <see cref="Equals(SafeTensorsFile?)"/>.</summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(Metadata.Count, Tensors.Length);

    /// <summary>Describes the file without listing values.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"SafeTensorsFile {{ Metadata = {Metadata.Count} entries, Tensors = [{string.Join(", ", Tensors.Select(t => t.Name))}] }}");

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Tensors = {Tensors.Length}");
        return true;
    }
}
