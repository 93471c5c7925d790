using System.Text;
using NeuralPure.Facade.Data;
using NeuralPure.Properties.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Reliability;

/// <summary>Loading a CSV streams: memory follows the numbers, not the text. A file (seekable) is counted first and parsed straight
/// into arrays of their final size (≈ 1× the numbers); an unseekable stream goes through chunks copied once (≈ 2×). The 1 GB
/// figure comes from <c>dotnet run --project fuzz/Pure.Fuzz -c Release -- bigcsv --gb 1</c> (fuzz/README.md); these are its
/// CI-sized checks.</summary>
public sealed class LargeCsvTests
{
    private static byte[] Table(int rows, int cols)
    {
        var text = new StringBuilder(rows * cols * 8);
        text.AppendJoin(',', Enumerable.Range(0, cols).Select(c => $"f{c}")).Append(",label\n");
        var rng = new System.Random(3);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) text.Append((rng.Next(10000) / 10000.0).ToString("0.0###", System.Globalization.CultureInfo.InvariantCulture)).Append(',');
            text.Append(r % 10).Append('\n');
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public void A_seekable_file_is_parsed_into_exact_arrays_at_about_once_the_numbers_and_an_unseekable_stream_at_about_twice()
    {
        const int rows = 50_000, cols = 10;
        byte[] bytes = Table(rows, cols);
        long numbers = (long)rows * (cols + 1) * sizeof(double);
        CsvReader.Parse(new MemoryStream(Encoding.ASCII.GetBytes("a,b\n1,2\n")), "warm-up");

        TabularData? seekable = null, trickled = null;
        long a1 = DataTestSupport.Allocated(() => seekable = CsvReader.Parse(new MemoryStream(bytes), "file"));
        long a2 = DataTestSupport.Allocated(() => trickled = CsvReader.Parse(new TrickleStream(new MemoryStream(bytes), 65536), "pipe"));
        Assert.Equal(rows, seekable!.Rows);
        Assert.Equal(seekable.X.ToArray(), trickled!.X.ToArray());
        Assert.Equal(seekable.Y.ToArray(), trickled.Y.ToArray());
        Assert.Equal(seekable.Sha256, trickled.Sha256);
        Assert.True(a1 < 1.1 * numbers + (1 << 20), $"seekable: {a1:N0} bytes allocated for {numbers:N0} bytes of numbers");
        Assert.True(a2 < 2.2 * numbers + (1 << 20), $"unseekable: {a2:N0} bytes allocated for {numbers:N0} bytes of numbers");

        // Through a real file too (CsvReader.Load opens it seekable).
        string path = Path.Combine(Path.GetTempPath(), $"np-large-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllBytes(path, bytes);
            TabularData? loaded = null;
            long a3 = DataTestSupport.Allocated(() => loaded = CsvReader.Load(path));
            Assert.Equal(seekable.X.ToArray(), loaded!.X.ToArray());
            Assert.True(a3 < 1.1 * numbers + (1 << 20), $"file: {a3:N0} bytes allocated for {numbers:N0} bytes of numbers");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void The_line_count_never_justifies_more_than_the_bytes_present_a_wide_header_over_short_lines_preallocates_nothing()
    {
        // 20,000 columns over 20,000 one-character lines: rows × columns = 4·10⁸ values (3.2 GB) if taken at face value.
        var text = new StringBuilder();
        text.AppendJoin(',', Enumerable.Range(0, 20_000).Select(c => $"c{c}")).Append('\n');
        for (int r = 0; r < 20_000; r++) text.Append("1\n");
        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        long allocated = DataTestSupport.Allocated(() => DataTestSupport.ThrowsData(() => CsvReader.Parse(new MemoryStream(bytes), "wide.csv"), "line 2", "expected 20000 fields, found 1"));
        Assert.True(allocated < 64L * bytes.Length + (2 << 20), $"{allocated:N0} bytes allocated for {bytes.Length:N0} bytes");

        // Blank lines at the end count for nothing; trailing CRs neither.
        var t = CsvReader.Parse(new MemoryStream(Encoding.ASCII.GetBytes("a,b\r\n1,2\r\n3,4\r\n\r\n\n\r\n")), "tail.csv");
        Assert.Equal(2, t.Rows);
        Assert.Equal([1.0, 3.0], t.X.ToArray());
    }
}
