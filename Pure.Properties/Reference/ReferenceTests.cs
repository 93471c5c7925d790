using System.Collections.Immutable;
using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Reference;

/// <summary>NeuralPure in double against PyTorch's float64 values (losses, gradients, six optimizer steps).</summary>
public sealed class ReferenceTests
{
    private const double Rel = 1e-9;
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "pytorch-reference.json"))).RootElement;

    public static TheoryData<string> GradientCases()
    {
        var d = new TheoryData<string>();
        foreach (var c in Root.GetProperty("gradient_cases").EnumerateArray()) d.Add(c.GetProperty("name").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Loss_output_and_gradients_match_pytorch(string name)
    {
        var c = Root.GetProperty("gradient_cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var (spec, parameters, batch) = Build(c, c.GetProperty("layers"));
        var output = Model.Forward(spec, parameters, batch.X);
        AssertClose(Matrix(c.GetProperty("output")), output, "output");
        var (loss, grads) = Model.ValueAndGrad(spec, parameters, batch);
        AssertClose(c.GetProperty("loss_value").GetDouble(), loss, "loss");
        var expected = Tree(c.GetProperty("grads"));
        for (int i = 0; i < grads.Count; i++) AssertClose(expected[i], grads[i], grads.Names[i]);
    }

    public static TheoryData<string> Trajectories()
    {
        var d = new TheoryData<string>();
        foreach (var t in Root.GetProperty("trajectories").EnumerateArray()) d.Add(t.GetProperty("optimizer").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(Trajectories))]
    public void Six_optimizer_steps_match_pytorch(string optimizer)
    {
        var t = Root.GetProperty("trajectories").EnumerateArray().Single(e => e.GetProperty("optimizer").GetString() == optimizer);
        var h = t.GetProperty("hyperparameters");
        GradientTransform opt = optimizer switch
        {
            "sgd_momentum" => Optimizer.Momentum(h.GetProperty("lr").GetDouble(), h.GetProperty("momentum").GetDouble()),
            "adam" => Optimizer.Adam(h.GetProperty("lr").GetDouble(), h.GetProperty("beta1").GetDouble(), h.GetProperty("beta2").GetDouble(), h.GetProperty("eps").GetDouble()),
            "adamw" => Optimizer.AdamW(h.GetProperty("lr").GetDouble(), h.GetProperty("beta1").GetDouble(), h.GetProperty("beta2").GetDouble(), h.GetProperty("eps").GetDouble(), h.GetProperty("weight_decay").GetDouble()),
            _ => throw new InvalidOperationException(optimizer),
        };
        var (spec, parameters, batch) = Build(Root.GetProperty("trajectory_case"), t.GetProperty("start"));
        var state = opt.Init(parameters);
        foreach (var step in t.GetProperty("steps").EnumerateArray())
        {
            var (loss, grads) = Model.ValueAndGrad(spec, parameters, batch);
            AssertClose(step.GetProperty("loss_before").GetDouble(), loss, $"loss before step {step.GetProperty("step")}");
            var (updates, next) = opt.Update(grads, state, parameters);
            parameters = Optimizer.ApplyUpdates(parameters, updates);
            state = next;
            var expected = Tree(step.GetProperty("layers"));
            for (int i = 0; i < parameters.Count; i++) AssertClose(expected[i], parameters[i], $"{parameters.Names[i]} after step {step.GetProperty("step")}");
        }
    }

    internal static (ModelSpec, ParamTree<double>, Batch<double>) Build(JsonElement c, JsonElement layers)
    {
        var sizes = c.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var activation = ActivationSpec.Parse(c.GetProperty("activation").GetString()!);
        LossSpec loss = c.GetProperty("loss").GetString() switch
        {
            "cross_entropy" => new SoftmaxCrossEntropySpec(),
            "cross_entropy_weighted_smoothed" => new SoftmaxCrossEntropySpec(ImmutableArray.Create(0.5, 1.0, 2.0), 0.1),
            "bce_with_logits" => new BinaryCrossEntropySpec(),
            "mse" => new MseSpec(),
            "huber" => new HuberSpec(),
            var other => throw new InvalidOperationException(other),
        };
        var spec = ModelSpec.Mlp(sizes, activation, loss);
        var x = Matrix(c.GetProperty("x"));
        var yEl = c.GetProperty("y");
        NdArray<double> y = yEl[0].ValueKind == JsonValueKind.Array ? Matrix(yEl) : NdArray.Vector(yEl.EnumerateArray().Select(e => e.GetDouble()).ToArray());
        if (loss is BinaryCrossEntropySpec or MseSpec or HuberSpec && y.Rank == 1) y = y.Reshape(y.Length, 1);
        var tree = Tree(layers);
        return (spec, new ParamTree<double>(spec.ParameterNames, [.. tree]), new Batch<double>(x, y));
    }

    private static List<NdArray<double>> Tree(JsonElement layers)
    {
        var leaves = new List<NdArray<double>>();
        foreach (var l in layers.EnumerateArray())
        {
            leaves.Add(Matrix(l.GetProperty("W")));
            leaves.Add(NdArray.Vector(l.GetProperty("b").EnumerateArray().Select(e => e.GetDouble()).ToArray()));
        }
        return leaves;
    }

    internal static NdArray<double> Matrix(JsonElement rows) =>
        NdArray.FromRows<double>(rows.EnumerateArray().Select(r => (IReadOnlyList<double>)r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray());

    private static void AssertClose(double expected, double actual, string what)
    {
        double tol = Rel * Math.Max(1e-3, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R} (|Δ| = {Math.Abs(expected - actual):E2})");
    }

    private static void AssertClose(NdArray<double> expected, NdArray<double> actual, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double scale = expected.Span.ToArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = Rel * Math.Max(Math.Abs(expected[i]), 1e-6 * Math.Max(scale, 1e-3));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
