using System.Security.Cryptography;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Writes files atomically: the content goes to a temporary file in the same directory, is flushed to disk, and
/// then replaces the target in one rename, so readers see either the old file or the complete new one, never a part.
/// </summary>
/// <remarks>
/// The temporary file is named <c>.{file name}.{random}.tmp</c> and is deleted if anything fails before the rename.
/// The rename is atomic on the same volume on Linux, macOS and Windows (NTFS); the containing directory entry itself
/// is not fsync'ed, so after a power loss the rename may be lost, but the target is still never half-written.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Atomically creates or replaces a file with the given bytes.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="bytes">The complete new content.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="IOException">The file cannot be written; the message names the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory or file may not be written; the message names the path.</exception>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var (full, temp, stream) = Begin(path);
        try
        {
            using (stream)
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            Commit(full, temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Atomically creates or replaces a file with the given text, encoded as UTF-8 without a byte-order mark.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="text">The complete new content.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="IOException">The file cannot be written; the message names the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory or file may not be written; the message names the path.</exception>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
    }

    /// <summary>Atomically creates or replaces a file with whatever <paramref name="writer"/> writes to the stream it is given.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="writer">Writes the complete content; it must not dispose the stream. If it throws, the target is untouched and the exception propagates.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a directory.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="writer"/> disposed the stream.</exception>
    /// <exception cref="IOException">The file cannot be written; the message names the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory or file may not be written; the message names the path.</exception>
    public static void Write(string path, Action<Stream> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var (full, temp, stream) = Begin(path);
        try
        {
            using (stream)
            {
                writer(stream);
                if (!stream.CanWrite)
                {
                    throw new InvalidOperationException($"The writer for '{full}' disposed the stream; it must leave it open.");
                }

                stream.Flush(flushToDisk: true);
            }

            Commit(full, temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static (string Full, string Temp, FileStream Stream) Begin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        if (name.Length == 0 || Directory.Exists(full))
        {
            throw new ArgumentException($"'{path}' names a directory, not a file.", nameof(path));
        }

        string dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        string temp = Path.Combine(dir, $".{name}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            return (full, temp, stream);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UnauthorizedAccessException($"Cannot write '{full}': creating the temporary file '{temp}' was denied ({ex.Message})", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new DirectoryNotFoundException($"Cannot write '{full}': the directory '{dir}' does not exist.", ex);
        }
        catch (IOException ex)
        {
            throw new IOException($"Cannot write '{full}': creating the temporary file '{temp}' failed ({ex.Message})", ex);
        }
    }

    private static void Commit(string full, string temp)
    {
        try
        {
            File.Move(temp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UnauthorizedAccessException($"Cannot replace '{full}' with the new content ({ex.Message})", ex);
        }
        catch (IOException ex)
        {
            throw new IOException($"Cannot replace '{full}' with the new content ({ex.Message})", ex);
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // The original exception matters more; a stray temporary file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
