using System.Numerics;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Models;

/// <summary>A user's activation for the file tests: f(x) = s·tanh(x).</summary>
public sealed record ScaledTanhSpec(double Scale = 2) : ActivationSpec
{
    public override string Kind => "scaled-tanh";
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
    {
        var s = T.CreateChecked(Scale);
        for (int i = 0; i < x.Length; i++) y[i] = s * T.Tanh(x[i]);
    }
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
    {
        var s = T.CreateChecked(Scale);
        for (int i = 0; i < x.Length; i++) { var t = y[i] / s; dx[i] = dy[i] * s * (T.One - t * t); }
    }
}

/// <summary>A user's loss for the file tests: mean of (ŷ − y)⁴.</summary>
public sealed record QuarticSpec : LossSpec
{
    public override string Kind => "quartic";
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        RequireValueTargets(a);
        double sum = 0; int n = a.Output.Length;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(a.Output[i]) - double.CreateChecked(a.Target[i]);
            sum += d * d * d * d;
            a.Gradient[i] = T.CreateChecked(4 * d * d * d / n);
        }
        return T.CreateChecked(sum / n);
    }
}

/// <summary>A user's weight initializer for the file tests: W uniform in ±Gain/√fan_in (the bias keeps the default).</summary>
public sealed record ScaledUniformInit(double Gain = 0.5) : Initializer
{
    public override string Name => "scaled-uniform";
    protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) =>
        Sampling.Uniform<T>(key, -Gain / Math.Sqrt(fanIn), Gain / Math.Sqrt(fanIn), fanOut, fanIn);
}

/// <summary>A user's optimizer state: a running sum of the updates and a count.</summary>
public sealed record SumState<T>(ParamTree<T> Sum, long Count) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A user's transform: u ← u + 0.1·Σ past updates (a crude momentum) — enough to have a state with a tree and a count.</summary>
public sealed record ScaleBySum(double Weight = 0.1) : GradientTransform
{
    public override OptState Init<T>(ParamTree<T> parameters) => new SumState<T>(parameters.ZerosLike(), 0);
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<SumState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Sum, nameof(state));
        return new Work<T>(T.CreateChecked(Weight), s);
    }
    private sealed class Work<T>(T w, SumState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> sum = new(s.Sum);
        private long count = s.Count;
        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j); var m = sum[j];
                for (int i = 0; i < u.Length; i++) { m[i] += u[i]; u[i] += w * m[i]; }
            }
            count++;
        }
        public override OptState State() => new SumState<T>(sum.ToTree(), count);
    }
}

/// <summary>KindRegistry: a user's layer, loss and optimizer state in model files and checkpoints — saved when registered,
/// refused by name when not, and an unknown kind in a file named when it is read.</summary>
public sealed class KindRegistryTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "np-kinds-" + Guid.NewGuid().ToString("N")[..8]);
    public KindRegistryTests() => Directory.CreateDirectory(dir);
    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }

    private static readonly KindRegistry Kinds = KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("scaled-tanh").WithLoss<QuarticSpec>("quartic").WithState(typeof(SumState<>), "sum");

    private static ModelSpec Spec() => new(3, [new DenseSpec(3, 4), new ScaledTanhSpec(1.5), new DenseSpec(4, 2)], new QuarticSpec());

    private static TrainedModel Model() =>
        new(Spec(), NeuralPure.Models.Model.Init<float>(Spec(), RandomKey.FromSeed(2)), new Standardizer([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), TaskKind.Regression, 0, ["a", "b", "c"], "y");

    [Fact]
    public void A_registered_user_layer_and_loss_round_trip_through_a_model_file()
    {
        var path = Path.Combine(dir, "m.safetensors");
        ModelFile.Save(path, Model(), kinds: Kinds);
        var (back, _) = ModelFile.Load(path, Kinds);
        Assert.Equal(Spec(), back.Spec);
        Assert.Equal(1.5, ((ScaledTanhSpec)back.Spec.Layers[1]).Scale);
        Assert.Equal(Model().ParameterHash(), back.ParameterHash());
        var json = SpecJson.ToJson(Spec(), Kinds).ToJsonString();
        Assert.Contains("{\"kind\":\"scaled-tanh\",\"scale\":1.5}", json);
        Assert.Contains("\"loss\":{\"kind\":\"quartic\"}", json);
    }

    [Fact]
    public void Saving_an_unregistered_user_type_names_it_and_how_to_register_it()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(Path.Combine(dir, "x.safetensors"), Model()));
        Assert.Contains("ScaledTanhSpec is not registered for files", e.Message);
        Assert.Contains("WithLayer<ScaledTanhSpec>", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "x.safetensors")));
        var loss = Assert.Throws<ArgumentException>(() => SpecJson.ToJson(Spec(), KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("scaled-tanh")));
        Assert.Contains("the loss QuarticSpec is not registered", loss.Message);
    }

    [Fact]
    public void Loading_a_file_with_an_unknown_kind_names_the_kind()
    {
        var path = Path.Combine(dir, "m.safetensors");
        ModelFile.Save(path, Model(), kinds: Kinds);
        var e = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains("unknown layer kind 'scaled-tanh'", e.Message);
        Assert.Contains("no user kinds are registered", e.Message);
        var loss = Assert.Throws<DataFormatException>(() => ModelFile.Load(path, KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("scaled-tanh")));
        Assert.Contains("unknown loss kind 'quartic'", loss.Message);
        Assert.Contains("registered user kinds: scaled-tanh", loss.Message);
    }

    [Fact]
    public void A_registered_user_initializer_round_trips_and_an_unregistered_one_is_named()
    {
        var spec = new ModelSpec(3, [new DenseSpec(3, 4, new ScaledUniformInit(0.25)), new ReluSpec(), new DenseSpec(4, 2)], new MseSpec());
        var model = new TrainedModel(spec, NeuralPure.Models.Model.Init<float>(spec, RandomKey.FromSeed(4)), new Standardizer([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
            TaskKind.Regression, 0, ["a", "b", "c"], "y");
        var kinds = KindRegistry.BuiltIn.WithInitializer<ScaledUniformInit>("scaled-uniform");
        var path = Path.Combine(dir, "init.safetensors");
        ModelFile.Save(path, model, kinds: kinds);
        var (back, _) = ModelFile.Load(path, kinds);
        Assert.Equal(spec, back.Spec);
        Assert.Equal(0.25, ((ScaledUniformInit)((DenseSpec)back.Spec.Layers[0]).Initializer).Gain);
        Assert.Equal(model.ParameterHash(), back.ParameterHash());
        Assert.Contains("\"init\":{\"kind\":\"scaled-uniform\",\"gain\":0.25}", SpecJson.ToJson(spec, kinds).ToJsonString());
        Assert.Contains("\"init\":\"pytorch\"", SpecJson.ToJson(spec, kinds).ToJsonString()); // the library's own keep their names

        var unknown = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains("unknown initializer kind 'scaled-uniform'; built in: pytorch, he-uniform", unknown.Message);
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(Path.Combine(dir, "y.safetensors"), model));
        Assert.Contains("the initializer ScaledUniformInit is not registered for files", e.Message);
        Assert.Contains("KindRegistry.BuiltIn.WithInitializer<ScaledUniformInit>(\"…\")", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "y.safetensors")));
    }

    [Fact]
    public void A_user_optimizer_state_is_checkpointed_and_a_resumed_fit_gives_the_uninterrupted_bits()
    {
        var spec = Spec();
        var opt = GradientTransform.Chain(new ScaleBySum(), new ScaleByLearningRate(0.01));
        var r = new System.Random(3);
        var x = NdArray.From<float>([.. Enumerable.Range(0, 60).Select(_ => (float)(r.NextDouble() * 2 - 1))], 20, 3);
        var y = NdArray.From<float>([.. Enumerable.Range(0, 40).Select(_ => (float)(r.NextDouble() - 0.5))], 20, 2);
        var data = new DataSet<float>(x, y);
        var options = new FitOptions(Epochs: 4, BatchSize: 5, Seed: 9);
        var whole = Fitter.Fit(spec, opt, data, null, options);
        var path = Path.Combine(dir, "c.safetensors");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(rep => { if (rep.Epoch == 2) cts.Cancel(); });
        var part = Fitter.Fit(spec, opt, data, null, options, progress, null, null, cts.Token, new CheckpointOptions(path, Kinds: Kinds));
        Assert.Equal(FitStatus.Cancelled, part.Status);
        var c = FitCheckpoint.Read(path, Kinds);
        Assert.IsType<SumState<float>>(((ChainState)c.State.OptState).States[0]);
        var done = Fitter.Resume(spec, opt, data, null, options, c, checkpoint: new CheckpointOptions(path, Kinds: Kinds));
        Assert.Equal(whole.State.Params, done.State.Params);
        Assert.Equal(whole.State.OptState, done.State.OptState);

        var unknown = Assert.Throws<DataFormatException>(() => FitCheckpoint.Read(path, KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("scaled-tanh").WithLoss<QuarticSpec>("quartic")));
        Assert.Contains("unknown kind 'sum'", unknown.Message);
        var unregistered = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, opt, data, null, options, checkpoint: new CheckpointOptions(Path.Combine(dir, "d.safetensors"),
            Kinds: KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("scaled-tanh").WithLoss<QuarticSpec>("quartic"))));
        Assert.Contains("optimizer state SumState`1 is not registered", unregistered.Message);
        Assert.Contains("WithState(typeof(SumState<>)", unregistered.Message);
    }

    [Fact]
    public void The_registry_refuses_built_in_names_repeats_and_fields_files_cannot_hold()
    {
        Assert.Contains("built-in kind", Assert.Throws<ArgumentException>(() => KindRegistry.BuiltIn.WithLayer<ScaledTanhSpec>("relu")).Message);
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => Kinds.WithLayer<ScaledTanhSpec>("other")).Message);
        Assert.Contains("already registered for ScaledTanhSpec", Assert.Throws<ArgumentException>(() => Kinds.WithLoss<QuarticSpec2>("scaled-tanh")).Message);
        Assert.Contains("is a Func`2, which files cannot hold", Assert.Throws<ArgumentException>(() => KindRegistry.BuiltIn.WithLayer<OpaqueSpec>("opaque")).Message);
        Assert.Contains("not an optimizer state", Assert.Throws<ArgumentException>(() => KindRegistry.BuiltIn.WithState(typeof(ScaledTanhSpec), "x")).Message);
        Assert.Equal(["quartic", "scaled-tanh", "sum"], Kinds.Names.ToArray());
    }

    public sealed record QuarticSpec2 : LossSpec
    {
        public override string Kind => "quartic2";
        public override T ValueAndGrad<T>(in LossArgs<T> a) => throw new NotSupportedException();
    }

    public sealed record OpaqueSpec(Func<double, double> F) : ActivationSpec
    {
        public override string Kind => "opaque";
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => x.CopyTo(y);
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => dy.CopyTo(dx);
    }

    private sealed class SyncProgress(Action<EpochReport> f) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => f(value);
    }
}
