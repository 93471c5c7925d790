using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>Each building block of Transforms.cs against its equation, one transform at a time.</summary>
public sealed class TransformsTests
{
    private static NdArray<T> Elementwise2<T>(NdArray<T> a, NdArray<T> b, Func<T, T, T> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[a.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(a.Span[i], b.Span[i]);
        return NdArray.From<T>(r, a.Shape.ToArray());
    }

    // ───────────────────────── ScaleByLearningRate ─────────────────────────

    /// <summary>u ← u·fl_T(−η(t)) bitwise, with t the number of updates before this one (0 first), read from the CountState.</summary>
    [Law(40)]
    public Property ScaleByLearningRate_multiplies_by_minus_the_schedule_at_the_count() =>
        Prop.ForAll(OptimizerGens.Trajectory(7).ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (t, lr, stepSize) =>
            Check<double>(t, lr, stepSize).And(Check<float>(t, lr, stepSize)));

    private static Property Check<T>(Trajectory t, double lr, int stepSize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var schedule = new Schedule.StepDecay(lr, stepSize, 0.5);
        var tr = new ScaleByLearningRate(schedule);
        var p = t.Params.Cast<T>();
        var s = tr.Init(p);
        var prop = (s.Equals(new CountState(0))).Label("Init is not CountState(0)");
        for (int step = 0; step < t.Grads.Length; step++)
        {
            var g = t.Grads[step].Cast<T>();
            var (u, next) = tr.Update(g, s, p);
            var f = T.CreateChecked(-schedule.At(step));
            var expected = g.Map(l => { var r = new T[l.Length]; ScalarReference.Scale(l.Span, f, r); return NdArray.From<T>(r, l.Shape.ToArray()); });
            prop = prop.And(u.Equals(expected).Label($"{typeof(T).Name} step {step}: u ≠ g·(−η({step}))"))
                       .And(next.Equals(new CountState(step + 1)).Label($"count after step {step} is {next}"));
            s = next;
        }
        return prop;
    }

    [Fact]
    public void ScaleByLearningRate_rejects_a_null_schedule() =>
        Assert.Equal("LearningRate", Assert.Throws<ArgumentNullException>(() => new ScaleByLearningRate(null!)).ParamName);

    // ───────────────────────── TraceMomentum ─────────────────────────

    /// <summary>v ← μ·v + u (ScalarReference.ScaleAdd, bitwise), output v, or μ·v + u with Nesterov; the state holds the new v.</summary>
    [Law(40)]
    public Property TraceMomentum_is_v_equals_mu_v_plus_u() =>
        Prop.ForAll(OptimizerGens.Trajectory(5).ToArbitrary(), OptimizerGens.Rate(0.99).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), (t, mu, nesterov) =>
            Momentum<double>(t, mu, nesterov).And(Momentum<float>(t, mu, nesterov)));

    private static Property Momentum<T>(Trajectory t, double mu, bool nesterov) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tr = new TraceMomentum(mu, nesterov);
        var p = t.Params.Cast<T>();
        var s = tr.Init(p);
        var v = p.ZerosLike();
        var m = T.CreateChecked(mu);
        NdArray<T> ScaleAdd(NdArray<T> x, NdArray<T> y) { var r = new T[x.Length]; ScalarReference.ScaleAdd(x.Span, m, y.Span, r); return NdArray.From<T>(r, x.Shape.ToArray()); }
        var prop = true.ToProperty();
        foreach (var g0 in t.Grads)
        {
            var g = g0.Cast<T>();
            var (u, next) = tr.Update(g, s, p);
            v = ParamTree<T>.Zip(v, g, ScaleAdd);
            var expected = nesterov ? ParamTree<T>.Zip(v, g, ScaleAdd) : v;
            prop = prop.And(u.Equals(expected).Label($"{typeof(T).Name} output"))
                       .And(((MomentumState<T>)next).Velocity.Equals(v).Label($"{typeof(T).Name} velocity"));
            s = next;
        }
        return prop;
    }

    // ───────────────────────── ScaleByAdam ─────────────────────────

    /// <summary>The moments and the output against the equations in double (to 1e-12 relative: same formulas, the code rounds
    /// (1 − β) in T and multiplies by 1/(1 − β₁ᵗ) instead of dividing), and the count increments.</summary>
    [Law(40)]
    public Property ScaleByAdam_follows_its_equations() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Gen.Zip(OptimizerGens.Rate(0.99), OptimizerGens.Rate(0.9999)).ToArbitrary(), Gen.Elements(1e-8, 1e-3, 1.0).ToArbitrary(),
            (t, betas, eps) =>
            {
                var (b1, b2) = betas;
                var tr = new ScaleByAdam(b1, b2, eps);
                var p = t.Params;
                var s = (AdamState<double>)tr.Init(p);
                var prop = (s.Count == 0 && s.NuMax is null && s.Mu.Equals(p.ZerosLike()) && s.Nu.Equals(p.ZerosLike())).Label("Init");
                int n = (int)p.ParameterCount;
                var m = new double[n]; var v = new double[n];
                for (int step = 1; step <= t.Grads.Length; step++)
                {
                    var g = t.Grads[step - 1].Flatten();
                    var (u, next) = tr.Update(t.Grads[step - 1], s, p);
                    s = (AdamState<double>)next;
                    var uf = u.Flatten(); var mf = s.Mu.Flatten(); var vf = s.Nu.Flatten();
                    for (int i = 0; i < n; i++)
                    {
                        m[i] = b1 * m[i] + (1 - b1) * g[i];
                        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                        double expected = m[i] / (1 - Math.Pow(b1, step)) / (Math.Sqrt(v[i] / (1 - Math.Pow(b2, step))) + eps);
                        prop = prop.And(Close(mf[i], m[i], 1e-12, "m")).And(Close(vf[i], v[i], 1e-12, "v")).And(Close(uf[i], expected, 1e-12, $"output at step {step}"));
                    }
                    prop = prop.And((s.Count == step).Label($"count {s.Count} ≠ {step}"));
                }
                return prop;
            });

    private static Property Close(double actual, double expected, double rel, string what) =>
        (Math.Abs(actual - expected) <= rel * Math.Abs(expected) || actual == expected).Label($"{what}: {actual:R} vs {expected:R}");

    [Fact]
    public void ScaleByAdam_with_huge_eps_is_momentum_scaled_by_one_over_eps()
    {
        // ε ≫ √v̂: output = m̂/(√v̂ + ε) ≈ m̂/ε. One step: m̂ = g, √v̂ = |g|.
        var p = new ParamTree<double>(["x"], [NdArray.Vector(0.0, 0.0)]);
        var g = new ParamTree<double>(["x"], [NdArray.Vector(1e-6, -2e-6)]);
        var tr = new ScaleByAdam(0.5, 0.9, 1e3);
        var (u, _) = tr.Update(g, tr.Init(p), p);
        Assert.Equal(1e-6 / (1e-6 + 1e3), u[0][0], 1e-24);
        Assert.Equal(-2e-6 / (2e-6 + 1e3), u[0][1], 1e-24);
        Assert.Equal(1e-9, u[0][0], 1e-17);
    }

    // ───────────────────────── ScaleByRms ─────────────────────────

    /// <summary>v ← αv + (1−α)u², output u/(√v + ε); centred: ḡ ← αḡ + (1−α)u and output u/(√(v − ḡ²) + ε). To 1e-12 relative.</summary>
    [Law(40)]
    public Property ScaleByRms_follows_its_equations() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), OptimizerGens.Rate(0.999).ToArbitrary(), Gen.Elements(false, true).ToArbitrary(), (t, alpha, centered) =>
        {
            var tr = new ScaleByRms(alpha, 1e-8, centered);
            var p = t.Params;
            var s = (RmsState<double>)tr.Init(p);
            var prop = ((s.GradAvg is not null) == centered).Label("GradAvg present iff centred");
            int n = (int)p.ParameterCount;
            var v = new double[n]; var gbar = new double[n];
            foreach (var gt in t.Grads)
            {
                var g = gt.Flatten();
                var (u, next) = tr.Update(gt, s, p);
                s = (RmsState<double>)next;
                var uf = u.Flatten();
                for (int i = 0; i < n; i++)
                {
                    v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i];
                    gbar[i] = alpha * gbar[i] + (1 - alpha) * g[i];
                    double denom = Math.Sqrt(centered ? v[i] - gbar[i] * gbar[i] : v[i]) + 1e-8;
                    // Centred with α near 0 cancels in v − ḡ²: allow the cancellation's amplification.
                    double rel = centered ? 1e-12 * Math.Max(1, v[i] / Math.Max(v[i] - gbar[i] * gbar[i], 1e-300)) : 1e-12;
                    prop = prop.And(Close(uf[i], g[i] / denom, rel, $"output (α {alpha}, centred {centered})"));
                }
            }
            return prop;
        });

    /// <summary>Centred RMSprop divides by √(v − ḡ²). In exact arithmetic v − ḡ² ≥ 0 (Cauchy–Schwarz with weights summing to
    /// 1 − αᵗ ≤ 1), but under a constant gradient it decays like αᵗ·g² while v and ḡ² carry rounding errors of ~ε·g², so once
    /// αᵗ falls below ε the computed difference can be negative and √ gives NaN. A finite gradient must never produce a NaN
    /// update. (torch.optim.RMSprop has the same formula; clamping the difference at 0 removes the NaN and changes nothing else.)</summary>
    [Fact]
    public void Centred_rms_stays_finite_under_a_constant_gradient()
    {
        foreach (var g0 in new[] { 0.3, 1.7, -0.01 })
        {
            var tr = new ScaleByRms(0.9, 1e-8, Centered: true);
            var p = new ParamTree<float>(["w"], [NdArray.Vector(0f, 0f, 0f)]);
            var g = new ParamTree<float>(["w"], [NdArray.Vector((float)g0, (float)(g0 * 3), (float)(g0 / 7))]);
            var s = tr.Init(p);
            for (int step = 1; step <= 1000; step++)
            {
                var (u, next) = tr.Update(g, s, p);
                s = next;
                Assert.True(u.Flatten().All(float.IsFinite), $"g = {g0}: non-finite update {string.Join(", ", u.Flatten())} at step {step}");
            }
            var pd = p.Cast<double>(); var gd = g.Cast<double>();
            var sd = tr.Init(pd);
            for (int step = 1; step <= 1000; step++)
            {
                var (u, next) = tr.Update(gd, sd, pd);
                sd = next;
                Assert.True(u.Flatten().All(double.IsFinite), $"double, g = {g0}: non-finite update at step {step}");
            }
        }
    }

    // ───────────────────────── AddDecayedWeights ─────────────────────────

    /// <summary>u ← u + λθ, computed as θ·λ + u (ScalarReference.ScaleAdd, bitwise); λ = 0 returns the updates unchanged.</summary>
    [Law(40)]
    public Property AddDecayedWeights_adds_lambda_theta() =>
        Prop.ForAll(OptimizerGens.Trajectory(1).ToArbitrary(), OptimizerGens.WeightDecay.ToArbitrary(), (t, lambda) =>
            Decay<double>(t, lambda).And(Decay<float>(t, lambda)));

    private static Property Decay<T>(Trajectory t, double lambda) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tr = new AddDecayedWeights(lambda);
        var p = t.Params.Cast<T>();
        var g = t.Grads[0].Cast<T>();
        var (u, s) = tr.Update(g, tr.Init(p), p);
        var l = T.CreateChecked(lambda);
        var expected = lambda == 0 ? g : ParamTree<T>.Zip(p, g, (a, b) => { var r = new T[a.Length]; ScalarReference.ScaleAdd(a.Span, l, b.Span, r); return NdArray.From<T>(r, a.Shape.ToArray()); });
        return u.Equals(expected).Label($"{typeof(T).Name} λ {lambda}").And(s.Equals(EmptyState.Instance).Label("state"));
    }

    // ───────────────────────── ClipByGlobalNorm ─────────────────────────

    private static readonly Gen<(Trajectory T, double Scale, double Max)> ClipCase =
        from t in OptimizerGens.Trajectory(1)
        from e in Gen.Choose(-3000, 3000)
        from c in Gen.Choose(-2000, 2000)
        select (t, Math.Pow(10, e / 1000.0), Math.Pow(10, c / 1000.0));

    /// <summary>Output norm ≤ c (within rounding: one rounding of the factor and one per element, so c·(1 + 4ε_T)); updates already
    /// within the limit are returned bitwise unchanged; otherwise every element is scaled by the same factor c/‖u‖ (to 2 ulps).</summary>
    [Law(100)]
    public Property ClipByGlobalNorm_bounds_the_norm_and_leaves_small_updates_alone() =>
        Prop.ForAll(ClipCase.ToArbitrary(), x => Clip<double>(x.T, x.Scale, x.Max).And(Clip<float>(x.T, x.Scale, x.Max)));

    private static Property Clip<T>(Trajectory t, double scale, double max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tr = new ClipByGlobalNorm(max);
        var p = t.Params.Cast<T>();
        var g = t.Grads[0].Map(l => NdArray.From<double>(l.Span.ToArray().Select(v => v * scale).ToArray(), l.Shape.ToArray())).Cast<T>();
        double before = Optimizer.GlobalNorm(g);
        var (u, s) = tr.Update(g, tr.Init(p), p);
        double after = Optimizer.GlobalNorm(u);
        double eps = typeof(T) == typeof(float) ? 1.1920929e-7 : 2.220446049250313e-16; // ε_T, the spacing at 1
        var prop = (after <= max * (1 + 4 * eps)).Label($"{typeof(T).Name}: ‖u‖ {before:R} clipped to {after:R} > {max:R}")
            .And(s.Equals(EmptyState.Instance).Label("state"));
        if (before <= max) return prop.And(u.Equals(g).Label($"{typeof(T).Name}: ‖u‖ {before:R} ≤ {max:R} but u changed"));
        var gf = g.Flatten(); var uf = u.Flatten();
        double factor = max / before;
        for (int i = 0; i < gf.Length; i++)
        {
            double expected = double.CreateChecked(gf[i]) * factor;
            prop = prop.And((Math.Abs(double.CreateChecked(uf[i]) - expected) <= 2 * eps * Math.Abs(expected)).Label($"element {i}: {uf[i]} vs {expected:R}"));
        }
        return prop.And((Math.Abs(after - max) <= 4 * eps * max * Math.Sqrt(gf.Length)).Label($"clipped norm {after:R} is not ≈ {max:R}"));
    }

    [Fact]
    public void ClipByGlobalNorm_examples()
    {
        var p = new ParamTree<double>(["a", "b"], [NdArray.Vector(0.0, 0.0), NdArray.Vector(0.0)]);
        var g = new ParamTree<double>(["a", "b"], [NdArray.Vector(3.0, 0.0), NdArray.Vector(4.0)]); // norm 5
        var clip = new ClipByGlobalNorm(1);
        var (u, _) = clip.Update(g, clip.Init(p), p);
        Assert.Equal([0.6, 0.0, 0.8], u.Flatten(), new Tolerance(1e-15));
        var exact = new ClipByGlobalNorm(5);
        Assert.Equal(g, exact.Update(g, exact.Init(p), p).Updates); // at the limit: unchanged
        // NaN passes through unchanged, for divergence detection downstream (documented).
        var nan = new ParamTree<double>(["a", "b"], [NdArray.Vector(double.NaN, 1.0), NdArray.Vector(4.0)]);
        Assert.Equal(nan, clip.Update(nan, clip.Init(p), p).Updates);
    }

    private sealed class Tolerance(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tol;
        public int GetHashCode(double obj) => 0;
    }

    // ───────────────────────── argument checks ─────────────────────────

    public static TheoryData<string, string> BadTransforms() { var d = new TheoryData<string, string>(); foreach (var c in BadCalls) d.Add(c.Key, c.Value.Param); return d; }

    private static readonly Dictionary<string, (Func<object> Call, string Param)> BadCalls = new()
    {
        ["TraceMomentum 1"] = (() => new TraceMomentum(1), "Momentum"),
        ["TraceMomentum -1e-9"] = (() => new TraceMomentum(-1e-9), "Momentum"),
        ["TraceMomentum NaN"] = (() => new TraceMomentum(double.NaN, true), "Momentum"),
        ["ScaleByAdam β1 1"] = (() => new ScaleByAdam(Beta1: 1), "Beta1"),
        ["ScaleByAdam β1 NaN"] = (() => new ScaleByAdam(Beta1: double.NaN), "Beta1"),
        ["ScaleByAdam β2 1"] = (() => new ScaleByAdam(Beta2: 1), "Beta2"),
        ["ScaleByAdam β2 -0.5"] = (() => new ScaleByAdam(Beta2: -0.5), "Beta2"),
        ["ScaleByAdam ε -1"] = (() => new ScaleByAdam(Eps: -1), "Eps"),
        ["ScaleByAdam ε +inf"] = (() => new ScaleByAdam(Eps: double.PositiveInfinity), "Eps"),
        ["ScaleByRms α 1"] = (() => new ScaleByRms(Alpha: 1), "Alpha"),
        ["ScaleByRms α NaN"] = (() => new ScaleByRms(Alpha: double.NaN), "Alpha"),
        ["ScaleByRms ε NaN"] = (() => new ScaleByRms(Eps: double.NaN), "Eps"),
        ["AddDecayedWeights -1"] = (() => new AddDecayedWeights(-1), "WeightDecay"),
        ["AddDecayedWeights NaN"] = (() => new AddDecayedWeights(double.NaN), "WeightDecay"),
        ["ClipByGlobalNorm 0"] = (() => new ClipByGlobalNorm(0), "MaxNorm"),
        ["ClipByGlobalNorm -1"] = (() => new ClipByGlobalNorm(-1), "MaxNorm"),
        ["ClipByGlobalNorm +inf"] = (() => new ClipByGlobalNorm(double.PositiveInfinity), "MaxNorm"),
        ["ClipByGlobalNorm NaN"] = (() => new ClipByGlobalNorm(double.NaN), "MaxNorm"),
    };

    [Theory]
    [MemberData(nameof(BadTransforms))]
    public void Bad_hyperparameters_throw_ArgumentOutOfRange_with_the_property_name(string call, string param) =>
        Assert.Equal(param, Assert.Throws<ArgumentOutOfRangeException>(() => BadCalls[call].Call()).ParamName);

    [Fact]
    public void A_state_for_another_structure_is_rejected_by_every_stateful_transform()
    {
        var p = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0)]);
        var q = new ParamTree<double>(["a"], [NdArray.Vector(1.0, 2.0, 3.0)]);
        foreach (GradientTransform tr in new GradientTransform[] { new TraceMomentum(0.9), new ScaleByAdam(), new ScaleByAdam(AmsGrad: true), new ScaleByRms(), new ScaleByRms(Centered: true) })
            Assert.Equal("state", Assert.Throws<ArgumentException>(() => tr.Update(p, tr.Init(q), p)).ParamName);
        // AMSGrad without its running max, centred RMSprop without its mean: states of the non-AMSGrad / non-centred twin.
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => new ScaleByAdam(AmsGrad: true).Update(p, new ScaleByAdam().Init(p), p)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => new ScaleByRms(Centered: true).Update(p, new ScaleByRms().Init(p), p)).ParamName);
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    private static ParamTree<double> One(params double[] v) => new(["w"], [NdArray.Vector(v)]);

    [Fact]
    public void Hyperparameter_refusals_name_the_parameter_and_the_range()
    {
        void Check(Func<object> make, string param, string text)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => make());
            Assert.Equal(param, e.ParamName);
            Assert.Contains(text, e.Message);
        }
        Check(() => new TraceMomentum(1.0), "Momentum", "[0, 1)");
        Check(() => new ScaleByAdam(Beta1: 1.0), "Beta1", "[0, 1)");
        Check(() => new ScaleByAdam(Beta2: -0.1), "Beta2", "[0, 1)");
        Check(() => new ScaleByAdam(Eps: -1), "Eps", "finite");
        Check(() => new ScaleByRms(Alpha: 1.0), "Alpha", "[0, 1)");
        Check(() => new ScaleByRms(Eps: double.PositiveInfinity), "Eps", "finite");
        Check(() => new ScaleByRms(Eps: -1e-8), "Eps", "finite");
        Check(() => new AddDecayedWeights(-0.1), "WeightDecay", "finite");
        Check(() => new ClipByGlobalNorm(0), "MaxNorm", "positive");
    }

    [Fact]
    public void Transforms_refuse_a_state_that_is_not_theirs()
    {
        var p = One(1, 2); var g = One(0.5, -0.5);
        foreach (var t in new GradientTransform[] { new AddDecayedWeights(0.1), new ClipByGlobalNorm(1.0) })
        {
            var e = Assert.Throws<ArgumentException>(() => t.Update(g, new CountState(3), p));
            Assert.Equal("state", e.ParamName);
            Assert.Contains("expected a EmptyState but got CountState", e.Message);
        }
        var ams = new ScaleByAdam(AmsGrad: true);
        var noMax = new AdamState<double>(0, p.Map(l => NdArray.Zeros<double>(l.Shape.ToArray())), p.Map(l => NdArray.Zeros<double>(l.Shape.ToArray())), null);
        Assert.Contains("AMSGrad needs the state's NuMax", Assert.Throws<ArgumentException>(() => ams.Update(g, noMax, p)).Message);
        var centred = new ScaleByRms(Centered: true);
        var noAvg = new RmsState<double>(p.Map(l => NdArray.Zeros<double>(l.Shape.ToArray())), null);
        Assert.Contains("centred RMSprop needs the state's GradAvg", Assert.Throws<ArgumentException>(() => centred.Update(g, noAvg, p)).Message);
    }

    /// <summary>A schedule that leaves the finite non-negative numbers (2ᵗ overflows) stops the update with the step named.</summary>
    [Fact]
    public void A_learning_rate_that_overflows_stops_the_update()
    {
        var t = new ScaleByLearningRate(new Schedule.Exponential(1.0, 2.0));
        var e = Assert.Throws<InvalidOperationException>(() => t.Update(One(1.0), new CountState(2000), One(0.0)));
        Assert.Contains("learning rate ∞ at step 2000", e.Message.Replace("Infinity", "∞"));
        var (u, s) = t.Update(One(1.0), new CountState(3), One(0.0));
        Assert.Equal(-8.0, u[0][0]);
        Assert.Equal(new CountState(4), s);
    }
}
