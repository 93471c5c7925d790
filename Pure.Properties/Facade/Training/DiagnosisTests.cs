using NeuralPure.Facade.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Training;

public sealed class DiagnosisTests
{
    [Fact]
    public void The_lessons_networks_A_and_B()
    {
        var a = HistoryDiagnosis.Diagnose([3.2, 2.1, 1.4, 0.9, 0.5, 0.3]);
        Assert.Equal(DiagnosisKind.Steady, a.Kind);
        var b = HistoryDiagnosis.Diagnose([3.2, 0.1, 3.8, 0.2, 4.1, 0.15]);
        Assert.Equal(DiagnosisKind.Oscillating, b.Kind);
        Assert.Equal("oscillating: learning rate likely too high", b.Summary);
        Assert.Equal([3, 5], b.Epochs.ToArray());
    }

    [Fact]
    public void Diverged_and_plateau()
    {
        Assert.Equal(DiagnosisKind.Diverged, HistoryDiagnosis.Diagnose([1.0, 2.0, double.NaN]).Kind);
        Assert.Equal([3], HistoryDiagnosis.Diagnose([1.0, 2.0, double.NaN]).Epochs.ToArray());
        Assert.Equal(DiagnosisKind.Diverged, HistoryDiagnosis.Diagnose([1.0, 5.0, 30.0]).Kind);
        Assert.Equal(DiagnosisKind.Plateau, HistoryDiagnosis.Diagnose([1.0, 0.999, 0.998, 0.997]).Kind);
        Assert.Throws<ArgumentException>(() => HistoryDiagnosis.Diagnose([1.0]));
    }

    [Fact]
    public void Overfitting_is_named_with_the_epoch_it_began_when_validation_rises_while_training_falls()
    {
        // Fashion-MNIST's shape: validation lowest at epoch 5, then up; training falls throughout
        double[] train = [1.0, 0.6, 0.45, 0.38, 0.32, 0.27, 0.22, 0.18, 0.15, 0.12];
        double[] val = [0.9, 0.6, 0.48, 0.43, 0.41, 0.42, 0.44, 0.47, 0.5, 0.55];
        var d = HistoryDiagnosis.Diagnose(train, val);
        Assert.Equal(DiagnosisKind.Overfitting, d.Kind);
        Assert.StartsWith("overfitting since epoch 6", d.Summary);
        Assert.Contains("lowest at epoch 5 (0.41)", d.Evidence);
        Assert.Equal([5, 6, 10], d.Epochs.ToArray());
        // The validation curve alone read as before would not say so
        Assert.NotEqual(DiagnosisKind.Overfitting, HistoryDiagnosis.Diagnose(val).Kind);
    }

    [Theory]
    [InlineData(new[] { 1.0, 0.8, 0.6, 0.5, 0.4 }, new[] { 0.9, 0.7, 0.6, 0.55, 0.5 })]      // both fall: steady
    [InlineData(new[] { 1.0, 0.8, 0.6, 0.5, 0.4 }, new[] { 0.9, 0.7, 0.6, 0.61, 0.615 })]  // up < 5%: noise, not overfitting
    [InlineData(new[] { 1.0, 0.8, 0.6, 0.5, 0.4 }, new[] { 0.9, 0.7, 0.6, 0.55, 0.7 })]    // lowest one epoch before the end: too soon to say
    [InlineData(new[] { 1.0, 0.8, 0.6, 0.7, 0.9 }, new[] { 0.9, 0.5, 0.6, 0.7, 0.8 })]     // training rose too: not overfitting
    public void Overfitting_needs_a_rise_of_5_percent_two_epochs_after_the_best_while_training_falls(double[] train, double[] val) =>
        Assert.NotEqual(DiagnosisKind.Overfitting, HistoryDiagnosis.Diagnose(train, val).Kind);

    [Fact]
    public void The_rules_read_losses_of_at_least_zero_and_name_a_negative_one()
    {
        // a falling negative curve (nll on outputs that are not log-probabilities) is not a divergence: refused, with its epoch
        var e = Assert.Throws<ArgumentException>(() => HistoryDiagnosis.Diagnose([-1.0, -2.0, -3.0, -4.0]));
        Assert.Equal("losses", e.ParamName);
        Assert.Contains("the loss is -1 at epoch 1", e.Message);
        Assert.Equal("trainLosses", Assert.Throws<ArgumentException>(() => HistoryDiagnosis.Diagnose([1.0, -0.5], [1.0, 0.9])).ParamName);
        Assert.Equal("losses", Assert.Throws<ArgumentException>(() => HistoryDiagnosis.Diagnose([1.0, 0.8], [1.0, -0.1])).ParamName);
        // a curve that starts at 0 has no ratio to grow by: not diverged by the 10× rule
        Assert.NotEqual(DiagnosisKind.Diverged, HistoryDiagnosis.Diagnose([0.0, 1e-9]).Kind);
        Assert.Equal(DiagnosisKind.Diverged, HistoryDiagnosis.Diagnose([0.0, double.PositiveInfinity]).Kind);
    }

    [Fact]
    public void An_oscillating_verdict_spells_out_five_rises_and_lists_them_all_in_its_epochs()
    {
        var zigzag = Enumerable.Range(0, 41).Select(i => i % 2 == 0 ? 1.0 : 2.0).ToArray(); // rises at epochs 2, 4, …, 40
        var d = HistoryDiagnosis.Diagnose(zigzag);
        Assert.Equal(DiagnosisKind.Oscillating, d.Kind);
        Assert.Equal(Enumerable.Range(1, 20).Select(k => 2 * k), d.Epochs);
        Assert.StartsWith("the loss rose at 20 of 40 epochs (1→2 at epoch 2, ", d.Evidence);
        Assert.Equal(5, d.Evidence.Split("→").Length - 1);
        // it says where the rest are in words, not by a C# property's name ("all of them in Epochs")
        Assert.EndsWith(", …; the diagnosis's epochs list all 20)", d.Evidence);
        Assert.DoesNotContain("Epochs", d.Evidence);
        var few = HistoryDiagnosis.Diagnose([3.2, 0.1, 3.8, 0.2, 4.1, 0.15]);
        Assert.StartsWith("the loss rose at epochs 3, 5 (", few.Evidence);
    }

    [Fact]
    public void A_diverged_validation_curve_stays_diverged_and_curves_must_match_in_length()
    {
        Assert.Equal(DiagnosisKind.Diverged, HistoryDiagnosis.Diagnose([1.0, 0.5, 0.4], [1.0, 0.5, double.NaN]).Kind);
        Assert.Throws<ArgumentException>(() => HistoryDiagnosis.Diagnose([1.0, 0.5], [1.0, 0.5, 0.4]));
    }
}
