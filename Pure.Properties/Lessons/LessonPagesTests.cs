using NeuralPure.Lessons;
using Xunit;

namespace NeuralPure.Properties.Lessons;

/// <summary>Each page in lessons/&lt;name&gt;/README.md quotes its program's output: every ```text block must appear, line for line,
/// in what the lesson prints (wall-clock <c>time:</c> lines aside). When a change to NeuralPure changes a number, this fails
/// until the page is updated: the teaching material cannot go stale.</summary>
[Collection("Lessons")]
public sealed class LessonPagesTests(LessonRuns runs)
{
    public static TheoryData<string> Names => [.. LessonCatalog.All.Select(l => l.Name)];

    private static string Page(string name) => File.ReadAllText(LessonText.RepoFile("lessons", name, "README.md"));

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_text_block_of_the_page_is_in_the_lesson_output(string name)
    {
        var output = runs.Get(name).Checked;
        var blocks = LessonText.TextBlocks(Page(name));
        Assert.NotEmpty(blocks);
        Assert.Contains(blocks, b => b.Any(char.IsDigit));
        for (int i = 0; i < blocks.Count; i++)
            Assert.True(output.Contains(blocks[i], StringComparison.Ordinal),
                $"lessons/{name}/README.md, text block {i + 1}: {LessonText.FirstMismatch(blocks[i], output)}\n--- the lesson printed ---\n{output}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Page_gives_the_one_command_that_runs_the_lesson(string name)
    {
        var page = Page(name);
        Assert.StartsWith("# ", page);
        Assert.Contains($"dotnet run --project Pure.Cli -c Release -- lesson {name}", page);
        Assert.Contains($"Pure.Lessons/", page);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Output_is_plain_text_and_timings_are_on_their_own_lines(string name)
    {
        var run = runs.Get(name);
        Assert.DoesNotContain('\u001b', run.Output);
        Assert.DoesNotContain("\r", run.Checked);
        // A wall-clock time ("0.123 s") may only appear on a time: line, which the page comparison ignores.
        Assert.All(run.Output.Replace("\r\n", "\n").Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\d\.\d+ m?s\b")),
            l => Assert.StartsWith("time:", l));
    }

    [Fact]
    public void Catalog_names_the_eight_lessons_in_order_each_with_a_folder_a_page_and_a_readme_entry()
    {
        Assert.Equal(["loss", "backprop", "descent", "loop", "optimizers", "diagnose", "conv", "sweep"], LessonCatalog.All.Select(l => l.Name));
        var readme = File.ReadAllText(LessonText.RepoFile("README.md"));
        Assert.Contains("## Lessons", readme);
        foreach (var l in LessonCatalog.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(l.Summary));
            Assert.True(File.Exists(LessonText.RepoFile("lessons", l.Name, "README.md")));
            Assert.Contains($"lessons/{l.Name}/", readme);
        }
        Assert.Same(LessonCatalog.All[2], LessonCatalog.Find(" DESCENT "));
        Assert.Null(LessonCatalog.Find("nope"));
    }

    [Fact]
    public void Text_blocks_are_found_and_compared_line_for_line()
    {
        var md = "# t\n\n```text\n  a 1   \nb 2\n```\n\n```csharp\nx\n```\n```text\nc\n```\n";
        Assert.Equal(["  a 1\nb 2", "c"], LessonText.TextBlocks(md));
        Assert.Equal("x\ny", LessonText.Normalize("x  \r\ntime: 1 s\ny", dropTimings: true));
        Assert.Equal("line 2 of the block does not follow: \"b 3\"", LessonText.FirstMismatch("a 1\nb 3", "a 1\nb 2"));
    }
}
