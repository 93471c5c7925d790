using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>A 2-d convolution (PyTorch's <c>nn.Conv2d</c>, groups 1, dilation 1, zero padding) on NCHW examples [C, H, W]:
/// y[o, a, b] = bias[o] + Σ_{c, i, j} weight[o, c, i, j]·x[c, a·sh − ph + i, b·sw − pw + j] (cross-correlation, the kernel is
/// not flipped); the output is [out, floor((H + 2ph − kh)/sh) + 1, floor((W + 2pw − kw)/sw) + 1].</summary>
/// <param name="InChannels">Input channels C, ≥ 1.</param>
/// <param name="OutChannels">Output channels, ≥ 1.</param>
/// <param name="KernelH">Kernel height kh, ≥ 1.</param>
/// <param name="KernelW">Kernel width kw, ≥ 1.</param>
/// <param name="StrideH">Vertical stride, ≥ 1.</param>
/// <param name="StrideW">Horizontal stride, ≥ 1.</param>
/// <param name="PaddingH">Zero rows added above and below, ≥ 0.</param>
/// <param name="PaddingW">Zero columns added left and right, ≥ 0.</param>
/// <param name="Bias">Whether the layer has a bias (PyTorch's default: true).</param>
/// <remarks>
/// <para>Parameters in PyTorch's layout: <c>weight</c> [out, in, kh, kw] and (with <see cref="Bias"/>) <c>bias</c> [out], both
/// drawn from PyTorch's default U(−1/√fan_in, 1/√fan_in) with fan_in = in·kh·kw (kaiming_uniform with a = √5).</para>
/// <para>The passes are matrix products on the packed GEMM via im2col: the forward pass writes the column matrix
/// [in·kh·kw, rows·P] (P = output positions) into the scratch and computes W·cols for the whole batch as one product, whose
/// [out, rows·P] result is copied (with the bias) into the examples' NCHW outputs; the backward pass computes
/// dW = dYᵀ-by-cols as one product over all rows and positions (a single chain per element, in the order (row, position)),
/// db as sums in the same order, and dx = col2im(Wᵀ·dY). The bits depend on the values only, not on the thread count or the
/// register width.</para>
/// </remarks>
public sealed record Conv2dSpec(int InChannels, int OutChannels, int KernelH, int KernelW, int StrideH = 1, int StrideW = 1, int PaddingH = 0, int PaddingW = 0,
    bool Bias = true) : LayerSpec
{
    /// <summary>Input channels, checked.</summary>
    public int InChannels { get; } = InChannels >= 1 ? InChannels : throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "a convolution needs ≥ 1 input channel");
    /// <summary>Output channels, checked.</summary>
    public int OutChannels { get; } = OutChannels >= 1 ? OutChannels : throw new ArgumentOutOfRangeException(nameof(OutChannels), OutChannels, "a convolution needs ≥ 1 output channel");
    /// <summary>Kernel height, checked.</summary>
    public int KernelH { get; } = KernelH >= 1 ? KernelH : throw new ArgumentOutOfRangeException(nameof(KernelH), KernelH, "the kernel height must be ≥ 1");
    /// <summary>Kernel width, checked.</summary>
    public int KernelW { get; } = KernelW >= 1 ? KernelW : throw new ArgumentOutOfRangeException(nameof(KernelW), KernelW, "the kernel width must be ≥ 1");
    /// <summary>Vertical stride, checked.</summary>
    public int StrideH { get; } = StrideH >= 1 ? StrideH : throw new ArgumentOutOfRangeException(nameof(StrideH), StrideH, "the stride must be ≥ 1");
    /// <summary>Horizontal stride, checked.</summary>
    public int StrideW { get; } = StrideW >= 1 ? StrideW : throw new ArgumentOutOfRangeException(nameof(StrideW), StrideW, "the stride must be ≥ 1");
    /// <summary>Vertical padding, checked.</summary>
    public int PaddingH { get; } = PaddingH >= 0 ? PaddingH : throw new ArgumentOutOfRangeException(nameof(PaddingH), PaddingH, "the padding must be ≥ 0");
    /// <summary>Horizontal padding, checked.</summary>
    public int PaddingW { get; } = PaddingW >= 0 ? PaddingW : throw new ArgumentOutOfRangeException(nameof(PaddingW), PaddingW, "the padding must be ≥ 0");

    /// <summary>A square kernel with the same stride and padding on both axes: <c>nn.Conv2d(in, out, kernel, stride, padding, bias=bias)</c>.</summary>
    public static Conv2dSpec Square(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, bool bias = true) =>
        new(inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, bias);

    /// <inheritdoc/>
    public override string Kind => "conv2d";

    /// <summary>fan_in = in·kh·kw.</summary>
    public int FanIn => InChannels * KernelH * KernelW;

    internal Window2d Geometry(Shape input) =>
        Pool2d.Geometry(Kind, input, KernelH, KernelW, StrideH, StrideW, PaddingH, PaddingW, InChannels);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not [<see cref="InChannels"/>, H, W], or the kernel is larger than the padded input.</exception>
    public override Shape OutputShape(Shape input)
    {
        var g = Geometry(input);
        return Shape.Of(OutChannels, g.OutH, g.OutW);
    }

    /// <inheritdoc/>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => Bias
        ? [new("weight", Shape.Of(OutChannels, InChannels, KernelH, KernelW)), new("bias", Shape.Of(OutChannels))]
        : [new("weight", Shape.Of(OutChannels, InChannels, KernelH, KernelW))];

    /// <summary>PyTorch's default: weight, bias ~ U(−1/√fan_in, 1/√fan_in), the weight from the key's first half and the bias from
    /// its second (as <see cref="Initializer.PyTorchLinear"/> draws a dense layer).</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key)
    {
        double bound = 1 / Math.Sqrt(FanIn);
        var (kw, kb) = key.Split();
        var w = Sampling.Uniform<T>(kw, -bound, bound, OutChannels, InChannels, KernelH, KernelW);
        return Bias ? [w, Sampling.Uniform<T>(kb, -bound, bound, OutChannels)] : [w];
    }

    /// <summary>The column matrix [in·kh·kw, rows·P] (kept from forward to backward, and the column gradient written over it
    /// once the weight gradient has read it), Yₜ and then dY transposed [out, rows·P], and dWᵀ [in·kh·kw, out] for a kernel
    /// with few taps.</summary>
    /// <remarks>With the column gradient in a matrix of its own, the CNN's second convolution (288 × 12,544 columns at batch 64)
    /// kept 14.4 MB more in the step.</remarks>
    public override int ScratchBytes<T>(Shape input, int rows)
    {
        var g = Geometry(input);
        long q = (long)rows * g.P;
        return checked((int)(((g.K + OutChannels) * q + (long)g.K * OutChannels) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
    }

    /// <summary>cols = im2col(x); Yₜ = W·cols, one product [out, rows·P] over the whole batch into the scratch the backward pass
    /// uses for dYₜ; then y[n, o] = Yₜ[o, n·P ..] (+ bias[o]).</summary>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        var g = Geometry(a.Input);
        int rows = a.Rows, q = rows * g.P, outC = OutChannels, p = g.P;
        var all = MemoryMarshal.Cast<byte, T>(a.Scratch);
        var cols = all[..(g.K * q)];
        var yt = all.Slice(g.K * q, outC * q);
        Conv.Im2Col(a.X, cols, rows, g, a.Threads);
        MatMul.Multiply<T>(a.Parameter(0), cols, yt, outC, g.K, q, a.Threads);
        Conv.FromChannelMajor<T>(yt, Bias ? a.Parameter(1) : default, a.Y, rows, outC, p, a.Threads);
    }

    /// <summary>dW = dYₜ·colsᵀ over all (row, position) in order; db[o] = Σ dY[·, o, ·] in the same order; dx = col2im(Wᵀ·dYₜ).</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        var g = Geometry(a.Input);
        int rows = a.Rows, q = rows * g.P, outC = OutChannels, p = g.P, k = g.K;
        var all = MemoryMarshal.Cast<byte, T>(a.Scratch);
        var cols = all[..(k * q)];
        var dyt = all.Slice(k * q, outC * q);
        Conv.ToChannelMajor<T>(a.DY, dyt, rows, outC, p, a.Threads);
        if (k < outC && q >= outC)
        {
            // A kernel with few taps (the first layer's 1·3·3 = 9): dWᵀ = cols·dYₜᵀ [k, out] keeps the product's columns (out)
            // wide enough to fill a register tile, then is transposed into dW. Each element is the same chain over (row,
            // position) with the factors swapped, and a·b = b·a, fma(a, b, c) = fma(b, a, c) exactly: the same bits.
            var dwt = all.Slice((k + outC) * q, k * outC);
            MatMul.MultiplyTransposedB<T>(cols, dyt, dwt, k, q, outC, a.Threads);
            var dw = a.Gradient(0);
            for (int r = 0; r < k; r++)
                for (int o = 0; o < outC; o++) dw[o * k + r] = dwt[r * outC + o];
        }
        else MatMul.MultiplyTransposedB<T>(dyt, cols, a.Gradient(0), outC, q, k, a.Threads);
        // db[o]: channel o's row of dYₜ summed in order.
        if (Bias) MatMul.RowSums<T>(dyt, a.Gradient(1), outC, q, a.Threads);
        if (a.InputGradient)
        {
            var dcols = cols;                                            // read for the last time by the weight gradient above
            MatMul.MultiplyTransposedA<T>(a.Parameter(0), dyt, dcols, outC, k, q, a.Threads);
            Conv.Col2Im<T>(dcols, a.DX, rows, g, a.Threads);
        }
    }
}
