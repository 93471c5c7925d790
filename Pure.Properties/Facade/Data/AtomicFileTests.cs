using NeuralPure.Properties.Support;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Facade.Data;

public class AtomicFileTests
{
    private static string[] Leftovers(TempDir dir, string keep) =>
        [.. Directory.GetFiles(dir.Path).Select(Path.GetFileName).Where(n => n != keep)!];

    [Fact]
    public void Creates_and_replaces_files_leaving_no_temporary_files()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        AtomicFile.WriteAllBytes(path, [9]);
        Assert.Equal([9], File.ReadAllBytes(path));
        AtomicFile.WriteAllText(path, "héllo");
        Assert.Equal(Encoding.UTF8.GetBytes("héllo"), File.ReadAllBytes(path)); // no byte-order mark
        AtomicFile.Write(path, s => s.Write("streamed"u8));
        Assert.Equal("streamed", File.ReadAllText(path));
        Assert.Empty(Leftovers(dir, "out.bin"));
    }

    [Fact]
    public void Relative_paths_resolve_against_the_current_directory()
    {
        using var dir = new TempDir();
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), dir.File("rel.txt"));
        AtomicFile.WriteAllText(relative, "x");
        Assert.Equal("x", File.ReadAllText(dir.File("rel.txt")));
    }

    [Fact]
    public void A_failing_writer_leaves_the_old_file_untouched_and_its_exception_propagates()
    {
        using var dir = new TempDir();
        string path = dir.File("keep.txt");
        File.WriteAllText(path, "old");
        var boom = new InvalidTimeZoneException("boom");
        var thrown = Assert.Throws<InvalidTimeZoneException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]);
            throw boom;
        }));
        Assert.Same(boom, thrown);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Leftovers(dir, "keep.txt"));
    }

    [Fact]
    public void A_writer_that_disposes_the_stream_is_refused()
    {
        using var dir = new TempDir();
        string path = dir.File("x.txt");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("new"u8);
            s.Dispose();
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Leftovers(dir, "x.txt"));
    }

    [Fact]
    public void Unwritable_targets_give_errors_naming_the_path()
    {
        using var dir = new TempDir();
        string missing = Path.Combine(dir.Path, "no", "such", "dir", "f.txt");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllText(missing, "x"));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);

        string file = dir.File("plain");
        File.WriteAllText(file, "x");
        string underFile = Path.Combine(file, "child.txt");
        var io = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(underFile, "x"));
        Assert.Contains(underFile, io.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => AtomicFile.WriteAllText(dir.Path, "x"));
        Assert.Throws<ArgumentException>(() => AtomicFile.WriteAllText("", "x"));
    }

    [Fact]
    public void A_read_only_directory_is_reported_with_the_path_unless_running_as_root()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempDir();
        string ro = Path.Combine(dir.Path, "ro");
        Directory.CreateDirectory(ro);
        File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            string path = Path.Combine(ro, "f.txt");
            try
            {
                AtomicFile.WriteAllText(path, "x");
                Assert.Equal("x", File.ReadAllText(path)); // root ignores permissions: the write must then be complete
            }
            catch (UnauthorizedAccessException ex)
            {
                Assert.Contains(path, ex.Message, StringComparison.Ordinal);
                Assert.Empty(Directory.GetFiles(ro));
            }
        }
        finally
        {
            File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Law(25)] // each case fsyncs a file
    public Property Whatever_is_written_is_read_back() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            using var dir = new TempDir();
            string path = dir.File("p.bin");
            AtomicFile.WriteAllBytes(path, bytes ?? []);
            return File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes ?? []) && Directory.GetFiles(dir.Path).Length == 1;
        });
}
