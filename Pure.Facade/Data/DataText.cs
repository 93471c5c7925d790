using System.Globalization;
using System.Text;

namespace NeuralPure.Facade.Data;

/// <summary>Small helpers for building error messages that quote untrusted text safely.</summary>
internal static class DataText
{
    /// <summary>The longest piece of untrusted text quoted in a message before it is cut.</summary>
    public const int MaxQuoted = 60;

    /// <summary>Quotes text in single quotes, escaping control characters and cutting it to a readable length.</summary>
    public static string Quote(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, MaxQuoted) + 8);
        sb.Append('\'');
        int shown = 0;
        foreach (char c in text)
        {
            if (shown == MaxQuoted)
            {
                sb.Append("...");
                break;
            }

            if (char.IsControl(c))
            {
                sb.Append(c switch
                {
                    '\t' => "\\t",
                    '\r' => "\\r",
                    '\n' => "\\n",
                    _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                });
            }
            else
            {
                sb.Append(c);
            }

            shown++;
        }

        sb.Append('\'');
        if (text.Length > MaxQuoted)
        {
            sb.Append(CultureInfo.InvariantCulture, $" ({text.Length} characters)");
        }

        return sb.ToString();
    }

    /// <summary>Quotes UTF-8 bytes (invalid sequences shown as U+FFFD), cutting long input before decoding it.</summary>
    public static string Quote(ReadOnlySpan<byte> utf8)
    {
        // Decode at most a few more bytes than will be shown, so a huge field costs nothing.
        int take = Math.Min(utf8.Length, (MaxQuoted * 4) + 4);
        string head = Encoding.UTF8.GetString(utf8[..take]);
        if (take == utf8.Length)
        {
            return Quote(head);
        }

        string cut = head.Length > MaxQuoted ? head[..MaxQuoted] : head;
        return Quote(cut)[..^1] + string.Create(CultureInfo.InvariantCulture, $"...' ({utf8.Length} bytes)");
    }

    /// <summary>Lists names for an error message, eliding the middle of very long lists.</summary>
    public static string List(IReadOnlyList<string> names, int max = 40)
    {
        if (names.Count == 0)
        {
            return "(none)";
        }

        var shown = names.Count <= max ? names : names.Take(max).ToList();
        string joined = string.Join(", ", shown.Select(Quote));
        return names.Count <= max
            ? joined
            : joined + string.Create(CultureInfo.InvariantCulture, $", ... ({names.Count - max} more)");
    }

    /// <summary>Formats a byte count for a message.</summary>
    public static string Bytes(long n) => n == 1 ? "1 byte" : n.ToString(CultureInfo.InvariantCulture) + " bytes";

    /// <summary>Formats a number with the invariant culture.</summary>
    public static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
