using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
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
/// </remarks>
public sealed class KindRegistry
{
    private readonly ImmutableDictionary<string, Type> byName;
    private readonly ImmutableDictionary<Type, string> byType;

    private KindRegistry(ImmutableDictionary<string, Type> byName, ImmutableDictionary<Type, string> byType) { this.byName = byName; this.byType = byType; }

    /// <summary>The kind names of the first file format, whose fields SpecJson and CheckpointFile write by hand; no other kind may take them.</summary>
    public static ImmutableHashSet<string> BuiltInNames { get; } =
        ["dense", "identity", "relu", "leaky-relu", "sigmoid", "tanh", "gelu", "dropout", "mse", "bce", "cross-entropy", "huber", "empty", "count", "momentum", "dampedMomentum", "adam", "rms", "adamax", "nadam", "radam", "adagrad", "lion", "masked", "multiSteps", "chain"];


    /// <summary>The library's own kinds only: those of the first file format (<see cref="BuiltInNames"/>, written by hand for
    /// compatibility) and, one line each below, every built-in kind added since, written like a user's.</summary>
    /// <remarks>Declared after <see cref="BuiltInNames"/>, which the registrations below check against.</remarks>
    public static KindRegistry BuiltIn { get; } = new KindRegistry(ImmutableDictionary<string, Type>.Empty, ImmutableDictionary<Type, string>.Empty)
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
    public KindRegistry WithLayer<TSpec>(string kind) where TSpec : LayerSpec => With(typeof(TSpec), kind);

    /// <summary>This registry with the loss type <typeparamref name="TSpec"/> under <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, built in or taken, or the type is already registered.</exception>
    public KindRegistry WithLoss<TSpec>(string kind) where TSpec : LossSpec => With(typeof(TSpec), kind);

    /// <summary>This registry with the weight initializer type <typeparamref name="TInit"/> under <paramref name="kind"/>, so a dense
    /// layer that draws its weights with it can be saved and loaded.</summary>
    /// <exception cref="ArgumentException">The name is empty, built in or taken, or the type is already registered.</exception>
    public KindRegistry WithInitializer<TInit>(string kind) where TInit : Initializer => With(typeof(TInit), kind);

    /// <summary>This registry with an optimizer state type under <paramref name="kind"/>: a closed type over float, or a generic
    /// definition with one type parameter (<c>typeof(LionState&lt;&gt;)</c>), which checkpoints close over float.</summary>
    /// <exception cref="ArgumentException">The type is not an <see cref="OptState"/>, or the name is empty, built in or taken.</exception>
    public KindRegistry WithState(Type stateType, string kind)
    {
        ArgumentNullException.ThrowIfNull(stateType);
        var closed = stateType.IsGenericTypeDefinition ? Close(stateType) : stateType;
        if (!typeof(OptState).IsAssignableFrom(closed)) throw new ArgumentException($"{stateType.Name} is not an optimizer state (OptState)", nameof(stateType));
        return With(closed, kind);
    }

    private static Type Close(Type definition)
    {
        if (definition.GetGenericArguments().Length != 1) throw new ArgumentException($"{definition.Name} must have exactly one type parameter (the number type)", nameof(definition));
        return definition.MakeGenericType(typeof(float));
    }

    private KindRegistry With(Type type, string kind)
    {
        if (string.IsNullOrWhiteSpace(kind)) throw new ArgumentException("a kind needs a name", nameof(kind));
        if (BuiltInNames.Contains(kind)) throw new ArgumentException($"'{kind}' is a built-in kind; choose another name for {type.Name}", nameof(kind));
        if (byName.TryGetValue(kind, out var other)) throw new ArgumentException($"'{kind}' is already registered for {other.Name}", nameof(kind));
        if (byType.TryGetValue(type, out var name)) throw new ArgumentException($"{type.Name} is already registered as '{name}'", nameof(kind));
        Codec.RequireWritable(type);
        return new KindRegistry(byName.Add(kind, type), byType.Add(type, kind));
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
        foreach (var (p, prop) in Codec.Fields(value.GetType()))
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
        var fields = Codec.Fields(type);
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
        try { return Codec.Constructor(type).Invoke(args); }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException inner) { throw inner; }
    }

    /// <summary>Reflection over a record's primary constructor.</summary>
    private static class Codec
    {
        private static readonly Type[] Plain = [typeof(int), typeof(long), typeof(double), typeof(float), typeof(bool), typeof(string), typeof(Initializer), typeof(ImmutableArray<double>), typeof(ParamTree<float>)];

        public static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

        public static ConstructorInfo Constructor(Type t) =>
            t.GetConstructors(BindingFlags.Public | BindingFlags.Instance).Where(c => !(c.GetParameters() is [var only] && only.ParameterType == t))
             .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new ArgumentException($"{t.Name} has no public constructor for files to call", "kinds");

        public static (ParameterInfo Parameter, PropertyInfo Property)[] Fields(Type t) =>
            [.. Constructor(t).GetParameters().Select(p => (p, t.GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new ArgumentException($"{t.Name}'s constructor parameter '{p.Name}' has no property of that name to save", "kinds")))];

        public static void RequireWritable(Type t)
        {
            foreach (var (p, _) in Fields(t))
            {
                var pt = System.Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
                if (!Plain.Contains(pt)) throw new ArgumentException($"{t.Name}'s field '{p.Name}' is a {pt.Name}, which files cannot hold (int, long, double, float, bool, string, Initializer, ImmutableArray<double>, ParamTree<float>)", "kinds");
            }
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
