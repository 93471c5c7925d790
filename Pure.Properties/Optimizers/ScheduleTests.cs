using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>Learning-rate schedules: their formulas at random steps, their shapes, and their argument checks.</summary>
public sealed class ScheduleTests
{
    private const double Ulp = 2.220446049250313e-16;

    private static Gen<double> LogUniform(double lo, double hi) =>
        Gen.Choose(0, 1_000_000).Select(i => lo * Math.Pow(hi / lo, i / 1e6));

    private static Gen<long> Steps(int max) => Gen.Choose(0, max).Select(i => (long)i);

    private static bool Near(double actual, double expected, double rel) => Math.Abs(actual - expected) <= rel * Math.Abs(expected) + 1e-300;

    // ───────────────────────── Constant, StepDecay, Exponential ─────────────────────────

    [Law(50)]
    public Property Constant_is_constant() =>
        Prop.ForAll(LogUniform(1e-6, 10).ToArbitrary(), Steps(1_000_000).ToArbitrary(), (v, t) =>
        {
            Schedule s = v; // the implicit conversion
            return (s.At(t) == v && s.At(0) == v && s is Schedule.Constant).ToProperty();
        });

    /// <summary>η(t) = η₀·γ^⌊t/S⌋ (PyTorch's StepLR): bitwise constant inside each block of S steps, exactly η₀ in the first,
    /// and consecutive blocks differ by the factor γ (to 4 ulps); compared with the formula written with integer division.</summary>
    [Law(100)]
    public Property StepDecay_follows_its_formula() =>
        Prop.ForAll(Gen.Zip(LogUniform(1e-5, 1), Gen.Choose(1, 500)).ToArbitrary(), LogUniform(0.05, 0.99).ToArbitrary(), Steps(10_000).ToArbitrary(), (lrSize, gamma, t) =>
        {
            var (lr, size) = lrSize;
            var s = new Schedule.StepDecay(lr, size, gamma);
            long block = t / size;
            double expected = lr * NeuralPure.Numerics.Elementary.Pow(gamma, block);   // the formula with NeuralPure's pow (same bits everywhere)
            long blockStart = block * size, blockEnd = blockStart + size - 1;
            return (s.At(t) == expected).Label($"At({t}) = {s.At(t):R}, formula {expected:R}")
                .And((s.At(blockStart) == s.At(t) && s.At(blockEnd) == s.At(t)).Label("not constant within its block"))
                .And((s.At(t % size) == lr).Label("first block is not η₀"))
                .And(Near(s.At(blockEnd + 1), s.At(t) * gamma, 4 * Ulp).Label("next block is not γ times this one"));
        });

    /// <summary>η(t) = η₀·γᵗ (PyTorch's ExponentialLR), against the recursive product PyTorch evaluates (lr ← lr·γ each step)
    /// to t·2 ulps, and At(0) = η₀ exactly.</summary>
    [Law(50)]
    public Property Exponential_follows_its_formula() =>
        Prop.ForAll(LogUniform(1e-5, 1).ToArbitrary(), LogUniform(0.9, 0.99999).ToArbitrary(), Gen.Choose(0, 2000).ToArbitrary(), (lr, gamma, t) =>
        {
            var s = new Schedule.Exponential(lr, gamma);
            double r = lr;
            for (int i = 0; i < t; i++) r *= gamma;
            return (s.At(0) == lr).Label("At(0)").And(Near(s.At(t), r, (2 * t + 2) * Ulp).Label($"At({t}) = {s.At(t):R} vs product {r:R}"));
        });

    [Fact]
    public void StepDecay_and_Exponential_examples()
    {
        var step = new Schedule.StepDecay(0.1, 30); // γ defaults to 0.1, as StepLR's
        Assert.Equal(0.1, step.At(0));
        Assert.Equal(0.1, step.At(29));
        Assert.Equal(0.1 * 0.1, step.At(30), 1e-18);
        Assert.Equal(0.1 * 0.01, step.At(60), 1e-18);
        var exp = new Schedule.Exponential(1, 0.5);
        Assert.Equal(0.125, exp.At(3));
    }

    // ───────────────────────── Cosine ─────────────────────────

    /// <summary>η(t) = floor + (η₀ − floor)·½(1 + cos(π·min(t, T)/T)): the formula at random steps (to 4 ulps of η₀), monotone
    /// non-increasing on [0, T], exactly the floor at T (cos π = −1 exactly in double) and after.</summary>
    [Law(100)]
    public Property Cosine_decays_to_its_floor_at_decay_steps_and_stays() =>
        Prop.ForAll(Gen.Zip(LogUniform(1e-4, 1), Gen.Choose(1, 5000)).ToArbitrary(), OptimizerGens.Rate(0.5).ToArbitrary(), Steps(10_000).ToArbitrary(), (lrT, floorFrac, t) =>
        {
            var (lr, T) = lrT;
            double floor = lr * floorFrac;
            var s = new Schedule.Cosine(lr, T, floor);
            double expected = floor + (lr - floor) * (1 + Math.Cos(Math.PI * Math.Min(t, T) / T)) / 2;
            return Near(s.At(t), expected, 4 * Ulp * lr / Math.Max(expected, 1e-300)).Label($"At({t}) = {s.At(t):R} vs {expected:R}")
                .And((s.At(T) == floor && s.At(T + 1 + t) == floor).Label($"At(T) = {s.At(T):R}, At(T + …) = {s.At(T + 1 + t):R}, floor {floor:R}"))
                .And((Math.Abs(s.At(0) - lr) <= Ulp * lr).Label("At(0) is not η₀"))
                .And((t >= T || s.At(t + 1) <= s.At(t)).Label($"increased from {t} to {t + 1}"));
        });

    // ───────────────────────── WarmupCosine ─────────────────────────

    private static readonly Gen<Schedule.WarmupCosine> WarmupCosines =
        from peak in LogUniform(1e-4, 1)
        from warm in Gen.Choose(0, 500)
        from decay in Gen.Choose(1, 3000)
        from startFrac in OptimizerGens.Rate(1)
        from endFrac in OptimizerGens.Rate(1)
        select new Schedule.WarmupCosine(peak, warm, warm + decay, peak * startFrac, peak * endFrac);

    /// <summary>Linear warm-up from Start to Peak over W steps, then cosine to End at TotalSteps (optax's warmup_cosine_decay_schedule):
    /// the formula at random steps, At(0) = Start (when W &gt; 0), ≈ Peak at W, exactly End from TotalSteps on, non-decreasing
    /// through the warm-up and non-increasing after.</summary>
    [Law(100)]
    public Property WarmupCosine_follows_its_formula_and_shape() =>
        Prop.ForAll(WarmupCosines.ToArbitrary(), Steps(4000).ToArbitrary(), (s, t) =>
        {
            long w = s.WarmupSteps, total = s.TotalSteps;
            double expected = t < w
                ? s.Start + (s.Peak - s.Start) * t / w
                : s.End + (s.Peak - s.End) * (1 + Math.Cos(Math.PI * Math.Min(t - w, total - w) / (total - w))) / 2;
            var prop = Near(s.At(t), expected, 4 * Ulp * s.Peak / Math.Max(expected, 1e-300)).Label($"At({t}) = {s.At(t):R} vs {expected:R}")
                .And((s.At(total) == s.End && s.At(total + t) == s.End).Label("not End after TotalSteps"))
                .And((Math.Abs(s.At(w) - s.Peak) <= Ulp * s.Peak).Label($"At(W) = {s.At(w):R}, peak {s.Peak:R}"))
                .And((w == 0 || s.At(0) == s.Start).Label("At(0) is not Start"));
            // Across the boundary At(W) = End + (Peak − End) may round one ulp below Peak, so there allow one ulp.
            if (t + 1 < w) prop = prop.And((s.At(t + 1) >= s.At(t)).Label($"warm-up decreased from {t} to {t + 1}"));
            else if (t + 1 == w) prop = prop.And((s.At(w) >= s.At(t) * (1 - Ulp)).Label($"fell from {s.At(t):R} to {s.At(w):R} entering the decay"));
            else prop = prop.And((s.At(t + 1) <= s.At(t)).Label($"decay increased from {t} to {t + 1}"));
            return prop;
        });

    [Fact]
    public void WarmupCosine_warm_up_is_monotone_step_by_step()
    {
        var s = new Schedule.WarmupCosine(0.1, 1000, 5000, 0, 1e-5);
        for (long t = 0; t < 1000; t++) Assert.True(s.At(t + 1) >= s.At(t), $"step {t}");
        Assert.Equal(0.0, s.At(0));
        Assert.Equal(0.05, s.At(500), 1e-17);
        Assert.Equal(1e-5, s.At(5000));
    }

    // ───────────────────────── OneCycle ─────────────────────────

    /// <summary>PyTorch's OneCycleLR.get_lr, three_phase = False, anneal_strategy = 'cos', ported line by line.</summary>
    private static double TorchOneCycle(double maxLr, long total, double pct, double div, double finalDiv, long step)
    {
        double initial = maxLr / div, min = initial / finalDiv;
        static double Cos(double start, double end, double p) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * p) + 1);
        var phases = new[] { (End: pct * total - 1, Start: initial, Stop: maxLr), (End: (double)(total - 1), Start: maxLr, Stop: min) };
        double startStep = 0;
        for (int i = 0; i < phases.Length; i++)
        {
            if (step <= phases[i].End || i == phases.Length - 1)
                return Cos(phases[i].Start, phases[i].Stop, (step - startStep) / (phases[i].End - startStep));
            startStep = phases[i].End;
        }
        throw new InvalidOperationException();
    }

    private static readonly Gen<Schedule.OneCycle> OneCycles =
        from max in LogUniform(1e-4, 1)
        from total in Gen.Choose(4, 5000)
        from pctMille in Gen.Choose(1, 999)
        where pctMille / 1000.0 * total >= 2 && pctMille / 1000.0 * total <= total - 1 // both phases at least a step long
        from div in LogUniform(1, 100)
        from finalDiv in LogUniform(1, 1e5)
        select new Schedule.OneCycle(max, total, pctMille / 1000.0, div, finalDiv);

    /// <summary>One-cycle against PyTorch's get_lr at random steps (to 4 ulps of max), starting at max/div, ending at
    /// max/(div·finalDiv) at total − 1 (and after: clamped), rising then falling around step pctStart·total − 1.</summary>
    [Law(100)]
    public Property OneCycle_matches_pytorch() =>
        Prop.ForAll(OneCycles.ToArbitrary(), Gen.Choose(0, 5000).ToArbitrary(), (s, t0) =>
        {
            long total = s.TotalSteps, t = t0 % total;
            double expected = TorchOneCycle(s.MaxLr, total, s.PctStart, s.DivFactor, s.FinalDivFactor, t);
            double initial = s.MaxLr / s.DivFactor, final = initial / s.FinalDivFactor;
            double upEnd = s.PctStart * total - 1;
            var prop = Near(s.At(t), expected, 4 * Ulp * s.MaxLr / expected).Label($"At({t}) = {s.At(t):R}, PyTorch {expected:R}")
                .And(Near(s.At(0), initial, 4 * Ulp * s.MaxLr / initial).Label($"At(0) = {s.At(0):R}, max/div = {initial:R}"))
                .And(Near(s.At(total - 1), final, 4 * Ulp * s.MaxLr / final).Label($"At(total − 1) = {s.At(total - 1):R}, max/(div·finalDiv) = {final:R}"))
                .And((s.At(total + t) == s.At(total - 1)).Label("not clamped after the last step"))
                .And((s.At(t) <= s.MaxLr).Label("above max"));
            if (t + 1 <= upEnd) prop = prop.And((s.At(t + 1) >= s.At(t)).Label($"fell during the rise at {t}"));
            if (t >= upEnd && t + 1 < total) prop = prop.And((s.At(t + 1) <= s.At(t)).Label($"rose during the fall at {t}"));
            return prop;
        });

    [Fact]
    public void OneCycle_peaks_at_max_at_step_pct_start_times_total_minus_one()
    {
        // pctStart·total − 1 = 0.25·100 − 1 = 24 exactly; cos(π) = −1 exactly, so the peak is max bitwise.
        var s = new Schedule.OneCycle(0.1, 100, 0.25, 25, 1e4);
        Assert.Equal(0.1, s.At(24));
        Assert.True(s.At(23) < 0.1 && s.At(25) < 0.1);
        Assert.Equal(0.1 / 25, s.At(0), 4 * Ulp * 0.1); // max + (initial − max): rounded at max's scale, as PyTorch's
        Assert.Equal(0.1 / 25 / 1e4, s.At(99), 1e-20);
        // PyTorch's default pct_start 0.3 and the defaults div 25, final_div 1e4.
        var d = new Schedule.OneCycle(1, 1000);
        Assert.Equal((0.3, 25.0, 1e4), (d.PctStart, d.DivFactor, d.FinalDivFactor));
        Assert.Equal(1.0, d.At(299), 1e-15);
    }

    // ───────────────────────── argument checks ─────────────────────────

    public static TheoryData<string, string> BadSchedules() { var d = new TheoryData<string, string>(); foreach (var c in BadCalls) d.Add(c.Key, c.Value.Param); return d; }

    private static readonly Dictionary<string, (Func<Schedule> Call, string Param)> BadCalls = new()
    {
        ["StepDecay η₀ 0"] = (() => new Schedule.StepDecay(0, 10), "Initial"),
        ["StepDecay η₀ NaN"] = (() => new Schedule.StepDecay(double.NaN, 10), "Initial"),
        ["StepDecay size 0"] = (() => new Schedule.StepDecay(0.1, 0), "StepSize"),
        ["StepDecay γ 0"] = (() => new Schedule.StepDecay(0.1, 10, 0), "Gamma"),
        ["Exponential η₀ -1"] = (() => new Schedule.Exponential(-1, 0.9), "Initial"),
        ["Exponential γ -0.9"] = (() => new Schedule.Exponential(0.1, -0.9), "Gamma"),
        ["Cosine η₀ +inf"] = (() => new Schedule.Cosine(double.PositiveInfinity, 10), "Initial"),
        ["Cosine T 0"] = (() => new Schedule.Cosine(0.1, 0), "DecaySteps"),
        ["Cosine floor -1e-3"] = (() => new Schedule.Cosine(0.1, 10, -1e-3), "Floor"),
        ["WarmupCosine peak 0"] = (() => new Schedule.WarmupCosine(0, 10, 100), "Peak"),
        ["WarmupCosine warm-up -1"] = (() => new Schedule.WarmupCosine(0.1, -1, 100), "WarmupSteps"),
        ["WarmupCosine total = warm-up"] = (() => new Schedule.WarmupCosine(0.1, 10, 10), "TotalSteps"),
        ["WarmupCosine start -1"] = (() => new Schedule.WarmupCosine(0.1, 10, 100, Start: -1), "Start"),
        ["WarmupCosine end NaN"] = (() => new Schedule.WarmupCosine(0.1, 10, 100, End: double.NaN), "End"),
        ["OneCycle max 0"] = (() => new Schedule.OneCycle(0, 100), "MaxLr"),
        ["OneCycle total 1"] = (() => new Schedule.OneCycle(0.1, 1), "TotalSteps"),
        ["OneCycle pct 0"] = (() => new Schedule.OneCycle(0.1, 100, 0), "PctStart"),
        ["OneCycle pct 1"] = (() => new Schedule.OneCycle(0.1, 100, 1), "PctStart"),
        ["OneCycle div 0"] = (() => new Schedule.OneCycle(0.1, 100, DivFactor: 0), "DivFactor"),
        ["OneCycle final div -1"] = (() => new Schedule.OneCycle(0.1, 100, FinalDivFactor: -1), "FinalDivFactor"),
    };

    [Theory]
    [MemberData(nameof(BadSchedules))]
    public void Bad_arguments_throw_ArgumentOutOfRange_with_the_property_name(string call, string param) =>
        Assert.Equal(param, Assert.Throws<ArgumentOutOfRangeException>(() => BadCalls[call].Call()).ParamName);

    [Fact]
    public void A_constant_learning_rate_must_be_positive_and_finite()
    {
        foreach (var bad in new[] { 0.0, -1e-3, double.NaN, double.PositiveInfinity })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Schedule.Constant(bad));
            // The record's parameter is Value; the message calls it "learning rate". Either names it for a reader.
            Assert.Contains(e.ParamName ?? "(null)", new[] { "Value", "learning rate" });
        }
    }

    [Fact]
    public void Schedules_are_values()
    {
        Assert.Equal(new Schedule.Cosine(0.1, 100, 0.01), new Schedule.Cosine(0.1, 100, 0.01));
        Assert.NotEqual(new Schedule.Cosine(0.1, 100, 0.01), new Schedule.Cosine(0.1, 100, 0.02));
        Assert.Equal((Schedule)0.5, new Schedule.Constant(0.5));
        Assert.NotEqual<Schedule>(new Schedule.StepDecay(0.1, 10), new Schedule.Exponential(0.1, 0.1));
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Fact]
    public void Schedule_refusals_name_the_parameter_and_the_rule()
    {
        void Check(Func<Schedule> make, string param, string text)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => make());
            Assert.Equal(param, e.ParamName);
            Assert.Contains(text, e.Message);
        }
        Check(() => new Schedule.Constant(0), "learning rate", "learning rate must be a positive finite number");
        Check(() => new Schedule.StepDecay(0.1, 0), "StepSize", "StepSize must be ≥ 1");
        Check(() => new Schedule.Cosine(0.1, 10, -1), "Floor", "Floor must be a finite number ≥ 0");
        Check(() => new Schedule.WarmupCosine(0.1, -1, 10), "WarmupSteps", "warm-up steps must be ≥ 0");
        Check(() => new Schedule.WarmupCosine(0.1, 10, 10), "TotalSteps", "total steps must exceed warm-up steps");
        Check(() => new Schedule.OneCycle(0.1, 1), "TotalSteps", "one-cycle needs at least 2 steps");
        Check(() => new Schedule.OneCycle(0.1, 10, PctStart: 1), "PctStart", "pct_start must be in (0, 1)");
    }

    /// <summary>The edges the formulas meet at: no warm-up at all, the peak reached exactly when the warm-up ends (0.1·3/3 would
    /// not be 0.1), and a one-cycle of 2 steps whose rise ends at step 0.</summary>
    [Fact]
    public void Schedules_at_their_edges()
    {
        var none = new Schedule.WarmupCosine(0.1, 0, 10);
        Assert.Equal(0.1, none.At(0));
        var warm = new Schedule.WarmupCosine(0.1, 3, 10);
        Assert.Equal(0.1, warm.At(3));
        Assert.Equal(0.1 / 3, warm.At(1), 15);
        var two = new Schedule.OneCycle(0.1, 2, PctStart: 0.5);
        Assert.Equal(0.1, two.At(0));
        Assert.Equal(0.1 / 25 / 1e4, two.At(1), 15);
        Assert.Equal(0.1 / 25 / 1e4, new Schedule.OneCycle(0.1, 2).At(1), 15);
    }
}
