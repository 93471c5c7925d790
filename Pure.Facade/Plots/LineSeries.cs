namespace NeuralPure.Facade.Plots;

/// <summary>One named line of a <see cref="LinePlot"/>: the points (<c>X[i]</c>, <c>Y[i]</c>) joined in order.</summary>
/// <remarks>
/// Only the first <c>min(X.Count, Y.Count)</c> points are used. Points with a non-finite coordinate, and on a log axis points
/// whose coordinate is ≤ 0, are left out (the line joins the points around them). The style properties are null by default,
/// which lets <see cref="LinePlot"/> choose (see there): set them to override its choice for this series.
/// </remarks>
/// <param name="Name">The series' name, shown in the legend.</param>
/// <param name="X">The x coordinates.</param>
/// <param name="Y">The y coordinates.</param>
public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>The line's width in pixels, &gt; 0; null: 2, or 0.8 for a dense series (see <see cref="LinePlot"/>).</summary>
    public double? Width { get; init; }

    /// <summary>The line's and markers' opacity, in (0, 1]; null: 1, or 0.35 for a dense series. A series drawn with an
    /// opacity below 1 is drawn before (beneath) the opaque ones.</summary>
    public double? Opacity { get; init; }

    /// <summary>Whether each point gets a dot; null: only when the series has at most <see cref="LinePlot.MarkerLimit"/> points.</summary>
    public bool? Markers { get; init; }
}
