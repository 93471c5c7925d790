namespace NeuralPure.Facade.Plots;

/// <summary>How a <see cref="LinePlot"/> lays out its axes and its picture. The defaults give an 800×500 plot with linear axes
/// fitted to the data.</summary>
public sealed record LinePlotOptions
{
    /// <summary>The default options.</summary>
    public static LinePlotOptions Default { get; } = new();

    /// <summary>A log10 x axis: points with x ≤ 0 are left out.</summary>
    public bool LogX { get; init; }

    /// <summary>A log10 y axis: points with y ≤ 0 are left out; the ticks are labelled with the values themselves (0.01, 0.1, 1, …).</summary>
    public bool LogY { get; init; }

    /// <summary>The x axis' left end, in data units; null: the smallest x plotted.</summary>
    public double? XMin { get; init; }

    /// <summary>The x axis' right end, in data units; null: the largest x plotted.</summary>
    public double? XMax { get; init; }

    /// <summary>The y axis' bottom end, in data units; null: a little below the smallest y plotted. Lines below it are cut off
    /// at the plot area's edge.</summary>
    public double? YMin { get; init; }

    /// <summary>The y axis' top end, in data units; null: a little above the largest y plotted.</summary>
    public double? YMax { get; init; }

    /// <summary>The picture's width in pixels, at least 300.</summary>
    public int Width { get; init; } = 800;

    /// <summary>The picture's height in pixels, at least 200; it grows when the legend needs more room.</summary>
    public int Height { get; init; } = 500;
}
