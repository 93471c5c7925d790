using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace NeuralPure.Bench.Report;

/// <summary>The NativeAOT first-step child: <c>Pure.Bench/Aot</c> (the same <see cref="FirstStepChild"/>, compiled ahead of
/// time), published by the report for this machine before it measures anything.</summary>
internal static class AotChild
{
    /// <summary>The instruction set to compile for: what this process's JIT uses, so that the NativeAOT child runs the same
    /// kernels (native where AVX-512 is on; x86-64-v3, AVX2 and FMA, under <c>DOTNET_EnableAVX512=0</c>; x86-64-v2 or the
    /// x86-64 baseline below that; native on ARM64).</summary>
    internal static string InstructionSet() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 when Avx512F.IsSupported => "native",
        Architecture.X64 when Avx2.IsSupported && Fma.IsSupported => "x86-64-v3",
        Architecture.X64 when Sse42.IsSupported && Popcnt.IsSupported => "x86-64-v2",
        Architecture.X64 => "x86-64",
        _ => "native",
    };

    /// <summary>Publishes the child for this process's runtime identifier and <see cref="InstructionSet"/> (an incremental
    /// <c>dotnet publish</c>: about 10 s when only the native compile reruns) and returns its executable, or null and why not.</summary>
    public static (string? Executable, string Description) Publish()
    {
        string rid = RuntimeInformation.RuntimeIdentifier, isa = InstructionSet();
        string described = $"Pure.Bench/Aot published with NativeAOT for {rid}, instruction set {isa}";
        if (Project() is not { } project) return (null, $"{described}: not measured (Pure.Bench/Aot/Pure.Bench.Aot.csproj not found above {AppContext.BaseDirectory})");
        string output = Path.Combine(Path.GetDirectoryName(project)!, "bin", "publish", $"{rid}-{isa}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "publish", project, "-c", "Release", "-r", rid, $"-p:IlcInstructionSet={isa}", "-o", output, "-nologo", "-v", "quiet", "-clp:NoSummary" })
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string exe = Path.Combine(output, OperatingSystem.IsWindows() ? "Pure.Bench.Aot.exe" : "Pure.Bench.Aot");
            if (p.ExitCode != 0 || !File.Exists(exe))
            {
                string why = (stdout + stderr.Result).Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))?.Trim() ?? $"exit code {p.ExitCode}";
                return (null, $"{described}: not measured, the publish failed ({why})");
            }
            return (exe, described);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return (null, $"{described}: not measured, dotnet publish could not run ({e.Message})");
        }
    }

    /// <summary>Pure.Bench/Aot/Pure.Bench.Aot.csproj in the source tree this bench was built from (its bin folder is below Pure.Bench).</summary>
    private static string? Project()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "Aot", "Pure.Bench.Aot.csproj");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Pure.Bench.csproj"))) return candidate;
        }
        return null;
    }
}
