using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;
using Xunit;

namespace NeuralPure.Properties.Reliability;

/// <summary><c>dotnet neuralpure.dll …</c> as a real child process, to kill with real signals.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();

    private CliProcess(Process p)
    {
        _process = p;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_err) _err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout { get { lock (_out) return _out.ToString(); } }

    public string Stderr { get { lock (_err) return _err.ToString(); } }

    /// <summary>The CLI the tests run: the neuralpure.dll copied next to the test assembly (it is a project reference), else the one
    /// in Pure.Cli/bin/&lt;configuration&gt;/net10.0 found by walking up to the solution.</summary>
    public static string CliDll { get; } = LocateCli();

    private static string LocateCli()
    {
        string here = Path.Combine(AppContext.BaseDirectory, "neuralpure.dll");
        if (File.Exists(here) && File.Exists(Path.Combine(AppContext.BaseDirectory, "neuralpure.runtimeconfig.json"))) return here;
        string config = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release"; // …/bin/<config>/net10.0/
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "NeuralPure.sln"))) continue;
            foreach (var c in new[] { config, "Release", "Debug" })
            {
                string p = Path.Combine(d.FullName, "Pure.Cli", "bin", c, "net10.0", "neuralpure.dll");
                if (File.Exists(p)) return p;
            }
        }
        throw new FileNotFoundException($"neuralpure.dll is neither next to the tests ({AppContext.BaseDirectory}) nor under Pure.Cli/bin; build Pure.Cli first");
    }

    /// <summary>GNU env can reset SIGINT to its default before exec. A child inherits an ignored SIGINT (background jobs of
    /// non-interactive shells start so), and .NET then leaves it ignored; the SIGINT test must not depend on how CI was started.</summary>
    private static readonly bool EnvResetsSigint = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env") && Probe();

    private static bool Probe()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/env", ["--default-signal=INT", "true"]) { RedirectStandardError = true })!;
            p.WaitForExit(10_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    public static CliProcess Start(string workingDirectory, params string[] args)
    {
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var psi = EnvResetsSigint ? new ProcessStartInfo("/usr/bin/env", ["--default-signal=INT", dotnet, CliDll, .. args])
                                  : new ProcessStartInfo(dotnet, [CliDll, .. args]);
        psi.WorkingDirectory = workingDirectory;
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true; // never attached to the test's console
        psi.UseShellExecute = false;
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return new CliProcess(Process.Start(psi)!);
    }

    /// <summary>SIGKILL: no handler runs, no finally block, nothing flushed.</summary>
    public void Kill9()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(30_000);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int sig);

    public void Signal(int signal)
    {
        if (SysKill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public int WaitForExit(int seconds = 120)
    {
        if (!_process.WaitForExit(seconds * 1000))
        {
            Kill9();
            Assert.Fail($"neuralpure did not finish within {seconds} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>Reads a run folder the way a user (or resume) would, checking that every file in it is complete.</summary>
internal static class RunFolder
{
    public static string Checkpoint(string dir) => Path.Combine(dir, "checkpoint.safetensors");

    /// <summary>The checkpoint's progress, or null while there is none or (never, if writes are atomic) it cannot be read.</summary>
    public static FitCheckpoint? TryCheckpoint(string dir)
    {
        try { return File.Exists(Checkpoint(dir)) ? FitCheckpoint.Read(Checkpoint(dir)) : null; }
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>Every file the CLI writes that exists parses and validates completely: the checkpoint (safetensors, SHA-256 of its
    /// tensors, every fact consistent), the model (safetensors, metadata, shapes, finite values), the run record (JSON with the
    /// parameter hash) and the plot (a whole SVG document). Stray temporary files are allowed: they are what a kill in the middle
    /// of an atomic write leaves, never a target; so is the run folder's lock file, which a kill leaves unlocked.</summary>
    public static void AssertNothingTruncated(string dir, string when)
    {
        foreach (var f in Directory.EnumerateFiles(dir))
        {
            string name = Path.GetFileName(f);
            try
            {
                switch (name)
                {
                    case "checkpoint.safetensors": FitCheckpoint.Read(f); break;
                    case "model.safetensors": ModelFile.Load(f); break;
                    case "run.json": RunRecord.Read(f); _ = JsonNode.Parse(File.ReadAllText(f)); break;
                    case "loss.svg": Assert.EndsWith("</svg>", File.ReadAllText(f).TrimEnd()); break;
                    case ".neuralpure.lock": break; // a SIGKILL leaves the lock file (the lock itself dies with the process)
                    default: Assert.True(name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal), $"unexpected file {name}"); break;
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"{when}: {name} is not complete: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    public static string RecordedHash(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run.json")))!["parameters"]!["sha256"]!.GetValue<string>();

    public static string Status(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run.json")))!["status"]!.GetValue<string>();

    /// <summary>Polls until <paramref name="done"/> holds for the checkpoint, or the process exits, or the time is up.</summary>
    public static FitCheckpoint? WaitFor(string dir, CliProcess p, Func<FitCheckpoint, bool> done, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        (DateTime, long) seen = default;
        FitCheckpoint? c = null;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            var info = new FileInfo(Checkpoint(dir));
            var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : default;
            if (stamp != seen) // parse only a new file: the poll must not steal the child's CPU
            {
                seen = stamp;
                c = TryCheckpoint(dir);
                if (c is not null && done(c)) return c;
            }
            if (p.HasExited) return c;
            Thread.Sleep(3);
        }
        Assert.Fail($"no matching checkpoint within {seconds} s\nstdout:\n{p.Stdout}\nstderr:\n{p.Stderr}");
        return null;
    }
}
