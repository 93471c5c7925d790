using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using NeuralPure.Lessons;
using Xunit;

namespace NeuralPure.Properties.Lessons;

/// <summary>The lessons' tests share one run of each lesson (in process, into a temporary folder): the loop lesson alone trains
/// four epochs on 10,000 images, so running it once per test would be slow.</summary>
[CollectionDefinition("Lessons")]
public sealed class LessonsCollection : ICollectionFixture<LessonRuns>;

/// <summary>One lesson's run: its full output, the output the pages are checked against, its result record and its folder.</summary>
public sealed record LessonRun(string Name, string Output, object Result, string Folder)
{
    /// <summary>The output without the <c>time:</c> lines (wall-clock times), with \n line ends and no trailing spaces.</summary>
    public string Checked => LessonText.Normalize(Output, dropTimings: true);

    /// <summary>The result as the lesson's own record type.</summary>
    public T As<T>() => Assert.IsType<T>(Result);
}

/// <summary>Runs each lesson at most once, on first use, and deletes the folders at the end.</summary>
public sealed class LessonRuns : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LessonRun>> _runs = new(StringComparer.Ordinal);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "np-lessons-" + Guid.NewGuid().ToString("N")[..10]);

    public LessonRun Get(string name) => _runs.GetOrAdd(name, n => new Lazy<LessonRun>(() =>
    {
        var lesson = LessonCatalog.Find(n) ?? throw new ArgumentException($"no lesson '{n}'", nameof(name));
        var folder = Path.Combine(_root, n);
        var text = new StringWriter();
        var result = lesson.Run(text, folder);
        return new LessonRun(n, text.ToString(), result, folder);
    })).Value;

    public void Dispose()
    {
        try { if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Reading the pages: the repository's files and the ```text blocks a page quotes.</summary>
public static partial class LessonText
{
    /// <summary>\r\n to \n, trailing spaces removed from every line, and (optionally) the <c>time:</c> lines dropped.</summary>
    public static string Normalize(string text, bool dropTimings)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd());
        if (dropTimings) lines = lines.Where(l => !l.StartsWith("time:", StringComparison.Ordinal));
        return string.Join("\n", lines);
    }

    /// <summary>The contents of every fenced block opened by ```text, normalized.</summary>
    public static IReadOnlyList<string> TextBlocks(string markdown) =>
        [.. TextBlock().Matches(markdown.Replace("\r\n", "\n")).Select(m => Normalize(m.Groups[1].Value, dropTimings: false))];

    /// <summary>The path of a file in the repository, found by walking up from the test assembly's folder.</summary>
    public static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"{string.Join('/', parts)} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Where <paramref name="block"/> first fails to match <paramref name="output"/>: the block's line that is not where
    /// its predecessors put it (for the failure message).</summary>
    public static string FirstMismatch(string block, string output)
    {
        var lines = block.Split('\n');
        for (int n = lines.Length; n > 0; n--)
            if (output.Contains(string.Join("\n", lines.Take(n)), StringComparison.Ordinal))
                return n == lines.Length ? "(matches)" : $"line {n + 1} of the block does not follow: \"{lines[n]}\"";
        return $"its first line is not in the output: \"{lines[0]}\"";
    }

    [GeneratedRegex(@"^```text\n(.*?)\n```\s*$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex TextBlock();
}
