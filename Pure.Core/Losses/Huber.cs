using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Huber loss (PyTorch's <c>F.huber_loss</c>): quadratic near zero, linear beyond <paramref name="Delta"/>, mean over all elements.</summary>
/// <param name="Delta">The threshold δ &gt; 0 (PyTorch's default 1.0).</param>
public sealed record HuberSpec(double Delta = 1.0) : LossSpec
{
    /// <summary>δ, checked positive and finite.</summary>
    public double Delta { get; } = Delta > 0 && double.IsFinite(Delta) ? Delta : throw new ArgumentOutOfRangeException(nameof(Delta), Delta, "Huber's delta must be a positive finite number");

    /// <inheritdoc/>
    public override string Kind => "huber";

    /// <summary>ℓ(d) = ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond; dℓ/dd = d inside, δ·sign(d) beyond (the two agree at |d| = δ).</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> args)
    {
        RequireValueTargets(args);
        var yHat = args.Output; var y = args.Target; var g = args.Gradient;
        int n = yHat.Length;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            double a = Math.Abs(d);
            sum += a <= Delta ? 0.5 * d * d : Delta * (a - 0.5 * Delta);
            g[i] = T.CreateChecked((a <= Delta ? d : Delta * Math.Sign(d)) / n);
        }
        return T.CreateChecked(sum / n);
    }
}
