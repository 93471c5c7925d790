using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

using NeuralPure.Numerics;
namespace NeuralPure.Optimizers;

// The building blocks. Each is a record of hyperparameters with Init and Update; the equations are in its summary.

/// <summary>u ← −η(t)·u: the step itself, with the learning rate from a schedule. Usually last in a chain.</summary>
/// <param name="LearningRate">η as a schedule of the step count t (a number converts to a constant).</param>
public sealed record ScaleByLearningRate(Schedule LearningRate) : GradientTransform
{
    /// <summary>The schedule, checked non-null.</summary>
    public Schedule LearningRate { get; } = LearningRate ?? throw new ArgumentNullException(nameof(LearningRate));

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new CountState(0);

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => new Work<T>(LearningRate, Expect<CountState>(state).Count);

    /// <summary>u ← −η(t)·u with its count t.</summary>
    internal sealed class Work<T>(Schedule schedule, long count) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private long count = count;

        /// <summary>−η(t) as T, checked finite and ≥ 0; then the count moves on.</summary>
        public T Factor()
        {
            double lr = schedule.At(count);
            if (!double.IsFinite(lr) || lr < 0) throw new InvalidOperationException($"the schedule gave learning rate {lr} at step {count}");
            count++;
            return T.CreateChecked(-lr);
        }

        public override void Update(in UpdateArgs<T> a)
        {
            var f = Factor();
            for (int j = 0; j < a.Count; j++) Elementwise.Scale<T>(a.Updates(j), f, a.Updates(j));
        }

        public override OptState State() => new CountState(count);
    }
}

/// <summary>Momentum with PyTorch's SGD semantics: v ← μ·v + (1 − τ)·u (v₁ = u₁); output v, or u + μ·v with Nesterov.</summary>
/// <param name="Momentum">μ ∈ [0, 1).</param>
/// <param name="Nesterov">Nesterov's look-ahead form (Sutskever et al. 2013); as PyTorch, it needs zero dampening.</param>
/// <param name="Dampening">τ ∈ [0, 1], the share of each new update left out of the buffer after the first step (default 0).</param>
/// <remarks>
/// <para>PyTorch starts the buffer at the first gradient itself, v₁ = u₁, with no dampening; afterwards
/// v ← μ·v + (1 − τ)·u. With τ = 0 that is what μ·0 + u₁ gives, so the state is just <see cref="MomentumState{T}"/>;
/// with τ ≠ 0 the first step is special and the state, <see cref="DampedMomentumState{T}"/>, also counts the steps.</para>
/// <para>Nesterov with τ ≠ 0 throws ArgumentException, as <c>torch.optim.SGD</c> does.</para>
/// </remarks>
public sealed record TraceMomentum(double Momentum, bool Nesterov = false, double Dampening = 0) : GradientTransform
{
    /// <summary>μ, checked in [0, 1).</summary>
    public double Momentum { get; } = Momentum >= 0 && Momentum < 1 ? Momentum : throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "momentum must be in [0, 1)");

    /// <summary>τ, checked in [0, 1], and zero with Nesterov.</summary>
    public double Dampening { get; } = !(Dampening >= 0 && Dampening <= 1)
        ? throw new ArgumentOutOfRangeException(nameof(Dampening), Dampening, "dampening must be in [0, 1]")
        : Nesterov && Dampening != 0 ? throw new ArgumentException($"Nesterov momentum requires zero dampening (got {Dampening}), as torch.optim.SGD", nameof(Dampening))
        : Dampening;

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) =>
        Dampening == 0 ? new MomentumState<T>(parameters.ZerosLike()) : new DampedMomentumState<T>(0, parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        if (Dampening == 0)
        {
            var s = Expect<MomentumState<T>>(state);
            ParamTree<T>.RequireSameStructure(parameters, s.Velocity, nameof(state));
            return new Work<T>(this, s);
        }
        var d = Expect<DampedMomentumState<T>>(state);
        if (d.Count < 0) throw new ArgumentException($"the dampened momentum's step count is {d.Count}; it must be ≥ 0", nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, d.Velocity, nameof(state));
        return new DampedWork<T>(this, d);
    }

    /// <summary>v ← v·μ + u; u ← v (or v·μ + u with Nesterov).</summary>
    private sealed class Work<T>(TraceMomentum spec, MomentumState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> velocity = new(s.Velocity);
        private readonly T mu = T.CreateChecked(spec.Momentum);

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j);
                Elementwise.ScaleAdd<T>(velocity[j], mu, u, velocity[j]);
                if (spec.Nesterov) Elementwise.ScaleAdd<T>(velocity[j], mu, u, u);
                else velocity[j].CopyTo(u);
            }
        }

        public override OptState State() => new MomentumState<T>(velocity.ToTree());

        protected internal override OptState Release() => new MomentumState<T>(velocity.Release());
    }

    /// <summary>First step v ← u; then u ← (1 − τ)·u, v ← v·μ + u; u ← v.</summary>
    private sealed class DampedWork<T>(TraceMomentum spec, DampedMomentumState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> velocity = new(s.Velocity);
        private readonly T mu = T.CreateChecked(spec.Momentum);
        private readonly T keep = T.CreateChecked(1 - spec.Dampening);
        private long count = s.Count;

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j);
                if (count == 0) u.CopyTo(velocity[j]);
                else
                {
                    Elementwise.Scale<T>(u, keep, u);
                    Elementwise.ScaleAdd<T>(velocity[j], mu, u, velocity[j]);
                    velocity[j].CopyTo(u);
                }
            }
            count++;
        }

        public override OptState State() => new DampedMomentumState<T>(count, velocity.ToTree());

        protected internal override OptState Release() => new DampedMomentumState<T>(count, velocity.Release());
    }
}

/// <summary>Adam's rescaling (Kingma &amp; Ba 2015), bias-corrected, optionally AMSGrad (Reddi et al. 2018).</summary>
/// <remarks>
/// m ← β₁m + (1 − β₁)u; v ← β₂v + (1 − β₂)u²; (AMSGrad: v̂max ← max(v̂max, v), used for v below);
/// output = (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε), the exact arrangement of torch.optim.Adam.
/// </remarks>
public sealed record ScaleByAdam(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, bool AmsGrad = false) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1).</summary>
    public double Beta1 { get; } = Beta1 >= 0 && Beta1 < 1 ? Beta1 : throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "beta1 must be in [0, 1)");
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = Beta2 >= 0 && Beta2 < 1 ? Beta2 : throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "beta2 must be in [0, 1)");
    /// <summary>ε, checked ≥ 0.</summary>
    public double Eps { get; } = Eps >= 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a finite number ≥ 0");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) =>
        new AdamState<T>(0, parameters.ZerosLike(), parameters.ZerosLike(), AmsGrad ? parameters.ZerosLike() : null);

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => new Work<T>(this, Checked(state, parameters));

    private AdamState<T> Checked<T>(OptState state, ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = Expect<AdamState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Nu, nameof(state));
        if (AmsGrad) ParamTree<T>.RequireSameStructure(parameters, s.NuMax ?? throw new ArgumentException("AMSGrad needs the state's NuMax", nameof(state)), nameof(state));
        return s;
    }

    /// <summary>Adam or AdamW in one pass per element, when this transform sits in a chain as the aliases build it:
    /// [AddDecayedWeights(λc)], ScaleByAdam, [AddDecayedWeights(λd)], ScaleByLearningRate (not AMSGrad).</summary>
    /// <remarks>Per element: g' = p·λc + g; m ← β₁m + (1 − β₁)g'; v ← β₂v + (1 − β₂)g'²; d = (m·s)/(√v/b + ε); d' = p·λd + d;
    /// p ← p + d'·(−η) — the same IEEE operations in the same order as the separate transforms and the addition, so the
    /// same bits, in one pass over memory instead of seven (<see cref="OptimizerKernels.AdamStep{T}(Span{T}, ReadOnlySpan{T}, Span{T}, Span{T}, in AdamConstants{T}, int)"/>).</remarks>
    public override TransformWorkspace<T>? FuseInChain<T>(ImmutableArray<GradientTransform> chain, int index, ImmutableArray<OptState> states, ParamTree<T> parameters)
    {
        if (AmsGrad || chain.Length - index is < 2 or > 3 || index > 1 || chain[^1] is not ScaleByLearningRate lr) return null;
        var before = index == 1 ? chain[0] as AddDecayedWeights : null;
        var after = chain.Length - index == 3 ? chain[index + 1] as AddDecayedWeights : null;
        if ((index == 1 && before is null) || (chain.Length - index == 3 && after is null)) return null;
        if (before is not null) Expect<EmptyState>(states[0]);
        if (after is not null) Expect<EmptyState>(states[index + 1]);
        var adam = new Work<T>(this, Checked(states[index], parameters), copyMoments: false);
        var rate = (ScaleByLearningRate.Work<T>)lr.Open(states[^1], parameters);
        return new Fused<T>(adam, rate, before, after);
    }

    /// <summary>m, v (and AMSGrad's running maximum) with the step count; the direction (m/(1 − β₁ᵗ)) / (√v/√(1 − β₂ᵗ) + ε).</summary>
    private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ScaleByAdam spec;
        private long count;
        public readonly TreeBuffers<T> Mu, Nu;
        private readonly TreeBuffers<T>? nuMax;
        public readonly T B1, B2, C1, C2, Eps;

        // copyMoments: false for the fused step, whose first update rewrites m and v from the state's arrays
        // (TreeBuffers.Rewrite) instead of copying them first.
        public Work(ScaleByAdam spec, AdamState<T> s, bool copyMoments = true)
        {
            this.spec = spec; count = s.Count; Mu = new(s.Mu, copyMoments); Nu = new(s.Nu, copyMoments); nuMax = spec.AmsGrad ? new(s.NuMax!) : null;
            // 1 − β is formed in double, as PyTorch passes it: in float, 1 − (float)0.999 is off by 7e-6 relative, which the
            // bias correction (computed from the exact β) would not cancel.
            B1 = T.CreateChecked(spec.Beta1); B2 = T.CreateChecked(spec.Beta2); C1 = T.CreateChecked(1 - spec.Beta1); C2 = T.CreateChecked(1 - spec.Beta2); Eps = T.CreateChecked(spec.Eps);
        }

        /// <summary>The bias corrections of the next step, 1/(1 − β₁ᵗ) and √(1 − β₂ᵗ) as T; advances the count.</summary>
        public (T StepScale, T Bc2Sqrt) Next()
        {
            long t = ++count;
            double bc1 = 1 - Elementary.Pow(spec.Beta1, t), bc2Sqrt = Math.Sqrt(1 - Elementary.Pow(spec.Beta2, t));
            return (T.CreateChecked(1 / bc1), T.CreateChecked(bc2Sqrt));
        }

        public override void Update(in UpdateArgs<T> a)
        {
            var (stepScale, bc2) = Next();
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j);
                OptimizerKernels.Moment<T>(Mu[j], B1, u, C1, Mu[j]);
                OptimizerKernels.SecondMoment<T>(Nu[j], B2, u, C2, Nu[j]);
                Span<T> vUse = Nu[j];
                if (nuMax is not null) { OptimizerKernels.Max<T>(nuMax[j], Nu[j], nuMax[j]); vUse = nuMax[j]; }
                OptimizerKernels.AdamDirection<T>(Mu[j], vUse, stepScale, bc2, Eps, u);
            }
        }

        public override OptState State() => new AdamState<T>(count, Mu.ToTree(), Nu.ToTree(), nuMax?.ToTree());

        protected internal override OptState Release() => new AdamState<T>(count, Mu.Release(), Nu.Release(), nuMax?.Release());
    }

    /// <summary>The fused Adam/AdamW step of <see cref="FuseInChain{T}"/>: updates p, m and v in one pass; its state is the
    /// chain's ([EmptyState], AdamState, [EmptyState], CountState).</summary>
    private sealed class Fused<T>(Work<T> adam, ScaleByLearningRate.Work<T> rate, AddDecayedWeights? before, AddDecayedWeights? after) : TransformWorkspace<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T? lc = before is { WeightDecay: not 0 } ? T.CreateChecked(before.WeightDecay) : null;
        private readonly T? ld = after is { WeightDecay: not 0 } ? T.CreateChecked(after.WeightDecay) : null;

        public override bool AppliesUpdates => true;

        public override void Update(in UpdateArgs<T> a)
        {
            var (stepScale, bc2) = adam.Next();
            var factor = rate.Factor();
            var c = new AdamConstants<T>(adam.B1, adam.C1, adam.B2, adam.C2, stepScale, bc2, adam.Eps, factor, lc, ld);
            for (int j = 0; j < a.Count; j++)
            {
                var m1 = adam.Mu.Rewrite(j, out var m0);
                var v1 = adam.Nu.Rewrite(j, out var v0);
                OptimizerKernels.AdamStep<T>(a.WritableParameters(j), a.Updates(j), m0, v0, m1, v1, c, a.Threads);
            }
        }

        public override OptState State() => Chain(adam.State(), rate.State());

        /// <summary>The moments handed over, not copied (the base's Release would copy them through <see cref="State"/>: for
        /// config d, 15 MB at the end of every fit).</summary>
        protected internal override OptState Release() => Chain(adam.Release(), rate.Release());

        private ChainState Chain(OptState adamState, OptState rateState)
        {
            var states = ImmutableArray.CreateBuilder<OptState>(4);
            if (before is not null) states.Add(EmptyState.Instance);
            states.Add(adamState);
            if (after is not null) states.Add(EmptyState.Instance);
            states.Add(rateState);
            return new ChainState(states.ToImmutable());
        }
    }
}

/// <summary>RMSprop's rescaling with PyTorch's semantics: v ← αv + (1 − α)u²; output u / (√v + ε), or centred u / (√max(v − ḡ², 0) + ε) with ḡ ← αḡ + (1 − α)u.</summary>
/// <remarks>Tieleman &amp; Hinton (2012). PyTorch's RMSprop momentum is <see cref="TraceMomentum"/> applied after this.</remarks>
public sealed record ScaleByRms(double Alpha = 0.99, double Eps = 1e-8, bool Centered = false) : GradientTransform
{
    /// <summary>α, checked in [0, 1).</summary>
    public double Alpha { get; } = Alpha >= 0 && Alpha < 1 ? Alpha : throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "alpha must be in [0, 1)");
    /// <summary>ε, checked ≥ 0.</summary>
    public double Eps { get; } = Eps >= 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a finite number ≥ 0");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new RmsState<T>(parameters.ZerosLike(), Centered ? parameters.ZerosLike() : null);

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<RmsState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Nu, nameof(state));
        if (Centered) ParamTree<T>.RequireSameStructure(parameters, s.GradAvg ?? throw new ArgumentException("centred RMSprop needs the state's GradAvg", nameof(state)), nameof(state));
        return new Work<T>(this, s);
    }

    /// <summary>v ← αv + (1 − α)u²; (centred: ḡ ← αḡ + (1 − α)u, v' = max(v − ḡ², 0)); u ← u/(√v' + ε).</summary>
    private sealed class Work<T> : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> nu;
        private readonly TreeBuffers<T>? gAvg;
        private readonly T[][]? denom;
        private readonly T a, c, eps;

        public Work(ScaleByRms spec, RmsState<T> s)
        {
            nu = new(s.Nu);
            if (spec.Centered) { gAvg = new(s.GradAvg!); denom = [.. s.Nu.Leaves.Select(l => new T[l.Length])]; }
            a = T.CreateChecked(spec.Alpha); c = T.CreateChecked(1 - spec.Alpha); eps = T.CreateChecked(spec.Eps);
        }

        public override void Update(in UpdateArgs<T> args)
        {
            for (int j = 0; j < args.Count; j++)
            {
                var u = args.Updates(j);
                OptimizerKernels.SecondMoment<T>(nu[j], a, u, c, nu[j]);
                Span<T> source = nu[j];
                if (gAvg is not null)
                {
                    OptimizerKernels.Moment<T>(gAvg[j], a, u, c, gAvg[j]);
                    OptimizerKernels.SubtractSquare<T>(nu[j], gAvg[j], denom![j]);
                    source = denom[j];
                }
                OptimizerKernels.DivideBySqrtPlus<T>(u, source, eps, u);
            }
        }

        public override OptState State() => new RmsState<T>(nu.ToTree(), gAvg?.ToTree());

        protected internal override OptState Release() => new RmsState<T>(nu.Release(), gAvg?.Release());
    }
}

/// <summary>u ← u + λ·θ: weight decay added to the updates.</summary>
/// <param name="WeightDecay">λ ≥ 0.</param>
/// <remarks>
/// Where it stands in a chain decides what it means. <em>Before</em> the rescaling (Adam, RMSprop, momentum) it is
/// coupled L2 regularisation, PyTorch's <c>weight_decay</c> of SGD/Adam/RMSprop (the gradient of λ/2·‖θ‖²).
/// <em>After</em> the rescaling and before the learning rate it is decoupled decay, AdamW's θ ← θ − η(û + λθ)
/// (Loshchilov &amp; Hutter 2019). For plain SGD the two coincide.
/// </remarks>
public sealed record AddDecayedWeights(double WeightDecay) : GradientTransform
{
    /// <summary>λ, checked ≥ 0.</summary>
    public double WeightDecay { get; } = WeightDecay >= 0 && double.IsFinite(WeightDecay) ? WeightDecay : throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "weight decay must be a finite number ≥ 0");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        Expect<EmptyState>(state);
        return new Work<T>(WeightDecay);
    }

    /// <summary>u ← p·λ + u; nothing when λ = 0.</summary>
    private sealed class Work<T>(double weightDecay) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T lambda = T.CreateChecked(weightDecay);

        public override void Update(in UpdateArgs<T> a)
        {
            if (weightDecay == 0) return;
            for (int j = 0; j < a.Count; j++) Elementwise.ScaleAdd<T>(a.Parameters(j), lambda, a.Updates(j), a.Updates(j));
        }

        public override OptState State() => EmptyState.Instance;
    }
}

/// <summary>Scales the updates so that their global L2 norm is at most <paramref name="MaxNorm"/>: u ← u·min(1, c/‖u‖).</summary>
/// <remarks>optax.clip_by_global_norm: updates already within the limit pass unchanged (PyTorch's clip_grad_norm_ instead always
/// multiplies by min(1, c/(‖u‖ + 1e-6))). The norm is summed in double over every leaf, in order.</remarks>
public sealed record ClipByGlobalNorm(double MaxNorm) : GradientTransform
{
    /// <summary>c, checked positive.</summary>
    public double MaxNorm { get; } = MaxNorm > 0 && double.IsFinite(MaxNorm) ? MaxNorm : throw new ArgumentOutOfRangeException(nameof(MaxNorm), MaxNorm, "the clipping norm must be a positive finite number");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        Expect<EmptyState>(state);
        return new Work<T>(MaxNorm);
    }

    /// <summary>‖u‖ = √(Σ over leaves of Σ u²), summed in double in leaf order; u ← u·(c/‖u‖) when ‖u‖ &gt; c.</summary>
    private sealed class Work<T>(double maxNorm) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Update(in UpdateArgs<T> a)
        {
            double s = 0;
            for (int j = 0; j < a.Count; j++) s += Elementwise.SumOfSquares<T>(a.Updates(j));
            double norm = Math.Sqrt(s);
            if (!(norm > maxNorm)) return; // within the limit, or NaN (left for divergence detection to see)
            var f = T.CreateChecked(maxNorm / norm);
            for (int j = 0; j < a.Count; j++) Elementwise.Scale<T>(a.Updates(j), f, a.Updates(j));
        }

        public override OptState State() => EmptyState.Instance;
    }
}
