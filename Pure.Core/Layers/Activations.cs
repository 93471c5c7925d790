using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

// Each activation: its spec (a parameter-free layer), then its forward and backward on one screen.

/// <summary>A parameter-free, element-wise layer.</summary>
public abstract record ActivationSpec : LayerSpec
{
    private protected ActivationSpec() { }

    /// <inheritdoc/>
    public override int OutputWidth(int inputWidth) => inputWidth >= 1 ? inputWidth : throw new ArgumentException($"width must be ≥ 1, got {inputWidth}", nameof(inputWidth));

    /// <summary>The activation applied to a batch.</summary>
    public abstract NdArray<T> Apply<T>(NdArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>dL/dx from the input x, the output y = f(x) and dL/dy.</summary>
    public abstract NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) where T : unmanaged, IFloatingPointIeee754<T>;

    internal sealed override NdArray<T> Forward<T>(ReadOnlySpan<NdArray<T>> p, NdArray<T> x, RandomKey? key) => Apply(x);

    internal sealed override NdArray<T> Backward<T>(ReadOnlySpan<NdArray<T>> p, NdArray<T> x, NdArray<T> y, NdArray<T> dy, RandomKey? key, Span<NdArray<T>> grads) => Gradient(x, y, dy);

    /// <summary>The activation called <paramref name="name"/>: identity, relu, leaky-relu (slope 0.01), sigmoid, tanh, gelu.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static ActivationSpec Parse(string name) => name.ToLowerInvariant() switch
    {
        "identity" or "linear" or "none" => new IdentitySpec(),
        "relu" => new ReluSpec(),
        "leaky-relu" or "leakyrelu" or "leaky_relu" => new LeakyReluSpec(),
        "sigmoid" => new SigmoidSpec(),
        "tanh" => new TanhSpec(),
        "gelu" => new GeluSpec(),
        _ => throw new ArgumentException($"unknown activation '{name}'; known: identity, relu, leaky-relu, sigmoid, tanh, gelu", nameof(name)),
    };

    internal static void RequireSameShape<T>(NdArray<T> a, NdArray<T> b, string name) where T : unmanaged, INumberBase<T>
    {
        if (!a.Shape.SequenceEqual(b.Shape)) throw new ArgumentException($"{name} has shape {b.ShapeText} but x has {a.ShapeText}", name);
    }

    internal delegate void Map<T>(ReadOnlySpan<T> x, Span<T> dest);
    internal delegate void Map2<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dest);

    internal static NdArray<T> Run<T>(NdArray<T> x, Map<T> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        var r = new T[x.Length];
        f(x.Span, r);
        return NdArray.Own(r, x.Shape);
    }

    internal static NdArray<T> Run<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy, bool fromOutput, Map2<T> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(y); ArgumentNullException.ThrowIfNull(dy);
        RequireSameShape(x, y, nameof(y)); RequireSameShape(x, dy, nameof(dy));
        var r = new T[x.Length];
        f(fromOutput ? y.Span : x.Span, dy.Span, r);
        return NdArray.Own(r, x.Shape);
    }
}

/// <summary>f(x) = x. Its gradient passes dL/dy through unchanged.</summary>
public sealed record IdentitySpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "identity";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) => x ?? throw new ArgumentNullException(nameof(x));
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) { RequireSameShape(x, dy, nameof(dy)); return dy; }
}

/// <summary>f(x) = max(x, 0); f'(x) = 1 for x &gt; 0, else 0.</summary>
/// <remarks>At exactly 0 the derivative is taken as 0, as PyTorch and tinygrad do: any value in [0, 1] is a valid
/// subgradient, and 0 keeps dead units dead instead of waking them on ties.</remarks>
public sealed record ReluSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "relu";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) => Run<T>(x, Elementwise.Relu);
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) => Run<T>(x, y, dy, fromOutput: false, Elementwise.ReluBackward);
}

/// <summary>f(x) = x for x &gt; 0, else slope·x; f'(x) = 1 or slope.</summary>
/// <param name="Slope">The negative-side slope; PyTorch's default 0.01.</param>
public sealed record LeakyReluSpec(double Slope = 0.01) : ActivationSpec
{
    /// <summary>The slope, checked finite.</summary>
    public double Slope { get; } = double.IsFinite(Slope) ? Slope : throw new ArgumentOutOfRangeException(nameof(Slope), Slope, "slope must be finite");
    /// <inheritdoc/>
    public override string Kind => "leaky-relu";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) { var s = T.CreateChecked(Slope); return Run<T>(x, (a, d) => Elementwise.LeakyRelu(a, s, d)); }
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) { var s = T.CreateChecked(Slope); return Run<T>(x, y, dy, false, (a, g, d) => Elementwise.LeakyReluBackward(a, g, s, d)); }
}

/// <summary>f(x) = σ(x) = 1/(1 + e^(−x)); f'(x) = σ(x)(1 − σ(x)), computed from the output.</summary>
public sealed record SigmoidSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "sigmoid";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) => Run<T>(x, Elementwise.Sigmoid);
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) => Run<T>(x, y, dy, fromOutput: true, Elementwise.SigmoidBackward);
}

/// <summary>f(x) = tanh(x); f'(x) = 1 − tanh²(x), computed from the output.</summary>
public sealed record TanhSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "tanh";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) => Run<T>(x, Elementwise.Tanh);
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) => Run<T>(x, y, dy, fromOutput: true, Elementwise.TanhBackward);
}

/// <summary>GELU, exact: f(x) = x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default <c>approximate='none'</c>); f'(x) = Φ(x) + x·φ(x).</summary>
/// <remarks>Hendrycks &amp; Gimpel (2016), "Gaussian Error Linear Units".</remarks>
public sealed record GeluSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "gelu";
    /// <inheritdoc/>
    public override NdArray<T> Apply<T>(NdArray<T> x) => Run<T>(x, Elementwise.Gelu);
    /// <inheritdoc/>
    public override NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) => Run<T>(x, y, dy, fromOutput: false, Elementwise.GeluBackward);
}
