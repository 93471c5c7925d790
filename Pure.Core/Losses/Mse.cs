using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Mean squared error, L = (1/N) Σ (ŷ − y)² over all N elements (PyTorch's <c>F.mse_loss</c>); dL/dŷᵢ = 2dᵢ/N.</summary>
public sealed record MseSpec : LossSpec
{
    /// <inheritdoc/>
    public override string Kind => "mse";

    /// <summary>L = (1/N) Σ dᵢ² with d = ŷ − y, summed in double; dL/dŷᵢ = 2dᵢ/N.</summary>
    public override T ValueAndGrad<T>(in LossArgs<T> a)
    {
        RequireValueTargets(a);
        var yHat = a.Output; var y = a.Target; var g = a.Gradient;
        int n = yHat.Length;
        double sum = 0, scale = 2.0 / n;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            sum += d * d;
            g[i] = T.CreateChecked(scale * d);
        }
        return T.CreateChecked(sum / n);
    }
}

/// <summary>Mean squared error on arrays of any shape.</summary>
public static class Mse
{
    /// <summary>The mean squared error of predictions against targets of the same shape.</summary>
    public static T Value<T>(NdArray<T> prediction, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T> => ValueAndGrad(prediction, target).Value;

    /// <summary>The mean squared error and dL/dŷ = 2(ŷ − y)/N.</summary>
    /// <exception cref="ArgumentException">Shapes differ, the input is empty, or a target is not finite.</exception>
    public static (T Value, NdArray<T> Gradient) ValueAndGrad<T>(NdArray<T> prediction, NdArray<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(prediction); ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"prediction {prediction.ShapeText} and target {target.ShapeText} must have the same shape", nameof(target));
        var (value, grad) = new MseSpec().ValueAndGrad(AsMatrix(prediction), AsMatrix(target));
        return (value, grad.Reshape([.. prediction.Shape]));
    }

    /// <summary>Any shape as a column [N, 1]: the mean and the element-wise gradient do not depend on how the N elements are arranged.</summary>
    internal static NdArray<T> AsMatrix<T>(NdArray<T> a) where T : unmanaged, IFloatingPointIeee754<T> => a.Reshape(a.Length, 1);
}
