using System.Globalization;

namespace NeuralPure.Properties.Support;

/// <summary>Runs code under a culture that writes numbers differently from the invariant one (the suite runs in
/// globalization-invariant mode, so named cultures such as de-DE are not available; a modified clone is).</summary>
public static class Cultures
{
    /// <summary><paramref name="f"/>'s result with the current culture writing 1.5 as "1,5" (and grouping with "."), restored after.</summary>
    public static T WithDecimalComma<T>(Func<T> f)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            return f();
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }
}
