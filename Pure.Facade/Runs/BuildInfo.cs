using System.Reflection;

namespace NeuralPure.Facade.Runs;

/// <summary>Which NeuralPure this is: the version and the source commit the build came from (run records write both).</summary>
public static class BuildInfo
{
    private static readonly string Informational =
        typeof(NeuralPure.Models.Model).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The version, e.g. <c>0.1.0</c> (the informational version before its <c>+commit</c> suffix).</summary>
    public static string Number { get; } = Informational.Split('+')[0];

    /// <summary>The full commit id the core was built from (the SDK's SourceLink stamps it), or null when the build had no git.</summary>
    public static string? Commit { get; } = Informational.Split('+') is [_, var c, ..] && c.Length > 0 ? c : null;

    /// <summary>True when the build's working tree had uncommitted changes to tracked files (so the code is <see cref="Commit"/> plus
    /// changes), false when it was clean, null when unknown (no git at build time).</summary>
    public static bool? Modified { get; } =
        typeof(NeuralPure.Models.Model).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "SourceTreeDirty")?.Value switch
        {
            "true" => true,
            "false" => false,
            _ => null,
        };
}
