using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using NeuralPure.Kernels;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>Shape checks shared by the 2-d window layers.</summary>
internal static class Pool2d
{
    /// <summary>The geometry for an input [C, H, W], or an <see cref="ArgumentException"/> (parameter <c>input</c>) naming what does not fit.</summary>
    public static Window2d Geometry(string kind, Shape input, int kh, int kw, int sh, int sw, int ph, int pw, int channels = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3)
            throw new ArgumentException($"the {kind} layer takes images [C, H, W], not examples of shape {input}", nameof(input));
        if (channels > 0 && input[0] != channels)
            throw new ArgumentException($"the {kind} layer has InChannels = {channels} but the input {input} has {input[0]} channels", nameof(input));
        if (input[1] + 2 * ph < kh)
            throw new ArgumentException($"the {kind} layer's KernelH = {kh} is larger than the padded input height {input[1]} + 2·{ph}", nameof(input));
        if (input[2] + 2 * pw < kw)
            throw new ArgumentException($"the {kind} layer's KernelW = {kw} is larger than the padded input width {input[2]} + 2·{pw}", nameof(input));
        return new Window2d(input[0], input[1], input[2], kh, kw, sh, sw, ph, pw);
    }

    public static int Positive(int v, string name) => v >= 1 ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be ≥ 1");

    /// <summary>PyTorch's rule for pooling: 0 ≤ padding ≤ kernel/2.</summary>
    public static int Padding(int v, int kernel, string name) =>
        v >= 0 && 2 * v <= kernel ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be in [0, kernel/2] = [0, {kernel / 2}]");
}

/// <summary>2-d max pooling (PyTorch's <c>nn.MaxPool2d</c>, dilation 1, ceil_mode false) on [C, H, W] examples: each output is the
/// maximum of its kh × kw window; padding counts as −∞.</summary>
/// <param name="KernelH">Window height, ≥ 1.</param>
/// <param name="KernelW">Window width, ≥ 1.</param>
/// <param name="StrideH">Vertical stride, ≥ 1; null (PyTorch's default) means <paramref name="KernelH"/>.</param>
/// <param name="StrideW">Horizontal stride, ≥ 1; null means <paramref name="KernelW"/>.</param>
/// <param name="PaddingH">Rows of −∞ above and below, in [0, kh/2].</param>
/// <param name="PaddingW">Columns of −∞ left and right, in [0, kw/2].</param>
/// <remarks>The forward pass keeps each output's argmax in the scratch (the first maximum in row-major window order, as PyTorch;
/// a NaN wins); the backward pass sends each dy to it, adding where windows overlap.</remarks>
public sealed record MaxPool2dSpec(int KernelH, int KernelW, int? StrideH = null, int? StrideW = null, int PaddingH = 0, int PaddingW = 0) : LayerSpec
{
    /// <summary>Window height, checked.</summary>
    public int KernelH { get; } = Pool2d.Positive(KernelH, nameof(KernelH));
    /// <summary>Window width, checked.</summary>
    public int KernelW { get; } = Pool2d.Positive(KernelW, nameof(KernelW));
    /// <summary>Vertical stride, resolved (never null) and checked.</summary>
    public int? StrideH { get; } = Pool2d.Positive(StrideH ?? KernelH, nameof(StrideH));
    /// <summary>Horizontal stride, resolved (never null) and checked.</summary>
    public int? StrideW { get; } = Pool2d.Positive(StrideW ?? KernelW, nameof(StrideW));
    /// <summary>Vertical padding, checked.</summary>
    public int PaddingH { get; } = Pool2d.Padding(PaddingH, KernelH, nameof(PaddingH));
    /// <summary>Horizontal padding, checked.</summary>
    public int PaddingW { get; } = Pool2d.Padding(PaddingW, KernelW, nameof(PaddingW));

    /// <summary>A square window: <c>nn.MaxPool2d(kernel, stride, padding)</c>.</summary>
    public static MaxPool2dSpec Square(int kernel, int? stride = null, int padding = 0) => new(kernel, kernel, stride, stride, padding, padding);

    /// <inheritdoc/>
    public override string Kind => "maxpool2d";

    /// <summary>A ReLU before this pool: one pass each way (<see cref="ReluMaxPool2dSpec"/>).</summary>
    internal override LayerSpec? FusedAfter(LayerSpec previous) => previous is ReluSpec ? new ReluMaxPool2dSpec(this) : null;

    internal Window2d Geometry(Shape input) => Pool2d.Geometry(Kind, input, KernelH, KernelW, StrideH!.Value, StrideW!.Value, PaddingH, PaddingW);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not [C, H, W] or the window is larger than the padded input.</exception>
    public override Shape OutputShape(Shape input)
    {
        var g = Geometry(input);
        return Shape.Of(g.C, g.OutH, g.OutW);
    }

    /// <summary>One int per output element: its argmax.</summary>
    public override int ScratchBytes<T>(Shape input, int rows) => checked(rows * OutputShape(input).Size * sizeof(int));

    /// <summary>y = the window maxima; the argmaxes go to the scratch.</summary>
    public override void Forward<T>(in ForwardArgs<T> a) =>
        Conv.Pool(Conv.PoolPass.MaxForward, a.X, a.Y, MemoryMarshal.Cast<byte, int>(a.Scratch)[..a.Y.Length], a.Rows, Geometry(a.Input), false, a.Threads);

    /// <summary>dx = 0 plus each dy at its argmax.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        Conv.Pool(Conv.PoolPass.MaxBackward, a.DY, a.DX, MemoryMarshal.Cast<byte, int>(a.Scratch)[..a.DY.Length], a.Rows, Geometry(a.Input), false, a.Threads);
    }
}

/// <summary>2-d average pooling (PyTorch's <c>nn.AvgPool2d</c>, ceil_mode false, no divisor override) on [C, H, W] examples, with
/// zero padding.</summary>
/// <param name="KernelH">Window height, ≥ 1.</param>
/// <param name="KernelW">Window width, ≥ 1.</param>
/// <param name="StrideH">Vertical stride, ≥ 1; null (PyTorch's default) means <paramref name="KernelH"/>.</param>
/// <param name="StrideW">Horizontal stride, ≥ 1; null means <paramref name="KernelW"/>.</param>
/// <param name="PaddingH">Zero rows above and below, in [0, kh/2].</param>
/// <param name="PaddingW">Zero columns left and right, in [0, kw/2].</param>
/// <param name="CountIncludePad">Divide by kh·kw, padded zeros included (PyTorch's default, true), or by the number of input elements in the window.</param>
public sealed record AvgPool2dSpec(int KernelH, int KernelW, int? StrideH = null, int? StrideW = null, int PaddingH = 0, int PaddingW = 0,
    bool CountIncludePad = true) : LayerSpec
{
    /// <summary>Window height, checked.</summary>
    public int KernelH { get; } = Pool2d.Positive(KernelH, nameof(KernelH));
    /// <summary>Window width, checked.</summary>
    public int KernelW { get; } = Pool2d.Positive(KernelW, nameof(KernelW));
    /// <summary>Vertical stride, resolved (never null) and checked.</summary>
    public int? StrideH { get; } = Pool2d.Positive(StrideH ?? KernelH, nameof(StrideH));
    /// <summary>Horizontal stride, resolved (never null) and checked.</summary>
    public int? StrideW { get; } = Pool2d.Positive(StrideW ?? KernelW, nameof(StrideW));
    /// <summary>Vertical padding, checked.</summary>
    public int PaddingH { get; } = Pool2d.Padding(PaddingH, KernelH, nameof(PaddingH));
    /// <summary>Horizontal padding, checked.</summary>
    public int PaddingW { get; } = Pool2d.Padding(PaddingW, KernelW, nameof(PaddingW));

    /// <summary>A square window: <c>nn.AvgPool2d(kernel, stride, padding, count_include_pad=countIncludePad)</c>.</summary>
    public static AvgPool2dSpec Square(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true) =>
        new(kernel, kernel, stride, stride, padding, padding, countIncludePad);

    /// <inheritdoc/>
    public override string Kind => "avgpool2d";

    private Window2d Geometry(Shape input) => Pool2d.Geometry(Kind, input, KernelH, KernelW, StrideH!.Value, StrideW!.Value, PaddingH, PaddingW);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not [C, H, W] or the window is larger than the padded input.</exception>
    public override Shape OutputShape(Shape input)
    {
        var g = Geometry(input);
        return Shape.Of(g.C, g.OutH, g.OutW);
    }

    /// <summary>y = (Σ of the window, row-major) / divisor.</summary>
    public override void Forward<T>(in ForwardArgs<T> a) => Conv.Pool(Conv.PoolPass.AverageForward, a.X, a.Y, default, a.Rows, Geometry(a.Input), CountIncludePad, a.Threads);

    /// <summary>dx = Σ over the windows containing an element of dy/divisor, outputs in order.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        Conv.Pool(Conv.PoolPass.AverageBackward, a.DY, a.DX, default, a.Rows, Geometry(a.Input), CountIncludePad, a.Threads);
    }
}

/// <summary>A ReLU followed by 2-d max pooling, one pass forward and one backward: what the training fold runs for that pair of
/// layers (<see cref="LayerSpec.FusedAfter"/>), with the pair's bits. Not a layer a model names: the pair is what a model says,
/// and what its run file records.</summary>
/// <remarks>
/// <para><b>Forward.</b> y = ReLU(the window's maximum of x). ReLU is monotone and keeps a NaN, so this is the maximum of the
/// ReLU outputs: a window with a positive or NaN maximum has the same maximum and the same argmax (the first in row-major order;
/// the last NaN) in x as in ReLU(x), since ReLU changes only the elements ≤ 0, which never win against it; a window whose
/// maximum is ≤ 0 (or −∞) gives +0 both ways (the pair's pool takes +0 from the first of its +0s, this pass ReLU(max) = +0).
/// The argmaxes kept are x's.</para>
/// <para><b>Backward.</b> dx = 0, then dx[argmax[o]] += (y[o] &gt; 0 ? dy[o] : 0), outputs in order. The pair's is
/// dx[i] = (x[i] &gt; 0 ? Σ of the dy[o] whose ReLU-argmax is i : +0). Where x[i] &gt; 0 every window holding i has a positive
/// maximum (or a NaN, which wins and then is not i), so the same outputs send the same dy to i in the same order; where
/// x[i] ≤ 0 or NaN, an output whose argmax is i has y = ReLU(x[i]) = +0 or NaN, so it adds +0: dx[i] = +0 both ways.</para>
/// <para><b>Why.</b> The pair wrote the ReLU's output and, backward, the gradient at it: two full-size tensors and two passes
/// each way that this skips (the README CNN's first block: 6.4 MB each, four times the pool's output).</para>
/// </remarks>
internal sealed record ReluMaxPool2dSpec(MaxPool2dSpec Pool) : LayerSpec
{
    /// <inheritdoc/>
    public override string Kind => "relu+maxpool2d";

    /// <summary>A batch norm before the ReLU: its output plane by plane in the thread's cache, never the whole tensor
    /// (<see cref="BatchNormReluMaxPool2dSpec"/>).</summary>
    internal override LayerSpec? FusedAfter(LayerSpec previous) => previous is BatchNormSpec norm ? new BatchNormReluMaxPool2dSpec(norm, Pool) : null;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Pool.OutputShape(input);

    /// <summary>The pool's: one int per output element, its argmax in x.</summary>
    public override int ScratchBytes<T>(Shape input, int rows) => Pool.ScratchBytes<T>(input, rows);

    /// <summary>y = ReLU(the window maxima); x's argmaxes go to the scratch.</summary>
    public override void Forward<T>(in ForwardArgs<T> a) =>
        Conv.Pool(Conv.PoolPass.MaxReluForward, a.X, a.Y, MemoryMarshal.Cast<byte, int>(a.Scratch)[..a.Y.Length], a.Rows, Pool.Geometry(a.Input), false, a.Threads);

    /// <summary>dx = 0 plus each dy at its argmax where y &gt; 0.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) return;
        Conv.Pool(Conv.PoolPass.MaxReluBackward, a.DY, a.DX, MemoryMarshal.Cast<byte, int>(a.Scratch)[..a.DY.Length], a.Rows, Pool.Geometry(a.Input), false, a.Threads, a.Y);
    }
}

/// <summary>Batch norm, a ReLU and 2-d max pooling: what the training fold runs for those three layers in a row
/// (<see cref="LayerSpec.FusedAfter"/>), with their bits, the norm's parameters and state as its own. Not a layer a model names.</summary>
/// <remarks>
/// <para><b>Forward.</b> The norm's statistics and running statistics as <see cref="BatchNormSpec"/> computes them; then, channel
/// plane by channel plane, the norm's output (its own Affine pass, so its bits) into this thread's buffer, and
/// <see cref="ReluMaxPool2dSpec"/>'s pass from there. The norm's output is never written to memory: the README CNN's first block
/// wrote 6.4 MB there and read it back at once.</para>
/// <para><b>Backward.</b> ReluMaxPool2dSpec's backward pass into dx (dL/d(norm's output)), then the norm's backward pass over
/// it in place (<see cref="BatchNormSpec.BackwardInPlace"/>): the three layers' backward passes, in order. The norm's backward
/// reads its input and statistics, never its output. The fold fuses the three only where dx is wanted (above the first layer
/// with parameters), since the norm's gradient sums need dL/d(its output) somewhere.</para>
/// </remarks>
internal sealed record BatchNormReluMaxPool2dSpec(BatchNormSpec Norm, MaxPool2dSpec Pool) : LayerSpec
{
    /// <inheritdoc/>
    public override string Kind => "batch-norm+relu+maxpool2d";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Pool.OutputShape(Norm.OutputShape(input));

    /// <summary>The norm's.</summary>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => Norm.Parameters(input);

    /// <summary>The norm's.</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, NeuralPure.Random.RandomKey key) => Norm.Init<T>(input, key);

    /// <summary>The norm's.</summary>
    public override ImmutableArray<ParamShape> State(Shape input) => Norm.State(input);

    /// <summary>The norm's.</summary>
    public override ImmutableArray<NdArray<T>> InitState<T>(Shape input) => Norm.InitState<T>(input);

    private int NormBytes<T>(Shape input, int rows) where T : unmanaged, IFloatingPointIeee754<T> => (Norm.ScratchBytes<T>(input, rows) + 7) / 8 * 8;

    /// <summary>The norm's statistics, then one int per output element: its argmax.</summary>
    public override int ScratchBytes<T>(Shape input, int rows) => checked(NormBytes<T>(input, rows) + Pool.ScratchBytes<T>(input, rows));

    /// <inheritdoc/>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        int norm = NormBytes<T>(a.Input, a.Rows);
        Norm.Forward(a, a.Scratch[..norm], Pool, MemoryMarshal.Cast<byte, int>(a.Scratch[norm..])[..a.Y.Length]);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">dx is not wanted (the fold does not fuse there).</exception>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (!a.InputGradient) throw new InvalidOperationException("the fused batch norm, ReLU and max pool needs dx's buffer for the norm's output gradient");
        int norm = NormBytes<T>(a.Input, a.Rows);
        Conv.Pool(Conv.PoolPass.MaxReluBackward, a.DY, a.DX, MemoryMarshal.Cast<byte, int>(a.Scratch[norm..])[..a.DY.Length], a.Rows, Pool.Geometry(a.Input), false, a.Threads, a.Y);
        // The norm's backward in place: dy and dx are the same span (its y is not read: x stands in for it).
        Norm.Backward(new BackwardArgs<T>(a.Rows, a.Input, a.Input, a.X, a.X, a.DX, a.DX, true, a.Parameters, a.Gradients, a.Scratch[..norm], a.LayerKey, a.Threads));
    }
}
