using System.Diagnostics.CodeAnalysis;
using System.Collections;
using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using NeuralPure.Tensors;

namespace NeuralPure.Verification;

/// <summary>The kit's comparisons: gradients under the tolerance (tracking the worst entry), bits, and snapshots of values.</summary>
internal static class Compare
{
    public static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>"[i, j]" for a flat index into a row-major shape.</summary>
    public static string Position(int flat, ImmutableArray<int> shape)
    {
        if (shape.IsDefaultOrEmpty || shape.Length == 1) return "[" + flat.ToString(CultureInfo.InvariantCulture) + "]";
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { int n = Math.Max(1, shape[d]); idx[d] = flat % n; flat /= n; }
        return "[" + string.Join(", ", idx) + "]";
    }

    public static double Tolerance(double a, double n) => Verify.Atol + Verify.Rtol * Math.Max(Math.Abs(a), Math.Abs(n));

    /// <summary>The first element whose bits differ, described, or null when all agree (lengths must match).</summary>
    public static string? BitDifference(string what, ImmutableArray<int> shape, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string expectedName, string actualName)
    {
        if (expected.Length != actual.Length) return $"{what} has {actual.Length} elements ({actualName}), not {expected.Length} ({expectedName})";
        int count = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i])) { count++; if (first < 0) first = i; }
        if (first < 0) return null;
        return $"{what}{Position(first, shape)} differs: {expectedName} {R(expected[first])}, {actualName} {R(actual[first])} ({count} of {expected.Length} elements differ)";
    }

    /// <summary>Collects a gradient check over several arrays: the worst element relative to its tolerance, and the failures.</summary>
    public sealed class GradientTally
    {
        private string? worstName, worstNote; private int worstIndex; private ImmutableArray<int> worstShape; private double worstA, worstN, worstExcess = -1;
        private int failures; private long total, noted;

        private string? notes;

        /// <summary>Adds an array's elements; <paramref name="note"/> (how they were computed, when not as the others were) follows
        /// an element's position where it is named, and the count of such elements in a passing detail.</summary>
        public void Add(string name, ImmutableArray<int> shape, ReadOnlySpan<double> analytic, ReadOnlySpan<double> numeric, string? note = null)
        {
            notes ??= note;
            for (int i = 0; i < analytic.Length; i++)
            {
                double a = analytic[i], n = numeric[i];
                bool finite = double.IsFinite(a) && double.IsFinite(n);
                double excess = finite ? Math.Abs(a - n) / Tolerance(a, n) : double.PositiveInfinity;
                total++;
                if (note is not null) noted++;
                if (!(excess <= 1)) failures++;
                if (excess > worstExcess)   // the first element always is: its excess is ≥ 0 or +∞
                {
                    worstExcess = excess; worstName = name; worstNote = note; worstIndex = i; worstShape = shape; worstA = a; worstN = n;
                }
            }
        }

        public CheckResult Result(string check)
        {
            if (worstName is null) return new CheckResult(check, true, "nothing to differentiate (no elements)");
            string at = $"{worstName}{Position(worstIndex, worstShape)}{worstNote}: analytic {R(worstA)}, numeric {R(worstN)}";
            return failures == 0
                ? new CheckResult(check, true, $"{total} elements agree{(noted > 0 ? $", {noted} of them computed{notes}" : "")}; worst {at} ({worstExcess.ToString("G2", CultureInfo.InvariantCulture)} of the tolerance)")
                : double.IsFinite(worstA) && double.IsFinite(worstN)
                ? new CheckResult(check, false, $"worst {at}, |a − n| = {R(Math.Abs(worstA - worstN))} > tolerance {R(Tolerance(worstA, worstN))} " +
                    $"(atol {R(Verify.Atol)}, rtol {R(Verify.Rtol)}, h {R(Verify.Step)}); {failures} of {total} elements fail")
                : new CheckResult(check, false, $"worst {at}: not finite (NaN or ∞ in the {(double.IsFinite(worstN) ? "analytic gradient" : "value, or its central difference")}: " +
                    $"an input outside the op's domain gives that; Verify.Layer(layer, x) and Verify.Loss(loss, output, targets) take inputs of your own); {failures} of {total} elements fail");
        }
    }

    /// <summary>A check that throws fails with the exception named.</summary>
    public static CheckResult Guard(string name, Func<CheckResult> check)
    {
        try { return check(); }
        catch (Exception e) when (e is not OutOfMemoryException) { return Threw(name, e); }
    }

    public static CheckResult Threw(string name, Exception e) => new(name, false, $"threw {e.GetType().Name}: {e.Message}");

    /// <summary>One scalar of a snapshot: its path, a key compared for equality (bits for floating-point values) and how to show it.</summary>
    public readonly record struct Entry(string Path, object? Key, string Shown);

    /// <summary>The value flattened into entries, through public instance properties recursively: parameter trees by leaf name,
    /// arrays element by element, collections by position, floating-point values by bits. A copy: later changes to the value
    /// do not change it.</summary>
    public static List<Entry> Snapshot(object? value, string path)
    {
        var into = new List<Entry>();
        Flatten(value, path, into, 0);
        return into;
    }

    // Records it does not know (a user's optimizer state, say) are walked through their public properties: reflection a trimmed
    // application may have cut short, if nothing else read a property. The kit is for tests and runs untrimmed there; in a
    // trimmed one such a snapshot would compare fewer fields (Pure.Core is AOT-compatible for training, not for the kit).
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The verification kit runs in tests, untrimmed; see the comment above.")]
    private static void Flatten(object? value, string path, List<Entry> into, int depth)
    {
        switch (value)
        {
            case null: into.Add(new(path, null, "null")); return;
            case double d: into.Add(new(path, BitConverter.DoubleToInt64Bits(d), R(d))); return;
            case float f: into.Add(new(path, BitConverter.SingleToInt32Bits(f), f.ToString("R", CultureInfo.InvariantCulture))); return;
            case string or bool or Enum or int or long or uint or ulong or short or byte or decimal: into.Add(new(path, value, Convert.ToString(value, CultureInfo.InvariantCulture)!)); return;
            case ParamTree<double> t:
                for (int i = 0; i < t.Count; i++) Flatten(t[i], $"{path}['{t.Names[i]}']", into, depth + 1);
                return;
            case ParamTree<float> t:
                for (int i = 0; i < t.Count; i++) Flatten(t[i], $"{path}['{t.Names[i]}']", into, depth + 1);
                return;
            case NdArray<double> a:
                into.Add(new(path + ".Shape", a.ShapeText, a.ShapeText));
                for (int i = 0; i < a.Length; i++) Flatten(a.Span[i], path + Position(i, a.Shape), into, depth + 1);
                return;
            case NdArray<float> a:
                into.Add(new(path + ".Shape", a.ShapeText, a.ShapeText));
                for (int i = 0; i < a.Length; i++) Flatten(a.Span[i], path + Position(i, a.Shape), into, depth + 1);
                return;
        }
        var type = value.GetType();
        if (depth > 16) { into.Add(new(path, value, value.ToString() ?? type.Name)); return; }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>) && (bool)type.GetProperty("IsDefault")!.GetValue(value)!)
        {
            into.Add(new(path, "default", "default")); return;
        }
        if (value is IEnumerable seq)
        {
            int i = 0;
            foreach (var item in seq) Flatten(item, $"{path}[{i++}]", into, depth + 1);
            into.Add(new(path + ".Count", i, i.ToString(CultureInfo.InvariantCulture)));
            return;
        }
        var props = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true }).ToList();
        into.Add(new(path + ".Type", type.FullName, type.Name));
        if (props.Count == 0) { into.Add(new(path, value, value.ToString() ?? type.Name)); return; }
        foreach (var p in props.OrderBy(p => p.MetadataToken)) Flatten(p.GetValue(value), path + "." + p.Name, into, depth + 1);
    }

    /// <summary>The first entry that differs between two snapshots, described, or null when they agree.</summary>
    public static string? SnapshotDifference(List<Entry> expected, List<Entry> actual, string expectedName, string actualName)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            var e = expected[i]; var a = actual[i];
            if (e.Path != a.Path) return $"{a.Path} ({actualName}) where {expectedName} has {e.Path}";
            if (!Equals(e.Key, a.Key)) return $"{e.Path} differs: {expectedName} {e.Shown}, {actualName} {a.Shown}";
        }
        if (expected.Count != actual.Count)
            return expected.Count > actual.Count ? $"{actualName} lacks {expected[n].Path}" : $"{actualName} has an extra {actual[n].Path}";
        return null;
    }
}
