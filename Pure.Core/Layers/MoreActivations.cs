using NeuralPure.Kernels;

namespace NeuralPure.Layers;

// SiLU, ELU and Softplus: each spec, then its forward and backward (kernels in MoreElementwise).

/// <summary>SiLU (swish): f(x) = x·σ(x); f′(x) = σ(x)(1 + x(1 − σ(x))) (PyTorch's <c>torch.nn.SiLU</c>).</summary>
/// <remarks>Elfwing, Uchibe &amp; Doya (2017); Ramachandran, Zoph &amp; Le (2017), "Searching for Activation Functions".</remarks>
public sealed record SiluSpec : ActivationSpec
{
    /// <inheritdoc/>
    public override string Kind => "silu";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => MoreElementwise.Silu(x, y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => MoreElementwise.SiluBackward(x, dy, dx);
}

/// <summary>ELU: f(x) = x for x &gt; 0, else α(eˣ − 1); f′(x) = 1 for x &gt; 0, else α·eˣ (PyTorch's <c>torch.nn.ELU</c>).</summary>
/// <param name="Alpha">α, the negative side's saturation value −α; PyTorch's default 1.0.</param>
/// <remarks>At exactly 0 the derivative is α (PyTorch's elu_backward takes the exponential side for x ≤ 0), so 1 for the
/// default α = 1, where f is continuously differentiable. Clevert, Unterthiner &amp; Hochreiter (2015).</remarks>
public sealed record EluSpec(double Alpha = 1.0) : ActivationSpec
{
    /// <summary>α, checked finite.</summary>
    public double Alpha { get; } = double.IsFinite(Alpha) ? Alpha : throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "ELU's alpha must be finite");
    /// <inheritdoc/>
    public override string Kind => "elu";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => MoreElementwise.Elu(x, T.CreateChecked(Alpha), y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) => MoreElementwise.EluBackward(x, dy, T.CreateChecked(Alpha), dx);
}

/// <summary>Softplus: f(x) = (1/β)·log(1 + e^(βx)), and f(x) = x where βx &gt; threshold (PyTorch's <c>torch.nn.Softplus</c>);
/// f′(x) = σ(βx), and 1 in the linear regime.</summary>
/// <param name="Beta">β &gt; 0; PyTorch's default 1.</param>
/// <param name="Threshold">Above βx = threshold the layer is the identity; PyTorch's default 20.</param>
public sealed record SoftplusSpec(double Beta = 1.0, double Threshold = 20.0) : ActivationSpec
{
    /// <summary>β, checked positive and finite.</summary>
    public double Beta { get; } = Beta > 0 && double.IsFinite(Beta) ? Beta : throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "softplus's beta must be a positive finite number");
    /// <summary>The threshold, checked finite.</summary>
    public double Threshold { get; } = double.IsFinite(Threshold) ? Threshold : throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "softplus's threshold must be finite");
    /// <inheritdoc/>
    public override string Kind => "softplus";
    /// <summary>True: dx[i] is f′(x[i])·dy[i], computed element by element, so dx may be dy's own buffer.</summary>
    public override bool BackwardInPlace => true;
    /// <inheritdoc/>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads) => MoreElementwise.Softplus(x, T.CreateChecked(Beta), T.CreateChecked(Threshold), y);
    /// <inheritdoc/>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads) =>
        MoreElementwise.SoftplusBackward(x, dy, T.CreateChecked(Beta), T.CreateChecked(Threshold), dx);
}
