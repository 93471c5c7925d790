using System.Collections.Immutable;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;
using static NeuralPure.Optimizers.GradientTransform;

namespace NeuralPure.Properties.Optimizers;

/// <summary>The aliases of Optimizer.cs: their equivalences, PyTorch's formulas, the problem table and the argument checks.</summary>
public sealed class OptimizerTests
{
    // ───────────────────────── equivalences ─────────────────────────

    /// <summary>Random hyperparameters for every alias.</summary>
    private sealed record Hyper(double Lr, double Momentum, double WeightDecay, double Beta1, double Beta2, double Eps, double Alpha, bool Centered, bool AmsGrad)
    {
        public static Gen<Hyper> Gen { get; } =
            from lr in OptimizerGens.LearningRate
            from mu in OptimizerGens.Rate(0.99)
            from wd in OptimizerGens.WeightDecay
            from b1 in OptimizerGens.Rate(0.99)
            from b2 in OptimizerGens.Rate(0.9999)
            from eps in FsCheck.Fluent.Gen.Elements(1e-8, 1e-6, 1e-3)
            from alpha in OptimizerGens.Rate(0.999).Select(a => 0.5 + a / 2) // α in [0.5, 0.9995]: PyTorch's default is 0.99
            from centered in FsCheck.Fluent.Gen.Elements(false, true)
            from ams in FsCheck.Fluent.Gen.Elements(false, true)
            select new Hyper(lr, mu, wd, b1, b2, eps, alpha, centered, ams);
    }

    /// <summary>Each alias next to the Chain its XML doc writes down (with AddDecayedWeights(λ) and TraceMomentum(μ) always
    /// present: λ = 0 and μ = 0 must then be no-ops bit for bit).</summary>
    private static IEnumerable<(string Name, GradientTransform Alias, GradientTransform Written)> Aliases(Hyper h)
    {
        yield return ("Sgd", Optimizer.Sgd(h.Lr, h.WeightDecay), Chain(new AddDecayedWeights(h.WeightDecay), new ScaleByLearningRate(h.Lr)));
        yield return ("Momentum", Optimizer.Momentum(h.Lr, h.Momentum, h.WeightDecay),
            Chain(new AddDecayedWeights(h.WeightDecay), new TraceMomentum(h.Momentum), new ScaleByLearningRate(h.Lr)));
        yield return ("Nesterov", Optimizer.Nesterov(h.Lr, h.Momentum, h.WeightDecay),
            Chain(new AddDecayedWeights(h.WeightDecay), new TraceMomentum(h.Momentum, Nesterov: true), new ScaleByLearningRate(h.Lr)));
        yield return ("Adam", Optimizer.Adam(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad),
            Chain(new AddDecayedWeights(h.WeightDecay), new ScaleByAdam(h.Beta1, h.Beta2, h.Eps, h.AmsGrad), new ScaleByLearningRate(h.Lr)));
        yield return ("AdamW", Optimizer.AdamW(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad),
            Chain(new ScaleByAdam(h.Beta1, h.Beta2, h.Eps, h.AmsGrad), new AddDecayedWeights(h.WeightDecay), new ScaleByLearningRate(h.Lr)));
        yield return ("RmsProp", Optimizer.RmsProp(h.Lr, h.Alpha, h.Eps, h.WeightDecay, h.Momentum, h.Centered),
            Chain(new AddDecayedWeights(h.WeightDecay), new ScaleByRms(h.Alpha, h.Eps, h.Centered), new TraceMomentum(h.Momentum), new ScaleByLearningRate(h.Lr)));
        yield return ("RmsProp(μ=0)", Optimizer.RmsProp(h.Lr, h.Alpha, h.Eps, h.WeightDecay, 0, h.Centered),
            Chain(new AddDecayedWeights(h.WeightDecay), new ScaleByRms(h.Alpha, h.Eps, h.Centered), new TraceMomentum(0), new ScaleByLearningRate(h.Lr)));
    }

    [Law(40)]
    public Property Every_alias_is_bitwise_its_written_chain() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var failures = Aliases(h)
                .Select(a => (a.Name, Diff: OptimizerRun.FirstDifference<double>(a.Alias, a.Written, t) ?? OptimizerRun.FirstDifference<float>(a.Alias, a.Written, t)))
                .Where(a => a.Diff is not null)
                .Select(a => $"{a.Name}: {a.Diff}")
                .ToList();
            return (failures.Count == 0).Label(string.Join("\n", failures) + $"\n{h}");
        });

    [Law(40)]
    public Property AdamW_with_zero_decay_is_bitwise_Adam() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var adamW = Optimizer.AdamW(h.Lr, h.Beta1, h.Beta2, h.Eps, weightDecay: 0, amsGrad: h.AmsGrad);
            var adam = Optimizer.Adam(h.Lr, h.Beta1, h.Beta2, h.Eps, weightDecay: 0, amsGrad: h.AmsGrad);
            var d = OptimizerRun.FirstDifference<double>(adamW, adam, t) ?? OptimizerRun.FirstDifference<float>(adamW, adam, t);
            return (d is null).Label(d ?? "");
        });

    /// <summary>What the code computes for SGD: u = fl(g·fl_T(−η)) (ScaleByLearningRate: one rounding), then θ' = fl(θ + u)
    /// (ApplyUpdates: one rounding); no FMA anywhere. That is exactly ScalarReference.ScaleAdd(g, −η, θ), so the law is bitwise,
    /// for Sgd and for Momentum/Nesterov with μ = 0 (v = 0·v + g = g bitwise for the nonzero gradients generated), over several steps.</summary>
    [Law(60)]
    public Property Sgd_and_momentum_zero_are_bitwise_theta_minus_eta_g() =>
        Prop.ForAll(OptimizerGens.Trajectory(4).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, lr) =>
            SgdLaw<double>(t, lr).And(SgdLaw<float>(t, lr)));

    private static Property SgdLaw<T>(Trajectory t, double lr) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = new List<ParamTree<T>> { t.Params.Cast<T>() };
        var f = T.CreateChecked(-lr);
        foreach (var g in t.Grads)
            expected.Add(ParamTree<T>.Zip(g.Cast<T>(), expected[^1], (gl, pl) =>
            {
                var r = new T[gl.Length];
                ScalarReference.ScaleAdd(gl.Span, f, pl.Span, r);
                for (int i = 0; i < r.Length; i++)
                    if (!r[i].Equals(pl.Span[i] - T.CreateChecked(lr) * gl.Span[i])) throw new InvalidOperationException("the definition itself is not θ − ηg");
                return NdArray.From<T>(r, gl.Shape.ToArray());
            }));
        var prop = true.ToProperty();
        foreach (var (name, opt) in new[] { ("Sgd", Optimizer.Sgd(lr)), ("Momentum(0)", Optimizer.Momentum(lr, 0)), ("Nesterov(0)", Optimizer.Nesterov(lr, 0)) })
        {
            var got = OptimizerRun.Params<T>(opt, t);
            var bad = Enumerable.Range(0, got.Count).FirstOrDefault(i => !got[i].Equals(expected[i]), -1);
            prop = prop.And((bad < 0).Label($"{typeof(T).Name} {name} differs from θ − ηg at step {bad}"));
        }
        return prop;
    }

    /// <summary>A zero gradient from a fresh state (and zero decay) leaves θ bitwise unchanged for several steps: the update is
    /// −η·0 = −0 and θ + (−0) = θ for every θ, including ±0.</summary>
    [Law(30)]
    public Property Zero_gradient_and_zero_decay_change_nothing() =>
        Prop.ForAll(OptimizerGens.Trajectory(0).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, lr) =>
        {
            var zero = t.Params.ZerosLike();
            var steps = new Trajectory(t.Params, [zero, zero, zero]);
            var opts = new (string, GradientTransform)[]
            {
                ("Sgd", Optimizer.Sgd(lr)), ("Momentum", Optimizer.Momentum(lr)), ("Nesterov", Optimizer.Nesterov(lr)),
                ("Adam", Optimizer.Adam(lr)), ("Adam amsgrad", Optimizer.Adam(lr, amsGrad: true)), ("AdamW(λ=0)", Optimizer.AdamW(lr, weightDecay: 0)),
                ("RmsProp", Optimizer.RmsProp(lr)), ("RmsProp centred", Optimizer.RmsProp(lr, centered: true)), ("RmsProp momentum", Optimizer.RmsProp(lr, momentum: 0.9)),
            };
            var bad = new List<string>();
            foreach (var (name, opt) in opts)
            {
                if (OptimizerRun.Params<double>(opt, steps).Any(p => !p.Equals(t.Params))) bad.Add(name + " (double)");
                if (OptimizerRun.Params<float>(opt, steps).Any(p => !p.Equals(t.Params.Cast<float>()))) bad.Add(name + " (float)");
            }
            return (bad.Count == 0).Label("moved θ: " + string.Join(", ", bad));
        });

    /// <summary>AdamW with g = 0: the Adam direction is 0, so θ' = θ + (−η)·(λθ) — bitwise that expression in T — which is θ(1 − ηλ)
    /// up to two roundings per step; after k steps θ₀(1 − ηλ)ᵏ to within 4k ulps.</summary>
    [Law(60)]
    public Property AdamW_with_zero_gradient_shrinks_weights_by_one_minus_eta_lambda() =>
        Prop.ForAll(OptimizerGens.Trajectory(0).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), OptimizerGens.Rate(0.5).Where(l => l > 0).ToArbitrary(), (t, lr, lambda) =>
        {
            const int k = 4;
            var zero = t.Params.ZerosLike();
            var got = OptimizerRun.Params<double>(Optimizer.AdamW(lr, weightDecay: lambda), new Trajectory(t.Params, [.. Enumerable.Repeat(zero, k)]));
            var prop = true.ToProperty();
            for (int s = 1; s <= k; s++)
            {
                var prev = got[s - 1].Flatten();
                var now = got[s].Flatten();
                var theta0 = t.Params.Flatten();
                for (int i = 0; i < now.Length; i++)
                {
                    double bitwise = prev[i] + (prev[i] * lambda) * -lr;
                    double closed = theta0[i] * Math.Pow(1 - lr * lambda, s);
                    prop = prop.And((now[i].Equals(bitwise)).Label($"step {s} leaf {i}: {now[i]:R} ≠ θ + (−η)(λθ) = {bitwise:R}"))
                               .And((Math.Abs(now[i] - closed) <= 4 * s * double.Epsilon + 4 * s * Math.Abs(closed) * 1.2e-16 * 2).Label($"step {s} leaf {i}: {now[i]:R} vs θ₀(1−ηλ)^k = {closed:R}"));
                }
                // and the weights really shrink (λη > 0), unless they are 0
                prop = prop.And(now.Zip(prev).All(p => p.Second == 0 ? p.First == 0 : Math.Abs(p.First) < Math.Abs(p.Second)).Label("weights did not shrink"));
            }
            return prop;
        });

    /// <summary>Coupled L2 (λθ added to the gradient before the rescaling) and decoupled decay (added after it) are different
    /// optimizers for Adam, but the same for plain SGD, where there is no rescaling in between. For SGD we compare
    /// Sgd(η, λ) = θ − η(g + λθ) with the decoupled arrangement as torch's AdamW writes it with the rescaling taken out:
    /// θ(1 − ηλ) − ηg. Both are θ − ηg − ηλθ; they round differently, so the comparison is to 8 ulps of the terms' scale.
    /// (Optax-style decoupled decay not multiplied by η would need λ/η in place of λ: the "learning-rate factor".)</summary>
    [Law(60)]
    public Property Coupled_and_decoupled_decay_agree_for_sgd_and_differ_for_adam() =>
        Prop.ForAll(OptimizerGens.Trajectory(1).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), OptimizerGens.Rate(0.5).Where(l => l >= 0.01).ToArbitrary(), (t, lr, lambda) =>
        {
            var theta = t.Params.Flatten();
            var g = t.Grads[0].Flatten();
            var sgd = OptimizerRun.Params<double>(Optimizer.Sgd(lr, lambda), t)[1].Flatten();
            var prop = true.ToProperty();
            for (int i = 0; i < theta.Length; i++)
            {
                double decoupled = theta[i] * (1 - lr * lambda) - lr * g[i];
                double scale = Math.Abs(theta[i]) + Math.Abs(lr * g[i]) + Math.Abs(lr * lambda * theta[i]);
                prop = prop.And((Math.Abs(sgd[i] - decoupled) <= 8 * 1.12e-16 * scale).Label($"sgd {i}: coupled {sgd[i]:R} vs decoupled {decoupled:R}"));
            }
            // Adam: with θ ≠ 0 the first step's direction is sign(g + λθ) coupled but sign(g) + λθ decoupled.
            var adam = OptimizerRun.Params<double>(Optimizer.Adam(lr, weightDecay: lambda), t)[1].Flatten();
            var adamW = OptimizerRun.Params<double>(Optimizer.AdamW(lr, weightDecay: lambda), t)[1].Flatten();
            bool anyNonzero = theta.Any(v => Math.Abs(v) > 0.1);
            bool differ = Enumerable.Range(0, theta.Length).Any(i => Math.Abs(adam[i] - adamW[i]) > 1e-6 * lr);
            return prop.And((!anyNonzero || differ).Label("Adam(λ) and AdamW(λ) agree although θ ≠ 0"));
        });

    [Fact]
    public void Coupled_and_decoupled_adam_differ_by_the_expected_amount_on_one_coordinate()
    {
        // θ = 1, g = 1, λ = 0.1, η = 0.01: coupled g' = 1.1, first Adam step ≈ η·1; decoupled ≈ η·(1 + λθ) = 1.1η.
        var p = new ParamTree<double>(["x"], [NdArray.Vector(1.0)]);
        var t = new Trajectory(p, [new ParamTree<double>(["x"], [NdArray.Vector(1.0)])]);
        double coupled = OptimizerRun.Params<double>(Optimizer.Adam(0.01, weightDecay: 0.1), t)[1][0][0];
        double decoupled = OptimizerRun.Params<double>(Optimizer.AdamW(0.01, weightDecay: 0.1), t)[1][0][0];
        Assert.Equal(1 - 0.01, coupled, 1e-9);
        Assert.Equal(1 - 0.011, decoupled, 1e-9);
    }

    // ───────────────────────── Adam ─────────────────────────

    /// <summary>Adam's first step: m = (1−β₁)g, v = (1−β₂)g², so the update is −η·g/(|g| + ε) (bias corrections cancel the
    /// (1−β) factors): each coordinate moves by η(1 ± 1e-6) when |g| ≥ 0.02 (ε/|g| ≤ 5e-7), and never by more than η(1 + 1e-12).</summary>
    [Law(60)]
    public Property Adam_first_step_moves_each_coordinate_by_eta() =>
        Prop.ForAll(OptimizerGens.Trajectory(1).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) => AdamFirstStep<double>(t, h, 1e-6)
            .And(AdamFirstStep<double>(t, h with { Beta1 = 0.9, Beta2 = 0.999 }, 1e-6)));

    /// <summary>The same law in float, where training runs, with PyTorch's default β₁ = 0.9, β₂ = 0.999. Fails today: ScaleByAdam
    /// computes the moment coefficients (1 − β) in T from β rounded to float (1 − 0.999f = 0.00099998713, 1.3e-5 below 0.001),
    /// while the bias corrections 1 − βᵗ are computed in double from the exact β, so they no longer cancel: the first step is
    /// η·(1 + 6.7e-6). PyTorch passes 1 − β as a double scalar (rounded once to float: 1 − 5e-8 relative).</summary>
    [Law(30)]
    public Property Adam_first_step_moves_each_coordinate_by_eta_in_float() =>
        Prop.ForAll(OptimizerGens.Trajectory(1).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, lr) =>
            AdamFirstStep<float>(t, new Hyper(lr, 0, 0, 0.9, 0.999, 1e-8, 0.99, false, false), 1e-6));

    private static Property AdamFirstStep<T>(Trajectory t, Hyper h, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var opt = Optimizer.Adam(h.Lr, h.Beta1, h.Beta2, 1e-8, amsGrad: h.AmsGrad);
        var p = t.Params.Cast<T>();
        var (u, _) = opt.Update(t.Grads[0].Cast<T>(), opt.Init(p), p);
        var uf = u.Flatten();
        var g = t.Grads[0].Flatten();
        double eta = double.CreateChecked(T.CreateChecked(h.Lr));
        var prop = true.ToProperty();
        for (int i = 0; i < g.Length; i++)
        {
            double du = double.CreateChecked(uf[i]);
            prop = prop.And((Math.Sign(du) == -Math.Sign(g[i])).Label($"coordinate {i} moved uphill: g {g[i]:R}, u {du:R}"));
            if (Math.Abs(g[i]) >= 0.02)
                prop = prop.And((Math.Abs(Math.Abs(du) - eta) <= tol * eta).Label($"{typeof(T).Name} coordinate {i}: |u| = {Math.Abs(du):R}, η = {eta:R}, relative error {Math.Abs(Math.Abs(du) - eta) / eta:E2} (β {h.Beta1}, {h.Beta2})"));
            prop = prop.And((Math.Abs(du) <= eta * (1 + tol)).Label($"coordinate {i}: |u| {Math.Abs(du):R} > η"));
        }
        return prop;
    }

    /// <summary>AMSGrad keeps v̂ = max(v̂, v) elementwise: its denominator √v̂ never decreases, it stays ≥ the current v, and the
    /// update is the Adam formula with v̂ (checked against an independent scalar computation).</summary>
    [Law(40)]
    public Property AmsGrad_denominator_never_decreases() =>
        Prop.ForAll(OptimizerGens.Trajectory(8).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var opt = new ScaleByAdam(h.Beta1, h.Beta2, h.Eps, AmsGrad: true);
            var p = t.Params;
            var state = (AdamState<double>)opt.Init(p);
            var prev = state.NuMax!.Flatten();
            var prop = true.ToProperty();
            foreach (var g in t.Grads)
            {
                var (u, next) = opt.Update(g, state, p);
                state = (AdamState<double>)next;
                var max = state.NuMax!.Flatten();
                var nu = state.Nu.Flatten();
                var mu = state.Mu.Flatten();
                var uf = u.Flatten();
                double bc1 = 1 - Math.Pow(h.Beta1, state.Count), bc2 = 1 - Math.Pow(h.Beta2, state.Count);
                for (int i = 0; i < max.Length; i++)
                {
                    prop = prop.And((max[i] >= prev[i]).Label($"step {state.Count} coordinate {i}: v̂ fell from {prev[i]:R} to {max[i]:R}"))
                               .And((max[i] >= nu[i]).Label($"v̂ {max[i]:R} < v {nu[i]:R}"));
                    double expected = mu[i] / bc1 / (Math.Sqrt(max[i]) / Math.Sqrt(bc2) + h.Eps);
                    prop = prop.And((Math.Abs(uf[i] - expected) <= 1e-12 * Math.Abs(expected)).Label($"AMSGrad direction {uf[i]:R} vs {expected:R}"));
                }
                prev = max;
            }
            return prop;
        });

    // ───────────────────────── PyTorch's formulas ─────────────────────────

    /// <summary>Relative agreement to 1e-12 of the trajectory's scale (max |θ| seen, at least 1): the formulas are the same, the
    /// rounding order is not.</summary>
    private static Property SameTrajectory(List<ParamTree<double>> got, double[][] expected, string what)
    {
        double scale = Math.Max(1, expected.SelectMany(e => e).Max(Math.Abs));
        for (int s = 0; s < expected.Length; s++)
        {
            var g = got[s + 1].Flatten();
            for (int i = 0; i < g.Length; i++)
                if (!(Math.Abs(g[i] - expected[s][i]) <= 1e-12 * scale))
                    return false.Label($"{what}: step {s + 1}, coordinate {i}: {g[i]:R} vs torch {expected[s][i]:R}");
        }
        return true.ToProperty();
    }

    [Law(40)]
    public Property RmsProp_matches_torch_for_six_steps() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var theta = t.Params.Flatten();
            var grads = t.Grads.Select(g => g.Flatten()).ToArray();
            var prop = true.ToProperty();
            foreach (var (wd, mu, centered) in new[] { (0.0, 0.0, false), (0.0, 0.0, true), (0.0, h.Momentum, false), (h.WeightDecay, 0.0, false), (h.WeightDecay, h.Momentum, h.Centered) })
            {
                var got = OptimizerRun.Params<double>(Optimizer.RmsProp(h.Lr, h.Alpha, h.Eps, wd, mu, centered), t);
                prop = prop.And(SameTrajectory(got, TorchReference.RmsProp(theta, grads, h.Lr, h.Alpha, h.Eps, wd, mu, centered), $"RMSprop(wd {wd}, μ {mu}, centred {centered})"));
            }
            return prop;
        });

    [Law(40)]
    public Property Nesterov_and_momentum_match_torch_for_six_steps() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var theta = t.Params.Flatten();
            var grads = t.Grads.Select(g => g.Flatten()).ToArray();
            return SameTrajectory(OptimizerRun.Params<double>(Optimizer.Nesterov(h.Lr, h.Momentum, h.WeightDecay), t),
                                  TorchReference.Sgd(theta, grads, h.Lr, h.Momentum, nesterov: true, h.WeightDecay), "Nesterov")
                .And(SameTrajectory(OptimizerRun.Params<double>(Optimizer.Momentum(h.Lr, h.Momentum, h.WeightDecay), t),
                                  TorchReference.Sgd(theta, grads, h.Lr, h.Momentum, nesterov: false, h.WeightDecay), "Momentum"));
        });

    [Law(40)]
    public Property Adam_and_AdamW_match_torch_for_six_steps() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Hyper.Gen.ToArbitrary(), (t, h) =>
        {
            var theta = t.Params.Flatten();
            var grads = t.Grads.Select(g => g.Flatten()).ToArray();
            return SameTrajectory(OptimizerRun.Params<double>(Optimizer.Adam(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad), t),
                                  TorchReference.Adam(theta, grads, h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad, decoupled: false), "Adam")
                .And(SameTrajectory(OptimizerRun.Params<double>(Optimizer.AdamW(h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad), t),
                                  TorchReference.Adam(theta, grads, h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.AmsGrad, decoupled: true), "AdamW"));
        });

    // ───────────────────────── the problem table ─────────────────────────

    /// <summary>(name, optimizer on the parabola, optimizer on Rosenbrock, steps): learning rates each optimizer is stable with.</summary>
    public static TheoryData<string> OptimizerNames() => new(Table.Keys);

    private static readonly Dictionary<string, (Func<GradientTransform> Parabola, Func<GradientTransform> Rosenbrock)> Table = new()
    {
        ["sgd"] = (() => Optimizer.Sgd(0.05), () => Optimizer.Sgd(1e-3)),
        ["momentum"] = (() => Optimizer.Momentum(0.02), () => Optimizer.Momentum(2e-4)),
        ["nesterov"] = (() => Optimizer.Nesterov(0.02), () => Optimizer.Nesterov(2e-4)),
        ["adam"] = (() => Optimizer.Adam(0.05), () => Optimizer.Adam(0.01)),
        ["adam-amsgrad"] = (() => Optimizer.Adam(0.05, amsGrad: true), () => Optimizer.Adam(0.01, amsGrad: true)),
        ["adamw"] = (() => Optimizer.AdamW(0.05, weightDecay: 0), () => Optimizer.AdamW(0.01, weightDecay: 1e-4)),
        ["rmsprop"] = (() => Optimizer.RmsProp(new Schedule.Cosine(0.05, 2000)), () => Optimizer.RmsProp(new Schedule.Cosine(0.01, 2000))),
        ["rmsprop-centred-momentum"] = (() => Optimizer.RmsProp(new Schedule.Cosine(0.01, 2000), momentum: 0.5, centered: true), () => Optimizer.RmsProp(new Schedule.Cosine(2e-3, 2000), momentum: 0.5, centered: true)),
        ["clipped-sgd"] = (() => Chain(new ClipByGlobalNorm(1), Optimizer.Sgd(0.05)), () => Chain(new ClipByGlobalNorm(1), Optimizer.Sgd(2e-3))),
    };

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Converges_on_the_parabola(string name)
    {
        var problem = OptimizerProblems.Parabola;
        var p = OptimizerProblems.Run(Table[name].Parabola(), problem, 2000);
        double start = problem.Value(problem.Start), end = problem.Value(p);
        Assert.True(end <= 1e-8 * start, $"{name}: loss {start} → {end}");
        var dist = p.Flatten().Zip(problem.Argmin.Flatten(), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(dist < 1e-3, $"{name}: {dist} from the minimiser");
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void Gets_rosenbrock_down_from_the_start(string name)
    {
        var problem = OptimizerProblems.Rosenbrock;
        var p = OptimizerProblems.Run(Table[name].Rosenbrock(), problem, 2000);
        double start = problem.Value(problem.Start), end = problem.Value(p);
        Assert.True(double.IsFinite(end) && end < 0.1 * start, $"{name}: loss {start} → {end}");
    }

    [Fact]
    public void The_problem_gradients_are_the_derivatives_of_their_values()
    {
        foreach (var problem in OptimizerProblems.All)
        {
            var p = problem.Start.Map(l => NdArray.From<double>(l.Span.ToArray().Select((v, i) => v + 0.1 * (i + 1)).ToArray(), l.Shape.ToArray()));
            var g = problem.Gradient(p).Flatten();
            var x = p.Flatten();
            for (int i = 0; i < x.Length; i++)
            {
                double h = 1e-6;
                var plus = (double[])x.Clone(); plus[i] += h;
                var minus = (double[])x.Clone(); minus[i] -= h;
                double numeric = (problem.Value(p.Unflatten(plus)) - problem.Value(p.Unflatten(minus))) / (2 * h);
                Assert.True(Math.Abs(numeric - g[i]) <= 1e-5 * Math.Max(1, Math.Abs(g[i])), $"{problem.Name} coordinate {i}: {g[i]} vs {numeric}");
            }
            Assert.Equal(problem.Minimum, problem.Value(problem.Argmin));
        }
    }

    // ───────────────────────── argument checks ─────────────────────────

    /// <summary>Each bad hyperparameter, the alias call that passes it, and the alias's parameter name. The exception's ParamName
    /// must name it: compared ignoring case and spaces, because the records name their properties (WeightDecay for the alias's
    /// weightDecay) and Schedule.Constant reports "learning rate".</summary>
    public static TheoryData<string, string> BadHyperparameters() { var d = new TheoryData<string, string>(); foreach (var c in BadCalls) d.Add(c.Key, c.Value.Param); return d; }

    private static readonly Dictionary<string, (Func<object> Call, string Param)> BadCalls = new()
    {
        ["Sgd lr 0"] = (() => Optimizer.Sgd(0.0), "learningRate"),
        ["Sgd lr -1e-3"] = (() => Optimizer.Sgd(-1e-3), "learningRate"),
        ["Sgd lr NaN"] = (() => Optimizer.Sgd(double.NaN), "learningRate"),
        ["Sgd lr +inf"] = (() => Optimizer.Sgd(double.PositiveInfinity), "learningRate"),
        ["Adam lr NaN"] = (() => Optimizer.Adam(double.NaN), "learningRate"),
        ["RmsProp lr -1"] = (() => Optimizer.RmsProp(-1.0), "learningRate"),
        ["Sgd weight decay -0.1"] = (() => Optimizer.Sgd(weightDecay: -0.1), "weightDecay"),
        ["Sgd weight decay NaN"] = (() => Optimizer.Sgd(weightDecay: double.NaN), "weightDecay"),
        ["Momentum weight decay -1"] = (() => Optimizer.Momentum(weightDecay: -1), "weightDecay"),
        ["Adam weight decay -1e-4"] = (() => Optimizer.Adam(weightDecay: -1e-4), "weightDecay"),
        ["AdamW weight decay -0.01"] = (() => Optimizer.AdamW(weightDecay: -0.01), "weightDecay"),
        ["AdamW weight decay +inf"] = (() => Optimizer.AdamW(weightDecay: double.PositiveInfinity), "weightDecay"),
        ["RmsProp weight decay -1"] = (() => Optimizer.RmsProp(weightDecay: -1), "weightDecay"),
        ["Momentum μ 1"] = (() => Optimizer.Momentum(momentum: 1), "momentum"),
        ["Momentum μ -0.1"] = (() => Optimizer.Momentum(momentum: -0.1), "momentum"),
        ["Nesterov μ NaN"] = (() => Optimizer.Nesterov(momentum: double.NaN), "momentum"),
        ["Nesterov μ 1.5"] = (() => Optimizer.Nesterov(momentum: 1.5), "momentum"),
        ["RmsProp μ 1"] = (() => Optimizer.RmsProp(momentum: 1), "momentum"),
        ["RmsProp μ -0.5"] = (() => Optimizer.RmsProp(momentum: -0.5), "momentum"),
        ["RmsProp α 1"] = (() => Optimizer.RmsProp(alpha: 1), "alpha"),
        ["RmsProp α -0.1"] = (() => Optimizer.RmsProp(alpha: -0.1), "alpha"),
        ["Adam β1 1"] = (() => Optimizer.Adam(beta1: 1), "beta1"),
        ["Adam β1 -0.1"] = (() => Optimizer.Adam(beta1: -0.1), "beta1"),
        ["AdamW β1 NaN"] = (() => Optimizer.AdamW(beta1: double.NaN), "beta1"),
        ["Adam β2 1"] = (() => Optimizer.Adam(beta2: 1), "beta2"),
        ["AdamW β2 1.001"] = (() => Optimizer.AdamW(beta2: 1.001), "beta2"),
        ["Adam β2 -1"] = (() => Optimizer.Adam(beta2: -1), "beta2"),
        ["Adam ε -1e-8"] = (() => Optimizer.Adam(eps: -1e-8), "eps"),
        ["RmsProp ε NaN"] = (() => Optimizer.RmsProp(eps: double.NaN), "eps"),
    };

    [Theory]
    [MemberData(nameof(BadHyperparameters))]
    public void Bad_hyperparameters_throw_ArgumentOutOfRange_naming_the_parameter(string call, string param)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BadCalls[call].Call());
        static string Norm(string? s) => (s ?? "").Replace(" ", "").ToLowerInvariant();
        Assert.True(Norm(e.ParamName) == Norm(param), $"{call}: ParamName '{e.ParamName}' does not name '{param}'");
    }

    [Fact]
    public void Good_boundary_hyperparameters_are_accepted()
    {
        // The closed ends of the documented ranges: μ = 0, β = 0, α = 0, λ = 0, ε = 0.
        _ = Optimizer.Momentum(momentum: 0);
        _ = Optimizer.Adam(beta1: 0, beta2: 0, eps: 0);
        _ = Optimizer.RmsProp(alpha: 0, eps: 0);
        _ = Optimizer.AdamW(weightDecay: 0);
        _ = Optimizer.Sgd(double.Epsilon);
        Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.Momentum(momentum: Math.BitDecrement(0.0)));
        _ = Optimizer.Adam(beta1: Math.BitDecrement(1.0), beta2: Math.BitDecrement(1.0));
    }

    [Fact]
    public void Mismatched_trees_throw_ArgumentException_in_Update_and_ApplyUpdates()
    {
        var p = new ParamTree<double>(["a", "b"], [NdArray.Vector(1.0, 2.0), NdArray.Vector(3.0)]);
        var renamed = new ParamTree<double>(["a", "c"], [NdArray.Vector(1.0, 2.0), NdArray.Vector(3.0)]);
        var reshaped = new ParamTree<double>(["a", "b"], [NdArray.Vector(1.0, 2.0, 0.0), NdArray.Vector(3.0)]);
        var fewer = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0)]);
        foreach (var opt in new[] { Optimizer.Sgd(), Optimizer.Momentum(), Optimizer.Adam(), Optimizer.AdamW(), Optimizer.RmsProp(centered: true) })
        {
            var s = opt.Init(p);
            foreach (var bad in new[] { renamed, reshaped, fewer })
            {
                Assert.Equal("updates", Assert.Throws<ArgumentException>(() => opt.Update(bad, s, p)).ParamName);
                Assert.Equal("updates", Assert.Throws<ArgumentException>(() => Optimizer.ApplyUpdates(p, bad)).ParamName);
                // A state made for another structure is rejected too (the grads and params agree with each other); Sgd's
                // state is only a step count, which fits any structure.
                var otherState = opt.Init(bad);
                if (!opt.Equals(Optimizer.Sgd())) Assert.Throws<ArgumentException>(() => opt.Update(p, otherState, p));
            }
        }
    }

    [Fact]
    public void Wrong_state_type_throws_ArgumentException_naming_state()
    {
        var p = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0)]);
        var opts = new[] { Optimizer.Sgd(), Optimizer.Momentum(), Optimizer.Adam(), Optimizer.RmsProp() };
        foreach (var a in opts)
            foreach (var b in opts)
                if (!ReferenceEquals(a, b))
                    Assert.Equal("state", Assert.Throws<ArgumentException>(() => a.Update(p, b.Init(p), p)).ParamName);
        // A float state given to a double update: MomentumState<float> is not MomentumState<double>.
        var m = new TraceMomentum(0.9);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => m.Update(p, m.Init(p.Cast<float>()), p)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => new ScaleByAdam().Update(p, EmptyState.Instance, p)).ParamName);
    }

    [Fact]
    public void Parse_builds_the_aliases_with_their_defaults()
    {
        Assert.Equal(Optimizer.Sgd(), Optimizer.Parse("sgd"));
        Assert.Equal(Optimizer.Momentum(), Optimizer.Parse("Momentum"));
        Assert.Equal(Optimizer.Nesterov(), Optimizer.Parse("nesterov"));
        Assert.Equal(Optimizer.Adam(), Optimizer.Parse("ADAM"));
        Assert.Equal(Optimizer.AdamW(), Optimizer.Parse("adamw"));
        Assert.Equal(Optimizer.AdamW(weightDecay: 0.01), Optimizer.Parse("adamw"));
        Assert.Equal(Optimizer.RmsProp(), Optimizer.Parse("rmsprop"));
        Assert.Equal(Optimizer.Momentum(0.1, 0.5, 1e-4), Optimizer.Parse("momentum", 0.1, 1e-4, 0.5));
        Assert.NotEqual(Optimizer.Adam(), Optimizer.AdamW(weightDecay: 0));
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => Optimizer.Parse("lbfgs")).ParamName);
        // "nesterov" by name with μ = 0 would be plain SGD under Nesterov's name: refused as Sgd(nesterov: true) without momentum is
        var e = Assert.Throws<ArgumentException>(() => Optimizer.Parse("nesterov", 0.1, momentum: 0));
        Assert.Equal(Assert.Throws<ArgumentException>(() => Optimizer.Parse("sgd", 0.1, nesterov: true)).Message, e.Message);
        Assert.StartsWith("Nesterov momentum requires a momentum > 0 (got 0)", e.Message);
        Assert.Equal(Optimizer.Nesterov(0.1, 0.5), Optimizer.Parse("nesterov", 0.1, momentum: 0.5));
        // "momentum" by name with μ = 0 and a dampening: the dampening would do nothing, refused as Sgd refuses it
        Assert.Equal(Assert.Throws<ArgumentException>(() => Optimizer.Parse("sgd", 0.1, dampening: 0.5)).Message,
            Assert.Throws<ArgumentException>(() => Optimizer.Parse("momentum", 0.1, momentum: 0, dampening: 0.5)).Message);
        Assert.Equal(Optimizer.Momentum(0.1, 0.9, 0, 0.5), Optimizer.Parse("momentum", 0.1, dampening: 0.5));
    }

    /// <summary>The documented defaults (DESIGN §12), read back from the chains.</summary>
    [Fact]
    public void Defaults_are_pytorchs()
    {
        static ImmutableArray<GradientTransform> Parts(GradientTransform t) => ((ChainTransform)t).Transforms;
        static double Lr(GradientTransform t) => ((ScaleByLearningRate)Parts(t)[^1]).LearningRate.At(0);
        Assert.Equal(1e-3, Lr(Optimizer.Sgd()));
        Assert.Equal(1e-3, Lr(Optimizer.Adam()));
        Assert.Equal(1e-3, Lr(Optimizer.AdamW()));
        Assert.Equal(1e-2, Lr(Optimizer.RmsProp()));
        Assert.Equal(new ScaleByAdam(0.9, 0.999, 1e-8, false), Parts(Optimizer.Adam())[0]);
        Assert.Equal(new AddDecayedWeights(0.01), Parts(Optimizer.AdamW())[1]);
        Assert.Equal(new ScaleByRms(0.99, 1e-8, false), Parts(Optimizer.RmsProp())[0]);
        Assert.Equal(new TraceMomentum(0.9), Parts(Optimizer.Momentum())[0]);
        Assert.Equal(2, Parts(Optimizer.RmsProp()).Length); // no momentum, no decay by default
    }

    [Fact]
    public void GlobalNorm_is_the_root_of_the_sum_of_squares_over_all_leaves()
    {
        var t = new ParamTree<double>(["a", "b"], [NdArray.Vector(3.0, 0.0), NdArray.From<double>([4.0, 12.0], 1, 2)]);
        Assert.Equal(13.0, Optimizer.GlobalNorm(t));
        Assert.Equal(13.0f, (float)Optimizer.GlobalNorm(t.Cast<float>()));
        Assert.Equal(0.0, Optimizer.GlobalNorm(t.ZerosLike()));
        // Summed in double: float squares that would overflow in float do not.
        Assert.Equal((double)2e30f, Optimizer.GlobalNorm(new ParamTree<float>(["x"], [NdArray.Vector(2e30f)])));
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    /// <summary>As documented: an alias leaves the decay term out when λ = 0, so its chain is exactly the named parts.</summary>
    [Fact]
    public void Aliases_leave_out_a_zero_decay()
    {
        Assert.Equal([typeof(ScaleByLearningRate)], Parts(Optimizer.Sgd(0.1)));
        Assert.Equal([typeof(TraceMomentum), typeof(ScaleByLearningRate)], Parts(Optimizer.Momentum(0.1)));
        Assert.Equal([typeof(TraceMomentum), typeof(ScaleByLearningRate)], Parts(Optimizer.Nesterov(0.1)));
        Assert.Equal([typeof(AddDecayedWeights), typeof(ScaleByLearningRate)], Parts(Optimizer.Sgd(0.1, 1e-4)));
        Assert.Equal([typeof(AddDecayedWeights), typeof(TraceMomentum), typeof(ScaleByLearningRate)], Parts(Optimizer.Nesterov(0.1, 0.9, 1e-4)));
        static Type[] Parts(GradientTransform t) => [.. ((ChainTransform)t).Transforms.Select(x => x.GetType())];
    }

    [Fact]
    public void Parse_lists_the_known_optimizers_and_GlobalNorm_refuses_null()
    {
        var e = Assert.Throws<ArgumentException>(() => Optimizer.Parse("lbfgs"));
        Assert.Equal("name", e.ParamName);
        Assert.Contains("unknown optimizer 'lbfgs'; known: sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad, lion, adamax, nadam, radam", e.Message);
        Assert.Equal("tree", Assert.Throws<ArgumentNullException>(() => Optimizer.GlobalNorm<double>(null!)).ParamName);
    }
}

/// <summary>Independent scalar implementations of torch.optim's documented algorithms, one coordinate at a time, in double.
/// Each returns θ after every step.</summary>
internal static class TorchReference
{
    /// <summary>torch.optim.SGD, dampening 0: g ← g + λθ; b ← g at step 1, else μb + g; g ← g + μb (Nesterov) or b; θ ← θ − η·g.</summary>
    public static double[][] Sgd(double[] theta0, double[][] grads, double lr, double momentum, bool nesterov, double weightDecay)
    {
        var theta = (double[])theta0.Clone();
        var buf = new double[theta.Length];
        var r = new double[grads.Length][];
        for (int t = 0; t < grads.Length; t++)
        {
            for (int i = 0; i < theta.Length; i++)
            {
                double g = grads[t][i];
                if (weightDecay != 0) g += weightDecay * theta[i];
                if (momentum != 0)
                {
                    buf[i] = t == 0 ? g : momentum * buf[i] + g;
                    g = nesterov ? g + momentum * buf[i] : buf[i];
                }
                theta[i] -= lr * g;
            }
            r[t] = (double[])theta.Clone();
        }
        return r;
    }

    /// <summary>torch.optim.Adam (decoupled = false: g ← g + λθ) and torch.optim.AdamW (decoupled: θ ← θ(1 − ηλ) first):
    /// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; (AMSGrad: v̂ ← max(v̂, v)); θ ← θ − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).</summary>
    public static double[][] Adam(double[] theta0, double[][] grads, double lr, double b1, double b2, double eps, double weightDecay, bool amsGrad, bool decoupled)
    {
        var theta = (double[])theta0.Clone();
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        var vmax = new double[theta.Length];
        var r = new double[grads.Length][];
        for (int t = 1; t <= grads.Length; t++)
        {
            double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
            for (int i = 0; i < theta.Length; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) theta[i] *= 1 - lr * weightDecay;
                else g += weightDecay * theta[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                vmax[i] = Math.Max(vmax[i], v[i]);
                double denom = Math.Sqrt(amsGrad ? vmax[i] : v[i]) / Math.Sqrt(bc2) + eps;
                theta[i] -= lr / bc1 * m[i] / denom;
            }
            r[t - 1] = (double[])theta.Clone();
        }
        return r;
    }

    /// <summary>torch.optim.RMSprop: g ← g + λθ; v ← αv + (1−α)g²; centred: ḡ ← αḡ + (1−α)g, avg = √(v − ḡ²) + ε, else
    /// avg = √v + ε; with momentum b ← μb + g/avg, θ ← θ − η·b; else θ ← θ − η·g/avg.</summary>
    public static double[][] RmsProp(double[] theta0, double[][] grads, double lr, double alpha, double eps, double weightDecay, double momentum, bool centered)
    {
        var theta = (double[])theta0.Clone();
        var sq = new double[theta.Length];
        var gavg = new double[theta.Length];
        var buf = new double[theta.Length];
        var r = new double[grads.Length][];
        for (int t = 0; t < grads.Length; t++)
        {
            for (int i = 0; i < theta.Length; i++)
            {
                double g = grads[t][i] + weightDecay * theta[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
                double avg;
                if (centered)
                {
                    gavg[i] = alpha * gavg[i] + (1 - alpha) * g;
                    avg = Math.Sqrt(sq[i] - gavg[i] * gavg[i]) + eps;
                }
                else avg = Math.Sqrt(sq[i]) + eps;
                if (momentum > 0)
                {
                    buf[i] = momentum * buf[i] + g / avg;
                    theta[i] -= lr * buf[i];
                }
                else theta[i] -= lr * g / avg;
            }
            r[t] = (double[])theta.Clone();
        }
        return r;
    }
}
