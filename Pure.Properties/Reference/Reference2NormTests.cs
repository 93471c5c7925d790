using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Reference;

/// <summary>LayerNorm and BatchNorm against PyTorch 1.13.1 (<c>pytorch-reference-2.json</c>'s layer cases): outputs, dx, parameter
/// gradients, batch norm's running statistics after a training forward, and its evaluation output.</summary>
public sealed class Reference2NormTests
{
    private const double Rel = 1e-9;
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "pytorch-reference-2.json"))).RootElement;

    private static JsonElement Case(string name) => Root.GetProperty("layer_cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);

    private static NdArray<double> Tensor(JsonElement values, JsonElement shape)
    {
        var flat = new List<double>();
        void Walk(JsonElement e) { if (e.ValueKind == JsonValueKind.Array) foreach (var c in e.EnumerateArray()) Walk(c); else flat.Add(e.GetDouble()); }
        Walk(values);
        return NdArray.From<double>([.. flat], [.. shape.EnumerateArray().Select(d => d.GetInt32())]);
    }

    private static NdArray<double> Vector(JsonElement values) => NdArray.Vector(values.EnumerateArray().Select(e => e.GetDouble()).ToArray());

    private static void Close(NdArray<double> expected, NdArray<double> actual, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double scale = expected.Span.ToArray().Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Rel * Math.Max(Math.Abs(expected[i]), 1e-6 * Math.Max(scale, 1e-3)), $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void LayerNorm_matches_pytorch()
    {
        var c = Case("layernorm_4x6");
        var cfg = c.GetProperty("config");
        var spec = new LayerNormSpec(cfg.GetProperty("normalized_shape").GetArrayLength(), cfg.GetProperty("eps").GetDouble(), cfg.GetProperty("elementwise_affine").GetBoolean());
        var x = Tensor(c.GetProperty("x"), c.GetProperty("x_shape"));
        NdArray<double>[] p = [Vector(c.GetProperty("params").GetProperty("weight")), Vector(c.GetProperty("params").GetProperty("bias"))];
        Close(Tensor(c.GetProperty("y"), c.GetProperty("y_shape")), Layer.Forward(spec, p, x), "y");
        var (dx, grads) = Layer.Backward(spec, p, x, Tensor(c.GetProperty("dy"), c.GetProperty("y_shape")));
        Close(Tensor(c.GetProperty("dx"), c.GetProperty("x_shape")), dx, "dx");
        Close(Vector(c.GetProperty("grads").GetProperty("weight")), grads[0], "dweight");
        Close(Vector(c.GetProperty("grads").GetProperty("bias")), grads[1], "dbias");
    }

    [Fact]
    public void BatchNorm_in_training_and_evaluation_matches_pytorch_running_statistics_included()
    {
        var c = Case("batchnorm1d_N5_C4");
        var cfg = c.GetProperty("config");
        var spec = new BatchNormSpec(cfg.GetProperty("num_features").GetInt32(), cfg.GetProperty("eps").GetDouble(), cfg.GetProperty("momentum").GetDouble());
        var x = Tensor(c.GetProperty("x"), c.GetProperty("x_shape"));
        NdArray<double>[] p = [Vector(c.GetProperty("params").GetProperty("weight")), Vector(c.GetProperty("params").GetProperty("bias"))];
        var state = spec.InitState<double>(Shape.Of(spec.Channels));
        Close(Vector(c.GetProperty("running_mean_before")), state[0], "running mean before");
        Close(Vector(c.GetProperty("running_var_before")), state[1], "running var before");
        var key = RandomKey.FromSeed(1); // training mode
        var (y, after) = Layer.Forward(spec, p, state, x, key);
        Close(Tensor(c.GetProperty("y"), c.GetProperty("y_shape")), y, "y (training)");
        Close(Vector(c.GetProperty("running_mean")), after[0], "running mean");
        Close(Vector(c.GetProperty("running_var")), after[1], "running var (unbiased)");
        Assert.Equal(c.GetProperty("num_batches_tracked").GetDouble(), after[2][0]);
        var (dx, grads, again) = Layer.Backward(spec, p, state, x, Tensor(c.GetProperty("dy"), c.GetProperty("y_shape")), key);
        Close(Tensor(c.GetProperty("dx"), c.GetProperty("x_shape")), dx, "dx");
        Close(Vector(c.GetProperty("grads").GetProperty("weight")), grads[0], "dweight");
        Close(Vector(c.GetProperty("grads").GetProperty("bias")), grads[1], "dbias");
        Assert.True(again[0].Equals(after[0]) && again[1].Equals(after[1]), "the same forward gives the same state");
        Assert.Equal(0.0, state[2][0]); // the caller's state is not written

        var ev = c.GetProperty("eval");
        var xe = Tensor(ev.GetProperty("x"), c.GetProperty("x_shape"));
        var (ye, unchanged) = Layer.Forward(spec, p, after, xe);
        Close(Tensor(ev.GetProperty("y"), c.GetProperty("y_shape")), ye, "y (evaluation, running statistics)");
        Assert.True(unchanged[0].Equals(after[0]) && unchanged[1].Equals(after[1]) && unchanged[2].Equals(after[2]), "evaluation leaves the state as it was");
    }
}
