using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.ML.OnnxRuntime;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Export;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Networks;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NeuralPure.Properties.Facade.Export;

/// <summary>The exported graph, run in ONNX Runtime, gives what NeuralPure's forward pass gives: the logits and the
/// probabilities or the prediction, within 1e-5 of each output's largest magnitude, for every layer kind.</summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;

    /// <summary>A model of <paramref name="spec"/> with random parameters, running statistics and standardization.</summary>
    internal static TrainedModel RandomModel(ModelSpec spec, int seed, bool regression = false)
    {
        var rng = new System.Random(seed);
        float U(double lo, double hi) => (float)(lo + (hi - lo) * rng.NextDouble());
        var init = Model.Init<float>(spec, RandomKey.FromSeed((ulong)seed));
        var leaves = init.Leaves.Select(l => NdArray.From<float>([.. l.Span.ToArray().Select(v => v + U(-0.3, 0.3))], [.. l.Shape])).ToImmutableArray();
        var state = Model.InitState<float>(spec);
        var stateLeaves = state.Names.Zip(state.Leaves, (n, l) => n.EndsWith(".running_mean", StringComparison.Ordinal) ? NdArray.From<float>([.. l.Span.ToArray().Select(_ => U(-0.5, 0.5))], [.. l.Shape])
            : n.EndsWith(".running_var", StringComparison.Ordinal) ? NdArray.From<float>([.. l.Span.ToArray().Select(_ => U(0.5, 2))], [.. l.Shape]) : l).ToImmutableArray();
        int f = spec.InputWidth;
        var st = new Standardizer([.. Enumerable.Range(0, f).Select(_ => (double)U(-2, 2))], [.. Enumerable.Range(0, f).Select(_ => (double)U(0.5, 3))],
            regression ? U(-5, 5) : 0, regression ? U(0.5, 4) : 1);
        bool classification = spec.Loss.UsesLabels;
        return new TrainedModel(spec, new ParamTree<float>(init.Names, leaves), st, classification ? TaskKind.Classification : TaskKind.Regression,
            classification ? spec.OutputWidth : 0, [.. Enumerable.Range(0, f).Select(i => $"x{i}")], "y")
        { LayerState = new ParamTree<float>(state.Names, stateLeaves) };
    }

    /// <summary>Raw rows around the standardization's means, exactly representable in float32 (the graph's input type).</summary>
    internal static double[] RawRows(TrainedModel model, int rows, int seed)
    {
        var rng = new System.Random(seed);
        int f = model.Spec.InputWidth;
        return [.. Enumerable.Range(0, rows * f).Select(k => (double)(float)(model.Standardizer.Mean[k % f] + model.Standardizer.Scale[k % f] * (rng.NextDouble() * 6 - 3)))];
    }

    /// <summary>Runs the ONNX bytes in ONNX Runtime on the rows and returns each output by name.</summary>
    internal static Dictionary<string, float[]> RunOnnx(byte[] onnx, double[] raw, int rows, int features)
    {
        using var session = new InferenceSession(onnx);
        using var input = OrtValue.CreateTensorValueFromMemory([.. raw.Select(v => (float)v)], [rows, features]);
        using var options = new RunOptions();
        using var results = session.Run(options, ["input"], [input], session.OutputNames);
        return session.OutputNames.Zip(results, (n, v) => (n, v.GetTensorDataAsSpan<float>().ToArray())).ToDictionary(t => t.n, t => t.Item2);
    }

    /// <summary>max |onnx − neuralpure| / max |neuralpure| over each output; fails beyond <see cref="Tolerance"/>.</summary>
    internal static Dictionary<string, double> Agreement(TrainedModel model, int rows = 7, int seed = 1)
    {
        var raw = RawRows(model, rows, seed);
        var onnx = RunOnnx(OnnxExport.ToBytes(model), raw, rows, model.Spec.InputWidth);
        var expected = new Dictionary<string, double[]> { ["logits"] = [.. model.Outputs(raw, rows).Span.ToArray().Select(v => (double)v)] };
        if (model.Task == TaskKind.Classification) expected["probabilities"] = [.. model.PredictProbabilities(raw, rows).Span.ToArray().Select(v => (double)v)];
        else expected["prediction"] = model.Predict(raw, rows);
        Assert.Equal(expected.Keys.Order(), onnx.Keys.Order());
        var errors = new Dictionary<string, double>();
        foreach (var (name, e) in expected)
        {
            var o = onnx[name];
            Assert.Equal(e.Length, o.Length);
            double scale = Math.Max(e.Max(Math.Abs), 1e-30), worst = 0;
            for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(o[i] - e[i]) / scale);
            Assert.True(worst <= Tolerance, $"{name}: ONNX Runtime differs from NeuralPure by {worst:E2} of the largest magnitude ({model.Spec})");
            errors[name] = worst;
        }
        return errors;
    }

    private static readonly SoftmaxCrossEntropySpec Ce = new();

    /// <summary>One small model per layer kind (and each option that changes the graph).</summary>
    public static TheoryData<string> Kinds() =>
        ["dense", "identity", "relu", "leaky-relu", "sigmoid", "tanh", "gelu", "silu", "elu", "softplus", "dropout", "layer-norm", "layer-norm-plain",
         "layer-norm-images", "batch-norm-vectors", "batch-norm-plain", "conv2d", "conv2d-no-bias", "maxpool2d", "avgpool2d", "avgpool2d-exclude-pad",
         "flatten", "random-flip", "random-shift", "cnn", "regression", "nll", "log-softmax", "log-softmax-images"];

    internal static ModelSpec KindSpec(string kind)
    {
        ModelSpec Mid(LayerSpec l) => new(4, [new DenseSpec(4, 6), l, new DenseSpec(6, 3)], Ce);
        ModelSpec Image(params LayerSpec[] ls) => new(Shape.Of(2, 6, 6), [.. ls, new FlattenSpec(), new DenseSpec(new ModelSpec(Shape.Of(2, 6, 6), [.. ls, new FlattenSpec()], new MseSpec()).OutputWidth, 3)], Ce);
        return kind switch
        {
            "dense" => new ModelSpec(5, [new DenseSpec(5, 3)], Ce),
            "identity" => Mid(new IdentitySpec()),
            "relu" => Mid(new ReluSpec()),
            "leaky-relu" => Mid(new LeakyReluSpec(0.2)),
            "sigmoid" => Mid(new SigmoidSpec()),
            "tanh" => Mid(new TanhSpec()),
            "gelu" => Mid(new GeluSpec()),
            "silu" => Mid(new SiluSpec()),
            "elu" => Mid(new EluSpec(0.7)),
            "softplus" => Mid(new SoftplusSpec(2, 3)), // a low threshold: both the linear and the log regime occur
            "dropout" => Mid(new DropoutSpec(0.3)),
            "layer-norm" => Mid(new LayerNormSpec(1, 1e-4)),
            "layer-norm-plain" => Mid(new LayerNormSpec(Affine: false)),
            "layer-norm-images" => Image(new LayerNormSpec(2), new LayerNormSpec(3, Affine: false)),
            "batch-norm-vectors" => Mid(new BatchNormSpec(6, 1e-3)),
            "batch-norm-plain" => Mid(new BatchNormSpec(6, Affine: false)),
            "conv2d" => Image(new Conv2dSpec(2, 3, 3, 2, 2, 1, 1, 0)),
            "conv2d-no-bias" => Image(Conv2dSpec.Square(2, 3, 3, padding: 1, bias: false)),
            "maxpool2d" => Image(new MaxPool2dSpec(3, 2, 1, 2, 1, 1)),
            "avgpool2d" => Image(new AvgPool2dSpec(3, 3, 2, 2, 1, 1)),
            "avgpool2d-exclude-pad" => Image(new AvgPool2dSpec(2, 3, 1, 2, 1, 1, CountIncludePad: false)),
            "flatten" => Image(),
            "random-flip" => Image(new RandomFlipSpec(true, true)),
            "random-shift" => Image(RandomShiftSpec.Square(2)),
            "cnn" => Image(new RandomFlipSpec(), RandomShiftSpec.Square(1), Conv2dSpec.Square(2, 4, 3, padding: 1), new BatchNormSpec(4), new ReluSpec(),
                MaxPool2dSpec.Square(2), Conv2dSpec.Square(4, 4, 3, padding: 1, bias: false), new BatchNormSpec(4, Affine: false), new GeluSpec(),
                new AvgPool2dSpec(2, 2, 1, 1), new DropoutSpec(0.5)),
            "regression" => new ModelSpec(4, [new DenseSpec(4, 5), new TanhSpec(), new DenseSpec(5, 1)], new MseSpec()),
            "nll" => new ModelSpec(4, [new DenseSpec(4, 3)], new NllSpec()),
            "log-softmax" => new ModelSpec(4, [new DenseSpec(4, 3), new LogSoftmaxSpec()], new NllSpec()),
            "log-softmax-images" => Image(new LogSoftmaxSpec()), // over the last dimension of [C, H, W]: the rows of each plane
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_layer_kind_runs_in_onnx_runtime_as_in_neuralpure(string kind)
    {
        var model = RandomModel(KindSpec(kind), kind.Length * 31 + 7, regression: kind == "regression");
        var errors = Agreement(model, rows: 9);
        output.WriteLine($"{kind}: " + string.Join(", ", errors.Select(e => $"{e.Key} {e.Value:E1}")));
    }

    [Property(MaxTest = 25)]
    public Property Random_mlps_run_in_onnx_runtime_as_in_neuralpure() =>
        Prop.ForAll((from sizes in Gen.ListOf(Gen.Choose(1, 9), 3).Select(l => l.ToArray())
                     from activation in Gen.OneOf(Generators.Activation, Gen.Elements<ActivationSpec>(new SiluSpec(), new EluSpec(), new SoftplusSpec())) 
                     from seed in Gen.Choose(0, 100_000)
                     from classes in Gen.Choose(2, 5)
                     select (sizes, activation, seed, classes)).ToArbitrary(), t =>
        {
            var spec = ModelSpec.Mlp([t.sizes[0], t.sizes[1], t.sizes[2], t.classes], t.activation, Ce, dropout: t.seed % 2 == 0 ? 0.2 : 0);
            var errors = Agreement(RandomModel(spec, t.seed), rows: 1 + t.seed % 5, seed: t.seed);
            return errors.Values.All(e => e <= Tolerance);
        });

    [Fact]
    public void The_bytes_are_a_function_of_the_model()
    {
        var a = OnnxExport.ToBytes(RandomModel(KindSpec("cnn"), 3));
        var b = OnnxExport.ToBytes(RandomModel(KindSpec("cnn"), 3));
        Assert.Equal(a, b);
        Assert.NotEqual(a, OnnxExport.ToBytes(RandomModel(KindSpec("cnn"), 4)));
    }

    [Fact]
    public void The_graph_has_a_symbolic_batch_opset_17_and_the_names_in_its_metadata()
    {
        var spec = new ModelSpec(2, [new DenseSpec(2, 3)], Ce);
        var r = RandomModel(spec, 5);
        var model = new TrainedModel(spec, r.Parameters, r.Standardizer, TaskKind.Classification, 3, ["petal length", "petal width"], "species", ["setosa", "versicolor", "virginica"]);
        var onnx = OnnxExport.Build(model);
        Assert.Equal((8, 17), (onnx.IrVersion, onnx.Opset));
        Assert.Equal("batch", onnx.Graph.Inputs.Single().Dims[0].Symbol);
        Assert.Equal(["Sub", "Div", "Gemm", "Softmax"], onnx.Graph.Nodes.Select(n => n.OpType));
        using var session = new InferenceSession(OnnxExport.ToBytes(model));
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("[\"petal length\",\"petal width\"]", meta["features"]);
        Assert.Equal("[\"setosa\",\"versicolor\",\"virginica\"]", meta["classNames"]);
        Assert.Equal("classification", meta["task"]);
        Assert.Equal(-1, session.InputMetadata["input"].Dimensions[0]);
        Assert.Equal(["logits", "probabilities"], session.OutputNames);
        // the same graph runs on any batch size
        foreach (int rows in new[] { 1, 3, 64 }) Agreement(model, rows);
    }

    [Fact]
    public void A_model_with_a_kind_the_exporter_does_not_know_is_refused_naming_it()
    {
        var spec = new ModelSpec(3, [new DenseSpec(3, 4), new CustomOps.SwishSpec(), new DenseSpec(4, 2)], Ce);
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(RandomModel(spec, 1)));
        Assert.Contains("swish", e.Message);
        Assert.Contains("layer 1", e.Message);
    }

    /// <summary>The bundled data sets, trained briefly through the CLI's path, agree after export.</summary>
    [Theory]
    [InlineData("iris", "classification")]
    [InlineData("digits", "classification")]
    [InlineData("breast-cancer", "classification")]
    [InlineData("auto-mpg", "regression")]
    public void Bundled_data_sets_trained_briefly_agree(string name, string task)
    {
        var data = BundledDataSets.Load(name);
        int rows = Math.Min(data.Rows, 200), f = data.Features;
        var x = new double[rows, f];
        for (int i = 0; i < rows; i++) for (int j = 0; j < f; j++) x[i, j] = (float)data.X[i * f + j];
        var options = new FitOptions(Epochs: 3, BatchSize: 16);
        int[] labels = [.. Enumerable.Range(0, rows).Select(i => (int)data.Y[i])];
        var model = task == "classification"
            ? Fitter.Fit(Network.Input(f).Dense(16, "gelu").Dense(8, "relu").Output(labels.Distinct().Count(), "cross-entropy"), x, labels, options).Model
            : Fitter.Fit(Network.Input(f).Dense(16, "silu").Output(1, "mse"), x, [.. Enumerable.Range(0, rows).Select(i => data.Y[i])], options).Model;
        var errors = Agreement(model, rows: 50);
        output.WriteLine($"{name}: " + string.Join(", ", errors.Select(e => $"{e.Key} {e.Value:E1}")));
    }
}
