using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;

namespace NeuralPure.Facade.Models;

/// <summary>Writes a <see cref="ModelSpec"/> as JSON and reads it back, validating every field.</summary>
/// <remarks>Shape: <c>{"inputWidth":64,"layers":[{"kind":"dense","in":64,"out":32,"init":"pytorch"},{"kind":"relu"},…],
/// "loss":{"kind":"cross-entropy","classWeights":null,"labelSmoothing":0}}</c>.</remarks>
public static class SpecJson
{
    /// <summary>The spec as a JSON object.</summary>
    public static JsonObject ToJson(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var layers = new JsonArray();
        foreach (var l in spec.Layers)
        {
            var o = new JsonObject { ["kind"] = l.Kind };
            switch (l)
            {
                case DenseSpec d: o["in"] = d.In; o["out"] = d.Out; o["init"] = d.Initializer.Name; break;
                case LeakyReluSpec lr: o["slope"] = lr.Slope; break;
                case DropoutSpec dr: o["rate"] = dr.Rate; break;
            }
            layers.Add(o);
        }
        var loss = new JsonObject { ["kind"] = spec.Loss.Kind };
        switch (spec.Loss)
        {
            case SoftmaxCrossEntropySpec ce:
                loss["classWeights"] = ce.ClassWeights is { } w ? new JsonArray([.. w.Select(v => (JsonNode)JsonValue.Create(v))]) : null;
                loss["labelSmoothing"] = ce.LabelSmoothing;
                break;
            case HuberSpec h: loss["delta"] = h.Delta; break;
        }
        return new JsonObject { ["inputWidth"] = spec.InputWidth, ["layers"] = layers, ["loss"] = loss };
    }

    /// <summary>Reads a spec written by <see cref="ToJson"/>.</summary>
    /// <exception cref="DataFormatException">The JSON is malformed or describes an invalid model.</exception>
    public static ModelSpec FromJson(string json, string source)
    {
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException(source, null, "architecture", "the architecture is not a JSON object");
            int input = Int(root, "inputWidth", source);
            var layersNode = root["layers"] as JsonArray ?? throw new DataFormatException(source, null, "architecture", "the architecture has no 'layers' array");
            var layers = ImmutableArray.CreateBuilder<LayerSpec>();
            foreach (var n in layersNode)
            {
                var o = n as JsonObject ?? throw new DataFormatException(source, null, "architecture", "a layer is not a JSON object");
                string kind = Str(o, "kind", source);
                layers.Add(kind switch
                {
                    "dense" => new DenseSpec(Int(o, "in", source), Int(o, "out", source), Initializer.Parse(Str(o, "init", source))),
                    "leaky-relu" => new LeakyReluSpec(Num(o, "slope", source)),
                    "dropout" => new DropoutSpec(Num(o, "rate", source)),
                    _ => ActivationSpec.Parse(kind),
                });
            }
            var lo = root["loss"] as JsonObject ?? throw new DataFormatException(source, null, "architecture", "the architecture has no 'loss' object");
            string lk = Str(lo, "kind", source);
            LossSpec loss = lk switch
            {
                "cross-entropy" => new SoftmaxCrossEntropySpec(
                    lo["classWeights"] is JsonArray wa ? [.. wa.Select(v => v?.GetValue<double>() ?? throw new DataFormatException(source, null, "architecture", "a class weight is null"))] : null,
                    lo["labelSmoothing"]?.GetValue<double>() ?? 0),
                "huber" => new HuberSpec(Num(lo, "delta", source)),
                _ => LossSpec.Parse(lk),
            };
            return new ModelSpec(input, layers.ToImmutable(), loss);
        }
        catch (DataFormatException) { throw; }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new DataFormatException(source, null, "architecture", $"invalid architecture: {Cut(e.Message)}", e);
        }
    }

    private static int Int(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new DataFormatException(source, null, "architecture", $"'{key}' must be an integer");

    private static double Num(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new DataFormatException(source, null, "architecture", $"'{key}' must be a number");

    private static string Str(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new DataFormatException(source, null, "architecture", $"'{key}' must be a string");

    /// <summary>A message about untrusted text, cut to a readable length (a hostile file could name a megabyte-long layer kind).</summary>
    private static string Cut(string message) => message.Length <= 240 ? message : message[..240] + "…";

    internal static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
