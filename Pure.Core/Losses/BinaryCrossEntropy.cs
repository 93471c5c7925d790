using System.Numerics;
using NeuralPure.Tensors;

using NeuralPure.Numerics;
namespace NeuralPure.Losses;

/// <summary>Binary cross-entropy from logits (PyTorch's <c>F.binary_cross_entropy_with_logits</c>), mean over all elements.</summary>
/// <remarks>
/// For a logit z and a target y ∈ [0, 1]: ℓ = −[y·log σ(z) + (1 − y)·log(1 − σ(z))], computed as
/// max(z, 0) − z·y + log(1 + e^(−|z|)), which never overflows; dℓ/dz = σ(z) − y. The output is a logit, not a
/// probability: the sigmoid is inside the loss.
/// </remarks>
public sealed record BinaryCrossEntropySpec : LossSpec
{
    /// <inheritdoc/>
    public override string Kind => "bce";

    /// <summary>Checks the targets (finite, in [0, 1]); ℓ summed in double; dℓ/dz = (σ(z) − y)/N.</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        RequireValueTargets(a);
        var z = a.Output; var y = a.Target; var g = a.Gradient;
        for (int i = 0; i < y.Length; i++)
            if (y[i] < T.Zero || y[i] > T.One) throw new ArgumentException($"binary cross-entropy targets must lie in [0, 1]; element {i} is {y[i]}", "target");
        int n = z.Length;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double zi = double.CreateChecked(z[i]), yi = double.CreateChecked(y[i]);
            sum += Math.Max(zi, 0) - zi * yi + Elementary.Log1P(Elementary.Exp(-Math.Abs(zi)));
            g[i] = T.CreateChecked((Kernels.Elementwise.SigmoidScalar(zi) - yi) / n);
        }
        return T.CreateChecked(sum / n);
    }
}

/// <summary>Binary cross-entropy helpers for single probabilities (the lesson's table).</summary>
public static class BinaryCrossEntropy
{
    /// <summary>−log p for a true example predicted with probability p, via the logit log(p/(1 − p)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not in (0, 1).</exception>
    public static double OfProbability(double p, bool label = true)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "a probability strictly between 0 and 1 is needed");
        var logit = Elementary.Log(p) - Elementary.Log(1 - p);
        return new BinaryCrossEntropySpec().Value(NdArray.From<double>([logit], 1, 1), NdArray.From<double>([label ? 1.0 : 0.0], 1, 1));
    }
}
