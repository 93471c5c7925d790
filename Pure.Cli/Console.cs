namespace NeuralPure.Cli;

/// <summary>An IProgress that reports on the caller's thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Formatting helpers for plain output.</summary>
internal static class Fmt
{
    public static string N(double v, int digits = 4) => double.IsFinite(v) ? v.ToString("F" + digits, System.Globalization.CultureInfo.InvariantCulture) : v.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public static string Rate(double v) => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
