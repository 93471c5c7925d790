using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Optimizers;

/// <summary>The state an optimizer carries between steps. Immutable: Update returns a new one.</summary>
public abstract record OptState
{
    /// <summary>For derived states, in any assembly.</summary>
    protected OptState() { }
}

/// <summary>The state of a stateless transform.</summary>
public sealed record EmptyState : OptState
{
    /// <summary>The one instance.</summary>
    public static EmptyState Instance { get; } = new();
}

/// <summary>A step counter (schedules).</summary>
/// <param name="Count">Updates done so far.</param>
public sealed record CountState(long Count) : OptState;

/// <summary>Momentum's velocity buffer v.</summary>
public sealed record MomentumState<T>(ParamTree<T> Velocity) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Dampened momentum's buffer v and the steps done (the first step sets v to the update itself, undampened).</summary>
/// <param name="Count">Updates done so far.</param>
/// <param name="Velocity">The buffer v.</param>
public sealed record DampedMomentumState<T>(long Count, ParamTree<T> Velocity) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Adam's moments: the step count t, the first moment m, the second moment v, and (AMSGrad) the running max of v.</summary>
public sealed record AdamState<T>(long Count, ParamTree<T> Mu, ParamTree<T> Nu, ParamTree<T>? NuMax) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>RMSprop's running mean of squared gradients, and (centred) of gradients.</summary>
public sealed record RmsState<T>(ParamTree<T> Nu, ParamTree<T>? GradAvg) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Adagrad's running sum of squared updates.</summary>
public sealed record AdagradState<T>(ParamTree<T> Sum) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Lion's momentum m.</summary>
public sealed record LionState<T>(ParamTree<T> Mu) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A masked transform's state: the names of the parameters it covers and the inner transform's state over them.</summary>
public sealed record MaskedState(ImmutableArray<string> Names, OptState Inner) : OptState
{
    /// <summary>Element-wise equality of the names.</summary>
    public bool Equals(MaskedState? other) => other is not null && Names.SequenceEqual(other.Names) && Inner.Equals(other.Inner);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Names.Length, Inner);
}

/// <summary>Gradient accumulation's state: the micro-batch within the current k (0 after an update), the sum of the updates
/// since the last real one, and the inner optimizer's state.</summary>
public sealed record MultiStepsState<T>(int MiniStep, ParamTree<T> Accumulated, OptState Inner) : OptState where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The states of a chain's transforms, in order.</summary>
public sealed record ChainState(ImmutableArray<OptState> States) : OptState
{
    /// <summary>Element-wise equality of the states.</summary>
    public bool Equals(ChainState? other) => other is not null && States.SequenceEqual(other.States);

    /// <inheritdoc/>
    public override int GetHashCode() => States.Aggregate(17, (h, s) => HashCode.Combine(h, s));
}
