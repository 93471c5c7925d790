using NeuralPure.Facade.Data;
using NeuralPure.Facade.Runs;
using Xunit;

namespace NeuralPure.Properties.Facade.Runs;

/// <summary>Experiment.Plan: the config is checked once (a ValidatedConfig is the proof, and only Validate makes one), the
/// model, split, standardization, optimizer and fit options are built once, and Run on the plan is Run on the config.</summary>
public sealed class ExperimentPlanTests
{
    private static ExperimentConfig Iris(int epochs = 3) => new(Data: "iris", Layers: [8], LearningRate: 0.01, BatchSize: 16, Epochs: epochs, Threads: 1);

    [Fact]
    public void Only_Validate_makes_a_ValidatedConfig()
    {
        Assert.Empty(typeof(ValidatedConfig).GetConstructors());
        var v = Iris().Validate();
        Assert.Same(v.Config, v.Config);
        Assert.Equal(Iris(), v.Config);
    }

    [Fact]
    public void A_bad_option_is_refused_by_name_before_anything_is_built()
    {
        var data = BundledDataSets.Load("iris");
        var e = Assert.Throws<ArgumentException>(() => Experiment.Plan(Iris() with { LearningRate = -1 }, data));
        Assert.Contains("--lr must be a positive number, got -1", e.Message);
        var loss = Assert.Throws<ArgumentException>(() => Experiment.Plan(Iris() with { Loss = "mse" }, data));
        Assert.Contains("does not suit a classification task", loss.Message);
        // a linear model has no hidden layer to drop out of
        var dropout = Assert.Throws<ArgumentException>(() => (Iris() with { Layers = [], Dropout = 0.5 }).Validate());
        Assert.Equal("Dropout", dropout.ParamName);
        Assert.StartsWith("--dropout 0.5 acts on hidden layers, but --layers none is a linear model", dropout.Message);
        _ = (Iris() with { Layers = [] }).Validate();
    }

    [Fact]
    public void The_plan_holds_what_the_run_uses_and_running_it_equals_running_the_config()
    {
        var data = BundledDataSets.Load("iris");
        var plan = Experiment.Plan(Iris(), data);
        Assert.Equal(Experiment.BuildSpec(Iris(), data), plan.Spec);
        Assert.Equal(plan.Split.Train.Length, plan.Train.Rows);
        Assert.Equal(plan.Split.Test.Length, plan.Test!.Rows);
        Assert.Equal(3, plan.FitOptions.Epochs);
        Assert.False(plan.FitOptions.ReportIterations);
        Assert.Equal(Experiment.Run(Iris(), data).ParameterHash, Experiment.Run(plan).ParameterHash);
    }
}
