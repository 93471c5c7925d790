using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

namespace NeuralPure.Optimizers;

/// <summary>The familiar optimizers, each one expression over the transforms, with PyTorch's defaults; and <see cref="ApplyUpdates{T}"/>.</summary>
/// <remarks>
/// Defaults follow PyTorch (torch.optim) wherever PyTorch and optax differ, and every alias says which. Weight decay in
/// <see cref="Sgd"/>, <see cref="Adam"/> and <see cref="RmsProp"/> is PyTorch's coupled L2 (added to the gradient before
/// the rescaling); <see cref="AdamW"/>'s is decoupled.
/// </remarks>
public static partial class Optimizer
{
    /// <summary>θ ← θ + u for every leaf (the updates already carry the −η).</summary>
    /// <exception cref="ArgumentException">The trees' structures differ.</exception>
    public static ParamTree<T> ApplyUpdates<T>(ParamTree<T> parameters, ParamTree<T> updates) where T : unmanaged, IFloatingPointIeee754<T> =>
        ParamTree<T>.Zip(parameters, updates, (p, u) =>
        {
            var r = new T[p.Length];
            Elementwise.Add(p.Span, u.Span, r);
            return NdArray.Own(r, p.Shape);
        }, nameof(updates));

    /// <summary>√(Σ over all leaves of Σ u²), summed in double in leaf order.</summary>
    public static double GlobalNorm<T>(ParamTree<T> tree) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tree);
        double s = 0;
        foreach (var l in tree.Leaves) s += Elementwise.SumOfSquares(l.Span);
        return Math.Sqrt(s);
    }

    /// <summary>Stochastic gradient descent as <c>torch.optim.SGD</c>: weight decay, momentum, dampening and Nesterov, all off by default; lr 1e-3.</summary>
    /// <remarks>
    /// <para>d = g + λθ; with μ ≠ 0: v₁ = d, then v ← μv + (1 − τ)d, and d ← v (Nesterov: d ← d + μv); θ ← θ − η·d.</para>
    /// <para><c>Chain(AddDecayedWeights(λ), TraceMomentum(μ, nesterov, τ), ScaleByLearningRate(η))</c>, leaving out the decay
    /// when λ = 0 and the momentum when μ = 0 (so plain SGD is one scaling). As PyTorch, Nesterov needs μ &gt; 0 and τ = 0;
    /// unlike PyTorch, a dampening with μ = 0 (which would do nothing) is refused too.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening, or dampening without momentum.</exception>
    /// <exception cref="ArgumentOutOfRangeException">λ &lt; 0 or NaN, μ outside [0, 1), τ outside [0, 1].</exception>
    public static GradientTransform Sgd(Schedule? learningRate = null, double weightDecay = 0, double momentum = 0, double dampening = 0, bool nesterov = false)
    {
        if (nesterov) RequireNesterovMomentum(momentum);
        RequireMomentumForDampening(momentum, dampening);
        return Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null,
            momentum != 0 ? new TraceMomentum(momentum, nesterov, dampening) : null,
            new ScaleByLearningRate(learningRate ?? 1e-3));
    }

    /// <summary>Nesterov's look-ahead needs a momentum: with μ = 0 it is plain SGD, so <see cref="Sgd"/> and <see cref="Parse"/>'s
    /// "nesterov" refuse it, as torch.optim.SGD does (the <see cref="Nesterov"/> alias itself keeps μ = 0 as plain SGD, bit for bit).</summary>
    private static double RequireNesterovMomentum(double momentum) =>
        momentum > 0 ? momentum : throw new ArgumentException($"Nesterov momentum requires a momentum > 0 (got {momentum}), as torch.optim.SGD", "nesterov");

    /// <summary>A dampening with μ = 0 does nothing: <see cref="Sgd"/> and <see cref="Parse"/>'s "momentum" refuse it.</summary>
    private static double RequireMomentumForDampening(double momentum, double dampening) =>
        dampening != 0 && momentum == 0
            ? throw new ArgumentException($"dampening {dampening} has no effect without momentum; give a momentum > 0 or leave dampening at 0", nameof(dampening))
            : dampening;

    /// <summary>SGD with momentum (PyTorch semantics): g ← g + λθ; v ← μv + (1 − τ)g (v₁ = g); θ ← θ − η·v. Defaults: lr 1e-3, μ 0.9, τ 0, λ 0.</summary>
    /// <remarks>PyTorch's default momentum is 0 (plain SGD); this alias exists for momentum and takes optax's 0.9. It is
    /// <see cref="Sgd"/> with that momentum: <c>Chain(AddDecayedWeights(λ), TraceMomentum(μ, false, τ), ScaleByLearningRate(η))</c>.</remarks>
    public static GradientTransform Momentum(Schedule? learningRate = null, double momentum = 0.9, double weightDecay = 0, double dampening = 0) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new TraceMomentum(momentum, Dampening: dampening), new ScaleByLearningRate(learningRate ?? 1e-3));

    /// <summary>SGD with Nesterov momentum (PyTorch semantics): v ← μv + g; θ ← θ − η·(g + μv). Defaults: lr 1e-3, μ 0.9, λ 0.</summary>
    public static GradientTransform Nesterov(Schedule? learningRate = null, double momentum = 0.9, double weightDecay = 0) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new TraceMomentum(momentum, Nesterov: true), new ScaleByLearningRate(learningRate ?? 1e-3));

    /// <summary>Adam (Kingma &amp; Ba 2015) as torch.optim.Adam: lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, coupled weight decay 0, AMSGrad off.</summary>
    /// <remarks>g ← g + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε).
    /// <c>Chain(AddDecayedWeights(λ), ScaleByAdam(β₁, β₂, ε, amsgrad), ScaleByLearningRate(η))</c>.</remarks>
    public static GradientTransform Adam(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsGrad = false) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByAdam(beta1, beta2, eps, amsGrad), new ScaleByLearningRate(learningRate ?? 1e-3));

    /// <summary>AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization") as torch.optim.AdamW.</summary>
    /// <remarks>
    /// <para>m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η·[(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε) + λθ].</para>
    /// <para>Defaults are PyTorch's: lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8 and <b>weight decay 0.01</b> (optax's adamw uses 1e-4;
    /// both multiply it by the learning rate). <c>Chain(ScaleByAdam(β₁, β₂, ε), AddDecayedWeights(λ), ScaleByLearningRate(η))</c>.</para>
    /// </remarks>
    public static GradientTransform AdamW(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsGrad = false) =>
        Chain(new ScaleByAdam(beta1, beta2, eps, amsGrad), new AddDecayedWeights(weightDecay), new ScaleByLearningRate(learningRate ?? 1e-3));

    /// <summary>RMSprop as torch.optim.RMSprop: lr 1e-2, α 0.99, ε 1e-8, coupled weight decay 0, momentum 0, not centred.</summary>
    /// <remarks>g ← g + λθ; v ← αv + (1 − α)g²; d = g/(√v + ε) (centred: √(v − ḡ²)); with momentum b ← μb + d, d ← b; θ ← θ − η·d.
    /// <c>Chain(AddDecayedWeights(λ), ScaleByRms(α, ε, centered), TraceMomentum(μ), ScaleByLearningRate(η))</c>.</remarks>
    public static GradientTransform RmsProp(Schedule? learningRate = null, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByRms(alpha, eps, centered),
              momentum != 0 ? new TraceMomentum(momentum) : null, new ScaleByLearningRate(learningRate ?? 1e-2));

    private static GradientTransform Chain(params GradientTransform?[] parts) => GradientTransform.Chain([.. parts.Where(p => p is not null)!]);

    /// <summary>The names <see cref="Parse"/> knows, in the order it lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "lion", "adamax", "nadam", "radam"];

    /// <summary>The options each named optimizer takes besides the learning rate (the <see cref="Parse"/> parameter names:
    /// weightDecay, momentum, dampening, nesterov, lrDecay); any other given option is refused.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static IReadOnlyList<string> OptionsOf(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => ["weightDecay", "momentum", "dampening", "nesterov"],
        "momentum" => ["weightDecay", "momentum", "dampening"],
        "nesterov" => ["weightDecay", "momentum"],
        "adam" or "adamw" => ["weightDecay"],
        "rmsprop" => ["weightDecay", "momentum"],
        "adagrad" => ["weightDecay", "lrDecay"],
        "lion" or "adamax" or "nadam" or "radam" => ["weightDecay"],
        _ => throw Unknown(name),
    };

    /// <summary>The optimizer called <paramref name="name"/> (sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad, lion, adamax, nadam, radam) with the given options;
    /// NaN (or null) options take the alias's default, and an option the alias does not take is refused.</summary>
    /// <remarks>sgd is <see cref="Sgd"/> (PyTorch's SGD: momentum, dampening, Nesterov, weight decay); momentum and nesterov are
    /// its aliases with μ = 0.9 by default; rmsprop takes a momentum; adagrad a lr decay; adam, adamw, lion, adamax, nadam and radam
    /// only weight decay (coupled L2, as PyTorch's; Lion's and AdamW's decoupled).</remarks>
    /// <exception cref="ArgumentException">Unknown name, or an option the named optimizer does not take (the message names both).</exception>
    public static GradientTransform Parse(string name, Schedule? learningRate = null, double weightDecay = double.NaN, double momentum = double.NaN,
        double dampening = double.NaN, bool? nesterov = null, double lrDecay = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(name);
        var takes = OptionsOf(name);
        foreach (var (option, given) in new[] { ("weightDecay", !double.IsNaN(weightDecay)), ("momentum", !double.IsNaN(momentum)), ("dampening", !double.IsNaN(dampening)), ("nesterov", nesterov is not null), ("lrDecay", !double.IsNaN(lrDecay)) })
            if (given && !takes.Contains(option))
                throw new ArgumentException($"the optimizer '{name}' takes no {option}; it takes: {string.Join(", ", ["learningRate", .. takes])}", option);
        return name.ToLowerInvariant() switch
        {
            "sgd" => Sgd(learningRate, Or(weightDecay, 0), Or(momentum, 0), Or(dampening, 0), nesterov ?? false),
            "momentum" => Momentum(learningRate, Or(momentum, 0.9), Or(weightDecay, 0), RequireMomentumForDampening(Or(momentum, 0.9), Or(dampening, 0))),
            "nesterov" => Nesterov(learningRate, RequireNesterovMomentum(Or(momentum, 0.9)), Or(weightDecay, 0)),
            "adam" => Adam(learningRate, weightDecay: Or(weightDecay, 0)),
            "adamw" => AdamW(learningRate, weightDecay: Or(weightDecay, 0.01)),
            "rmsprop" => RmsProp(learningRate, weightDecay: Or(weightDecay, 0), momentum: Or(momentum, 0)),
            "adagrad" => Adagrad(learningRate, Or(lrDecay, 0), Or(weightDecay, 0)),
            "lion" => Lion(learningRate, weightDecay: Or(weightDecay, 0)),
            "adamax" => Adamax(learningRate, weightDecay: Or(weightDecay, 0)),
            "nadam" => NAdam(learningRate, weightDecay: Or(weightDecay, 0)),
            "radam" => RAdam(learningRate, weightDecay: Or(weightDecay, 0)),
            _ => throw Unknown(name),
        };
    }

    private static ArgumentException Unknown(string name) =>
        new($"unknown optimizer '{name}'; known: {string.Join(", ", Names)}", nameof(name));

    private static double Or(double v, double d) => double.IsNaN(v) ? d : v;
}
