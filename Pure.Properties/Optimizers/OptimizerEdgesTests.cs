using System.Collections.Immutable;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Optimizers;

/// <summary>The edges of the optimizers that the laws over random trees do not reach (the Optimizers Stryker run's survivors):
/// refusals by name and rule, states of another tree refused at Open for every transform, what the aliases and Parse build,
/// the options each name takes, masks (globs, equality, text), masked and accumulated transforms, and schedules at their
/// boundaries.</summary>
public sealed class OptimizerEdgesTests
{
    private static ParamTree<double> Tree(params (string Name, int Length)[] leaves) =>
        new([.. leaves.Select(l => l.Name)], [.. leaves.Select(l => NdArray.From<double>([.. Enumerable.Range(1, l.Length).Select(i => i * 0.5)], l.Length))]);

    private static readonly ParamTree<double> P = Tree(("w", 2), ("b", 1));
    private static readonly ParamTree<double> Other = Tree(("w", 3), ("b", 1));

    private static void Refused<TE>(Func<object?> make, string param, string message) where TE : ArgumentException
    {
        var e = Assert.Throws<TE>(make);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(message, e.Message);
    }

    private static void RefusesOtherTree(GradientTransform t, OptState state) =>
        Refused<ArgumentException>(() => t.Open(state, P), "state", "parameter trees differ in the shape of 'w'");

    [Fact]
    public void Bad_hyperparameters_are_refused_naming_the_rule()
    {
        Refused<ArgumentOutOfRangeException>(() => new ScaleByAdamax(Beta1: 1), "Beta1", "beta1 must be in [0, 1)");
        Refused<ArgumentOutOfRangeException>(() => new ScaleByRAdam(Beta2: -0.1), "Beta2", "beta2 must be in [0, 1)");
        Refused<ArgumentOutOfRangeException>(() => new ScaleByNAdam(Eps: double.PositiveInfinity), "Eps", "eps must be a finite number ≥ 0");
        Refused<ArgumentOutOfRangeException>(() => new ScaleByNAdam(MomentumDecay: -1), "MomentumDecay", "momentum decay must be a finite number ≥ 0");
        Refused<ArgumentOutOfRangeException>(() => new ScaleByAdagrad(InitialAccumulator: -1), "InitialAccumulator", "the initial accumulator must be a finite number ≥ 0");
        foreach (var eps in new[] { -1e-10, double.NaN, double.PositiveInfinity })
            Refused<ArgumentOutOfRangeException>(() => new ScaleByAdagrad(Eps: eps), "Eps", "eps must be a finite number ≥ 0");
        Assert.Equal(0.0, new ScaleByAdagrad(Eps: 0).Eps);
        Refused<ArgumentOutOfRangeException>(() => new ScaleByLion(Beta1: 1.5), "Beta1", "beta1 must be in [0, 1]");
        Refused<ArgumentOutOfRangeException>(() => new ScaleByLion(Beta2: 1), "Beta2", "beta2 must be in [0, 1)");
        Assert.Equal((0.0, 0.0), (new ScaleByLion(0, 0).Beta1, new ScaleByLion(0, 0).Beta2));
        Assert.Equal(1.0, new ScaleByLion(Beta1: 1).Beta1);
        Refused<ArgumentOutOfRangeException>(() => new MultiSteps(new AddDecayedWeights(0.1), 0), "Every", "accumulation needs at least 1 micro-batch per update");
        Refused<ArgumentOutOfRangeException>(() => new TraceMomentum(0.9, Dampening: 1.5), "Dampening", "dampening must be in [0, 1]");
        Refused<ArgumentException>(() => Optimizer.Sgd(0.1, dampening: 0.5), "dampening", "dampening 0.5 has no effect without momentum; give a momentum > 0 or leave dampening at 0");
        Refused<ArgumentException>(() => Optimizer.Adagrad(new Schedule.Cosine(0.1, 10), lrDecay: 0.1), "lrDecay", "Adagrad's lr decay 0.1 needs a constant learning rate, not");
        Refused<ArgumentException>(() => new ParamMask([" "]), "Patterns", "a mask's patterns must be non-empty names or globs");
    }

    /// <summary>Every transform's Open refuses a state made for another tree, naming the state — each of its arrays checked
    /// on its own (a state whose first moment fits but whose second does not, and the other way round).</summary>
    [Fact]
    public void Open_refuses_a_state_of_another_tree_for_every_array_it_holds()
    {
        ParamTree<double> Z(ParamTree<double> t) => t.ZerosLike();
        RefusesOtherTree(new ScaleByAdamax(), new AdamaxState<double>(0, Z(Other), Z(P)));
        RefusesOtherTree(new ScaleByAdamax(), new AdamaxState<double>(0, Z(P), Z(Other)));
        RefusesOtherTree(new ScaleByNAdam(), new NAdamState<double>(0, 1, Z(Other), Z(P)));
        RefusesOtherTree(new ScaleByNAdam(), new NAdamState<double>(0, 1, Z(P), Z(Other)));
        RefusesOtherTree(new ScaleByRAdam(), new RAdamState<double>(0, Z(Other), Z(P)));
        RefusesOtherTree(new ScaleByRAdam(), new RAdamState<double>(0, Z(P), Z(Other)));
        RefusesOtherTree(new ScaleByAdagrad(), new AdagradState<double>(Z(Other)));
        RefusesOtherTree(new ScaleByLion(), new LionState<double>(Z(Other)));
        RefusesOtherTree(new TraceMomentum(0.9, Dampening: 0.1), new DampedMomentumState<double>(0, Z(Other)));
        RefusesOtherTree(new MultiSteps(new AddDecayedWeights(0.1), 2), new MultiStepsState<double>(0, Z(Other), EmptyState.Instance));
        Refused<ArgumentException>(() => new TraceMomentum(0.9, Dampening: 0.1).Open(new DampedMomentumState<double>(-1, Z(P)), P), "state",
            "the dampened momentum's step count is -1; it must be ≥ 0");
        Refused<ArgumentException>(() => new ScaleByAdamax().Open(new AdamaxState<double>(-2, Z(P), Z(P)), P), "state", "the Adamax step count is -2");
        Refused<ArgumentException>(() => new ScaleByNAdam().Open(new NAdamState<double>(-2, 1, Z(P), Z(P)), P), "state", "the NAdam step count is -2");
        Refused<ArgumentException>(() => new ScaleByRAdam().Open(new RAdamState<double>(-2, Z(P), Z(P)), P), "state", "the RAdam step count is -2");
    }

    [Fact]
    public void Adagrad_starts_its_sums_at_the_initial_accumulator()
    {
        var s = (AdagradState<double>)new ScaleByAdagrad(InitialAccumulator: 0.25).Init(P);
        Assert.All(s.Sum.Leaves.SelectMany(l => l.Span.ToArray()), v => Assert.Equal(0.25, v));
    }

    /// <summary>The aliases leave the decay out of the chain when it is 0 and put it where the algorithm has it otherwise.</summary>
    [Fact]
    public void Aliases_put_a_weight_decay_in_the_chain_only_when_it_is_not_zero()
    {
        var plain = Assert.IsType<ChainTransform>(Optimizer.Adagrad(0.1));
        Assert.DoesNotContain(plain.Transforms, t => t is AddDecayedWeights);
        var decayed = Assert.IsType<ChainTransform>(Optimizer.Adagrad(0.1, weightDecay: 0.2));
        Assert.Equal(new AddDecayedWeights(0.2), decayed.Transforms[0]);
        Assert.Equal(3, decayed.Transforms.Length);
        var lion = Assert.IsType<ChainTransform>(Optimizer.Lion(1e-4));
        Assert.Equal(2, lion.Transforms.Length);
        Assert.DoesNotContain(lion.Transforms, t => t is AddDecayedWeights);
        var lionDecayed = Assert.IsType<ChainTransform>(Optimizer.Lion(1e-4, weightDecay: 0.5));
        Assert.Equal(new AddDecayedWeights(0.5), lionDecayed.Transforms[1]);
        var lrDecay = Assert.IsType<ChainTransform>(Optimizer.Adagrad(0.1, lrDecay: 0.01));
        Assert.Equal(new ScaleByLearningRate(new Schedule.InverseTimeDecay(0.1, 0.01)), lrDecay.Transforms[^1]);
    }

    [Fact]
    public void Each_name_takes_exactly_its_options_and_Parse_builds_the_alias()
    {
        Assert.Equal(new[] { "weightDecay", "momentum", "dampening", "nesterov" }, Optimizer.OptionsOf("sgd"));
        Assert.Equal(new[] { "weightDecay", "momentum", "dampening" }, Optimizer.OptionsOf("momentum"));
        Assert.Equal(new[] { "weightDecay", "momentum" }, Optimizer.OptionsOf("nesterov"));
        Assert.Equal(new[] { "weightDecay" }, Optimizer.OptionsOf("adam"));
        Assert.Equal(new[] { "weightDecay" }, Optimizer.OptionsOf("AdamW"));
        Assert.Equal(new[] { "weightDecay", "momentum" }, Optimizer.OptionsOf("rmsprop"));
        Assert.Equal(new[] { "weightDecay", "lrDecay" }, Optimizer.OptionsOf("adagrad"));
        foreach (var name in new[] { "lion", "adamax", "nadam", "radam" }) Assert.Equal(new[] { "weightDecay" }, Optimizer.OptionsOf(name));
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => Optimizer.Parse(null!)).ParamName);
        Refused<ArgumentException>(() => Optimizer.Parse("adam", lrDecay: 0.1), "lrDecay", "the optimizer 'adam' takes no lrDecay; it takes: learningRate, weightDecay");
        Refused<ArgumentException>(() => Optimizer.Parse("lion", momentum: 0.9), "momentum", "it takes: learningRate, weightDecay");
        Assert.Equal(Optimizer.Adagrad(0.1, 0.01, 0.2), Optimizer.Parse("adagrad", 0.1, weightDecay: 0.2, lrDecay: 0.01));
        Assert.Equal(Optimizer.Lion(0.1, weightDecay: 0.3), Optimizer.Parse("lion", 0.1, weightDecay: 0.3));
        Assert.Equal(Optimizer.Adamax(0.1, weightDecay: 0.3), Optimizer.Parse("adamax", 0.1, weightDecay: 0.3));
        Assert.Equal(Optimizer.NAdam(0.1, weightDecay: 0.3), Optimizer.Parse("nadam", 0.1, weightDecay: 0.3));
        Assert.Equal(Optimizer.RAdam(0.1, weightDecay: 0.3), Optimizer.Parse("radam", 0.1, weightDecay: 0.3));
        Assert.Equal(Optimizer.Adagrad(0.1), Optimizer.Parse("adagrad", 0.1));
    }

    /// <summary>A bare name matches a leaf of that name in any layer ("bias" selects "layer0.bias"); a glob matches the whole
    /// name only; trailing stars match nothing too.</summary>
    [Fact]
    public void Masks_match_bare_names_as_suffixes_and_globs_as_whole_names()
    {
        Assert.True(ParamMask.Matching("bias").Includes("layer0.bias"));
        Assert.False(ParamMask.Matching("b?as").Includes("layer0.bias"));
        Assert.True(ParamMask.Matching("b?as").Includes("bias"));
        Assert.False(ParamMask.Matching("w*").Includes("layer0.weight"));
        Assert.True(ParamMask.Matching("*.w*").Includes("layer0.weight"));
        Assert.False(ParamMask.Matching("layer0.b").Includes("x.layer0.b"));
        Assert.True(ParamMask.Matching("weight**").Includes("weight"));
        Assert.True(ParamMask.Matching("weight*").Includes("weight"));
        Assert.False(ParamMask.Matching("weight*x").Includes("weight"));
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => ParamMask.All.Includes(null!)).ParamName);
    }

    [Fact]
    public void Masks_compare_text_and_hash_by_their_patterns_inversion_and_exclusions()
    {
        var a = ParamMask.Matching("bias", "*.scale");
        Assert.Equal(a, ParamMask.Matching("bias", "*.scale"));
        Assert.Equal(a.GetHashCode(), ParamMask.Matching("bias", "*.scale").GetHashCode());
        Assert.NotEqual(a, ParamMask.Except("bias", "*.scale"));
        Assert.NotEqual(a, ParamMask.Matching("bias"));
        Assert.NotEqual(a, a with { Excluding = [ParamMask.Matching("x")] });
        Assert.False(a.Equals(null));
        Assert.NotEqual(ParamMask.Matching("x").GetHashCode(), ParamMask.Except("x").GetHashCode());
        Assert.Equal("Matching(bias, *.scale)", a.ToString());
        Assert.Equal("Except(w) minus [Matching(b), Matching(c)]", (ParamMask.Except("w") with { Excluding = [ParamMask.Matching("b"), ParamMask.Matching("c")] }).ToString());
        var r = new RequireCovered([a]);
        Assert.Equal(r, new RequireCovered([ParamMask.Matching("bias", "*.scale")]));
        Assert.NotEqual(r, new RequireCovered([ParamMask.Matching("bias")]));
        Assert.False(r.Equals(null));
        var m = new MaskedState(["w"], EmptyState.Instance);
        Assert.Equal(m, new MaskedState(["w"], EmptyState.Instance));
        Assert.NotEqual(m, new MaskedState(["b"], EmptyState.Instance));
        Assert.NotEqual(m, new MaskedState(["w"], new CountState(1)));
    }

    /// <summary>A user's transform whose Open returns null is named, inside a mask and inside an accumulation.</summary>
    private sealed record NullOpen : GradientTransform
    {
        public override OptState Init<T>(ParamTree<T> parameters) => EmptyState.Instance;
        public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) => null!;
    }

    [Fact]
    public void Masked_and_accumulated_transforms_check_their_states_and_name_what_went_wrong()
    {
        var masked = new Masked(new ScaleByLion(), ParamMask.Matching("w"));
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => masked.Init<double>(null!)).ParamName);
        var none = (MaskedState)new Masked(new ScaleByLion(), ParamMask.Matching("nothing")).Init(P);
        Assert.Empty(none.Names);
        Assert.Same(EmptyState.Instance, none.Inner);
        Refused<ArgumentException>(() => masked.Open(new MaskedState(["b"], EmptyState.Instance), P), "state", "the masked state covers [b] but the mask Matching(w) selects [w]");
        var e = Assert.Throws<InvalidOperationException>(() => new Masked(new NullOpen(), ParamMask.All).Open(new Masked(new NullOpen(), ParamMask.All).Init(P), P));
        Assert.Equal("NullOpen.Open returned null", e.Message);
        var acc = new MultiSteps(new NullOpen(), 2);
        Assert.Equal("NullOpen.Open returned null", Assert.Throws<InvalidOperationException>(() => acc.Open(acc.Init(P), P)).Message);
        Assert.Equal("groups", Assert.Throws<ArgumentNullException>(() => Optimizer.Groups(null!)).ParamName);
        Refused<ArgumentException>(() => Optimizer.Groups(), "groups", "give at least one group");
        Assert.Equal("optimizer", Assert.Throws<ArgumentNullException>(() => Optimizer.WithoutDecayOn(null!, ParamMask.All)).ParamName);
        Assert.Equal("noDecay", Assert.Throws<ArgumentNullException>(() => Optimizer.WithoutDecayOn(Optimizer.AdamW(), null!)).ParamName);
        var cover = new RequireCovered([ParamMask.Matching("x")]);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => cover.Init<double>(null!)).ParamName);
        Refused<ArgumentException>(() => cover.Init(P), "parameters", "parameter(s) w, b fall in no group");
        Refused<ArgumentException>(() => cover.Open(new CountState(0), P), "state", "RequireCovered expected a EmptyState but got CountState");
    }

    /// <summary>UpdateArgs.Subset, the gathering a masked transform does: its scratch arrays must have one entry per selected leaf.</summary>
    [Fact]
    public void Subset_needs_one_scratch_entry_per_selected_leaf()
    {
        double[][] u = [[1.0, 2.0], [3.0]], p = [[0.5, 0.5], [0.5]];
        int[] sel = [1];
        void Subset(double[][]? into, double[][]? pinto) => new UpdateArgs<double>(["w", "b"], u, p, writableParameters: false, threads: 1).Subset(sel, ["b"], into!, pinto!);
        Assert.Equal("updatesInto", Assert.Throws<ArgumentNullException>(() => Subset(null, new double[1][])).ParamName);
        Assert.Equal("parametersInto", Assert.Throws<ArgumentNullException>(() => Subset(new double[1][], null)).ParamName);
        foreach (var (a, b) in new[] { (2, 1), (1, 2) })
        {
            var e = Assert.Throws<ArgumentException>(() => Subset(new double[a][], new double[b][]));
            Assert.Equal("updatesInto", e.ParamName);
            Assert.Contains("1 leaves need scratch arrays of 1 entries", e.Message);
        }
        var args = new UpdateArgs<double>(["w", "b"], u, p, writableParameters: false, threads: 1);
        var sub = args.Subset(sel, ["b"], new double[1][], new double[1][]);
        Assert.Equal(3.0, sub.Updates(0)[0]);
    }

    [Fact]
    public void Schedules_at_their_boundaries()
    {
        var inv = new Schedule.InverseTimeDecay(0.1, 0.5);
        Assert.Equal(0.1, inv.At(0));
        Assert.Equal(0.1 / 2, inv.At(2));
        Assert.Equal(0.1 / (1 + 7 * 0.5), inv.At(7));
        // One cycle: at the end of the warm-up (step PctStart·T − 1 = 24) the rate is MaxLr exactly, from the first phase's formula.
        var one = new Schedule.OneCycle(0.1, 100, PctStart: 0.25, DivFactor: 0.7, FinalDivFactor: 0.3);
        double final = 0.1 / 0.7 / 0.3;
        Assert.NotEqual(0.1, final + (0.1 - final));    // the second phase's formula at 0 would not give it exactly
        Assert.Equal(0.1, one.At(24));
    }
}
