using NeuralPure.Properties.Support;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Facade.Data;
using Xunit;
using static NeuralPure.Properties.Facade.Data.DataTestSupport;

namespace NeuralPure.Properties.Facade.Data;

public class SafeTensorsTests
{
    private static readonly Gen<string> Text =
        Gen.ArrayOf(Gen.Elements("a", "Z", "0", "_", ".", " ", "é", "\"", "\\", "\n", "\u0000", "😀", "/", "{"))
            .Select(parts => string.Concat(parts));

    private static readonly Gen<double> F64Value = Gen.Frequency(
        (8, Gen.Choose(int.MinValue, int.MaxValue).Select(i => i / 65536.0 * Math.Pow(2, i % 40))),
        (1, Gen.Elements(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue)));

    private static readonly Gen<SafeTensorsFile> Files =
        from metaCount in Gen.Choose(0, 3)
        from keys in Gen.ArrayOf(Text, metaCount)
        from values in Gen.ArrayOf(Text, metaCount)
        from tensorCount in Gen.Choose(0, 4)
        from tensors in Gen.ArrayOf(
            from rank in Gen.Choose(0, 3)
            from shape in Gen.ArrayOf(Gen.Choose(0, 4), rank)
            from dtype in Gen.Elements(SafeTensorDType.F32, SafeTensorDType.F64)
            from name in Text
            from vals in Gen.ArrayOf(F64Value, shape.Aggregate(1, (a, b) => a * b))
            select (name, shape, dtype, vals),
            tensorCount)
        select new SafeTensorsFile(
            keys.Select((k, i) => (k: k + "#" + i, v: values[i])).ToImmutableDictionary(p => p.k, p => p.v),
            [.. tensors.Select((t, i) => new NamedTensor(
                t.name + "#" + i,
                [.. t.shape],
                t.dtype,
                [.. t.vals.Select(v => t.dtype == SafeTensorDType.F32 ? (double)(float)v : v)]))]);

    private static byte[] Raw(string json, int dataBytes) => Raw(Encoding.UTF8.GetBytes(json), dataBytes);

    private static byte[] Raw(byte[] header, int dataBytes)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    private static SafeTensorsFile Read(byte[] bytes) => SafeTensors.Deserialize(bytes, "m.safetensors");

    private static NamedTensor T(string name, SafeTensorDType dtype, int[] shape, params double[] values) =>
        new(name, [.. shape], dtype, [.. values]);

    [Law(100)]
    public Property Serialize_then_deserialize_is_the_identity() =>
        Prop.ForAll(Files.ToArbitrary(), file =>
        {
            byte[] bytes = SafeTensors.Serialize(file);
            SafeTensorsFile back = Read(bytes);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            return back.Equals(file) && headerLength % 8 == 0 && SafeTensors.Serialize(back).AsSpan().SequenceEqual(bytes);
        });

    [Fact]
    public void Header_matches_the_reference_implementation_byte_for_byte()
    {
        byte[] bytes = SafeTensors.Serialize(new SafeTensorsFile(T("test", SafeTensorDType.F32, [2, 2], 0, 0, 0, 0)));
        const string json = "{\"test\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        string padded = json.PadRight((json.Length + 7) / 8 * 8);
        Assert.Equal((ulong)padded.Length, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        Assert.Equal(padded, Encoding.UTF8.GetString(bytes, 8, padded.Length));
        Assert.Equal(8 + padded.Length + 16, bytes.Length);
    }

    [Fact]
    public void Writes_metadata_first_and_tensors_contiguously_in_the_given_order()
    {
        var file = new SafeTensorsFile(
            ImmutableDictionary<string, string>.Empty.Add("format", "pt").Add("b", "2"),
            [T("z", SafeTensorDType.F64, [1], 1.5), T("empty", SafeTensorDType.F32, [0]), T("a", SafeTensorDType.F32, [], 2)]);
        byte[] bytes = SafeTensors.Serialize(file);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes)).TrimEnd(' ');
        Assert.Equal(
            "{\"__metadata__\":{\"b\":\"2\",\"format\":\"pt\"},\"z\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
            + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}",
            header);
        Assert.Equal(["z", "empty", "a"], Read(bytes).Tensors.Select(t => t.Name));
        Assert.DoesNotContain("__metadata__", Encoding.UTF8.GetString(SafeTensors.Serialize(new SafeTensorsFile(T("x", SafeTensorDType.F32, [], 1)))));
    }

    [Fact]
    public void Reading_returns_tensors_in_data_order_whatever_the_header_order()
    {
        byte[] bytes = Raw("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":{\"shape\":[],\"dtype\":\"F64\",\"data_offsets\":[8,16],\"extra\":1}}", 16);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(bytes.Length - 16), 1.25f);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(bytes.Length - 12), -2f);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(bytes.Length - 8), Math.PI);
        SafeTensorsFile f = Read(bytes);
        Assert.Equal(["a", "b", "x"], f.Tensors.Select(t => t.Name));
        Assert.Equal([1.25], f["a"].Values.ToArray());
        Assert.Equal([-2.0], f.Get("b").Values.ToArray());
        Assert.Equal([Math.PI], f["x"].Values.ToArray());
        Assert.Empty(f.Metadata);
    }

    [Fact]
    public void F32_rounds_to_the_nearest_float_and_non_finite_values_survive()
    {
        var file = new SafeTensorsFile(
            T("f", SafeTensorDType.F32, [5], 0.1, double.NaN, double.PositiveInfinity, 1e300, -0.0),
            T("d", SafeTensorDType.F64, [2], 0.1, double.NegativeInfinity));
        SafeTensorsFile back = Read(SafeTensors.Serialize(file));
        Assert.Equal([(double)0.1f, double.NaN, double.PositiveInfinity, double.PositiveInfinity, -0.0], back["f"].Values.ToArray());
        Assert.True(double.IsNegative(back["f"].Values[4]));
        Assert.Equal([0.1, double.NegativeInfinity], back["d"].Values.ToArray());
        Assert.NotEqual(file, back);
    }

    [Fact]
    public void Missing_tensor_names_the_tensor_and_the_ones_that_exist()
    {
        var f = new SafeTensorsFile(T("w1", SafeTensorDType.F32, [1], 1), T("b1", SafeTensorDType.F32, [1], 1));
        var ex = Assert.Throws<KeyNotFoundException>(() => f["w2"]);
        Assert.Contains("'w2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'w1', 'b1'", ex.Message, StringComparison.Ordinal);
        Assert.False(f.TryGet("w2", out _));
        Assert.True(f.TryGet("b1", out NamedTensor? b1) && b1.Name == "b1");
    }

    [Fact]
    public void Constructors_refuse_inconsistent_content()
    {
        Assert.Throws<ArgumentException>(() => T("a", SafeTensorDType.F32, [2, 2], 1, 2, 3));
        Assert.Throws<ArgumentException>(() => T("a", SafeTensorDType.F32, [-1], []));
        Assert.Throws<ArgumentException>(() => T(SafeTensors.MetadataKey, SafeTensorDType.F32, [], 1));
        Assert.Throws<ArgumentException>(() => new SafeTensorsFile(T("a", SafeTensorDType.F32, [], 1), T("a", SafeTensorDType.F64, [], 1)));
    }

    [Fact]
    public void Write_and_Read_go_through_the_file_system()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        var file = new SafeTensorsFile(
            ImmutableDictionary<string, string>.Empty.Add("epoch", "3"),
            [T("w", SafeTensorDType.F64, [2, 3], 1, 2, 3, 4, 5, 6)]);
        SafeTensors.Write(path, file);
        Assert.Equal(file, SafeTensors.Read(path));
        Assert.Equal(SafeTensors.Serialize(file), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
        var stream = new MemoryStream();
        SafeTensors.WriteTo(stream, file);
        Assert.Equal(SafeTensors.Serialize(file), stream.ToArray());
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(dir.File("absent.safetensors")));
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(path, Assert.Throws<DataFormatException>(() => SafeTensors.Read(path)).Source);
    }

    [Fact]
    public void Hostile_header_lengths_are_refused_quickly_without_allocating()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 60);
        var sw = Stopwatch.StartNew();
        long allocated = Allocated(() => ThrowsData(() => Read(bytes), "header length is 1152921504606846976 bytes, more than the limit of 100000000"));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 99_000_000);
        allocated += Allocated(() => ThrowsData(() => Read(bytes), "header length is 99000000 bytes but only 56 bytes follow"));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        allocated += Allocated(() => ThrowsData(() => Read(bytes), "more than the limit"));
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"took {sw.Elapsed}");
    }

    [Fact]
    public void Hostile_offsets_and_shapes_are_refused_quickly()
    {
        var sw = Stopwatch.StartNew();
        ThrowsData(() => Read(Raw("{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8)), "whose element count overflows");
        ThrowsData(() => Read(Raw("{\"a\":{\"dtype\":\"F64\",\"shape\":[1000000000000],\"data_offsets\":[0,8]}}", 8)), "larger than the supported maximum");
        ThrowsData(() => Read(Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000],\"data_offsets\":[0,4000000000]}}", 8)), "end past the data buffer of 8 bytes");
        ThrowsData(() => Read(Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 8)), "expected two non-negative integers");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"took {sw.Elapsed}");
    }

    [Theory]
    [InlineData("[1,2]", 0, "must be a JSON object starting with '{'")]
    [InlineData(" {}", 0, "must be a JSON object starting with '{'")]
    [InlineData("{\"a\":", 0, "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2, "tensor 'a' has dtype 'F16', which is not supported (supported: F32, F64)")]
    [InlineData("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype' that is a number")]
    [InlineData("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a' has no 'dtype'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a' has no 'shape'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a' has no 'data_offsets'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]}}", 4, "'shape' that is an object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape entry -1 at position 0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape entry 1.5 at position 0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets [0]; expected two non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "data_offsets [4,0]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "data_offsets [-4,0]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4, "expected two non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4, "end past the data buffer of 4 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "shape [2] and dtype F32, which need 8 bytes, but its data_offsets [0, 12] span 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor 'b' [4, 12) overlaps tensor 'a' [0, 8)")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'b' [0, 8) overlaps tensor 'a' [0, 8)")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "bytes 8..12 of the data buffer belong to no tensor (a gap between tensor 'a' and tensor 'b')")]
    [InlineData("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "bytes 0..4 of the data buffer belong to no tensor (a gap between the start of the data buffer and tensor 'b')")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "holds 12 bytes but the tensors cover only 8")]
    [InlineData("{}", 4, "holds 4 bytes but the tensors cover only 0")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]}}", 8, "names tensor 'a' more than once")]
    [InlineData("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "more than one '__metadata__'")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "'__metadata__' value for key 'k' is a number; metadata values must be strings")]
    [InlineData("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "key 'k' more than once")]
    [InlineData("{\"__metadata__\":[]}", 0, "'__metadata__' must be an object")]
    [InlineData("{\"a\":1}", 0, "tensor 'a' must be an object")]
    [InlineData("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "m.safetensors")]
    public void Malformed_headers_are_refused_with_a_clear_message(string json, int dataBytes, string fragment)
    {
        var ex = ThrowsData(() => Read(Raw(json, dataBytes)), "m.safetensors: ", fragment);
        Assert.Equal("m.safetensors", ex.Source);
    }

    [Fact]
    public void Short_files_bad_utf8_and_deep_json_are_refused()
    {
        ThrowsData(() => Read([1, 2, 3]), "3 bytes long, shorter than the 8-byte header length");
        ThrowsData(() => Read(Raw([(byte)'{', 0xff, (byte)'}'], 0)), "not valid UTF-8");
        ThrowsData(() => Read(Raw("{\"a\":" + new string('[', 200) + new string(']', 200) + "}", 0)), "not valid JSON");
        ThrowsData(() => Read(Raw([], 0)), "must be a JSON object");
    }

    [Law(100)]
    public Property Mutated_files_give_content_or_a_DataFormatException() =>
        Prop.ForAll(Mutations, mutations =>
        {
            byte[] valid = SafeTensors.Serialize(new SafeTensorsFile(
                ImmutableDictionary<string, string>.Empty.Add("k", "v"),
                [T("w", SafeTensorDType.F32, [2, 2], 1, 2, 3, 4), T("b", SafeTensorDType.F64, [1], 5), T("e", SafeTensorDType.F32, [0])]));
            return SucceedsOrDataFormat(() => Read(Apply(valid, mutations)));
        });
}
