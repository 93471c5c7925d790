using System.Text;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Data;

/// <summary>What the fuzzer (fuzz/Pure.Fuzz) found, as ordinary tests, and its corpus replayed through the readers.</summary>
/// <remarks>The fuzzer accepts only a success or a <see cref="DataFormatException"/>, no hang, and an allocation bounded by a multiple
/// of what the input really holds plus a constant. Each finding is fixed in the reader and pinned here.</remarks>
public sealed class FuzzRegressionTests
{
    /// <summary>Finding csv/alloc (first campaign): a header, a row, then thousands of blank lines before more content. Every blank
    /// line parsed its one "empty field" and built a DataFormatException (message, names) only to drop it: ~900 bytes allocated per
    /// 2 bytes read, 450×. Fixed in CsvReader: a line without content is never parsed as a row.</summary>
    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Blank_lines_cost_nothing_per_line_whether_they_end_the_file_or_break_it(string newline)
    {
        var blanks = string.Concat(Enumerable.Repeat(newline, 100_000));
        byte[] broken = Encoding.UTF8.GetBytes("x1,x2,y\n0.1,0.2,1\n" + blanks + "3,4,0\n");
        byte[] trailing = Encoding.UTF8.GetBytes("x1,x2,y\n0.1,0.2,1\n" + blanks);
        CsvReader.Parse(new MemoryStream(Encoding.UTF8.GetBytes("a,b\n1,2\n")), "warm-up"); // JIT and pools out of the measurement

        long a1 = DataTestSupport.Allocated(() => DataTestSupport.ThrowsData(() => CsvReader.Parse(new MemoryStream(broken), "broken.csv"),
            "line 3", "found an empty line (empty lines are allowed only at the end of the file)"));
        long a2 = DataTestSupport.Allocated(() => Assert.Equal(1, CsvReader.Parse(new MemoryStream(trailing), "trailing.csv").Rows));
        // Before the fix: ~90 MB each. The constant part is the parser's first chunks (2 × 64 KB) and the read buffer.
        Assert.True(a1 < 1_000_000, $"{a1:N0} bytes allocated for {broken.Length:N0} bytes of mostly blank lines");
        Assert.True(a2 < 1_000_000, $"{a2:N0} bytes allocated for {trailing.Length:N0} bytes of mostly blank lines");
    }

    /// <summary>Finding idx (first campaign, allocation ratio 63× on inputs of 16 KB): data whose length cannot be checked before it
    /// arrives (gzip, or a stream that hides its length) went into a first buffer of min(claimed size, 1 MB), so a small input
    /// claiming a megabyte cost a megabyte. The first buffer is now 64 KB and grows by doubling as data really arrives.</summary>
    [Fact]
    public void A_short_unseekable_or_gzip_input_claiming_a_megabyte_costs_about_its_size_not_the_claim()
    {
        byte[] header = [0, 0, 8, 3, 0, 0x0F, 0x42, 0x40, 0, 0, 0, 1, 0, 0, 0, 1]; // 1,000,000 images of 1×1
        byte[] file = [.. header, .. new byte[100]];
        IdxReader.ReadLabels(new MemoryStream([0, 0, 8, 1, 0, 0, 0, 1, 7]), "warm-up");
        long plain = DataTestSupport.Allocated(() => DataTestSupport.ThrowsData(
            () => IdxReader.ReadImages(new TrickleStream(new MemoryStream(file), 4096), "short.idx"), "claims 1000000 images", "holds 100"));
        byte[] gz;
        using (var ms = new MemoryStream())
        {
            using (var z = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write(file);
            gz = ms.ToArray();
        }
        long zipped = DataTestSupport.Allocated(() => DataTestSupport.ThrowsData(() => IdxReader.ReadImages(new MemoryStream(gz), "short.idx.gz"), "holds 100"));
        Assert.True(plain < 400_000, $"{plain:N0} bytes allocated for a {file.Length}-byte unseekable input");
        Assert.True(zipped < 400_000, $"{zipped:N0} bytes allocated for a {gz.Length}-byte gzip input");
    }

    /// <summary>The repository's fuzz corpus (seeds and the inputs that reached new checks), when the tests run from a checkout.</summary>
    public static TheoryData<string> CorpusTargets() => ["safetensors", "csv", "idx", "model", "checkpoint"];

    private static string? CorpusDir(string target)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NeuralPure.sln")))
            {
                string dir = Path.Combine(d.FullName, "fuzz", "corpus", target);
                return Directory.Exists(dir) ? dir : null;
            }
        return null;
    }

    /// <summary>Every corpus file through its reader, every entry point: a result or a DataFormatException, nothing else, and an
    /// allocation within the fuzzer's bound for that reader.</summary>
    [Theory]
    [MemberData(nameof(CorpusTargets))]
    public void Every_corpus_input_gives_content_or_a_DataFormatException_within_the_allocation_bound(string target)
    {
        if (CorpusDir(target) is not { } dir) return; // not run from a checkout
        var files = Directory.GetFiles(dir);
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            byte[] input = File.ReadAllBytes(f);
            foreach (var (entry, run, bound) in EntryPoints(target, input))
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try { run(); }
                catch (DataFormatException) { } // the documented refusal
                catch (Exception e) { Assert.Fail($"{Path.GetFileName(f)} via {entry}: {e.GetType().Name}: {e.Message}"); }
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated <= bound, $"{Path.GetFileName(f)} via {entry}: {allocated:N0} bytes allocated, bound {bound:N0}");
            }
        }
    }

    /// <summary>The fuzzer's entry points and allocation bounds (fuzz/Pure.Fuzz/Targets.cs), for one input.</summary>
    private static IEnumerable<(string Entry, Action Run, long Bound)> EntryPoints(string target, byte[] input)
    {
        switch (target)
        {
            case "safetensors":
                yield return ("Deserialize", () => SafeTensors.Deserialize(input, "corpus"), 32L * input.Length + (2 << 20));
                break;
            case "model":
                yield return ("ModelFile", () => ModelFile.FromSafeTensors(SafeTensors.Deserialize(input, "corpus"), "corpus"), 64L * input.Length + (4 << 20));
                break;
            case "checkpoint":
                yield return ("CheckpointFile", () => CheckpointFile.FromSafeTensors(SafeTensors.Deserialize(input, "corpus"), "corpus"), 64L * input.Length + (4 << 20));
                break;
            case "csv":
                foreach (var o in new[] { CsvOptions.Default, new CsvOptions { Task = TaskKind.Classification }, new CsvOptions { Separator = ';' } })
                {
                    yield return ($"Parse({o.Separator}, {o.Task})", () => CsvReader.Parse(new MemoryStream(input), "corpus", o), 64L * input.Length + (2 << 20));
                    yield return ($"Parse(trickle, {o.Task})", () => CsvReader.Parse(new TrickleStream(new MemoryStream(input), 5), "corpus", o), 64L * input.Length + (2 << 20));
                }
                break;
            case "idx":
                long real = input.Length;
                if (input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b) real = Math.Max(real, Decompressed(input));
                long bound = 16L * real + (4 << 20);
                yield return ("ReadImages", () => IdxReader.ReadImages(new MemoryStream(input), "corpus"), bound);
                yield return ("ReadLabels", () => IdxReader.ReadLabels(new MemoryStream(input), "corpus"), bound);
                yield return ("ReadImages(trickle)", () => IdxReader.ReadImages(new TrickleStream(new MemoryStream(input), 4096), "corpus"), bound);
                yield return ("ReadLabels(trickle)", () => IdxReader.ReadLabels(new TrickleStream(new MemoryStream(input), 4096), "corpus"), bound);
                break;
        }
    }

    private static long Decompressed(byte[] gz)
    {
        long n = 0;
        try
        {
            using var z = new System.IO.Compression.GZipStream(new MemoryStream(gz), System.IO.Compression.CompressionMode.Decompress);
            var buf = new byte[81920];
            int r;
            while ((r = z.Read(buf)) > 0 && n < (256L << 20)) n += r;
        }
        catch (InvalidDataException) { }
        return n;
    }
}
