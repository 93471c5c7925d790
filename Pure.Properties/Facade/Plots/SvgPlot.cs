using System.Globalization;
using System.Xml.Linq;

namespace NeuralPure.Properties.Facade.Plots;

/// <summary>A rectangle in SVG pixels (y grows downwards).</summary>
internal readonly record struct Box(double X, double Y, double Width, double Height)
{
    public double Right => X + Width;
    public double Bottom => Y + Height;
    public bool Contains(double x, double y) => x >= X - 1e-9 && x <= Right + 1e-9 && y >= Y - 1e-9 && y <= Bottom + 1e-9;
    public bool Overlaps(Box o) => X < o.Right && o.X < Right && Y < o.Bottom && o.Y < Bottom;
}

/// <summary>One series as LinePlot wrote it: its group's id and name, its polyline's points, its dots, its stroke.</summary>
internal sealed record SvgSeries(string Id, string Name, int DeclaredPoints, IReadOnlyList<(double X, double Y)> Points, int Markers, double Opacity, double Width);

/// <summary>Reads back what <see cref="NeuralPure.Facade.Plots.LinePlot"/> writes (by the ids and classes it documents), so
/// tests can check geometry rather than strings.</summary>
internal sealed class SvgPlot
{
    public static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    public SvgPlot(string svg)
    {
        Document = XDocument.Parse(svg);
        Root = Document.Root!;
        PlotAreaElement = ById("plot-area");
        PlotArea = BoxOf(PlotAreaElement);
        Legend = BoxOf(ById("legend-box"));
        Series = [.. Root.Descendants(Ns + "g").Where(g => (string?)g.Attribute("class") == "series").Select(g =>
        {
            var line = g.Element(Ns + "polyline")!;
            var pts = ((string)line.Attribute("points")!).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split(',')).Select(p => (D(p[0]), D(p[1]))).ToList();
            var markers = g.Elements(Ns + "g").Where(m => (string?)m.Attribute("class") == "markers").SelectMany(m => m.Elements(Ns + "circle")).Count();
            return new SvgSeries((string)g.Attribute("id")!, (string)g.Attribute("data-name")!, int.Parse((string)g.Attribute("data-points")!, CultureInfo.InvariantCulture),
                pts, markers, line.Attribute("stroke-opacity") is { } a ? D(a.Value) : 1, D((string)line.Attribute("stroke-width")!));
        })];
    }

    public XDocument Document { get; }
    public XElement Root { get; }
    public XElement PlotAreaElement { get; }
    public Box PlotArea { get; }
    public Box Legend { get; }
    public IReadOnlyList<SvgSeries> Series { get; }

    public double Attr(string name) => D((string)PlotAreaElement.Attribute(name)!);

    /// <summary>The tick labels of "x-axis" or "y-axis", in document order.</summary>
    public IReadOnlyList<string> TickLabels(string axis) =>
        [.. ById(axis).Elements(Ns + "text").Where(t => (string?)t.Attribute("class") == "tick-label").Select(t => t.Value)];

    public SvgSeries Named(string name) => Series.Single(s => s.Name == name);

    public XElement ById(string id) => Root.Descendants().Single(e => (string?)e.Attribute("id") == id);

    public static Box BoxOf(XElement rect) =>
        new(D((string)rect.Attribute("x")!), D((string)rect.Attribute("y")!), D((string)rect.Attribute("width")!), D((string)rect.Attribute("height")!));

    public static double D(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static SvgPlot Load(string path) => new(File.ReadAllText(path));
}
