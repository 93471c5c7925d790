using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

// Each activation: its spec (a parameter-free layer), then its forward and backward on one screen.

/// <summary>A parameter-free, element-wise layer: y = f(x), dL/dx = f′(x)·dL/dy. A user's activation overrides the two span
/// methods (f and f′) and is a layer like any other.</summary>
public abstract record ActivationSpec : LayerSpec
{
    /// <summary>For derived activations, in any assembly.</summary>
    protected ActivationSpec() { }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => input ?? throw new ArgumentNullException(nameof(input));

    /// <summary>f, element by element: writes f(x[i]) into y[i] (y has x's length), on up to <paramref name="threads"/> threads
    /// (the bits must not depend on how many).</summary>
    public abstract void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>f′, element by element: writes dx[i] = f′(x[i])·dy[i], given x, y = f(x) (some derivatives are cheaper from y) and dy.</summary>
    public abstract void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <inheritdoc/>
    public sealed override void Forward<T>(in ForwardArgs<T> a) => Apply(a.X, a.Y, a.Threads);

    /// <inheritdoc/>
    public sealed override void Backward<T>(in BackwardArgs<T> a)
    {
        if (a.InputGradient) Gradient(a.X, a.Y, a.DY, a.DX, a.Threads);
    }

    /// <summary>The activation applied to a batch of any shape (a new array).</summary>
    public NdArray<T> Apply<T>(NdArray<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        var r = new T[x.Length];
        Apply(x.Span, r, 1);
        return NdArray.Own(r, x.Shape);
    }

    /// <summary>dL/dx from the input x, the output y = f(x) and dL/dy (a new array).</summary>
    public NdArray<T> Gradient<T>(NdArray<T> x, NdArray<T> y, NdArray<T> dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(y); ArgumentNullException.ThrowIfNull(dy);
        RequireSameShape(x, y, nameof(y)); RequireSameShape(x, dy, nameof(dy));
        var r = new T[x.Length];
        Gradient(x.Span, y.Span, dy.Span, r, 1);
        return NdArray.Own(r, x.Shape);
    }

    /// <summary>The built-in activation called <paramref name="name"/>: identity, relu, leaky-relu (slope 0.01), sigmoid, tanh, gelu, silu, elu (α 1), softplus (β 1, threshold 20).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static ActivationSpec Parse(string name) => name.ToLowerInvariant() switch
    {
        "identity" or "linear" or "none" => new IdentitySpec(),
        "relu" => new ReluSpec(),
        "leaky-relu" or "leakyrelu" or "leaky_relu" => new LeakyReluSpec(),
        "sigmoid" => new SigmoidSpec(),
        "tanh" => new TanhSpec(),
        "gelu" => new GeluSpec(),
        "silu" => new SiluSpec(),
        "elu" => new EluSpec(),
        "softplus" => new SoftplusSpec(),
        _ => throw new ArgumentException($"unknown activation '{name}'; known: identity, relu, leaky-relu, sigmoid, tanh, gelu, silu, elu, softplus", nameof(name)),
    };

    internal static void RequireSameShape<T>(NdArray<T> a, NdArray<T> b, string name) where T : unmanaged, INumberBase<T>
    {
        if (!a.Shape.SequenceEqual(b.Shape)) throw new ArgumentException($"{name} has shape {b.ShapeText} but x has {a.ShapeText}", name);
    }
}

/// <summary>f(x) = x. Its gradient passes dL/dy through unchanged.</summary>
public sealed record IdentitySpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "identity";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => x.CopyTo(y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => dy.CopyTo(dx);
}

/// <summary>f(x) = max(x, 0); f'(x) = 1 for x &gt; 0, else 0.</summary>
/// <remarks>At exactly 0 the derivative is taken as 0, as PyTorch and tinygrad do: any value in [0, 1] is a valid
/// subgradient, and 0 keeps dead units dead instead of waking them on ties.</remarks>
public sealed record ReluSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "relu";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => Elementwise.ReluOrBackward(x, default, y, backward: false, threads);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => Elementwise.ReluOrBackward(x, dy, dx, backward: true, threads);
}

/// <summary>f(x) = x for x &gt; 0, else slope·x; f'(x) = 1 or slope.</summary>
/// <param name="Slope">The negative-side slope; PyTorch's default 0.01.</param>
public sealed record LeakyReluSpec(double Slope = 0.01) : ActivationSpec
{
    /// <summary>The slope, checked finite.</summary>
    public double Slope { get; } = double.IsFinite(Slope) ? Slope : throw new ArgumentOutOfRangeException(nameof(Slope), Slope, "slope must be finite");
    /// <inheritdoc/>
    public override string Kind => "leaky-relu";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => Elementwise.LeakyRelu(x, T.CreateChecked(Slope), y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => Elementwise.LeakyReluBackward(x, dy, T.CreateChecked(Slope), dx);
}

/// <summary>f(x) = σ(x) = 1/(1 + e^(−x)); f'(x) = σ(x)(1 − σ(x)), computed from the output.</summary>
public sealed record SigmoidSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "sigmoid";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => Elementwise.Sigmoid(x, y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => Elementwise.SigmoidBackward(y, dy, dx);
}

/// <summary>f(x) = tanh(x); f'(x) = 1 − tanh²(x), computed from the output.</summary>
public sealed record TanhSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "tanh";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => Elementwise.Tanh(x, y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => Elementwise.TanhBackward(y, dy, dx);
}

/// <summary>GELU, exact: f(x) = x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default <c>approximate='none'</c>); f'(x) = Φ(x) + x·φ(x).</summary>
/// <remarks>Hendrycks &amp; Gimpel (2016), "Gaussian Error Linear Units".</remarks>
public sealed record GeluSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "gelu";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => Elementwise.Gelu(x, y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => Elementwise.GeluBackward(x, dy, dx);
}
