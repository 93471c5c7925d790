using System.Globalization;

namespace NeuralPure.Cli;

/// <summary>A run folder held by this process for the length of a run: created atomically under a unique default name, or
/// the user's <c>--out</c>, with a lock file that refuses a second live run (train or resume) in the same folder.</summary>
/// <remarks>The lock is <c>.neuralpure.lock</c> opened with <see cref="FileShare.None"/> (an advisory <c>flock</c> on Linux and
/// macOS, a share lock on Windows), so a run killed with SIGKILL leaves a file but no lock: the next run takes it. It is removed
/// when the run ends.</remarks>
internal sealed class RunFolder : IDisposable
{
    internal const string LockFileName = ".neuralpure.lock";

    /// <summary>The files a run writes; <c>--force</c> moves these aside (and deletes their stray temporaries) before the new run starts.</summary>
    internal static readonly string[] Outputs = [TrainCommand.CheckpointFileName, "model.safetensors", "run.json", "loss.svg"];

    /// <summary>Where <c>--force</c> keeps the run it replaces until the new run's outputs are written (then it is deleted; if the
    /// new run fails, it is moved back).</summary>
    internal const string ReplacedFolderName = ".neuralpure-replaced";

    private readonly FileStream _lock;

    /// <summary>The folder holding the replaced run while this (forced) run has not written its outputs, or null.</summary>
    private string? _replaced;

    private RunFolder(string path, FileStream lockStream, string? replaced = null) { Path = path; _lock = lockStream; _replaced = replaced; }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A new folder <c>runs/&lt;data&gt;-&lt;yyyyMMdd-HHmmss&gt;</c> (then <c>-2</c>, <c>-3</c>, … when that name is taken, even by a
    /// run started the same second in another process).</summary>
    public static RunFolder CreateDefault(string dataName, DateTime now)
    {
        string stem = System.IO.Path.Combine("runs", $"{dataName}-{now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        for (int n = 1; n <= 10_000; n++)
        {
            string candidate = n == 1 ? stem : $"{stem}-{n}";
            if (Directory.Exists(candidate) && Directory.EnumerateFileSystemEntries(candidate).Any()) continue;
            Directory.CreateDirectory(candidate);
            var held = TryLock(candidate);
            if (held is null) continue;
            // another process may have created the same folder and finished writing into it before we locked it
            if (Directory.EnumerateFileSystemEntries(candidate).Any(e => System.IO.Path.GetFileName(e) != LockFileName)) { Release(candidate, held); continue; }
            return new RunFolder(candidate, held);
        }
        throw new IOException($"cannot find a free run folder name under '{stem}'; pass --out");
    }

    /// <summary>The user's folder: refused while another run holds it, refused when it holds files unless <paramref name="force"/>,
    /// in which case the previous run's outputs are moved into <see cref="ReplacedFolderName"/>: deleted by <see cref="Commit"/>
    /// once the new run's outputs are written (so nothing of it, a checkpoint least of all, outlives it), moved back by
    /// <see cref="Dispose"/> when the new run failed before that.</summary>
    public static RunFolder Claim(string path, bool force)
    {
        try { Directory.CreateDirectory(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"cannot write to output folder '{path}': {e.Message}", e); }
        var held = TryLock(path) ?? throw new IOException($"another neuralpure run is writing to '{path}' ({Holder(path)}); wait for it to end or choose another --out");
        try
        {
            var others = Directory.EnumerateFileSystemEntries(path).Where(e => System.IO.Path.GetFileName(e) != LockFileName).ToList();
            if (others.Count > 0 && !force) throw new IOException($"output folder '{path}' already exists; pass --force to replace the run in it");
            return new RunFolder(path, held, force ? MoveAside(path) : null);
        }
        catch { Release(path, held); throw; }
    }

    /// <summary>A sweep trial's folder, created if missing and locked whatever it holds: the sweep decides under the lock whether it
    /// is a finished, resumable or new trial (or someone else's folder, which it refuses).</summary>
    public static RunFolder Hold(string path)
    {
        try { Directory.CreateDirectory(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new IOException($"cannot write to trial folder '{path}': {e.Message}", e); }
        return new(path, TryLock(path) ?? throw new IOException($"another neuralpure run is writing to '{path}' ({Holder(path)}); is the same trial running elsewhere?"));
    }

    /// <summary>A held folder whose run starts again (a sweep trial that did not finish and cannot resume): its outputs are moved
    /// aside as <see cref="Claim"/> moves them for <c>--force</c>, deleted by <see cref="Commit"/> once the new run's are written,
    /// moved back by <see cref="Dispose"/> if it fails before that.</summary>
    public void SetAside() => _replaced = MoveAside(Path);

    /// <summary>An existing run folder for <c>resume</c>: refused while another run holds it.</summary>
    public static RunFolder Reopen(string path) =>
        new(path, TryLock(path) ?? throw new IOException($"another neuralpure run is writing to '{path}' ({Holder(path)}); resume it when that run has ended"));

    /// <summary>Moves the run outputs in <paramref name="path"/> into its <see cref="ReplacedFolderName"/> (their temporaries are
    /// deleted) and returns that folder, or null when there were none. One left by a forced run that was killed is taken as it
    /// is: if that run wrote its record, it had replaced the run kept there, which is deleted; if not, the run kept there is the
    /// last one that finished, so it stays kept and the killed run's partial outputs are deleted.</summary>
    private static string? MoveAside(string path)
    {
        var aside = System.IO.Path.Combine(path, ReplacedFolderName);
        if (Directory.Exists(aside))
        {
            if (!File.Exists(System.IO.Path.Combine(path, "run.json"))) { ClearOutputs(path); return aside; }
            Directory.Delete(aside, recursive: true);
        }
        var present = Outputs.Where(name => File.Exists(System.IO.Path.Combine(path, name))).ToList();
        if (present.Count > 0) Directory.CreateDirectory(aside);
        foreach (var name in present) File.Move(System.IO.Path.Combine(path, name), System.IO.Path.Combine(aside, name));
        ClearOutputs(path); // what is left: temporaries a killed run left
        return present.Count > 0 ? aside : null;
    }

    /// <summary>The run's outputs are written: the run a <c>--force</c> replaced (or one a killed forced run left kept, which
    /// <c>resume</c> has now finished replacing) is deleted.</summary>
    public void Commit()
    {
        var aside = System.IO.Path.Combine(Path, ReplacedFolderName);
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
        _replaced = null;
    }

    /// <summary>The forced run failed before its outputs were written: its partial outputs are deleted and the replaced run's
    /// moved back. If that fails, the replaced run stays where it is, and stderr says where.</summary>
    private void Restore(string aside)
    {
        try
        {
            ClearOutputs(Path);
            foreach (var file in Directory.EnumerateFiles(aside)) File.Move(file, System.IO.Path.Combine(Path, System.IO.Path.GetFileName(file)));
            Directory.Delete(aside);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"neuralpure: could not put the replaced run back ({e.Message}); its files are in '{aside}'");
        }
    }

    /// <summary>Deletes the run outputs (and their temporaries) in <paramref name="path"/>; other files are left alone.</summary>
    private static void ClearOutputs(string path)
    {
        foreach (var name in Outputs)
        {
            var file = System.IO.Path.Combine(path, name);
            if (File.Exists(file)) File.Delete(file);
            foreach (var tmp in Directory.EnumerateFiles(path, $".{name}.*.tmp")) TryDelete(tmp);
        }
    }

    private static FileStream? TryLock(string folder)
    {
        var file = System.IO.Path.Combine(folder, LockFileName);
        try
        {
            var s = new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            s.SetLength(0);
            var text = System.Text.Encoding.UTF8.GetBytes($"pid {Environment.ProcessId} since {DateTime.UtcNow:O}\n");
            s.Write(text);
            s.Flush();
            return s;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException e) { throw new IOException($"cannot write to output folder '{folder}': {e.Message}", e); }
    }

    private static string Holder(string folder)
    {
        try
        {
            using var s = new FileStream(System.IO.Path.Combine(folder, LockFileName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            return r.ReadLine() is { Length: > 0 } line ? line : "lock held";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "lock held"; }
    }

    private static void Release(string folder, FileStream held)
    {
        held.Dispose();
        TryDelete(System.IO.Path.Combine(folder, LockFileName));
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Puts back the run a failed forced run replaced (see <see cref="Claim"/>), releases the lock and removes its file.</summary>
    public void Dispose()
    {
        if (_replaced is { } aside) Restore(aside);
        _replaced = null;
        Release(Path, _lock);
    }
}
