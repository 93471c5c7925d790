using System.Text.Json;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace NeuralPure.Properties.Reference;

/// <summary>SiLU, ELU, Softplus, L1, SmoothL1 and NLL in double against PyTorch 1.13.1's float64 cases of
/// <c>pytorch-reference-2.json</c> (README-2.md): outputs and dx of the layer cases, the value and gradient of the loss cases,
/// each to 1e-9 relative. The measured worst relative error of each case is written to the test output.</summary>
public sealed class Reference2OpsTests(ITestOutputHelper output)
{
    private const double Rel = 1e-9;

    private static readonly JsonElement Root =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "pytorch-reference-2.json"))).RootElement;

    private static JsonElement Case(string section, string name) =>
        Root.GetProperty(section).EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);

    /// <summary>Checks every element of <paramref name="actual"/> against <paramref name="expected"/> to <see cref="Rel"/> relative
    /// (with a floor of 1e-6 of the array's largest magnitude for elements near 0) and returns the largest |Δ|/|expected|.</summary>
    private static double Agree(NdArray<double> expected, NdArray<double> actual, string what)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double scale = expected.Span.ToArray().Select(Math.Abs).DefaultIfEmpty(0).Max(), worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i], diff = Math.Abs(e - a);
            double floor = Math.Max(Math.Abs(e), 1e-6 * Math.Max(scale, 1e-3));
            Assert.True(diff <= Rel * floor, $"{what}[{i}]: expected {e:R}, got {a:R} (relative {diff / floor:E2})");
            worst = Math.Max(worst, diff / floor);
        }
        return worst;
    }

    private static double Agree(double expected, double actual, string what) =>
        Agree(NdArray.Vector(expected), NdArray.Vector(actual), what);

    [Theory]
    [InlineData("silu_3x5")]
    [InlineData("elu_3x5")]
    [InlineData("softplus_3x5")]
    public void The_activation_cases_match_pytorch_output_and_dx(string name)
    {
        var c = Case("layer_cases", name);
        var config = c.GetProperty("config");
        ActivationSpec spec = c.GetProperty("layer").GetString() switch
        {
            "silu" => new SiluSpec(),
            "elu" => new EluSpec(config.GetProperty("alpha").GetDouble()),
            "softplus" => new SoftplusSpec(config.GetProperty("beta").GetDouble(), config.GetProperty("threshold").GetDouble()),
            var other => throw new InvalidOperationException(other),
        };
        Assert.Equal(spec, ActivationSpec.Parse(c.GetProperty("layer").GetString()!)); // the case's config is PyTorch's default
        var x = ReferenceTests.Matrix(c.GetProperty("x"));
        var y = spec.Apply(x);
        double ey = Agree(ReferenceTests.Matrix(c.GetProperty("y")), y, $"{name} y");
        double edx = Agree(ReferenceTests.Matrix(c.GetProperty("dx")), spec.Gradient(x, y, ReferenceTests.Matrix(c.GetProperty("dy"))), $"{name} dx");
        output.WriteLine($"{name}: max relative error y {ey:E2}, dx {edx:E2}");
    }

    [Theory]
    [InlineData("l1_4x3")]
    [InlineData("smooth_l1_beta1_4x3")]
    public void The_value_loss_cases_match_pytorch_value_and_gradient(string name)
    {
        var c = Case("loss_cases", name);
        LossSpec spec = c.GetProperty("loss").GetString() switch
        {
            "l1" => new L1Spec(),
            "smooth_l1" => new SmoothL1Spec(c.GetProperty("config").GetProperty("beta").GetDouble()),
            var other => throw new InvalidOperationException(other),
        };
        var (value, grad) = spec.ValueAndGrad(ReferenceTests.Matrix(c.GetProperty("p")), ReferenceTests.Matrix(c.GetProperty("target")));
        double ev = Agree(c.GetProperty("loss_value").GetDouble(), value, $"{name} loss");
        double eg = Agree(ReferenceTests.Matrix(c.GetProperty("dp")), grad, $"{name} dp");
        output.WriteLine($"{name}: max relative error loss {ev:E2}, dp {eg:E2}");
    }

    [Fact]
    public void The_nll_case_matches_pytorch_value_and_gradient_and_through_log_softmax_is_cross_entropy()
    {
        const string name = "nll_log_softmax_5x4";
        var c = Case("loss_cases", name);
        Assert.Equal(JsonValueKind.Null, c.GetProperty("config").GetProperty("weight").ValueKind);
        var p = ReferenceTests.Matrix(c.GetProperty("p"));
        var labels = NdArray.Vector(c.GetProperty("target").EnumerateArray().Select(e => (double)e.GetInt32()).ToArray());
        var (value, grad) = new NllSpec().ValueAndGrad(p, labels);
        double ev = Agree(c.GetProperty("loss_value").GetDouble(), value, $"{name} loss");
        double eg = Agree(ReferenceTests.Matrix(c.GetProperty("dp")), grad, $"{name} dp");
        // dlogits: the chain through log_softmax, dz = dp − softmax(z)·Σⱼ dpⱼ, is the cross-entropy gradient of the logits.
        var z = ReferenceTests.Matrix(c.GetProperty("logits"));
        var soft = SoftmaxCrossEntropy.Softmax(z);
        int rows = z.Rows, k = z.Shape[1];
        var dz = new double[z.Length];
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < k; j++) s += grad[i * k + j];
            for (int j = 0; j < k; j++) dz[i * k + j] = grad[i * k + j] - soft[i * k + j] * s;
        }
        var expectedDz = ReferenceTests.Matrix(c.GetProperty("dlogits"));
        double edz = Agree(expectedDz, NdArray.From<double>(dz, rows, k), $"{name} dlogits");
        var (ceValue, ceGrad) = new SoftmaxCrossEntropySpec().ValueAndGrad(z, labels);
        Agree(c.GetProperty("loss_value").GetDouble(), ceValue, $"{name} cross-entropy of the logits");
        Agree(expectedDz, ceGrad, $"{name} cross-entropy gradient");
        output.WriteLine($"{name}: max relative error loss {ev:E2}, dp {eg:E2}, dlogits (chained) {edz:E2}");
    }
}
