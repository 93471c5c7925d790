using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;

namespace NeuralPure.Lessons;

/// <summary>One lesson: its name (the folder under <c>lessons/</c> and the argument of <c>neuralpure lesson</c>), a one-line
/// summary, and the program that shows the idea.</summary>
/// <param name="Name">The lesson's name, e.g. <c>loss</c>.</param>
/// <param name="Summary">What the lesson shows, in one line.</param>
/// <param name="Run">Writes the lesson's text to the writer and its plots (if any) into the folder, and returns what it computed
/// (the lesson's own result record, e.g. <see cref="LossLessonResult"/>).</param>
public sealed record Lesson(string Name, string Summary, Func<TextWriter, string, object> Run);

/// <summary>Every lesson, in teaching order.</summary>
public static class LessonCatalog
{
    /// <summary>The lessons of "How training works", in order (the seventh begins the next: convolutional networks; the eighth compares runs).</summary>
    public static ImmutableArray<Lesson> All { get; } =
    [
        new("loss", "A loss measures how wrong a prediction is: cross-entropy for spam and its gradient softmax - onehot, squared error for house prices",
            (w, f) => LossLesson.Run(w, f)),
        new("backprop", "Backpropagation traces the loss back to every weight of a tiny network, checked numerically, weights untouched",
            (w, f) => BackpropLesson.Run(w, f)),
        new("descent", "Gradient descent with a too-large, a too-small and a good learning rate, on a valley and on a real model",
            (w, f) => DescentLesson.Run(w, f)),
        new("loop", "The training loop: one iteration's five steps, epochs and iterations on Fashion-MNIST, and the batch-size trade-off",
            (w, f) => LoopLesson.Run(w, f)),
        new("optimizers", "SGD, momentum, Adam, AdamW, Adagrad and Lion from the same start: loss curves, step sizes and weight norms",
            (w, f) => OptimizersLesson.Run(w, f)),
        new("diagnose", "Reading a loss curve: steady, oscillating, diverged or plateau, with the epochs that show it",
            (w, f) => DiagnoseLesson.Run(w, f)),
        new("conv", "Convolution: a filter sliding over a tiny image, its gradient checked numerically, a small CNN against an MLP on Fashion-MNIST",
            (w, f) => ConvLesson.Run(w, f)),
        new("sweep", "One run is an anecdote: the learning rate swept over decades on digits with 3 seeds, too small / just right / too large measured",
            (w, f) => SweepLesson.Run(w, f)),
    ];

    /// <summary>The lesson called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static Lesson? Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Plain, culture-invariant lesson output. Wall-clock timings go on their own lines starting with <c>time:</c>,
/// the only lines that differ between runs (the tests drop them before comparing a page with the output).</summary>
internal sealed class LessonWriter(TextWriter output)
{
    /// <summary>The prefix of every timing line.</summary>
    public const string TimePrefix = "time:";

    /// <summary>A line with its numbers formatted in the invariant culture, without trailing spaces (which editors strip from
    /// the pages that quote it).</summary>
    public void Line(FormattableString text) => output.WriteLine(FormattableString.Invariant(text).TrimEnd());

    /// <summary>An empty line.</summary>
    public void Line() => output.WriteLine();

    /// <summary>A heading followed by an underline of dashes.</summary>
    public void Heading(FormattableString heading)
    {
        var text = FormattableString.Invariant(heading);
        output.WriteLine();
        output.WriteLine(text);
        output.WriteLine(new string('-', text.Length));
    }

    /// <summary>A timing line, <c>time: {what} {seconds} s</c>.</summary>
    public void Time(string what, TimeSpan elapsed) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{TimePrefix} {what} {elapsed.TotalSeconds:F3} s"));

    /// <summary>Runs <paramref name="work"/> and returns its result with the wall time it took.</summary>
    public static (T Result, TimeSpan Elapsed) Timed<T>(Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        var r = work();
        return (r, clock.Elapsed);
    }
}

/// <summary>Number formatting shared by the lessons.</summary>
internal static class Fmt
{
    /// <summary>A list of numbers as <c>[a, b, c]</c> with <paramref name="digits"/> decimals.</summary>
    public static string List(IEnumerable<double> values, int digits = 4) =>
        "[" + string.Join(", ", values.Select(v => v.ToString("F" + digits, CultureInfo.InvariantCulture))) + "]";

    /// <summary>A list of floats as <c>[a, b, c]</c>.</summary>
    public static string List(IEnumerable<float> values, int digits = 4) => List(values.Select(v => (double)v), digits);

    /// <summary>Formats in the invariant culture (for text built inside a line).</summary>
    public static string I(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>A learning rate as written by hand: 0.0001, 0.05, 1.2.</summary>
    public static string Rate(double v) => v.ToString("0.##########", CultureInfo.InvariantCulture);

    /// <summary>A fraction as a percentage with one decimal, e.g. 73.8%.</summary>
    public static string Percent(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture) + "%";

    /// <summary>Creates the output folder and returns the full path of <paramref name="file"/> in it.</summary>
    public static string OutputPath(string folder, string file)
    {
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, file);
    }
}
