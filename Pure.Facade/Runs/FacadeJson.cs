using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralPure.Facade.Runs;

/// <summary>The façade's serialized types, described at compile time (System.Text.Json source generation) instead of by
/// reflection at run time, so that files are written and read the same in a trimmed or NativeAOT application.</summary>
/// <remarks>Each instance takes a copy of the options the files were always written with (a context makes its options its
/// own: it becomes their resolver and makes them read-only), so every byte stays as it was.</remarks>
[JsonSerializable(typeof(ExperimentConfig))]
[JsonSerializable(typeof(ImmutableArray<string>))]
internal sealed partial class FacadeJson : JsonSerializerContext
{
    /// <summary>JsonSerializer's defaults (compact, the default encoder): the name lists of model files, checkpoints and ONNX metadata.</summary>
    internal static FacadeJson Compact { get; } = new(new JsonSerializerOptions());

    /// <summary><see cref="ExperimentConfig.JsonOptions"/> (camelCase, indented, nothing ignored): configs in run records and checkpoints.</summary>
    internal static FacadeJson Run { get; } = new(new JsonSerializerOptions(global::NeuralPure.Facade.Runs.ExperimentConfig.JsonOptions));
}
