using System.CommandLine;
using System.Globalization;
using NeuralPure.Facade.Data;

namespace NeuralPure.Cli;

/// <summary>The <c>neuralpure</c> command line. Internal, as everything in this assembly: a tool has no API (its PublicAPI files stay empty).</summary>
internal static class Program
{
    /// <summary>Exit code for usage errors (bad options).</summary>
    public const int Usage = 2;
    /// <summary>Exit code for data and I/O errors, and for diverged runs.</summary>
    public const int Failure = 1;
    /// <summary>Exit code when interrupted by Ctrl+C (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        // The commands that train compile the float kernels on the second core while they parse, read data and initialize
        // (NeuralPure.Kernels.KernelWarmup: no result changes; the first step no longer waits for the JIT).
        if (args.Length > 0 && args[0] is "train" or "resume" or "replay" or "sweep") _ = NeuralPure.Kernels.KernelWarmup.Start<float>();
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var root = new RootCommand("NeuralPure: train neural networks the way the textbook explains it, and prove every step.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ResumeCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(GradcheckCommand.Create());
        root.Subcommands.Add(DatasetsCommand.Create());
        root.Subcommands.Add(LessonCommand.Create());
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"neuralpure: {UnknownCommand(root, args) ?? Plain(parsed.Errors[0].Message)} (see --help)");
            return Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UsageException)
        {
            Console.Error.WriteLine($"neuralpure: {e.Message}");
            return Usage;
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"neuralpure: {OneLine(e)}");
            return Failure;
        }
    }

    /// <summary>A first word that is no command (System.CommandLine says only "Required command was not provided"): named, with
    /// the nearest command when one is a typo away, and the list.</summary>
    internal static string? UnknownCommand(RootCommand root, string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) return null;
        var names = root.Subcommands.Select(c => c.Name).ToList();
        if (names.Contains(args[0])) return null;
        var near = names.Select(n => (n, d: Distance(n, args[0]))).Where(x => x.d <= 2).OrderBy(x => x.d).Select(x => x.n).FirstOrDefault();
        return $"'{args[0]}' is not a command{(near is null ? "" : $"; did you mean '{near}'?")} (commands: {string.Join(", ", names)})";
    }

    /// <summary>System.CommandLine's parse errors without .NET type names: "as expected type 'System.UInt64'" says "as a whole number ≥ 0".</summary>
    internal static string Plain(string message) => message
        .Replace("as expected type 'System.UInt64'", "as a whole number ≥ 0", StringComparison.Ordinal)
        .Replace("as expected type 'System.Int32'", "as a whole number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Int64'", "as a whole number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Double'", "as a number", StringComparison.Ordinal)
        .Replace("as expected type 'System.Boolean'", "as true or false", StringComparison.Ordinal);

    /// <summary>Levenshtein distance (for the suggestion).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) d[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int previous = d[0]; d[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int t = d[j];
                d[j] = Math.Min(Math.Min(d[j] + 1, d[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = t;
            }
        }
        return d[b.Length];
    }

    internal static string OneLine(Exception e)
    {
        var m = e.Message;
        if (e is ArgumentException { ParamName: { } p }) m = m.Replace($" (Parameter '{p}')", "");
        return m.Replace('\n', ' ').Replace("\r", "");
    }
}

/// <summary>A usage error (bad option value): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
