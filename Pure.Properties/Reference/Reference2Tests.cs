using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Reference;

/// <summary>NeuralPure in double against PyTorch 1.13.1's float64 trajectories of <c>pytorch-reference-2.json</c> (the cases implemented so far).</summary>
public sealed class Reference2Tests
{
    private const double Rel = 1e-9;
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "pytorch-reference-2.json"))).RootElement;

    private static JsonElement Case(string name) => Root.GetProperty("optimizer_cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);

    [Theory]
    [InlineData("sgd_mom0.9_damp0.5_lr0.1")]
    [InlineData("rmsprop_centered_lr0.01")]
    public void Optimizer_trajectories_match_pytorch(string name)
    {
        var c = Case(name);
        var h = c.GetProperty("hyperparameters");
        double D(string k) => h.GetProperty(k).GetDouble();
        GradientTransform opt = c.GetProperty("optimizer").GetString() switch
        {
            "sgd" => Optimizer.Sgd(D("lr"), D("weight_decay"), D("momentum"), D("dampening"), h.GetProperty("nesterov").GetBoolean()),
            "rmsprop" => Optimizer.RmsProp(D("lr"), D("alpha"), D("eps"), D("weight_decay"), D("momentum"), h.GetProperty("centered").GetBoolean()),
            var other => throw new InvalidOperationException(other),
        };
        Run(c, opt);
    }

    [Fact]
    public void Without_dampening_the_trajectory_leaves_the_pytorch_one()
    {
        // The case would pass with dampening ignored only if dampening did nothing: the same run with τ = 0 must miss it.
        var c = Case("sgd_mom0.9_damp0.5_lr0.1");
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Run(c, Optimizer.Sgd(0.1, 0, 0.9)));
    }

    private static void Run(JsonElement c, GradientTransform opt)
    {
        var problem = c.GetProperty("problem");
        var sizes = problem.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal("cross_entropy", problem.GetProperty("loss").GetString());
        var spec = ModelSpec.Mlp(sizes, ActivationSpec.Parse(problem.GetProperty("activation").GetString()!), new SoftmaxCrossEntropySpec());
        var batch = new Batch<double>(ReferenceTests.Matrix(problem.GetProperty("x")),
            NdArray.Vector(problem.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()).ToArray()));
        var parameters = Tree(spec, c.GetProperty("start"));
        var state = opt.Init(parameters);
        foreach (var step in c.GetProperty("steps").EnumerateArray())
        {
            var (loss, grads) = Model.ValueAndGrad(spec, parameters, batch);
            Close(step.GetProperty("loss_before").GetDouble(), loss, 1, $"loss before step {step.GetProperty("step")}");
            var (updates, next) = opt.Update(grads, state, parameters);
            parameters = Optimizer.ApplyUpdates(parameters, updates);
            state = next;
            var expected = Tree(spec, step.GetProperty("params"));
            for (int i = 0; i < parameters.Count; i++)
            {
                double scale = expected[i].Span.ToArray().Max(Math.Abs);
                for (int k = 0; k < expected[i].Length; k++)
                    Close(expected[i][k], parameters[i][k], scale, $"{parameters.Names[i]}[{k}] after step {step.GetProperty("step")}");
            }
        }
    }

    /// <summary>PyTorch's state dict {"0.weight", "0.bias", "2.weight", "2.bias"} in NeuralPure's parameter order.</summary>
    private static ParamTree<double> Tree(ModelSpec spec, JsonElement p)
    {
        var leaves = new List<NdArray<double>>();
        for (int layer = 0; layer < spec.Layers.Length; layer += 2)
        {
            leaves.Add(ReferenceTests.Matrix(p.GetProperty($"{layer}.weight")));
            leaves.Add(NdArray.Vector(p.GetProperty($"{layer}.bias").EnumerateArray().Select(e => e.GetDouble()).ToArray()));
        }
        return new ParamTree<double>(spec.ParameterNames, [.. leaves]);
    }

    private static void Close(double expected, double actual, double scale, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Rel * Math.Max(Math.Abs(expected), 1e-6 * Math.Max(scale, 1e-3)),
            $"{what}: expected {expected:R}, got {actual:R}");
}
