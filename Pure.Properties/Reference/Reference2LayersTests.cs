using System.Collections.Immutable;
using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NeuralPure.Properties.Reference;

/// <summary>Conv2d, MaxPool2d, AvgPool2d and Flatten in double against PyTorch 1.13.1's float64 layer cases of
/// <c>pytorch-reference-2.json</c>: output, dx and every parameter gradient through the pure single-layer driver
/// (<c>Layer.Forward</c>, <c>Layer.Backward</c>), to 1e-9 relative.</summary>
public sealed class Reference2LayersTests(ITestOutputHelper output)
{
    private const double Rel = 1e-9;

    private static readonly JsonElement[] Cases = [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "pytorch-reference-2.json")))
        .RootElement.GetProperty("layer_cases").EnumerateArray()];

    private static JsonElement Case(string name) => Cases.Single(e => e.GetProperty("name").GetString() == name);

    /// <summary>A nested list as an array of its shape, row-major.</summary>
    internal static NdArray<double> Tensor(JsonElement e)
    {
        var dims = new List<int>();
        for (var d = e; d.ValueKind == JsonValueKind.Array; d = d[0]) dims.Add(d.GetArrayLength());
        var values = new List<double>();
        void Walk(JsonElement x) { if (x.ValueKind == JsonValueKind.Array) foreach (var c in x.EnumerateArray()) Walk(c); else values.Add(x.GetDouble()); }
        Walk(e);
        return NdArray.From<double>([.. values], [.. dims]);
    }

    private static (int H, int W) Pair(JsonElement config, string name) => (config.GetProperty(name)[0].GetInt32(), config.GetProperty(name)[1].GetInt32());

    /// <summary>The layer a case describes, read from its config.</summary>
    private static LayerSpec Spec(JsonElement c)
    {
        var config = c.GetProperty("config");
        switch (c.GetProperty("layer").GetString())
        {
            case "conv2d":
            {
                Assert.Equal(1, config.GetProperty("groups").GetInt32());
                Assert.Equal((1, 1), Pair(config, "dilation"));
                Assert.Equal("zeros", config.GetProperty("padding_mode").GetString());
                var (kh, kw) = Pair(config, "kernel_size"); var (sh, sw) = Pair(config, "stride"); var (ph, pw) = Pair(config, "padding");
                return new Conv2dSpec(config.GetProperty("in_channels").GetInt32(), config.GetProperty("out_channels").GetInt32(), kh, kw, sh, sw, ph, pw,
                    config.GetProperty("bias").GetBoolean());
            }
            case "maxpool2d":
            {
                Assert.False(config.GetProperty("ceil_mode").GetBoolean());
                Assert.Equal((1, 1), Pair(config, "dilation"));
                var (kh, kw) = Pair(config, "kernel_size"); var (sh, sw) = Pair(config, "stride"); var (ph, pw) = Pair(config, "padding");
                return new MaxPool2dSpec(kh, kw, sh, sw, ph, pw);
            }
            case "avgpool2d":
            {
                Assert.False(config.GetProperty("ceil_mode").GetBoolean());
                Assert.Equal(JsonValueKind.Null, config.GetProperty("divisor_override").ValueKind);
                var (kh, kw) = Pair(config, "kernel_size"); var (sh, sw) = Pair(config, "stride"); var (ph, pw) = Pair(config, "padding");
                return new AvgPool2dSpec(kh, kw, sh, sw, ph, pw, config.GetProperty("count_include_pad").GetBoolean());
            }
            case "flatten":
                Assert.Equal(1, config.GetProperty("start_dim").GetInt32());
                Assert.Equal(-1, config.GetProperty("end_dim").GetInt32());
                return new FlattenSpec();
            default: throw new InvalidOperationException(c.GetProperty("layer").GetString());
        }
    }

    [Theory]
    [InlineData("conv2d_2to3_k3_s1_p1")]
    [InlineData("maxpool2d_k2_s2")]
    [InlineData("avgpool2d_k2_s2")]
    [InlineData("flatten_2x3x2x2")]
    public void Output_dx_and_parameter_gradients_match_pytorch(string name)
    {
        var c = Case(name);
        var spec = Spec(c);
        var x = Tensor(c.GetProperty("x"));
        var input = Shape.OfExamples(x.Shape);
        Assert.Equal(c.GetProperty("y_shape").EnumerateArray().Select(e => e.GetInt32()).Skip(1), spec.OutputShape(input).Dims);
        var names = spec.Parameters(input).Select(p => p.Name).ToArray();
        Assert.Equal(c.GetProperty("params").EnumerateObject().Select(p => p.Name).Order(), names.Order());
        var parameters = names.Select(n => Tensor(c.GetProperty("params").GetProperty(n))).ToArray();
        var y = Layer.Forward(spec, parameters, x);
        var worst = new List<string> { $"{name}: y {Close(Tensor(c.GetProperty("y")), y, "y"):E2}" };
        var (dx, grads) = Layer.Backward(spec, parameters, x, Tensor(c.GetProperty("dy")));
        worst.Add($"dx {Close(Tensor(c.GetProperty("dx")), dx, "dx"):E2}");
        for (int i = 0; i < names.Length; i++)
            worst.Add($"d{names[i]} {Close(Tensor(c.GetProperty("grads").GetProperty(names[i])), grads[i], "d" + names[i]):E2}");
        output.WriteLine(string.Join(", ", worst));
    }

    [Fact]
    public void Conv2d_default_init_has_pytorchs_bounds_and_layout()
    {
        var spec = Conv2dSpec.Square(2, 3, 3, padding: 1);
        var p = spec.Init<double>(Shape.Of(2, 5, 5), NeuralPure.Random.RandomKey.FromSeed(3));
        Assert.Equal([3, 2, 3, 3], p[0].Shape.ToArray());
        Assert.Equal([3], p[1].Shape.ToArray());
        double bound = 1 / Math.Sqrt(2 * 3 * 3);
        Assert.All(p.SelectMany(a => a.Span.ToArray()), v => Assert.InRange(Math.Abs(v), 0, bound));
        // and the reference case's PyTorch draws lie inside the same bounds (its init note says the same)
        var c = Case("conv2d_2to3_k3_s1_p1");
        Assert.All(c.GetProperty("params").EnumerateObject().SelectMany(e => Tensor(e.Value).Span.ToArray()), v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.Single(new Conv2dSpec(2, 3, 3, 3, Bias: false).Parameters(Shape.Of(2, 5, 5)));
    }

    /// <summary>Asserts each element within 1e-9 relative (of the element, floored at 1e-6 of the largest) and returns the largest relative error.</summary>
    private static double Close(NdArray<double> expected, NdArray<double> actual, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double scale = expected.Span.ToArray().Select(Math.Abs).DefaultIfEmpty(0).Max(), worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double floor = Math.Max(Math.Abs(expected[i]), 1e-6 * Math.Max(scale, 1e-3)), err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= Rel * floor, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
            worst = Math.Max(worst, err / floor);
        }
        return worst;
    }
}
