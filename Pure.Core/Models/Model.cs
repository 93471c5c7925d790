using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Models;

/// <summary>What one forward and backward pass saw: every layer's input and output, the loss, and the gradient flowing back.</summary>
/// <param name="Activations">Activations[0] is the input x; Activations[i + 1] is layer i's output; the last is the model's output.</param>
/// <param name="Loss">The mean loss of the batch.</param>
/// <param name="ActivationGrads">ActivationGrads[i] = dL/d(Activations[i]): [0] is the gradient with respect to the input, the last is the loss's gradient.</param>
/// <param name="Grads">dL/dθ for every parameter, in the parameter tree's structure.</param>
public sealed record BackpropTrace<T>(ImmutableArray<NdArray<T>> Activations, T Loss, ImmutableArray<NdArray<T>> ActivationGrads, ParamTree<T> Grads)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Element-wise equality of every array (bitwise, as <see cref="NdArray{T}.Equals(NdArray{T})"/>).</summary>
    public bool Equals(BackpropTrace<T>? other) => other is not null && Loss.Equals(other.Loss) && Grads.Equals(other.Grads)
        && Activations.SequenceEqual(other.Activations) && ActivationGrads.SequenceEqual(other.ActivationGrads);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Loss, Grads, Activations.Length);
}

/// <summary>A model's functions: initialise, forward, loss, and backpropagation. All pure: parameters are never changed.</summary>
public static class Model
{
    /// <summary>Fresh parameters for <paramref name="spec"/>; layer i draws from <c>key.FoldIn(i)</c>.</summary>
    /// <exception cref="InvalidOperationException">A layer's Init returned arrays that are not its declared parameters.</exception>
    public static ParamTree<T> Init<T>(ModelSpec spec, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        var leaves = ImmutableArray.CreateBuilder<NdArray<T>>(spec.ParameterShapes.Length);
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var l = spec.Layers[i];
            var init = l.Init<T>(spec.Shapes[i], key.FoldIn((uint)i));
            try { Layer.RequireParameters(l.Kind, l.Parameters(spec.Shapes[i]), init.IsDefault ? [] : init, "Init"); }
            catch (ArgumentException e) { throw new InvalidOperationException($"layer {i} ({l.Kind}): its Init does not return its parameters: {e.Message}", e); }
            leaves.AddRange(init);
        }
        return new ParamTree<T>(spec.ParameterNames, leaves.MoveToImmutable());
    }

    /// <summary>The first values of every layer's non-trainable state (<see cref="ModelSpec.StateShapes"/>); an empty tree for a model without.</summary>
    /// <exception cref="InvalidOperationException">A layer's InitState returned arrays that are not its declared state.</exception>
    public static ParamTree<T> InitState<T>(ModelSpec spec) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        var leaves = ImmutableArray.CreateBuilder<NdArray<T>>(spec.StateShapes.Length);
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var l = spec.Layers[i];
            var declared = l.State(spec.Shapes[i]);
            if (declared.IsEmpty) continue;
            var init = l.InitState<T>(spec.Shapes[i]);
            try { Layer.RequireParameters(l.Kind, declared, init.IsDefault ? [] : init, "InitState"); }
            catch (ArgumentException e) { throw new InvalidOperationException($"layer {i} ({l.Kind}): its InitState does not return its state: {e.Message}", e); }
            leaves.AddRange(init);
        }
        return new ParamTree<T>([.. spec.StateShapes.Select(p => p.Name)], leaves.MoveToImmutable());
    }

    /// <summary>The model's output for inputs x [rows, …input shape], in evaluation mode (dropout is the identity).</summary>
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or x has the wrong shape, no rows, or a non-finite value.</exception>
    public static NdArray<T> Forward<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Forward(spec, parameters, x, null);

    /// <summary>The model's output; with a <paramref name="dropoutKey"/> it runs in training mode (dropout active, masks from the key).</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="parameters">The parameters (unchanged).</param>
    /// <param name="x">Inputs [rows, …input shape].</param>
    /// <param name="dropoutKey">Null for evaluation; a key for training mode.</param>
    /// <param name="parallelism">Threads for the layers (null: all cores); the result's bits do not depend on it.</param>
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or x has the wrong shape, no rows, or a non-finite value.</exception>
    public static NdArray<T> Forward<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x, RandomKey? dropoutKey, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireStateless(spec);
        return Forward(spec, parameters, Empty<T>(), x, dropoutKey, parallelism);
    }

    /// <summary>The output of a model whose layers carry state (running statistics), with that state (unchanged: in training
    /// mode the layers' updates go to a copy, which <see cref="ValueAndGrad{T}(ModelSpec, ParamTree{T}, ParamTree{T}, Batch{T}, RandomKey?, Parallelism?)"/> returns).</summary>
    /// <exception cref="ArgumentException">The parameters or the state do not fit the spec, or x is invalid.</exception>
    public static NdArray<T> Forward<T>(ModelSpec spec, ParamTree<T> parameters, ParamTree<T> state, NdArray<T> x, RandomKey? dropoutKey = null, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireFit(spec, parameters, x, nameof(x));
        RequireState(spec, state, nameof(state));
        int threads = Parallelism.Resolve(parallelism);
        var buffers = Buffers(parameters);
        var states = Copies(state);
        var a = x;
        for (int i = 0; i < spec.Layers.Length; i++) a = Pass(spec, buffers, states, i, a, dropoutKey, threads).Y;
        return a;
    }

    private static ParamTree<T> Empty<T>() where T : unmanaged, IFloatingPointIeee754<T> => new([], []);

    private static T[][] Copies<T>(ParamTree<T> state) where T : unmanaged, IFloatingPointIeee754<T> => [.. state.Leaves.Select(l => l.ToArray())];

    /// <summary>Throws for a model with layer state: its functions need the state passed.</summary>
    private static void RequireStateless(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.HasState)
            throw new ArgumentException($"this model's layers carry state ({string.Join(", ", spec.StateShapes.Select(p => p.Name))}); pass it (the overload with a state tree, from Model.InitState or the training state)", nameof(spec));
    }

    /// <summary>Throws unless the tree holds exactly the spec's layer state with the right shapes.</summary>
    /// <exception cref="ArgumentException">Names the array at fault.</exception>
    public static void RequireState<T>(ModelSpec spec, ParamTree<T> state, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(state, argName);
        var names = spec.StateShapes.Select(p => p.Name);
        if (!state.Names.SequenceEqual(names))
            throw new ArgumentException($"layer state [{string.Join(", ", state.Names)}] does not match the model's [{string.Join(", ", names)}]", argName);
        for (int j = 0; j < spec.StateShapes.Length; j++)
            if (!state.Leaves[j].Shape.SequenceEqual(spec.StateShapes[j].Shape.Dims))
                throw new ArgumentException($"{spec.StateShapes[j].Name} must be {spec.StateShapes[j].Shape}, got {state.Leaves[j].ShapeText}", argName);
    }

    private static T[][] Buffers<T>(ParamTree<T> parameters) where T : unmanaged, IFloatingPointIeee754<T> => [.. parameters.Leaves.Select(l => l.Buffer)];

    /// <summary>Layer i's forward pass (its own Forward on fresh buffers, its state in <paramref name="states"/>' copies), kept for its backward pass.</summary>
    private static Layer.Pass<T> Pass<T>(ModelSpec spec, T[][] buffers, T[][] states, int i, NdArray<T> x, RandomKey? dropoutKey, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int first = spec.ParameterOffsets[i], count = spec.ParameterOffsets[i + 1] - first;
        int s0 = spec.StateOffsets[i], sn = spec.StateOffsets[i + 1] - s0;
        return Layer.Run(spec.Layers[i], spec.Shapes[i], spec.Shapes[i + 1], buffers[first..(first + count)], x, LayerKey(dropoutKey, i), threads, states[s0..(s0 + sn)]);
    }

    /// <summary>The mean loss of the model on a batch (evaluation mode unless a dropout key is given).</summary>
    public static T Loss<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(batch);
        var y = Forward(spec, parameters, batch.X, dropoutKey);
        return spec.Loss.Value(y, batch.Y);
    }

    /// <summary>The loss and its gradient with respect to every parameter, by backpropagation.</summary>
    /// <remarks>Forward caches each layer's input and output; backward then applies the chain rule layer by layer,
    /// output to input: dL/d(input of layer i) = layer i's backward of dL/d(output of layer i). No parameter changes.</remarks>
    /// <param name="spec">The architecture.</param>
    /// <param name="parameters">The parameters (unchanged).</param>
    /// <param name="batch">Inputs and targets.</param>
    /// <param name="dropoutKey">Null for evaluation mode; a key for training mode.</param>
    /// <param name="parallelism">Threads for the layers (null: all cores); the bits of the loss and gradients do not depend on it.</param>
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or the batch is invalid (see <see cref="Forward{T}(ModelSpec, ParamTree{T}, NdArray{T})"/> and the loss).</exception>
    public static (T Loss, ParamTree<T> Grads) ValueAndGrad<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireStateless(spec);
        // The gradient with respect to the input is not wanted here, so the first layer with parameters skips its dx.
        var (_, loss, _, grads, _) = Run(spec, parameters, Empty<T>(), batch, dropoutKey, parallelism, inputGradient: false);
        return (loss, new ParamTree<T>(parameters.Names, [.. grads]));
    }

    /// <summary>The loss, its gradient with respect to every parameter, and the layers' state after this batch (in training mode
    /// the layers update it — running statistics; in evaluation mode it comes back unchanged), for a model whose layers carry state.</summary>
    /// <exception cref="ArgumentException">The parameters or the state do not fit the spec, or the batch is invalid.</exception>
    public static (T Loss, ParamTree<T> Grads, ParamTree<T> State) ValueAndGrad<T>(ModelSpec spec, ParamTree<T> parameters, ParamTree<T> state, Batch<T> batch,
        RandomKey? dropoutKey = null, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireState(spec, state, nameof(state));
        var (_, loss, _, grads, newState) = Run(spec, parameters, state, batch, dropoutKey, parallelism, inputGradient: false);
        return (loss, new ParamTree<T>(parameters.Names, [.. grads]), new ParamTree<T>(state.Names, [.. newState.Select((a, j) => NdArray.Own(a, state.Leaves[j].Shape))]));
    }

    /// <summary>The loss and its gradient with respect to the input x (for saliency, lessons and tests).</summary>
    public static (T Loss, NdArray<T> InputGrad) InputGradient<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Backprop(spec, parameters, batch, dropoutKey, parallelism);
        return (t.Loss, t.ActivationGrads[0]);
    }

    /// <summary>One forward and backward pass with everything it computed on the way (the lessons show this).</summary>
    public static BackpropTrace<T> Backprop<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireStateless(spec);
        var (acts, loss, dActs, grads, _) = Run(spec, parameters, Empty<T>(), batch, dropoutKey, parallelism, inputGradient: true);
        return new BackpropTrace<T>([.. acts], loss, [.. dActs!], new ParamTree<T>(parameters.Names, [.. grads]));
    }

    /// <summary>Forward, loss, backward. Without <paramref name="inputGradient"/>, layers below the first one with parameters
    /// are not differentiated and that layer skips dx (their entries of the activation gradients stay null).</summary>
    private static (NdArray<T>[] Acts, T Loss, NdArray<T>?[] DActs, NdArray<T>[] Grads, T[][] State) Run<T>(ModelSpec spec, ParamTree<T> parameters, ParamTree<T> state,
        Batch<T> batch, RandomKey? dropoutKey, Parallelism? parallelism, bool inputGradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(batch);
        RequireFit(spec, parameters, batch.X, nameof(batch));
        int n = spec.Layers.Length, threads = Parallelism.Resolve(parallelism);
        var buffers = Buffers(parameters);
        var states = Copies(state);
        var acts = new NdArray<T>[n + 1];
        var passes = new Layer.Pass<T>[n];
        acts[0] = batch.X;
        for (int i = 0; i < n; i++) { passes[i] = Pass(spec, buffers, states, i, acts[i], dropoutKey, threads); acts[i + 1] = passes[i].Y; }

        var (loss, dOut) = spec.Loss.ValueAndGrad(acts[n], batch.Y);

        var grads = new NdArray<T>[parameters.Count];
        var dActs = new NdArray<T>?[n + 1];
        dActs[n] = dOut;
        int firstWithParameters = FirstWithParameters(spec);
        int lowest = inputGradient ? 0 : firstWithParameters;
        for (int i = n - 1; i >= lowest; i--)
        {
            var (dx, g) = passes[i].Back(dActs[i + 1]!, inputGradient || i > firstWithParameters, threads);
            g.CopyTo(grads, spec.ParameterOffsets[i]);
            dActs[i] = dx;
        }
        return (acts, loss, dActs, grads, states);
    }

    /// <summary>The index of the first layer with parameters (the layer count when none has any): backprop need not go below it.</summary>
    internal static int FirstWithParameters(ModelSpec spec)
    {
        int i = 0;
        while (i < spec.Layers.Length && spec.ParameterOffsets[i + 1] == spec.ParameterOffsets[i]) i++;
        return i;
    }

    /// <summary>The dropout key of layer i: the step's key folded with the layer index.</summary>
    internal static RandomKey? LayerKey(RandomKey? key, int layer) => key?.FoldIn((uint)layer);

    /// <summary>Throws unless the parameters fit the spec and x is a finite, non-empty batch of the input shape.</summary>
    /// <exception cref="ArgumentException">Names the parameter, shape or row at fault.</exception>
    public static void RequireFit<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireParameters(spec, parameters, nameof(parameters)); // each check names its own null arguments
        RequireInput(spec, x, argName);
    }

    /// <summary>Throws unless x is a finite, non-empty batch [rows, …input shape] for <paramref name="spec"/>.</summary>
    /// <exception cref="ArgumentException">Names the shape, or the row and column of the first non-finite value.</exception>
    public static void RequireInput<T>(ModelSpec spec, NdArray<T> x, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != spec.Input.Rank + 1 || !x.Shape.Skip(1).SequenceEqual(spec.Input.Dims))
            throw new ArgumentException($"x must be [rows, {string.Join(", ", spec.Input.Dims)}] for this model, got {x.ShapeText}", argName);
        if (x.Rows == 0) throw new ArgumentException("the batch is empty (0 rows)", argName);
        int bad = Elementwise.FirstNonFinite(x.Span);
        int size = spec.Input.Size;
        if (bad >= 0) throw new ArgumentException($"x has a non-finite value {x.Span[bad]} at row {bad / size}, column {bad % size}", argName);
    }

    /// <summary>Throws unless the tree has exactly the spec's parameters with the right shapes.</summary>
    public static void RequireParameters<T>(ModelSpec spec, ParamTree<T> parameters, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters);
        if (!parameters.Names.SequenceEqual(spec.ParameterNames))
            throw new ArgumentException($"parameters [{string.Join(", ", parameters.Names)}] do not match the model's [{string.Join(", ", spec.ParameterNames)}]", argName);
        for (int j = 0; j < spec.ParameterShapes.Length; j++)
        {
            var expected = spec.ParameterShapes[j];
            if (!parameters.Leaves[j].Shape.SequenceEqual(expected.Shape.Dims))
                throw new ArgumentException($"{expected.Name} must be {expected.Shape}, got {parameters.Leaves[j].ShapeText}", argName);
        }
    }
}
