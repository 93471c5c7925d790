using NeuralPure.Facade.Data;

namespace NeuralPure.Cli;

/// <summary>SVG line plots (ScottPlot), written atomically.</summary>
public static class Plots
{
    /// <summary>A line per series against 1..n (epochs or iterations), saved as SVG.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, bool logY = false)
    {
        var plt = new ScottPlot.Plot();
        foreach (var (name, values) in series)
        {
            var finite = Enumerable.Range(0, values.Count).Where(i => double.IsFinite(values[i]) && (!logY || values[i] > 0)).ToArray();
            if (finite.Length == 0) continue;
            var xs = finite.Select(i => (double)(i + 1)).ToArray();
            var ys = finite.Select(i => logY ? Math.Log10(values[i]) : values[i]).ToArray();
            var s = plt.Add.Scatter(xs, ys);
            s.LegendText = name;
            s.MarkerSize = values.Count > 60 ? 0 : 4;
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(logY ? $"log10({yLabel})" : yLabel);
        plt.ShowLegend();
        AtomicFile.WriteAllText(path, plt.GetSvgXml(800, 500));
    }
}
