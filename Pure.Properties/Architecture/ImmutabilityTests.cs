using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit;

namespace NeuralPure.Properties.Architecture;

/// <summary>"Impure inside, pure outside" (DESIGN §6) as reflection over every public type of Pure.Core: nothing public can be
/// assigned after construction, and nothing public hands out storage someone else could write.</summary>
/// <remarks>These are structural checks. That functions do not mutate their arguments is checked behaviourally next to each
/// function (optimizers, trainer, kernels).</remarks>
public sealed class ImmutabilityTests
{
    private static readonly Assembly Core = typeof(NeuralPure.Tensors.NdArray).Assembly;

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Visible outside the assembly: public, protected, or protected internal.</summary>
    private static bool Visible(MethodBase m) => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly;
    private static bool Visible(FieldInfo f) => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly;

    private static IEnumerable<Type> PublicTypes => Core.GetExportedTypes();

    private static string Name(MemberInfo m) => $"{m.DeclaringType!.FullName ?? m.DeclaringType.Name}.{m.Name}";

    /// <summary>An init accessor is a setter whose return parameter carries the modreq IsExternalInit.</summary>
    private static bool IsInit(MethodInfo setter) => setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    [Fact]
    public void The_check_sees_the_public_surface()
    {
        var names = PublicTypes.Select(t => t.FullName).ToHashSet();
        Assert.Contains("NeuralPure.Tensors.NdArray`1", names);
        Assert.Contains("NeuralPure.Optimizers.Schedule+Cosine", names); // nested public types too
        Assert.DoesNotContain("NeuralPure.Kernels.Elementwise", names); // internal
        // The init detector recognises an init accessor (records' positional properties) and a plain setter.
        Assert.True(IsInit(typeof(NeuralPure.Training.TrainState<float>).GetProperty("Step")!.SetMethod!));
        Assert.False(IsInit(typeof(Probe).GetProperty(nameof(Probe.Settable))!.SetMethod!));
    }

    private sealed class Probe { public int Settable { get; set; } }

    [Fact]
    public void No_public_property_has_a_set_accessor_only_init()
    {
        var settable = (from t in PublicTypes
                        from p in t.GetProperties(Declared)
                        let s = p.SetMethod
                        where s is not null && Visible(s) && !IsInit(s)
                        select Name(p)).ToList();
        Assert.True(settable.Count == 0, "public properties with a set accessor: " + string.Join(", ", settable));
    }

    [Fact]
    public void No_public_field_is_mutable_or_an_array()
    {
        var bad = (from t in PublicTypes
                   from f in t.GetFields(Declared)
                   where Visible(f) && !f.IsLiteral && (!f.IsInitOnly || f.FieldType.IsArray)
                   select $"{Name(f)} ({(f.FieldType.IsArray ? "array" : "not readonly")})").ToList();
        Assert.True(bad.Count == 0, "public fields: " + string.Join(", ", bad));
    }

    /// <summary>The public members that return a fresh array the caller owns, by design (documented as copies).</summary>
    private static readonly HashSet<string> DocumentedCopies =
    [
        "NeuralPure.Tensors.NdArray`1.ToArray",   // "A copy of the elements that the caller owns."
        "NeuralPure.Tensors.ParamTree`1.Flatten", // a new array of every scalar
        "NeuralPure.Random.RandomKey.Bits",       // fresh random words
    ];

    private static IEnumerable<(string Member, Type Type)> PublicSignatureTypes()
    {
        foreach (var t in PublicTypes)
        {
            foreach (var m in t.GetMethods(Declared).Where(m => Visible(m) && (!m.IsSpecialName || m.Name.StartsWith("op_")))) // accessors: below, as properties
            {
                yield return (Name(m), m.ReturnType);
                foreach (var p in m.GetParameters().Where(p => p.IsOut)) yield return (Name(m) + "(out " + p.Name + ")", p.ParameterType.GetElementType()!);
            }
            foreach (var p in t.GetProperties(Declared).Where(p => p.GetMethod is { } g && Visible(g)))
                yield return (Name(p), p.PropertyType);
            foreach (var f in t.GetFields(Declared).Where(Visible))
                yield return (Name(f), f.FieldType);
        }
    }

    [Fact]
    public void No_public_member_returns_an_array_except_the_documented_copies()
    {
        var arrays = PublicSignatureTypes().Where(x => x.Type.IsArray).Select(x => x.Member).Distinct().ToList();
        var unexpected = arrays.Where(a => !DocumentedCopies.Contains(a)).ToList();
        Assert.True(unexpected.Count == 0, "public members returning arrays: " + string.Join(", ", unexpected));
        // The allow-list is not stale: each documented copy still exists and still returns an array.
        Assert.Equal(DocumentedCopies.OrderBy(x => x), arrays.Where(DocumentedCopies.Contains).OrderBy(x => x));
    }

    [Fact]
    public void The_documented_copies_really_are_copies()
    {
        var a = NeuralPure.Tensors.NdArray.Vector(1.0, 2.0);
        Assert.NotSame(a.ToArray(), a.ToArray());
        var t = new NeuralPure.Tensors.ParamTree<double>(["x"], [a]);
        Assert.NotSame(t.Flatten(), t.Flatten());
        var k = new NeuralPure.Random.RandomKey(1, 2);
        Assert.NotSame(k.Bits(2), k.Bits(2));
    }

    private static readonly Type[] WritableViews = [typeof(Span<>), typeof(Memory<>)];

    private static readonly string[] DestinationPassing =
        ["NeuralPure.Layers.ForwardArgs`1.", "NeuralPure.Layers.BackwardArgs`1.", "NeuralPure.Losses.LossArgs`1.", "NeuralPure.Optimizers.UpdateArgs`1.", "NeuralPure.Optimizers.TreeBuffers`1."];

    private static readonly Type[] MutableCollections =
        [typeof(List<>), typeof(Dictionary<,>), typeof(HashSet<>), typeof(IList<>), typeof(ICollection<>), typeof(IDictionary<,>), typeof(ISet<>), typeof(Queue<>), typeof(Stack<>)];

    private static bool Is(Type t, Type[] definitions)
    {
        if (t.IsByRef) t = t.GetElementType()!;
        return t.IsGenericType && definitions.Contains(t.GetGenericTypeDefinition());
    }

    [Fact]
    public void No_public_member_returns_a_writable_span_or_memory()
    {
        // The exceptions are the destination-passing contracts: an op's argument bundle (a ref struct that lives for one call)
        // hands the op the caller's destinations, and a workspace's TreeBuffers are that workspace's own state. Neither can be
        // kept, and neither exposes an immutable array's storage.
        var bad = PublicSignatureTypes().Where(x => Is(x.Type, WritableViews) && !DestinationPassing.Any(d => x.Member.StartsWith(d, StringComparison.Ordinal)))
            .Select(x => $"{x.Member}: {x.Type.Name}").ToList();
        Assert.True(bad.Count == 0, "public members exposing Span<T>/Memory<T>: " + string.Join(", ", bad));
        // ReadOnlySpan is the allowed view, and it is used (NdArray.Span): the check is looking at the right things.
        Assert.Contains(PublicSignatureTypes(), x => x.Type.IsGenericType && x.Type.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>));
    }

    /// <summary>Records are values ("their hyperparameters are their identity, which is what a run file records"). The
    /// compiler's record equality compares an ImmutableArray member by reference (ImmutableArray&lt;T&gt; is IEquatable by its
    /// underlying array), so a record holding one must declare its own Equals or two equal values compare unequal. ChainTransform,
    /// ChainState, History and ModelSpec do; the check lists those that do not.</summary>
    [Fact]
    public void Public_records_with_ImmutableArray_members_define_elementwise_equality()
    {
        static bool HoldsImmutableArray(Type t) => t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Any(f => f.FieldType.IsGenericType && (f.FieldType.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableArray<>) ||
                     (Nullable.GetUnderlyingType(f.FieldType) is { IsGenericType: true } u && u.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableArray<>))));
        static bool IsRecord(Type t) => t.GetMethod("<Clone>$") is not null;
        static bool DeclaresEquals(Type t) => t.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly)
            .Any(m => m.Name == "Equals" && m.GetParameters() is [{ } p] && p.ParameterType == t && !m.IsDefined(typeof(CompilerGeneratedAttribute)));
        var records = PublicTypes.Where(t => IsRecord(t) && HoldsImmutableArray(t)).ToList();
        Assert.Contains(records, t => t.Name == "ChainTransform"); // the check finds the ones that are known to need it
        var bad = records.Where(t => !DeclaresEquals(t)).Select(t => t.FullName).ToList();
        Assert.True(bad.Count == 0, "records comparing ImmutableArray members by reference: " + string.Join(", ", bad));
    }

    [Fact]
    public void No_public_member_returns_a_mutable_collection()
    {
        var bad = PublicSignatureTypes().Where(x => Is(x.Type, MutableCollections)).Select(x => $"{x.Member}: {x.Type.Name}").ToList();
        Assert.True(bad.Count == 0, "public members exposing mutable collections: " + string.Join(", ", bad));
    }
}
