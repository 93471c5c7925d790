using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Nodes;
using NeuralPure.Optimizers;

namespace NeuralPure.Facade.Runs;

/// <summary>An optimizer as the run record writes it: the chain of transforms that ran, each with every hyperparameter
/// (its schedule too), read from the records' public properties.</summary>
/// <remarks>For example Adam with lr 1e-3 is
/// <c>{"transform": "ChainTransform", "transforms": [{"transform": "ScaleByAdam", "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "amsGrad": false},
/// {"transform": "ScaleByLearningRate", "learningRate": {"schedule": "Constant", "value": 0.001}}]}</c>. A user's transform is
/// written the same way, from its public properties.</remarks>
public static class TransformJson
{
    /// <summary>The transform (or schedule, or any record of hyperparameters) as JSON.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="transform"/> is null.</exception>
    public static JsonObject Describe(GradientTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return (JsonObject)Value(transform, 0)!;
    }

    private static JsonNode? Value(object? v, int depth)
    {
        if (depth > 16) return JsonValue.Create(v?.ToString());
        switch (v)
        {
            case null: return null;
            case double d: return double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case float f: return Value((double)f, depth);
            case int i: return JsonValue.Create(i);
            case long l: return JsonValue.Create(l);
            case bool b: return JsonValue.Create(b);
            case string s: return JsonValue.Create(s);
            case Enum e: return JsonValue.Create(e.ToString());
            // GetType() of a transform or schedule keeps its public properties in a trimmed or NativeAOT application: both base
            // records are annotated so (DynamicallyAccessedMembers), for every derived type, a user's too. The analyzers and the
            // NativeAOT compiler follow that from a parameter of the base type (Transform, ScheduleRecord), not from a pattern
            // variable of this switch (the schedules' properties were gone under NativeAOT).
            case GradientTransform g: return Transform(g, depth);
            case Schedule s: return ScheduleRecord(s, depth);
            case IEnumerable items when v is not string:
                var arr = new JsonArray();
                foreach (var item in items) arr.Add(Value(item, depth + 1));
                return arr;
            default: return JsonValue.Create(v.ToString());
        }
    }

    private static JsonObject Transform(GradientTransform g, int depth) => Record(g, g.GetType(), "transform", depth);

    private static JsonObject ScheduleRecord(Schedule s, int depth) => Record(s, s.GetType(), "schedule", depth);

    private static JsonObject Record(object v, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type t, string kindKey, int depth)
    {
        var o = new JsonObject { [kindKey] = t.Name };
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.Name == "EqualityContract") continue;
            o[char.ToLowerInvariant(p.Name[0]) + p.Name[1..]] = Value(p.GetValue(v), depth + 1);
        }
        return o;
    }
}
