using System.Numerics;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace CustomOps;

/// <summary>Lion's state: the momentum m, one array per parameter array. A user's own state record.</summary>
/// <param name="Momentum">m, shaped like the parameters.</param>
public sealed record LionState<T>(ParamTree<T> Momentum) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Lion's update direction (EvoLved Sign Momentum): c = β₁m + (1 − β₁)g; u = sign(c); m ← β₂m + (1 − β₂)g.</summary>
/// <remarks>
/// <para>Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms". Every element of the update is ±1 (0 where c is
/// exactly 0), so the learning rate sets the step's size directly and is usually 3–10× smaller than AdamW's. The momentum is
/// interpolated with β₁ for the update but stored with β₂. As in Adam here, 1 − β is formed in double and rounded to T once.</para>
/// <para>A user transform: <see cref="Open{T}"/> returns a workspace whose <c>Update</c> rewrites the updates in place on its
/// own buffer, so the training fold runs it every step without allocating.</para>
/// </remarks>
/// <param name="Beta1">β₁ ∈ [0, 1), the interpolation for the update; the paper's 0.9.</param>
/// <param name="Beta2">β₂ ∈ [0, 1), the momentum's decay; the paper's 0.99.</param>
public sealed record ScaleByLion(double Beta1 = 0.9, double Beta2 = 0.99) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1).</summary>
    public double Beta1 { get; } = Beta1 >= 0 && Beta1 < 1 ? Beta1 : throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "beta1 must be in [0, 1)");
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = Beta2 >= 0 && Beta2 < 1 ? Beta2 : throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "beta2 must be in [0, 1)");

    /// <summary>m = 0.</summary>
    public override OptState Init<T>(ParamTree<T> parameters) => new LionState<T>(parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<LionState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Momentum, nameof(state));
        return new Work<T>(this, s);
    }

    /// <summary>Per element: c = β₁m + (1 − β₁)u; m ← β₂m + (1 − β₂)u; u ← sign(c) (NaN stays NaN).</summary>
    private sealed class Work<T>(ScaleByLion spec, LionState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> m = new(s.Momentum);
        private readonly T b1 = T.CreateChecked(spec.Beta1), c1 = T.CreateChecked(1 - spec.Beta1);
        private readonly T b2 = T.CreateChecked(spec.Beta2), c2 = T.CreateChecked(1 - spec.Beta2);

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j); var mj = m[j];
                for (int i = 0; i < u.Length; i++)
                {
                    T g = u[i], c = b1 * mj[i] + c1 * g;
                    mj[i] = b2 * mj[i] + c2 * g;
                    u[i] = c > T.Zero ? T.One : c < T.Zero ? -T.One : c; // ±1, or c itself when 0 (or NaN)
                }
            }
        }

        public override OptState State() => new LionState<T>(m.ToTree());
    }
}

/// <summary>The Lion optimizer as a chain of transforms, like the library's own aliases.</summary>
public static class CustomOptimizers
{
    /// <summary>Lion: <c>Chain(ScaleByLion(β₁, β₂), AddDecayedWeights(λ) if λ ≠ 0, ScaleByLearningRate(η))</c>, which gives
    /// p ← p − η(sign(c) + λp) — the same step as lucidrains' lion-pytorch, p ← p(1 − ηλ) − η·sign(c), up to rounding.</summary>
    /// <remarks>Defaults as the paper (Chen et al. 2023) and lion-pytorch: lr 1e-4, β₁ 0.9, β₂ 0.99, weight decay 0. The paper
    /// advises a learning rate 3–10× smaller than AdamW's and a weight decay 3–10× larger.</remarks>
    /// <param name="learningRate">η, or a schedule; default 1e-4.</param>
    /// <param name="beta1">β₁; default 0.9.</param>
    /// <param name="beta2">β₂; default 0.99.</param>
    /// <param name="weightDecay">λ ≥ 0, decoupled (added after the sign); default 0.</param>
    public static GradientTransform Lion(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.99, double weightDecay = 0) =>
        weightDecay != 0
            ? GradientTransform.Chain(new ScaleByLion(beta1, beta2), new AddDecayedWeights(weightDecay), new ScaleByLearningRate(learningRate ?? 1e-4))
            : GradientTransform.Chain(new ScaleByLion(beta1, beta2), new ScaleByLearningRate(learningRate ?? 1e-4));
}
