using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

namespace NeuralPure.Optimizers;

/// <summary>Adagrad's rescaling (Duchi, Hazan &amp; Singer 2011) with PyTorch's arrangement: s ← s + u²; output u / (√s + ε).</summary>
/// <param name="InitialAccumulator">s₀ for every element (torch's <c>initial_accumulator_value</c>, default 0).</param>
/// <param name="Eps">ε, added after the root (default 1e-10, as PyTorch).</param>
/// <remarks>The learning rate and its <c>lr_decay</c> come after it, as <see cref="ScaleByLearningRate"/> with
/// <see cref="Schedule.InverseTimeDecay"/> (see <see cref="Optimizer.Adagrad"/>).</remarks>
public sealed record ScaleByAdagrad(double InitialAccumulator = 0, double Eps = 1e-10) : GradientTransform
{
    /// <summary>s₀, checked finite and ≥ 0.</summary>
    public double InitialAccumulator { get; } = InitialAccumulator >= 0 && double.IsFinite(InitialAccumulator) ? InitialAccumulator
        : throw new ArgumentOutOfRangeException(nameof(InitialAccumulator), InitialAccumulator, "the initial accumulator must be a finite number ≥ 0");
    /// <summary>ε, checked finite and ≥ 0.</summary>
    public double Eps { get; } = Eps >= 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a finite number ≥ 0");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters)
    {
        var s0 = T.CreateChecked(InitialAccumulator);
        return new AdagradState<T>(parameters.Map(l => { var a = new T[l.Length]; a.AsSpan().Fill(s0); return NdArray.Own(a, l.Shape); }));
    }

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<AdagradState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Sum, nameof(state));
        return new Work<T>(s, T.CreateChecked(Eps));
    }

    private sealed class Work<T>(AdagradState<T> s, T eps) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> sum = new(s.Sum);

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++)
            {
                var u = a.Updates(j);
                OptimizerKernels.SecondMoment<T>(sum[j], T.One, u, T.One, sum[j]); // s + 1·u·u: torch's addcmul_(g, g, value=1)
                OptimizerKernels.DivideBySqrtPlus<T>(u, sum[j], eps, u);
            }
        }

        public override OptState State() => new AdagradState<T>(sum.ToTree());

        protected internal override OptState Release() => new AdagradState<T>(sum.Release());
    }
}

/// <summary>Lion's sign update (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): c = β₁m + (1 − β₁)u;
/// output sign(c); m ← β₂m + (1 − β₂)u.</summary>
/// <param name="Beta1">β₁, the interpolation of the update's direction (default 0.9).</param>
/// <param name="Beta2">β₂, the momentum's decay (default 0.99).</param>
/// <remarks>Every output element is −1, 0 or +1 (NaN stays NaN), so with <see cref="ScaleByLearningRate"/> each coordinate
/// moves by exactly η; decoupled weight decay goes between them (<see cref="Optimizer.Lion"/>).</remarks>
public sealed record ScaleByLion(double Beta1 = 0.9, double Beta2 = 0.99) : GradientTransform
{
    /// <summary>β₁, checked in [0, 1].</summary>
    public double Beta1 { get; } = Beta1 >= 0 && Beta1 <= 1 ? Beta1 : throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "beta1 must be in [0, 1]");
    /// <summary>β₂, checked in [0, 1).</summary>
    public double Beta2 { get; } = Beta2 >= 0 && Beta2 < 1 ? Beta2 : throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "beta2 must be in [0, 1)");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new LionState<T>(parameters.ZerosLike());

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<LionState<T>>(state);
        ParamTree<T>.RequireSameStructure(parameters, s.Mu, nameof(state));
        return new Work<T>(this, s);
    }

    private sealed class Work<T>(ScaleByLion spec, LionState<T> s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> mu = new(s.Mu);
        private readonly T b1 = T.CreateChecked(spec.Beta1), c1 = T.CreateChecked(1 - spec.Beta1), b2 = T.CreateChecked(spec.Beta2), c2 = T.CreateChecked(1 - spec.Beta2);

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++) OptimizerKernels.LionStep<T>(a.Updates(j), mu[j], b1, c1, b2, c2); // sign, with ±0 and NaN kept
        }

        public override OptState State() => new LionState<T>(mu.ToTree());

        protected internal override OptState Release() => new LionState<T>(mu.Release());
    }
}

/// <summary>Which parameters a <see cref="Masked"/> transform applies to, by name.</summary>
/// <remarks>A record, so a run file records it. <see cref="Patterns"/> are globs over parameter names (<c>*</c> any run of
/// characters, <c>?</c> one): <c>*.bias</c>, <c>0.*</c>, <c>2.weight</c>; a bare word without a dot or wildcard matches the
/// whole name or its last dotted part, so <c>bias</c> matches <c>0.bias</c> and <c>bias</c>.</remarks>
/// <param name="Patterns">The globs; a name is selected when any matches.</param>
/// <param name="Invert">Select the names that match none instead.</param>
/// <param name="Excluding">Masks whose names are taken out of the selection (earlier parameter groups).</param>
public sealed record ParamMask(ImmutableArray<string> Patterns, bool Invert = false, ImmutableArray<ParamMask> Excluding = default)
{
    /// <summary>The excluded masks (empty by default).</summary>
    public ImmutableArray<ParamMask> Excluding { get; init; } = Excluding.IsDefault ? [] : Excluding;

    /// <summary>The patterns, checked non-empty strings.</summary>
    public ImmutableArray<string> Patterns { get; } = !Patterns.IsDefault && Patterns.All(p => !string.IsNullOrWhiteSpace(p)) ? Patterns
        : throw new ArgumentException("a mask's patterns must be non-empty names or globs", nameof(Patterns));

    /// <summary>The parameters whose names match any of <paramref name="patterns"/>.</summary>
    public static ParamMask Matching(params string[] patterns) => new([.. patterns]);

    /// <summary>The parameters whose names match none of <paramref name="patterns"/>.</summary>
    public static ParamMask Except(params string[] patterns) => new([.. patterns], Invert: true);

    /// <summary>Every parameter.</summary>
    public static ParamMask All { get; } = Except([]);

    /// <summary>Whether the parameter called <paramref name="name"/> is selected.</summary>
    public bool Includes(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool any = Patterns.Any(p => Glob(p, name) || (!p.Contains('.') && !p.Contains('*') && !p.Contains('?') && Glob("*." + p, name)));
        return any != Invert && !Excluding.Any(e => e.Includes(name));
    }

    /// <summary>Element-wise equality of the patterns.</summary>
    public bool Equals(ParamMask? other) => other is not null && Invert == other.Invert && Patterns.SequenceEqual(other.Patterns) && Excluding.SequenceEqual(other.Excluding);

    /// <inheritdoc/>
    public override int GetHashCode() => Patterns.Aggregate(Invert ? 1 : 0, HashCode.Combine);

    /// <inheritdoc/>
    public override string ToString() => $"{(Invert ? "Except" : "Matching")}({string.Join(", ", Patterns)}){(Excluding.IsEmpty ? "" : $" minus [{string.Join(", ", Excluding)}]")}";

    private static bool Glob(string pattern, string name)
    {
        // iterative wildcard match with backtracking to the last '*'
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == name[n])) { p++; n++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = n; }
            else if (star >= 0) { p = star + 1; n = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}

/// <summary>Applies <paramref name="Inner"/> to the parameters <paramref name="Mask"/> selects and leaves the others' updates as
/// they come (optax's <c>masked</c>): weight decay on weights but not biases, or, as a chain of masks, PyTorch's parameter
/// groups (<see cref="Optimizer.Groups"/>).</summary>
/// <param name="Inner">The transform for the selected parameters; its state covers only them.</param>
/// <param name="Mask">Which parameters, by name.</param>
public sealed record Masked(GradientTransform Inner, ParamMask Mask) : GradientTransform
{
    /// <summary>The inner transform, checked non-null.</summary>
    public GradientTransform Inner { get; } = Inner ?? throw new ArgumentNullException(nameof(Inner));
    /// <summary>The mask, checked non-null.</summary>
    public ParamMask Mask { get; } = Mask ?? throw new ArgumentNullException(nameof(Mask));

    /// <summary>The indices of the selected leaves.</summary>
    private int[] Selected<T>(ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. Enumerable.Range(0, parameters.Count).Where(i => Mask.Includes(parameters.Names[i]))];

    internal static ParamTree<T> Subtree<T>(ParamTree<T> tree, int[] leaves) where T : unmanaged, INumberBase<T> =>
        new([.. leaves.Select(i => tree.Names[i])], [.. leaves.Select(i => tree.Leaves[i])]);

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var sel = Selected(parameters);
        return new MaskedState([.. sel.Select(i => parameters.Names[i])], sel.Length == 0 ? EmptyState.Instance : Inner.Init(Subtree(parameters, sel)));
    }

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<MaskedState>(state);
        var sel = Selected(parameters);
        if (!s.Names.SequenceEqual(sel.Select(i => parameters.Names[i])))
            throw new ArgumentException($"the masked state covers [{string.Join(", ", s.Names)}] but the mask {Mask} selects [{string.Join(", ", sel.Select(i => parameters.Names[i]))}]", nameof(state));
        return sel.Length == 0 ? new Nothing<T>(s) : new Work<T>(sel, [.. s.Names], Inner.Open(s.Inner, Subtree(parameters, sel)) ?? throw new InvalidOperationException($"{Inner.GetType().Name}.Open returned null"));
    }

    /// <summary>The selected leaves' arrays gathered into arrays of its own (references, filled each step), then the inner update.</summary>
    private sealed class Work<T>(int[] selected, ImmutableArray<string> names, TransformWorkspace<T> inner) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[][] updates = new T[selected.Length][], parameters = new T[selected.Length][];

        public override void Update(in UpdateArgs<T> a)
        {
            inner.Update(a.Subset(selected, names, updates, parameters));
            Array.Clear(updates); Array.Clear(parameters); // hold no reference to the caller's arrays between steps
        }

        public override OptState State() => new MaskedState(names, inner.State());

        protected internal override OptState Release() => new MaskedState(names, inner.Release());
    }

    private sealed class Nothing<T>(MaskedState s) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Update(in UpdateArgs<T> a) { }

        public override OptState State() => s;
    }
}

/// <summary>Gradient accumulation (optax's <c>MultiSteps</c>): <paramref name="Inner"/> runs once every <paramref name="Every"/>
/// calls, on the mean of the updates received since its last run; the calls in between output zero updates.</summary>
/// <param name="Inner">The optimizer to run on the accumulated mean.</param>
/// <param name="Every">k ≥ 1: micro-batches per real update.</param>
/// <remarks>With equal-sized micro-batches, the mean of their mean gradients is the gradient of their union, so k steps of
/// accumulation equal one step on the union up to rounding. The accumulator and the position within the k are state, so a
/// checkpoint between micro-batches resumes to the same bits. Schedules inside <paramref name="Inner"/> count real updates.</remarks>
public sealed record MultiSteps(GradientTransform Inner, int Every) : GradientTransform
{
    /// <summary>The inner transform, checked non-null.</summary>
    public GradientTransform Inner { get; } = Inner ?? throw new ArgumentNullException(nameof(Inner));
    /// <summary>k, checked ≥ 1.</summary>
    public int Every { get; } = Every >= 1 ? Every : throw new ArgumentOutOfRangeException(nameof(Every), Every, "accumulation needs at least 1 micro-batch per update");

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new MultiStepsState<T>(0, parameters.ZerosLike(), Inner.Init(parameters));

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Expect<MultiStepsState<T>>(state);
        if (s.MiniStep < 0 || s.MiniStep >= Every) throw new ArgumentException($"the accumulation is at micro-batch {s.MiniStep}, outside [0, {Every})", nameof(state));
        ParamTree<T>.RequireSameStructure(parameters, s.Accumulated, nameof(state));
        return new Work<T>(this, s, Inner.Open(s.Inner, parameters) ?? throw new InvalidOperationException($"{Inner.GetType().Name}.Open returned null"));
    }

    private sealed class Work<T>(MultiSteps spec, MultiStepsState<T> s, TransformWorkspace<T> inner) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly TreeBuffers<T> acc = new(s.Accumulated);
        private readonly T scale = T.One / T.CreateChecked(spec.Every);
        private int mini = s.MiniStep;

        public override void Update(in UpdateArgs<T> a)
        {
            for (int j = 0; j < a.Count; j++) Elementwise.Add<T>(acc[j], a.Updates(j), acc[j]);
            if (++mini < spec.Every)
            {
                for (int j = 0; j < a.Count; j++) a.Updates(j).Clear();
                return;
            }
            for (int j = 0; j < a.Count; j++) { Elementwise.Scale<T>(acc[j], scale, a.Updates(j)); acc[j].Clear(); }
            mini = 0;
            inner.Update(a);
        }

        public override OptState State() => new MultiStepsState<T>(mini, acc.ToTree(), inner.State());

        protected internal override OptState Release() => new MultiStepsState<T>(mini, acc.Release(), inner.Release());
    }
}
