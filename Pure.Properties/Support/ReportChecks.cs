using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Support;

/// <summary>Helpers for the tests that hand the verification kit a broken op: which checks failed, the numbers in a detail,
/// and the write through a read-only span that a broken op does.</summary>
public static class ReportChecks
{
    /// <summary>The report failed on exactly the checks named <paramref name="failing"/>.</summary>
    public static void OnlyFails(VerificationReport r, params string[] failing)
    {
        Assert.False(r.Passed, r.ToString());
        foreach (var c in r.Checks) Assert.True(c.Passed != failing.Contains(c.Name), r.ToString());
    }

    /// <summary>The groups of <paramref name="pattern"/> in <paramref name="detail"/> (group 0 is the whole match), which must match.</summary>
    public static string[] Matched(string detail, [StringSyntax(StringSyntaxAttribute.Regex)] string pattern)
    {
        var m = Regex.Match(detail, pattern);
        Assert.True(m.Success, $"{detail}\n does not match\n{pattern}");
        return [.. m.Groups.Cast<Group>().Select(g => g.Value)];
    }

    /// <summary>A number as the kit writes it (round-trip, invariant).</summary>
    public static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>The kit's text for a number.</summary>
    public static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>What a read-only span is there to prevent, done anyway (a broken op that writes its input).</summary>
    public static Span<T> Writable<T>(ReadOnlySpan<T> s) => MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(s), s.Length);
}
