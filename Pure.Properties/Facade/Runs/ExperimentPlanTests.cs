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

    [Fact]
    public void Early_stopping_on_a_validation_split_that_rounds_to_no_row_is_refused_at_plan_time_with_the_counts()
    {
        var iris = BundledDataSets.Load("iris");
        var rows = new[] { 0, 1, 50, 100 }; // 4 rows of iris: 10% of them is 0.4 rows
        var small = new TabularData("four", iris.FeatureNames, iris.TargetName, iris.Task, 4, iris.Features,
            [.. rows.SelectMany(r => iris.GetRow(r).ToArray())], [.. rows.Select(r => iris.Y[r])], iris.Classes, iris.Sha256, iris.ClassNames);
        var e = Assert.Throws<ArgumentException>(() => Experiment.Plan(Iris() with { Data = "four", EarlyStopping = 2 }, small));
        Assert.Contains("--val-fraction 0.1 of 4 rows rounds to 0 validation rows (the split is 3 train, 0 validation, 1 test)", e.Message);
        Assert.NotNull(Experiment.Plan(Iris() with { Data = "four", EarlyStopping = 2, ValFraction = 0.2 }, small).Validation);
    }

    [Fact]
    public void Records_are_compared_by_value_not_by_spelling_and_a_last_bit_is_a_difference()
    {
        static System.Text.Json.Nodes.JsonNode J(string s) => System.Text.Json.Nodes.JsonNode.Parse(s)!;
        Assert.Empty(RunRecord.Differences(J("""{"eps":1E-08,"n":5,"s":"R\u00b2","big":18446744073709551615}"""), J("""{"eps":1e-08,"n":5.0,"s":"R²","big":18446744073709551615}""")));
        double x = 0.1;
        var d = RunRecord.Differences(J($$"""{"v":{{x:R}}}"""), J($$"""{"v":{{Math.BitIncrement(x):R}}}"""));
        Assert.Equal(["v: recorded 0.1, now 0.10000000000000002"], d);
        Assert.Single(RunRecord.Differences(J("""{"big":18446744073709551615}"""), J("""{"big":18446744073709551614}"""))); // beyond a double's 53 bits
        Assert.Single(RunRecord.Differences(J("""{"v":"1"}"""), J("""{"v":1}""")));
    }
}
