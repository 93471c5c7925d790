using System.Collections.Immutable;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Properties.Support;

/// <summary>The one gradient check: an analytic gradient against central differences (<see cref="NumericGrad"/>) in double,
/// element by element, with a magnitude-scaled tolerance; and its directional form for networks too large to probe per scalar.</summary>
/// <remarks>
/// <para>An element passes when |a − n| ≤ atol + rtol·max(|a|, |n|), with a the analytic and n the numeric value.</para>
/// <para>Why atol = 1e-6 and rtol = 1e-4 for h = 1e-6 in double. The central difference (f(θ + h) − f(θ − h))/2h has
/// two errors. Truncation: h²/6·|f'''| ≈ 2e-13·|f'''|, negligible for the smooth, moderate functions tested here. Rounding:
/// each f carries a relative error of a few ε = 2.2e-16 (more for long sums), so the quotient is off by about
/// ε·|f|/h ≈ 2.2e-10·|f|, and the perturbation θ ± h itself is rounded (relative error ε·|θ|/h ≈ 2e-10). With losses of
/// order 1–100 the absolute error stays below ~1e-7, so atol = 1e-6 leaves a margin of 10 without hiding a wrong
/// gradient (a missing factor or a sign shows up at order |a|). rtol = 1e-4 covers large gradients, whose rounding
/// scales with them. Both are an order tighter than PyTorch's gradcheck (atol 1e-5, rtol 1e-3).</para>
/// <para>Kinks are not tolerated here: generators keep inputs away from them (see <see cref="Generators.AwayFromKinks(ModelSpec, ParamTree{double}, Batch{double}, RandomKey?, double, double)"/>).</para>
/// </remarks>
public static class GradCheck
{
    /// <summary>The central-difference step (PyTorch gradcheck's ε): the public kit's (<see cref="NeuralPure.Verification.Verify"/>), so the suite and users check with the same numbers.</summary>
    public const double Step = NeuralPure.Verification.Verify.Step;

    /// <summary>The absolute tolerance.</summary>
    public const double Atol = NeuralPure.Verification.Verify.Atol;

    /// <summary>The relative tolerance.</summary>
    public const double Rtol = NeuralPure.Verification.Verify.Rtol;

    /// <summary>True when |a − n| ≤ atol + rtol·max(|a|, |n|); false for NaN or infinities.</summary>
    public static bool Close(double analytic, double numeric, double atol = Atol, double rtol = Rtol) =>
        double.IsFinite(analytic) && double.IsFinite(numeric)
        && Math.Abs(analytic - numeric) <= atol + rtol * Math.Max(Math.Abs(analytic), Math.Abs(numeric));

    /// <summary>⟨c, y⟩ summed in double: turns an array-valued function y(·) into the scalar the check differentiates.
    /// Its gradient is exactly what a backward pass computes when handed the cotangent c as dL/dy.</summary>
    public static double Pair(NdArray<double> c, NdArray<double> y)
    {
        if (!c.Shape.SequenceEqual(y.Shape)) throw new ArgumentException($"cotangent {c.ShapeText} does not match {y.ShapeText}");
        double s = 0;
        var a = c.Span; var b = y.Span;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Compares two gradient trees leaf by leaf: the property fails, labelled with the worst element (leaf, index,
    /// position, analytic and numeric values) and the number of failing elements, when any element is not <see cref="Close"/>.</summary>
    public static Property Compare(ParamTree<double> analytic, ParamTree<double> numeric)
    {
        var message = Mismatch(analytic, numeric);
        return (message is null).Label(message ?? "gradients agree");
    }

    /// <summary>Compares one analytic array with its numeric counterpart; <paramref name="name"/> names it in the label.</summary>
    public static Property Compare(string name, NdArray<double> analytic, NdArray<double> numeric)
    {
        var message = Mismatch(name, analytic, numeric);
        return (message is null).Label(message ?? "gradients agree");
    }

    /// <summary>The gradient of <paramref name="f"/> at <paramref name="x"/> by central differences against <paramref name="analytic"/>.</summary>
    public static Property OfInput(Func<NdArray<double>, double> f, NdArray<double> x, NdArray<double> analytic, string name = "x") =>
        Compare(name, analytic, NumericGrad.OfInput(f, x, Step));

    /// <summary>The gradient of <paramref name="f"/> at <paramref name="parameters"/> by central differences against <paramref name="analytic"/>.</summary>
    public static Property OfParameters(Func<ParamTree<double>, double> f, ParamTree<double> parameters, ParamTree<double> analytic) =>
        Compare(analytic, NumericGrad.OfParameters(f, parameters, Step));

    /// <summary>A loss's gradient with respect to its output against central differences of its value.</summary>
    public static Property OfLoss(NeuralPure.Losses.LossSpec loss, NdArray<double> output, NdArray<double> target) =>
        OfInput(o => loss.Value(o, target), output, loss.ValueAndGrad(output, target).Gradient, "output");

    /// <summary>Throws (failing an xunit test) with the same message the property would carry.</summary>
    public static void Assert(ParamTree<double> analytic, ParamTree<double> numeric)
    {
        if (Mismatch(analytic, numeric) is { } m) throw new Xunit.Sdk.XunitException(m);
    }

    /// <inheritdoc cref="Assert(ParamTree{double}, ParamTree{double})"/>
    public static void Assert(string name, NdArray<double> analytic, NdArray<double> numeric)
    {
        if (Mismatch(name, analytic, numeric) is { } m) throw new Xunit.Sdk.XunitException(m);
    }

    /// <summary>The directional check: for a direction v with elements uniform in [−1, 1) drawn from <paramref name="directionKey"/>,
    /// (f(θ + h·v) − f(θ − h·v))/2h must be <see cref="Close"/> to ⟨∇f, v⟩. Two evaluations of f whatever the size, so it
    /// scales to networks where probing every scalar would be slow; a wrong element of ∇f still shows up unless it is
    /// exactly orthogonal to a random v (probability 0).</summary>
    public static Property Directional(Func<ParamTree<double>, double> f, ParamTree<double> parameters, ParamTree<double> analytic, RandomKey directionKey)
    {
        var v = Direction(parameters, directionKey);
        double a = NumericGrad.Dot(analytic, v);
        double n = NumericGrad.Directional(f, parameters, v, Step);
        bool ok = Close(a, n);
        return ok.Label(ok ? "directional derivatives agree"
            : $"directional derivative mismatch over {parameters.ParameterCount} parameters: ⟨analytic ∇, v⟩ = {R(a)}, numeric = {R(n)}, " +
              $"|a − n| = {R(Math.Abs(a - n))} > tolerance {R(Tolerance(a, n))} (direction key {directionKey})");
    }

    /// <summary>A direction with the structure of <paramref name="parameters"/> and elements uniform in [−1, 1).</summary>
    public static ParamTree<double> Direction(ParamTree<double> parameters, RandomKey key)
    {
        var keys = key.Split(parameters.Count);
        return new ParamTree<double>(parameters.Names,
            [.. parameters.Leaves.Select((l, i) => Sampling.Uniform<double>(keys[i], -1, 1, [.. l.Shape]))]);
    }

    /// <summary>The message describing the worst mismatch between two trees, or null when every element is close.</summary>
    public static string? Mismatch(ParamTree<double> analytic, ParamTree<double> numeric)
    {
        if (!analytic.SameStructure(numeric))
            return $"gradient trees differ in structure: analytic {analytic} vs numeric {numeric}";
        var failures = new List<Failure>();
        for (int i = 0; i < analytic.Count; i++) Collect(analytic.Names[i], analytic[i], numeric[i], failures);
        return Describe(failures, analytic.ParameterCount);
    }

    /// <summary>The message describing the worst mismatch between two arrays, or null when every element is close.</summary>
    public static string? Mismatch(string name, NdArray<double> analytic, NdArray<double> numeric)
    {
        if (!analytic.Shape.SequenceEqual(numeric.Shape))
            return $"gradient of {name} has shape {analytic.ShapeText} but the numeric one has {numeric.ShapeText}";
        var failures = new List<Failure>();
        Collect(name, analytic, numeric, failures);
        return Describe(failures, analytic.Length);
    }

    private readonly record struct Failure(string Leaf, int Index, ImmutableArray<int> Shape, double Analytic, double Numeric)
    {
        public double Excess => double.IsFinite(Analytic) && double.IsFinite(Numeric)
            ? Math.Abs(Analytic - Numeric) / Tolerance(Analytic, Numeric) : double.PositiveInfinity;
    }

    private static void Collect(string leaf, NdArray<double> a, NdArray<double> n, List<Failure> failures)
    {
        var sa = a.Span; var sn = n.Span;
        for (int j = 0; j < sa.Length; j++)
            if (!Close(sa[j], sn[j])) failures.Add(new Failure(leaf, j, a.Shape, sa[j], sn[j]));
    }

    private static string? Describe(List<Failure> failures, long total)
    {
        if (failures.Count == 0) return null;
        var w = failures.MaxBy(f => f.Excess);
        return $"gradient mismatch in {w.Leaf}[{Position(w.Index, w.Shape)}] (flat index {w.Index} of shape [{string.Join(", ", w.Shape)}]): " +
               $"analytic {R(w.Analytic)}, numeric {R(w.Numeric)}, |a − n| = {R(Math.Abs(w.Analytic - w.Numeric))} > tolerance {R(Tolerance(w.Analytic, w.Numeric))} " +
               $"(atol {Atol}, rtol {Rtol}, h {Step}); {failures.Count} of {total} elements fail";
    }

    private static double Tolerance(double a, double n) => Atol + Rtol * Math.Max(Math.Abs(a), Math.Abs(n));

    private static string Position(int flat, ImmutableArray<int> shape)
    {
        if (shape.Length <= 1) return flat.ToString(CultureInfo.InvariantCulture);
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = flat % Math.Max(1, shape[d]); flat /= Math.Max(1, shape[d]); }
        return string.Join(", ", idx);
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
