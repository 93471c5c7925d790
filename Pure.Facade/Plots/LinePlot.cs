using System.Globalization;
using System.Text;
using NeuralPure.Facade.Data;

namespace NeuralPure.Facade.Plots;

/// <summary>
/// Line plots as SVG, written without any drawing library: several named series on one pair of axes, a title, axis labels,
/// ticks at "nice" values (1, 2 or 5 times a power of ten), optional log10 axes, and a legend.
/// </summary>
/// <remarks>
/// <para>Layout: the plot area is a rectangle (<c>id="plot-area"</c>); the legend (<c>id="legend"</c>, framed by
/// <c>id="legend-box"</c>) is a column to the right of it, so it never covers data. The picture grows taller when the legend
/// needs more room than the plot area's height.</para>
/// <para>Axes: the x axis spans the data exactly (the smallest x is on the plot area's left edge, the largest on its right
/// edge); the y axis spans the data with 5% of room above and below. <see cref="LinePlotOptions"/> can fix either end of
/// either axis; lines beyond a fixed end are cut off at the plot area's edge. The plot area carries its axes' ends, in data
/// units, as <c>data-x-min</c>, <c>data-x-max</c>, <c>data-y-min</c> and <c>data-y-max</c>.</para>
/// <para>Series: each is a group <c>class="series"</c> (<c>id="series-{index}"</c>, with <c>data-name</c> and
/// <c>data-points</c>) holding one <c>polyline</c> through its points in order and, for a short series, one <c>circle</c> per
/// point. Colours come from the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), in the order
/// of the series, repeating after eight. A <em>dense</em> series, one with more points than the plot area is wide in pixels
/// while another series of the plot has fewer, is drawn thin (0.8 px) and translucent (opacity 0.35), so a noisy curve of
/// thousands of points is a band that the other curves show through. Translucent series are drawn first, beneath the
/// others; <see cref="LineSeries.Width"/>, <see cref="LineSeries.Opacity"/> and <see cref="LineSeries.Markers"/> override
/// these choices. A series with no point left to draw is left out, legend included.</para>
/// <para>Output: well-formed XML (text is escaped; characters XML cannot carry become U+FFFD), numbers in the invariant
/// culture, <c>\n</c> line ends, and nothing that depends on the time, the machine or the culture: the same input gives the
/// same bytes.</para>
/// </remarks>
public static class LinePlot
{
    /// <summary>The longest series that gets a dot at each point by default.</summary>
    public const int MarkerLimit = 60;

    /// <summary>The Okabe–Ito palette, in the order series get its colours (yellow, the faintest on white, last).</summary>
    public static IReadOnlyList<string> Palette { get; } =
        ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];

    private const double DenseWidth = 0.8, DenseOpacity = 0.35, LineWidth = 2, MarkerRadius = 3;
    private const double CharWidth = 7.4; // a 12 px sans-serif character (a wide one: DejaVu Sans's digits are 7.6 px), for sizing the legend
    private const double LegendPad = 52; // the swatch and the gaps around the text

    /// <summary>x = 1, 2, …, <paramref name="n"/>: the x values of a per-epoch curve.</summary>
    /// <param name="n">How many values, ≥ 0.</param>
    /// <returns>The values 1 to <paramref name="n"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    public static IReadOnlyList<double> OneTo(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return [.. Enumerable.Range(1, n).Select(i => (double)i)];
    }

    /// <summary>Renders the plot and writes it to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>), as UTF-8.</summary>
    /// <param name="path">The .svg file to create or replace.</param>
    /// <param name="title">The title above the plot area.</param>
    /// <param name="xLabel">The x axis' label.</param>
    /// <param name="yLabel">The y axis' label.</param>
    /// <param name="series">The series, drawn and listed in the legend in this order (translucent ones drawn first).</param>
    /// <param name="options">Axes and size; null for <see cref="LinePlotOptions.Default"/>.</param>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="options"/>, a series, or a series' name or coordinates is null.</exception>
    /// <exception cref="ArgumentException">The options or a series' style are invalid (see <see cref="Render"/>), or <paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<LineSeries> series, LinePlotOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllText(path, Render(title, xLabel, yLabel, series, options));
    }

    /// <summary>Renders the plot as an SVG document.</summary>
    /// <param name="title">The title above the plot area.</param>
    /// <param name="xLabel">The x axis' label.</param>
    /// <param name="yLabel">The y axis' label.</param>
    /// <param name="series">The series, drawn and listed in the legend in this order (translucent ones drawn first).</param>
    /// <param name="options">Axes and size; null for <see cref="LinePlotOptions.Default"/>.</param>
    /// <returns>The SVG document, starting with an XML declaration.</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="options"/>, a series, or a series' name or coordinates is null.</exception>
    /// <exception cref="ArgumentException">An axis end is not finite, or is ≤ 0 on a log axis; both ends of an axis are given
    /// and the first is not below the second; the width or height is too small; or a series' width is not &gt; 0 or its
    /// opacity not in (0, 1].</exception>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<LineSeries> series, LinePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(xLabel);
        ArgumentNullException.ThrowIfNull(yLabel);
        ArgumentNullException.ThrowIfNull(series);
        var o = options ?? LinePlotOptions.Default;
        Validate(o);

        // The points each series keeps, in axis units (log10 of the value on a log axis).
        var kept = new List<(int Index, LineSeries Series, double[] X, double[] Y)>();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i] ?? throw new ArgumentNullException(nameof(series), $"Series {i} is null.");
            ArgumentNullException.ThrowIfNull(s.Name, $"{nameof(series)}[{i}].{nameof(LineSeries.Name)}");
            ArgumentNullException.ThrowIfNull(s.X, $"{nameof(series)}[{i}].{nameof(LineSeries.X)}");
            ArgumentNullException.ThrowIfNull(s.Y, $"{nameof(series)}[{i}].{nameof(LineSeries.Y)}");
            if (s.Width is { } w && !(w > 0 && double.IsFinite(w))) throw new ArgumentException($"Series '{s.Name}': the width {w} is not > 0.", nameof(series));
            if (s.Opacity is { } a && !(a > 0 && a <= 1)) throw new ArgumentException($"Series '{s.Name}': the opacity {a} is not in (0, 1].", nameof(series));
            var xs = new List<double>();
            var ys = new List<double>();
            for (int j = 0, n = Math.Min(s.X.Count, s.Y.Count); j < n; j++)
            {
                double px = s.X[j], py = s.Y[j];
                if (!double.IsFinite(px) || !double.IsFinite(py) || (o.LogX && px <= 0) || (o.LogY && py <= 0)) continue;
                xs.Add(o.LogX ? Math.Log10(px) : px);
                ys.Add(o.LogY ? Math.Log10(py) : py);
            }
            if (xs.Count > 0) kept.Add((i, s, [.. xs], [.. ys]));
        }

        // Layout: the legend column's width follows the longest name (up to a third of the picture).
        double width = o.Width, height = o.Height;
        int longest = kept.Count == 0 ? 0 : kept.Max(k => k.Series.Name.Length);
        double legendWidth = Math.Clamp(LegendPad + longest * CharWidth, 90, Math.Min(280, width / 3));
        int maxChars = Math.Max(2, (int)Math.Floor((legendWidth - LegendPad) / CharWidth + 1e-9));
        double legendHeight = 8 + 20 * kept.Count;
        const double top = 42, left = 72;
        height = Math.Max(height, top + legendHeight + 10);
        double right = width - 14 - legendWidth - 14, bottom = height - 52;
        double legendX = right + 14;

        var x = Fit(kept.SelectMany(k => k.X), o.XMin, o.XMax, o.LogX, pad: 0);
        var y = Fit(kept.SelectMany(k => k.Y), o.YMin, o.YMax, o.LogY, pad: 0.05);
        double MapX(double t) => left + (t - x.Min) / (x.Max - x.Min) * (right - left);
        double MapY(double t) => bottom - (t - y.Min) / (y.Max - y.Min) * (bottom - top);

        var sb = new StringBuilder();
        void L(string line) => sb.Append(line).Append('\n');
        L("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>");
        L($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(width)} {N(height)}\" font-family=\"sans-serif\">");
        L($"<title>{Esc(title)}</title>");
        L($"<rect id=\"background\" x=\"0\" y=\"0\" width=\"{N(width)}\" height=\"{N(height)}\" fill=\"#ffffff\"/>");
        // The clip keeps lines inside the plot area, with room for the dots on an end the data decides (a fixed end cuts exactly).
        double cl = left - (o.XMin is null ? MarkerRadius + 1 : 0), cr = right + (o.XMax is null ? MarkerRadius + 1 : 0);
        double ct = top - (o.YMax is null ? MarkerRadius + 1 : 0), cb = bottom + (o.YMin is null ? MarkerRadius + 1 : 0);
        L($"<defs><clipPath id=\"plot-clip\"><rect x=\"{N(cl)}\" y=\"{N(ct)}\" width=\"{N(cr - cl)}\" height=\"{N(cb - ct)}\"/></clipPath></defs>");
        L($"<text id=\"title\" x=\"{N((left + right) / 2)}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#222222\">{Esc(title)}</text>");

        var xTicks = Ticks(x);
        var yTicks = Ticks(y);
        L("<g id=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">");
        foreach (var (t, _) in xTicks) L($"<line x1=\"{N(MapX(t))}\" y1=\"{N(top)}\" x2=\"{N(MapX(t))}\" y2=\"{N(bottom)}\"/>");
        foreach (var (t, _) in yTicks) L($"<line x1=\"{N(left)}\" y1=\"{N(MapY(t))}\" x2=\"{N(right)}\" y2=\"{N(MapY(t))}\"/>");
        L("</g>");

        // Series: translucent ones first (beneath), then the rest, each group in the caller's order.
        int sparsest = kept.Count == 0 ? 0 : kept.Min(k => k.X.Length);
        var styled = kept.Select(k =>
        {
            bool dense = k.X.Length > right - left && sparsest <= right - left;
            double w = k.Series.Width ?? (dense ? DenseWidth : LineWidth);
            double a = k.Series.Opacity ?? (dense ? DenseOpacity : 1);
            bool markers = k.Series.Markers ?? k.X.Length <= MarkerLimit;
            return (k.Index, k.Series, k.X, k.Y, Colour: Palette[k.Index % Palette.Count], Width: w, Opacity: a, Markers: markers);
        }).ToList();
        L("<g id=\"series\" clip-path=\"url(#plot-clip)\">");
        foreach (var s in styled.Where(s => s.Opacity < 1).Concat(styled.Where(s => s.Opacity >= 1)))
        {
            string opacity = s.Opacity < 1 ? $" stroke-opacity=\"{N(s.Opacity)}\"" : "";
            L($"<g class=\"series\" id=\"series-{s.Index}\" data-name=\"{Esc(s.Series.Name)}\" data-points=\"{s.X.Length}\">");
            var pts = new StringBuilder();
            for (int j = 0; j < s.X.Length; j++) pts.Append(j == 0 ? "" : " ").Append(N(MapX(s.X[j]))).Append(',').Append(N(MapY(s.Y[j])));
            L($"<polyline class=\"line\" points=\"{pts}\" fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"{N(s.Width)}\"{opacity} stroke-linejoin=\"round\" stroke-linecap=\"round\"/>");
            if (s.Markers)
            {
                L($"<g class=\"markers\" fill=\"{s.Colour}\"{(s.Opacity < 1 ? $" fill-opacity=\"{N(s.Opacity)}\"" : "")}>");
                for (int j = 0; j < s.X.Length; j++) L($"<circle cx=\"{N(MapX(s.X[j]))}\" cy=\"{N(MapY(s.Y[j]))}\" r=\"{N(MarkerRadius)}\"/>");
                L("</g>");
            }
            L("</g>");
        }
        L("</g>");

        L($"<rect id=\"plot-area\" class=\"plot-area\" x=\"{N(left)}\" y=\"{N(top)}\" width=\"{N(right - left)}\" height=\"{N(bottom - top)}\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"" +
          $" data-x-min=\"{R(x.Value(x.Min))}\" data-x-max=\"{R(x.Value(x.Max))}\" data-y-min=\"{R(y.Value(y.Min))}\" data-y-max=\"{R(y.Value(y.Max))}\"" +
          $" data-x-scale=\"{(o.LogX ? "log10" : "linear")}\" data-y-scale=\"{(o.LogY ? "log10" : "linear")}\"/>");

        L("<g id=\"x-axis\" class=\"axis\" font-size=\"11\" fill=\"#333333\">");
        foreach (var (t, label) in xTicks)
        {
            L($"<line x1=\"{N(MapX(t))}\" y1=\"{N(bottom)}\" x2=\"{N(MapX(t))}\" y2=\"{N(bottom + 5)}\" stroke=\"#333333\"/>");
            L($"<text class=\"tick-label\" x=\"{N(MapX(t))}\" y=\"{N(bottom + 18)}\" text-anchor=\"middle\">{Esc(label)}</text>");
        }
        L($"<text id=\"x-label\" x=\"{N((left + right) / 2)}\" y=\"{N(height - 12)}\" text-anchor=\"middle\" font-size=\"13\">{Esc(o.LogX ? $"{xLabel} (log scale)" : xLabel)}</text>");
        L("</g>");
        L("<g id=\"y-axis\" class=\"axis\" font-size=\"11\" fill=\"#333333\">");
        foreach (var (t, label) in yTicks)
        {
            L($"<line x1=\"{N(left - 5)}\" y1=\"{N(MapY(t))}\" x2=\"{N(left)}\" y2=\"{N(MapY(t))}\" stroke=\"#333333\"/>");
            L($"<text class=\"tick-label\" x=\"{N(left - 8)}\" y=\"{N(MapY(t))}\" dy=\"0.35em\" text-anchor=\"end\">{Esc(label)}</text>");
        }
        double yLabelY = (top + bottom) / 2;
        L($"<text id=\"y-label\" x=\"16\" y=\"{N(yLabelY)}\" transform=\"rotate(-90 16 {N(yLabelY)})\" text-anchor=\"middle\" dy=\"0.35em\" font-size=\"13\">{Esc(o.LogY ? $"{yLabel} (log scale)" : yLabel)}</text>");
        L("</g>");

        L("<g id=\"legend\" font-size=\"12\" fill=\"#222222\">");
        L($"<rect id=\"legend-box\" x=\"{N(legendX)}\" y=\"{N(top)}\" width=\"{N(legendWidth)}\" height=\"{N(legendHeight)}\" fill=\"#ffffff\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>");
        for (int i = 0; i < styled.Count; i++)
        {
            var s = styled[i];
            double ey = top + 14 + 20 * i, ex = legendX + 10;
            string name = s.Series.Name.Length <= maxChars ? s.Series.Name : string.Concat(s.Series.Name.AsSpan(0, Math.Max(1, maxChars - 1)), "…");
            L($"<g class=\"legend-entry\" data-series=\"{s.Index}\">");
            // The swatch is at least 2 px wide and half opaque, so a dense series' colour can still be told in the legend.
            L($"<line x1=\"{N(ex)}\" y1=\"{N(ey)}\" x2=\"{N(ex + 24)}\" y2=\"{N(ey)}\" stroke=\"{s.Colour}\" stroke-width=\"{N(Math.Max(2, s.Width))}\"{(s.Opacity < 1 ? $" stroke-opacity=\"{N(Math.Max(0.5, s.Opacity))}\"" : "")}/>");
            if (s.Markers) L($"<circle cx=\"{N(ex + 12)}\" cy=\"{N(ey)}\" r=\"{N(MarkerRadius)}\" fill=\"{s.Colour}\"/>");
            L($"<text x=\"{N(ex + 32)}\" y=\"{N(ey)}\" dy=\"0.35em\">{(name == s.Series.Name ? "" : $"<title>{Esc(s.Series.Name)}</title>")}{Esc(name)}</text>");
            L("</g>");
        }
        L("</g>");
        L("</svg>");
        return sb.ToString();
    }

    private static void Validate(LinePlotOptions o)
    {
        if (o.Width < 300) throw new ArgumentException($"The width {o.Width} is below 300 pixels.", nameof(o.Width));
        if (o.Height < 200) throw new ArgumentException($"The height {o.Height} is below 200 pixels.", nameof(o.Height));
        static void End(double? v, bool log, string name)
        {
            if (v is not { } e) return;
            if (!double.IsFinite(e)) throw new ArgumentException($"{name} = {e} is not finite.", name);
            if (log && e <= 0) throw new ArgumentException($"{name} = {e} is not > 0, and the axis is logarithmic.", name);
        }
        End(o.XMin, o.LogX, nameof(o.XMin));
        End(o.XMax, o.LogX, nameof(o.XMax));
        End(o.YMin, o.LogY, nameof(o.YMin));
        End(o.YMax, o.LogY, nameof(o.YMax));
        if (o.XMin is { } x0 && o.XMax is { } x1 && !(x0 < x1)) throw new ArgumentException($"XMin = {x0} is not below XMax = {x1}.", nameof(o.XMin));
        if (o.YMin is { } y0 && o.YMax is { } y1 && !(y0 < y1)) throw new ArgumentException($"YMin = {y0} is not below YMax = {y1}.", nameof(o.YMin));
    }

    /// <summary>An axis: its ends in axis units (log10 of the value on a log axis).</summary>
    private readonly record struct Axis(double Min, double Max, bool Log)
    {
        public double Value(double t) => Log ? Math.Pow(10, t) : t;
    }

    /// <summary>The axis' ends: the given ones, else the data's, widened by <paramref name="pad"/> of the span on a free end;
    /// a zero span is widened to something drawable.</summary>
    private static Axis Fit(IEnumerable<double> data, double? min, double? max, bool log, double pad)
    {
        double? lo = min is { } a ? (log ? Math.Log10(a) : a) : null, hi = max is { } b ? (log ? Math.Log10(b) : b) : null;
        double dataMin = double.PositiveInfinity, dataMax = double.NegativeInfinity;
        foreach (var t in data) { dataMin = Math.Min(dataMin, t); dataMax = Math.Max(dataMax, t); }
        if (dataMin > dataMax) (dataMin, dataMax) = (0, 1);
        double from = lo ?? dataMin, to = hi ?? dataMax;
        double anchor = lo ?? hi ?? dataMin;
        double unit = log ? 0.5 : anchor != 0 ? Math.Abs(anchor) * 0.1 : 1;
        if (to <= from)
        {
            if (lo is null && hi is null) { from -= unit; to += unit; }
            else if (lo is null) from = to - 2 * unit;
            else to = from + 2 * unit;
        }
        double span = to - from;
        if (lo is null) from -= pad * span;
        if (hi is null) to += pad * span;
        return new Axis(from, to, log);
    }

    /// <summary>Tick positions (axis units) and labels: 1, 2 or 5 times a power of ten on a linear axis; on a log axis whole
    /// decades (every 1, 2, 5, … decades when there are many), 1-2-5 steps within the decades when there are few.</summary>
    private static List<(double T, string Label)> Ticks(Axis a)
    {
        double span = a.Max - a.Min, eps = span * 1e-9;
        var ticks = new List<(double, string)>();
        if (!a.Log) return LinearTicks(a.Min, a.Max, v => v);
        if (span >= 3)
        {
            double step = Math.Max(1, Nice(span / 6));
            for (double k = Math.Ceiling((a.Min - eps) / step); k * step <= a.Max + eps; k++)
            {
                int e = (int)Math.Round(k * step);
                ticks.Add((e, Power(1, e)));
            }
            return ticks;
        }
        for (int e = (int)Math.Floor(a.Min) - 1; e <= (int)Math.Ceiling(a.Max); e++)
            foreach (int m in new[] { 1, 2, 5 })
            {
                double t = e + Math.Log10(m);
                if (t >= a.Min - eps && t <= a.Max + eps) ticks.Add((t, Power(m, e)));
            }
        if (ticks.Count >= 3) return ticks;
        // Less than a factor of about 2.5 between the ends: linear steps in the values, placed on the log axis.
        return LinearTicks(Math.Pow(10, a.Min), Math.Pow(10, a.Max), Math.Log10);
    }

    private static List<(double T, string Label)> LinearTicks(double min, double max, Func<double, double> toAxis)
    {
        double step = Nice((max - min) / 6), eps = (max - min) * 1e-9;
        var ticks = new List<(double, string)>();
        for (double k = Math.Ceiling((min - eps) / step); k * step <= max + eps; k++)
        {
            double v = k * step;
            if (Math.Abs(v) < step * 1e-6) v = 0;
            double t = toAxis(v);
            if (double.IsFinite(t)) ticks.Add((t, Linear(v, step, Math.Max(Math.Abs(min), Math.Abs(max)))));
        }
        return ticks;
    }

    /// <summary>The 1-2-5 value nearest above <paramref name="raw"/> (1, 2, 5 or 10 times a power of ten).</summary>
    private static double Nice(double raw)
    {
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double n = raw / mag;
        return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
    }

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string Linear(double v, double step, double largest)
    {
        if (v == 0) return "0";
        if (largest >= 1e7 || step < 1e-4) return v.ToString("0.###e+0", Inv);
        int decimals = step >= 1 ? 0 : (int)Math.Ceiling(-Math.Log10(step) - 1e-9);
        return v.ToString("N" + decimals.ToString(Inv), Inv);
    }

    /// <summary>m·10^e as a plain number between 10^-4 and 10^6, else as "me±e" (2e-8).</summary>
    private static string Power(int m, int e) =>
        e is >= -4 and <= 5 ? (m * Math.Pow(10, e)).ToString("N" + Math.Max(0, -e).ToString(Inv), Inv) : $"{m.ToString(Inv)}e{e.ToString(Inv)}";

    /// <summary>A pixel coordinate: two decimals at most, no "-0".</summary>
    private static string N(double v)
    {
        double r = Math.Round(v, 2);
        return (r == 0 ? 0 : r).ToString("0.##", Inv);
    }

    /// <summary>A data value, round-trippable.</summary>
    private static string R(double v) => v.ToString("R", Inv);

    /// <summary>Text for XML content or an attribute: the five special characters escaped; characters XML 1.0 cannot carry
    /// (control characters other than tab, line feed and carriage return; lone surrogates; U+FFFE, U+FFFF) become U+FFFD.</summary>
    internal static string Esc(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                case '\t' or '\n' or '\r': sb.Append(' '); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[++i]); }
                    else if (c < 0x20 || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF') sb.Append('\uFFFD');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
