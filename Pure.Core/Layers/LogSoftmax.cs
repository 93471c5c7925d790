using NeuralPure.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>Log-softmax over the last dimension of each example (PyTorch's <c>torch.nn.LogSoftmax(dim=-1)</c>):
/// yᵢ = zᵢ − log Σⱼ e^(zⱼ), the log-probabilities that <see cref="Losses.NllSpec"/> takes. A parameter-free layer.</summary>
/// <remarks>
/// <para><b>Forward.</b> Per group of the last dimension, in double: m = max z, yᵢ = (zᵢ − m) − log Σⱼ e^(zⱼ − m), as PyTorch
/// computes it: no logit overflows, and the subtraction of m comes first, so [100, 100] gives −log 2 to the last bit (zᵢ − (m + log Σ)
/// would lose the bits of log 2 below 100's). Rounded once to T.</para>
/// <para><b>Backward.</b> With pᵢ = e^(yᵢ) = softmax(z)ᵢ and s = Σⱼ dL/dyⱼ: dL/dzᵢ = dL/dyᵢ − pᵢ·s. s is summed (in order, in
/// double) before any dx of the group is written, so dx may be dy's own buffer.</para>
/// <para>log-softmax then nll is cross-entropy written as two steps, as PyTorch users write <c>nn.LogSoftmax</c> and
/// <c>nn.NLLLoss</c>; <see cref="Losses.SoftmaxCrossEntropySpec"/> does both in one pass.</para>
/// </remarks>
public sealed record LogSoftmaxSpec : LayerSpec
{
    /// <inheritdoc/>
    public override string Kind => "log-softmax";

    /// <summary>True: a group's dx is written after its dy has been summed and each dx[i] after dy[i] is read.</summary>
    public override bool BackwardInPlace => true;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A scalar example: there is no dimension to normalise over.</exception>
    public override Shape OutputShape(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0) throw new ArgumentException("log-softmax normalises over the last dimension of each example; a scalar example has none", nameof(input));
        return input;
    }

    /// <inheritdoc/>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        int k = a.Input[a.Input.Rank - 1];
        for (int g = 0; g < a.X.Length; g += k)
        {
            var z = a.X.Slice(g, k); var y = a.Y.Slice(g, k);
            double m = double.NegativeInfinity;
            foreach (var v in z) m = Math.Max(m, double.CreateChecked(v));
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Elementary.Exp(double.CreateChecked(z[j]) - m);
            double log = Elementary.Log(sum);
            for (int j = 0; j < k; j++) y[j] = T.CreateChecked((double.CreateChecked(z[j]) - m) - log);
        }
    }

    /// <inheritdoc/>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        int k = a.Input[a.Input.Rank - 1];
        for (int g = 0; g < a.DY.Length; g += k)
        {
            var dy = a.DY.Slice(g, k); var y = a.Y.Slice(g, k); var dx = a.DX.Slice(g, k);
            double s = 0;
            foreach (var v in dy) s += double.CreateChecked(v);
            for (int j = 0; j < k; j++) dx[j] = T.CreateChecked(double.CreateChecked(dy[j]) - Elementary.Exp(double.CreateChecked(y[j])) * s);
        }
    }
}
