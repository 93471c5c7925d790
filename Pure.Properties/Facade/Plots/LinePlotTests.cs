using System.Globalization;
using System.Xml.Linq;
using NeuralPure.Facade.Plots;
using NeuralPure.Properties.Facade.Data;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Facade.Plots;

public sealed class LinePlotTests
{
    private static LineSeries S(string name, IReadOnlyList<double> x, IReadOnlyList<double> y) => new(name, x, y);

    private static IReadOnlyList<double> Noise(int n, int seed)
    {
        var r = new System.Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => Math.Exp(-6 * r.NextDouble()))];
    }

    private static SvgPlot Plot(IReadOnlyList<LineSeries> series, LinePlotOptions? o = null, string title = "t") =>
        new(LinePlot.Render(title, "x", "y", series, o));

    [Fact]
    public void Each_series_is_one_polyline_through_its_points_and_only_short_series_get_markers()
    {
        var p = Plot([S("short", [1, 2, 3], [3, 1, 2]), S("long", LinePlot.OneTo(100), Noise(100, 1)), S("one", [2], [2])]);
        Assert.Equal(["short", "long", "one"], p.Series.Select(s => s.Name));
        Assert.Equal(3, p.Root.Descendants(SvgPlot.Ns + "polyline").Count());
        Assert.Equal([3, 100, 1], p.Series.Select(s => s.Points.Count));
        Assert.Equal([3, 100, 1], p.Series.Select(s => s.DeclaredPoints));
        Assert.Equal([3, 0, 1], p.Series.Select(s => s.Markers));
        Assert.Equal(3, p.ById("legend").Elements(SvgPlot.Ns + "g").Count(g => (string?)g.Attribute("class") == "legend-entry"));
        // Distinct colours, from the Okabe–Ito palette.
        var colours = p.Root.Descendants(SvgPlot.Ns + "polyline").Select(l => (string)l.Attribute("stroke")!).ToList();
        Assert.Equal(colours.Count, colours.Distinct().Count());
        Assert.All(colours, c => Assert.Contains(c, LinePlot.Palette));
        // The per-series override wins over the rule of 60.
        var forced = Plot([S("a", [1, 2, 3], [1, 2, 3]) with { Markers = false }, S("b", LinePlot.OneTo(100), Noise(100, 2)) with { Markers = true }]);
        Assert.Equal([0, 100], forced.Series.Select(s => s.Markers));
    }

    [Fact]
    public void The_legend_lies_beside_the_plot_area_never_over_it_whatever_the_names_and_the_number_of_series()
    {
        foreach (var series in new List<LineSeries>[]
        {
            [S("train", [1, 2, 3], [1, 0.5, 0.25])],
            [S("a name much longer than any legend column could hold, with a wide WWWWWWWWWWWWWWWWW", [1, 2], [1, 2]), S("b", [1, 2], [2, 1])],
            [.. Enumerable.Range(0, 30).Select(i => S($"series {i}", [0, 1], [i, i + 1]))],
        })
        {
            var p = Plot(series);
            Assert.False(p.Legend.Overlaps(p.PlotArea));
            Assert.True(p.Legend.X >= p.PlotArea.Right, $"legend at x = {p.Legend.X}, plot area ends at {p.PlotArea.Right}");
            var picture = new Box(0, 0, SvgPlot.D((string)p.Root.Attribute("width")!), SvgPlot.D((string)p.Root.Attribute("height")!));
            Assert.True(picture.Contains(p.Legend.X, p.Legend.Y) && picture.Contains(p.Legend.Right, p.Legend.Bottom), "the legend is inside the picture");
            // Every swatch and label starts inside the legend's box, and every point of every series inside the plot area.
            foreach (var e in p.ById("legend").Descendants().Where(e => e.Name.LocalName is "line" or "text"))
            {
                double x = SvgPlot.D((string?)e.Attribute("x") ?? (string)e.Attribute("x1")!), y = SvgPlot.D((string?)e.Attribute("y") ?? (string)e.Attribute("y1")!);
                Assert.True(p.Legend.Contains(x, y), $"{e} is outside the legend box {p.Legend}");
            }
            Assert.All(p.Series.SelectMany(s => s.Points), pt => Assert.True(p.PlotArea.Contains(pt.X, pt.Y), $"{pt} outside {p.PlotArea}"));
            Assert.Equal(series.Count, p.Series.Count);
        }
    }

    [Fact]
    public void A_long_name_is_cut_short_in_the_legend_and_kept_whole_in_a_title()
    {
        string name = new('W', 200);
        var p = Plot([S(name, [1, 2], [1, 2])]);
        var text = p.ById("legend").Descendants(SvgPlot.Ns + "text").Single();
        Assert.EndsWith("…", text.Nodes().OfType<XText>().Single().Value);
        Assert.Equal(name, text.Element(SvgPlot.Ns + "title")!.Value);
        Assert.Equal(name, p.Series.Single().Name);
    }

    [Fact]
    public void A_log_axis_leaves_out_points_that_are_not_positive_and_any_axis_leaves_out_non_finite_ones()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7, double.NaN];
        double[] y = [1, 0, -1, 10, double.NaN, 100, double.PositiveInfinity, 5];
        var linear = Plot([S("s", x, y)]);
        // Of the eight pairs, (5, NaN), (7, ∞) and (NaN, 5) are out; the rest are where they belong.
        Assert.Equal([(1.0, 1.0), (2, 0), (3, -1), (4, 10), (6, 100)], Data(linear, linear.Series.Single()));
        var log = Plot([S("s", x, y), S("never positive", [1, 2], [0, -3])], new LinePlotOptions { LogY = true });
        Assert.Equal(3, log.Series.Single().Points.Count); // 1, 10, 100
        Assert.DoesNotContain("never positive", log.Root.ToString());
        Assert.Equal("log10", (string)log.PlotAreaElement.Attribute("data-y-scale")!);
        Assert.EndsWith("(log scale)", log.ById("y-label").Value);
        // Points at 1, 10 and 100 are evenly spaced on the log axis.
        var pts = log.Series.Single().Points;
        Assert.Equal(pts[0].Y - pts[1].Y, pts[1].Y - pts[2].Y, 1e-2);
        var logX = Plot([S("s", [0, 1, 10, 100], [1, 2, 3, 4])], new LinePlotOptions { LogX = true });
        Assert.Equal(3, logX.Series.Single().Points.Count);
    }

    /// <summary>Maps a series' pixels back to data units through the plot area's documented ends.</summary>
    private static List<(double, double)> Data(SvgPlot p, SvgSeries s)
    {
        double x0 = p.Attr("data-x-min"), x1 = p.Attr("data-x-max"), y0 = p.Attr("data-y-min"), y1 = p.Attr("data-y-max");
        return [.. s.Points.Select(pt => (Math.Round(x0 + (pt.X - p.PlotArea.X) / p.PlotArea.Width * (x1 - x0), 1),
            Math.Round(y0 + (p.PlotArea.Bottom - pt.Y) / p.PlotArea.Height * (y1 - y0), 1)))];
    }

    [Fact]
    public void The_axis_ends_land_on_the_plot_areas_edges_and_points_in_between_in_proportion()
    {
        var p = Plot([S("s", [0, 10, 5, 2.5], [0, 5, 2.5, 1])], new LinePlotOptions { YMin = 0, YMax = 5 });
        var a = p.PlotArea;
        var pts = p.Series.Single().Points;
        Assert.Equal(a.X, pts[0].X, 1e-2);
        Assert.Equal(a.Bottom, pts[0].Y, 1e-2);
        Assert.Equal(a.Right, pts[1].X, 1e-2);
        Assert.Equal(a.Y, pts[1].Y, 1e-2);
        Assert.Equal(a.X + a.Width / 2, pts[2].X, 1e-2);
        Assert.Equal(a.Y + a.Height / 2, pts[2].Y, 1e-2);
        Assert.Equal(a.X + a.Width / 4, pts[3].X, 1e-2);
        Assert.Equal(a.Bottom - a.Height / 5, pts[3].Y, 1e-2);
        Assert.Equal([0, 10, 0, 5], new[] { "data-x-min", "data-x-max", "data-y-min", "data-y-max" }.Select(p.Attr));

        // Without fixed ends, the x axis spans the data exactly; the y axis has 5% of room on either side.
        var free = Plot([S("s", [3, 7], [10, 20]), S("t", [4], [15])]);
        var fp = free.Named("s").Points;
        Assert.Equal(free.PlotArea.X, fp[0].X, 1e-2);
        Assert.Equal(free.PlotArea.Right, fp[1].X, 1e-2);
        Assert.Equal([3, 7, 9.5, 20.5], new[] { "data-x-min", "data-x-max", "data-y-min", "data-y-max" }.Select(n => Math.Round(free.Attr(n), 9)));

        // On a log axis the ends are values too: 0.01 at the bottom edge, 100 at the top, 1 half-way.
        var log = Plot([S("s", [1, 2, 3], [0.01, 1, 100])], new LinePlotOptions { LogY = true, YMin = 0.01, YMax = 100 });
        var lp = log.Series.Single().Points;
        Assert.Equal(log.PlotArea.Bottom, lp[0].Y, 1e-2);
        Assert.Equal(log.PlotArea.Y + log.PlotArea.Height / 2, lp[1].Y, 1e-2);
        Assert.Equal(log.PlotArea.Y, lp[2].Y, 1e-2);
        Assert.Equal(["0.01", "0.1", "1", "10", "100"], log.TickLabels("y-axis"));
    }

    [Fact]
    public void A_fixed_y_end_cuts_the_lines_at_the_plot_areas_edge()
    {
        var p = Plot([S("s", [1, 2, 3], [0.001, 1, 10])], new LinePlotOptions { LogY = true, YMin = 0.01 });
        var clip = SvgPlot.BoxOf(p.ById("plot-clip").Element(SvgPlot.Ns + "rect")!);
        Assert.Equal(p.PlotArea.Bottom, clip.Bottom, 1e-2);
        Assert.Equal("url(#plot-clip)", (string)p.ById("series").Attribute("clip-path")!);
        Assert.True(p.Series.Single().Points[0].Y > p.PlotArea.Bottom, "the point below YMin is drawn below the edge, then cut");
    }

    [Fact]
    public void Ticks_are_1_2_or_5_times_a_power_of_ten_inside_the_axis()
    {
        foreach (var (min, max) in new[] { (0.0, 10.0), (1, 20), (0.013, 0.087), (-3.3, 4.1), (1, 10_000), (1e6, 3e6), (2.3, 2.4) })
        {
            var p = Plot([S("s", [min, max], [min, max])]);
            var labels = p.TickLabels("x-axis").Select(l => double.Parse(l, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToList();
            Assert.InRange(labels.Count, 3, 12);
            Assert.All(labels, v => Assert.InRange(v, min - 1e-9, max + 1e-9));
            double step = labels[1] - labels[0];
            for (int i = 2; i < labels.Count; i++) Assert.Equal(step, labels[i] - labels[i - 1], step * 1e-6);
            double mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step) + 1e-9));
            Assert.Contains(Math.Round(mantissa, 6), new[] { 1.0, 2, 5 });
            Assert.All(labels, v => Assert.Equal(0, Math.Round(v / step - Math.Round(v / step), 6)));
        }
        // Many decades: a tick every 1, 2, 5… decades, at powers of ten.
        var wide = Plot([S("s", [1, 2], [1e-14, 10])], new LinePlotOptions { LogY = true });
        Assert.Equal(["1e-14", "1e-12", "1e-10", "1e-8", "1e-6", "0.0001", "0.01", "1"], wide.TickLabels("y-axis"));
        // Less than three decades: 1, 2 and 5 in each.
        var narrow = Plot([S("s", [1, 2], [0.1, 3])], new LinePlotOptions { LogY = true, YMin = 0.1, YMax = 3 });
        Assert.Equal(["0.1", "0.2", "0.5", "1", "2"], narrow.TickLabels("y-axis"));
    }

    [Fact]
    public void A_dense_series_is_drawn_thin_translucent_and_beneath_the_others()
    {
        var dense = S("batch 1", LinePlot.OneTo(5000), Noise(5000, 3));
        var p = Plot([S("batch 256", LinePlot.OneTo(40).Select(v => v * 125).ToList(), Noise(40, 4)), dense]);
        Assert.Equal(["batch 1", "batch 256"], p.Series.Select(s => s.Name)); // drawn first
        Assert.True(p.Named("batch 1").Opacity < 1 && p.Named("batch 1").Width < 1);
        Assert.Equal(1, p.Named("batch 256").Opacity);
        Assert.Equal(["series-0", "series-1"], p.ById("legend").Elements(SvgPlot.Ns + "g").Select(g => "series-" + (string)g.Attribute("data-series")!)); // listed in the caller's order
        // When every series is dense, none is singled out; and the caller's style wins.
        var all = Plot([dense, S("other", LinePlot.OneTo(5000), Noise(5000, 5))]);
        Assert.All(all.Series, s => Assert.Equal(1, s.Opacity));
        var styled = Plot([S("a", [1, 2], [1, 2]) with { Opacity = 0.5, Width = 4 }, S("b", [1, 2], [2, 1])]);
        Assert.Equal((0.5, 4.0), (styled.Named("a").Opacity, styled.Named("a").Width));
    }

    [Fact]
    public void The_same_input_gives_the_same_bytes_whatever_the_culture()
    {
        IReadOnlyList<LineSeries> series = [S("train", LinePlot.OneTo(30), Noise(30, 6)), S("validation", LinePlot.OneTo(30), Noise(30, 7)), S("batch", LinePlot.OneTo(3000), Noise(3000, 8))];
        var o = new LinePlotOptions { LogY = true };
        string first = LinePlot.Render("loss", "epoch", "loss", series, o);
        Assert.Equal(first, Cultures.WithDecimalComma(() => LinePlot.Render("loss", "epoch", "loss", series, o)));
        using var dir = new TempDir();
        LinePlot.Write(dir.File("a.svg"), "loss", "epoch", "loss", series, o);
        LinePlot.Write(dir.File("b.svg"), "loss", "epoch", "loss", series, o);
        Assert.Equal(File.ReadAllBytes(dir.File("a.svg")), File.ReadAllBytes(dir.File("b.svg")));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(first), File.ReadAllBytes(dir.File("a.svg")));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length); // no temporary file left behind
        Assert.DoesNotContain('\r', first);
    }

    [Fact]
    public void Text_is_escaped_so_the_svg_stays_well_formed()
    {
        string nasty = "a < b & \"c\" > 'd' \u0001 \uD800 😀";
        var p = new SvgPlot(LinePlot.Render(nasty, nasty, nasty, [S(nasty, [1, 2], [1, 2])]));
        string expected = "a < b & \"c\" > 'd' \uFFFD \uFFFD 😀";
        Assert.Equal(expected, p.ById("title").Value);
        Assert.Equal(expected, p.ById("x-label").Value);
        Assert.Equal(expected, p.Series.Single().Name);
        Assert.StartsWith("<?xml", LinePlot.Render("t", "x", "y", []));
    }

    [Fact]
    public void No_series_or_only_empty_ones_still_give_axes()
    {
        var p = Plot([S("nothing", [], []), S("nan", [1], [double.NaN])]);
        Assert.Empty(p.Series);
        Assert.NotEmpty(p.TickLabels("x-axis"));
        Assert.NotEmpty(p.TickLabels("y-axis"));
        var flat = Plot([S("flat", [5, 5], [2, 2])]);
        Assert.True(flat.Attr("data-x-min") < 5 && flat.Attr("data-x-max") > 5 && flat.Attr("data-y-min") < 2 && flat.Attr("data-y-max") > 2);
    }

    [Fact]
    public void Bad_options_and_styles_are_refused_by_name()
    {
        IReadOnlyList<LineSeries> one = [S("s", [1, 2], [1, 2])];
        Assert.Contains("YMin", Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", one, new LinePlotOptions { YMin = 2, YMax = 1 })).Message);
        Assert.Contains("logarithmic", Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", one, new LinePlotOptions { LogY = true, YMin = 0 })).Message);
        Assert.Contains("XMax", Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", one, new LinePlotOptions { XMax = double.NaN })).Message);
        Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", one, new LinePlotOptions { Width = 100 }));
        Assert.Contains("opacity", Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", [one[0] with { Opacity = 0 }])).Message);
        Assert.Contains("width", Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", [one[0] with { Width = -1 }])).Message);
        Assert.Throws<ArgumentNullException>(() => LinePlot.Render("t", "x", "y", [null!]));
        Assert.Throws<ArgumentNullException>(() => LinePlot.Render("t", "x", "y", [S(null!, [1], [1])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinePlot.OneTo(-1));
        Assert.Equal([1.0, 2, 3], LinePlot.OneTo(3));
    }
}
