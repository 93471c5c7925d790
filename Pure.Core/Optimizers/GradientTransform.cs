using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Optimizers;

/// <summary>An optimizer, or one piece of one, as a pair of pure functions (optax's <c>GradientTransformation</c>).</summary>
/// <remarks>
/// <para><c>Init(params) → state</c> creates the transform's own small state record; <c>Update(updates, state, params) →
/// (updates, state)</c> turns incoming updates (at first, the gradients) into outgoing ones. <see cref="Chain"/> feeds one
/// transform's output to the next. The final updates are <em>added</em> to the parameters by <see cref="Optimizer.ApplyUpdates{T}"/>,
/// so the learning-rate transform multiplies by −η.</para>
/// <para>Transforms are records: their hyperparameters are their identity, which is what a run file records. They never hold
/// state; everything that changes lives in the <see cref="OptState"/> they return.</para>
/// </remarks>
public abstract record GradientTransform
{
    private protected GradientTransform() { }

    /// <summary>The initial state for parameters shaped like <paramref name="parameters"/>.</summary>
    public abstract OptState Init<T>(ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Transforms <paramref name="updates"/>; pure: returns new updates and a new state.</summary>
    /// <exception cref="ArgumentException">The trees' structures differ, or the state is not this transform's.</exception>
    public (ParamTree<T> Updates, OptState State) Update<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(updates); ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(parameters);
        ParamTree<T>.RequireSameStructure(parameters, updates, nameof(updates));
        return UpdateCore(updates, state, parameters);
    }

    private protected abstract (ParamTree<T> Updates, OptState State) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The state cast to what this transform made, or a clear error.</summary>
    private protected TState Expect<TState>(OptState state) where TState : OptState =>
        state as TState ?? throw new ArgumentException($"{GetType().Name} expected a {typeof(TState).Name} but got {state.GetType().Name}; pass the state this transform's Init returned", nameof(state));

    /// <summary>Applies transforms in order: each sees the previous one's updates (optax.chain).</summary>
    public static GradientTransform Chain(params GradientTransform[] transforms) => new ChainTransform([.. transforms]);
}

/// <summary>Transforms applied in sequence; its state is the tuple of their states.</summary>
/// <param name="Transforms">The transforms, first applied first.</param>
public sealed record ChainTransform(ImmutableArray<GradientTransform> Transforms) : GradientTransform
{
    /// <summary>The transforms, checked non-empty and non-null.</summary>
    public ImmutableArray<GradientTransform> Transforms { get; } =
        !Transforms.IsDefault && Transforms.All(t => t is not null) ? Transforms : throw new ArgumentException("a chain's transforms must not be null", nameof(Transforms));

    /// <inheritdoc/>
    public override OptState Init<T>(ParamTree<T> parameters) => new ChainState([.. Transforms.Select(t => t.Init(parameters))]);

    private protected override (ParamTree<T>, OptState) UpdateCore<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters)
    {
        var s = Expect<ChainState>(state);
        if (s.States.Length != Transforms.Length) throw new ArgumentException($"chain of {Transforms.Length} transforms got a state of {s.States.Length}", nameof(state));
        var next = ImmutableArray.CreateBuilder<OptState>(Transforms.Length);
        for (int i = 0; i < Transforms.Length; i++)
        {
            var (u, st) = Transforms[i].Update(updates, s.States[i], parameters);
            updates = u;
            next.Add(st);
        }
        return (updates, new ChainState(next.MoveToImmutable()));
    }

    /// <summary>Element-wise equality of the transforms.</summary>
    public bool Equals(ChainTransform? other) => other is not null && Transforms.SequenceEqual(other.Transforms);

    /// <inheritdoc/>
    public override int GetHashCode() => Transforms.Aggregate(17, (h, t) => HashCode.Combine(h, t));

    /// <inheritdoc/>
    public override string ToString() => "Chain(" + string.Join(", ", Transforms) + ")";
}
