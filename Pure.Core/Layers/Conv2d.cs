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
/// <para>The passes are matrix products on the packed GEMM via im2col, example by example : the
/// forward pass builds example n's column matrix cols(n) [in·kh·kw, P] (P = output positions) and writes W·cols(n) (+ bias)
/// into its output; the backward pass computes dW = Σₙ dY[n]·cols(n)ᵀ (a single chain per element, in the order (row,
/// position)), db as sums in the same order, and dx[n] = col2im(Wᵀ·dY[n]). The bits depend on the values only, not on the
/// thread count or the register width.</para>
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

    /// <summary>dWᵀ [in·kh·kw, out], which the weight gradient is computed as; the column matrices are built example by example
    /// in each thread's own buffer.</summary>
    /// <remarks>The whole batch's column matrix, kept from forward to backward, was 14.4 MB for the CNN's second convolution
    /// at batch 64, and its products' results another 3.2 MB each way.</remarks>
    public override int ScratchBytes<T>(Shape input, int rows) =>
        checked(ConvProducts.TransposedScratch(Geometry(input), OutChannels) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());

    /// <summary>y[n] = W·im2col(x[n]) (+ bias[o] on channel o), example by example .</summary>
    public override void Forward<T>(in ForwardArgs<T> a) =>
        ConvProducts.Forward<T>(a.X, a.Parameter(0), Bias ? a.Parameter(1) : default, a.Y, a.Rows, Geometry(a.Input), OutChannels, a.Threads);

    /// <summary>dW = Σₙ dY[n]·im2col(x[n])ᵀ, one chain per element over (row, position) in order; db[o] = Σ dY[·, o, ·] in the same
    /// order; dx[n] = col2im(Wᵀ·dY[n]).</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        var g = Geometry(a.Input);
        int rows = a.Rows, outC = OutChannels;
        var dwt = MemoryMarshal.Cast<byte, T>(a.Scratch);
        ConvProducts.WeightGradient<T>(a.X, a.DY, a.Gradient(0), dwt, rows, g, outC, a.Threads, Bias ? a.Gradient(1) : default);
        if (a.InputGradient) ConvProducts.InputGradient<T>(a.Parameter(0), a.DY, a.DX, rows, g, outC, a.Threads);
    }
}
