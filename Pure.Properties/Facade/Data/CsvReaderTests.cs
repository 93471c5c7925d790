using NeuralPure.Properties.Support;
using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Facade.Data;
using Xunit;
using static NeuralPure.Properties.Facade.Data.DataTestSupport;

namespace NeuralPure.Properties.Facade.Data;

public class CsvReaderTests
{
    private static TabularData Parse(string text, CsvOptions? options = null) =>
        CsvReader.Parse(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.csv", options);

    private static TabularData ParseBytes(byte[] bytes, CsvOptions? options = null) =>
        CsvReader.Parse(new MemoryStream(bytes), "t.csv", options);

    [Fact]
    public void Parses_a_simple_classification_table()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("a,b,label\n1.5,2,0\n-3,4e2,2\n");
        TabularData t = ParseBytes(bytes);
        Assert.Equal("t.csv", t.Name);
        Assert.Equal(["a", "b"], t.FeatureNames.ToArray());
        Assert.Equal("label", t.TargetName);
        Assert.Equal(TaskKind.Classification, t.Task);
        Assert.Equal(2, t.Rows);
        Assert.Equal(2, t.Features);
        Assert.Equal([1.5, 2, -3, 400], t.X.ToArray());
        Assert.Equal([0.0, 1.0], t.Y.ToArray());
        Assert.Equal(2, t.Classes); // the labels present, 0 and 2, encoded 0 and 1
        Assert.Equal(["0", "2"], t.ClassNames.ToArray());
        Assert.Equal([0, 1], t.Labels.ToArray());
        Assert.Equal(Sha256Hex(bytes), t.Sha256);
        Assert.Equal([-3.0, 400.0], t.GetRow(1).ToArray());
    }

    [Theory]
    [InlineData("x,y\n1,0.5\n2,1\n", "fraction")]
    [InlineData("x,y\n1,1e300\n2,1.25\n", "fraction")]
    public void Infers_regression_unless_every_target_is_a_whole_number_and_there_are_at_most_100_values(string text, string why)
    {
        TabularData t = Parse(text);
        Assert.True(t.Task == TaskKind.Regression, why);
        Assert.Equal(0, t.Classes);
        Assert.Empty(t.ClassNames);
        Assert.Throws<InvalidOperationException>(() => t.Labels);
        Assert.StartsWith("regression on 'y'", t.DescribeTask(), StringComparison.Ordinal);
    }

    [Fact]
    public void Infers_classification_for_whole_numbers_and_encodes_the_sorted_distinct_values()
    {
        TabularData t = Parse("x,y\n1,99\n2,-0\n3,4.0\n4,99\n");
        Assert.Equal(TaskKind.Classification, t.Task);
        Assert.Equal(3, t.Classes);
        Assert.Equal(["0", "4", "99"], t.ClassNames.ToArray());
        Assert.Equal([2, 0, 1, 2], t.Labels.ToArray());
        Assert.False(double.IsNegative(t.Y[1]));
    }

    [Fact]
    public void Negative_and_offset_whole_numbers_are_classes_not_regression()
    {
        TabularData signs = Parse("x,y\n1,-1\n2,1\n3,0\n4,1\n");
        Assert.Equal(TaskKind.Classification, signs.Task);
        Assert.Equal(["-1", "0", "1"], signs.ClassNames.ToArray());
        Assert.Equal([0, 2, 1, 2], signs.Labels.ToArray());

        // 70..82 are 13 classes, not 83.
        string years = "x,year\n" + string.Concat(Enumerable.Range(70, 13).Reverse().Select(v => $"{v},{v}\n"));
        TabularData y = Parse(years);
        Assert.Equal(13, y.Classes);
        Assert.Equal("70", y.ClassNames[0]);
        Assert.Equal("82", y.ClassNames[12]);
        Assert.Equal(Enumerable.Range(0, 13).Reverse(), y.Labels);

        // Labels 1..3 are 3 classes, not 4.
        Assert.Equal(3, Parse("x,y\n1,1\n2,2\n3,3\n").Classes);
        Assert.Equal(["1", "100"], Parse("x,y\n1,100\n2,1\n").ClassNames.ToArray());
    }

    [Fact]
    public void More_than_100_distinct_whole_numbers_are_regression()
    {
        string text = "x,y\n" + string.Concat(Enumerable.Range(0, 101).Select(v => $"{v},{v * 3}\n"));
        Assert.Equal(TaskKind.Regression, Parse(text).Task);
        string hundred = "x,y\n" + string.Concat(Enumerable.Range(0, 100).Select(v => $"{v},{v * 3}\n"));
        Assert.Equal(100, Parse(hundred).Classes);
    }

    [Fact]
    public void Explicit_task_and_target_column_are_honoured()
    {
        TabularData t = Parse("a,target,c\n1,5,3\n4,6,7\n", new CsvOptions { Target = "target", Task = TaskKind.Regression });
        Assert.Equal(["a", "c"], t.FeatureNames.ToArray());
        Assert.Equal([1.0, 3, 4, 7], t.X.ToArray());
        Assert.Equal([5.0, 6], t.Y.ToArray());
        Assert.Equal(TaskKind.Regression, t.Task);

        TabularData c = Parse("a,b\n1,500\n2,7\n", new CsvOptions { Task = TaskKind.Classification });
        Assert.Equal(2, c.Classes);
        Assert.Equal(["7", "500"], c.ClassNames.ToArray());
        Assert.Equal([1, 0], c.Labels.ToArray());
    }

    [Fact]
    public void Accepts_crlf_bom_quotes_other_separators_trailing_blank_lines_and_no_final_newline()
    {
        TabularData reference = Parse("a,b,y\n1,2,0\n3,4,1\n");
        Assert.Equal(reference.X, Parse("a,b,y\r\n1,2,0\r\n3,4,1\r\n").X.ToArray());
        Assert.Equal(reference.X, Parse("\uFEFFa,b,y\n1,2,0\n3,4,1").X.ToArray());
        Assert.Equal(reference.FeatureNames, Parse("\"a\", b ,\"y\"\n\"1\",2,\" 0 \"\n3,\"4\",1\n\n\r\n\n").FeatureNames.ToArray());
        Assert.Equal(reference.X, Parse("a;b;y\n1;2;0\n3;4;1\n", new CsvOptions { Separator = ';' }).X.ToArray());
        Assert.Equal(reference.X, Parse("a|b|y\n1|2|0\n3|4|1\n", new CsvOptions { Separator = '|' }).X.ToArray());
        Assert.Equal(reference.X, Parse("a\tb\ty\n1\t2\t0\n3\t4\t1\n", new CsvOptions { Separator = '\t' }).X.ToArray());
        Assert.Equal(["a,1", "b\"q"], Parse("\"a,1\",\"b\"\"q\",y\n1,2,0\n").FeatureNames.ToArray());
    }

    [Fact]
    public void Bom_bytes_are_part_of_the_hash()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("a,y\n1,0\n")];
        Assert.Equal(Sha256Hex(bytes), ParseBytes(bytes).Sha256);
    }

    [Fact]
    public void Wrong_field_count_names_the_line()
    {
        var ex = ThrowsData(() => Parse("a,b,c,d,y\n1,2,3,4,0\n1,2,3,4,5,6\n1,2,3,4\n"), "t.csv: line 3: expected 5 fields, found 6");
        Assert.Equal(3, ex.Line);
        Assert.Equal("t.csv", ex.Source);
        ThrowsData(() => Parse("a,b,c,d,y\n1,2,3,4,0\n1,2,3,4\n"), "line 3: expected 5 fields, found 4");
    }

    [Fact]
    public void Field_count_is_reported_before_a_parse_error_on_the_same_line()
    {
        ThrowsData(() => Parse("a,b,y\n1,2,0\nx,1\n"), "line 3: expected 3 fields, found 2");
    }

    [Fact]
    public void Unparseable_field_names_line_column_name_number_and_text()
    {
        var ex = ThrowsData(() => Parse("alpha,beta,y\n1,2,0\n3,abc,1\n"), "line 3, column 2 ('beta')", "'abc'", "cannot parse");
        Assert.Equal(3, ex.Line);
        Assert.Equal("beta", ex.Column);
        Assert.Equal(2, ex.ColumnNumber);
        ThrowsData(() => Parse("a,b,y\n1,1.000,5,0\n"), "expected 3 fields, found 4");
        ThrowsData(() => Parse("a,b,y\n1,\"1,5\",0\n"), "'1,5'", "column 2");
        ThrowsData(() => Parse("a,b,y\n1,,0\n"), "line 2, column 2 ('b')", "empty");
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("inf")]
    [InlineData("-inf")]
    public void Non_finite_values_are_refused_by_name(string value)
    {
        ThrowsData(() => Parse($"a,y\n1,0\n{value},1\n"), "line 3, column 1 ('a')", $"'{value}'", "not finite");
    }

    [Fact]
    public void Overflowing_numbers_are_refused()
    {
        ThrowsData(() => Parse("a,y\n1e999,1\n"), "line 2, column 1", "'1e999'", "outside the range");
    }

    [Fact]
    public void Missing_target_column_lists_the_columns()
    {
        var ex = ThrowsData(() => Parse("sepal,petal,Species\n1,2,0\n", new CsvOptions { Target = "species" }), "'species' does not exist", "'sepal', 'petal', 'Species'", "case-sensitive");
        Assert.Equal(1, ex.Line);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.25")]
    [InlineData("1e-3")]
    public void Explicit_classification_refuses_fractional_labels_naming_the_row_and_value(string label)
    {
        ThrowsData(() => Parse($"a,y\n1,0\n2,{label}\n", new CsvOptions { Task = TaskKind.Classification }), "line 3, column 2 ('y')", $"class label '{label}'", "not a whole number");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("70000")]
    [InlineData("1e20")]
    public void Explicit_classification_accepts_any_whole_labels(string label)
    {
        TabularData t = Parse($"a,y\n1,0\n2,{label}\n", new CsvOptions { Task = TaskKind.Classification });
        Assert.Equal(2, t.Classes);
        Assert.Contains(CsvReader.NumberName(double.Parse(label, CultureInfo.InvariantCulture)), t.ClassNames);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("\n\n", "header row is empty")]
    [InlineData("a,y\n", "no data rows")]
    [InlineData("a,y", "no data rows")]
    [InlineData("a,y\n\n\n", "no data rows")]
    [InlineData("y\n1\n", "at least one feature")]
    [InlineData("a,,y\n1,2,3\n", "column 2: the column name is empty")]
    [InlineData("a,b,a\n1,2,3\n", "column 3 ('a'): duplicate column name; column 1")]
    [InlineData("a,y\n1,0\n\n2,1\n", "line 3: expected 2 fields, found an empty line")]
    [InlineData("a,y\r1,0\r", "line 1: carriage return")]
    [InlineData("a,y\n1,0\r", "carriage return")]
    [InlineData("a,y\n\"1,0\n", "line 2, column 1 ('a'): a quoted field is not closed")]
    [InlineData("a,y\n\"1\"x,0\n", "line 2, column 1 ('a'): unexpected 'x' after the closing double quote")]
    [InlineData("a,y\n1,\"0", "opening double quote but no closing one")]
    public void Malformed_files_are_refused_with_a_clear_message(string text, string fragment)
    {
        ThrowsData(() => Parse(text), fragment);
    }

    [Fact]
    public void Invalid_utf8_in_a_column_name_is_refused()
    {
        // In the first KB it makes the file binary (see Binary_files_are_refused_as_not_text); after it, it names the column.
        byte[] longName = Encoding.UTF8.GetBytes(new string('n', 1100) + ",");
        ThrowsData(() => ParseBytes([.. longName, 0xC3, 0x28, (byte)'\n', (byte)'1', (byte)',', (byte)'2', (byte)'\n']), "line 1, column 2", "not valid UTF-8");
    }

    [Fact]
    public void Huge_fields_are_refused_without_buffering_them()
    {
        string huge = new('1', 5000);
        ThrowsData(() => Parse($"a,y\n{huge},0\n"), "line 2, column 1 ('a')", "longer than 1024 bytes");
        ThrowsData(() => Parse($"{huge},y\n1,0\n"), "line 1, column 1", "longer than 4096 bytes");
    }

    [Fact]
    public void Headers_with_absurd_column_counts_are_refused()
    {
        string header = string.Join(',', Enumerable.Repeat("c", CsvReader.MaxColumns + 1));
        ThrowsData(() => Parse(header + ",y\n"), "line 1: the header has more than 1000000 columns");
    }

    [Fact]
    public void Bad_separators_are_refused()
    {
        foreach (char sep in new[] { '"', '\n', '\r', 'a', '1', '.', '-', 'é' })
        {
            Assert.Throws<ArgumentException>(() => Parse("a,y\n1,0\n", new CsvOptions { Separator = sep }));
        }
    }

    [Fact]
    public void Load_reads_a_file_names_the_table_after_it_and_reports_missing_files()
    {
        using var dir = new TempDir();
        string path = dir.File("my table.csv");
        File.WriteAllText(path, "a,y\n1,0\n2,1\n");
        TabularData t = CsvReader.Load(path);
        Assert.Equal("my table", t.Name);
        Assert.Equal(Sha256Hex(File.ReadAllBytes(path)), t.Sha256);
        File.WriteAllText(path, "a,y\n1,0\nz,1\n");
        var ex = ThrowsData(() => CsvReader.Load(path), path + ": line 3, column 1 ('a')");
        Assert.Equal(path, ex.Source);
        Assert.Throws<FileNotFoundException>(() => CsvReader.Load(dir.File("absent.csv")));
    }

    [Fact]
    public void Streams_from_unseekable_sources_in_small_reads()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("\uFEFF\"a\",b,y\r\n1,\"2\",0\r\n3,4,1\r\n");
        TabularData t = CsvReader.Parse(new TrickleStream(new MemoryStream(bytes), 1), "s");
        Assert.Equal([1.0, 2, 3, 4], t.X.ToArray());
        Assert.Equal(Sha256Hex(bytes), t.Sha256);
    }

    [Fact]
    public void Memory_use_tracks_the_numbers_not_the_text()
    {
        const int rows = 60_000, cols = 10;
        var text = new StringBuilder(rows * cols * 12);
        text.AppendJoin(',', Enumerable.Range(0, cols).Select(c => $"column_{c}")).Append('\n');
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                text.Append(((r * 31) + (c * 7)) % 1000 * 0.0123456789).Append(c == cols - 1 ? '\n' : ',');
            }
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        TabularData? t = null;
        long allocated = Allocated(() => t = CsvReader.Parse(new MemoryStream(bytes), "big"));
        long numbers = (long)rows * cols * sizeof(double);
        Assert.Equal(rows, t!.Rows);

        // Chunked buffers plus one exact-size result cost 2x the numbers; a string per line would add 2x the text.
        Assert.True(allocated < (2.3 * numbers) + (1 << 20), $"allocated {allocated} bytes for {numbers} bytes of numbers ({bytes.Length} bytes of text)");
    }

    [Law(100)]
    public Property Written_tables_parse_back_exactly()
    {
        var gen =
            from rows in Gen.Choose(1, 8)
            from cols in Gen.Choose(1, 5)
            from values in Gen.ArrayOf(
                Gen.Choose(-1_000_000, 1_000_000).Select(i => i / 1024.0 * Math.Pow(10, i % 7)),
                rows * cols)
            from labels in Gen.ArrayOf(Gen.Choose(0, 4), rows)
            from crlf in Gen.Elements(false, true)
            select (rows, cols, values, labels, crlf);
        return Prop.ForAll(gen.ToArbitrary(), c =>
        {
            string nl = c.crlf ? "\r\n" : "\n";
            var sb = new StringBuilder();
            sb.AppendJoin(',', Enumerable.Range(0, c.cols).Select(i => $"f{i}")).Append(",label").Append(nl);
            for (int r = 0; r < c.rows; r++)
            {
                for (int k = 0; k < c.cols; k++)
                {
                    sb.Append(c.values[(r * c.cols) + k].ToString("R", CultureInfo.InvariantCulture)).Append(',');
                }

                sb.Append(c.labels[r]).Append(nl);
            }

            TabularData t = Parse(sb.ToString());
            int[] classes = [.. c.labels.Distinct().Order()];
            return t.X.SequenceEqual(c.values)
                && t.Labels.SequenceEqual(c.labels.Select(l => Array.IndexOf(classes, l)))
                && t.ClassNames.SequenceEqual(classes.Select(l => l.ToString(CultureInfo.InvariantCulture)))
                && t.Classes == classes.Length
                && t.Rows == c.rows
                && t.Features == c.cols;
        });
    }

    [Law(100)]
    public Property Mutated_csv_gives_a_table_or_a_DataFormatException() =>
        Prop.ForAll(Mutations, mutations =>
        {
            byte[] valid = Encoding.UTF8.GetBytes("\uFEFFsepal,\"petal\",y\r\n5.1,3.5,0\r\n4.9,-3e-1,1\n6.2,3.4,2\n\n");
            byte[] bad = Apply(valid, mutations);
            return SucceedsOrDataFormat(() => ParseBytes(bad))
                && SucceedsOrDataFormat(() => ParseBytes(bad, new CsvOptions { Target = "petal", Task = TaskKind.Classification }));
        });
}
