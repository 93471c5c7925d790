using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Tensors;

/// <summary>ParamTree: Map and Zip laws, structure checks, Flatten/Unflatten, equality.</summary>
public sealed class ParamTreeTests
{
    private static readonly Gen<ParamTree<double>> Trees =
        from shapes in OptimizerGens.Shapes
        from t in OptimizerGens.TreeOf(shapes, OptimizerGens.Uniform(10))
        select t;

    private static NdArray<double> Apply(NdArray<double> a, Func<double, double> f) =>
        NdArray.From<double>(a.Span.ToArray().Select(f).ToArray(), [.. a.Shape]);

    [Law(100)]
    public Property Map_identity_is_the_identity() =>
        Prop.ForAll(Trees.ToArbitrary(), t => t.Map(l => l).Equals(t).ToProperty());

    [Law(100)]
    public Property Map_composes() =>
        Prop.ForAll(Trees.ToArbitrary(), t =>
        {
            Func<NdArray<double>, NdArray<double>> f = l => Apply(l, x => x * 3 + 1), g = l => Apply(l, x => -x * x);
            return t.Map(f).Map(g).Equals(t.Map(l => g(f(l)))).Label("Map g ∘ Map f ≠ Map (g ∘ f)")
                .And(t.Map(f).Names.SequenceEqual(t.Names).Label("names"))
                .And((!t.Map(f).Equals(t)).Label("Map f did nothing"));
        });

    [Law(100)]
    public Property Zip_applies_leaf_by_leaf() =>
        Prop.ForAll(Trees.ToArbitrary(), t =>
        {
            var u = t.Map(l => Apply(l, x => x + 1));
            var sum = ParamTree<double>.Zip(t, u, (a, b) => NdArray.From<double>(a.Span.ToArray().Zip(b.Span.ToArray(), (x, y) => x + y).ToArray(), [.. a.Shape]));
            return ParamTree<double>.Zip(t, u, (a, _) => a).Equals(t).Label("Zip first")
                .And(ParamTree<double>.Zip(t, u, (_, b) => b).Equals(u).Label("Zip second"))
                .And(sum.Equals(t.Map(l => Apply(l, x => x + x + 1))).Label("Zip add"));
        });

    [Fact]
    public void Zip_rejects_structure_mismatches_naming_the_argument()
    {
        var t = new ParamTree<double>(["w", "b"], [NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(3)]);
        var renamed = new ParamTree<double>(["w", "c"], [NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(3)]);
        var transposed = new ParamTree<double>(["w", "b"], [NdArray.Zeros<double>(3, 2), NdArray.Zeros<double>(3)]);
        var fewer = new ParamTree<double>(["w"], [NdArray.Zeros<double>(2, 3)]);
        var reordered = new ParamTree<double>(["b", "w"], [NdArray.Zeros<double>(3), NdArray.Zeros<double>(2, 3)]);
        foreach (var bad in new[] { renamed, transposed, fewer, reordered })
        {
            Assert.Equal("b", Assert.Throws<ArgumentException>(() => ParamTree<double>.Zip(t, bad, (x, _) => x)).ParamName);
            Assert.Equal("grads", Assert.Throws<ArgumentException>(() => ParamTree<double>.Zip(t, bad, (x, _) => x, "grads")).ParamName);
            Assert.False(t.SameStructure(bad));
            Assert.Throws<ArgumentException>(() => ParamTree<double>.RequireSameStructure(t, bad, "x"));
        }
        Assert.Contains("'b'", Assert.Throws<ArgumentException>(() => ParamTree<double>.RequireSameStructure(t, renamed, "x")).Message);
        Assert.Contains("[3, 2]", Assert.Throws<ArgumentException>(() => ParamTree<double>.RequireSameStructure(t, transposed, "x")).Message);
        ParamTree<double>.RequireSameStructure(t, t.Map(l => l), "x");
    }

    [Law(100)]
    public Property Flatten_and_Unflatten_round_trip() =>
        Prop.ForAll(Trees.ToArbitrary(), t =>
        {
            var flat = t.Flatten();
            var back = t.Unflatten(flat);
            var shifted = t.Unflatten(flat.Select(x => x + 1).ToArray());
            return (flat.Length == t.ParameterCount).Label("length")
                .And(flat.SequenceEqual(t.Leaves.SelectMany(l => l.Span.ToArray())).Label("order: leaves in order, each row-major"))
                .And(back.Equals(t).Label("Unflatten(Flatten) ≠ id"))
                .And(shifted.SameStructure(t).Label("structure"))
                .And(shifted.Flatten().SequenceEqual(flat.Select(x => x + 1)).Label("Flatten(Unflatten) ≠ id"));
        });

    [Fact]
    public void Flatten_and_Unflatten_copy()
    {
        var t = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0)]);
        var flat = t.Flatten();
        flat[0] = 99;
        Assert.Equal(1.0, t[0][0]);
        var src = new[] { 5.0, 6.0 };
        var u = t.Unflatten(src);
        src[0] = 99;
        Assert.Equal(5.0, u[0][0]);
        Assert.Equal("flat", Assert.Throws<ArgumentException>(() => t.Unflatten(new double[3])).ParamName);
        Assert.Equal("flat", Assert.Throws<ArgumentException>(() => t.Unflatten(new double[1])).ParamName);
    }

    [Fact]
    public void Construction_checks_names_and_counts()
    {
        Assert.Equal("leaves", Assert.Throws<ArgumentException>(() => new ParamTree<double>(["a", "b"], [NdArray.Vector(1.0)])).ParamName);
        Assert.Equal("names", Assert.Throws<ArgumentException>(() => new ParamTree<double>(["a", "a"], [NdArray.Vector(1.0), NdArray.Vector(2.0)])).ParamName);
        Assert.Throws<ArgumentNullException>(() => new ParamTree<double>(default, [NdArray.Vector(1.0)]));
        Assert.Throws<ArgumentNullException>(() => new ParamTree<double>(["a"], [null!]));
        var empty = new ParamTree<double>([], []);
        Assert.Equal(0, empty.Count);
        Assert.Empty(empty.Flatten());
    }

    [Fact]
    public void Lookup_ZerosLike_Cast_and_equality()
    {
        var t = new ParamTree<double>(["0.weight", "0.bias"], [NdArray.From<double>([1, 2, 3, 4], 2, 2), NdArray.Vector(-0.5, 0.25)]);
        Assert.Equal(NdArray.Vector(-0.5, 0.25), t["0.bias"]);
        Assert.Contains("0.weight", Assert.Throws<KeyNotFoundException>(() => t["1.bias"]).Message);
        Assert.Equal(6, t.ParameterCount);
        var z = t.ZerosLike();
        Assert.True(z.SameStructure(t));
        Assert.All(z.Flatten(), v => Assert.Equal(0.0, v));
        Assert.Equal(t, t.Cast<float>().Cast<double>());
        Assert.Equal(t, new ParamTree<double>(["0.weight", "0.bias"], [NdArray.From<double>([1, 2, 3, 4], 2, 2), NdArray.Vector(-0.5, 0.25)]));
        Assert.Equal(t.GetHashCode(), t.Map(l => NdArray.From(l.Span, [.. l.Shape])).GetHashCode());
        Assert.NotEqual(t, t.Map(l => Apply(l, x => x == 4 ? Math.BitIncrement(4.0) : x)));
        Assert.NotEqual(t, new ParamTree<double>(["w", "0.bias"], t.Leaves));
    }
}
