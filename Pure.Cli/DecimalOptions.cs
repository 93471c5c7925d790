using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NeuralPure.Cli;

/// <summary>Floating-point options read as the help and the README write them: the invariant culture, a '.' for decimals and no
/// thousands separators. System.CommandLine's own parser is <c>double.TryParse</c> with thousands allowed, so under the invariant
/// culture it read <c>--lr 0,001</c> as 1 and <c>--lr 1,5</c> as 15; here a comma is refused, naming the option.</summary>
internal static class DecimalOptions
{
    /// <summary>The option, parsed with <see cref="NumberStyles.Float"/> and <see cref="CultureInfo.InvariantCulture"/>.</summary>
    public static Option<double> Decimal(this Option<double> option)
    {
        option.CustomParser = r => Parse(option.Name, r) ?? 0;
        return option;
    }

    /// <inheritdoc cref="Decimal(Option{double})"/>
    public static Option<double?> Decimal(this Option<double?> option)
    {
        option.CustomParser = r => Parse(option.Name, r);
        return option;
    }

    private static double? Parse(string name, ArgumentResult r)
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        r.AddError(text.Contains(',', StringComparison.Ordinal)
            ? $"{name}: '{text}' is not a number (use a '.' for decimals)"
            : $"{name}: '{text}' is not a number");
        return null;
    }
}
