using NeuralPure.Facade.Data;

namespace NeuralPure.Lessons;

/// <summary>SVG line plots (ScottPlot), written atomically.</summary>
/// <remarks>The one plotting helper of the repository: the lessons and <c>neuralpure train</c>'s loss.svg both draw through it.</remarks>
public static class LessonPlots
{
    /// <summary>One line per series, saved as an 800×500 SVG. Non-finite points (and, with <paramref name="logY"/>, points ≤ 0) are left out.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)> series, bool logY = false)
    {
        var plt = new ScottPlot.Plot();
        foreach (var (name, x, y) in series)
        {
            var keep = Enumerable.Range(0, Math.Min(x.Count, y.Count)).Where(i => double.IsFinite(y[i]) && (!logY || y[i] > 0)).ToArray();
            if (keep.Length == 0) continue;
            var s = plt.Add.Scatter(keep.Select(i => x[i]).ToArray(), keep.Select(i => logY ? Math.Log10(y[i]) : y[i]).ToArray());
            s.LegendText = name;
            s.MarkerSize = keep.Length > 60 ? 0 : 4;
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(logY ? $"log10({yLabel})" : yLabel);
        plt.ShowLegend();
        AtomicFile.WriteAllText(path, plt.GetSvgXml(800, 500));
    }

    /// <summary>x = 1, 2, …, n.</summary>
    public static IReadOnlyList<double> OneTo(int n) => [.. Enumerable.Range(1, n).Select(i => (double)i)];
}
