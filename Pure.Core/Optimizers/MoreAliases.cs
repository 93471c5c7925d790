using System.Collections.Immutable;

namespace NeuralPure.Optimizers;

public static partial class Optimizer
{
    /// <summary>Adagrad (Duchi, Hazan &amp; Singer 2011) as torch.optim.Adagrad: lr 1e-2, lr decay 0, coupled weight decay 0,
    /// initial accumulator 0, ε 1e-10.</summary>
    /// <remarks>g ← g + λθ; clr = η/(1 + (t − 1)·lr_decay); s ← s + g²; θ ← θ − clr·g/(√s + ε).
    /// <c>Chain(AddDecayedWeights(λ), ScaleByAdagrad(s₀, ε), ScaleByLearningRate(η / (1 + t·lr_decay)))</c>; with a learning-rate
    /// schedule other than a constant, lr decay must be 0 (the schedule already says how η moves).</remarks>
    /// <exception cref="ArgumentException">A lr decay with a non-constant schedule.</exception>
    public static GradientTransform Adagrad(Schedule? learningRate = null, double lrDecay = 0, double weightDecay = 0, double initialAccumulator = 0, double eps = 1e-10)
    {
        var lr = learningRate ?? 1e-2;
        if (lrDecay != 0)
            lr = lr is Schedule.Constant c ? new Schedule.InverseTimeDecay(c.Value, lrDecay)
                : throw new ArgumentException($"Adagrad's lr decay {lrDecay} needs a constant learning rate, not {lr}; put the decay in the schedule instead", nameof(lrDecay));
        return Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByAdagrad(initialAccumulator, eps), new ScaleByLearningRate(lr));
    }

    /// <summary>Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): lr 1e-4, β₁ 0.9, β₂ 0.99, decoupled weight decay 0 (the paper's and lucidrains' lion-pytorch defaults).</summary>
    /// <remarks>c = β₁m + (1 − β₁)g; θ ← θ − η·(sign(c) + λθ); m ← β₂m + (1 − β₂)g. The paper advises a learning rate 3–10× smaller
    /// than AdamW's and a weight decay 3–10× larger. <c>Chain(ScaleByLion(β₁, β₂), AddDecayedWeights(λ), ScaleByLearningRate(η))</c>.</remarks>
    public static GradientTransform Lion(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.99, double weightDecay = 0) =>
        Chain(new ScaleByLion(beta1, beta2), weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByLearningRate(learningRate ?? 1e-4));

    /// <summary>PyTorch's parameter groups: each parameter takes the optimizer of the first group whose mask selects it, with its
    /// own hyperparameters and state (a chain of <see cref="Masked"/> transforms over disjoint masks).</summary>
    /// <remarks>For example decay on weights only, as <c>[{"params": weights, "weight_decay": 0.1}, {"params": biases, "weight_decay": 0}]</c>:
    /// <c>Groups((ParamMask.Matching("weight"), AdamW(0.01, weightDecay: 0.1)), (ParamMask.All, AdamW(0.01, weightDecay: 0)))</c>.
    /// Every parameter must fall in a group (end with <see cref="ParamMask.All"/> for the rest); Init refuses one that does not.</remarks>
    /// <exception cref="ArgumentException">No groups.</exception>
    public static GradientTransform Groups(params (ParamMask Mask, GradientTransform Optimizer)[] groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Length == 0) throw new ArgumentException("give at least one group", nameof(groups));
        // group i takes what its mask selects and no earlier group took
        var parts = new GradientTransform[groups.Length + 1];
        for (int i = 0; i < groups.Length; i++)
            parts[i] = new Masked(groups[i].Optimizer, groups[i].Mask with { Excluding = [.. groups.Take(i).Select(g => g.Mask)] });
        parts[^1] = new RequireCovered([.. groups.Select(g => g.Mask)]);
        return GradientTransform.Chain(parts);
    }

    /// <summary><paramref name="optimizer"/> with its weight decay (every <see cref="AddDecayedWeights"/> in it) left off the
    /// parameters <paramref name="noDecay"/> selects: optax's masked weight decay, Keras's exclude_from_weight_decay.</summary>
    /// <remarks>PyTorch's and this library's default is to decay every parameter; a common choice is to exclude biases and
    /// normalization parameters: <c>WithoutDecayOn(AdamW(), ParamMask.Matching("bias"))</c>.</remarks>
    public static GradientTransform WithoutDecayOn(GradientTransform optimizer, ParamMask noDecay)
    {
        ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(noDecay);
        var keep = new ParamMask([], Invert: true, Excluding: [noDecay]); // exactly the names noDecay does not select
        return optimizer switch
        {
            AddDecayedWeights d => new Masked(d, keep),
            ChainTransform c => new ChainTransform([.. c.Transforms.Select(t => WithoutDecayOn(t, noDecay))]),
            MultiSteps m => new MultiSteps(WithoutDecayOn(m.Inner, noDecay), m.Every),
            Masked m => new Masked(WithoutDecayOn(m.Inner, noDecay), m.Mask),
            _ => optimizer,
        };
    }

    /// <summary>Gradient accumulation: <paramref name="optimizer"/> updates once every <paramref name="microBatches"/> steps, on the
    /// mean of their gradients (<see cref="MultiSteps"/>).</summary>
    public static GradientTransform Accumulate(GradientTransform optimizer, int microBatches) => new MultiSteps(optimizer, microBatches);
}

/// <summary>Groups' last link: Init refuses a parameter that no group's mask selects (it would not be optimized at all).</summary>
/// <param name="Masks">The groups' masks.</param>
public sealed record RequireCovered(ImmutableArray<ParamMask> Masks) : GradientTransform
{
    /// <inheritdoc/>
    public override OptState Init<T>(Tensors.ParamTree<T> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var missed = parameters.Names.Where(n => !Masks.Any(m => m.Includes(n))).ToList();
        if (missed.Count > 0)
            throw new ArgumentException($"parameter(s) {string.Join(", ", missed)} fall in no group; add a last group with ParamMask.All for the rest", nameof(parameters));
        return EmptyState.Instance;
    }

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, Tensors.ParamTree<T> parameters)
    {
        Expect<EmptyState>(state);
        return new Pass<T>();
    }

    private sealed class Pass<T> : TransformWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public override void Update(in UpdateArgs<T> a) { }
        public override OptState State() => EmptyState.Instance;
    }

    /// <summary>Element-wise equality of the masks.</summary>
    public bool Equals(RequireCovered? other) => other is not null && Masks.SequenceEqual(other.Masks);

    /// <inheritdoc/>
    public override int GetHashCode() => Masks.Aggregate(19, HashCode.Combine);
}
