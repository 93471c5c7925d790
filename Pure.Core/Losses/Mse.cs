using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Losses;

/// <summary>Mean squared error, L = (1/N) Σ (ŷ − y)² over all N elements (PyTorch's <c>F.mse_loss</c>).</summary>
public sealed record MseSpec : LossSpec
{
    /// <inheritdoc/>
    public override string Kind => "mse";

    private protected override (T Value, NdArray<T> Gradient) Compute<T>(NdArray<T> output, NdArray<T> target)
    {
        RequireValueTargets(output, target);
        return Mse.ValueAndGrad(output.Span, target.Span, output.Shape);
    }
}

/// <summary>Mean squared error, value and gradient side by side.</summary>
public static class Mse
{
    /// <summary>L = (1/N) Σ dᵢ² with d = ŷ − y; dL/dŷᵢ = 2dᵢ/N.</summary>
    internal static (T, NdArray<T>) ValueAndGrad<T>(ReadOnlySpan<T> yHat, ReadOnlySpan<T> y, System.Collections.Immutable.ImmutableArray<int> shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = yHat.Length;
        var g = new T[n];
        double sum = 0, scale = 2.0 / n;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(yHat[i]) - double.CreateChecked(y[i]);
            sum += d * d;
            g[i] = T.CreateChecked(scale * d);
        }
        return (T.CreateChecked(sum / n), NdArray.Own(g, shape));
    }

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
