using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>Turns IDX images and labels into a <see cref="TabularData"/> classification table.</summary>
public static class IdxData
{
    /// <summary>
    /// Builds a classification table with one row per image and one feature per pixel, holding the raw pixel
    /// values 0..255 as doubles (no scaling: standardization is left to the training pipeline).
    /// </summary>
    /// <param name="images">The images.</param>
    /// <param name="labels">One label per image, each in 0..<see cref="CsvReader.MaxClassLabel"/>.</param>
    /// <param name="name">The table's name.</param>
    /// <returns>A table whose features are named <c>pixel_{row}_{col}</c>, whose target is <c>label</c>, whose classes are
    /// the distinct labels present, sorted, encoded 0..K-1 in that order and named by their numbers (so labels 0..9 all
    /// present stay 0..9; labels {1, 4} become 0 and 1, named "1" and "4"), and whose <see cref="TabularData.Sha256"/> is
    /// the SHA-256 of the images' SHA-256 (64 ASCII hex digits) followed by every label, as given, as a little-endian
    /// 32-bit integer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="images"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The label count differs from the image count, or a label is out of range.</exception>
    public static TabularData FromIdx(IdxImages images, ImmutableArray<int> labels, string name)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(name);
        if (labels.IsDefault)
        {
            throw new ArgumentException("The labels array is uninitialized.", nameof(labels));
        }

        if (labels.Length != images.Count)
        {
            throw new ArgumentException(
                Invariant($"There are {images.Count} images but {labels.Length} labels; they must match one to one."),
                nameof(labels));
        }

        var present = new bool[CsvReader.MaxClassLabel + 1];
        for (int i = 0; i < labels.Length; i++)
        {
            int l = labels[i];
            if (l < 0 || l > CsvReader.MaxClassLabel)
            {
                throw new ArgumentException(Invariant($"Label {i} is {l}; labels must be in 0..{CsvReader.MaxClassLabel}."), nameof(labels));
            }

            present[l] = true;
        }

        // The classes are the labels present, in order: rank[l] is label l's class.
        var rank = new int[present.Length];
        var classNames = new List<string>();
        for (int l = 0; l < present.Length; l++)
        {
            if (present[l])
            {
                rank[l] = classNames.Count;
                classNames.Add(l.ToString(CultureInfo.InvariantCulture));
            }
        }

        int perImage = images.PixelsPerImage;
        var names = new string[perImage];
        for (int r = 0; r < images.Rows; r++)
        {
            for (int c = 0; c < images.Cols; c++)
            {
                names[(r * images.Cols) + c] = Invariant($"pixel_{r}_{c}");
            }
        }

        ReadOnlySpan<byte> pixels = images.Pixels.AsSpan();
        var x = new double[pixels.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = pixels[i];
        }

        var y = new double[labels.Length];
        byte[] labelBytes = new byte[labels.Length * 4];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = rank[labels[i]];
            BinaryPrimitives.WriteInt32LittleEndian(labelBytes.AsSpan(i * 4), labels[i]);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.ASCII.GetBytes(images.Sha256));
        hash.AppendData(labelBytes);
        string sha = Convert.ToHexStringLower(hash.GetHashAndReset());

        return new TabularData(
            name,
            ImmutableCollectionsMarshal.AsImmutableArray(names),
            "label",
            TaskKind.Classification,
            images.Count,
            perImage,
            ImmutableCollectionsMarshal.AsImmutableArray(x),
            ImmutableCollectionsMarshal.AsImmutableArray(y),
            classNames.Count,
            sha,
            [.. classNames]);
    }

    /// <summary>Reads an IDX image file and its label file and builds a classification table (see <see cref="FromIdx"/>).</summary>
    /// <param name="imagesPath">The image file (plain or gzip).</param>
    /// <param name="labelsPath">The label file (plain or gzip).</param>
    /// <param name="name">The table's name.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A path is empty.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">A file may not be read.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or the two files hold different numbers of items.</exception>
    public static TabularData Load(string imagesPath, string labelsPath, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        IdxImages images = IdxReader.ReadImages(imagesPath);
        ImmutableArray<int> labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new DataFormatException(
                labelsPath,
                null,
                null,
                Invariant($"the label file holds {labels.Length} labels but the image file '{imagesPath}' holds {images.Count} images"));
        }

        return FromIdx(images, labels, name);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
