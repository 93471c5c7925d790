using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralPure.Cli;

/// <summary>The lists the command writes into and reads from checkpoint metadata (the class names), described at compile time
/// (System.Text.Json source generation) instead of by reflection, so that the command works the same published with NativeAOT.</summary>
/// <remarks>On a copy of JsonSerializer's defaults (compact, the default encoder): the bytes the reflection-based calls wrote.</remarks>
[JsonSerializable(typeof(ImmutableArray<string>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>JsonSerializer's defaults.</summary>
    internal static CliJson Compact { get; } = new(new JsonSerializerOptions());
}
