using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>Tests that redirect Console run one at a time.</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Runs <c>neuralpure</c> in process, capturing stdout, stderr and the exit code.</summary>
public static class CliRunner
{
    private static readonly object Gate = new();

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o); Console.SetError(e);
            try { return (NeuralPure.Cli.Program.Main(args), o.ToString(), e.ToString()); }
            finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
        }
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "np-cli-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(d);
        return d;
    }
}
