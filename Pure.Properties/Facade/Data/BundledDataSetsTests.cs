using NeuralPure.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Facade.Data;

public class BundledDataSetsTests
{
    public static TheoryData<string, TaskKind, int, int, int, string> Expected => new()
    {
        { "digits", TaskKind.Classification, 1797, 64, 10, "digit" },
        { "iris", TaskKind.Classification, 150, 4, 3, "species" },
        { "breast-cancer", TaskKind.Classification, 569, 30, 2, "diagnosis" },
        { "auto-mpg", TaskKind.Regression, 392, 7, 0, "mpg" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Every_bundled_set_loads_with_the_documented_shape(string name, TaskKind task, int rows, int features, int classes, string target)
    {
        TabularData t = BundledDataSets.Load(name);
        Assert.Equal((name, task, rows, features, classes, target), (t.Name, t.Task, t.Rows, t.Features, t.Classes, t.TargetName));
        Assert.Equal(rows * features, t.X.Length);
        BundledDataSetInfo info = BundledDataSets.GetInfo(name);
        Assert.Equal((task, rows, features, classes, target, t.Sha256), (info.Task, info.Rows, info.Features, info.Classes, info.TargetName, info.Sha256));
        Assert.False(string.IsNullOrWhiteSpace(info.Licence));
        Assert.False(string.IsNullOrWhiteSpace(info.Description));
        Assert.DoesNotContain(target, t.FeatureNames);
    }

    [Fact]
    public void All_lists_the_four_sets()
    {
        Assert.Equal(["digits", "iris", "breast-cancer", "auto-mpg"], BundledDataSets.All.Select(i => i.Name));
    }

    [Fact]
    public void Class_counts_match_the_provenance_notes()
    {
        Assert.All(BundledDataSets.Load("iris").Labels.GroupBy(l => l), g => Assert.Equal(50, g.Count()));
        var bc = BundledDataSets.Load("breast-cancer").Labels;
        Assert.Equal((212, 357), (bc.Count(l => l == 0), bc.Count(l => l == 1)));
        Assert.All(BundledDataSets.Load("digits").X, v => Assert.InRange(v, 0, 16));
        Assert.Throws<InvalidOperationException>(() => BundledDataSets.Load("auto-mpg").Labels);
    }

    [Theory]
    [InlineData("IRIS", "iris")]
    [InlineData("breast_cancer", "breast-cancer")]
    [InlineData("Breast-Cancer", "breast-cancer")]
    [InlineData("auto_mpg", "auto-mpg")]
    [InlineData(" Digits ", "digits")]
    public void Names_are_case_insensitive_and_accept_underscores(string alias, string canonical)
    {
        Assert.Same(BundledDataSets.Load(canonical), BundledDataSets.Load(alias));
    }

    [Fact]
    public void Unknown_names_list_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => BundledDataSets.Load("mnist"));
        Assert.Contains("'mnist'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("digits, iris, breast-cancer, auto-mpg, breast_cancer, auto_mpg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Finds_the_Fashion_MNIST_folder_in_the_repository()
    {
        string folder = BundledDataSets.FindFashionMnistFolder();
        Assert.True(File.Exists(Path.Combine(folder, BundledDataSets.FashionMnistImagesFile)));
        Assert.True(File.Exists(Path.Combine(folder, BundledDataSets.FashionMnistLabelsFile)));
        Assert.Equal("fashion_mnist", Path.GetFileName(folder));
    }
}
