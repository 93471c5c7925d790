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
}
