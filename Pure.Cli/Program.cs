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
            Console.Error.WriteLine($"neuralpure: {parsed.Errors[0].Message} (see --help)");
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

    internal static string OneLine(Exception e)
    {
        var m = e.Message;
        if (e is ArgumentException { ParamName: { } p }) m = m.Replace($" (Parameter '{p}')", "");
        return m.Replace('\n', ' ').Replace("\r", "");
    }
}

/// <summary>A usage error (bad option value): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
