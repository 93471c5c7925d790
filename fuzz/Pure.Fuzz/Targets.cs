using System.Collections.Immutable;
using System.IO.Compression;
using System.Text;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Fuzz;

/// <summary>A reader under test: how to feed it one input, what it may allocate, its seeds and its format-aware mutations.</summary>
internal abstract class Target
{
    public abstract string Name { get; }

    /// <summary>Runs the reader on one input. Returns a short description of a success (it is the coverage signal for
    /// successes); throws whatever the reader throws. <paramref name="variant"/> picks the entry point (bytes, stream, file).</summary>
    public abstract string Run(byte[] input, int variant, string scratchDir);

    /// <summary>The number of entry-point variants <see cref="Run"/> knows.</summary>
    public virtual int Variants => 1;

    /// <summary>The most bytes the reader may allocate for this input: a multiple of what the input really holds, plus a constant.</summary>
    public abstract long AllocationBound(byte[] input);

    /// <summary>What the input really holds: its length, or (gzip) what it decompresses to.</summary>
    public virtual long RealSize(byte[] input) => input.Length;

    public abstract IEnumerable<(string Name, byte[] Bytes)> Seeds();

    /// <summary>The largest input the mutator makes for this reader.</summary>
    public virtual int MaxInput => 1 << 20;

    /// <summary>Tokens worth inserting for this format.</summary>
    public virtual IReadOnlyList<byte[]> Dictionary => [];

    /// <summary>A mutation that knows the format (header fields, JSON numbers, lines), or null to fall back to byte-level ones.</summary>
    public virtual byte[]? MutateStructure(byte[] input, System.Random rng) => null;

    public static Target Create(string name) => name switch
    {
        "safetensors" => new SafeTensorsTarget(),
        "csv" => new CsvTarget(),
        "idx" => new IdxTarget(),
        "model" => new ModelTarget(),
        "checkpoint" => new CheckpointTarget(),
        _ => throw new ArgumentException($"unknown target '{name}'; known: safetensors, csv, idx, model, checkpoint"),
    };

    public static readonly string[] All = ["safetensors", "csv", "idx", "model", "checkpoint"];

    protected static string WriteScratch(string dir, byte[] input, string name)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    protected static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}

/// <summary>SafeTensors.Deserialize (bytes) and SafeTensors.Read (file).</summary>
internal class SafeTensorsTarget : Target
{
    public override string Name => "safetensors";

    public override int Variants => 2;

    public override string Run(byte[] input, int variant, string scratchDir)
    {
        var f = variant == 0 ? SafeTensors.Deserialize(input, "fuzz") : SafeTensors.Read(WriteScratch(scratchDir, input, "in.safetensors"));
        return Describe(f);
    }

    protected static string Describe(SafeTensorsFile f) =>
        $"ok:{Math.Min(f.Tensors.Length, 4)}t:{string.Join("", f.Tensors.Select(t => t.DType).Distinct().Order())}:{Math.Min(f.Metadata.Count, 3)}m:{f.Tensors.Any(t => t.Values.IsEmpty)}";

    /// <summary>The file itself (1×), the header's copy and its JSON document (a few × the header), F32 widened to double (2×).</summary>
    public override long AllocationBound(byte[] input) => 32L * input.Length + (2 << 20);

    public override IEnumerable<(string, byte[])> Seeds()
    {
        yield return ("f32-2x3", SafeTensors.Serialize(new SafeTensorsFile(new NamedTensor("w", [2, 3], SafeTensorDType.F32, [1, 2, 3, 4, 5, 6]))));
        yield return ("mixed-meta", SafeTensors.Serialize(new SafeTensorsFile(
            ImmutableDictionary<string, string>.Empty.Add("format", "pt").Add("note", "ünïcode ✓"),
            [new NamedTensor("scalar", [], SafeTensorDType.F64, [Math.PI]), new NamedTensor("empty", [0], SafeTensorDType.F32, []),
             new NamedTensor("m", [2, 2], SafeTensorDType.F64, [1, -0.0, double.NaN, double.PositiveInfinity])])));
        yield return ("three", SafeTensors.Serialize(new SafeTensorsFile(
            [new NamedTensor("a.weight", [3, 2], SafeTensorDType.F32, [.. Enumerable.Range(0, 6).Select(i => (double)i)]),
             new NamedTensor("a.bias", [3], SafeTensorDType.F32, [0.5, 0.25, 0.125]),
             new NamedTensor("b", [1, 1, 1, 2], SafeTensorDType.F64, [7, 8])])));
    }

    public override IReadOnlyList<byte[]> Dictionary { get; } =
        [.. new[] { "\"dtype\"", "\"F32\"", "\"F64\"", "\"BF16\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "[", "]", "{", "}", ":", ",", "-1",
            "18446744073709551616", "9223372036854775807", "2147483648", "1e400", "\\u0000", "\"\\ud800\"", "null", "true", "0.5", "[]", "{}" }.Select(Utf8)];

    private static readonly ulong[] InterestingLengths = [0, 1, 2, 7, 8, 9, 100_000_000, 100_000_001, int.MaxValue, 1UL << 31, 1UL << 32, 1UL << 60, 1UL << 63, ulong.MaxValue];

    private static readonly string[] InterestingNumbers =
        ["0", "-1", "1", "3", "4", "7", "8", "2147483647", "2147483648", "4294967296", "9007199254740993", "9223372036854775807", "9223372036854775808",
         "18446744073709551615", "1e308", "1.5", "-0", "1E3", "0x10", "00"];

    private static readonly string[] Fragments =
        ["\"x\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,0]}",
         "\"y\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}",
         "\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
         "\"__metadata__\":{\"k\":1}", "\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}", "\"__metadata__\":[]",
         "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]}", "\"q\":{\"shape\":[],\"data_offsets\":[0,4]}",
         "\"r\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", "\"s\":[1,2]", "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775807,9223372036854775807]}"];

    /// <summary>Splits into (header text, data), mutates the header's JSON (a number, a dtype, an added or duplicated entry) or
    /// the length prefix, and usually re-frames it with a correct prefix so the deeper checks are reached.</summary>
    public override byte[]? MutateStructure(byte[] input, System.Random rng)
    {
        if (input.Length < 8) return null;
        ulong declared = BitConverter.ToUInt64(input, 0);
        if (rng.Next(5) == 0 || declared > (ulong)(input.Length - 8))
        {
            var r = (byte[])input.Clone();
            ulong v = InterestingLengths[rng.Next(InterestingLengths.Length)];
            if (rng.Next(2) == 0 && declared <= (ulong)(input.Length - 8)) v = declared + (ulong)(rng.Next(-8, 9));
            BitConverter.GetBytes(v).CopyTo(r, 0);
            return r;
        }
        string header = Encoding.UTF8.GetString(input, 8, (int)declared);
        byte[] data = input[(8 + (int)declared)..];
        switch (rng.Next(6))
        {
            case 0: // replace one number
            {
                var m = System.Text.RegularExpressions.Regex.Matches(header, @"-?\d+(\.\d+)?([eE][+-]?\d+)?");
                if (m.Count == 0) return null;
                var pick = m[rng.Next(m.Count)];
                header = header[..pick.Index] + InterestingNumbers[rng.Next(InterestingNumbers.Length)] + header[(pick.Index + pick.Length)..];
                break;
            }
            case 1: // swap a dtype
            {
                string[] types = ["F32", "F64", "BF16", "I64", "U8", "f32", "", "F32 "];
                int i = header.IndexOf("\"F", StringComparison.Ordinal);
                if (i < 0) return null;
                int j = header.IndexOf('"', i + 1);
                if (j < 0) return null;
                header = header[..(i + 1)] + types[rng.Next(types.Length)] + header[j..];
                break;
            }
            case 2: // add an entry at the front
            {
                int i = header.IndexOf('{');
                if (i < 0) return null;
                string frag = Fragments[rng.Next(Fragments.Length)];
                header = header[..(i + 1)] + frag + (header.TrimEnd().Length > i + 2 ? "," : "") + header[(i + 1)..];
                break;
            }
            case 3: // duplicate the first tensor entry's name
            {
                var m = System.Text.RegularExpressions.Regex.Match(header, "\"([^\"]+)\":\\{\"dtype\"");
                if (!m.Success) return null;
                header = header.Insert(m.Index, m.Value + "\"F32\",\"shape\":[],\"data_offsets\":[0,4]},");
                break;
            }
            case 4: // swap two data_offsets pairs (overlaps, gaps, out of order)
            {
                var m = System.Text.RegularExpressions.Regex.Matches(header, @"\[\d+,\d+\]");
                if (m.Count < 2) return null;
                var a = m[rng.Next(m.Count)]; var b = m[rng.Next(m.Count)];
                if (a.Index == b.Index) return null;
                var (first, second) = a.Index < b.Index ? (a, b) : (b, a);
                header = header[..first.Index] + second.Value + header[(first.Index + first.Length)..second.Index] + first.Value + header[(second.Index + second.Length)..];
                break;
            }
            default: // cut or grow the data buffer
                data = rng.Next(2) == 0 && data.Length > 0 ? data[..rng.Next(data.Length)] : [.. data, .. new byte[rng.Next(1, 17)]];
                break;
        }
        byte[] h = Encoding.UTF8.GetBytes(header);
        int pad = rng.Next(4) == 0 ? 0 : (8 - h.Length % 8) % 8;
        var result = new byte[8 + h.Length + pad + data.Length];
        BitConverter.GetBytes((ulong)(h.Length + pad)).CopyTo(result, 0);
        h.CopyTo(result, 8);
        result.AsSpan(8 + h.Length, pad).Fill((byte)' ');
        data.CopyTo(result, 8 + h.Length + pad);
        return result;
    }
}

/// <summary>ModelFile.FromSafeTensors on top of the safetensors reader: the model file's metadata and tensor checks.</summary>
internal sealed class ModelTarget : SafeTensorsTarget
{
    public override string Name => "model";

    public override int Variants => 1;

    public override string Run(byte[] input, int variant, string scratchDir)
    {
        var (m, _) = ModelFile.FromSafeTensors(SafeTensors.Deserialize(input, "fuzz"), "fuzz");
        return $"ok:{m.Spec.Layers.Length}:{m.Task}";
    }

    public override long AllocationBound(byte[] input) => 64L * input.Length + (4 << 20);

    public override IEnumerable<(string, byte[])> Seeds()
    {
        var spec = ModelSpec.Mlp([4, 5, 3], new ReluSpec(), new SoftmaxCrossEntropySpec());
        var p = Model.Init<float>(spec, NeuralPure.Random.RandomKey.FromSeed(1));
        var st = new Standardizer([1, 2, 3, 4], [0.5, 1, 2, 4]);
        var model = new TrainedModel(spec, p, st, TaskKind.Classification, 3, ["a", "b", "c", "d"], "label");
        yield return ("mlp-4-5-3", SafeTensors.Serialize(ModelFile.ToSafeTensors(model, "{\"epochs\":1}")));
        var reg = ModelSpec.Mlp([2, 1], new TanhSpec(), new MseSpec());
        var rm = new TrainedModel(reg, Model.Init<float>(reg, default), new Standardizer([0, 0], [1, 1], 3, 2), TaskKind.Regression, 0, ["x", "y"], "z");
        yield return ("linear-2-1", SafeTensors.Serialize(ModelFile.ToSafeTensors(rm)));
    }
}

/// <summary>CheckpointFile.FromSafeTensors on top of the safetensors reader: every fact a resumed fit relies on.</summary>
internal sealed class CheckpointTarget : SafeTensorsTarget
{
    public override string Name => "checkpoint";

    public override int Variants => 1;

    public override string Run(byte[] input, int variant, string scratchDir)
    {
        var c = CheckpointFile.FromSafeTensors(SafeTensors.Deserialize(input, "fuzz"), "fuzz");
        return $"ok:{c.Reason}:{c.State.OptState.GetType().Name}:{c.Cursor > 0}";
    }

    public override long AllocationBound(byte[] input) => 64L * input.Length + (4 << 20);

    public override IEnumerable<(string, byte[])> Seeds()
    {
        var spec = ModelSpec.Mlp([2, 3, 2], new TanhSpec(), new SoftmaxCrossEntropySpec(), dropout: 0.1);
        var x = new float[24]; var y = new float[12];
        for (int i = 0; i < 12; i++) { x[2 * i] = i % 3; x[2 * i + 1] = -i % 2; y[i] = i % 2; }
        var data = new DataSet<float>(NdArray.From<float>(x, 12, 2), NdArray.From<float>(y, 12));
        string dir = Directory.CreateTempSubdirectory("fuzz-seed-").FullName;
        try
        {
            var cases = new (string Name, GradientTransform Opt, EarlyStopping? Es, int Stop)[]
            {
                ("adamw-clip-mid", new OptimizerOptions("adamw", 0.01, ClipNorm: 1).Build(20), null, 7),
                ("rms-centered-es", Optimizer.RmsProp(0.01, momentum: 0.5, centered: true), new EarlyStopping(2), 9),
                ("momentum-start", Optimizer.Momentum(0.1), null, 0),
            };
            var list = new List<(string, byte[])>();
            foreach (var (name, opt, es, stop) in cases)
            {
                string path = Path.Combine(dir, name);
                using var cts = new CancellationTokenSource();
                int seen = 0;
                var it = new Progress(() => { if (++seen == stop) cts.Cancel(); });
                if (stop == 0) cts.Cancel();
                Fitter.Fit(spec, opt, data, es is null ? null : data, new FitOptions(4, 4, 3, EarlyStopping: es, ReportIterations: true), null, it, null, cts.Token,
                    new CheckpointOptions(path, 1, ImmutableDictionary<string, string>.Empty.Add("config", "{}")));
                list.Add((name, File.ReadAllBytes(path)));
            }
            return list;
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed class Progress(Action a) : IProgress<IterationReport>
    {
        public void Report(IterationReport value) => a();
    }
}

/// <summary>CsvReader.Parse over a stream (seekable or trickling) and CsvReader.Load (file), with a few option sets.</summary>
internal sealed class CsvTarget : Target
{
    public override string Name => "csv";

    /// <summary>Text parsing is per byte; a quarter megabyte already holds thousands of rows.</summary>
    public override int MaxInput => 256 << 10;

    public override int Variants => 8;

    private static readonly CsvOptions[] Options =
        [CsvOptions.Default, new CsvOptions { Task = TaskKind.Classification }, new CsvOptions { Task = TaskKind.Regression, Target = "a" },
         new CsvOptions { Separator = ';' }];

    public override string Run(byte[] input, int variant, string scratchDir)
    {
        var options = Options[variant % Options.Length];
        TabularData t;
        if (variant == 7) t = CsvReader.Load(WriteScratch(scratchDir, input, "in.csv"), options);
        else
        {
            // A few bytes per read exercise every split of a token across reads; on large inputs that only costs time.
            using Stream s = variant >= 4 ? new Trickle(new MemoryStream(input, false), input.Length < 8192 ? 1 + variant : 4093) : new MemoryStream(input, false);
            t = CsvReader.Parse(s, "fuzz", options);
        }
        return $"ok:{Math.Min(t.Features, 5)}f:{Math.Min(t.Rows, 3)}r:{t.Task}:{Math.Min(t.Classes, 3)}";
    }

    /// <summary>Numbers as doubles twice at the peak (chunks, then the exact array) = 16 bytes per value of ≥ 2 bytes of text;
    /// column names as strings with their list and dictionary entries (~ 40 bytes per name of ≥ 2 bytes). 64× is generous.</summary>
    public override long AllocationBound(byte[] input) => 64L * input.Length + (2 << 20);

    public override IEnumerable<(string, byte[])> Seeds()
    {
        yield return ("small", Utf8("a,b,label\n1,2,0\n3.5,-4e-2,1\n"));
        yield return ("quoted-crlf-bom", Utf8("\uFEFF\"x\",\"y \"\"q\"\"\",target\r\n\"1\",\"2.5\",3\r\n4,5,6\r\n\r\n"));
        yield return ("regression", Utf8("x1,x2,x3,y\n0.1,0.2,0.3,0.33\n-1e3,2E-5,+7,1.5\n  8 , 9 ,10, 11.25\n"));
        yield return ("iris-head", Utf8("sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n6.4,3.2,4.5,1.5,1\n6.3,3.3,6.0,2.5,2\n5.8,2.7,5.1,1.9,2\n"));
        yield return ("semicolon", Utf8("a;b;c\n1;2;3\n4;5;6\n"));
    }

    public override IReadOnlyList<byte[]> Dictionary { get; } =
        [.. new[] { "\"", "\"\"", ",", ";", "\t", "\r", "\n", "\r\n", "NaN", "nan", "inf", "-Infinity", "∞", "-0", "1e309", "9e-400", "0x1F", "1,5", "+5", " 5 ",
            "\u00a05", "\uFEFF", "\0", "1_000", "1e", ".", "-", "e5", "65536", "65535", "99", "100", "-1", "0.5", "\"1\"", "\"a\"\"b\"" }.Select(Utf8)];

    private static readonly string[] FieldTokens =
        ["NaN", "inf", "-0", "1e309", "", " ", "\"\"", "\"1\"", "\"1", "1\"", "0x10", "65536", "1e-400", "1.7976931348623157E+308", new string('9', 400),
         new string('1', 1100), "a", "label", "-", "1e5", "3", "2.5"];

    /// <summary>Line-level edits: duplicate, delete or swap lines, add or drop a field, replace a field, change line ends, repeat rows.</summary>
    public override byte[]? MutateStructure(byte[] input, System.Random rng)
    {
        string text = Encoding.UTF8.GetString(input);
        var lines = text.Split('\n').ToList();
        if (lines.Count == 0) return null;
        int i = rng.Next(lines.Count);
        switch (rng.Next(8))
        {
            case 0: lines.Insert(i, lines[rng.Next(lines.Count)]); break;
            case 1: if (lines.Count > 1) lines.RemoveAt(i); break;
            case 2: { int j = rng.Next(lines.Count); (lines[i], lines[j]) = (lines[j], lines[i]); break; }
            case 3: lines[i] += "," + FieldTokens[rng.Next(FieldTokens.Length)]; break;
            case 4: { int c = lines[i].LastIndexOf(','); if (c >= 0) lines[i] = lines[i][..c]; break; }
            case 5:
            {
                var f = lines[i].Split(',');
                f[rng.Next(f.Length)] = FieldTokens[rng.Next(FieldTokens.Length)];
                lines[i] = string.Join(",", f);
                break;
            }
            case 6: return Utf8(string.Join(rng.Next(3) switch { 0 => "\r\n", 1 => "\r", _ => "\n\n" }, lines));
            default:
            {
                string row = lines[Math.Max(1, i) % lines.Count];
                int k = Math.Min(rng.Next(2, 400), MaxInput / (row.Length + 1) + 1); // many rows: chunk growth and the allocation bound
                lines.InsertRange(Math.Min(lines.Count, Math.Max(1, i)), Enumerable.Repeat(row, k));
                break;
            }
        }
        return Utf8(string.Join("\n", lines));
    }
}

/// <summary>IdxReader.ReadImages and ReadLabels over seekable and unseekable streams and files, plain and gzip.</summary>
internal sealed class IdxTarget : Target
{
    public override string Name => "idx";

    public override int Variants => 6;

    public override string Run(byte[] input, int variant, string scratchDir)
    {
        bool images = variant % 2 == 0;
        if (variant >= 4)
        {
            string path = WriteScratch(scratchDir, input, "in.idx");
            return images ? $"ok:img:{IdxReader.ReadImages(path).Count}" : $"ok:lbl:{IdxReader.ReadLabels(path).Length}";
        }
        using Stream s = variant >= 2 ? new Trickle(new MemoryStream(input, false), 4096) : new MemoryStream(input, false);
        return images ? $"ok:img:{Math.Min(IdxReader.ReadImages(s, "fuzz").Count, 3)}" : $"ok:lbl:{Math.Min(IdxReader.ReadLabels(s, "fuzz").Length, 3)}";
    }

    /// <summary>Plain: the data (1×) plus labels widened to int (4×). Gzip: measured on what the stream really decompresses to
    /// (the reader grows its buffer by doubling as data arrives: ≤ 2×), so a claim in the header never justifies anything.</summary>
    public override long AllocationBound(byte[] input) => 16L * RealSize(input) + (4 << 20);

    public override long RealSize(byte[] input) =>
        input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b ? Math.Max(input.Length, DecompressedLength(input, 256L << 20)) : input.Length;

    /// <summary>How many bytes the gzip stream yields before it ends or breaks, up to a cap.</summary>
    public static long DecompressedLength(byte[] gz, long cap)
    {
        long n = 0;
        try
        {
            using var z = new GZipStream(new MemoryStream(gz, false), CompressionMode.Decompress);
            var buf = new byte[81920];
            int r;
            while ((r = z.Read(buf)) > 0 && n < cap) n += r;
        }
        catch (InvalidDataException) { }
        return n;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        return ms.ToArray();
    }

    private static byte[] Header(byte dims, params uint[] sizes)
    {
        var h = new byte[4 + 4 * sizes.Length];
        h[2] = 0x08; h[3] = dims;
        for (int i = 0; i < sizes.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4 + 4 * i), sizes[i]);
        return h;
    }

    public override IEnumerable<(string, byte[])> Seeds()
    {
        byte[] images = [.. Header(3, 3, 2, 2), .. Enumerable.Range(0, 12).Select(i => (byte)(i * 20))];
        byte[] labels = [.. Header(1, 3), 0, 9, 4];
        yield return ("images-3x2x2", images);
        yield return ("labels-3", labels);
        yield return ("images-3x2x2.gz", Gzip(images));
        yield return ("labels-3.gz", Gzip(labels));
        yield return ("images-1x28x28.gz", Gzip([.. Header(3, 1, 28, 28), .. new byte[784]]));
    }

    private static readonly uint[] InterestingSizes = [0, 1, 2, 3, 28, 255, 256, 65535, 1_000_000, 1_000_000_000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF];

    /// <summary>Edits the header (type, dimension count, sizes — 10⁶ × 10³ × 10³ claims 10¹² bytes), usually inside the gzip
    /// layer when there is one, and sometimes adds or removes the gzip layer or damages its trailer.</summary>
    public override byte[]? MutateStructure(byte[] input, System.Random rng)
    {
        bool gz = input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b;
        byte[] raw = input;
        if (gz)
        {
            if (rng.Next(6) == 0) // damage the trailer (CRC32, ISIZE) or the deflate stream itself
            {
                var r = (byte[])input.Clone();
                int at = rng.Next(3) == 0 ? rng.Next(10, Math.Max(11, r.Length)) : Math.Max(0, r.Length - 1 - rng.Next(8));
                if (at < r.Length) r[at] ^= (byte)(1 + rng.Next(255));
                return r;
            }
            if (DecompressedLength(input, 1 << 20) is var len and > 0 and < (1 << 20))
            {
                using var z = new GZipStream(new MemoryStream(input, false), CompressionMode.Decompress);
                var ms = new MemoryStream();
                try { z.CopyTo(ms); } catch (InvalidDataException) { }
                raw = ms.ToArray();
            }
            else return null;
        }
        if (raw.Length < 4) return null;
        raw = (byte[])raw.Clone();
        switch (rng.Next(5))
        {
            case 0: raw[2] = new byte[] { 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF }[rng.Next(8)]; break;
            case 1: raw[3] = (byte)rng.Next(0, 5); break;
            case 2:
            case 3:
            {
                int dims = Math.Min(raw[3], (raw.Length - 4) / 4);
                if (dims == 0) return null;
                int d = rng.Next(dims);
                uint v = rng.Next(3) == 0 ? (uint)rng.Next(0, 100) : InterestingSizes[rng.Next(InterestingSizes.Length)];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(4 + 4 * d), v);
                if (rng.Next(4) == 0 && dims == 3) // 10⁶ images of 10³ × 10³: 10¹² bytes claimed
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(4), 1_000_000);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(8), 1000);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(raw.AsSpan(12), 1000);
                }
                break;
            }
            default: raw = rng.Next(2) == 0 ? raw[..rng.Next(raw.Length)] : [.. raw, .. new byte[rng.Next(1, 2000)]]; break;
        }
        bool wrap = gz ? rng.Next(5) != 0 : rng.Next(4) == 0;
        return wrap ? Gzip(raw) : raw;
    }
}

/// <summary>A read-only stream that hides its length and returns at most a few bytes per read, like a pipe.</summary>
internal sealed class Trickle(Stream inner, int maxPerRead) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, maxPerRead));
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
