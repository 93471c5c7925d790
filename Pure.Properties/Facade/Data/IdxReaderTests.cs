using NeuralPure.Properties.Support;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Facade.Data;
using Xunit;
using static NeuralPure.Properties.Facade.Data.DataTestSupport;

namespace NeuralPure.Properties.Facade.Data;

public class IdxReaderTests
{
    internal static byte[] Idx(byte type, uint[] dims, byte[] data)
    {
        var bytes = new byte[4 + (4 * dims.Length) + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dims[i]);
        }

        data.CopyTo(bytes, 4 + (4 * dims.Length));
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(bytes);
        }

        return ms.ToArray();
    }

    private static byte[] Pixels(int n) => [.. Enumerable.Range(0, n).Select(i => (byte)(i * 37))];

    private static IdxImages Images(byte[] file) => IdxReader.ReadImages(new MemoryStream(file), "img");

    private static ImmutableArray<int> Labels(byte[] file) => IdxReader.ReadLabels(new MemoryStream(file), "lbl");

    [Fact]
    public void Reads_plain_and_gzip_images_and_hashes_the_stored_bytes()
    {
        byte[] pixels = Pixels(3 * 2 * 4);
        byte[] plain = Idx(0x08, [3, 2, 4], pixels);
        byte[] gz = Gzip(plain);
        foreach (byte[] file in new[] { plain, gz })
        {
            IdxImages img = Images(file);
            Assert.Equal((3, 2, 4), (img.Count, img.Rows, img.Cols));
            Assert.Equal(pixels, img.Pixels.ToArray());
            Assert.Equal(Sha256Hex(file), img.Sha256);
            Assert.Equal(pixels.AsSpan(8, 8).ToArray(), img.GetImage(1).ToArray());
            IdxImages trickled = IdxReader.ReadImages(new TrickleStream(new MemoryStream(file)), "t");
            Assert.Equal(img, trickled);
        }
    }

    [Fact]
    public void Reads_plain_and_gzip_labels()
    {
        byte[] plain = Idx(0x08, [5], [0, 9, 255, 3, 3]);
        Assert.Equal([0, 9, 255, 3, 3], Labels(plain).ToArray());
        Assert.Equal([0, 9, 255, 3, 3], Labels(Gzip(plain)).ToArray());
        Assert.Empty(Labels(Idx(0x08, [0], [])));
    }

    [Fact]
    public void Detects_gzip_by_magic_not_by_file_name()
    {
        using var dir = new TempDir();
        byte[] plain = Idx(0x08, [2, 1, 1], [7, 8]);
        File.WriteAllBytes(dir.File("plain.gz"), plain);
        File.WriteAllBytes(dir.File("packed.idx"), Gzip(plain));
        Assert.Equal([7, 8], IdxReader.ReadImages(dir.File("plain.gz")).Pixels.ToArray());
        Assert.Equal([7, 8], IdxReader.ReadImages(dir.File("packed.idx")).Pixels.ToArray());
        Assert.Throws<FileNotFoundException>(() => IdxReader.ReadLabels(dir.File("absent")));
    }

    [Fact]
    public void Zero_images_are_allowed_but_zero_sized_images_are_not()
    {
        Assert.Equal(0, Images(Idx(0x08, [0, 28, 28], [])).Count);
        ThrowsData(() => Images(Idx(0x08, [1, 0, 28], [])), "dimension 2 (rows) is 0");
        ThrowsData(() => Images(Idx(0x08, [1, 28, 0], [])), "dimension 3 (cols) is 0");
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0, 0, 8 }, "too short for an IDX header (3 bytes")]
    [InlineData(new byte[] { 1, 0, 8, 3 }, "must start with two zero bytes, found 0x01 0x00")]
    [InlineData(new byte[] { 0, 0, 0x0D, 3, 0, 0, 0, 1 }, "element type 0x0d (32-bit float)")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 5 }, "declares 1 dimensions, but an image file needs 3 (count, rows, cols); is this a label file?")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0 }, "ends inside the header")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1 }, "dimension 1 (count) is 2147483648")]
    public void Malformed_image_headers_are_refused(byte[] file, string fragment)
    {
        var ex = ThrowsData(() => Images(file), fragment);
        Assert.Equal("img", ex.Source);
    }

    [Fact]
    public void Label_files_need_one_dimension()
    {
        ThrowsData(() => Labels(Idx(0x08, [1, 1, 1], [0])), "a label file needs 1 (count); is this an image file?");
    }

    [Fact]
    public void A_header_claiming_billions_of_images_is_refused_before_allocating()
    {
        byte[] plain = Idx(0x08, [int.MaxValue, 28, 28], Pixels(1234));
        var sw = Stopwatch.StartNew();
        long allocated = Allocated(() =>
            ThrowsData(() => Images(plain), "claims 2147483647 images of 28x28", "the file holds 1234 bytes of pixels"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        // Gzip: the size is unknown up front. A claim beyond what an array can hold is refused at once ...
        byte[] gz = Gzip(plain);
        allocated = Allocated(() =>
            ThrowsData(() => Images(gz), "claims 2147483647 images of 28x28", "more than the 2147483591 bytes that can be loaded"));
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        // ... and a loadable but false claim (784 MB) grows the buffer only as real data arrives.
        byte[] falseClaim = Idx(0x08, [1_000_000, 28, 28], Pixels(1234));
        allocated = Allocated(() =>
            ThrowsData(() => Images(Gzip(falseClaim)), "claims 1000000 images of 28x28 (784000000 bytes of pixels) but the decompressed data holds 1234 bytes of pixels"));
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        allocated = Allocated(() =>
            ThrowsData(() => IdxReader.ReadImages(new TrickleStream(new MemoryStream(falseClaim), 4096), "x"), "but the file holds 1234 bytes of pixels"));
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed}");
    }

    [Fact]
    public void Truncated_and_overlong_data_are_refused()
    {
        byte[] plain = Idx(0x08, [2, 2, 2], Pixels(8));
        ThrowsData(() => Images(plain[..^1]), "claims 2 images of 2x2 (8 bytes of pixels) but the file holds 7 bytes of pixels");
        ThrowsData(() => Images([.. plain, 0]), "holds 9 bytes of pixels: 1 trailing bytes");
        ThrowsData(() => Images(Gzip(plain[..^1])), "but the decompressed data holds 7 bytes of pixels");
        ThrowsData(() => Images(Gzip([.. plain, 0])), "the decompressed data has trailing bytes");
        ThrowsData(() => Labels(Idx(0x08, [3], [1, 2])), "claims 3 labels (3 bytes) but the file holds 2 bytes of labels");
    }

    [Fact]
    public void Corrupt_gzip_is_a_data_format_error()
    {
        byte[] gz = Gzip(Idx(0x08, [4, 4, 4], Pixels(64)));
        gz[12] ^= 0xff;
        gz[13] ^= 0x55;
        Assert.Throws<DataFormatException>(() => Images(gz));
        ThrowsData(() => Images([0x1f, 0x8b, 0, 0]), "img");
    }

    [Fact]
    public void FromIdx_builds_a_raw_pixel_classification_table()
    {
        IdxImages img = Images(Idx(0x08, [2, 1, 3], [0, 128, 255, 1, 2, 3]));
        TabularData t = IdxData.FromIdx(img, [4, 1], "tiny");
        Assert.Equal(("tiny", 2, 3, 2, "label"), (t.Name, t.Rows, t.Features, t.Classes, t.TargetName));
        Assert.Equal(["pixel_0_0", "pixel_0_1", "pixel_0_2"], t.FeatureNames.ToArray());
        Assert.Equal([0.0, 128, 255, 1, 2, 3], t.X.ToArray());
        Assert.Equal([1, 0], t.Labels.ToArray()); // the labels present, 1 and 4, are classes 0 and 1
        Assert.Equal(["1", "4"], t.ClassNames.ToArray());
        Assert.NotEqual(t.Sha256, IdxData.FromIdx(img, [4, 2], "tiny").Sha256);

        var ex = Assert.Throws<ArgumentException>(() => IdxData.FromIdx(img, [1], "x"));
        Assert.Contains("2 images but 1 labels", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => IdxData.FromIdx(img, [1, -1], "x"));
    }

    [Fact]
    public void FromIdx_encodes_against_given_class_names()
    {
        IdxImages img = Images(Idx(0x08, [2, 1, 1], [7, 8]));
        string[] digits = [.. Enumerable.Range(0, 10).Select(l => l.ToString(CultureInfo.InvariantCulture))];
        TabularData t = IdxData.FromIdx(img, [4, 1], "x", digits);
        Assert.Equal((10, 4, 1), (t.Classes, t.Labels[0], t.Labels[1]));
        Assert.Equal(digits, t.ClassNames);

        // Text names: label k is the class at position k.
        TabularData named = IdxData.FromIdx(img, [1, 0], "x", ["coat", "shirt"]);
        Assert.Equal(["coat", "shirt"], named.ClassNames.ToArray());
        Assert.Equal([1, 0], named.Labels.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => IdxData.FromIdx(img, [1, 2], "x", ["coat", "shirt"]));
        Assert.Contains("Label 1 is 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal([1, 1], IdxData.FromIdx(img, [1, 1], "x", ["3", "1"]).Labels.ToArray()); // by value when names are numbers
        Assert.Throws<ArgumentException>(() => IdxData.FromIdx(img, [1, 1], "x", []));
        Assert.Throws<ArgumentException>(() => IdxData.FromIdx(img, [1, 1], "x", ["a", "a"]));

        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("i"), Idx(0x08, [3, 1, 1], [1, 2, 3]));
        File.WriteAllBytes(dir.File("l"), Idx(0x08, [3], [0, 1, 5]));
        ThrowsData(() => IdxData.Load(dir.File("i"), dir.File("l"), "x", ["a", "b"]), dir.File("l"), "item 3 has the label 5", "2 given classes");
        Assert.Equal(6, IdxData.Load(dir.File("i"), dir.File("l"), "x", ["0", "1", "2", "3", "4", "5"]).Classes);
    }

    [Fact]
    public void IdxData_Load_refuses_files_of_different_lengths()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("i"), Idx(0x08, [2, 1, 1], [1, 2]));
        File.WriteAllBytes(dir.File("l"), Idx(0x08, [3], [1, 2, 3]));
        ThrowsData(() => IdxData.Load(dir.File("i"), dir.File("l"), "x"), "holds 3 labels but the image file", "holds 2 images");
    }

    [Fact]
    public void Reads_the_Fashion_MNIST_test_split()
    {
        string folder = BundledDataSets.FindFashionMnistFolder();
        string images = Path.Combine(folder, BundledDataSets.FashionMnistImagesFile);
        string labels = Path.Combine(folder, BundledDataSets.FashionMnistLabelsFile);
        IdxImages img = IdxReader.ReadImages(images);
        Assert.Equal((10000, 28, 28), (img.Count, img.Rows, img.Cols));
        Assert.Equal("cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", img.Sha256);
        ImmutableArray<int> lbl = IdxReader.ReadLabels(labels);
        Assert.All(lbl.GroupBy(l => l), g => Assert.Equal(1000, g.Count()));
        Assert.Equal(10, lbl.Distinct().Count());
        TabularData t = IdxData.FromIdx(img, lbl, "fashion-mnist");
        Assert.Equal((10000, 784, 10), (t.Rows, t.Features, t.Classes));
        Assert.Equal(lbl.ToArray(), t.Labels.ToArray()); // all ten present: the labels are the file's
        Assert.Equal(Enumerable.Range(0, 10).Select(l => l.ToString(CultureInfo.InvariantCulture)), t.ClassNames);
    }

    [Law(100)]
    public Property Mutated_idx_gives_images_or_a_DataFormatException() =>
        Prop.ForAll(Mutations, mutations =>
        {
            byte[] images = Idx(0x08, [3, 2, 2], Pixels(12));
            byte[] labels = Idx(0x08, [3], [0, 1, 2]);
            return SucceedsOrDataFormat(() => Images(Apply(images, mutations)))
                && SucceedsOrDataFormat(() => Images(Apply(Gzip(images), mutations)))
                && SucceedsOrDataFormat(() => Labels(Apply(labels, mutations)))
                && SucceedsOrDataFormat(() => IdxReader.ReadLabels(new TrickleStream(new MemoryStream(Apply(Gzip(labels), mutations))), "t"));
        });
}
