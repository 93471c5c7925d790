using NeuralPure.Lessons;
using NeuralPure.Properties.Cli;
using Xunit;

namespace NeuralPure.Properties.Lessons;

/// <summary><c>neuralpure lesson</c> lists and runs the lessons (redirects Console, hence the collection).</summary>
[Collection("Console")]
public sealed class LessonCommandTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    [Fact]
    public void Lesson_without_a_name_lists_every_lesson_with_its_summary()
    {
        var (code, stdout, err) = CliRunner.Run("lesson");
        Assert.True(code == 0, err);
        foreach (var l in LessonCatalog.All) Assert.Contains($"  {l.Name,-11} {l.Summary}", stdout);
    }

    [Fact]
    public void Lesson_loss_prints_what_the_lesson_prints()
    {
        var (code, stdout, err) = CliRunner.Run("lesson", "loss", "--out", _dir);
        Assert.True(code == 0, err);
        var direct = new StringWriter();
        LossLesson.Run(direct, _dir);
        Assert.Equal(direct.ToString(), stdout);
    }

    [Fact]
    public void Lesson_writes_its_plots_into_the_out_folder()
    {
        var (code, stdout, err) = CliRunner.Run("lesson", "diagnose", "--out", _dir);
        Assert.True(code == 0, err);
        Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(_dir, "diagnose-curves.svg")));
        Assert.Contains($"the plots are in {_dir}", stdout);
    }

    [Fact]
    public void An_unknown_lesson_is_a_usage_error_naming_the_known_ones()
    {
        var (code, _, err) = CliRunner.Run("lesson", "nope");
        Assert.Equal(2, code);
        Assert.Contains("unknown lesson 'nope'; known: loss, backprop, descent, loop, optimizers, diagnose", err);
    }
}
