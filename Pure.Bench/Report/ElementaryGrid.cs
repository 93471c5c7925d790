using System.Globalization;
using NeuralPure.Numerics;

namespace NeuralPure.Bench.Report;

/// <summary>
/// <c>Pure.Bench elementary-grid FOLDER</c>: writes NeuralPure's elementary functions on dense grids (and the special
/// values) as hex bit patterns, one file per function and precision, for <c>tools/elementary/accuracy.py</c> to measure
/// against mpmath at 300 bits. Deterministic: a fixed SplitMix64 stream chooses the points.
/// </summary>
public static class ElementaryGrid
{
    private static ulong state = 0x9E3779B97F4A7C15UL;

    private static ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static double Uniform(double a, double b) => a + (b - a) * ((Next() >> 11) * (1.0 / (1UL << 53)));

    /// <summary>±2^u with u uniform in [lo, hi]: every binade equally often.</summary>
    private static double LogUniform(double lo, double hi, bool bothSigns)
    {
        double e = Uniform(lo, hi);
        double v = Math.Pow(2, e);
        return bothSigns && (Next() & 1) == 1 ? -v : v;
    }

    private static readonly double[] Specials =
    [
        0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, double.Epsilon, -double.Epsilon,
        2.2250738585072014e-308, -2.2250738585072014e-308, 2.2250738585072009e-308, double.MaxValue, -double.MaxValue,
        1, -1, 0.5, -0.5, 2, -2, 0.25, 709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412,
        -708.3964185322641, -708.39641853226412, 1e-300, 1e-310, 5.551115123125783e-17, 7.450580596923828e-09, 22, 6, 3, 2.5, 36, -36, 40,
    ];

    public static int Run(string[] args)
    {
        if (args.Length != 1) { Console.Error.WriteLine("usage: Pure.Bench elementary-grid FOLDER"); return 2; }
        Directory.CreateDirectory(args[0]);
        var grids = new (string Name, Func<double[]> Points, Func<double, double> F)[]
        {
            ("exp", () => Points(U(100_000, -745.2, 709.8), U(50_000, -2, 2), L(20_000, -60, -1, true)), Elementary.Exp),
            ("expm1", () => Points(U(50_000, -40, 40), U(50_000, -1, 1), L(20_000, -60, -1, true), U(10_000, 40, 709.8)), Elementary.ExpM1),
            ("log", () => Points(Bits(60_000), U(60_000, 0.5, 2), Near(20_000, 1)), Elementary.Log),
            ("log1p", () => Points(U(40_000, -1, 1), L(30_000, -60, -1, true), L(30_000, 0, 1000, false), Near(10_000, -1)), Elementary.Log1P),
            ("tanh", () => Points(U(80_000, -23, 23), L(30_000, -40, 0, true)), Elementary.Tanh),
            ("erf", () => Points(U(80_000, -6.5, 6.5), L(20_000, -40, 1, true)), Elementary.Erf),
            ("sinpi", () => Points(U(80_000, -4, 4), U(20_000, -1e6, 1e6), L(10_000, -40, -2, true)), Elementary.SinPi),
            ("cospi", () => Points(U(80_000, -4, 4), U(20_000, -1e6, 1e6), L(10_000, -40, -2, true)), Elementary.CosPi),
        };
        foreach (var (name, points, f) in grids)
        {
            var xs = points();
            Write(Path.Combine(args[0], name + ".double.txt"), xs.Select(x => (x, 0.0, f(x))));
            var fs = xs.Where((_, i) => i % 4 == 0).Select(x => (double)(float)x).Distinct().ToArray();
            Write(Path.Combine(args[0], name + ".float.txt"), fs.Select(x => (x, 0.0, (double)FloatForm(name, (float)x))));
        }
        var pow = PowPoints();
        Write(Path.Combine(args[0], "pow.double.txt"), pow.Select(p => (p.X, p.Y, Elementary.Pow(p.X, p.Y))));
        Write(Path.Combine(args[0], "pow.float.txt"), pow.Where((_, i) => i % 4 == 0).Select(p => ((double)(float)p.X, (double)(float)p.Y, (double)ElementaryF.Pow((float)p.X, (float)p.Y))));
        Console.WriteLine($"wrote {grids.Length + 1} functions × 2 precisions to {args[0]}");
        return 0;
    }

    private static float FloatForm(string name, float x) => name switch
    {
        "exp" => ElementaryF.Exp(x), "expm1" => ElementaryF.ExpM1(x), "log" => ElementaryF.Log(x), "log1p" => ElementaryF.Log1P(x),
        "tanh" => ElementaryF.Tanh(x), "erf" => ElementaryF.Erf(x), "sinpi" => ElementaryF.SinPi(x), "cospi" => ElementaryF.CosPi(x),
        _ => throw new ArgumentException(name),
    };

    private static List<(double X, double Y)> PowPoints()
    {
        var r = new List<(double, double)>();
        foreach (var s in Specials) foreach (var t in Specials) r.Add((s, t));
        for (int i = 0; i < 60_000; i++) r.Add((LogUniform(-17, 17, false), Uniform(-50, 50)));
        double[] betas = [0.9, 0.99, 0.999, 0.9999, 0.95, 0.96, 0.5, 0.1];
        for (int i = 0; i < 20_000; i++) r.Add((betas[i % betas.Length], Math.Floor(LogUniform(0, 23, false))));
        for (int i = 0; i < 20_000; i++)
        {
            // |y·ln x| near 700: results near overflow and into the subnormals
            double x = LogUniform(-10, 10, false), target = Uniform(-745, 709.7);
            r.Add((x, Math.Abs(Math.Log(x)) < 1e-3 ? 1 : target / Math.Log(x)));
        }
        for (int i = 0; i < 10_000; i++) r.Add((-LogUniform(-5, 5, false), Math.Floor(Uniform(-60, 60))));
        return r;
    }

    private static double[] Points(params double[][] parts) => [.. Specials, .. parts.SelectMany(p => p)];
    private static double[] U(int n, double a, double b) => [.. Enumerable.Range(0, n).Select(_ => Uniform(a, b))];
    private static double[] L(int n, double lo, double hi, bool both) => [.. Enumerable.Range(0, n).Select(_ => LogUniform(lo, hi, both))];
    private static double[] Near(int n, double c) => [.. Enumerable.Range(0, n).Select(_ => c + LogUniform(-52, -4, true)).Where(v => v > -1 || c > 0)];

    /// <summary>Positive finite doubles with uniformly random bits: every exponent, subnormals included.</summary>
    private static double[] Bits(int n) =>
        [.. Enumerable.Range(0, n).Select(_ => BitConverter.Int64BitsToDouble((long)(Next() & 0x7FEF_FFFF_FFFF_FFFFUL)))];

    private static void Write(string path, IEnumerable<(double X, double Y, double R)> rows)
    {
        using var w = new StreamWriter(path);
        foreach (var (x, y, res) in rows)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{BitConverter.DoubleToInt64Bits(x):x16} {BitConverter.DoubleToInt64Bits(y):x16} {BitConverter.DoubleToInt64Bits(res):x16}"));
    }
}
