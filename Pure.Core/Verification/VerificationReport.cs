using System.Collections.Immutable;
using System.Text;

namespace NeuralPure.Verification;

/// <summary>The outcome of one check of <see cref="Verify"/>.</summary>
/// <param name="Name">The check's name (<c>gradient vs central differences</c>, <c>pure vs in place</c>, …).</param>
/// <param name="Passed">True when the check found nothing wrong.</param>
/// <param name="Detail">What was found: on failure the worst entry (which array, which index, analytic against numeric
/// values, or which element differs and its two values); on success a short summary.</param>
/// <remarks>A value: two results with the same name, outcome and detail are equal.</remarks>
public sealed record CheckResult(string Name, bool Passed, string Detail)
{
    /// <summary>The check's name, checked non-empty.</summary>
    public string Name { get; } = !string.IsNullOrWhiteSpace(Name) ? Name : throw new ArgumentException("a check needs a name", nameof(Name));

    /// <summary>What was found (never null).</summary>
    public string Detail { get; } = Detail ?? "";

    /// <summary>One line: ✓ or ✗, the name, the detail.</summary>
    public override string ToString() => $"{(Passed ? "✓" : "✗")} {Name}: {Detail}";
}

/// <summary>What <see cref="Verify"/> found about one layer, loss or transform: one <see cref="CheckResult"/> per check.</summary>
/// <param name="Subject">What was verified, with the setting (shape, rows, seed).</param>
/// <param name="Checks">The checks in the order they are documented on <see cref="Verify"/>.</param>
/// <remarks>Equality is element by element over <see cref="Checks"/>.</remarks>
public sealed record VerificationReport(string Subject, ImmutableArray<CheckResult> Checks)
{
    /// <summary>What was verified.</summary>
    public string Subject { get; } = Subject ?? throw new ArgumentNullException(nameof(Subject));

    /// <summary>The checks, checked non-default and free of nulls.</summary>
    public ImmutableArray<CheckResult> Checks { get; } = !Checks.IsDefault && Checks.All(c => c is not null)
        ? Checks : throw new ArgumentException("a report's checks must not be default or contain null", nameof(Checks));

    /// <summary>True when every check passed.</summary>
    public bool Passed => Checks.All(c => c.Passed);

    /// <summary>The check called <paramref name="name"/>, or null when there is none.</summary>
    public CheckResult? this[string name] => Checks.FirstOrDefault(c => c.Name == name);

    /// <summary>A readable table: the subject and the verdict, then one line per check with ✓ or ✗, its name and its detail.</summary>
    public override string ToString()
    {
        int width = Checks.Length == 0 ? 0 : Checks.Max(c => c.Name.Length);
        var sb = new StringBuilder();
        sb.Append(Subject).Append(": ").Append(Passed ? "passed" : $"FAILED ({Checks.Count(c => !c.Passed)} of {Checks.Length} checks)");
        foreach (var c in Checks)
            sb.AppendLine().Append("  ").Append(c.Passed ? '✓' : '✗').Append(' ').Append(c.Name.PadRight(width)).Append("  ").Append(c.Detail);
        return sb.ToString();
    }

    /// <summary>Throws <see cref="VerificationException"/>, with <see cref="ToString"/> as its message, unless every check passed.</summary>
    /// <exception cref="VerificationException">A check failed.</exception>
    public void ThrowIfFailed()
    {
        if (!Passed) throw new VerificationException(ToString());
    }

    /// <summary>Same subject and the same checks in the same order.</summary>
    public bool Equals(VerificationReport? other) => other is not null && Subject == other.Subject && Checks.SequenceEqual(other.Checks);

    /// <inheritdoc/>
    public override int GetHashCode() => Checks.Aggregate(Subject.GetHashCode(StringComparison.Ordinal), (h, c) => HashCode.Combine(h, c));
}

/// <summary>Thrown by <see cref="VerificationReport.ThrowIfFailed"/> when a check failed; the message is the report's table.</summary>
public sealed class VerificationException : Exception
{
    /// <summary>An exception with a default message.</summary>
    public VerificationException() : base("verification failed") { }

    /// <summary>An exception with <paramref name="message"/> (the report's table).</summary>
    public VerificationException(string message) : base(message) { }

    /// <summary>An exception with <paramref name="message"/> caused by <paramref name="innerException"/>.</summary>
    public VerificationException(string message, Exception innerException) : base(message, innerException) { }
}
