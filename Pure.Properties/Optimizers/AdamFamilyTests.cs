using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Numerics;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>AdamFamily.cs: Adamax, NAdam and RAdam pass the verification kit, obey a checkable law each, refuse bad
/// hyperparameters and states by name, and step in the fold without allocating. (Their agreement with PyTorch is
/// Reference3Tests.)</summary>
public sealed class AdamFamilyTests
{
    private static Property Passes(VerificationReport r) => r.Passed.Label(r.ToString());

    private static Gen<ParamTree<double>> Tree { get; } =
        from two in Gen.Elements(false, true)
        from s1 in Generators.Shape(3, 3)
        from s2 in Generators.Shape(1, 3)
        from w in Generators.Matrix(s1.Rows, s1.Cols, 2.0)
        from b in Generators.Matrix(s2.Rows, s2.Cols, 2.0)
        select two ? new ParamTree<double>(["0.weight", "0.bias"], [w, b.Reshape(s2.Cols)]) : new ParamTree<double>(["0.weight"], [w]);

    private static Property TransformLaw(Gen<GradientTransform> transforms, int maxSteps = 8) =>
        Prop.ForAll((from t in transforms
                     from p in Tree
                     from steps in Gen.Choose(1, maxSteps)
                     from seed in Generators.Seed
                     select (t, p, steps, seed)).ToArbitrary(),
            c => Passes(Verify.Transform(c.t, c.p, c.steps, c.seed)));

    private static Gen<double> Beta => Generators.Between(0, 0.999);

    // ───────────────────────── the verification kit ─────────────────────────

    [Law(10)] public Property ScaleByAdamax_passes_the_verification_kit() => TransformLaw(from b1 in Beta from b2 in Beta select (GradientTransform)new ScaleByAdamax(b1, b2));
    [Law(10)] public Property ScaleByNAdam_passes_the_verification_kit() =>
        TransformLaw(from b1 in Beta from b2 in Beta from psi in Gen.Elements(0.0, 4e-3, 0.1) select (GradientTransform)new ScaleByNAdam(b1, b2, 1e-8, psi));
    /// <summary>With up to 8 steps and β₂ near 0.999 both branches are exercised (ρₜ &gt; 5 from step 6).</summary>
    [Law(10)] public Property ScaleByRAdam_passes_the_verification_kit() =>
        TransformLaw(from b1 in Beta from b2 in Gen.OneOf(Beta, Generators.Between(0.99, 0.999)) select (GradientTransform)new ScaleByRAdam(b1, b2));

    [Law(10)]
    public Property The_aliases_pass_the_verification_kit() =>
        TransformLaw(from lr in Generators.Between(1e-3, 0.5)
                     from wd in Gen.Elements(0.0, 0.01, 0.1)
                     from which in Gen.Choose(0, 2)
                     select which switch { 0 => Optimizer.Adamax(lr, weightDecay: wd), 1 => Optimizer.NAdam(lr, weightDecay: wd), _ => Optimizer.RAdam(lr, weightDecay: wd) });

    [Fact]
    public void The_defaults_are_torch_optims()
    {
        Assert.Equal(GradientTransform.Chain(new ScaleByAdamax(0.9, 0.999, 1e-8), new ScaleByLearningRate(2e-3)), Optimizer.Adamax());
        Assert.Equal(GradientTransform.Chain(new ScaleByNAdam(0.9, 0.999, 1e-8, 4e-3), new ScaleByLearningRate(2e-3)), Optimizer.NAdam());
        Assert.Equal(GradientTransform.Chain(new ScaleByRAdam(0.9, 0.999, 1e-8), new ScaleByLearningRate(1e-3)), Optimizer.RAdam());
        Assert.Equal(GradientTransform.Chain(new AddDecayedWeights(0.01), new ScaleByRAdam(), new ScaleByLearningRate(0.05)), Optimizer.RAdam(0.05, weightDecay: 0.01));
        Assert.Equal(GradientTransform.Chain(new AddDecayedWeights(0.5), new ScaleByNAdam(0.8, 0.9, 1e-6, 0.1), new ScaleByLearningRate(0.1)), Optimizer.NAdam(0.1, 0.8, 0.9, 1e-6, 0.5, 0.1));
        Assert.Equal(GradientTransform.Chain(new AddDecayedWeights(0.5), new ScaleByAdamax(0.8, 0.9, 1e-6), new ScaleByLearningRate(0.1)), Optimizer.Adamax(0.1, 0.8, 0.9, 1e-6, 0.5));
    }

    // ───────────────────────── laws ─────────────────────────

    /// <summary>The outputs of <paramref name="t"/> fed the trajectory's gradients, step by step.</summary>
    private static List<ParamTree<double>> Outputs(GradientTransform t, ParamTree<double> p, IEnumerable<ParamTree<double>> grads)
    {
        var s = t.Init(p);
        var r = new List<ParamTree<double>>();
        foreach (var g in grads)
        {
            (var u, s) = t.Update(g, s, p);
            r.Add(u);
        }
        return r;
    }

    private static ParamTree<double> Scaled(ParamTree<double> g, double k) =>
        new(g.Names, [.. g.Leaves.Select(l => NdArray.From<double>([.. l.ToArray().Select(v => v * k)], [.. l.Shape]))]);

    /// <summary>Adamax with β₁ = 0 steps at most η per coordinate: m = g, u ≥ |g| + ε, so |u_out| = η·|g|/u ≤ η, whatever
    /// the gradients, β₂ and η (exactly: a correctly rounded quotient of |g| by something larger is ≤ 1).</summary>
    [Law(30)]
    public Property Adamax_with_beta1_zero_steps_at_most_the_learning_rate() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Beta.ToArbitrary(), OptimizerGens.LearningRate.ToArbitrary(), (t, b2, lr) =>
        {
            var outs = Outputs(Optimizer.Adamax(lr, beta1: 0, beta2: b2), t.Params, t.Grads);
            double worst = outs.SelectMany(u => u.Flatten()).Max(Math.Abs);
            return (worst <= lr).Label($"largest step {worst:R} > η = {lr:R}");
        });

    /// <summary>Adamax, NAdam and (once rectified) RAdam are invariant under scaling the gradients when ε = 0: multiplying every
    /// gradient by 2ᵏ changes no bit of the outputs (m, u or √v scale by exactly 2ᵏ). Un-rectified RAdam, bias-corrected
    /// momentum, scales by exactly 2ᵏ instead.</summary>
    [Law(30)]
    public Property With_eps_zero_the_updates_are_invariant_under_scaling_the_gradients_by_a_power_of_two() =>
        Prop.ForAll(OptimizerGens.Trajectory(8).ToArbitrary(), Beta.ToArbitrary(), Gen.Choose(-4, 4).ToArbitrary(), (t, b1, k) =>
        {
            double f = Math.ScaleB(1, k);
            var scaledGrads = t.Grads.Select(g => Scaled(g, f)).ToArray();
            var prop = true.Label("");
            foreach (var tr in new GradientTransform[] { new ScaleByAdamax(b1, 0.999, 0), new ScaleByNAdam(b1, 0.999, 0) })
                prop = prop.And(Outputs(tr, t.Params, t.Grads).SequenceEqual(Outputs(tr, t.Params, scaledGrads)).Label($"{tr} with gradients × {f}"));
            var radam = new ScaleByRAdam(b1, 0.999, 0);
            var plain = Outputs(radam, t.Params, t.Grads);
            var scaled = Outputs(radam, t.Params, scaledGrads);
            for (int s = 0; s < plain.Count; s++)
            {
                var expected = radam.IsRectified(s + 1) ? plain[s] : Scaled(plain[s], f);
                prop = prop.And(expected.Equals(scaled[s]).Label($"RAdam step {s + 1} (rectified: {radam.IsRectified(s + 1)}) with gradients × {f}"));
            }
            return prop;
        });

    /// <summary>RAdam before rectification (ρₜ ≤ 5) is bias-corrected EMA momentum: its output equals, bit for bit,
    /// m/(1 − β₁ᵗ) computed by hand with m ← β₁m + (1 − β₁)g, whatever ε; once rectified its step is the adaptive one scaled
    /// by r ∈ (0, 1], never larger than m̂·√(1 − β₂ᵗ)/(√v + ε). β₂ ranges over [0, 0.999], so the never-rectified ρ∞ ≤ 5
    /// (β₂ ≤ 2/3) and the switch at step 6 (β₂ near 0.999) both occur.</summary>
    [Law(40)]
    public Property RAdam_before_rectification_is_bias_corrected_momentum_and_after_it_at_most_the_adaptive_step() =>
        Prop.ForAll((from t in OptimizerGens.Trajectory(9)
                     from b1 in Beta
                     from b2 in Gen.OneOf(Beta, Generators.Between(0.99, 0.999))
                     from eps in Gen.Elements(0.0, 1e-8, 0.1)
                     select (t, b1, b2, eps)).ToArbitrary(), c =>
        {
            var (t, b1, b2, eps) = c;
            var radam = new ScaleByRAdam(b1, b2, eps);
            var outs = Outputs(radam, t.Params, t.Grads);
            var m = t.Params.Leaves.Select(l => new double[l.Length]).ToArray();
            var v = t.Params.Leaves.Select(l => new double[l.Length]).ToArray();
            var prop = true.Label("");
            for (int s = 0; s < outs.Count; s++)
            {
                long step = s + 1;
                // The library's own pow (Elementary.Pow, ≤ 0.7 ulp, tested in ElementaryTests): the C library's Math.Pow
                // differs from it in the last bit for some β, and this law compares bits.
                double bc1 = 1 - Elementary.Pow(b1, step), bc2 = 1 - Elementary.Pow(b2, step);
                for (int j = 0; j < m.Length; j++)
                    for (int i = 0; i < m[j].Length; i++)
                    {
                        double g = t.Grads[s][j][i];
                        m[j][i] = b1 * m[j][i] + (1 - b1) * g;
                        v[j][i] = b2 * v[j][i] + (1 - b2) * g * g;
                        double mHat = m[j][i] / bc1, got = outs[s][j][i];
                        if (!radam.IsRectified(step))
                            prop = prop.And((got == mHat).Label($"step {step} '{t.Params.Names[j]}'[{i}]: {got:R} ≠ m̂ {mHat:R}"));
                        else
                        {
                            double adaptive = Math.Abs(mHat * (Math.Sqrt(bc2) / (Math.Sqrt(v[j][i]) + eps)));
                            prop = prop.And((Math.Abs(got) <= adaptive * (1 + 1e-14) && (got == 0) == (mHat == 0)).Label($"step {step} '{t.Params.Names[j]}'[{i}]: |{got:R}| > {adaptive:R}"));
                        }
                    }
            }
            return prop;
        });

    /// <summary>NAdam with β₁ = 0 has μₜ = 0 for all t, so it is Adam with β₁ = 0: g/(√(v/(1 − β₂ᵗ)) + ε), equal to
    /// ScaleByAdam(0, β₂, ε)'s g/(√v/√(1 − β₂ᵗ) + ε) to rounding (1e-13 relative).</summary>
    [Law(30)]
    public Property NAdam_with_beta1_zero_is_adam_with_beta1_zero() =>
        Prop.ForAll(OptimizerGens.Trajectory(6).ToArbitrary(), Beta.ToArbitrary(), Gen.Elements(0.0, 4e-3, 1.0).ToArbitrary(), (t, b2, psi) =>
        {
            var nadam = Outputs(new ScaleByNAdam(0, b2, 1e-8, psi), t.Params, t.Grads).SelectMany(u => u.Flatten()).ToArray();
            var adam = Outputs(new ScaleByAdam(0, b2, 1e-8), t.Params, t.Grads).SelectMany(u => u.Flatten()).ToArray();
            double worst = nadam.Zip(adam, (a, b) => Math.Abs(a - b) / Math.Max(Math.Abs(b), 1e-300)).Max();
            return (worst <= 1e-13).Label($"NAdam(β₁ = 0) vs Adam(β₁ = 0): {worst:E3} relative");
        });

    /// <summary>NAdam with ψ = 0 keeps μₜ = β₁/2 for every t: the state's product is (β₁/2)ᵗ, and under a constant gradient
    /// g with ε = 0 (so m = (1 − β₁ᵗ)g and √(v/(1 − β₂ᵗ)) = |g|) every output is sign(g)·[(1 − μ)/(1 − μᵗ) + μ(1 − β₁ᵗ)/(1 − μᵗ⁺¹)]
    /// (to 1e-12 relative). With the default ψ the product is Π μ₁..ₜ of <see cref="ScaleByNAdam.MuAt"/>.</summary>
    [Law(30)]
    public Property NAdam_with_psi_zero_has_a_constant_momentum_and_a_closed_form_under_a_constant_gradient() =>
        Prop.ForAll(OptimizerGens.TreeOf([[2, 3], [4]], OptimizerGens.Nonzero).ToArbitrary(), Generators.Between(0.05, 0.999).ToArbitrary(), Beta.ToArbitrary(), (g, b1, b2) =>
        {
            var nadam = new ScaleByNAdam(b1, b2, 0, 0);
            var p = g.ZerosLike();
            var s = nadam.Init(p);
            var prop = true.Label("");
            double mu = b1 / 2, product = 1;
            for (int step = 1; step <= 8; step++)
            {
                (var u, s) = nadam.Update(g, s, p);
                product *= nadam.MuAt(step);
                var st = (NAdamState<double>)s;
                prop = prop.And((Math.Abs(st.MuProduct - Math.Pow(mu, step)) <= 1e-14 * Math.Pow(mu, step) && st.MuProduct == product).Label($"step {step}: product {st.MuProduct:R} ≠ (β₁/2)^t"));
                double c = (1 - mu) / (1 - Math.Pow(mu, step)) + mu * (1 - Math.Pow(b1, step)) / (1 - Math.Pow(mu, step + 1));
                foreach (var (out_, grad) in u.Flatten().Zip(g.Flatten()))
                    prop = prop.And((Math.Abs(out_ - Math.Sign(grad) * c) <= 1e-12 * c).Label($"step {step}: {out_:R} vs ±{c:R}"));
            }
            return prop;
        });

    [Fact]
    public void NAdam_keeps_the_product_of_its_momentum_schedule_in_the_state()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(0.5, -1.0)]);
        var t = new ScaleByNAdam();
        var s = t.Init(p);
        Assert.Equal(new NAdamState<double>(0, 1.0, p.ZerosLike(), p.ZerosLike()), s);
        double product = 1;
        for (int k = 1; k <= 5; k++)
        {
            (_, s) = t.Update(p, s, p);
            product *= 0.9 * (1 - 0.5 * Math.Pow(0.96, k * 4e-3));
            Assert.Equal(product, ((NAdamState<double>)s).MuProduct);
            Assert.Equal(k, ((NAdamState<double>)s).Count);
        }
    }

    // ───────────────────────── argument checks ─────────────────────────

    private static readonly Dictionary<string, (Func<object> Call, string Param)> BadCalls = new()
    {
        ["ScaleByAdamax β1 1"] = (() => new ScaleByAdamax(Beta1: 1), "Beta1"),
        ["ScaleByAdamax β1 -0.1"] = (() => new ScaleByAdamax(Beta1: -0.1), "Beta1"),
        ["ScaleByAdamax β2 NaN"] = (() => new ScaleByAdamax(Beta2: double.NaN), "Beta2"),
        ["ScaleByAdamax ε -1e-8"] = (() => new ScaleByAdamax(Eps: -1e-8), "Eps"),
        ["ScaleByAdamax ε +inf"] = (() => new ScaleByAdamax(Eps: double.PositiveInfinity), "Eps"),
        ["ScaleByNAdam β1 NaN"] = (() => new ScaleByNAdam(Beta1: double.NaN), "Beta1"),
        ["ScaleByNAdam β2 1"] = (() => new ScaleByNAdam(Beta2: 1), "Beta2"),
        ["ScaleByNAdam ε NaN"] = (() => new ScaleByNAdam(Eps: double.NaN), "Eps"),
        ["ScaleByNAdam ψ -4e-3"] = (() => new ScaleByNAdam(MomentumDecay: -4e-3), "MomentumDecay"),
        ["ScaleByNAdam ψ NaN"] = (() => new ScaleByNAdam(MomentumDecay: double.NaN), "MomentumDecay"),
        ["ScaleByNAdam ψ +inf"] = (() => new ScaleByNAdam(MomentumDecay: double.PositiveInfinity), "MomentumDecay"),
        ["ScaleByRAdam β1 1.5"] = (() => new ScaleByRAdam(Beta1: 1.5), "Beta1"),
        ["ScaleByRAdam β2 -1"] = (() => new ScaleByRAdam(Beta2: -1), "Beta2"),
        ["ScaleByRAdam β2 1"] = (() => new ScaleByRAdam(Beta2: 1), "Beta2"),
        ["ScaleByRAdam ε -1"] = (() => new ScaleByRAdam(Eps: -1), "Eps"),
        ["Adamax lr 0"] = (() => Optimizer.Adamax(0.0), "learningRate"),
        ["Adamax lr NaN"] = (() => Optimizer.Adamax(double.NaN), "learningRate"),
        ["Adamax β1 1"] = (() => Optimizer.Adamax(beta1: 1), "beta1"),
        ["Adamax β2 -0.5"] = (() => Optimizer.Adamax(beta2: -0.5), "beta2"),
        ["Adamax ε -1"] = (() => Optimizer.Adamax(eps: -1), "eps"),
        ["Adamax weight decay -0.01"] = (() => Optimizer.Adamax(weightDecay: -0.01), "weightDecay"),
        ["NAdam lr -1"] = (() => Optimizer.NAdam(-1.0), "learningRate"),
        ["NAdam β1 NaN"] = (() => Optimizer.NAdam(beta1: double.NaN), "beta1"),
        ["NAdam β2 1"] = (() => Optimizer.NAdam(beta2: 1), "beta2"),
        ["NAdam ε NaN"] = (() => Optimizer.NAdam(eps: double.NaN), "eps"),
        ["NAdam weight decay NaN"] = (() => Optimizer.NAdam(weightDecay: double.NaN), "weightDecay"),
        ["NAdam momentum decay -1"] = (() => Optimizer.NAdam(momentumDecay: -1), "momentumDecay"),
        ["RAdam lr +inf"] = (() => Optimizer.RAdam(double.PositiveInfinity), "learningRate"),
        ["RAdam β1 -0.1"] = (() => Optimizer.RAdam(beta1: -0.1), "beta1"),
        ["RAdam β2 1.001"] = (() => Optimizer.RAdam(beta2: 1.001), "beta2"),
        ["RAdam ε +inf"] = (() => Optimizer.RAdam(eps: double.PositiveInfinity), "eps"),
        ["RAdam weight decay -1"] = (() => Optimizer.RAdam(weightDecay: -1), "weightDecay"),
    };

    public static TheoryData<string, string> BadHyperparameters() { var d = new TheoryData<string, string>(); foreach (var c in BadCalls) d.Add(c.Key, c.Value.Param); return d; }

    /// <summary>The exception's ParamName names the parameter, ignoring case and spaces (the records name their properties,
    /// Beta1 for the alias's beta1; Schedule.Constant reports "learning rate").</summary>
    [Theory]
    [MemberData(nameof(BadHyperparameters))]
    public void Bad_hyperparameters_throw_ArgumentOutOfRange_naming_the_parameter(string call, string param)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BadCalls[call].Call());
        static string Norm(string? s) => (s ?? "").Replace(" ", "").ToLowerInvariant();
        Assert.True(Norm(e.ParamName) == Norm(param), $"{call}: ParamName '{e.ParamName}' does not name '{param}'");
    }

    /// <summary>The edges are allowed: β = 0, ε = 0, ψ = 0, and β just below 1.</summary>
    [Fact]
    public void Edge_hyperparameters_are_accepted()
    {
        double below1 = Math.BitDecrement(1.0);
        Assert.Equal(0, new ScaleByAdamax(0, 0, 0).Eps);
        Assert.Equal(below1, new ScaleByAdamax(below1, below1).Beta2);
        Assert.Equal(0, new ScaleByNAdam(0, 0, 0, 0).MomentumDecay);
        Assert.Equal(below1, new ScaleByNAdam(below1, below1).Beta1);
        Assert.Equal(0, new ScaleByRAdam(0, 0, 0).Beta1);
        Assert.Equal(below1, new ScaleByRAdam(below1, below1).Beta2);
    }

    /// <summary>A state that is not the transform's, a negative count, a momentum product outside [0, 1] or moments of
    /// another shape are refused as the argument "state".</summary>
    [Fact]
    public void Foreign_and_broken_states_are_refused_by_name()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(0.5, -1.0)]);
        var other = new ParamTree<double>(["w"], [NdArray.Vector(0.5, -1.0, 2.0)]);
        var z = p.ZerosLike();
        void Refused(GradientTransform t, OptState s, string? text = null)
        {
            var e = Assert.Throws<ArgumentException>(() => t.Update(p, s, p));
            Assert.Equal("state", e.ParamName);
            if (text is not null) Assert.Contains(text, e.Message);
        }
        Refused(new ScaleByAdamax(), new AdamState<double>(0, z, z, null), "expected a AdamaxState");
        Refused(new ScaleByRAdam(), new AdamState<double>(0, z, z, null), "expected a RAdamState");
        Refused(new ScaleByNAdam(), new RAdamState<double>(0, z, z), "expected a NAdamState");
        Refused(new ScaleByAdamax(), new AdamaxState<double>(-1, z, z), "step count is -1");
        Refused(new ScaleByRAdam(), new RAdamState<double>(-3, z, z), "step count is -3");
        Refused(new ScaleByNAdam(), new NAdamState<double>(-1, 1, z, z), "step count is -1");
        Refused(new ScaleByNAdam(), new NAdamState<double>(0, 1.5, z, z), "momentum product is 1.5");
        Refused(new ScaleByNAdam(), new NAdamState<double>(0, double.NaN, z, z), "momentum product is NaN");
        Refused(new ScaleByAdamax(), new AdamaxState<double>(0, z, other.ZerosLike()));
        Refused(new ScaleByRAdam(), new RAdamState<double>(0, other.ZerosLike(), z));
        Refused(new ScaleByNAdam(), new NAdamState<double>(0, 1, z, other.ZerosLike()));
    }

    // ───────────────────────── the fold ─────────────────────────

    /// <summary>Once the fold's workspaces exist, a step with Adamax, NAdam or RAdam (with and without weight decay) allocates
    /// nothing: this thread's allocation counter does not move between steps (FoldTests' pattern).</summary>
    [Theory]
    [InlineData("adamax")]
    [InlineData("nadam")]
    [InlineData("radam")]
    [InlineData("adamax wd")]
    [InlineData("nadam wd")]
    [InlineData("radam wd")]
    public void A_step_of_the_fold_allocates_nothing(string name)
    {
        double wd = name.EndsWith(" wd") ? 0.01 : 0;
        var opt = name.Split(' ')[0] switch
        {
            "adamax" => Optimizer.Adamax(0.01, weightDecay: wd),
            "nadam" => Optimizer.NAdam(0.01, weightDecay: wd),
            _ => Optimizer.RAdam(0.01, weightDecay: wd),
        };
        FoldAllocation.AssertStepsAllocateNothing(name, TrainingProblems.Classifier(), opt, TrainingProblems.Blobs<float>(400));
    }

    /// <summary>The fold gives the pure composition's bits for the three aliases, in float (the fold law, here for the new
    /// transforms): Trainer.Fit equals Step folded by hand, state and parameters.</summary>
    [Theory]
    [InlineData("adamax")]
    [InlineData("nadam")]
    [InlineData("radam")]
    public void The_fold_gives_the_pure_steps_bits(string name)
    {
        var opt = name switch { "adamax" => Optimizer.Adamax(0.01, weightDecay: 0.01), "nadam" => Optimizer.NAdam(0.01, weightDecay: 0.01), _ => Optimizer.RAdam(0.01, weightDecay: 0.01) };
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(60);
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(4));
        var config = new TrainConfig(8, 2);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config), Trainer.Fit(spec, opt, start, data, config).State);
    }
}
