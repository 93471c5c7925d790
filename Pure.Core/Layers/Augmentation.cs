using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>Random flips, for data augmentation: in training, each example is mirrored left–right (its last axis) and/or
/// upside down (the axis before) with probability ½ each, drawn from the layer's key; at evaluation, the identity.</summary>
/// <param name="Horizontal">Mirror the last axis (W of [C, H, W]): torchvision's RandomHorizontalFlip, Keras' RandomFlip("horizontal").</param>
/// <param name="Vertical">Mirror the axis before it (H).</param>
/// <remarks>
/// <para>Augmentation as a layer is Keras' way (its preprocessing layers run only in training): a model file keeps it, a
/// replay gives the same bits, and inference never sees it. The flips are a pure function of the key (one Threefry block per
/// example), so the backward pass rebuilds them: a flip is its own inverse and its own transpose, so dL/dx is dL/dy
/// flipped the same way. It has no parameters; put it first, on the images.</para>
/// <para>It takes images [C, H, W] (or [H, W], one channel without its axis), as a convolution does; a flat vector [F] (a
/// table's features, or the output of a flatten or a dense layer) has no rows or columns to mirror, and is refused.</para>
/// </remarks>
public sealed record RandomFlipSpec(bool Horizontal = true, bool Vertical = false) : LayerSpec
{
    /// <summary>The vertical flag, checked: at least one axis must flip.</summary>
    public bool Vertical { get; } = Vertical || Horizontal ? Vertical : throw new ArgumentException("a random flip needs an axis: horizontal, vertical or both", nameof(Vertical));

    /// <inheritdoc/>
    public override string Kind => "random-flip";

    /// <summary>The input shape, which must be an image (<see cref="Augmentation.RequireImage"/>).</summary>
    /// <exception cref="ArgumentException">The input is a flat vector, not an image [C, H, W] or [H, W].</exception>
    public override Shape OutputShape(Shape input) => Augmentation.RequireImage(Kind, input);

    /// <summary>Training: y = x with each example's axes mirrored or not, by the key; evaluation: y = x.</summary>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        if (!a.Training) { a.X.CopyTo(a.Y); return; }
        Flip(a.Rows, a.Input, a.X, a.Y, a.Key!.Value);
    }

    /// <summary>dx = dy flipped as the forward pass flipped x (the same key), or dy at evaluation.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        if (!a.Training) { a.DY.CopyTo(a.DX); return; }
        Flip(a.Rows, a.Input, a.DY, a.DX, a.Key!.Value);
    }

    /// <summary>Example r flips horizontally when bit 0 of its block is set, vertically when bit 1 is.</summary>
    private void Flip<T>(int rows, Shape shape, ReadOnlySpan<T> src, Span<T> dst, RandomKey key) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = shape[shape.Rank - 1], h = shape.Rank >= 2 ? shape[shape.Rank - 2] : 1, size = shape.Size, planes = size / (w * h);
        for (int r = 0; r < rows; r++)
        {
            uint bits = Threefry.Block(key, (uint)r, Stream).Item1;
            bool mirror = Horizontal && (bits & 1) != 0, upsideDown = Vertical && (bits & 2) != 0;
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < h; i++)
                {
                    int at = r * size + p * w * h;
                    var line = dst.Slice(at + i * w, w);
                    src.Slice(at + (upsideDown ? h - 1 - i : i) * w, w).CopyTo(line);
                    if (mirror) line.Reverse();
                }
        }
    }

    private const uint Stream = 0x464C4950; // "FLIP"
}

/// <summary>Random shifts, for data augmentation: in training, each example's last two axes [H, W] are moved by whole
/// steps dy ∈ [−MaxH, MaxH], dx ∈ [−MaxW, MaxW] (uniform, independent, per example, from the layer's key), what moves in
/// being zeros; at evaluation, the identity.</summary>
/// <param name="MaxH">The largest shift along H.</param>
/// <param name="MaxW">The largest shift along W.</param>
/// <remarks>
/// <para>The same as torchvision's <c>RandomCrop(size, padding=(MaxW, MaxH))</c> with fill 0: pad by the maximum shift, cut
/// a window of the original size at a uniform offset. On standardized inputs 0 is the feature's mean.</para>
/// <para>It takes images [C, H, W] (or [H, W]), as <see cref="RandomFlipSpec"/> does, and refuses a flat vector.</para>
/// <para>A shift is linear in x, so backward applies its transpose: dL/dx is dL/dy shifted back by (−dy, −dx), zeros where
/// an input element left the window. It rebuilds the shifts from the key.</para>
/// </remarks>
public sealed record RandomShiftSpec(int MaxH, int MaxW) : LayerSpec
{
    /// <summary>The largest shift along H, checked (≥ 0).</summary>
    public int MaxH { get; } = MaxH >= 0 ? MaxH : throw new ArgumentOutOfRangeException(nameof(MaxH), MaxH, "a shift must be ≥ 0");

    /// <summary>The largest shift along W, checked (≥ 0).</summary>
    public int MaxW { get; } = MaxW >= 0 ? MaxW : throw new ArgumentOutOfRangeException(nameof(MaxW), MaxW, "a shift must be ≥ 0");

    /// <summary>The same largest shift on both axes.</summary>
    public static RandomShiftSpec Square(int max) => new(max, max);

    /// <inheritdoc/>
    public override string Kind => "random-shift";

    /// <summary>The input shape, which must be an image (<see cref="Augmentation.RequireImage"/>).</summary>
    /// <exception cref="ArgumentException">The input is a flat vector, not an image [C, H, W] or [H, W].</exception>
    public override Shape OutputShape(Shape input) => Augmentation.RequireImage(Kind, input);

    /// <summary>Training: y[.., i, j] = x[.., i + dy, j + dx] (0 outside x), with (dy, dx) drawn per example from the key; evaluation: y = x.</summary>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        if (!a.Training) { a.X.CopyTo(a.Y); return; }
        Shift(a.Rows, a.Input, a.X, a.Y, a.Key!.Value, 1, a.Threads);
    }

    /// <summary>dx[.., i, j] = dy[.., i − dy, j − dx] (0 outside): the forward shift's transpose; dy at evaluation.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        if (!a.Training) { a.DY.CopyTo(a.DX); return; }
        Shift(a.Rows, a.Input, a.DY, a.DX, a.Key!.Value, -1, a.Threads);
    }

    /// <summary>Moves each example by its (dy, dx) times <paramref name="sign"/>: dst[i, j] = src[i + s·dy, j + s·dx], 0 outside
    /// src. Examples are independent (each its own block of the key), so they are cut among the threads as a convolution's
    /// forward pass cuts them (<see cref="WorkerPool.RunRanges"/>, by examples): the same bits on any count. (Parts are claimed
    /// as the cores come, so a core is not bound to read next the examples it wrote; it usually does, the caller taking the
    /// front and a helper the back.)</summary>
    /// <remarks>Cut from half <see cref="WorkerPool.ElementwiseThreshold"/>'s elements: in the training fold the output's lines
    /// were last read by every core (a convolution's weight gradient reads all the examples on each), so a core writing them
    /// waits on their invalidation; two cores share that wait. Measured on the README's CNN (64 × 784,
    /// 2 threads, report --parts cnn three times alternated with a single-threaded shift): 18.8/19.0/17.9 → 11.5/10.6/11.2 µs
    /// alone, 41.9/42.2/198.8 → 36.8/28.3/21.4 µs inside the step.</remarks>
    private unsafe void Shift<T>(int rows, Shape shape, ReadOnlySpan<T> src, Span<T> dst, RandomKey key, int sign, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = shape[shape.Rank - 1], h = shape[shape.Rank - 2], size = shape.Size;
        if (src.Length < (long)rows * size || dst.Length < (long)rows * size) throw new ArgumentException($"a shift of {rows} examples of {shape} needs {(long)rows * size} elements", nameof(dst));
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            var job = new ShiftJob<T> { Src = ps, Dst = pd, W = w, H = h, Size = size, Key = key, Sign = sign, MaxH = MaxH, MaxW = MaxW };
            long elements = (long)rows * size;
            WorkerPool.RunRanges(rows, 2 * elements, threads, &ShiftRows<T>, &job); // counted twice: see the remarks
        }
    }

    private unsafe struct ShiftJob<T> where T : unmanaged
    {
        public T* Src, Dst;
        public int W, H, Size, Sign, MaxH, MaxW;
        public RandomKey Key;
    }

    /// <summary>Examples [r0, r1) of a shift.</summary>
    private static unsafe void ShiftRows<T>(void* state, int r0, int r1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var j = ref System.Runtime.CompilerServices.Unsafe.AsRef<ShiftJob<T>>(state);
        int w = j.W, h = j.H, size = j.Size, planes = size / (w * h);
        var src = new ReadOnlySpan<T>(j.Src, checked(r1 * size)); var dst = new Span<T>(j.Dst, checked(r1 * size));
        for (int r = r0; r < r1; r++)
        {
            var (b0, b1) = Threefry.Block(j.Key, (uint)r, Stream);
            int dy = j.Sign * (Uniform(b0, 2 * j.MaxH + 1) - j.MaxH), dx = j.Sign * (Uniform(b1, 2 * j.MaxW + 1) - j.MaxW);
            int j0 = Math.Clamp(-dx, 0, w), j1 = Math.Clamp(w - dx, 0, w); // the columns c with 0 ≤ c + dx < w
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < h; i++)
                {
                    int at = r * size + p * w * h;
                    var line = dst.Slice(at + i * w, w);
                    int si = i + dy;
                    if (si < 0 || si >= h || j0 >= j1) { line.Clear(); continue; }
                    line[..j0].Clear();
                    src.Slice(at + si * w + j0 + dx, j1 - j0).CopyTo(line[j0..j1]);
                    line[j1..].Clear();
                }
        }
    }

    /// <summary>⌊bits·n / 2³²⌋: an integer in [0, n), uniform up to n/2³².</summary>
    private static int Uniform(uint bits, int n) => (int)(((ulong)bits * (uint)n) >> 32);

    private const uint Stream = 0x53484654; // "SHFT"
}

/// <summary>What the augmentation layers share.</summary>
internal static class Augmentation
{
    /// <summary><paramref name="input"/> when it is an image: [C, H, W], as a convolution takes it, or [H, W] (the example's last
    /// two axes are its rows and columns; more leading axes are planes, each moved alike). A flat vector [F] is refused: mirroring
    /// or moving a table's features, or a dense layer's outputs, has no meaning as augmentation, and it would train without a
    /// word (a horizontal flip would reverse the vector).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="input"/> has one axis.</exception>
    public static Shape RequireImage(string kind, Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2)
            throw new ArgumentException($"{kind} needs an image input [channels, height, width] (or [height, width]); it gets {input}", nameof(input));
        return input;
    }
}
