using NeuralPure.Bench.Report;

namespace NeuralPure.Bench;

/// <summary>Pure.Bench: <c>report [--json] [--quick]</c> prints the training-step table for configs a–d and the CNN;
/// <c>compare-torch [--quick]</c> sets NeuralPure beside Debian's PyTorch in the same run; <c>step-rate cfg [threads]
/// [windows]</c> times one config's fold step alone (to compare two builds run in turn); anything else goes
/// to BenchmarkDotNet (e.g. <c>--filter '*' --job dry --inProcess</c> for the smoke run, <c>--filter '*Kernels*'</c>).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "report") return Report.Report.Run(args[1..]);
        if (args.Length > 0 && args[0] == "compare-torch") return Report.CompareTorch.Run(args[1..]);
        if (args.Length > 0 && args[0] == "elementary-grid") return Report.ElementaryGrid.Run(args[1..]);
        if (args.Length == 2 && args[0] == "first-step") return Report.FirstStepChild.Run(args[1]);
        if (args.Length > 0 && args[0] == "step-rate") return Report.Report.StepRate(args[1..]);
        return RunBenchmarks(args);
    }

    /// <summary>BenchmarkDotNet in a method of its own: Main's code then does not load that assembly (a first-step child's start).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int RunBenchmarks(string[] args)
    {
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
