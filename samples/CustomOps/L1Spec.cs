using NeuralPure.Losses;

namespace CustomOps;

/// <summary>Mean absolute error, L = (1/N) Σ |ŷᵢ − yᵢ| over all N elements (PyTorch's <c>F.l1_loss</c>, mean reduction);
/// dL/dŷᵢ = sign(ŷᵢ − yᵢ)/N, taken as 0 where ŷᵢ = yᵢ (PyTorch's subgradient there).</summary>
/// <remarks>The L1 (least absolute deviations) loss; its minimiser is the conditional median rather than the mean, so it is
/// less sensitive to outliers than <see cref="MseSpec"/>. A user loss: the library calls this span method in its pure
/// functions and in its training fold alike.</remarks>
public sealed record L1Spec : LossSpec
{
    /// <inheritdoc/>
    public override string Kind => "l1";

    /// <summary>L = (1/N) Σ |dᵢ| with d = ŷ − y, summed in double; dL/dŷᵢ = sign(dᵢ)/N.</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        RequireValueTargets(a);
        var yHat = a.Output; var y = a.Target; var g = a.Gradient;
        int n = yHat.Length;
        double sum = 0, scale = 1.0 / n;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            sum += Math.Abs(d);
            g[i] = T.CreateChecked(d > 0 ? scale : d < 0 ? -scale : 0);
        }
        return T.CreateChecked(sum / n);
    }
}
