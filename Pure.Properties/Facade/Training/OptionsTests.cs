using NeuralPure.Facade.Training;
using NeuralPure.Optimizers;
using Xunit;

namespace NeuralPure.Properties.Facade.Training;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_documented_ones()
    {
        var o = new OptimizerOptions();
        Assert.Equal("adam", o.Name);
        Assert.Equal(1e-3, o.LearningRate);
        Assert.Equal(0.01, new OptimizerOptions("adamw").EffectiveWeightDecay);
        Assert.Equal(0.9, new OptimizerOptions("momentum").EffectiveMomentum);
        Assert.Equal(Optimizer.AdamW(1e-3), new OptimizerOptions("adamw").Build(100));
        Assert.Equal(GradientTransform.Chain(new ClipByGlobalNorm(1), Optimizer.Adam(1e-3)), new OptimizerOptions(ClipNorm: 1).Build(100));
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("cosine")]
    [InlineData("warmup-cosine")]
    [InlineData("step")]
    [InlineData("exponential")]
    [InlineData("onecycle")]
    public void Every_schedule_starts_positive_and_stays_finite(string name)
    {
        var s = new OptimizerOptions(LearningRate: 0.1, Schedule: name).BuildSchedule(100);
        for (long t = 0; t < 120; t++) Assert.True(double.IsFinite(s.At(t)) && s.At(t) >= 0, $"{name} at {t}: {s.At(t)}");
        Assert.True(s.At(1) > 0);
        if (name != "warmup-cosine") Assert.True(s.At(0) > 0);   // warm-up starts at 0, as optax's warmup_cosine_decay_schedule
    }

    [Fact]
    public void Bad_options_throw_naming_the_option()
    {
        Assert.Contains("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizerOptions(LearningRate: 0)).ParamName);
        Assert.Contains("Schedule", Assert.Throws<ArgumentException>(() => new OptimizerOptions(Schedule: "nope").BuildSchedule(10)).ParamName);
        Assert.Throws<ArgumentException>(() => new OptimizerOptions("lbfgs").Build(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(Patience: 0));
    }
}
