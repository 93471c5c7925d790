using System.Numerics;
using System.Runtime.CompilerServices;

using NeuralPure.Numerics;

namespace NeuralPure.Kernels;

/// <summary>Element-wise maps of SiLU, ELU and Softplus and their derivatives, written into a destination span.</summary>
/// <remarks>
/// As <see cref="Elementwise"/>'s transcendental kernels (Sigmoid): plain scalar loops in T, whose exponentials and logarithms
/// are NeuralPure's own (<see cref="Elementary"/>), so the bits depend neither on the thread count, nor on the instruction set,
/// nor on the platform's C library. Every method accepts the destination being exactly an input (in place) and refuses partial overlap.
/// </remarks>
internal static class MoreElementwise
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> x, Span<T> dest)
    {
        Guard.SameLength(x, dest, "x", "destination");
        Guard.NoPartialOverlap(x, dest, "x");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dest)
    {
        Guard.SameLength(x, dy, "x", "dy");
        Guard.SameLength(x, dest, "x", "destination");
        Guard.NoPartialOverlap(x, dest, "x");
        Guard.NoPartialOverlap(dy, dest, "dy");
    }

    /// <summary>SiLU: y = x·σ(x), σ as <see cref="Elementwise.SigmoidScalar{T}"/> (no overflow for any x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Silu<T>(ReadOnlySpan<T> x, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++) { var v = x[i]; dest[i] = v * Elementwise.SigmoidScalar(v); }
    }

    /// <summary>dx = dy · σ(x)·(1 + x·(1 − σ(x))), PyTorch's silu_backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            var v = x[i];
            var s = Elementwise.SigmoidScalar(v);
            dx[i] = dy[i] * (s * (T.One + v * (T.One - s)));
        }
    }

    /// <summary>ELU: y = x for x &gt; 0, else α(eˣ − 1) (<see cref="Elementary.ExpM1{T}(T)"/>); PyTorch's test is x ≤ 0 for the exponential side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Elu<T>(ReadOnlySpan<T> x, T alpha, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++) { var v = x[i]; dest[i] = v <= T.Zero ? alpha * Elementary.ExpM1(v) : v; }
    }

    /// <summary>dx = dy · α·eˣ where x ≤ 0 (so α·dy at x = 0, as PyTorch's elu_backward), else dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T alpha, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        for (int i = 0; i < x.Length; i++) { var v = x[i]; dx[i] = v <= T.Zero ? dy[i] * (alpha * Elementary.Exp(v)) : dy[i]; }
    }

    /// <summary>Softplus: y = x where βx &gt; threshold (PyTorch's linear regime), else log(1 + e^(βx))/β, evaluated as
    /// (max(βx, 0) + log(1 + e^(−|βx|)))/β: no overflow for any threshold.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softplus<T>(ReadOnlySpan<T> x, T beta, T threshold, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dest);
        for (int i = 0; i < x.Length; i++)
        {
            var v = x[i];
            var bx = v * beta;
            dest[i] = bx > threshold ? v : (T.Max(bx, T.Zero) + Elementary.Log1P(Elementary.Exp(-T.Abs(bx)))) / beta;
        }
    }

    /// <summary>dx = dy where βx &gt; threshold, else dy · σ(βx) (PyTorch's softplus_backward, z/(z + 1) with z = e^(βx), without overflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftplusBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T beta, T threshold, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(x, dy, dx);
        for (int i = 0; i < x.Length; i++)
        {
            var bx = x[i] * beta;
            dx[i] = bx > threshold ? dy[i] : dy[i] * Elementwise.SigmoidScalar(bx);
        }
    }
}
