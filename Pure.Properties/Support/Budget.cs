using FsCheck.Xunit;

namespace NeuralPure.Properties.Support;

/// <summary>How many cases each property runs: the CI budget, or 10× that when NEURALPURE_THOROUGH=1.</summary>
public static class Budget
{
    /// <summary>True when the thorough mode is on.</summary>
    public static bool Thorough { get; } = Environment.GetEnvironmentVariable("NEURALPURE_THOROUGH") is "1" or "true" or "yes";

    /// <summary>The number of cases for a property whose CI budget is <paramref name="ci"/>.</summary>
    public static int Cases(int ci) => Thorough ? ci * 10 : ci;
}

/// <summary>An FsCheck property with the project's budget: <c>[Law(100)]</c> runs 100 cases in CI and 1000 in thorough mode.
/// A failure prints the counterexample and the Replay seed, as FsCheck always does.</summary>
public sealed class LawAttribute : PropertyAttribute
{
    /// <summary>A property with <paramref name="cases"/> cases in CI.</summary>
    public LawAttribute(int cases = 100)
    {
        MaxTest = Budget.Cases(cases);
        QuietOnSuccess = true;
    }
}
