using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>What a layer is: its hyperparameters, never its trained values (equinox's static fields) — and its forward and
/// backward pass, each written once, destination-passing.</summary>
/// <remarks>
/// <para>A layer maps a batch of examples of shape <c>input</c> to a batch of shape <see cref="OutputShape"/>. It declares its
/// parameters (<see cref="Parameters"/>), draws their first values (<see cref="Init{T}"/>), and runs on spans:
/// <see cref="Forward{T}"/> writes y from x; <see cref="Backward{T}"/> writes dL/dx (when asked) and the gradient of each of its
/// parameters from x, y and dL/dy. Both may use a scratch area of <see cref="ScratchBytes{T}"/> bytes that lives from a
/// forward pass to its backward pass (dropout keeps its mask there).</para>
/// <para>The same two methods run everywhere: <see cref="Models.Model"/>'s pure functions allocate fresh arrays and call them;
/// the training fold calls them on workspaces it reuses. So a user's own layer, written in another assembly, runs in the
/// fold at full speed with the same bits as in the pure functions. The contract: write every element of each destination
/// (y; dx when <see cref="BackwardArgs{T}.InputGradient"/>; every gradient), read only the inputs, and let the bits depend
/// on nothing but the arguments (not on <see cref="ForwardArgs{T}.Threads"/>). <c>Verification</c> tests a
/// layer against that contract and against central differences.</para>
/// </remarks>
public abstract record LayerSpec
{
    /// <summary>For derived layers, in any assembly.</summary>
    protected LayerSpec() { }

    /// <summary>A short name for messages and files (<c>dense</c>, <c>relu</c>, …); a user layer's files find it by this name.</summary>
    public abstract string Kind { get; }

    /// <summary>The shape of one output example for an input example of shape <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">The layer cannot take that shape.</exception>
    public abstract Shape OutputShape(Shape input);

    /// <summary>This layer's parameters for that input shape, in file order (PyTorch's names: <c>weight</c>, <c>bias</c>); empty
    /// for parameter-free layers.</summary>
    public virtual ImmutableArray<ParamShape> Parameters(Shape input) => [];

    /// <summary>The parameters' first values, drawn from <paramref name="key"/>, one array per entry of <see cref="Parameters"/>
    /// with its shape. The default is zeros; layers whose parameters need another start override it.</summary>
    public virtual ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. Parameters(input).Select(p => NdArray.Zeros<T>([.. p.Shape.Dims]))];

    /// <summary>The non-trainable state this layer carries for that input shape (running statistics, PyTorch's buffers such as
    /// <c>running_mean</c>), in file order; empty (the default) for layers without state.</summary>
    /// <remarks>State is not a parameter: no gradient flows to it and no optimizer sees it. A training step takes it and returns
    /// it updated (<c>TrainState.LayerState</c>), as it does the optimizer state; nothing is mutated behind the caller.</remarks>
    public virtual ImmutableArray<ParamShape> State(Shape input) => [];

    /// <summary>The state's first values, one array per entry of <see cref="State"/>; zeros by default.</summary>
    public virtual ImmutableArray<NdArray<T>> InitState<T>(Shape input) where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. State(input).Select(p => NdArray.Zeros<T>([.. p.Shape.Dims]))];

    /// <summary>Bytes of scratch space that a forward pass on <paramref name="rows"/> examples hands to its backward pass (0: none).</summary>
    public virtual int ScratchBytes<T>(Shape input, int rows) where T : unmanaged, IFloatingPointIeee754<T> => 0;

    /// <summary>Whether <see cref="Backward{T}"/> may be given dL/dx as the very span of dL/dy (<see cref="BackwardArgs{T}.DX"/>
    /// and <see cref="BackwardArgs{T}.DY"/> the same memory): true when each dx[i] is computed from dy[i] (and x, y) and written
    /// only after dy[i] is read, as an element-wise activation's derivative is. The training fold then keeps one buffer for
    /// both; false (the default) gives the layer its own. <c>Verify.Layer</c> checks the claim.</summary>
    public virtual bool BackwardInPlace => false;

    /// <summary>Whether the layer is a view: y holds x's elements in the same order (a reshape, as <see cref="FlattenSpec"/>)
    /// and dx dy's, so that given y as the very span of x (and dx as that of dy) it leaves them as they are. The training fold
    /// then passes one buffer for both; false (the default) gives the layer its own. <c>Verify.Layer</c> checks the claim.</summary>
    public virtual bool IsView => false;

    /// <summary>One layer that computes what <paramref name="previous"/> (a layer, or an earlier fusion) followed by this layer
    /// computes, with the same bits of y, dL/dx, the parameters' gradients and the state, in fewer passes over memory; or null
    /// (the default). Its parameters and state are the run's, in order. The training fold runs it in the run's place, and the
    /// run's intermediate outputs and their gradients are never written. Built-in runs only (a ReLU before a max pool:
    /// <see cref="ReluMaxPool2dSpec"/>; a batch norm before those: <see cref="BatchNormReluMaxPool2dSpec"/>), each
    /// property-tested bit for bit against its layers.</summary>
    internal virtual LayerSpec? FusedAfter(LayerSpec previous) => null;

    /// <summary>What <c>ToString</c> shows before a layer's own members: its <see cref="Kind"/>. (<see cref="BackwardInPlace"/> and
    /// <see cref="IsView"/> are facts of the layer's code, not settings, and are not shown.)</summary>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Append("Kind = ").Append(Kind);
        return true;
    }

    /// <summary>Writes the layer's output for a batch into <see cref="ForwardArgs{T}.Y"/>.</summary>
    public abstract void Forward<T>(in ForwardArgs<T> a) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The chain rule through the layer: writes dL/dx into <see cref="BackwardArgs{T}.DX"/> (when
    /// <see cref="BackwardArgs{T}.InputGradient"/>) and dL/dθ into each <see cref="BackwardArgs{T}.Gradient"/>.</summary>
    public abstract void Backward<T>(in BackwardArgs<T> a) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>What a layer's forward pass gets: the batch, its parameters (read-only), a destination, scratch, the key and a thread budget.</summary>
/// <remarks>Spans over the caller's buffers: valid for the duration of the call only.</remarks>
public readonly ref struct ForwardArgs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReadOnlySpan<T[]> parameters, state;

    /// <summary>Bundles the arguments of one forward call; <paramref name="state"/> holds the layer's non-trainable state (empty
    /// for layers without).</summary>
    /// <exception cref="ArgumentException">x or y is not rows × its shape's size.</exception>
    public ForwardArgs(int rows, Shape input, Shape output, ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T[]> parameters, Span<byte> scratch, RandomKey? key, int threads,
        ReadOnlySpan<T[]> state = default) : this(rows, input, output, x, y, parameters, scratch, LayerKey.Of(key), threads, state) { }

    /// <summary>With the key given as a <see cref="LayerKey"/>: the training fold's, derived only if the layer asks for it.</summary>
    internal ForwardArgs(int rows, Shape input, Shape output, ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T[]> parameters, Span<byte> scratch, LayerKey key, int threads,
        ReadOnlySpan<T[]> state)
    {
        this.state = state;
        ArgumentNullException.ThrowIfNull(input); ArgumentNullException.ThrowIfNull(output);
        if (rows < 0 || x.Length != (long)rows * input.Size) throw new ArgumentException($"x has {x.Length} elements, not {rows} × {input}", nameof(x));
        if (y.Length != (long)rows * output.Size) throw new ArgumentException($"y has {y.Length} elements, not {rows} × {output}", nameof(y));
        Rows = rows; Input = input; Output = output; X = x; Y = y; this.parameters = parameters; Scratch = scratch; this.key = key; Threads = Math.Max(1, threads);
    }

    private readonly LayerKey key;

    /// <summary>Examples in the batch.</summary>
    public int Rows { get; }
    /// <summary>One input example's shape.</summary>
    public Shape Input { get; }
    /// <summary>One output example's shape.</summary>
    public Shape Output { get; }
    /// <summary>The inputs, [rows, …input], row-major.</summary>
    public ReadOnlySpan<T> X { get; }
    /// <summary>The destination, [rows, …output]: write every element.</summary>
    public Span<T> Y { get; }
    /// <summary>Scratch that the matching backward pass receives unchanged.</summary>
    public Span<byte> Scratch { get; }
    /// <summary>The layer's key in training mode (dropout's masks come from it); null in evaluation mode.</summary>
    public RandomKey? Key => key.Value;
    /// <summary>Training mode (a key is given) or evaluation.</summary>
    public bool Training => key.Given;
    /// <summary>Threads this call may use (≥ 1); the bits must not depend on it.</summary>
    public int Threads { get; }
    /// <summary>The number of parameters.</summary>
    public int ParameterCount => parameters.Length;
    /// <summary>Parameter <paramref name="i"/> (in <see cref="LayerSpec.Parameters"/> order), read-only.</summary>
    public ReadOnlySpan<T> Parameter(int i) => parameters[i];
    /// <summary>The number of state arrays (<see cref="LayerSpec.State"/>).</summary>
    public int StateCount => state.Length;
    /// <summary>State array <paramref name="i"/>: its value before this step; in training mode the layer writes its new value here
    /// (in evaluation mode it must only read it). The driver owns the buffer: the pure functions pass a copy and return it.</summary>
    public Span<T> State(int i) => state[i];
}

/// <summary>What a layer's backward pass gets: the forward pass's x and y, dL/dy, destinations for dL/dx and the parameter gradients.</summary>
public readonly ref struct BackwardArgs<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReadOnlySpan<T[]> parameters, gradients;

    /// <summary>Bundles the arguments of one backward call; <paramref name="dx"/> is empty when dL/dx is not wanted.</summary>
    /// <exception cref="ArgumentException">A span's length does not fit rows and the shapes, or the gradients do not pair with the parameters.</exception>
    public BackwardArgs(int rows, Shape input, Shape output, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool inputGradient,
        ReadOnlySpan<T[]> parameters, ReadOnlySpan<T[]> gradients, Span<byte> scratch, RandomKey? key, int threads)
        : this(rows, input, output, x, y, dy, dx, inputGradient, parameters, gradients, scratch, LayerKey.Of(key), threads) { }

    /// <summary>With the key given as a <see cref="LayerKey"/>: the training fold's, derived only if the layer asks for it.</summary>
    internal BackwardArgs(int rows, Shape input, Shape output, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool inputGradient,
        ReadOnlySpan<T[]> parameters, ReadOnlySpan<T[]> gradients, Span<byte> scratch, LayerKey key, int threads)
    {
        ArgumentNullException.ThrowIfNull(input); ArgumentNullException.ThrowIfNull(output);
        long nIn = (long)rows * input.Size, nOut = (long)rows * output.Size;
        if (rows < 0 || x.Length != nIn) throw new ArgumentException($"x has {x.Length} elements, not {rows} × {input}", nameof(x));
        if (y.Length != nOut) throw new ArgumentException($"y has {y.Length} elements, not {rows} × {output}", nameof(y));
        if (dy.Length != nOut) throw new ArgumentException($"dy has {dy.Length} elements, not {rows} × {output}", nameof(dy));
        if (inputGradient && dx.Length != nIn) throw new ArgumentException($"dx has {dx.Length} elements, not {rows} × {input}", nameof(dx));
        if (gradients.Length != parameters.Length) throw new ArgumentException($"{gradients.Length} gradients for {parameters.Length} parameters", nameof(gradients));
        Rows = rows; Input = input; Output = output; X = x; Y = y; DY = dy; DX = inputGradient ? dx : default; InputGradient = inputGradient;
        this.parameters = parameters; this.gradients = gradients; Scratch = scratch; this.key = key; Threads = Math.Max(1, threads);
    }

    private readonly LayerKey key;

    /// <summary>Examples in the batch.</summary>
    public int Rows { get; }
    /// <summary>One input example's shape.</summary>
    public Shape Input { get; }
    /// <summary>One output example's shape.</summary>
    public Shape Output { get; }
    /// <summary>The forward pass's inputs.</summary>
    public ReadOnlySpan<T> X { get; }
    /// <summary>The forward pass's outputs.</summary>
    public ReadOnlySpan<T> Y { get; }
    /// <summary>dL/dy, [rows, …output].</summary>
    public ReadOnlySpan<T> DY { get; }
    /// <summary>The destination of dL/dx, [rows, …input] (empty when not wanted): write every element.</summary>
    public Span<T> DX { get; }
    /// <summary>Whether dL/dx is wanted (a model's first layer with parameters is not asked for it: its input is data). The
    /// parameters' gradients are wanted either way: a backward that returns early without dx leaves them unwritten.</summary>
    public bool InputGradient { get; }
    /// <summary>The scratch the forward pass wrote.</summary>
    public Span<byte> Scratch { get; }
    /// <summary>The key the forward pass had (null in evaluation mode).</summary>
    public RandomKey? Key => key.Value;
    /// <summary>Training mode.</summary>
    public bool Training => key.Given;
    /// <summary>Threads this call may use (≥ 1); the bits must not depend on it.</summary>
    public int Threads { get; }
    /// <summary>The number of parameters.</summary>
    public int ParameterCount => parameters.Length;
    /// <summary>Parameter <paramref name="i"/>, read-only.</summary>
    public ReadOnlySpan<T> Parameter(int i) => parameters[i];
    /// <summary>The destination of dL/d(parameter <paramref name="i"/>): write every element.</summary>
    public Span<T> Gradient(int i) => gradients[i];

    /// <summary>The parameters, the gradients' destinations and the key as given: for a fused layer that passes them on to the
    /// layer whose they are.</summary>
    internal ReadOnlySpan<T[]> Parameters => parameters;
    internal ReadOnlySpan<T[]> Gradients => gradients;
    internal LayerKey LayerKey => key;
}

/// <summary>A layer's key in a forward or backward call: none (evaluation), a given key, or the training fold's
/// <c>stream.FoldIn(step).FoldIn(layer)</c>, derived when the layer reads it.</summary>
/// <remarks>The fold derived every layer's key for every call, forward and backward, whether the layer drew from it or not:
/// 8 Threefry blocks a step for config a (52 ns each here, 0.4 µs of an 11.4 µs step) for layers that never read it. A
/// layer that reads it gets the same key as before.</remarks>
internal readonly struct LayerKey
{
    private readonly RandomKey root;
    private readonly uint step, layer;
    private readonly byte mode; // 0 none, 1 root itself, 2 root.FoldIn(step).FoldIn(layer)

    private LayerKey(RandomKey root, uint step, uint layer, byte mode) { this.root = root; this.step = step; this.layer = layer; this.mode = mode; }

    /// <summary>The given key, or none.</summary>
    public static LayerKey Of(RandomKey? key) => key is { } k ? new(k, 0, 0, 1) : default;

    /// <summary><c>stream.FoldIn(step).FoldIn(layer)</c>, computed when read.</summary>
    public static LayerKey Derived(RandomKey stream, uint step, uint layer) => new(stream, step, layer, 2);

    /// <summary>Whether there is a key (training mode).</summary>
    public bool Given => mode != 0;

    /// <summary>The key, or null.</summary>
    public RandomKey? Value => mode switch { 0 => null, 1 => root, _ => root.FoldIn(step).FoldIn(layer) };
}
