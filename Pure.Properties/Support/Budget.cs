using FsCheck.Xunit;

namespace NeuralPure.Properties.Support;

/// <summary>How many cases each property runs: the CI budget, 10× that when NEURALPURE_THOROUGH=1, or a quarter of it (at
/// least 5) when NEURALPURE_MUTATION=1 — the mutation run executes the covering tests once per mutant, and a mutant that the
/// suite catches is nearly always caught by its first cases; a score measured this way is a lower bound for the CI suite.</summary>
public static class Budget
{
    private static bool On(string name) => Environment.GetEnvironmentVariable(name) is "1" or "true" or "yes";

    /// <summary>True when the thorough mode is on.</summary>
    public static bool Thorough { get; } = On("NEURALPURE_THOROUGH");

    /// <summary>True under the mutation run's budget.</summary>
    public static bool Mutation { get; } = !Thorough && On("NEURALPURE_MUTATION");

    /// <summary>The number of cases for a property whose CI budget is <paramref name="ci"/>.</summary>
    public static int Cases(int ci) => Thorough ? ci * 10 : Mutation ? Math.Min(ci, Math.Max(5, ci / 4)) : ci;
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
