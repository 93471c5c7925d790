namespace NeuralPure.Losses;

/// <summary>Mean absolute error, L = (1/N) Σ |ŷ − y| over all N elements (PyTorch's <c>torch.nn.L1Loss</c>); dL/dŷᵢ = sign(dᵢ)/N.</summary>
/// <remarks>At dᵢ = 0 the gradient is 0, PyTorch's sign(0) = 0 (a subgradient).</remarks>
public sealed record L1Spec : LossSpec
{
    /// <inheritdoc/>
    public override string Kind => "l1";

    /// <summary>L = (1/N) Σ |dᵢ| with d = ŷ − y, summed in double; dL/dŷᵢ = sign(dᵢ)/N (0 at dᵢ = 0, NaN for a NaN output).</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        RequireValueTargets(a);
        return T.CreateChecked(Evaluate(a.Output, a.Target, a.Gradient));
    }

    /// <summary>The mean absolute error of <paramref name="yHat"/> against <paramref name="y"/>, its gradient written into <paramref name="g"/>.</summary>
    internal static double Evaluate<T>(ReadOnlySpan<T> yHat, ReadOnlySpan<T> y, Span<T> g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int n = yHat.Length;
        double sum = 0, scale = 1.0 / n;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            sum += Math.Abs(d);
            g[i] = T.CreateChecked(Sign(d) * scale);
        }
        return sum / n;
    }

    /// <summary>1, −1 or 0 (PyTorch's sign, 0 at ±0); NaN for NaN.</summary>
    internal static double Sign(double d) => d > 0 ? 1.0 : d < 0 ? -1.0 : d == 0 ? 0.0 : double.NaN;
}
