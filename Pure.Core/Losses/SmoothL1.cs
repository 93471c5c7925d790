namespace NeuralPure.Losses;

/// <summary>Smooth L1 loss (PyTorch's <c>torch.nn.SmoothL1Loss</c>): ℓ(d) = ½d²/β for |d| &lt; β, |d| − ½β otherwise, mean over all elements.</summary>
/// <param name="Beta">β ≥ 0 (PyTorch's default 1.0); β = 0 is <see cref="L1Spec"/> exactly, as PyTorch defines it.</param>
/// <remarks>SmoothL1(β) = Huber(δ = β)/β, so the two agree only at β = 1. At |d| = β the linear branch applies (PyTorch's
/// smooth_l1_backward: sign(d)/N), which equals the quadratic branch's d/(βN) there.</remarks>
public sealed record SmoothL1Spec(double Beta = 1.0) : LossSpec
{
    /// <summary>β, checked finite and ≥ 0.</summary>
    public double Beta { get; } = Beta >= 0 && double.IsFinite(Beta) ? Beta : throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "smooth L1's beta must be a finite number ≥ 0");

    /// <inheritdoc/>
    public override string Kind => "smooth-l1";

    /// <summary>ℓ(d) = ½d²/β for |d| &lt; β, |d| − ½β otherwise, summed in double; dℓ/dd = d/β inside, sign(d) outside (β = 0: L1).</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> args)
    {
        RequireValueTargets(args);
        var yHat = args.Output; var y = args.Target; var g = args.Gradient;
        if (Beta == 0) return T.CreateChecked(L1Spec.Evaluate(yHat, y, g));
        int n = yHat.Length;
        double sum = 0, scale = 1.0 / n, half = 0.5 * Beta;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            double a = Math.Abs(d);
            bool inside = a < Beta;
            sum += inside ? 0.5 * d * d / Beta : a - half;
            g[i] = T.CreateChecked((inside ? d / Beta : L1Spec.Sign(d)) * scale);
        }
        return T.CreateChecked(sum / n);
    }
}
