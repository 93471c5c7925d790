using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Models;

/// <summary>The names by which model files and checkpoints find a user's own layers, losses and optimizer states.</summary>
/// <remarks>
/// <para>An immutable value, passed to the file functions (<see cref="SpecJson"/>, <see cref="ModelFile"/>,
/// <see cref="Training.CheckpointFile"/>, <see cref="Training.CheckpointOptions"/>): no global registration, so what a file
/// can hold is visible where it is written and read. <see cref="BuiltIn"/> knows the library's own kinds; <c>With…</c> adds one.</para>
/// <para>A registered type is written as <c>{"kind": name, …}</c> with one field per parameter of its primary constructor
/// (camelCase), and read back through that constructor, so its own checks run. Parameter types a file can hold: int, long,
/// double, float, bool, string, <see cref="Initializer"/> (by name), <see cref="ImmutableArray{T}"/> of double, their nullable
/// forms, and — in optimizer states — parameter trees (<c>ParamTree&lt;float&gt;</c>, stored as tensors).</para>
/// <para>Saving a model or checkpoint that holds an unregistered type refuses with a message naming the type; loading a file
/// with a kind this registry does not know names the kind.</para>
/// <para>Trimmed and NativeAOT applications: the registration methods' type parameters (and <see cref="WithState"/>'s type)
/// keep the public constructors and properties that files are written and read through; a generic state definition
/// (<c>typeof(LionState&lt;&gt;)</c>) needs run-time code to be closed over float, so there register the closed type
/// (<c>typeof(LionState&lt;float&gt;)</c>).</para>
/// </remarks>
public sealed class KindRegistry
{
    /// <summary>What files reach by reflection on a registered type: its primary constructor and the properties of its parameters.</summary>
    private const DynamicallyAccessedMemberTypes Reflected = DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties;

    private readonly ImmutableDictionary<string, Type> byName;
    private readonly ImmutableDictionary<Type, string> byType;

    /// <summary>Each registered type's constructor and fields, found once where it is registered (where the type's members are
    /// known to be kept), so that writing and reading a file reflect on nothing else.</summary>
    private readonly ImmutableDictionary<Type, Codec.Record> records;

    private KindRegistry(ImmutableDictionary<string, Type> byName, ImmutableDictionary<Type, string> byType, ImmutableDictionary<Type, Codec.Record> records)
    {
        this.byName = byName; this.byType = byType; this.records = records;
    }

    /// <summary>The kind names of the first file format, whose fields SpecJson and CheckpointFile write by hand; no other kind may take them.</summary>
    public static ImmutableHashSet<string> BuiltInNames { get; } =
        ["dense", "identity", "relu", "leaky-relu", "sigmoid", "tanh", "gelu", "dropout", "mse", "bce", "cross-entropy", "huber", "empty", "count", "momentum", "dampedMomentum", "adam", "rms", "adamax", "nadam", "radam", "adagrad", "lion", "masked", "multiSteps", "chain"];


    /// <summary>The library's own kinds only: those of the first file format (<see cref="BuiltInNames"/>, written by hand for
    /// compatibility) and, one line each below, every built-in kind added since, written like a user's.</summary>
    /// <remarks>Declared after <see cref="BuiltInNames"/>, which the registrations below check against.</remarks>
    public static KindRegistry BuiltIn { get; } = new KindRegistry(ImmutableDictionary<string, Type>.Empty, ImmutableDictionary<Type, string>.Empty, ImmutableDictionary<Type, Codec.Record>.Empty)
        // A new built-in layer, loss or optimizer state joins here, one line each; nothing else in the file code needs to know it.
        .WithLayer<LayerNormSpec>("layer-norm")
        .WithLayer<BatchNormSpec>("batch-norm")
        .WithLayer<SiluSpec>("silu")
        .WithLayer<EluSpec>("elu")
        .WithLayer<SoftplusSpec>("softplus")
        .WithLoss<L1Spec>("l1")
        .WithLoss<SmoothL1Spec>("smooth-l1")
        .WithLoss<NllSpec>("nll")
        .WithLayer<Conv2dSpec>("conv2d")
        .WithLayer<MaxPool2dSpec>("maxpool2d")
        .WithLayer<AvgPool2dSpec>("avgpool2d")
        .WithLayer<FlattenSpec>("flatten")
        .WithLayer<RandomFlipSpec>("random-flip")
        .WithLayer<RandomShiftSpec>("random-shift")
        .WithLayer<LogSoftmaxSpec>("log-softmax");

    /// <summary>This registry with the layer type <typeparamref name="TSpec"/> under <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, built in or taken, or the type is already registered.</exception>
    public KindRegistry WithLayer<[DynamicallyAccessedMembers(Reflected)] TSpec>(string kind) where TSpec : LayerSpec => With(typeof(TSpec), kind);

    /// <summary>This registry with the loss type <typeparamref name="TSpec"/> under <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, built in or taken, or the type is already registered.</exception>
    public KindRegistry WithLoss<[DynamicallyAccessedMembers(Reflected)] TSpec>(string kind) where TSpec : LossSpec => With(typeof(TSpec), kind);

    /// <summary>This registry with the weight initializer type <typeparamref name="TInit"/> under <paramref name="kind"/>, so a dense
    /// layer that draws its weights with it can be saved and loaded.</summary>
    /// <exception cref="ArgumentException">The name is empty, built in or taken, or the type is already registered.</exception>
    public KindRegistry WithInitializer<[DynamicallyAccessedMembers(Reflected)] TInit>(string kind) where TInit : Initializer => With(typeof(TInit), kind);

    /// <summary>This registry with an optimizer state type under <paramref name="kind"/>: a closed type over float, or a generic
    /// definition with one type parameter (<c>typeof(LionState&lt;&gt;)</c>), which checkpoints close over float.</summary>
    /// <exception cref="ArgumentException">The type is not an <see cref="OptState"/>, or the name is empty, built in or taken.</exception>
    /// <exception cref="NotSupportedException">A generic definition where code cannot be generated at run time (NativeAOT):
    /// register the closed type, <c>typeof(LionState&lt;float&gt;)</c>.</exception>
    public KindRegistry WithState([DynamicallyAccessedMembers(Reflected)] Type stateType, string kind)
    {
        ArgumentNullException.ThrowIfNull(stateType);
        var closed = !stateType.IsGenericTypeDefinition ? stateType
            : RuntimeFeature.IsDynamicCodeSupported ? Close(stateType)
            : throw new NotSupportedException($"{Plain(stateType)} is a generic definition, which is closed over float at run time, and this runtime cannot generate code (NativeAOT): register the closed type, WithState(typeof({Plain(stateType)[..^2]}<float>), \"{kind}\")");
        if (!typeof(OptState).IsAssignableFrom(closed)) throw new ArgumentException($"{stateType.Name} is not an optimizer state (OptState)", nameof(stateType));
        return With(closed, kind);
    }

    /// <summary>The generic state definition over float.</summary>
    [RequiresDynamicCode("MakeGenericType over float needs run-time code unless the instantiation was compiled ahead of time.")]
    [UnconditionalSuppressMessage("Trimming", "IL2055", Justification = "IL2055 cannot check that float meets a DynamicallyAccessedMembers requirement on the definition's type parameter (the number type). A state whose type parameter carries one would find members of float missing in a trimmed app; the definition's own constructors and properties are kept by the annotation on WithState's type. Reached only where code is generated at run time.")]
    [return: DynamicallyAccessedMembers(Reflected)]
    private static Type Close([DynamicallyAccessedMembers(Reflected)] Type definition)
    {
        if (definition.GetGenericArguments().Length != 1) throw new ArgumentException($"{definition.Name} must have exactly one type parameter (the number type)", nameof(definition));
        return definition.MakeGenericType(typeof(float));
    }

    private KindRegistry With([DynamicallyAccessedMembers(Reflected)] Type type, string kind)
    {
        if (string.IsNullOrWhiteSpace(kind)) throw new ArgumentException("a kind needs a name", nameof(kind));
        if (BuiltInNames.Contains(kind)) throw new ArgumentException($"'{kind}' is a built-in kind; choose another name for {type.Name}", nameof(kind));
        if (byName.TryGetValue(kind, out var other)) throw new ArgumentException($"'{kind}' is already registered for {other.Name}", nameof(kind));
        if (byType.TryGetValue(type, out var name)) throw new ArgumentException($"{type.Name} is already registered as '{name}'", nameof(kind));
        var record = Codec.Of(type);
        return new KindRegistry(byName.Add(kind, type), byType.Add(type, kind), records.Add(type, record));
    }

    /// <summary>The user kinds registered here (not the library's own), sorted.</summary>
    public ImmutableArray<string> Names => [.. byName.Where(p => p.Value.Assembly != typeof(LayerSpec).Assembly).Select(p => p.Key).Order(StringComparer.Ordinal)];

    /// <summary>The library's own kinds registered here beside the first format's (batch-norm, layer-norm, …), sorted.</summary>
    public ImmutableArray<string> LibraryNames => [.. byName.Where(p => p.Value.Assembly == typeof(LayerSpec).Assembly).Select(p => p.Key).Order(StringComparer.Ordinal)];

    /// <summary>The registered name of a user type's instance, or an error that names the type and how to register it.</summary>
    internal string NameOf(object value, string what)
    {
        if (byType.TryGetValue(value.GetType(), out var name)) return name;
        string register = what == "optimizer state" ? $"WithState(typeof({Plain(value.GetType())}), \"…\")"
            : $"With{what switch { "loss" => "Loss", "initializer" => "Initializer", _ => "Layer" }}<{Plain(value.GetType())}>(\"…\")";
        throw new ArgumentException($"the {what} {value.GetType().Name} is not registered for files; pass a KindRegistry that knows it (KindRegistry.BuiltIn.{register})", "kinds");
    }

    private static string Plain(Type t) => t.IsGenericType ? t.Name[..t.Name.IndexOf('`')] + "<>" : t.Name;

    /// <summary>True when <paramref name="type"/> is registered here.</summary>
    internal bool Knows(Type type) => byType.ContainsKey(type);

    /// <summary>The user type registered under <paramref name="kind"/>, or null.</summary>
    internal Type? TypeOf(string kind) => byName.GetValueOrDefault(kind);

    /// <summary>"known here: a, b" or "no user kinds are registered".</summary>
    internal string KnownText => (LibraryNames.IsEmpty ? "" : "also built in: " + string.Join(", ", LibraryNames) + "; ")
        + (Names.IsEmpty ? "no user kinds are registered (pass a KindRegistry that knows it)" : "registered user kinds: " + string.Join(", ", Names));

    /// <summary>A registered record's fields as JSON (tensors through <paramref name="tree"/>).</summary>
    internal JsonObject Encode(object value, string what, Action<string, ParamTree<float>>? tree = null)
    {
        var o = new JsonObject { ["kind"] = NameOf(value, what) };
        foreach (var (p, prop) in records[value.GetType()].Fields)
        {
            var v = prop.GetValue(value);
            if (v is ParamTree<float> t)
            {
                if (tree is null) throw new ArgumentException($"{value.GetType().Name}.{prop.Name} is a parameter tree, which only a checkpoint can hold", "kinds");
                tree(Codec.Camel(p.Name!), t);
                o[Codec.Camel(p.Name!)] = true;
            }
            else o[Codec.Camel(p.Name!)] = Codec.ToJson(v, p.ParameterType);
        }
        return o;
    }

    /// <summary>A registered record from its JSON fields (tensors through <paramref name="tree"/>), built by its constructor.</summary>
    internal object Decode(Type type, JsonObject o, Func<string, ParamTree<float>>? tree = null)
    {
        var record = records.GetValueOrDefault(type) ?? throw new ArgumentException($"{type.Name} is not registered here", nameof(type));
        var fields = record.Fields;
        var args = new object?[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            var p = fields[i].Parameter;
            string key = Codec.Camel(p.Name!);
            if (p.ParameterType == typeof(ParamTree<float>)) // ParamTree<float>? is the same type: null when the file has no tree
                args[i] = o[key] is null ? null : tree is null ? throw new FormatException($"'{key}' is a parameter tree outside a checkpoint") : tree(key);
            else
                args[i] = o.ContainsKey(key) ? Codec.FromJson(o[key], p.ParameterType, key) : p.HasDefaultValue ? p.DefaultValue : throw new FormatException($"'{key}' is missing");
        }
        try { return record.Constructor.Invoke(args); }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner) { throw inner; }
    }

    /// <summary>Reflection over a record's primary constructor.</summary>
    private static class Codec
    {
        private static readonly Type[] Plain = [typeof(int), typeof(long), typeof(double), typeof(float), typeof(bool), typeof(string), typeof(Initializer), typeof(ImmutableArray<double>), typeof(ParamTree<float>)];

        public static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

        /// <summary>A registered type's primary constructor and, per parameter, the property that saves it.</summary>
        public sealed record Record(ConstructorInfo Constructor, (ParameterInfo Parameter, PropertyInfo Property)[] Fields);

        /// <summary>The record of <paramref name="t"/>, checked writable.</summary>
        public static Record Of([DynamicallyAccessedMembers(Reflected)] Type t)
        {
            var constructor = Constructor(t);
            var fields = Fields(t, constructor);
            foreach (var (p, _) in fields)
            {
                var pt = System.Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
                if (!Plain.Contains(pt)) throw new ArgumentException($"{t.Name}'s field '{p.Name}' is a {pt.Name}, which files cannot hold (int, long, double, float, bool, string, Initializer, ImmutableArray<double>, ParamTree<float>)", "kinds");
            }
            return new Record(constructor, fields);
        }

        private static ConstructorInfo Constructor([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type t) =>
            t.GetConstructors(BindingFlags.Public | BindingFlags.Instance).Where(c => !(c.GetParameters() is [var only] && only.ParameterType == t))
             .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new ArgumentException($"{t.Name} has no public constructor for files to call", "kinds");

        private static (ParameterInfo Parameter, PropertyInfo Property)[] Fields([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type t, ConstructorInfo constructor) =>
            [.. constructor.GetParameters().Select(p => (p, Property(t, p.Name!)
                ?? throw new ArgumentException($"{t.Name}'s constructor parameter '{p.Name}' has no property of that name to save", "kinds")))];

        /// <summary>The public instance property named <paramref name="name"/> in any case, as <c>GetProperty(name, Public | Instance | IgnoreCase)</c>
        /// finds it (the most derived of those that match; two at one level are ambiguous), from the public properties only.</summary>
        private static PropertyInfo? Property([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type t, string name)
        {
            var matches = t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(q => string.Equals(q.Name, name, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (matches.Length <= 1) return matches.FirstOrDefault();
            int Depth(Type? d) { int n = 0; for (; d is not null; d = d.BaseType) n++; return n; }
            var deepest = matches.GroupBy(q => Depth(q.DeclaringType)).MaxBy(g => g.Key)!.ToArray();
            return deepest.Length == 1 ? deepest[0] : throw new AmbiguousMatchException($"{t.Name} has {deepest.Length} properties named '{name}' ignoring case");
        }

        public static JsonNode? ToJson(object? v, Type declared) => v switch
        {
            null => null,
            int i => i,
            long l => l,
            double d => d,
            float f => f,
            bool b => b,
            string s => s,
            Initializer init => init.Name,
            ImmutableArray<double> a => new JsonArray([.. a.Select(x => (JsonNode)x)]),
            _ => throw new ArgumentException($"a {declared.Name} cannot be saved", "kinds"),
        };

        public static object? FromJson(JsonNode? n, Type declared, string key)
        {
            if (n is null) return null;
            var t = System.Nullable.GetUnderlyingType(declared) ?? declared;
            try
            {
                if (t == typeof(int)) return n.GetValue<int>();
                if (t == typeof(long)) return n.GetValue<long>();
                if (t == typeof(double)) return n.GetValue<double>();
                if (t == typeof(float)) return n.GetValue<float>();
                if (t == typeof(bool)) return n.GetValue<bool>();
                if (t == typeof(string)) return n.GetValue<string>();
                if (t == typeof(Initializer)) return Initializer.Parse(n.GetValue<string>());
                if (t == typeof(ImmutableArray<double>)) return ImmutableArray.CreateRange(n.AsArray().Select(x => x!.GetValue<double>()));
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new FormatException($"'{key}' is not a {t.Name}: {e.Message}", e);
            }
            throw new FormatException($"'{key}' has a type files cannot hold");
        }
    }

    /// <summary>Invariant text of a number, for messages.</summary>
    internal static string Text(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
