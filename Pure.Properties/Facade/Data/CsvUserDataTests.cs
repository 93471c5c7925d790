using System.Collections.Immutable;
using System.IO.Compression;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Facade.Data;
using NeuralPure.Properties.Support;
using Xunit;
using static NeuralPure.Properties.Facade.Data.DataTestSupport;

namespace NeuralPure.Properties.Facade.Data;

/// <summary>Labels and data as users have them: text labels, other separators, no header, binary files by mistake.</summary>
public class CsvUserDataTests
{
    private const string Iris = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n";

    private static TabularData Parse(string text, CsvOptions? options = null) =>
        CsvReader.Parse(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.csv", options);

    private static TabularData ParseBytes(byte[] bytes, CsvOptions? options = null) =>
        CsvReader.Parse(new MemoryStream(bytes), "t.csv", options);

    [Fact]
    public void Text_labels_are_classes_sorted_ordinally()
    {
        TabularData t = Parse(Iris);
        Assert.Equal(TaskKind.Classification, t.Task);
        Assert.Equal(["setosa", "versicolor", "virginica"], t.ClassNames.ToArray());
        Assert.Equal([0, 1, 2, 0], t.Labels.ToArray());
        Assert.Equal([5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.4], t.X.ToArray());
        Assert.Equal("classification: 3 classes [setosa, versicolor, virginica] from column 'species'", t.DescribeTask());

        // Ordinal: upper case before lower case, as Python sorts str; spaces around a label are trimmed, quotes removed.
        TabularData o = Parse("x,y\n1,b\n2, B \n3,\"a\"\n4,b\n");
        Assert.Equal(["B", "a", "b"], o.ClassNames.ToArray());
        Assert.Equal([2, 0, 1, 2], o.Labels.ToArray());
    }

    [Fact]
    public void A_text_label_after_numbers_makes_the_whole_column_text()
    {
        TabularData t = Parse("x,y\n1,10\n2,2\n3,cat\n4,2.0\n");
        Assert.Equal(TaskKind.Classification, t.Task);
        Assert.Equal(["10", "2", "cat"], t.ClassNames.ToArray()); // ordinal, like LabelEncoder on strings; 2.0 is named "2"
        Assert.Equal([0, 1, 2, 1], t.Labels.ToArray());
        Assert.Equal("the target column 'y' holds numbers and text (the first text, 'cat', on line 4), so every value is read as a text class label; give the task regression to have the text refused", Assert.Single(t.Notices));
        Assert.Empty(Parse(Iris).Notices); // all text: nothing to say
        Assert.Empty(Parse("x,y\n1,10\n3,cat\n", new CsvOptions { Task = TaskKind.Classification }).Notices); // asked for
    }

    [Fact]
    public void Text_targets_are_refused_for_regression_naming_the_first_row_and_value()
    {
        var ex = ThrowsData(() => Parse("x,mpg\n1,18\n2,17.5\n3,?\n4,n/a\n", new CsvOptions { Task = TaskKind.Regression }), "t.csv: line 4, column 2 ('mpg')", "'?'", "not a number");
        Assert.Equal(4, ex.Line);
        Assert.Equal("mpg", ex.Column);
    }

    [Fact]
    public void Empty_or_non_finite_targets_are_refused_at_their_row()
    {
        ThrowsData(() => Parse("x,y\n1,a\n2,\n"), "line 3, column 2 ('y')", "target is empty");
        ThrowsData(() => Parse("x,y\n1,a\n2,NaN\n"), "line 3, column 2 ('y')", "not finite");
        ThrowsData(() => Parse("x,y\n1,a\n2,inf\n"), "line 3, column 2 ('y')", "not finite");
    }

    [Fact]
    public void Too_many_distinct_text_labels_are_refused_at_the_row_that_brings_one_too_many()
    {
        var text = new StringBuilder("x,y\n");
        for (int i = 0; i <= CsvReader.MaxClasses; i++)
        {
            text.Append("1,c").Append(i).Append('\n');
        }

        var ex = ThrowsData(() => Parse(text.ToString()), "more than 65536 distinct class labels");
        Assert.Equal(CsvReader.MaxClasses + 2, ex.Line);
    }

    [Fact]
    public void Given_class_names_encode_the_target_in_their_order()
    {
        var model = new CsvOptions { ClassNames = ["virginica", "setosa", "versicolor", "unseen"] };
        TabularData t = Parse(Iris, model);
        Assert.Equal(4, t.Classes);
        Assert.Equal(["virginica", "setosa", "versicolor", "unseen"], t.ClassNames.ToArray());
        Assert.Equal([1, 2, 0, 1], t.Labels.ToArray());

        // Numbers match by value.
        TabularData n = Parse("x,y\n1,1.0\n2,-1\n3,0e0\n", new CsvOptions { ClassNames = ["-1", "0", "1"] });
        Assert.Equal([2, 0, 1], n.Labels.ToArray());

        var ex = ThrowsData(() => Parse("x,y\n1,setosa\n2,daisy\n", model), "line 3, column 2 ('y')", "'daisy'", "not one of the 4 given classes", "'virginica'");
        Assert.Equal(3, ex.Line);
        ThrowsData(() => Parse("x,y\n1,1\n2,2\n", new CsvOptions { ClassNames = ["1", "3"] }), "line 3", "'2'");
        // Text names and numeric labels: a number k is the class at position k, as in the bundled files.
        var irisModel = new CsvOptions { ClassNames = ["setosa", "versicolor", "virginica"] };
        Assert.Equal([2, 0], Parse("x,y\n1,2\n2,0\n", irisModel).Labels.ToArray());
        Assert.Equal([2, 0], Parse("x,y\n1,virginica\n2,0\n", irisModel).Labels.ToArray());
        ThrowsData(() => Parse("x,y\n1,0\n2,7\n", irisModel), "line 3, column 2 ('y')", "'7'", "3 given classes", "position, 0 to 2");
        ThrowsData(() => Parse("x,y\n1,0\n2,1.5\n", irisModel), "line 3", "'1.5'", "not a whole number");

        Assert.Throws<ArgumentException>(() => Parse(Iris, new CsvOptions { ClassNames = ["a"], Task = TaskKind.Regression }));
        Assert.Throws<ArgumentException>(() => Parse(Iris, new CsvOptions { ClassNames = ["a", "a"] }));
        Assert.Throws<ArgumentException>(() => Parse(Iris, new CsvOptions { ClassNames = [] }));
    }

    [Theory]
    [InlineData("a;b;y\n1,5;2;0\n3;4,25;1\n", ';', new[] { 15.0, 2, 3, 425 })] // decimal commas: ',' is inconsistent, ';' is not
    [InlineData("a\tb\ty\n1\t2\t0\n3\t4\t1\n", '\t', new[] { 1.0, 2, 3, 4 })]
    [InlineData("a|b|y\n1|2|0\n3|4|1\n", '|', new[] { 1.0, 2, 3, 4 })]
    [InlineData("\"a;x\",b,y\n1,2,0\n3,4,1\n", ',', new[] { 1.0, 2, 3, 4 })] // a ';' inside quotes is not a separator
    public void The_separator_is_detected_from_the_first_lines(string text, char expected, double[] x)
    {
        if (expected == ';')
        {
            // The reader does not read decimal commas: "1,5" is not a number. Detection still picks ';' and says so.
            var ex = ThrowsData(() => Parse(text), "line 2, column 1 ('a')", "'1,5'");
            Assert.Equal(2, ex.Line);
            return;
        }

        TabularData t = Parse(text);
        Assert.Equal(x, t.X.ToArray());
        Assert.Equal(2, t.Features);
        if (expected != ',')
        {
            Assert.Contains(t.Notices, n => n.Contains("separator", StringComparison.Ordinal));
        }
        else
        {
            Assert.Empty(t.Notices);
        }
    }

    [Fact]
    public void A_semicolon_file_loads_without_options()
    {
        TabularData t = Parse("sepal;petal;species\n5.1;1.4;setosa\n7.0;4.7;versicolor\n");
        Assert.Equal(["sepal", "petal"], t.FeatureNames.ToArray());
        Assert.Equal([5.1, 1.4, 7.0, 4.7], t.X.ToArray());
        Assert.Equal("the separator ';' was detected from the first lines", Assert.Single(t.Notices));
    }

    [Fact]
    public void A_header_longer_than_the_first_chunk_still_gives_its_separator()
    {
        const int columns = 20_000; // about 150 KB of header
        string header = string.Join(';', Enumerable.Range(0, columns).Select(c => $"feature_{c}")) + ";y\n";
        string row = string.Join(';', Enumerable.Repeat("1", columns)) + ";0\n";
        TabularData t = Parse(header + row + row);
        Assert.Equal((columns, 2), (t.Features, t.Rows));
        Assert.Equal("feature_19999", t.FeatureNames[^1]);
    }

    [Law(100)]
    public Property Mutated_user_files_give_a_table_or_a_DataFormatException() =>
        Prop.ForAll(Mutations, mutations =>
        {
            byte[] semicolons = Encoding.UTF8.GetBytes("sepal;\"petal\";species\r\n5.1;3.5;setosa\r\n4.9;-3e-1;versicolor\n6.2;3.4;setosa\n\n");
            byte[] headerless = Encoding.UTF8.GetBytes("5.1,3.5,-1\n4.9,3.0,1\n6.2,3.4,0\n");
            return SucceedsOrDataFormat(() => ParseBytes(Apply(semicolons, mutations)))
                && SucceedsOrDataFormat(() => ParseBytes(Apply(semicolons, mutations), new CsvOptions { ClassNames = ["setosa", "versicolor"] }))
                && SucceedsOrDataFormat(() => ParseBytes(Apply(semicolons, mutations), new CsvOptions { Task = TaskKind.Regression, Target = "petal" }))
                && SucceedsOrDataFormat(() => ParseBytes(Apply(headerless, mutations)))
                && SucceedsOrDataFormat(() => ParseBytes(Apply(headerless, mutations), new CsvOptions { HasHeader = false, Target = "2", Task = TaskKind.Classification }))
                && SucceedsOrDataFormat(() => CsvReader.Parse(new TrickleStream(new MemoryStream(Apply(headerless, mutations)), 3), "t", new CsvOptions { HasHeader = true }));
        });

    [Fact]
    public void An_explicit_separator_wins_over_detection()
    {
        var ex = ThrowsData(() => Parse("a;b;y\n1;2;0\n", new CsvOptions { Separator = ',' }), "line 1: the header has 1 column");
        Assert.DoesNotContain("--separator", ex.Message, StringComparison.Ordinal);
        TabularData t = Parse("a;b,y\n1;2,0\n", new CsvOptions { Separator = ';' });
        Assert.Equal(["a"], t.FeatureNames.ToArray());
        Assert.Equal("b,y", t.TargetName);
        Assert.Equal(["2,0"], t.ClassNames.ToArray());
    }

    [Theory]
    [InlineData(";", ';')]
    [InlineData(",", ',')]
    [InlineData("|", '|')]
    [InlineData("\t", '\t')]
    [InlineData("\\t", '\t')]
    [InlineData("TAB", '\t')]
    [InlineData("semicolon", ';')]
    public void Separators_are_read_as_users_type_them(string text, char expected)
    {
        Assert.Equal(expected, CsvOptions.ParseSeparator(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData(";;")]
    [InlineData("a")]
    [InlineData(".")]
    [InlineData(" ")]
    [InlineData("\"")]
    public void Unusable_separators_are_refused_with_the_rule(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => CsvOptions.ParseSeparator(text));
        Assert.Contains("'tab'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void When_no_separator_fits_the_one_column_error_says_what_was_tried()
    {
        var ex = ThrowsData(() => Parse("a b y\n1 2 0\n"), "line 1: the header has 1 column", "',', ';', tab or '|'", "--separator");
        Assert.Equal(1, ex.Line);

        // Ambiguous (',' and ';' both fit): ',' is used, so the first column is "a;b".
        ThrowsData(() => Parse("a;b,y\n1;2,0\n3;4,1\n"), "line 2, column 1 ('a;b')", "'1;2'");
    }

    [Fact]
    public void A_first_line_of_numbers_is_read_as_data_with_a_notice()
    {
        TabularData t = Parse("5.1,3.5,0\n4.9,3.0,1\n6.2,3.4,2\n");
        Assert.Equal(3, t.Rows);
        Assert.Equal(["column_1", "column_2"], t.FeatureNames.ToArray());
        Assert.Equal("column_3", t.TargetName);
        Assert.Equal([5.1, 3.5, 4.9, 3.0, 6.2, 3.4], t.X.ToArray());
        Assert.Equal([0, 1, 2], t.Labels.ToArray());
        string notice = Assert.Single(t.Notices);
        Assert.Contains("line 1 holds only numbers, so it is read as data", notice, StringComparison.Ordinal);
        Assert.Contains("column_1..column_3", notice, StringComparison.Ordinal);

        // HasHeader = true keeps the old reading: line 1 is the header, whatever it holds.
        TabularData h = Parse("5.1,3.5,0\n4.9,3.0,1\n", new CsvOptions { HasHeader = true });
        Assert.Equal((1, "0"), (h.Rows, h.TargetName));
        Assert.Empty(h.Notices);
    }

    [Fact]
    public void A_headerless_file_with_text_labels_is_read_as_data()
    {
        TabularData t = Parse("5.1,3.5,setosa\n7.0,3.2,versicolor\n");
        Assert.Equal(2, t.Rows);
        Assert.Equal(["setosa", "versicolor"], t.ClassNames.ToArray());
        Assert.Single(t.Notices);

        // A text target over a numeric second line is a header.
        TabularData h = Parse("5.1,3.5,label\n7.0,3.2,1\n");
        Assert.Equal((1, "label"), (h.Rows, h.TargetName));
    }

    [Fact]
    public void Without_a_header_the_target_is_the_last_column_or_given_by_number_or_generated_name()
    {
        var noHeader = new CsvOptions { HasHeader = false };
        TabularData last = Parse("1,2,0\n3,4,1\n", noHeader);
        Assert.Equal(("column_3", 2), (last.TargetName, last.Rows));
        Assert.Empty(last.Notices); // nothing was guessed

        TabularData first = Parse("0,2,5\n1,4,6\n", noHeader with { Target = "1" });
        Assert.Equal(("column_1", 2), (first.TargetName, first.Classes));
        Assert.Equal([2.0, 5, 4, 6], first.X.ToArray());
        Assert.Equal(first.X.ToArray(), Parse("0,2,5\n1,4,6\n", noHeader with { Target = "column_1" }).X.ToArray());

        // A given target number also works with a header, when no column has that name.
        Assert.Equal("a", Parse("a,b,c\n0,2,5\n", new CsvOptions { Target = "1" }).TargetName);

        ThrowsData(() => Parse("1,2,0\n", noHeader with { Target = "4" }), "line 1", "'4' does not exist", "1 to 3", "no header row", "'column_1'");
        ThrowsData(() => Parse("1,2,0\n", noHeader with { Target = "species" }), "'species' does not exist");
    }

    [Fact]
    public void Without_a_header_errors_name_the_lines_of_the_file()
    {
        var noHeader = new CsvOptions { HasHeader = false };
        ThrowsData(() => Parse("a,b,y\n1,2,0\n", noHeader), "line 1, column 1 ('column_1')", "cannot parse 'a'");
        ThrowsData(() => Parse("1,2,0\n3,x,1\n", noHeader), "line 2, column 2 ('column_2')", "'x'");
        ThrowsData(() => Parse("1,2,0\n3,4\n", noHeader), "line 2: expected 3 fields, found 2");
        ThrowsData(() => Parse("1,1.5\n2,2\n", noHeader with { Task = TaskKind.Classification }), "line 1, column 2 ('column_2')", "'1.5'", "not a whole number");
        ThrowsData(() => Parse("1,a\n2,b\n3,z\n", noHeader with { ClassNames = ["a", "b"] }), "line 3, column 2 ('column_2')", "'z'");
        ThrowsData(() => Parse("5\n6\n", noHeader), "line 1: the file has 1 column");
        Assert.Equal(1, Parse("1,1\n", noHeader).Rows); // duplicate values are not duplicate names
    }

    [Fact]
    public void Detection_works_on_unseekable_streams_read_a_byte_at_a_time()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("\uFEFF1;2;b\r\n3;4;a\r\n");
        TabularData t = CsvReader.Parse(new TrickleStream(new MemoryStream(bytes), 1), "s");
        Assert.Equal([1.0, 2, 3, 4], t.X.ToArray());
        Assert.Equal([1, 0], t.Labels.ToArray());
        Assert.Equal(2, t.Notices.Length);
        Assert.Equal(Sha256Hex(bytes), t.Sha256);
    }

    public static TheoryData<byte[], string> BinaryFiles => new()
    {
        { Gzip("a,y\n1,0\n"), "gzip" },
        { [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D], "PNG" },
        { [(byte)'P', (byte)'K', 3, 4, 20, 0, 6, 0], "zip archive" },
        { [.. Encoding.UTF8.GetBytes("a,y\n1,0\n"), 0, (byte)'\n'], "byte 9 is a NUL byte" },
        { [.. Encoding.UTF8.GetBytes("a,y\n1,0\n2,"), 0xff, (byte)'\n'], "byte 11 is not valid UTF-8" },
        { [0xEF, 0xBB, 0xBF, (byte)'a', 0xC3, 0x28], "byte 5 is not valid UTF-8" },
        { [0xFF, 0xFE, (byte)'a', 0, (byte)',', 0, (byte)'y', 0], "UTF-16" },
    };

    [Theory]
    [MemberData(nameof(BinaryFiles))]
    public void Binary_files_are_refused_as_not_text(byte[] bytes, string fragment)
    {
        var ex = ThrowsData(() => ParseBytes(bytes), "t.csv: the file is not a text CSV file", fragment);
        Assert.DoesNotContain("carriage return", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.Line);
    }

    [Fact]
    public void A_gzip_file_is_refused_as_not_text_by_Load_too()
    {
        using var dir = new TempDir();
        string path = dir.File("data.csv.gz");
        File.WriteAllBytes(path, Gzip(string.Concat(Enumerable.Repeat("1.5,2.5,0\r\n", 200))));
        ThrowsData(() => CsvReader.Load(path), path + ": the file is not a text CSV file", "decompress it first");

        // Invalid UTF-8 or a NUL byte after the first KB is not a binary file: it is reported where it is.
        byte[] late = [.. Encoding.UTF8.GetBytes("a,y\n" + string.Concat(Enumerable.Repeat("1,0\n", 300))), 0, (byte)',', (byte)'1', (byte)'\n'];
        ThrowsData(() => ParseBytes(late), "line 302, column 1 ('a')");
    }

    [Fact]
    public void Bundled_sets_name_their_classes_and_keep_their_labels()
    {
        TabularData iris = BundledDataSets.Load("iris");
        Assert.Equal(["setosa", "versicolor", "virginica"], iris.ClassNames.ToArray());
        Assert.Equal(Enumerable.Range(0, 150).Select(i => i / 50), iris.Labels); // sorted by class in the file
        Assert.Equal("classification: 3 classes [setosa, versicolor, virginica] from column 'species'", iris.DescribeTask());
        Assert.Equal(["malignant", "benign"], BundledDataSets.Load("breast-cancer").ClassNames.ToArray());
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], BundledDataSets.Load("digits").ClassNames.ToArray());
        Assert.Equal(["malignant", "benign"], BundledDataSets.GetInfo("breast_cancer").ClassNames.ToArray());
        Assert.Empty(BundledDataSets.Load("auto-mpg").ClassNames);
        Assert.Equal("regression on 'mpg'", BundledDataSets.Load("auto-mpg").DescribeTask());
        Assert.All(BundledDataSets.All, i => Assert.Equal(i.Classes, i.ClassNames.Length));
    }

    [Fact]
    public void TabularData_checks_and_compares_class_names()
    {
        const string hash = "0000000000000000000000000000000000000000000000000000000000000000";
        TabularData Make(ImmutableArray<string> names, int classes = 2) =>
            new("t", ["a"], "y", TaskKind.Classification, 2, 1, [1, 2], [0, 1], classes, hash, names);

        Assert.Equal(["0", "1"], Make(default).ClassNames.ToArray());
        Assert.Equal(["no", "yes"], Make(["no", "yes"]).ClassNames.ToArray());
        Assert.Throws<ArgumentException>(() => Make(["no"]));
        Assert.Throws<ArgumentException>(() => Make(["no", "no"]));
        Assert.Throws<ArgumentException>(() => Make(["no", null!]));
        Assert.Throws<ArgumentException>(() => new TabularData("t", ["a"], "y", TaskKind.Regression, 2, 1, [1, 2], [0, 1], 0, hash, ["x"]));
        Assert.NotEqual(Make(["no", "yes"]), Make(["yes", "no"]));
        Assert.Equal(Make(default), Make(["0", "1"]));
        Assert.Equal("classification: 2 classes [no, yes] from column 'y'", Make(["no", "yes"]).DescribeTask());
        Assert.Equal(
            "classification: 12 classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (2 more)] from column 'y'",
            new TabularData("t", ["a"], "y", TaskKind.Classification, 2, 1, [1, 2], [0, 11], 12, hash).DescribeTask());
        Assert.Equal(
            "classification: 1 class [only] from column 'y'",
            new TabularData("t", ["a"], "y", TaskKind.Classification, 1, 1, [1], [0], 1, hash, ["only"]).DescribeTask());
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }
}
