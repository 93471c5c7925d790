using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

using NeuralPure.Numerics;
namespace NeuralPure.Optimizers;

// Adam's relatives as torch.optim defines them: Adamax, NAdam (PyTorch ≥ 2.0) and RAdam. Each is one transform written once
// in place; the aliases (Optimizer.Adamax, NAdam, RAdam) chain them with coupled weight decay and the learning rate.

/// <summary>Adamax's moments: the step count t, the first moment m and the exponentially weighted infinity norm u.</summary>
/// <param name="Count">Updates done so far.</param>
/// <param name="Mu">The first moment m (PyTorch's <c>exp_avg</c>).</param>
/// <param name="Inf">The infinity norm u (PyTorch's <c>exp_inf</c>).</param>
public sealed record AdamaxState<T>(long Count, ParamTree<T> Mu, ParamTree<T> Inf) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>NAdam's moments: the step count t, the product of the momentum schedule μ₁·…·μₜ, the first moment m and the
/// second moment v.</summary>
/// <param name="Count">Updates done so far.</param>
/// <param name="MuProduct">Π μ₁..ₜ (PyTorch's <c>mu_product</c>; 1 before the first step), kept in double.</param>
/// <param name="Mu">The first moment m (PyTorch's <c>exp_avg</c>).</param>
/// <param name="Nu">The second moment v (PyTorch's <c>exp_avg_sq</c>).</param>
public sealed record NAdamState<T>(long Count, double MuProduct, ParamTree<T> Mu, ParamTree<T> Nu) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>RAdam's moments: the step count t, the first moment m and the second moment v.</summary>
/// <param name="Count">Updates done so far.</param>
/// <param name="Mu">The first moment m (PyTorch's <c>exp_avg</c>).</param>
/// <param name="Nu">The second moment v (PyTorch's <c>exp_avg_sq</c>).</param>
public sealed record RAdamState<T>(long Count, ParamTree<T> Mu, ParamTree<T> Nu) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Checks shared by the family's hyperparameters and states.</summary>
internal static class AdamFamilyChecks
{
    public static double Beta(double b, string name) =>
        b >= 0 && b < 1 ? b : throw new ArgumentOutOfRangeException(name, b, $"{char.ToLowerInvariant(name[0])}{name[1..]} must be in [0, 1)");

    public static double Eps(double e, string name) =>
        e >= 0 && double.IsFinite(e) ? e : throw new ArgumentOutOfRangeException(name, e, "eps must be a finite number ≥ 0");

    public static long Count(long count, string transform) =>
        count >= 0 ? count : throw new ArgumentException($"the {transform} step count is {count}; it must be ≥ 0", "state");
}

/// <summary>Adamax's rescaling (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization", §7.1: Adam with the
/// infinity norm), with PyTorch's semantics (<c>torch.optim.Adamax</c>).</summary>
/// <remarks>
/// <para>m ← β₁m + (1 − β₁)g; u ← max(β₂u, |g| + ε); output = (m·s) / u with s = 1/(1 − β₁ᵗ) — so θ ← θ − η/(1 − β₁ᵗ)·m/u.</para>
/// <para>PyTorch's arrangement: <c>exp_avg.mul_(β₁).add_(g, alpha=1 − β₁)</c>; <c>exp_inf = amax([exp_inf.mul_(β₂), g.abs().add_(ε)])</c>
/// (ε is added to |g| inside the maximum, where the paper has none); <c>p.addcdiv_(exp_avg, exp_inf, value=−lr/(1 − β₁ᵗ))</c>.
/// Here the bias correction s is computed in double from the exact β₁ and applied to m before the division, and −η by
/// <see cref="ScaleByLearningRate"/> afterwards: the same value to rounding. 1 − β₁ is formed in double, as in
/// <see cref="ScaleByAdam"/>.</para>
/// <para>With ε = 0 and a zero gradient at the first step, u = 0 and the output is 0/0 = NaN, as in PyTorch.</para>
/// </remarks>
/// <param name="Beta1">β₁ ∈ [0, 1), the first moment's decay (PyTorch's default 0.9).</param>
/// <param name="Beta2">β₂ ∈ [0, 1), the infinity norm's decay (default 0.999).</param>
/// <param name="Eps">ε ≥ 0, added to |g| (default 1e-8).</param>
public sealed record ScaleByAdamax(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1).</summary>
    public double Beta1 { get; } = AdamFamilyChecks.Beta(Beta1, nameof(Beta1));
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = AdamFamilyChecks.Beta(Beta2, nameof(Beta2));
    /// <summary>ε, checked finite and ≥ 0.</summary>
    public double Eps { get; } = AdamFamilyChecks.Eps(Eps, nameof(Eps));

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new AdamaxState<T>(0, parameters.ZerosLike(), parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<AdamaxState<T>>(state);
        AdamFamilyChecks.Count(s.Count, "Adamax");
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Inf, nameof(state));
        return new Work<T>(this, s);
    }

    /// <summary>m ← β₁m + (1 − β₁)g; u ← max(β₂u, |g| + ε); g ← (m·s)/u.</summary>
    private sealed class Work<T>(ScaleByAdamax spec, AdamaxState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> mu = new(s.Mu), inf = new(s.Inf);
        private readonly T b1 = T.CreateChecked(spec.Beta1), c1 = T.CreateChecked(1 - spec.Beta1), b2 = T.CreateChecked(spec.Beta2), eps = T.CreateChecked(spec.Eps);
        private long count = s.Count;

        public override void Update(in UpdateArgs<T> a)
        {
            long t = ++count;
            var scale = T.CreateChecked(1 / (1 - Elementary.Pow(spec.Beta1, t)));
            for (int j = 0; j < a.Count; j++)
            {
                var g = a.Updates(j);
                Span<T> m = mu[j], u = inf[j];
                OptimizerKernels.Moment<T>(m, b1, g, c1, m);
                OptimizerKernels.AdamaxDirection<T>(g, m, u, b2, eps, scale);
            }
        }

        public override OptState State() => new AdamaxState<T>(count, mu.ToTree(), inf.ToTree());

        protected internal override OptState Release() => new AdamaxState<T>(count, mu.Release(), inf.Release());
    }
}

/// <summary>NAdam's rescaling: Adam with Nesterov momentum (Dozat 2016, "Incorporating Nesterov Momentum into Adam"), with
/// the momentum schedule and semantics of <c>torch.optim.NAdam</c> in PyTorch ≥ 2.0.</summary>
/// <remarks>
/// <para>μₜ = β₁(1 − ½·0.96^(t·ψ)), μₜ₊₁ = β₁(1 − ½·0.96^((t+1)·ψ)); Πₜ = Πₜ₋₁·μₜ (Π₀ = 1, kept in the state);
/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; d = √(v/(1 − β₂ᵗ)) + ε;
/// output = g·a/d + m·b/d with a = (1 − μₜ)/(1 − Πₜ) and b = μₜ₊₁/(1 − Πₜ·μₜ₊₁) —
/// so θ ← θ − η(1 − μₜ)/(1 − Πₜ)·g/d − η·μₜ₊₁/(1 − Πₜ₊₁)·m/d.</para>
/// <para>PyTorch's arrangement (<c>_single_tensor_nadam</c>, 2.x): <c>mu_product *= mu</c>; <c>exp_avg.lerp_(g, 1 − β₁)</c>
/// (1.13: <c>mul_(β₁).add_(g, alpha=1 − β₁)</c>, here too; the two differ only in rounding);
/// <c>exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1 − β₂)</c>; <c>denom = exp_avg_sq.div(1 − β₂ᵗ).sqrt().add_(ε)</c> (ε outside
/// the root of the bias-corrected v, unlike Adam's √v/√(1 − β₂ᵗ) + ε); then two <c>addcdiv_</c> into p with values
/// −lr·a and −lr·b. Here a and b are computed in double, both terms are summed into the update, and −η follows in
/// <see cref="ScaleByLearningRate"/>: the same value to rounding.</para>
/// <para><b>PyTorch 1.13 differs:</b> its <c>torch.optim.NAdam</c> computes <c>mu_product_next = mu_product * mu * mu_next</c>
/// after <c>mu_product *= mu</c>, counting μₜ twice in Πₜ₊₁. That was fixed upstream in pytorch#92699 (PyTorch 2.0); this
/// transform follows the fix, so on the same problem it differs from 1.13 (by about 2e-3 relative after ten steps in
/// <c>pytorch-reference-3.json</c>).</para>
/// <para>ψ = 0 makes μ constant, β₁/2. Dozat's paper uses ψ = 0.004 (PyTorch's default) with the same 0.96 base.</para>
/// </remarks>
/// <param name="Beta1">β₁ ∈ [0, 1) (PyTorch's default 0.9).</param>
/// <param name="Beta2">β₂ ∈ [0, 1) (default 0.999).</param>
/// <param name="Eps">ε ≥ 0 (default 1e-8).</param>
/// <param name="MomentumDecay">ψ ≥ 0, PyTorch's <c>momentum_decay</c> (default 4e-3).</param>
public sealed record ScaleByNAdam(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double MomentumDecay = 4e-3) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1).</summary>
    public double Beta1 { get; } = AdamFamilyChecks.Beta(Beta1, nameof(Beta1));
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = AdamFamilyChecks.Beta(Beta2, nameof(Beta2));
    /// <summary>ε, checked finite and ≥ 0.</summary>
    public double Eps { get; } = AdamFamilyChecks.Eps(Eps, nameof(Eps));
    /// <summary>ψ, checked finite and ≥ 0.</summary>
    public double MomentumDecay { get; } = MomentumDecay >= 0 && double.IsFinite(MomentumDecay) ? MomentumDecay
        : throw new ArgumentOutOfRangeException(nameof(MomentumDecay), MomentumDecay, "momentum decay must be a finite number ≥ 0");

    /// <summary>μₜ = β₁(1 − ½·0.96^(t·ψ)), the momentum at step <paramref name="t"/>.</summary>
    public double MuAt(long t) => Beta1 * (1.0 - 0.5 * Elementary.Pow(0.96, t * MomentumDecay));

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new NAdamState<T>(0, 1.0, parameters.ZerosLike(), parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<NAdamState<T>>(state);
        AdamFamilyChecks.Count(s.Count, "NAdam");
        if (!(s.MuProduct >= 0 && s.MuProduct <= 1)) throw new ArgumentException($"the NAdam momentum product is {s.MuProduct}; it must be in [0, 1]", nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Nu, nameof(state));
        return new Work<T>(this, s);
    }

    /// <summary>Π ← Π·μₜ; m, v as Adam; d = √(v/(1 − β₂ᵗ)) + ε; g ← g·a/d + m·b/d.</summary>
    private sealed class Work<T>(ScaleByNAdam spec, NAdamState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> mu = new(s.Mu), nu = new(s.Nu);
        private readonly T b1 = T.CreateChecked(spec.Beta1), c1 = T.CreateChecked(1 - spec.Beta1), b2 = T.CreateChecked(spec.Beta2), c2 = T.CreateChecked(1 - spec.Beta2), eps = T.CreateChecked(spec.Eps);
        private long count = s.Count;
        private double product = s.MuProduct;

        public override void Update(in UpdateArgs<T> a)
        {
            long t = ++count;
            double muT = spec.MuAt(t), muNext = spec.MuAt(t + 1);
            product *= muT;
            var bc2 = T.CreateChecked(1 - Elementary.Pow(spec.Beta2, t));
            var ga = T.CreateChecked((1 - muT) / (1 - product));
            var mb = T.CreateChecked(muNext / (1 - product * muNext));
            for (int j = 0; j < a.Count; j++)
            {
                var g = a.Updates(j);
                Span<T> m = mu[j], v = nu[j];
                OptimizerKernels.Moment<T>(m, b1, g, c1, m);
                OptimizerKernels.SecondMoment<T>(v, b2, g, c2, v);
                OptimizerKernels.NAdamDirection<T>(g, m, v, bc2, ga, mb, eps);
            }
        }

        public override OptState State() => new NAdamState<T>(count, product, mu.ToTree(), nu.ToTree());

        protected internal override OptState Release() => new NAdamState<T>(count, product, mu.Release(), nu.Release());
    }
}

/// <summary>RAdam's rescaling: Adam with the variance of its adaptive step rectified (Liu et al. 2020, "On the Variance of the
/// Adaptive Learning Rate and Beyond"), with PyTorch's semantics (<c>torch.optim.RAdam</c>).</summary>
/// <remarks>
/// <para>m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); ρ∞ = 2/(1 − β₂) − 1; ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ).
/// If ρₜ &gt; 5: r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)) and output = m̂·(√(1 − β₂ᵗ)/(√v + ε))·r, the rectified
/// adaptive step; otherwise output = m̂, the un-adapted bias-corrected momentum (SGD with an EMA momentum).</para>
/// <para>PyTorch's arrangement (<c>_single_tensor_radam</c>): <c>bias_corrected_exp_avg = exp_avg / bc1</c>;
/// <c>adaptive_lr = sqrt(bc2) / exp_avg_sq.sqrt().add_(ε)</c> (ε added to √v, not to √v̂);
/// <c>p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=−1)</c>, else <c>p.add_(bias_corrected_exp_avg * lr, alpha=−1)</c>.
/// ρₜ, r and the bias corrections are computed in double, as PyTorch does in Python floats; the element-wise products are
/// taken in the same order with η left to <see cref="ScaleByLearningRate"/>: the same value to rounding.</para>
/// <para>With β₂ = 0.999, ρₜ is just below t (ρ₅ ≈ 4.996, ρ₆ ≈ 5.994), so steps 1–5 are un-rectified and step 6 onwards rectified. When
/// ρ∞ ≤ 5 (β₂ ≤ 2/3) no step is ever rectified and β₂ and ε have no effect.</para>
/// </remarks>
/// <param name="Beta1">β₁ ∈ [0, 1) (PyTorch's default 0.9).</param>
/// <param name="Beta2">β₂ ∈ [0, 1) (default 0.999).</param>
/// <param name="Eps">ε ≥ 0 (default 1e-8).</param>
public sealed record ScaleByRAdam(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1).</summary>
    public double Beta1 { get; } = AdamFamilyChecks.Beta(Beta1, nameof(Beta1));
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = AdamFamilyChecks.Beta(Beta2, nameof(Beta2));
    /// <summary>ε, checked finite and ≥ 0.</summary>
    public double Eps { get; } = AdamFamilyChecks.Eps(Eps, nameof(Eps));

    /// <summary>ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ) with ρ∞ = 2/(1 − β₂) − 1, the length of the approximated simple moving average at
    /// step <paramref name="t"/> ≥ 1; the step is rectified when it exceeds 5.</summary>
    public double RhoAt(long t)
    {
        double rhoInf = 2 / (1 - Beta2) - 1, b2t = Elementary.Pow(Beta2, t);
        return rhoInf - 2 * t * b2t / (1 - b2t);
    }

    /// <summary>True when step <paramref name="t"/> ≥ 1 takes the rectified adaptive step (ρₜ &gt; 5).</summary>
    public bool IsRectified(long t) => RhoAt(t) > 5.0;

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new RAdamState<T>(0, parameters.ZerosLike(), parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<RAdamState<T>>(state);
        AdamFamilyChecks.Count(s.Count, "RAdam");
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Nu, nameof(state));
        return new Work<T>(this, s);
    }

    /// <summary>m, v as Adam; g ← (m/bc₁)·(√bc₂/(√v + ε))·r when ρₜ &gt; 5, else m/bc₁.</summary>
    private sealed class Work<T>(ScaleByRAdam spec, RAdamState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> mu = new(s.Mu), nu = new(s.Nu);
        private readonly T b1 = T.CreateChecked(spec.Beta1), c1 = T.CreateChecked(1 - spec.Beta1), b2 = T.CreateChecked(spec.Beta2), c2 = T.CreateChecked(1 - spec.Beta2), eps = T.CreateChecked(spec.Eps);
        private long count = s.Count;

        public override void Update(in UpdateArgs<T> a)
        {
            long t = ++count;
            double bc1 = 1 - Elementary.Pow(spec.Beta1, t), bc2 = 1 - Elementary.Pow(spec.Beta2, t);
            double rhoInf = 2 / (1 - spec.Beta2) - 1, rho = spec.RhoAt(t);
            bool rectified = rho > 5.0;
            var bc1T = T.CreateChecked(bc1);
            T bc2Sqrt = T.Zero, rect = T.Zero;
            if (rectified)
            {
                bc2Sqrt = T.CreateChecked(Math.Sqrt(bc2));
                rect = T.CreateChecked(Math.Sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho)));
            }
            for (int j = 0; j < a.Count; j++)
            {
                var g = a.Updates(j);
                Span<T> m = mu[j], v = nu[j];
                OptimizerKernels.Moment<T>(m, b1, g, c1, m);
                OptimizerKernels.SecondMoment<T>(v, b2, g, c2, v);
                if (rectified)
                    OptimizerKernels.RAdamRectified<T>(g, m, v, bc1T, bc2Sqrt, eps, rect);
                else
                    Divide(g, m, bc1T);
            }
        }

        /// <summary>g = m / bc₁ (the un-rectified step; a division, as PyTorch's, not a multiplication by the reciprocal).</summary>
        private static void Divide(Span<T> g, ReadOnlySpan<T> m, T bc1)
        {
            for (int i = 0; i < g.Length; i++) g[i] = m[i] / bc1;
        }

        public override OptState State() => new RAdamState<T>(count, mu.ToTree(), nu.ToTree());

        protected internal override OptState Release() => new RAdamState<T>(count, mu.Release(), nu.Release());
    }
}
