using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>One layer's pure functions: forward and backward on immutable arrays, driving the layer's own span methods on fresh
/// buffers (the training fold drives the same methods on its workspaces).</summary>
public static class Layer
{
    /// <summary>The layer's output for a batch x [rows, …input] (evaluation mode unless a key is given).</summary>
    /// <exception cref="ArgumentException">x has no row dimension or a shape the layer cannot take, or the parameters do not fit.</exception>
    public static NdArray<T> Forward<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters, NdArray<T> x, RandomKey? key = null, Parallelism? parallelism = null)
        where T : unmanaged, IFloatingPointIeee754<T> => Run(spec, parameters, x, key, parallelism).Y;

    /// <summary>dL/dx and the parameter gradients for a batch x and dL/dy (the forward pass is run again for what it keeps, such as dropout's mask).</summary>
    /// <exception cref="ArgumentException">x, dy or the parameters do not fit the layer.</exception>
    public static (NdArray<T> DX, ImmutableArray<NdArray<T>> Grads) Backward<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters, NdArray<T> x, NdArray<T> dy,
        RandomKey? key = null, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pass = Run(spec, parameters, x, key, parallelism);
        ArgumentNullException.ThrowIfNull(dy);
        if (!dy.Shape.SequenceEqual(pass.Y.Shape)) throw new ArgumentException($"dy must have the output's shape {pass.Y.ShapeText}, got {dy.ShapeText}", nameof(dy));
        var (dx, grads) = pass.Back(dy, inputGradient: true, Parallelism.Resolve(parallelism));
        return (dx!, grads);
    }

    /// <summary>The output of a layer that carries state (batch normalization's running statistics) and its state after this
    /// batch: in training mode (a key) the layer updates a copy of <paramref name="state"/>; in evaluation it reads it.</summary>
    /// <exception cref="ArgumentException">x, the parameters or the state do not fit the layer.</exception>
    public static (NdArray<T> Y, ImmutableArray<NdArray<T>> State) Forward<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters, IReadOnlyList<NdArray<T>> state,
        NdArray<T> x, RandomKey? key = null, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (pass, after) = RunStateful(spec, parameters, state, x, key, parallelism);
        return (pass.Y, after);
    }

    /// <summary>dL/dx, the parameter gradients and the state after the forward pass, for a layer that carries state.</summary>
    /// <exception cref="ArgumentException">x, dy, the parameters or the state do not fit the layer.</exception>
    public static (NdArray<T> DX, ImmutableArray<NdArray<T>> Grads, ImmutableArray<NdArray<T>> State) Backward<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters,
        IReadOnlyList<NdArray<T>> state, NdArray<T> x, NdArray<T> dy, RandomKey? key = null, Parallelism? parallelism = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (pass, after) = RunStateful(spec, parameters, state, x, key, parallelism);
        ArgumentNullException.ThrowIfNull(dy);
        if (!dy.Shape.SequenceEqual(pass.Y.Shape)) throw new ArgumentException($"dy must have the output's shape {pass.Y.ShapeText}, got {dy.ShapeText}", nameof(dy));
        var (dx, grads) = pass.Back(dy, inputGradient: true, Parallelism.Resolve(parallelism));
        return (dx!, grads, after);
    }

    private static (Pass<T> Pass, ImmutableArray<NdArray<T>> State) RunStateful<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters, IReadOnlyList<NdArray<T>> state,
        NdArray<T> x, RandomKey? key, Parallelism? parallelism) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters); ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 1) throw new ArgumentException("x needs a row dimension: [rows, …example shape]", nameof(x));
        var input = Shape.OfExamples(x.Shape);
        var output = spec.OutputShape(input);
        RequireParameters(spec.Kind, spec.Parameters(input), parameters, nameof(parameters));
        var shapes = spec.State(input);
        if (state.Count != shapes.Length)
            throw new ArgumentException($"the {spec.Kind} layer has {shapes.Length} state arrays ({string.Join(", ", shapes.Select(p => p.Name))}), got {state.Count}", nameof(state));
        for (int i = 0; i < shapes.Length; i++)
            if (state[i] is null || !state[i].Shape.SequenceEqual(shapes[i].Shape.Dims))
                throw new ArgumentException($"state {shapes[i].Name} must be {shapes[i].Shape}, got {state[i]?.ShapeText ?? "null"}", nameof(state));
        var copies = state.Select(a => a.ToArray()).ToArray();
        var pass = Run(spec, input, output, [.. parameters.Select(p => p.Buffer)], x, key, Parallelism.Resolve(parallelism), copies);
        return (pass, [.. copies.Select((c, i) => NdArray.Own(c, shapes[i].Shape.Dims))]);
    }

    /// <summary>A forward pass with what its backward pass needs: the shapes, the parameters' buffers and the scratch.</summary>
    internal sealed class Pass<T>(LayerSpec spec, Shape input, Shape output, T[][] parameters, NdArray<T> x, NdArray<T> y, byte[] scratch, RandomKey? key)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public NdArray<T> Y => y;

        /// <summary>The backward pass on fresh arrays: dx (null unless wanted) and one gradient per parameter.</summary>
        public (NdArray<T>? DX, ImmutableArray<NdArray<T>> Grads) Back(NdArray<T> dy, bool inputGradient, int threads)
        {
            int rows = x.Rows;
            var grads = new T[parameters.Length][];
            for (int i = 0; i < grads.Length; i++) grads[i] = new T[parameters[i].Length];
            var dx = inputGradient ? new T[x.Length] : null;
            spec.Backward(new BackwardArgs<T>(rows, input, output, x.Span, y.Span, dy.Span, dx, inputGradient, parameters, grads, scratch, key, threads));
            var shapes = spec.Parameters(input);
            return (dx is null ? null : NdArray.Own(dx, x.Shape), [.. grads.Select((g, i) => NdArray.Own(g, shapes[i].Shape.Dims))]);
        }
    }

    internal static Pass<T> Run<T>(LayerSpec spec, IReadOnlyList<NdArray<T>> parameters, NdArray<T> x, RandomKey? key, Parallelism? parallelism)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters); ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 1) throw new ArgumentException("x needs a row dimension: [rows, …example shape]", nameof(x));
        var input = Shape.OfExamples(x.Shape);
        var output = spec.OutputShape(input);
        var expected = spec.Parameters(input);
        RequireParameters(spec.Kind, expected, parameters, nameof(parameters));
        if (!spec.State(input).IsEmpty)
            throw new ArgumentException($"the {spec.Kind} layer carries state ({string.Join(", ", spec.State(input).Select(p => p.Name))}); run it inside a model (Model.Forward with the state)", nameof(spec));
        return Run(spec, input, output, [.. parameters.Select(p => p.Buffer)], x, key, Parallelism.Resolve(parallelism));
    }

    /// <summary>The forward pass on checked arguments.</summary>
    internal static Pass<T> Run<T>(LayerSpec spec, Shape input, Shape output, T[][] parameters, NdArray<T> x, RandomKey? key, int threads, T[][]? state = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = x.Rows;
        var y = new T[(long)rows * output.Size];
        var scratch = new byte[spec.ScratchBytes<T>(input, rows)];
        spec.Forward(new ForwardArgs<T>(rows, input, output, x.Span, y, parameters, scratch, key, threads, state));
        return new Pass<T>(spec, input, output, parameters, x, NdArray.Own(y, output.Batch(rows)), scratch, key);
    }

    /// <summary>Throws unless the arrays are the declared parameters' shapes, naming the first one that is not.</summary>
    internal static void RequireParameters<T>(string kind, ImmutableArray<ParamShape> expected, IReadOnlyList<NdArray<T>> actual, string argName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (actual.Count != expected.Length)
            throw new ArgumentException($"the {kind} layer has {expected.Length} parameters ({string.Join(", ", expected.Select(p => p.Name))}), got {actual.Count}", argName);
        for (int i = 0; i < expected.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(actual[i], $"{argName}[{i}]");
            if (!actual[i].Shape.SequenceEqual(expected[i].Shape.Dims))
                throw new ArgumentException($"{expected[i].Name} must be {expected[i].Shape}, got {actual[i].ShapeText}", argName);
        }
    }
}
