using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Layers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace CustomOps;

/// <summary>Root-mean-square layer normalisation: y = x / rms(x) · g, with rms(x) = √(mean(x²) + ε) over each example's
/// <paramref name="Width"/> features and a learned gain g [Width] that starts at ones (PyTorch's <c>nn.RMSNorm</c>, parameter
/// <c>weight</c>).</summary>
/// <remarks>
/// <para>Zhang &amp; Sennrich (2019), "Root Mean Square Layer Normalization". Unlike LayerNorm there is no centring and no bias.</para>
/// <para>Backward, per example with r = rms(x): dg = Σ over rows of dy·x/r; dx = (g·dy)/r − x·Σₖ(gₖ·dyₖ·xₖ)/(Width·r³).
/// r is recomputed from x in the backward pass (no scratch). A user layer with a parameter: the library runs these span
/// methods in its pure functions and in its training fold alike.</para>
/// </remarks>
/// <param name="Width">Features per example, ≥ 1.</param>
/// <param name="Eps">ε &gt; 0 under the square root (PyTorch defaults to the type's machine epsilon; 1e-6 here).</param>
public sealed record RmsNormSpec(int Width, double Eps = 1e-6) : LayerSpec
{
    /// <summary>The width, checked.</summary>
    public int Width { get; } = Width >= 1 ? Width : throw new ArgumentOutOfRangeException(nameof(Width), Width, "RMSNorm needs a width ≥ 1");

    /// <summary>ε, checked positive and finite.</summary>
    public double Eps { get; } = Eps > 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a positive finite number");

    /// <inheritdoc/>
    public override string Kind => "rms-norm";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a vector of <see cref="Width"/> features.</exception>
    public override Shape OutputShape(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 1 && input[0] == Width) return input;
        throw new ArgumentException($"RMSNorm({Width}) takes vectors [{Width}], not examples of shape {input}", nameof(input));
    }

    /// <summary>One parameter: the gain <c>weight</c> [Width].</summary>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("weight", Shape.Of(Width))];

    /// <summary>The gain starts at ones (the normalisation alone), as PyTorch's <c>nn.RMSNorm</c>.</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key) => [NdArray.Full(T.One, Width)];

    /// <summary>yᵢⱼ = xᵢⱼ / rᵢ · gⱼ with rᵢ = √(Σⱼ xᵢⱼ²/Width + ε).</summary>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        var x = a.X; var y = a.Y; var g = a.Parameter(0);
        for (int i = 0; i < a.Rows; i++)
        {
            var xi = x.Slice(i * Width, Width); var yi = y.Slice(i * Width, Width);
            T inv = T.One / Rms(xi);
            for (int j = 0; j < Width; j++) yi[j] = xi[j] * inv * g[j];
        }
    }

    /// <summary>dgⱼ = Σᵢ dyᵢⱼ·xᵢⱼ/rᵢ; dxᵢⱼ = gⱼ·dyᵢⱼ/rᵢ − xᵢⱼ·(Σₖ gₖ·dyᵢₖ·xᵢₖ)/(Width·rᵢ³) (when wanted).</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        var x = a.X; var dy = a.DY; var g = a.Parameter(0); var dg = a.Gradient(0);
        dg.Clear();
        T width = T.CreateChecked(Width);
        for (int i = 0; i < a.Rows; i++)
        {
            var xi = x.Slice(i * Width, Width); var dyi = dy.Slice(i * Width, Width);
            T r = Rms(xi), inv = T.One / r, dot = T.Zero;
            for (int j = 0; j < Width; j++)
            {
                dg[j] += dyi[j] * xi[j] * inv;
                dot += g[j] * dyi[j] * xi[j];
            }
            if (!a.InputGradient) continue;
            var dxi = a.DX.Slice(i * Width, Width);
            T c = dot / (width * r * r * r);
            for (int j = 0; j < Width; j++) dxi[j] = g[j] * dyi[j] * inv - xi[j] * c;
        }
    }

    /// <summary>√(mean(x²) + ε), summed in T from the first feature to the last.</summary>
    private T Rms<T>(ReadOnlySpan<T> xi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        foreach (var v in xi) sum += v * v;
        return T.Sqrt(sum / T.CreateChecked(Width) + T.CreateChecked(Eps));
    }
}
