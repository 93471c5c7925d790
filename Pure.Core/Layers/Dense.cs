using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>A fully connected layer's hyperparameters: input width, output width and how to initialise.</summary>
/// <param name="In">Input width (fan_in), ≥ 1.</param>
/// <param name="Out">Output width (fan_out), ≥ 1.</param>
/// <param name="WeightInit">The initializer; null means <see cref="Initializer.PyTorchLinear"/>.</param>
public sealed record DenseSpec(int In, int Out, Initializer? WeightInit = null) : LayerSpec
{
    /// <summary>The input width, checked.</summary>
    public int In { get; } = In >= 1 ? In : throw new ArgumentOutOfRangeException(nameof(In), In, "a dense layer needs an input width ≥ 1");

    /// <summary>The output width, checked.</summary>
    public int Out { get; } = Out >= 1 ? Out : throw new ArgumentOutOfRangeException(nameof(Out), Out, "a dense layer needs an output width ≥ 1");

    /// <summary>The initializer as given, with null resolved to <see cref="Initializer.PyTorchLinear"/>, so a spec that names the default equals one that omits it.</summary>
    public Initializer? WeightInit { get; } = WeightInit ?? Initializer.PyTorchLinear;

    /// <summary>The initializer in use (never null).</summary>
    public Initializer Initializer => WeightInit ?? Initializer.PyTorchLinear;

    /// <inheritdoc/>
    public override string Kind => "dense";

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a vector of <see cref="In"/> features.</exception>
    public override Shape OutputShape(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 1 && input[0] == In) return Shape.Of(Out);
        throw new ArgumentException(input.Rank == 1
            ? $"dense layer {In}→{Out} cannot take an input of width {input[0]}"
            : $"dense layer {In}→{Out} takes vectors [{In}], not examples of shape {input} (flatten them first)", nameof(input));
    }

    /// <inheritdoc/>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("weight", Shape.Of(Out, In)), new("bias", Shape.Of(Out))];

    /// <summary>(W, b) from <see cref="Initializer"/>'s <see cref="Initializer.Sample{T}"/>.</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key)
    {
        var (w, b) = Initializer.Sample<T>(key, In, Out);
        return [w, b];
    }

    /// <summary>y = x·Wᵀ + b: each yᵢⱼ is the fused multiply-add chain of xᵢ and Wⱼ, plus bⱼ; the bits do not depend on the thread count.</summary>
    public override void Forward<T>(in ForwardArgs<T> a) =>
        MatMul.MultiplyTransposedBAddRow(a.X, a.Parameter(0), a.Parameter(1), a.Y, a.Rows, In, Out, a.Threads);

    /// <summary>dW = dyᵀ·x [out, in]; db = Σ over rows of dy [out]; dx = dy·W [rows, in] (when wanted).</summary>
    /// <remarks>When the loss is a mean over the batch, the 1/rows is already inside dy.</remarks>
    public override unsafe void Backward<T>(in BackwardArgs<T> a)
    {
        long work = (long)a.Rows * Out * In;
        if (a.InputGradient && a.Threads >= 2 && work is >= PairFrom and < PairBelow && WorkerPool.Helpers > 0
            && a.Gradient(0).Length == Out * In && a.Gradient(1).Length == Out && a.Parameter(0).Length == Out * In)
        {
            // (With a wrong length the path below names the argument.)
            // dW (with db) and dX side by side, each whole on one thread, instead of each cut between the threads: a product
            // this size splits poorly (two handshakes, the packed operand on both cores). Config c's second layer (dY [128, 128],
            // W [128, 256]) on 2 threads, Zen 4: 53.6 + 50.8 µs cut, 83.2 and 81.8 µs alone on one thread each; whole steps in a
            // warm fold, both ways alternated in one process, best of 12 windows: c 143,172 -> 149,406 and 136,032 -> 136,652
            // examples/s, d (its 10-wide last layer) 17,338 -> 17,924. Each product is the one-thread product: the same bits.
            fixed (T* dy = a.DY, x = a.X, dw = a.Gradient(0), db = a.Gradient(1), w = a.Parameter(0), dx = a.DX)
            {
                var job = new PairJob<T> { Dy = dy, X = x, Dw = dw, Db = db, W = w, Dx = dx, Rows = a.Rows, In = In, Out = Out };
                WorkerPool.Run(2, &PairPart<T>, &job);
            }
            return;
        }
        MatMul.MultiplyTransposedA(a.DY, a.X, a.Gradient(0), a.Rows, Out, In, a.Threads);
        MatMul.ColumnSums(a.DY, a.Gradient(1), a.Rows, Out);
        if (a.InputGradient) MatMul.Multiply(a.DY, a.Parameter(0), a.DX, a.Rows, Out, In, a.Threads);
    }

    /// <summary>Multiply-adds per product from which the backward pass runs dW and dX side by side (below, the pair costs more to
    /// start than it saves: config b's second layer, 82 K, takes 2–4 µs).</summary>
    internal const long PairFrom = 1 << 19;

    /// <summary>Multiply-adds per product from which each is cut among the threads instead (config d's second layer, 268 M, runs at
    /// 93 % of two threads cut; side by side the longer one would leave a thread idle for ~8 % of the pair).</summary>
    internal const long PairBelow = 1 << 25;

    private unsafe struct PairJob<T> where T : unmanaged
    {
        public T* Dy, X, Dw, Db, W, Dx;
        public int Rows, In, Out;
    }

    private static unsafe void PairPart<T>(void* state, int part) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var j = ref System.Runtime.CompilerServices.Unsafe.AsRef<PairJob<T>>(state);
        var dy = new ReadOnlySpan<T>(j.Dy, j.Rows * j.Out);
        if (part == 0)
        {
            MatMul.MultiplyTransposedA(dy, new ReadOnlySpan<T>(j.X, j.Rows * j.In), new Span<T>(j.Dw, j.Out * j.In), j.Rows, j.Out, j.In, 1);
            MatMul.ColumnSums(dy, new Span<T>(j.Db, j.Out), j.Rows, j.Out);
        }
        else MatMul.Multiply(dy, new ReadOnlySpan<T>(j.W, j.Out * j.In), new Span<T>(j.Dx, j.Rows * j.In), j.Rows, j.Out, j.In, 1);
    }
}

/// <summary>A dense layer's trained values: W [out, in] (PyTorch's <c>nn.Linear</c> layout) and b [out].</summary>
public sealed record DenseParams<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pairs a weight matrix [out, in] with a bias vector [out].</summary>
    /// <exception cref="ArgumentException">W is not rank 2 or b's length is not W's row count.</exception>
    public DenseParams(NdArray<T> W, NdArray<T> B)
    {
        ArgumentNullException.ThrowIfNull(W); ArgumentNullException.ThrowIfNull(B);
        if (W.Rank != 2) throw new ArgumentException($"W must be a matrix [out, in], got shape {W.ShapeText}", nameof(W));
        if (B.Rank != 1 || B.Length != W.Shape[0]) throw new ArgumentException($"b must be a vector [{W.Shape[0]}] to match W {W.ShapeText}, got shape {B.ShapeText}", nameof(B));
        this.W = W; this.B = B;
    }

    /// <summary>The weight matrix, [out, in].</summary>
    public NdArray<T> W { get; }

    /// <summary>The bias, [out].</summary>
    public NdArray<T> B { get; }

    /// <summary>Output width.</summary>
    public int Out => W.Shape[0];

    /// <summary>Input width.</summary>
    public int In => W.Shape[1];

    /// <summary>The same layer from a weight stored [in, out] (Keras, or the x·W convention): W is transposed to [out, in].</summary>
    public static DenseParams<T> FromInOut(NdArray<T> wInOut, NdArray<T> b) => new(Dense.Transpose(wInOut), b);

    /// <summary>W as [in, out], for code that multiplies x·W.</summary>
    public NdArray<T> WeightInOut() => Dense.Transpose(W);
}

/// <summary>The three gradients of a dense layer.</summary>
/// <param name="W">dL/dW [out, in].</param>
/// <param name="B">dL/db [out].</param>
/// <param name="X">dL/dx [rows, in].</param>
public sealed record DenseGrads<T>(NdArray<T> W, NdArray<T> B, NdArray<T> X) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>The dense (fully connected, linear) layer: forward and backward side by side.</summary>
public static class Dense
{
    /// <summary>y = x·Wᵀ + b for a batch x [rows, in]; y is [rows, out].</summary>
    /// <exception cref="ArgumentException">x is not [rows, in] for this layer's in.</exception>
    public static NdArray<T> Forward<T>(DenseParams<T> p, NdArray<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Forward(p, x, null);

    /// <summary>y = x·Wᵀ + b for a batch x [rows, in], with the product on up to <paramref name="parallelism"/>'s threads (null: all cores).</summary>
    /// <remarks>One pass: each yᵢⱼ is the fused multiply-add chain of xᵢ and Wⱼ, plus bⱼ as it is stored; the bits do not depend on the thread count.</remarks>
    /// <exception cref="ArgumentException">x is not [rows, in] for this layer's in.</exception>
    public static NdArray<T> Forward<T>(DenseParams<T> p, NdArray<T> x, Parallelism? parallelism) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p); ArgumentNullException.ThrowIfNull(x);
        RequireInput(p, x, nameof(x));
        return Layer.Forward(new DenseSpec(p.In, p.Out), [p.W, p.B], x, null, parallelism);
    }

    /// <summary>The chain rule through y = x·Wᵀ + b, given dL/dy [rows, out].</summary>
    /// <remarks>dW = dyᵀ·x [out, in]; db = Σ over rows of dy [out]; dx = dy·W [rows, in].
    /// When the loss is a mean over the batch, the 1/rows is already inside dy.</remarks>
    /// <exception cref="ArgumentException">x or dy has the wrong shape.</exception>
    public static DenseGrads<T> Backward<T>(DenseParams<T> p, NdArray<T> x, NdArray<T> dy) where T : unmanaged, IFloatingPointIeee754<T> => Backward(p, x, dy, null);

    /// <summary>The chain rule through y = x·Wᵀ + b, with the products on up to <paramref name="parallelism"/>'s threads (null: all cores).</summary>
    /// <remarks>As <see cref="Backward{T}(DenseParams{T}, NdArray{T}, NdArray{T})"/>; the bits do not depend on the thread count.</remarks>
    /// <exception cref="ArgumentException">x or dy has the wrong shape.</exception>
    public static DenseGrads<T> Backward<T>(DenseParams<T> p, NdArray<T> x, NdArray<T> dy, Parallelism? parallelism) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(p); ArgumentNullException.ThrowIfNull(x); ArgumentNullException.ThrowIfNull(dy);
        RequireInput(p, x, nameof(x));
        if (dy.Rank != 2 || dy.Shape[0] != x.Rows || dy.Shape[1] != p.Out)
            throw new ArgumentException($"dy must be [{x.Rows}, {p.Out}] for x {x.ShapeText} and W {p.W.ShapeText}, got {dy.ShapeText}", nameof(dy));
        var spec = new DenseSpec(p.In, p.Out);
        var (dx, grads) = Layer.Backward(spec, [p.W, p.B], x, dy, null, parallelism);
        return new DenseGrads<T>(grads[0], grads[1], dx);
    }

    /// <summary>The transpose of a matrix.</summary>
    public static NdArray<T> Transpose<T>(NdArray<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rank != 2) throw new ArgumentException($"transpose needs a matrix, got shape {a.ShapeText}", nameof(a));
        int r = a.Shape[0], c = a.Shape[1];
        var t = new T[r * c];
        var s = a.Span;
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) t[j * r + i] = s[i * c + j];
        return NdArray.Own(t, c, r);
    }

    private static void RequireInput<T>(DenseParams<T> p, NdArray<T> x, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Rank != 2 || x.Shape[1] != p.In)
            throw new ArgumentException($"x must be [rows, {p.In}] for W {p.W.ShapeText}, got {x.ShapeText}", name);
    }
}
