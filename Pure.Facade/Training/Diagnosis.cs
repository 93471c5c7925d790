using System.Collections.Immutable;

namespace NeuralPure.Facade.Training;

/// <summary>What a loss curve says about training.</summary>
public enum DiagnosisKind
{
    /// <summary>The loss falls, mostly monotonically.</summary>
    Steady,
    /// <summary>The loss jumps up and down: the learning rate is likely too high.</summary>
    Oscillating,
    /// <summary>The loss became NaN/∞ or grew far above its start.</summary>
    Diverged,
    /// <summary>The loss barely moves: the learning rate may be too low, or training has converged.</summary>
    Plateau,
    /// <summary>The validation loss rose again while the training loss kept falling: the network is fitting its training rows.</summary>
    Overfitting,
}

/// <summary>A diagnosis with its evidence.</summary>
/// <param name="Kind">The verdict.</param>
/// <param name="Summary">The verdict in words, e.g. "oscillating: learning rate likely too high".</param>
/// <param name="Evidence">Which epochs show it, in words.</param>
/// <param name="Epochs">The 1-based epochs the evidence names.</param>
public sealed record Diagnosis(DiagnosisKind Kind, string Summary, string Evidence, ImmutableArray<int> Epochs)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Summary} ({Evidence})";
}

/// <summary>Reads a per-epoch loss curve the way the lesson's quick check does.</summary>
/// <remarks>
/// Rules, applied in order to losses L₁…Lₙ (n ≥ 2), each ≥ 0 (every built-in loss is; the rules compare ratios, which a
/// negative loss turns around):
/// <list type="number">
/// <item>Diverged: some Lᵢ is NaN/∞, or L₁ &gt; 0 and Lₙ &gt; 10·L₁ (beyond any oscillation).</item>
/// <item>Oscillating: at least two rises Lᵢ &gt; 1.1·Lᵢ₋₁, and they make up at least a third of the n − 1 steps (wherever they
/// fall: the rule counts rises, it does not ask them to alternate with falls).
/// Network B [3.2, 0.1, 3.8, 0.2, 4.1, 0.15] rises at epochs 3 and 5.</item>
/// <item>Plateau: the total relative improvement (L₁ − Lₙ)/L₁ is below 1%.</item>
/// <item>Steady otherwise. Network A [3.2, 2.1, 1.4, 0.9, 0.5, 0.3] falls at every epoch.</item>
/// </list>
/// </remarks>
public static class HistoryDiagnosis
{
    /// <summary>Diagnoses training with a validation curve: as <see cref="Diagnose(IReadOnlyList{double})"/> on the validation losses,
    /// except that overfitting is named first when it shows.</summary>
    /// <remarks>Overfitting: the validation loss is lowest at an epoch b at least two epochs before the last, the last is at least
    /// 5% above that minimum, and the training loss fell from epoch b to the last. It began at epoch b + 1. (Fashion-MNIST with the
    /// README's command: lowest at epoch 5, higher at 20.)</remarks>
    /// <exception cref="ArgumentException">Fewer than two epochs, curves of different lengths, or a negative loss.</exception>
    public static Diagnosis Diagnose(IReadOnlyList<double> trainLosses, IReadOnlyList<double> validationLosses)
    {
        ArgumentNullException.ThrowIfNull(trainLosses); ArgumentNullException.ThrowIfNull(validationLosses);
        if (trainLosses.Count != validationLosses.Count)
            throw new ArgumentException($"the curves differ in length: {trainLosses.Count} training and {validationLosses.Count} validation losses", nameof(validationLosses));
        RequireNonNegative(trainLosses, nameof(trainLosses));
        var plain = Diagnose(validationLosses);
        if (plain.Kind == DiagnosisKind.Diverged || validationLosses.Any(v => !double.IsFinite(v)) || trainLosses.Any(v => !double.IsFinite(v))) return plain;
        int n = validationLosses.Count, best = 0;
        for (int i = 1; i < n; i++) if (validationLosses[i] < validationLosses[best]) best = i;
        double min = validationLosses[best], last = validationLosses[^1];
        if (best <= n - 3 && last >= 1.05 * min && trainLosses[^1] < trainLosses[best])
            return new Diagnosis(DiagnosisKind.Overfitting, $"overfitting since epoch {best + 2}: try early stopping (--early-stopping), dropout or weight decay",
                $"the validation loss was lowest at epoch {best + 1} ({min:G3}) and rose to {last:G3} at epoch {n}, while the training loss fell from {trainLosses[best]:G3} to {trainLosses[^1]:G3}",
                [best + 1, best + 2, n]);
        return plain;
    }

    /// <summary>The rises an oscillating verdict's evidence spells out; <see cref="Diagnosis.Epochs"/> has them all.</summary>
    private const int ShownRises = 5;

    /// <summary>Every value NaN, ±∞ (a divergence, diagnosed as such) or ≥ 0.</summary>
    private static void RequireNonNegative(IReadOnlyList<double> losses, string name)
    {
        for (int i = 0; i < losses.Count; i++)
            if (losses[i] < 0)
                throw new ArgumentException($"the loss is {losses[i]:G6} at epoch {i + 1}; the diagnosis reads losses ≥ 0 (every built-in loss is; a negative one, e.g. nll on outputs that are not log-probabilities, has no floor)", name);
    }

    /// <summary>Diagnoses a per-epoch loss curve.</summary>
    /// <exception cref="ArgumentException">Fewer than two losses, or a negative one.</exception>
    public static Diagnosis Diagnose(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        if (losses.Count < 2) throw new ArgumentException($"a diagnosis needs at least two epochs, got {losses.Count}", nameof(losses));
        RequireNonNegative(losses, nameof(losses));
        int bad = Enumerable.Range(0, losses.Count).FirstOrDefault(i => !double.IsFinite(losses[i]), -1);
        if (bad >= 0) return new Diagnosis(DiagnosisKind.Diverged, "diverged", $"the loss is {losses[bad]} at epoch {bad + 1}", [bad + 1]);
        double first = losses[0], last = losses[^1];
        if (first > 0 && last > 10 * first) return new Diagnosis(DiagnosisKind.Diverged, "diverged", $"the loss grew from {first:G3} at epoch 1 to {last:G3} at epoch {losses.Count}", [1, losses.Count]);

        var rises = Enumerable.Range(1, losses.Count - 1).Where(i => losses[i] > 1.1 * losses[i - 1]).ToList();
        if (rises.Count >= 2 && rises.Count * 3 >= losses.Count - 1)
        {
            var epochs = rises.Select(i => i + 1).ToImmutableArray();
            var detail = string.Join(", ", rises.Take(ShownRises).Select(i => $"{losses[i - 1]:G3}→{losses[i]:G3} at epoch {i + 1}"));
            string at = rises.Count <= ShownRises ? $"epochs {string.Join(", ", epochs)} ({detail})"
                : $"{rises.Count} of {losses.Count - 1} epochs ({detail}, …; the diagnosis's epochs list all {rises.Count})";
            return new Diagnosis(DiagnosisKind.Oscillating, "oscillating: learning rate likely too high", $"the loss rose at {at}", epochs);
        }
        double gain = first == 0 ? 0 : (first - last) / Math.Abs(first);
        if (gain < 0.01)
            return new Diagnosis(DiagnosisKind.Plateau, "plateau: learning rate may be too low, or training has converged",
                $"the loss moved from {first:G4} to {last:G4} over epochs 1–{losses.Count} ({gain:P1})", [1, losses.Count]);
        var falls = Enumerable.Range(1, losses.Count - 1).Count(i => losses[i] < losses[i - 1]);
        return new Diagnosis(DiagnosisKind.Steady, "steady", $"the loss fell at {falls} of {losses.Count - 1} epochs, from {first:G3} to {last:G3}", [1, losses.Count]);
    }
}
