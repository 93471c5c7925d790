using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Optimizers;

/// <summary>An optimizer, or one piece of one, as a pair of pure functions (optax's <c>GradientTransformation</c>) — with its
/// update written once, in place.</summary>
/// <remarks>
/// <para><c>Init(params) → state</c> creates the transform's own small state record; <c>Update(updates, state, params) →
/// (updates, state)</c> turns incoming updates (at first, the gradients) into outgoing ones. <see cref="Chain"/> feeds one
/// transform's output to the next. The final updates are <em>added</em> to the parameters by <see cref="Optimizer.ApplyUpdates{T}"/>,
/// so the learning-rate transform multiplies by −η.</para>
/// <para>The update itself is written once, in a <see cref="TransformWorkspace{T}"/> that <see cref="Open{T}"/> makes from a
/// state: mutable copies of the state's arrays and counters, and an <c>Update</c> that rewrites the updates in place. The pure
/// <see cref="Update{T}"/> opens a workspace, runs it once on copies and returns new immutable values; the training fold opens
/// one per fit and runs it every step on its own buffers, allocating nothing. A transform may also offer a one-pass form that
/// applies the update to the parameters itself (<see cref="OpenApplying{T}"/>, Adam's fused step): an optional method of its
/// own, which must give the bits of the separate steps.</para>
/// <para>Transforms are records: their hyperparameters are their identity, which is what a run file records. They never hold
/// state; everything that changes lives in the <see cref="OptState"/> they return. Any assembly may derive one.</para>
/// <para>A trimmed or NativeAOT application keeps every transform's public properties (the annotation below), which run
/// records read by reflection to write the hyperparameters.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties)]
public abstract record GradientTransform
{
    /// <summary>For derived transforms, in any assembly.</summary>
    protected GradientTransform() { }

    /// <summary>The initial state for parameters shaped like <paramref name="parameters"/>.</summary>
    public abstract OptState Init<T>(ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The mutable working form of <paramref name="state"/> (its own copies of the state's arrays) for parameters shaped
    /// like <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentException">The state is not this transform's, or it does not fit the parameters.</exception>
    public abstract TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A one-pass form that transforms the updates and applies them to the parameters (p ← p + u) in one go, or null
    /// when this transform has none (the default). Its bits must equal <see cref="Open{T}"/>'s update followed by the addition.</summary>
    /// <exception cref="ArgumentException">The state is not this transform's, or it does not fit the parameters.</exception>
    public virtual TransformWorkspace<T>? OpenApplying<T>(OptState state, ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T> => null;

    /// <summary>Within a chain: a one-pass form of this transform together with its neighbours (the chain's transforms and
    /// states, this one at <paramref name="index"/>) that applies the updates, or null (the default).</summary>
    public virtual TransformWorkspace<T>? FuseInChain<T>(ImmutableArray<GradientTransform> chain, int index, ImmutableArray<OptState> states, ParamTree<T> parameters)
        where T : unmanaged, IFloatingPointIeee754<T> => null;

    /// <summary>Transforms <paramref name="updates"/>; pure: returns new updates and a new state (the workspace's update, run
    /// once on copies).</summary>
    /// <exception cref="ArgumentException">The trees' structures differ, or the state is not this transform's.</exception>
    public (ParamTree<T> Updates, OptState State) Update<T>(ParamTree<T> updates, OptState state, ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(updates); ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(parameters);
        ParamTree<T>.RequireSameStructure(parameters, updates, nameof(updates));
        var work = Open(state, parameters) ?? throw new InvalidOperationException($"{GetType().Name}.Open returned null");
        var u = updates.Leaves.Select(l => l.ToArray()).ToArray();
        work.Update(new UpdateArgs<T>(parameters.Names, u, [.. parameters.Leaves.Select(l => l.Buffer)], writableParameters: false, threads: 1));
        return (new ParamTree<T>(updates.Names, [.. u.Select((a, i) => NdArray.Own(a, updates.Leaves[i].Shape))]), work.Release());
    }

    /// <summary>The state cast to what this transform made, or a clear error.</summary>
    /// <exception cref="ArgumentException">It is another transform's state.</exception>
    protected TState Expect<TState>(OptState state) where TState : OptState
    {
        ArgumentNullException.ThrowIfNull(state);
        return state as TState ?? throw new ArgumentException($"{GetType().Name} expected a {typeof(TState).Name} but got {state.GetType().Name}; pass the state this transform's Init returned", nameof(state));
    }

    /// <summary>Applies transforms in order: each sees the previous one's updates (optax.chain).</summary>
    public static GradientTransform Chain(params GradientTransform[] transforms) => new ChainTransform([.. transforms]);
}

/// <summary>A transform's state in mutable form, owned by one driver (the pure <see cref="GradientTransform.Update{T}"/> or a
/// training fold): <see cref="Update"/> rewrites the updates in place and advances the state; <see cref="State"/> hands out
/// an immutable copy.</summary>
/// <remarks>Written by the transform's author next to the transform; <see cref="TreeBuffers{T}"/> holds a tree's arrays.</remarks>
public abstract class TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>For derived workspaces, in any assembly.</summary>
    protected TransformWorkspace() { }

    /// <summary>True when <see cref="Update"/> also applies the updates to the parameters (a fused form from
    /// <see cref="GradientTransform.OpenApplying{T}"/>); the updates' contents are then unspecified afterwards.</summary>
    public virtual bool AppliesUpdates => false;

    /// <summary>One step: rewrites <see cref="UpdateArgs{T}.Updates"/> in place (or, when <see cref="AppliesUpdates"/>, the
    /// parameters) and advances this workspace's state.</summary>
    public abstract void Update(in UpdateArgs<T> a);

    /// <summary>The state now, as new immutable arrays; the workspace may go on updating.</summary>
    public abstract OptState State();

    /// <summary>The state now, for a driver that is done with this workspace: the built-in workspaces hand their buffers over
    /// instead of copying them (<see cref="TreeBuffers{T}"/> refuses writes afterwards). The default is <see cref="State"/>.</summary>
    protected internal virtual OptState Release() => State();
}

/// <summary>What a transform's update gets: the updates to rewrite in place, the parameters (read-only, unless the workspace
/// applies the updates itself), their names and a thread budget.</summary>
public readonly ref struct UpdateArgs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReadOnlySpan<T[]> updates, parameters;
    private readonly bool writable;

    /// <summary>Bundles one update's arguments: one updates array per parameter array, of the same length.</summary>
    /// <exception cref="ArgumentException">The counts or lengths differ.</exception>
    public UpdateArgs(ImmutableArray<string> names, ReadOnlySpan<T[]> updates, ReadOnlySpan<T[]> parameters, bool writableParameters, int threads)
    {
        if (updates.Length != parameters.Length || names.Length != parameters.Length)
            throw new ArgumentException($"{updates.Length} updates and {names.Length} names for {parameters.Length} parameters", nameof(updates));
        for (int j = 0; j < updates.Length; j++)
            if (updates[j].Length != parameters[j].Length)
                throw new ArgumentException($"the updates of '{names[j]}' have {updates[j].Length} elements, the parameter {parameters[j].Length}", nameof(updates));
        Names = names; this.updates = updates; this.parameters = parameters; writable = writableParameters; Threads = Math.Max(1, threads);
    }

    /// <summary>The number of parameter arrays (leaves).</summary>
    public int Count => parameters.Length;
    /// <summary>The leaves' names (<c>0.weight</c>, …), for transforms that treat parameters by name.</summary>
    public ImmutableArray<string> Names { get; }
    /// <summary>Threads this update may use (≥ 1); the bits must not depend on it.</summary>
    public int Threads { get; }
    /// <summary>Leaf <paramref name="j"/>'s updates, to rewrite in place.</summary>
    public Span<T> Updates(int j) => updates[j];
    /// <summary>Leaf <paramref name="j"/>'s parameters, read-only.</summary>
    public ReadOnlySpan<T> Parameters(int j) => parameters[j];
    /// <summary>The arguments for some of the leaves (a mask, a parameter group): leaf k of the result is leaf
    /// <paramref name="leaves"/>[k] of these. The arrays are gathered into <paramref name="updatesInto"/> and
    /// <paramref name="parametersInto"/>, which the caller owns (so nothing is allocated per step).</summary>
    /// <exception cref="ArgumentException">The scratch arrays or <paramref name="names"/> do not have one entry per selected leaf.</exception>
    public UpdateArgs<T> Subset(ReadOnlySpan<int> leaves, ImmutableArray<string> names, T[][] updatesInto, T[][] parametersInto)
    {
        ArgumentNullException.ThrowIfNull(updatesInto); ArgumentNullException.ThrowIfNull(parametersInto);
        if (updatesInto.Length != leaves.Length || parametersInto.Length != leaves.Length)
            throw new ArgumentException($"{leaves.Length} leaves need scratch arrays of {leaves.Length} entries", nameof(updatesInto));
        for (int k = 0; k < leaves.Length; k++) { updatesInto[k] = updates[leaves[k]]; parametersInto[k] = parameters[leaves[k]]; }
        return new UpdateArgs<T>(names, updatesInto, parametersInto, writable, Threads);
    }

    /// <summary>Leaf <paramref name="j"/>'s parameters for a workspace that applies its updates itself.</summary>
    /// <exception cref="InvalidOperationException">This call's parameters are read-only (the pure Update).</exception>
    public Span<T> WritableParameters(int j) => writable ? parameters[j] : throw new InvalidOperationException("these parameters are read-only: only a workspace that applies its updates gets writable parameters");
}

/// <summary>Mutable copies of a parameter-shaped tree's arrays, for a workspace's state (moments, velocities).</summary>
public sealed class TreeBuffers<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]?[] leaves; // null: leaf j is still its source's values, not copied yet (see Rewrite)
    private readonly ParamTree<T> like;
    private bool released;

    /// <summary>Copies every leaf of <paramref name="tree"/>.</summary>
    public TreeBuffers(ParamTree<T> tree) : this(tree, copyNow: true) { }

    /// <summary>With <paramref name="copyNow"/> false, each leaf is copied only when first asked for — or never, when the
    /// first thing done to it is a <see cref="Rewrite"/>.</summary>
    internal TreeBuffers(ParamTree<T> tree, bool copyNow)
    {
        ArgumentNullException.ThrowIfNull(tree);
        like = tree;
        leaves = copyNow ? [.. tree.Leaves.Select(l => l.ToArray())] : new T[]?[tree.Count];
    }

    /// <summary>The number of leaves.</summary>
    public int Count => leaves.Length;

    /// <summary>Leaf <paramref name="j"/>, writable.</summary>
    /// <exception cref="InvalidOperationException">The buffers were handed over as an immutable tree.</exception>
    public Span<T> this[int j] => !released ? leaves[j] ??= like.Leaves[j].ToArray() : throw Released();

    /// <summary>The buffer to write leaf <paramref name="j"/>'s new values to, and (<paramref name="from"/>) its values to read, for a pass that reads each
    /// element before it writes it and writes every element: the same buffer once the leaf has its own, else the source's
    /// values and a new buffer. Such a pass then replaces the copy (Adam's first step reads m and v from the state it was
    /// given: for config d, 15 MB not copied, and the new buffers' pages first touched by the step's threads).</summary>
    internal Span<T> Rewrite(int j, out ReadOnlySpan<T> from)
    {
        if (released) throw Released();
        if (leaves[j] is { } own) { from = own; return own; }
        var to = new T[like.Leaves[j].Length];
        leaves[j] = to;
        from = like.Leaves[j].Span;
        return to;
    }

    /// <summary>The buffers now, as a new immutable tree (a copy).</summary>
    public ParamTree<T> ToTree() => new(like.Names, [.. leaves.Select((a, j) => a is null ? like.Leaves[j] : NdArray.Own((T[])a.Clone(), like.Leaves[j].Shape))]);

    /// <summary>The buffers themselves as an immutable tree, no copy (a leaf never copied is its source, immutable already);
    /// afterwards this object refuses writes.</summary>
    internal ParamTree<T> Release()
    {
        released = true;
        return new(like.Names, [.. leaves.Select((a, j) => a is null ? like.Leaves[j] : NdArray.Own(a, like.Leaves[j].Shape))]);
    }

    private static InvalidOperationException Released() => new("these buffers were handed over as an immutable tree; the workspace is done");
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

    private ChainState Check(OptState state)
    {
        var s = Expect<ChainState>(state);
        if (s.States.Length != Transforms.Length) throw new ArgumentException($"chain of {Transforms.Length} transforms got a state of {s.States.Length}", nameof(state));
        return s;
    }

    /// <inheritdoc/>
    public override TransformWorkspace<T> Open<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Check(state);
        return new Work<T>([.. Transforms.Select((t, i) => t.Open(s.States[i], parameters))]);
    }

    /// <summary>The first fused form one of the transforms offers for this chain (<see cref="GradientTransform.FuseInChain{T}"/>), or null.</summary>
    public override TransformWorkspace<T>? OpenApplying<T>(OptState state, ParamTree<T> parameters)
    {
        var s = Check(state);
        for (int i = 0; i < Transforms.Length; i++)
            if (Transforms[i].FuseInChain(Transforms, i, s.States, parameters) is { } fused) return fused;
        return null;
    }

    private sealed class Work<T>(TransformWorkspace<T>[] parts) : TransformWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Update(in UpdateArgs<T> a)
        {
            foreach (var p in parts) p.Update(a);
        }

        public override OptState State() => new ChainState([.. parts.Select(p => p.State())]);

        protected internal override OptState Release() => new ChainState([.. parts.Select(p => p.Release())]);
    }

    /// <summary>Element-wise equality of the transforms.</summary>
    public bool Equals(ChainTransform? other) => other is not null && Transforms.SequenceEqual(other.Transforms);

    /// <inheritdoc/>
    public override int GetHashCode() => Transforms.Aggregate(17, (h, t) => HashCode.Combine(h, t));

    /// <inheritdoc/>
    public override string ToString() => "Chain(" + string.Join(", ", Transforms) + ")";
}
