using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

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

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        var s = Expect<CountState>(state);
        double lr = LearningRate.At(s.Count);
        if (!double.IsFinite(lr) || lr < 0) throw new InvalidOperationException($"the schedule gave learning rate {lr} at step {s.Count}");
        var f = T.CreateChecked(-lr);
        return (updates.Map(u => Tree.Scale(u, f)), new CountState(s.Count + 1));
    }
}

/// <summary>Momentum with PyTorch's SGD semantics (dampening 0): v ← μ·v + u; output v, or u + μ·v with Nesterov.</summary>
/// <param name="Momentum">μ ∈ [0, 1).</param>
/// <param name="Nesterov">Nesterov's look-ahead form.</param>
/// <remarks>PyTorch starts the buffer at the first gradient, v₁ = g₁, which is what μ·0 + g₁ gives. Sutskever et al. (2013).</remarks>
public sealed record TraceMomentum(double Momentum, bool Nesterov = false) : GradientTransform
{
    /// <summary>μ, checked in [0, 1).</summary>
    public double Momentum { get; } = Momentum >= 0 && Momentum < 1 ? Momentum : throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "momentum must be in [0, 1)");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new MomentumState<T>(parameters.ZerosLike());

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        var s = Expect<MomentumState<T>>(state);
        var mu = T.CreateChecked(Momentum);
        var v = ParamTree<T>.Zip(s.Velocity, updates, (vel, u) => Tree.ScaleAdd(vel, mu, u), nameof(state));
        var outp = Nesterov ? ParamTree<T>.Zip(v, updates, (vel, u) => Tree.ScaleAdd(vel, mu, u)) : v;
        return (outp, new MomentumState<T>(v));
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

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        var s = Expect<AdamState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        long t = s.Count + 1;
        // 1 − β is formed in double, as PyTorch passes it: in float, 1 − (float)0.999 is off by 7e-6 relative, which the
        // bias correction (computed from the exact β) would not cancel.
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), c1 = T.CreateChecked(1 - Beta1), c2 = T.CreateChecked(1 - Beta2);
        var mu = ParamTree<T>.Zip(s.Mu, updates, (m, g) => Tree.Lerp(m, b1, g, c1));
        var nu = ParamTree<T>.Zip(s.Nu, updates, (v, g) => Tree.LerpSquare(v, b2, g, c2));
        var vUse = nu;
        ParamTree<T>? nuMax = null;
        if (AmsGrad)
        {
            nuMax = ParamTree<T>.Zip(s.NuMax ?? throw new ArgumentException("AMSGrad needs the state's NuMax", nameof(state)), nu, Tree.Max);
            vUse = nuMax;
        }
        double bc1 = 1 - Math.Pow(Beta1, t), bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, t));
        T stepScale = T.CreateChecked(1 / bc1), invBc2 = T.CreateChecked(bc2Sqrt), eps = T.CreateChecked(Eps);
        var outp = ParamTree<T>.Zip(mu, vUse, (m, v) => Tree.AdamDirection(m, v, stepScale, invBc2, eps));
        return (outp, new AdamState<T>(t, mu, nu, nuMax));
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

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        var s = Expect<RmsState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Nu, nameof(state));
        T a = T.CreateChecked(Alpha), c = T.CreateChecked(1 - Alpha), eps = T.CreateChecked(Eps);
        var nu = ParamTree<T>.Zip(s.Nu, updates, (v, g) => Tree.LerpSquare(v, a, g, c));
        ParamTree<T>? gAvg = null;
        var denomSource = nu;
        if (Centered)
        {
            gAvg = ParamTree<T>.Zip(s.GradAvg ?? throw new ArgumentException("centred RMSprop needs the state's GradAvg", nameof(state)), updates, (m, g) => Tree.Lerp(m, a, g, c));
            denomSource = ParamTree<T>.Zip(nu, gAvg, Tree.SubtractSquare);
        }
        var outp = ParamTree<T>.Zip(updates, denomSource, (g, v) => Tree.DivideBySqrtPlus(g, v, eps));
        return (outp, new RmsState<T>(nu, gAvg));
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

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        Expect<EmptyState>(state);
        if (WeightDecay == 0) return (updates, state);
        var l = T.CreateChecked(WeightDecay);
        return (ParamTree<T>.Zip(parameters, updates, (p, u) => Tree.ScaleAdd(p, l, u)), state);
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

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        Expect<EmptyState>(state);
        double norm = Optimizer.GlobalNorm(updates);
        if (!(norm > MaxNorm)) return (updates, state); // within the limit, or NaN (left for divergence detection to see)
        var f = T.CreateChecked(MaxNorm / norm);
        return (updates.Map(u => Tree.Scale(u, f)), state);
    }
}

/// <summary>Element-wise leaf operations for the transforms; each allocates its result and writes it through a kernel.</summary>
internal static class Tree
{
    public static NdArray<T> Scale<T>(NdArray<T> a, T f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[a.Length];
        Elementwise.Scale(a.Span, f, r);
        return NdArray.Own(r, a.Shape);
    }

    /// <summary>a·f + b.</summary>
    public static NdArray<T> ScaleAdd<T>(NdArray<T> a, T f, NdArray<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[a.Length];
        Elementwise.ScaleAdd(a.Span, f, b.Span, r);
        return NdArray.Own(r, a.Shape);
    }

    public static NdArray<T> Add<T>(NdArray<T> a, NdArray<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[a.Length];
        Elementwise.Add(a.Span, b.Span, r);
        return NdArray.Own(r, a.Shape);
    }

    /// <summary>β·m + c·g (PyTorch's lerp form of the moment updates computes m·β + g·(1 − β) the same way).</summary>
    public static NdArray<T> Lerp<T>(NdArray<T> m, T beta, NdArray<T> g, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[m.Length];
        OptimizerKernels.Moment(m.Span, beta, g.Span, c, r);
        return NdArray.Own(r, m.Shape);
    }

    /// <summary>β·v + c·g².</summary>
    public static NdArray<T> LerpSquare<T>(NdArray<T> v, T beta, NdArray<T> g, T c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[v.Length];
        OptimizerKernels.SecondMoment(v.Span, beta, g.Span, c, r);
        return NdArray.Own(r, v.Shape);
    }

    public static NdArray<T> Max<T>(NdArray<T> a, NdArray<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[a.Length];
        OptimizerKernels.Max(a.Span, b.Span, r);
        return NdArray.Own(r, a.Shape);
    }

    public static NdArray<T> SubtractSquare<T>(NdArray<T> v, NdArray<T> m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[v.Length];
        OptimizerKernels.SubtractSquare(v.Span, m.Span, r);
        return NdArray.Own(r, v.Shape);
    }

    public static NdArray<T> AdamDirection<T>(NdArray<T> m, NdArray<T> v, T stepScale, T bc2Sqrt, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[m.Length];
        OptimizerKernels.AdamDirection(m.Span, v.Span, stepScale, bc2Sqrt, eps, r);
        return NdArray.Own(r, m.Shape);
    }

    public static NdArray<T> DivideBySqrtPlus<T>(NdArray<T> g, NdArray<T> v, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[g.Length];
        OptimizerKernels.DivideBySqrtPlus(g.Span, v.Span, eps, r);
        return NdArray.Own(r, g.Shape);
    }
}
