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
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A model's functions: initialise, forward, loss, and backpropagation. All pure: parameters are never changed.</summary>
public static class Model
{
    /// <summary>Fresh parameters for <paramref name="spec"/>; layer i draws from <c>key.FoldIn(i)</c>.</summary>
    public static ParamTree<T> Init<T>(ModelSpec spec, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        var leaves = ImmutableArray.CreateBuilder<NdArray<T>>();
        for (int i = 0; i < spec.Layers.Length; i++) leaves.AddRange(spec.Layers[i].Init<T>(key.FoldIn((uint)i)));
        return new ParamTree<T>(spec.ParameterNames, leaves.ToImmutable());
    }

    /// <summary>The model's output for inputs x [rows, features], in evaluation mode (dropout is the identity).</summary>
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or x has the wrong width, no rows, or a non-finite value.</exception>
    public static NdArray<T> Forward<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Forward(spec, parameters, x, null);

    /// <summary>The model's output; with a <paramref name="dropoutKey"/> it runs in training mode (dropout active, masks from the key).</summary>
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or x has the wrong width, no rows, or a non-finite value.</exception>
    public static NdArray<T> Forward<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x, RandomKey? dropoutKey) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireFit(spec, parameters, x, nameof(x));
        var a = x;
        int leaf = 0;
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var l = spec.Layers[i];
            int np = l.ParameterNames.Length;
            a = l.Forward(parameters.Leaves.AsSpan().Slice(leaf, np), a, LayerKey(dropoutKey, i));
            leaf += np;
        }
        return a;
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
    /// <exception cref="ArgumentException">The parameters do not fit the spec, or the batch is invalid (see <see cref="Forward{T}(ModelSpec, ParamTree{T}, NdArray{T})"/> and the loss).</exception>
    public static (T Loss, ParamTree<T> Grads) ValueAndGrad<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Backprop(spec, parameters, batch, dropoutKey);
        return (t.Loss, t.Grads);
    }

    /// <summary>The loss and its gradient with respect to the input x (for saliency, lessons and tests).</summary>
    public static (T Loss, NdArray<T> InputGrad) InputGradient<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Backprop(spec, parameters, batch, dropoutKey);
        return (t.Loss, t.ActivationGrads[0]);
    }

    /// <summary>One forward and backward pass with everything it computed on the way (the lessons show this).</summary>
    public static BackpropTrace<T> Backprop<T>(ModelSpec spec, ParamTree<T> parameters, Batch<T> batch, RandomKey? dropoutKey = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(batch);
        RequireFit(spec, parameters, batch.X, nameof(batch));
        int n = spec.Layers.Length;
        var acts = new NdArray<T>[n + 1];
        var offsets = new int[n];
        acts[0] = batch.X;
        int leaf = 0;
        for (int i = 0; i < n; i++)
        {
            offsets[i] = leaf;
            var l = spec.Layers[i];
            acts[i + 1] = l.Forward(parameters.Leaves.AsSpan().Slice(leaf, l.ParameterNames.Length), acts[i], LayerKey(dropoutKey, i));
            leaf += l.ParameterNames.Length;
        }

        var (loss, dOut) = spec.Loss.ValueAndGrad(acts[n], batch.Y);

        var grads = new NdArray<T>[parameters.Count];
        var dActs = new NdArray<T>[n + 1];
        dActs[n] = dOut;
        for (int i = n - 1; i >= 0; i--)
        {
            var l = spec.Layers[i];
            int np = l.ParameterNames.Length;
            dActs[i] = l.Backward(parameters.Leaves.AsSpan().Slice(offsets[i], np), acts[i], acts[i + 1], dActs[i + 1], LayerKey(dropoutKey, i), grads.AsSpan(offsets[i], np));
        }
        return new BackpropTrace<T>([.. acts], loss, [.. dActs], new ParamTree<T>(parameters.Names, [.. grads]));
    }

    /// <summary>The dropout key of layer i: the step's key folded with the layer index.</summary>
    private static RandomKey? LayerKey(RandomKey? key, int layer) => key?.FoldIn((uint)layer);

    /// <summary>Throws unless the parameters fit the spec and x is a finite, non-empty batch of the input width.</summary>
    /// <exception cref="ArgumentException">Names the parameter, shape or row at fault.</exception>
    public static void RequireFit<T>(ModelSpec spec, ParamTree<T> parameters, NdArray<T> x, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters); ArgumentNullException.ThrowIfNull(x);
        RequireParameters(spec, parameters, nameof(parameters));
        if (x.Rank != 2 || x.Shape[1] != spec.InputWidth)
            throw new ArgumentException($"x must be [rows, {spec.InputWidth}] for this model, got {x.ShapeText}", argName);
        if (x.Rows == 0) throw new ArgumentException("the batch is empty (0 rows)", argName);
        int bad = Elementwise.FirstNonFinite(x.Span);
        if (bad >= 0) throw new ArgumentException($"x has a non-finite value {x.Span[bad]} at row {bad / x.Shape[1]}, column {bad % x.Shape[1]}", argName);
    }

    /// <summary>Throws unless the tree has exactly the spec's parameters with the right shapes.</summary>
    public static void RequireParameters<T>(ModelSpec spec, ParamTree<T> parameters, string argName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters);
        if (!parameters.Names.SequenceEqual(spec.ParameterNames))
            throw new ArgumentException($"parameters [{string.Join(", ", parameters.Names)}] do not match the model's [{string.Join(", ", spec.ParameterNames)}]", argName);
        int leaf = 0;
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            if (spec.Layers[i] is DenseSpec d)
            {
                var w = parameters.Leaves[leaf]; var b = parameters.Leaves[leaf + 1];
                if (w.Rank != 2 || w.Shape[0] != d.Out || w.Shape[1] != d.In)
                    throw new ArgumentException($"{parameters.Names[leaf]} must be [{d.Out}, {d.In}], got {w.ShapeText}", argName);
                if (b.Rank != 1 || b.Length != d.Out)
                    throw new ArgumentException($"{parameters.Names[leaf + 1]} must be [{d.Out}], got {b.ShapeText}", argName);
            }
            leaf += spec.Layers[i].ParameterNames.Length;
        }
    }
}
