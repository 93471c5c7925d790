using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Reference;

/// <summary>NeuralPure in double against PyTorch 1.13.1's float64 optimizer trajectories of <c>pytorch-reference-2.json</c>: every
/// case, through the pure update, through <see cref="Trainer.Step{T}"/> and through the fold (<see cref="Trainer.Fit{T}(ModelSpec, GradientTransform, TrainState{T}, DataSet{T}, TrainConfig, NeuralPure.Kernels.Parallelism?)"/>).</summary>
public sealed class Reference2Tests
{
    private const double Rel = 1e-9;
    /// <summary>The shared file's cases, and ours made the same way (make-reference-rmsprop.py: RMSprop centred with momentum, and with decay).</summary>
    private static readonly JsonElement[] Cases = [.. new[] { "pytorch-reference-2.json", "pytorch-reference-rmsprop.json" }.SelectMany(f =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", f))).RootElement.GetProperty("optimizer_cases").EnumerateArray())];

    private static JsonElement Case(string name) => Cases.Single(e => e.GetProperty("name").GetString() == name);

    public static TheoryData<string> OptimizerCases()
    {
        var d = new TheoryData<string>();
        foreach (var c in Cases) d.Add(c.GetProperty("name").GetString()!);
        d.Add("amsgrad_adam_lr0.05_b0.9_0.5/plain");
        d.Add("adamw_groups_wd_weights_only/WithoutDecayOn");
        return d;
    }

    /// <summary>The optimizer a case describes, and its micro-batches per update (1 unless the case accumulates).</summary>
    private static (GradientTransform Optimizer, int MicroBatches, JsonElement Case) Build(string name)
    {
        var parts = name.Split('/');
        var c = Case(parts[0]);
        var variant = parts.Length > 1 ? parts[1] : null;
        var h = variant == "plain" ? c.GetProperty("plain").GetProperty("hyperparameters") : c.GetProperty("hyperparameters");
        double D(string k) => h.GetProperty(k).GetDouble();
        double Beta(int i) => h.GetProperty("betas")[i].GetDouble();
        int micro = c.TryGetProperty("accumulation", out var acc) ? acc.GetProperty("micro_batches").GetInt32() : 1;
        GradientTransform opt = c.GetProperty("optimizer").GetString() switch
        {
            "sgd" => Optimizer.Sgd(D("lr"), D("weight_decay"), D("momentum"), D("dampening"), h.GetProperty("nesterov").GetBoolean()),
            "rmsprop" => Optimizer.RmsProp(D("lr"), D("alpha"), D("eps"), D("weight_decay"), D("momentum"), h.GetProperty("centered").GetBoolean()),
            "adagrad" => Optimizer.Adagrad(D("lr"), D("lr_decay"), D("weight_decay"), D("initial_accumulator_value"), D("eps")),
            "adam" => Optimizer.Adam(D("lr"), Beta(0), Beta(1), D("eps"), D("weight_decay"), h.GetProperty("amsgrad").GetBoolean()),
            "lion" => Optimizer.Lion(D("lr"), D("beta1"), D("beta2"), D("weight_decay")),
            "adamw" when variant == "WithoutDecayOn" => Optimizer.WithoutDecayOn(Optimizer.AdamW(D("lr"), Beta(0), Beta(1), D("eps"), D("weight_decay")), ParamMask.Matching("bias")),
            "adamw" => Optimizer.Groups([.. c.GetProperty("param_groups").EnumerateArray().Select(g =>
            {
                var gh = g.GetProperty("hyperparameters");
                var mask = ParamMask.Matching([.. g.GetProperty("params").EnumerateArray().Select(p => p.GetString()!)]);
                return (mask, Optimizer.AdamW(gh.GetProperty("lr").GetDouble(), gh.GetProperty("betas")[0].GetDouble(), gh.GetProperty("betas")[1].GetDouble(), gh.GetProperty("eps").GetDouble(), gh.GetProperty("weight_decay").GetDouble()));
            })]),
            var other => throw new InvalidOperationException(other),
        };
        return (micro > 1 ? Optimizer.Accumulate(opt, micro) : opt, micro, variant == "plain" ? c.GetProperty("plain") : c);
    }

    private static (ModelSpec Spec, DataSet<double> Data) Problem(JsonElement c)
    {
        var problem = Case(c.TryGetProperty("problem", out _) ? c.GetProperty("name").GetString()! : "amsgrad_adam_lr0.05_b0.9_0.5").GetProperty("problem");
        var sizes = problem.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal("cross_entropy", problem.GetProperty("loss").GetString());
        var spec = ModelSpec.Mlp(sizes, ActivationSpec.Parse(problem.GetProperty("activation").GetString()!), new SoftmaxCrossEntropySpec());
        return (spec, new DataSet<double>(ReferenceTests.Matrix(problem.GetProperty("x")),
            NdArray.Vector(problem.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()).ToArray())));
    }

    private static ParamTree<double> Start(string name, ModelSpec spec) => Tree(spec, Case(name.Split('/')[0]).GetProperty("start"));

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Every_trajectory_matches_pytorch_through_the_pure_update(string name)
    {
        var (opt, micro, c) = Build(name);
        var (spec, data) = Problem(c);
        var parameters = Start(name, spec);
        var state = opt.Init(parameters);
        int rowsPerMicro = data.Rows / micro;
        foreach (var step in c.GetProperty("steps").EnumerateArray())
        {
            Close(step.GetProperty("loss_before").GetDouble(), Model.Loss(spec, parameters, data.AsBatch()), 1, $"loss before step {step.GetProperty("step")}");
            for (int k = 0; k < micro; k++)
            {
                var batch = data.Gather([.. Enumerable.Range(k * rowsPerMicro, rowsPerMicro)]);
                var (loss, grads) = Model.ValueAndGrad(spec, parameters, batch);
                if (micro > 1) Close(step.GetProperty("micro_losses")[k].GetDouble(), loss, 1, $"micro-batch {k} loss before step {step.GetProperty("step")}");
                var (updates, next) = opt.Update(grads, state, parameters);
                parameters = Optimizer.ApplyUpdates(parameters, updates);
                state = next;
            }
            Expect(spec, step, parameters);
        }
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Every_trajectory_matches_pytorch_through_Trainer_Step_and_the_fold_gives_the_same_bits(string name)
    {
        var (opt, micro, c) = Build(name);
        var (spec, data) = Problem(c);
        var steps = c.GetProperty("steps").EnumerateArray().ToArray();
        var config = new TrainConfig(BatchSize: data.Rows / micro, Epochs: steps.Length, Shuffle: false);
        var start = Trainer.Init<double>(spec, opt, Start(name, spec), RandomKey.FromSeed(1));
        var s = start;
        for (int e = 0; e < steps.Length; e++)
        {
            foreach (var batch in Trainer.Batches(data, config, s.Key, e)) s = Trainer.Step(spec, opt, s, batch).State;
            Expect(spec, steps[e], s.Params);
        }
        var folded = Trainer.Fit(spec, opt, start, data, config).State;
        Assert.True(folded.Params.Equals(s.Params), "the fold's parameters differ from the pure steps'");
        Assert.Equal(s.OptState, folded.OptState);
    }

    [Fact]
    public void Without_dampening_the_trajectory_leaves_the_pytorch_one()
    {
        // The case would pass with dampening ignored only if dampening did nothing: the same run with τ = 0 must miss it.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => RunPure("sgd_mom0.9_damp0.5_lr0.1", Optimizer.Sgd(0.1, 0, 0.9)));
        // and AMSGrad's running maximum matters: plain Adam misses the AMSGrad trajectory
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => RunPure("amsgrad_adam_lr0.05_b0.9_0.5", Optimizer.Adam(0.05, 0.9, 0.5)));
        // and decay on the biases too misses the groups' trajectory
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => RunPure("adamw_groups_wd_weights_only", Optimizer.AdamW(0.01, weightDecay: 0.1)));
    }

    private static void RunPure(string name, GradientTransform opt)
    {
        var c = Case(name);
        var (spec, data) = Problem(c);
        var parameters = Start(name, spec);
        var state = opt.Init(parameters);
        foreach (var step in c.GetProperty("steps").EnumerateArray())
        {
            var (_, grads) = Model.ValueAndGrad(spec, parameters, data.AsBatch());
            var (updates, next) = opt.Update(grads, state, parameters);
            (parameters, state) = (Optimizer.ApplyUpdates(parameters, updates), next);
            Expect(spec, step, parameters);
        }
    }

    private static void Expect(ModelSpec spec, JsonElement step, ParamTree<double> parameters)
    {
        var expected = Tree(spec, step.GetProperty("params"));
        for (int i = 0; i < parameters.Count; i++)
        {
            double scale = expected[i].Span.ToArray().Max(Math.Abs);
            for (int k = 0; k < expected[i].Length; k++)
                Close(expected[i][k], parameters[i][k], scale, $"{parameters.Names[i]}[{k}] after step {step.GetProperty("step")}");
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
