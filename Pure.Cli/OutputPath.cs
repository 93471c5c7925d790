namespace NeuralPure.Cli;

/// <summary>Checks of an output path the user gave, before anything is read or written: a usage error (exit 2) naming the
/// option and what is wrong, where .NET would say "The value cannot be an empty string", "The file '…' already exists" or
/// "Could not find a part of the path" without naming either.</summary>
internal static class OutputPath
{
    /// <summary>A folder the command creates (or writes into): named, not a file, and under no file.</summary>
    public static void RequireFolder(string option, string path)
    {
        RequireNamed(option, path);
        if (File.Exists(path)) throw new UsageException($"{option} '{path}' is a file, not a folder");
        RequireNoFileAbove(option, path);
    }

    /// <summary>A file the command writes: named, not a folder, under no file, and in a folder that exists. Whether it may be
    /// replaced is <see cref="RequireNewOrForced"/>'s question.</summary>
    public static void RequireFile(string option, string path)
    {
        RequireNamed(option, path);
        if (Directory.Exists(path)) throw new UsageException($"{option} '{path}' is a folder; give a file name");
        RequireNoFileAbove(option, path);
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder)) throw new UsageException($"{option} '{path}': the folder '{folder}' does not exist");
    }

    /// <summary>Refuses an existing file unless <paramref name="force"/>.</summary>
    public static void RequireNewOrForced(string option, string path, bool force)
    {
        if (File.Exists(path) && !force) throw new UsageException($"{option} '{path}' already exists; pass --force to replace it");
    }

    private static void RequireNamed(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{option} is empty: give a path");
    }

    private static void RequireNoFileAbove(string option, string path)
    {
        for (var above = Path.GetDirectoryName(path); !string.IsNullOrEmpty(above); above = Path.GetDirectoryName(above))
            if (File.Exists(above)) throw new UsageException($"{option} '{path}': '{above}' is a file");
    }
}
