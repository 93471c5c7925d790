using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Models;

/// <summary>Writes a <see cref="ModelSpec"/> as JSON and reads it back, validating every field.</summary>
/// <remarks>Shape: <c>{"inputWidth":64,"layers":[{"kind":"dense","in":64,"out":32,"init":"pytorch"},{"kind":"relu"},…],
/// "loss":{"kind":"cross-entropy","classWeights":null,"labelSmoothing":0}}</c>.</remarks>
public static class SpecJson
{
    private static readonly System.Reflection.Assembly Core = typeof(LayerSpec).Assembly;

    /// <summary>The spec as a JSON object; a user's layer or loss needs a <paramref name="kinds"/> registry that knows it.</summary>
    /// <remarks>A model on examples of another shape than a vector writes <c>"inputShape"</c> beside <c>"inputWidth"</c>.</remarks>
    /// <exception cref="ArgumentException">A layer or the loss is a user type that <paramref name="kinds"/> does not know (the message names it).</exception>
    public static JsonObject ToJson(ModelSpec spec, KindRegistry? kinds = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        kinds ??= KindRegistry.BuiltIn;
        var layers = new JsonArray();
        foreach (var l in spec.Layers)
        {
            // A registered kind (a user's, or a built-in added after the first file format) writes its constructor's fields.
            if (kinds.Knows(l.GetType()) || l.GetType().Assembly != Core) { layers.Add((JsonNode)kinds.Encode(l, "layer")); continue; }
            var o = new JsonObject { ["kind"] = l.Kind };
            switch (l)
            {
                case DenseSpec d:
                    o["in"] = d.In; o["out"] = d.Out;
                    // A user's initializer (or a registered one) writes its kind and fields; the library's own, its name.
                    o["init"] = kinds.Knows(d.Initializer.GetType()) || d.Initializer.GetType().Assembly != Core ? kinds.Encode(d.Initializer, "initializer") : d.Initializer.Name;
                    break;
                case LeakyReluSpec lr: o["slope"] = lr.Slope; break;
                case DropoutSpec dr: o["rate"] = dr.Rate; break;
            }
            layers.Add((JsonNode)o);
        }
        var loss = kinds.Knows(spec.Loss.GetType()) || spec.Loss.GetType().Assembly != Core ? kinds.Encode(spec.Loss, "loss") : new JsonObject { ["kind"] = spec.Loss.Kind };
        switch (spec.Loss)
        {
            case SoftmaxCrossEntropySpec ce:
                loss["classWeights"] = ce.ClassWeights is { } w ? new JsonArray([.. w.Select(v => (JsonNode)JsonValue.Create(v))]) : null;
                loss["labelSmoothing"] = ce.LabelSmoothing;
                break;
            case HuberSpec h: loss["delta"] = h.Delta; break;
        }
        var root = new JsonObject { ["inputWidth"] = spec.InputWidth };
        if (spec.Input.Rank != 1) root["inputShape"] = new JsonArray([.. spec.Input.Dims.Select(d => (JsonNode)d)]);
        root["layers"] = layers; root["loss"] = loss;
        return root;
    }

    /// <summary>Reads a spec written by <see cref="ToJson"/>; a user's kinds need a <paramref name="kinds"/> registry that knows them.</summary>
    /// <remarks>Its errors name the metadata key <c>architecture</c> (<see cref="DataFormatException.MetadataKey"/>), where model files keep the spec.</remarks>
    /// <exception cref="DataFormatException">The JSON is malformed, names a kind this registry does not know, or describes an invalid model.</exception>
    public static ModelSpec FromJson(string json, string source, KindRegistry? kinds = null)
    {
        kinds ??= KindRegistry.BuiltIn;
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw Bad(source, "not a JSON object");
            int input = Int(root, "inputWidth", source);
            var layersNode = root["layers"] as JsonArray ?? throw Bad(source, "no 'layers' array");
            var layers = ImmutableArray.CreateBuilder<LayerSpec>();
            foreach (var n in layersNode)
            {
                var o = n as JsonObject ?? throw Bad(source, "a layer is not a JSON object");
                string kind = Str(o, "kind", source);
                layers.Add(kind switch
                {
                    "dense" => new DenseSpec(Int(o, "in", source), Int(o, "out", source), o["init"] is JsonObject io ? RegisteredInit(io, kinds, source) : Initializer.Parse(Str(o, "init", source))),
                    "leaky-relu" => new LeakyReluSpec(Num(o, "slope", source)),
                    "dropout" => new DropoutSpec(Num(o, "rate", source)),
                    "identity" or "relu" or "sigmoid" or "tanh" or "gelu" => ActivationSpec.Parse(kind),
                    _ => kinds.TypeOf(kind) is { } t && typeof(LayerSpec).IsAssignableFrom(t) ? (LayerSpec)kinds.Decode(t, o)
                        : throw Bad(source, $"unknown layer kind {DataText.Quote(Cut(kind))}; built in: dense, identity, relu, leaky-relu, sigmoid, tanh, gelu, dropout; {kinds.KnownText}"),
                });
            }
            var lo = root["loss"] as JsonObject ?? throw Bad(source, "no 'loss' object");
            string lk = Str(lo, "kind", source);
            LossSpec loss = lk switch
            {
                "cross-entropy" => new SoftmaxCrossEntropySpec(
                    lo["classWeights"] is JsonArray wa ? [.. wa.Select(v => v?.GetValue<double>() ?? throw Bad(source, "a class weight is null"))] : null,
                    lo["labelSmoothing"]?.GetValue<double>() ?? 0),
                "huber" => new HuberSpec(Num(lo, "delta", source)),
                "mse" or "bce" => LossSpec.Parse(lk),
                _ => kinds.TypeOf(lk) is { } t && typeof(LossSpec).IsAssignableFrom(t) ? (LossSpec)kinds.Decode(t, lo)
                    : throw Bad(source, $"unknown loss kind {DataText.Quote(Cut(lk))}; built in: mse, bce, cross-entropy, huber; {kinds.KnownText}"),
            };
            if (root["inputShape"] is JsonArray dims)
            {
                var shape = Shape.Of([.. dims.Select(d => d?.GetValue<int>() ?? throw Bad(source, "an input dimension is null"))]);
                if (shape.Size != input) throw Bad(source, $"'inputShape' {shape} does not hold 'inputWidth' {input} elements");
                return new ModelSpec(shape, layers.ToImmutable(), loss);
            }
            return new ModelSpec(input, layers.ToImmutable(), loss);
        }
        catch (DataFormatException) { throw; }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw Bad(source, $"not a valid model: {Cut(e.Message)}", e);
        }
    }

    /// <summary>A registered initializer from its kind and fields, or an error naming an unknown kind.</summary>
    private static Initializer RegisteredInit(JsonObject o, KindRegistry kinds, string source)
    {
        string kind = Str(o, "kind", source);
        return kinds.TypeOf(kind) is { } t && typeof(Initializer).IsAssignableFrom(t) ? (Initializer)kinds.Decode(t, o)
            : throw Bad(source, $"unknown initializer kind {DataText.Quote(Cut(kind))}; built in: {string.Join(", ", Initializer.All.Select(i => i.Name))}; {kinds.KnownText}");
    }

    private static int Int(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw Bad(source, $"'{key}' must be an integer");

    private static double Num(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw Bad(source, $"'{key}' must be a number");

    private static string Str(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Bad(source, $"'{key}' must be a string");

    /// <summary>A problem with the spec, named as the metadata key model files keep it in.</summary>
    private static DataFormatException Bad(string source, string problem, Exception? inner = null) => DataFormatException.InMetadata(source, "architecture", problem, inner);

    /// <summary>A message about untrusted text, cut to a readable length (a hostile file could name a megabyte-long layer kind).</summary>
    private static string Cut(string message) => message.Length <= 240 ? message : message[..240] + "…";

    internal static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
