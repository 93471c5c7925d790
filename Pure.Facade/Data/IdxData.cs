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
    /// <param name="classNames">The classes to encode the labels against, in label order (e.g. a trained model's), or null
    /// for the labels present. Matched as <see cref="CsvOptions.ClassNames"/> are: by value when some names are numbers,
    /// otherwise label k is class k.</param>
    /// <returns>A table whose features are named <c>pixel_{row}_{col}</c>, whose target is <c>label</c>, whose classes are
    /// the distinct labels present, sorted, encoded 0..K-1 in that order and named by their numbers (so labels 0..9 all
    /// present stay 0..9; labels {1, 4} become 0 and 1, named "1" and "4"), and whose <see cref="TabularData.Sha256"/> is
    /// the SHA-256 of the images' SHA-256 (64 ASCII hex digits) followed by every label, as given, as a little-endian
    /// 32-bit integer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="images"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The label count differs from the image count, a label is out of range or not
    /// one of <paramref name="classNames"/>, or the class names are not 1 to <see cref="CsvReader.MaxClasses"/> distinct
    /// strings.</exception>
    public static TabularData FromIdx(IdxImages images, ImmutableArray<int> labels, string name, IReadOnlyList<string>? classNames = null)
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

        // The classes are the labels present, in order, or the given ones: rank[l] is label l's class.
        var rank = new int[present.Length];
        List<string> classes;
        if (classNames is null)
        {
            classes = [];
            for (int l = 0; l < present.Length; l++)
            {
                if (present[l])
                {
                    rank[l] = classes.Count;
                    classes.Add(l.ToString(CultureInfo.InvariantCulture));
                }
            }
        }
        else
        {
            if (classNames.Count == 0 || classNames.Count > CsvReader.MaxClasses || classNames.Any(n => n is null) || classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            {
                throw new ArgumentException(Invariant($"The class names must be 1 to {CsvReader.MaxClasses} distinct non-null strings."), nameof(classNames));
            }

            classes = [.. classNames];
            var matcher = new ClassMatcher(classes);
            for (int i = 0; i < labels.Length; i++)
            {
                if (!matcher.TryNumber(labels[i], out rank[labels[i]]))
                {
                    throw new ArgumentException(Invariant($"Label {i} is {labels[i]}, which is not one of the {matcher.Describe()}."), nameof(labels));
                }
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
            classes.Count,
            sha,
            [.. classes]) { ExampleShape = [1, images.Rows, images.Cols] };
    }

    /// <summary>Reads an IDX image file and its label file and builds a classification table (see <see cref="FromIdx"/>).</summary>
    /// <param name="imagesPath">The image file (plain or gzip).</param>
    /// <param name="labelsPath">The label file (plain or gzip).</param>
    /// <param name="name">The table's name.</param>
    /// <param name="classNames">The classes to encode the labels against (see <see cref="FromIdx"/>), or null for the labels present.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A path is empty.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">A file may not be read.</exception>
    /// <exception cref="DataFormatException">A file is malformed, the two files hold different numbers of items, or a
    /// label is not one of <paramref name="classNames"/> (the message names the item).</exception>
    public static TabularData Load(string imagesPath, string labelsPath, string name, IReadOnlyList<string>? classNames = null)
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

        if (classNames is not null && classNames.Count > 0 && classNames.All(n => n is not null))
        {
            var matcher = new ClassMatcher(classNames);
            for (int i = 0; i < labels.Length; i++)
            {
                if (!matcher.TryNumber(labels[i], out _))
                {
                    throw new DataFormatException(
                        labelsPath,
                        null,
                        null,
                        Invariant($"item {i + 1} has the label {labels[i]}, which is not one of the {matcher.Describe()}"));
                }
            }
        }

        return FromIdx(images, labels, name, classNames);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
