using NeuralPure.Layers;
using NeuralPure.Numerics;

namespace CustomOps;

/// <summary>Swish: f(x) = x·σ(βx), with σ(z) = 1/(1 + e^(−z)); f′(x) = σ(βx) + βx·σ(βx)(1 − σ(βx)).</summary>
/// <remarks>Ramachandran, Zoph &amp; Le (2017), "Searching for Activation Functions". With β = 1 it is SiLU (PyTorch's
/// <c>nn.SiLU</c>; Elfwing et al. 2018). A user activation: only the two span methods are written here, and the library runs
/// them in its pure functions and in its training fold alike.</remarks>
/// <param name="Beta">β, finite; 1 gives SiLU.</param>
public sealed record SwishSpec(double Beta = 1) : ActivationSpec
{
    /// <summary>β, checked finite.</summary>
    public double Beta { get; } = double.IsFinite(Beta) ? Beta : throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "beta must be finite");

    /// <inheritdoc/>
    public override string Kind => "swish";

    /// <summary>y = x·σ(βx), element by element, in T.</summary>
    public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
    {
        T beta = T.CreateChecked(Beta);
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * Sigmoid(beta * x[i]);
    }

    /// <summary>dx = dy·(s + βx·s(1 − s)) with s = σ(βx).</summary>
    public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
    {
        T beta = T.CreateChecked(Beta);
        for (int i = 0; i < x.Length; i++)
        {
            T bx = beta * x[i], s = Sigmoid(bx);
            dx[i] = dy[i] * (s + bx * s * (T.One - s));
        }
    }

    /// <summary>σ(z) = 1/(1 + e^(−z)); for z → −∞ the exponential overflows to ∞ and σ to 0, as it should. The exponential is
    /// NeuralPure's (<see cref="Elementary.Exp{T}(T)"/>), not <c>T.Exp</c>: the C library's last bit differs between platforms,
    /// NeuralPure's does not, so a run with this activation gives the same bits on x64 and ARM64, Linux, Windows and macOS.</summary>
    private static T Sigmoid<T>(T z) where T : System.Numerics.IFloatingPointIeee754<T> => T.One / (T.One + Elementary.Exp(-z));
}
