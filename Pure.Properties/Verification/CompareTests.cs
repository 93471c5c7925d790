using System.Collections.Immutable;
using System.Globalization;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Verification;

/// <summary>The kit's comparisons (internal): positions, the tolerance and its worst entry, bit differences, snapshots.</summary>
public sealed class CompareTests
{
    [Theory]
    [InlineData(5, new[] { 3, 4 }, "[1, 1]")]
    [InlineData(7, new[] { 2, 2, 2 }, "[1, 1, 1]")]
    [InlineData(9, new[] { 2, 3, 2 }, "[1, 1, 1]")]
    [InlineData(3, new[] { 10 }, "[3]")]
    [InlineData(0, new int[0], "[0]")]
    public void Position_is_the_row_major_index(int flat, int[] shape, string expected) =>
        Assert.Equal(expected, Compare.Position(flat, [.. shape]));

    [Fact]
    public void Position_of_a_default_shape_is_the_flat_index() => Assert.Equal("[3]", Compare.Position(3, default));

    [Fact]
    public void The_tolerance_is_atol_plus_rtol_times_the_larger_magnitude()
    {
        Assert.Equal(Verify.Atol + Verify.Rtol * 3, Compare.Tolerance(2, -3));
        Assert.Equal(Verify.Atol + Verify.Rtol * 3, Compare.Tolerance(-3, 2));
        Assert.Equal(1e-6, Verify.Atol); Assert.Equal(1e-4, Verify.Rtol); Assert.Equal(1e-6, Verify.Step); Assert.Equal(0.05, Verify.InputMargin);
    }

    // ---- bits ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void BitDifference_names_the_first_differing_element_and_counts_the_rest()
    {
        Assert.Null(Compare.BitDifference("w", [2, 2], [1, 2, double.NaN, 4], [1, 2, double.NaN, 4], "e", "a"));
        Assert.Equal("w[0, 1] differs: e 2, a 5 (2 of 4 elements differ)", Compare.BitDifference("w", [2, 2], [1, 2, 3, 4], [1, 5, 3, 6], "e", "a"));
        Assert.Equal("w[1] differs: e 0, a -0 (1 of 2 elements differ)", Compare.BitDifference("w", [2], [1, 0.0], [1, -0.0], "e", "a"));
        Assert.Equal("w has 3 elements (a), not 2 (e)", Compare.BitDifference("w", [2], [1, 2], [1, 2, 3], "e", "a"));
    }

    // ---- the gradient tally -------------------------------------------------------------------------------------------

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    [Fact]
    public void A_tally_of_nothing_passes_saying_so()
    {
        var t = new Compare.GradientTally();
        Assert.Equal(new CheckResult("g", true, "nothing to differentiate (no elements)"), t.Result("g"));
        t.Add("dx", [0], [], []);
        Assert.Equal(new CheckResult("g", true, "nothing to differentiate (no elements)"), t.Result("g"));
    }

    [Fact]
    public void A_passing_tally_names_its_first_worst_element_and_its_share_of_the_tolerance()
    {
        var t = new Compare.GradientTally();
        t.Add("a", [2], [1, 1], [1, 1]);
        Assert.Equal(new CheckResult("g", true, "2 elements agree; worst a[0]: analytic 1, numeric 1 (0 of the tolerance)"), t.Result("g"));
        double close = 1 + 5e-5;
        t.Add("b", [1, 2], [0.5, close], [0.5, 1]);
        var share = (Math.Abs(close - 1) / Compare.Tolerance(close, 1)).ToString("G2", CultureInfo.InvariantCulture);
        Assert.Equal(new CheckResult("g", true, $"4 elements agree; worst b[0, 1]: analytic {R(close)}, numeric 1 ({share} of the tolerance)"), t.Result("g"));
    }

    [Fact]
    public void An_element_exactly_at_the_tolerance_passes_and_one_beyond_it_fails()
    {
        double a = Verify.Atol / (1 - Verify.Rtol);
        Assert.Equal(1.0, Math.Abs(a) / Compare.Tolerance(a, 0));
        var t = new Compare.GradientTally();
        t.Add("g", [1], [a], [0]);
        Assert.True(t.Result("c").Passed, t.Result("c").Detail);
        t.Add("h", [1], [Math.BitIncrement(a)], [0]);
        Assert.False(t.Result("c").Passed, t.Result("c").Detail);
        Assert.EndsWith("; 1 of 2 elements fail", t.Result("c").Detail);
    }

    [Fact]
    public void A_failing_tally_shows_the_worst_element_the_gap_the_tolerance_and_the_count()
    {
        var t = new Compare.GradientTally();
        t.Add("a", [3], [1, 1.5, 1.2], [1, 1, 1]);
        t.Add("b", [2], [2, 2], [2, 2]);
        Assert.Equal(new CheckResult("g", false, $"worst a[1]: analytic 1.5, numeric 1, |a − n| = 0.5 > tolerance {R(Verify.Atol + Verify.Rtol * 1.5)} " +
            "(atol 1E-06, rtol 0.0001, h 1E-06); 2 of 5 elements fail"), t.Result("g"));
    }

    [Fact]
    public void A_non_finite_value_fails_and_is_the_worst()
    {
        var t = new Compare.GradientTally();
        t.Add("a", [3], [1, 9, double.NaN], [1, 1, 1]);
        Assert.StartsWith("worst a[2]: analytic NaN, numeric 1: not finite (NaN or ∞ in the analytic gradient: an input outside the op's domain gives that; " +
            "Verify.Layer(layer, x) and Verify.Loss(loss, output, targets) take inputs of your own)", t.Result("g").Detail);
        var u = new Compare.GradientTally();
        u.Add("a", [2], [1, 1], [1, double.PositiveInfinity]);
        Assert.StartsWith("worst a[1]: analytic 1, numeric Infinity: not finite (NaN or ∞ in the value, or its central difference: ", u.Result("g").Detail);
        Assert.EndsWith("; 1 of 2 elements fail", u.Result("g").Detail);
    }

    [Fact]
    public void The_worst_element_may_be_in_a_later_array()
    {
        var t = new Compare.GradientTally();
        t.Add("a", [2], [1, 1.1], [1, 1]);
        t.Add("b", [1], [3], [1]);
        Assert.StartsWith("worst b[0]: analytic 3, numeric 1, |a − n| = 2 ", t.Result("g").Detail);
    }

    // ---- guards -------------------------------------------------------------------------------------------------------

    [Fact]
    public void Guard_returns_the_check_or_its_exception_but_lets_out_of_memory_through()
    {
        var ok = new CheckResult("c", true, "fine");
        Assert.Same(ok, Compare.Guard("c", () => ok));
        Assert.Equal(new CheckResult("c", false, "threw InvalidOperationException: boom"), Compare.Guard("c", () => throw new InvalidOperationException("boom")));
        Assert.Throws<OutOfMemoryException>(() => Compare.Guard("c", () => throw new OutOfMemoryException()));
    }

    // ---- snapshots ----------------------------------------------------------------------------------------------------

    private enum Colour { Red, Green }

    private sealed record Point(int X, double Y);

    private sealed class Hidden
    {
        public static int Static => 1;
        public int Shown => 2;
        public int this[int i] => i;
        public int WriteOnly { private get; set; }
        internal int Internal => 3;
    }

    private sealed class Node(int depth, bool named = true)
    {
        public Node? Next => depth < 30 ? new Node(depth + 1, named) : null;
        public override string? ToString() => named ? "node " + depth : null;
    }

    /// <summary>No public properties, and a ToString that returns null (as a user's type may).</summary>
    private sealed class Nameless
    {
        public override string? ToString() => null;
    }

    private static List<(string Path, string Shown)> Flat(object? value) => [.. Compare.Snapshot(value, "p").Select(e => (e.Path, e.Shown))];

    [Fact]
    public void A_snapshot_flattens_scalars_with_invariant_text()
    {
        var shown = Cultures.WithDecimalComma(() => new object?[] { null, 1.5, 1.5f, 2.5m, true, Colour.Green, 7L, "text", 1234567, 3u, 4ul, (short)5, (byte)6 }.Select(Flat).ToList());
        Assert.Equal<IEnumerable<(string, string)>>([[("p", "null")], [("p", "1.5")], [("p", "1.5")], [("p", "2.5")], [("p", "True")], [("p", "Green")], [("p", "7")],
            [("p", "text")], [("p", "1234567")], [("p", "3")], [("p", "4")], [("p", "5")], [("p", "6")]], shown);
    }

    [Fact]
    public void A_snapshot_compares_floating_point_values_by_bits()
    {
        Assert.Null(Compare.SnapshotDifference(Compare.Snapshot(double.NaN, "p"), Compare.Snapshot(double.NaN, "p"), "e", "a"));
        Assert.Equal("p differs: e 0, a -0", Compare.SnapshotDifference(Compare.Snapshot(0.0, "p"), Compare.Snapshot(-0.0, "p"), "e", "a"));
        Assert.Equal("p differs: e 0, a -0", Compare.SnapshotDifference(Compare.Snapshot(0f, "p"), Compare.Snapshot(-0f, "p"), "e", "a"));
        Assert.Null(Compare.SnapshotDifference(Compare.Snapshot(float.NaN, "p"), Compare.Snapshot(float.NaN, "p"), "e", "a"));
        Assert.Equal("p differs: e 1, a 2", Compare.SnapshotDifference(Compare.Snapshot(1, "p"), Compare.Snapshot(2, "p"), "e", "a"));
    }

    [Fact]
    public void A_snapshot_flattens_arrays_and_trees_by_element_and_leaf_name()
    {
        Assert.Equal([("p.Shape", "[2]"), ("p[0]", "1"), ("p[1]", "2")], Flat(NdArray.Vector(1.0, 2)));
        Assert.Equal([("p.Shape", "[1, 2]"), ("p[0, 0]", "1.5"), ("p[0, 1]", "2")], Flat(NdArray.From<float>([1.5f, 2], 1, 2)));
        Assert.Equal([("p['w'].Shape", "[1]"), ("p['w'][0]", "3"), ("p['b'].Shape", "[1]"), ("p['b'][0]", "4")],
            Flat(new ParamTree<double>(["w", "b"], [NdArray.Vector(3.0), NdArray.Vector(4.0)])));
        Assert.Equal([("p['w'].Shape", "[1]"), ("p['w'][0]", "3")], Flat(new ParamTree<float>(["w"], [NdArray.Vector(3f)])));
    }

    [Fact]
    public void A_snapshot_flattens_collections_by_position_with_their_count()
    {
        Assert.Equal([("p[0]", "1"), ("p[1]", "2"), ("p.Count", "2")], Flat(ImmutableArray.Create(1, 2)));
        Assert.Equal([("p[0]", "a"), ("p.Count", "1")], Flat(new List<string> { "a" }));
        Assert.Equal([("p", "default")], Flat(default(ImmutableArray<int>)));
        Assert.Equal([("p.Count", "0")], Flat(Array.Empty<double>()));
    }

    [Fact]
    public void A_snapshot_flattens_other_objects_through_their_public_instance_properties_in_declaration_order()
    {
        Assert.Equal([("p.Type", "Point"), ("p.X", "1"), ("p.Y", "2.5")], Flat(new Point(1, 2.5)));
        Assert.Equal("NeuralPure.Properties.Verification.CompareTests+Point", Compare.Snapshot(new Point(1, 2.5), "p")[0].Key);
        Assert.Equal([("p.Type", "Hidden"), ("p.Shown", "2")], Flat(new Hidden()));
        Assert.Equal([("p.Type", "Nameless"), ("p", "Nameless")], Flat(new Nameless()));
        var plain = new object();
        Assert.Equal([("p.Type", "Object"), ("p", "System.Object")], Flat(plain));
        Assert.Same(plain, Compare.Snapshot(plain, "p")[1].Key);
    }

    [Fact]
    public void A_snapshot_stops_recursing_below_depth_16()
    {
        var entries = Flat(new Node(0));
        var last = entries[^1];
        Assert.Equal("p" + string.Concat(Enumerable.Repeat(".Next", 17)), last.Path);
        Assert.Equal("node 17", last.Shown);
        Assert.Equal(17 + 1, entries.Count);   // a ".Type" entry per level above the cut, then the cut node itself
        Assert.Equal("Node", Flat(new Node(0, named: false))[^1].Shown);   // a cut value whose ToString is null shows its type's name
    }

    [Fact]
    public void Nested_collections_count_towards_the_depth_too()
    {
        object nested = 1.0;
        for (int k = 0; k < 25; k++) nested = new object[] { nested };
        var entries = Flat(nested);
        Assert.Equal(("p" + string.Concat(Enumerable.Repeat("[0]", 17)), "System.Object[]"), entries[0]);
        Assert.Equal(17 + 1, entries.Count);   // the cut, then a ".Count" entry per level above it
    }

    [Fact]
    public void SnapshotDifference_names_the_first_difference_a_missing_entry_or_an_extra_one()
    {
        List<Compare.Entry> Of(params (string Path, int Key)[] es) => [.. es.Select(e => new Compare.Entry(e.Path, e.Key, e.Key.ToString(CultureInfo.InvariantCulture)))];
        Assert.Null(Compare.SnapshotDifference(Of(("a", 1), ("b", 2)), Of(("a", 1), ("b", 2)), "e", "x"));
        Assert.Equal("c (x) where e has b", Compare.SnapshotDifference(Of(("a", 1), ("b", 2)), Of(("a", 1), ("c", 2)), "e", "x"));
        Assert.Equal("b differs: e 2, x 3", Compare.SnapshotDifference(Of(("a", 1), ("b", 2)), Of(("a", 1), ("b", 3)), "e", "x"));
        Assert.Equal("x lacks b", Compare.SnapshotDifference(Of(("a", 1), ("b", 2)), Of(("a", 1)), "e", "x"));
        Assert.Equal("x has an extra b", Compare.SnapshotDifference(Of(("a", 1)), Of(("a", 1), ("b", 2)), "e", "x"));
    }
}
