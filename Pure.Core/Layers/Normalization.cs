using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.InteropServices;
using NeuralPure.Kernels;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>Layer normalization (Ba, Kiros &amp; Hinton 2016) as torch.nn.LayerNorm over an example's last <paramref name="Dims"/>
/// dimensions: y = (x − mean)/√(var + ε)·weight + bias, with the biased variance (divide by the count).</summary>
/// <param name="Dims">How many trailing dimensions of the example are normalized together (default 1: the last; torch's
/// normalized_shape is those dimensions).</param>
/// <param name="Eps">ε (default 1e-5).</param>
/// <param name="Affine">Learn weight (ones) and bias (zeros) of the normalized shape (default true: elementwise_affine).</param>
/// <remarks>Means, variances and the backward pass's means are summed in double over eight fixed lanes (<see cref="LaneSums"/>:
/// element j of a group in lane j mod 8, the lanes combined in a fixed tree), so the bits do not depend on threads or the
/// instruction set; the element-wise passes are vectorised with the scalar definition's operations. Backward: with x̂ = (x − mean)·r and g = dy·weight, dx = r·(g − mean(g) − x̂·mean(g·x̂)); dweight = Σ dy·x̂, dbias = Σ dy.</remarks>
public sealed record LayerNormSpec(int Dims = 1, double Eps = 1e-5, bool Affine = true) : LayerSpec
{
    /// <summary>The normalized trailing dimensions, checked ≥ 1.</summary>
    public int Dims { get; } = Dims >= 1 ? Dims : throw new ArgumentOutOfRangeException(nameof(Dims), Dims, "layer norm normalizes at least the last dimension");
    /// <summary>ε, checked positive and finite.</summary>
    public double Eps { get; } = Eps > 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a positive finite number");

    /// <inheritdoc/>
    public override string Kind => "layer-norm";

    /// <summary>True: a group's dx is written only after its sums over dy (and the weight's and bias's gradient sums) are
    /// taken, so dx may overwrite dy.</summary>
    public override bool BackwardInPlace => true;

    private Shape Normalized(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < Dims) throw new ArgumentException($"layer norm over the last {Dims} dimension(s) cannot take examples of shape {input}", nameof(input));
        return new Shape([.. input.Dims.Skip(input.Rank - Dims)]);
    }

    /// <summary>The normalized group's size, without allocating (the fold calls this every step).</summary>
    private int GroupSize(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < Dims) throw new ArgumentException($"layer norm over the last {Dims} dimension(s) cannot take examples of shape {input}", nameof(input));
        int d = 1;
        for (int i = input.Rank - Dims; i < input.Rank; i++) d *= input[i];
        return d;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) { _ = GroupSize(input); return input; }

    /// <inheritdoc/>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => Affine ? [new("weight", Normalized(input)), new("bias", Normalized(input))] : [];

    /// <summary>weight 1, bias 0, as torch.</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key)
    {
        if (!Affine) return [];
        var n = Normalized(input);
        var ones = new T[n.Size]; ones.AsSpan().Fill(T.One);
        return [NdArray.Own(ones, n.Dims), NdArray.Own(new T[n.Size], n.Dims)];
    }

    /// <summary>Per group: the mean and 1/√(var + ε), in double (two per group); and the weight's and bias's gradient sums.</summary>
    public override int ScratchBytes<T>(Shape input, int rows)
    {
        int d = GroupSize(input);
        return checked(sizeof(double) * (2 * rows * (input.Size / d) + 2 * d));
    }

    /// <inheritdoc/>
    public override void Forward<T>(in ForwardArgs<T> a)
    {
        int d = GroupSize(a.Input), groups = a.Rows * (a.Input.Size / d);
        var stats = MemoryMarshal.Cast<byte, double>(a.Scratch)[..(2 * groups)];
        ReadOnlySpan<T> w = Affine ? a.Parameter(0) : default, b = Affine ? a.Parameter(1) : default;
        for (int g = 0; g < groups; g++)
        {
            var x = a.X.Slice(g * d, d);
            var y = a.Y.Slice(g * d, d);
            Lanes8 sums = default, squares = default;
            LaneSums.Add(ref sums, x);
            double mean = sums.Total() / d;
            LaneSums.AddSquaredDeviations(ref squares, x, mean);
            double r = 1 / Math.Sqrt(squares.Total() / d + Eps);
            stats[2 * g] = mean; stats[2 * g + 1] = r;
            if (Affine) NormalizeKernels.AffineElementwise(x, w, b, y, mean, r);
            else NormalizeKernels.Standardize(x, y, mean, r);
        }
    }

    /// <inheritdoc/>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        int d = GroupSize(a.Input), groups = a.Rows * (a.Input.Size / d);
        var all = MemoryMarshal.Cast<byte, double>(a.Scratch);
        var stats = all[..(2 * groups)];
        var sumW = all.Slice(2 * groups, d); var sumB = all.Slice(2 * groups + d, d);
        sumW.Clear(); sumB.Clear();
        ReadOnlySpan<T> w = Affine ? a.Parameter(0) : default;
        for (int g = 0; g < groups; g++)
        {
            var x = a.X.Slice(g * d, d);
            var dy = a.DY.Slice(g * d, d);
            double mean = stats[2 * g], r = stats[2 * g + 1];
            Lanes8 gs = default, ghs = default;
            NormalizeKernels.LayerGradientSums(dy, x, w, mean, r, ref gs, ref ghs, Affine ? sumW : default, Affine ? sumB : default);
            double mg = gs.Total() / d, mgx = ghs.Total() / d;
            if (a.InputGradient) NormalizeKernels.LayerDx(dy, x, w, a.DX.Slice(g * d, d), mean, r, mg, mgx);
        }
        if (Affine)
        {
            var gw = a.Gradient(0); var gb = a.Gradient(1);
            for (int i = 0; i < d; i++) { gw[i] = T.CreateChecked(sumW[i]); gb[i] = T.CreateChecked(sumB[i]); }
        }
    }
}

/// <summary>Batch normalization (Ioffe &amp; Szegedy 2015) as torch.nn.BatchNorm1d/2d: per channel (the example's first axis:
/// [C], [C, L] or [C, H, W]), over the batch and the other axes.</summary>
/// <param name="Channels">C.</param>
/// <param name="Eps">ε (default 1e-5).</param>
/// <param name="Momentum">The running statistics' update rate (default 0.1, PyTorch's convention: running ← (1 − m)·running + m·batch;
/// Keras's 0.99 means m = 0.01).</param>
/// <param name="Affine">Learn weight (ones) and bias (zeros) per channel (default true).</param>
/// <remarks>
/// <para>Training (a step with a key): y = (x − μ_B)/√(σ²_B + ε)·weight + bias with the batch mean and the <em>biased</em> batch
/// variance; the running mean and the running <em>unbiased</em> variance (n/(n − 1)·σ²_B, n = rows·L or rows·H·W) move by the
/// momentum, and num_batches_tracked counts the batches. These are non-trainable layer state, an explicit input and output of
/// the step (<c>TrainState.LayerState</c>), saved in model files and checkpoints. Evaluation uses the running statistics.</para>
/// <para>Backward in training flows through the batch statistics: with x̂ = (x − μ)·r, dx = weight·r·(dy − mean(dy) − x̂·mean(dy·x̂)),
/// dweight = Σ dy·x̂, dbias = Σ dy (sums over the batch and the spatial axes). Sums run in double over eight fixed lanes
/// (<see cref="LaneSums"/>: within each example's run of a channel, element j in lane j mod 8, examples in order, the lanes combined
/// in a fixed tree): the bits do not depend on threads or the instruction set; the element-wise passes are vectorised.</para>
/// </remarks>
public sealed record BatchNormSpec(int Channels, double Eps = 1e-5, double Momentum = 0.1, bool Affine = true) : LayerSpec
{
    /// <summary>C, checked ≥ 1.</summary>
    public int Channels { get; } = Channels >= 1 ? Channels : throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "batch norm needs at least one channel");
    /// <summary>ε, checked positive and finite.</summary>
    public double Eps { get; } = Eps > 0 && double.IsFinite(Eps) ? Eps : throw new ArgumentOutOfRangeException(nameof(Eps), Eps, "eps must be a positive finite number");
    /// <summary>The momentum, checked in [0, 1].</summary>
    public double Momentum { get; } = Momentum >= 0 && Momentum <= 1 ? Momentum : throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "momentum must be in [0, 1]");

    /// <inheritdoc/>
    public override string Kind => "batch-norm";

    /// <summary>True: a channel's dx is written only after the sums over all of its dy are taken (and with the running
    /// statistics, dx = dy·k element by element), and each part of the threads owns whole channels, so dx may overwrite dy.</summary>
    public override bool BackwardInPlace => true;

    private int Spatial(Shape input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is < 1 or > 3 || input[0] != Channels)
            throw new ArgumentException($"batch norm over {Channels} channels takes examples [{Channels}], [{Channels}, L] or [{Channels}, H, W], not {input}", nameof(input));
        return input.Size / Channels;
    }

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) { _ = Spatial(input); return input; }

    /// <inheritdoc/>
    public override ImmutableArray<ParamShape> Parameters(Shape input) => Affine ? [new("weight", Shape.Of(Channels)), new("bias", Shape.Of(Channels))] : [];

    /// <inheritdoc/>
    public override ImmutableArray<ParamShape> State(Shape input) =>
        [new("running_mean", Shape.Of(Channels)), new("running_var", Shape.Of(Channels)), new("num_batches_tracked", Shape.Scalar)];

    /// <summary>weight 1, bias 0.</summary>
    public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key)
    {
        if (!Affine) return [];
        var ones = new T[Channels]; ones.AsSpan().Fill(T.One);
        return [NdArray.Own(ones, Channels), NdArray.Own(new T[Channels], Channels)];
    }

    /// <summary>running mean 0, running variance 1, no batches tracked.</summary>
    public override ImmutableArray<NdArray<T>> InitState<T>(Shape input)
    {
        var ones = new T[Channels]; ones.AsSpan().Fill(T.One);
        return [NdArray.Own(new T[Channels], Channels), NdArray.Own(ones, Channels), NdArray.Own(new T[1], ImmutableArray<int>.Empty)];
    }

    /// <summary>Per channel: the mean and 1/√(var + ε) used (batch or running), in double; and whether they were the batch's.</summary>
    public override int ScratchBytes<T>(Shape input, int rows) => (2 * Channels + 1) * sizeof(double);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Training on a single value per channel (its variance is undefined, as PyTorch refuses).</exception>
    /// <remarks>Channels are independent (each its own sums, statistics and pass), so a large input's channels are cut among the
    /// threads (<see cref="WorkerPool.RunRanges"/>): the same bits on any count.</remarks>
    public override void Forward<T>(in ForwardArgs<T> a) => Forward(a, a.Scratch, null, default);

    /// <summary>The forward pass with its statistics in <paramref name="scratch"/>; with <paramref name="pool"/>, y is not written:
    /// each example's channel plane of y goes to this thread's buffer and a ReLU and <paramref name="pool"/> of it to a.Y and
    /// <paramref name="argmax"/> (<see cref="BatchNormReluMaxPool2dSpec"/>).</summary>
    internal unsafe void Forward<T>(in ForwardArgs<T> a, Span<byte> scratch, MaxPool2dSpec? pool, Span<int> argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = Spatial(a.Input), n = a.Rows * s;
        var stats = MemoryMarshal.Cast<byte, double>(scratch)[..(2 * Channels + 1)];
        bool training = a.Training;
        if (training && n < 2) throw new ArgumentException($"batch norm in training needs more than one value per channel, got {n} (batch {a.Rows})", "x");
        if (training && a.StateCount != 3) throw new ArgumentException("batch norm in training needs its running statistics (layer state) to update", "state");
        if (!training && a.StateCount != 3) throw new ArgumentException("batch norm in evaluation needs its running statistics (layer state)", "state");
        stats[2 * Channels] = training ? 1 : 0;
        fixed (T* x = a.X, y = a.Y, w = Affine ? a.Parameter(0) : default, b = Affine ? a.Parameter(1) : default, rm = a.State(0), rv = a.State(1))
        fixed (double* st = stats) fixed (int* am = argmax)
        {
            var job = new Job<T> { Channels = Channels, Eps = Eps, Momentum = Momentum, Rows = a.Rows, S = s, X = x, Y = y, W = w, B = b, Rm = rm, Rv = rv, Stats = st, Training = training };
            if (pool is not null)
            {
                var g = pool.Geometry(a.Input);
                job.Pooled = true; job.Argmax = am; job.Pool = g with { C = 1 };
                if (argmax.Length < a.Rows * Channels * g.P) throw new ArgumentException("the argmaxes do not fit", nameof(argmax));
            }
            WorkerPool.RunRanges(Channels, (long)n * Channels, a.Threads, &ForwardChannels<T>, &job);
            if (job.Pooled) WorkerPool.RunRanges(a.Rows, (long)n * Channels, a.Threads, &PooledRows<T>, &job);
        }
        if (training) a.State(2)[0] += T.One;
    }

    /// <inheritdoc/>
    public override unsafe void Backward<T>(in BackwardArgs<T> a)
    {
        int s = Spatial(a.Input), n = a.Rows * s;
        var stats = MemoryMarshal.Cast<byte, double>(a.Scratch)[..(2 * Channels + 1)];
        fixed (T* x = a.X, dy = a.DY, dx = a.InputGradient ? a.DX : default, w = Affine ? a.Parameter(0) : default,
               gw = Affine ? a.Gradient(0) : default, gb = Affine ? a.Gradient(1) : default)
        fixed (double* st = stats)
        {
            var job = new Job<T> { Channels = Channels, Rows = a.Rows, S = s, X = x, Y = dy, Dx = dx, W = w, Gw = gw, Gb = gb, Stats = st, Training = stats[2 * Channels] == 1 };
            WorkerPool.RunRanges(Channels, (long)n * Channels, a.Threads, &BackwardChannels<T>, &job);
        }
    }

    /// <summary>One pass's operands as pointers, for the parts that run its channels (Y is dy in backward; Dx null when the
    /// input gradient is not wanted; W, B, Gw, Gb null without the affine map).</summary>
    private unsafe struct Job<T> where T : unmanaged
    {
        public int Channels, Rows, S;
        public double Eps, Momentum;
        public T* X, Y, Dx, W, B, Rm, Rv, Gw, Gb;
        public double* Stats;
        public bool Training;
        // A pooled forward pass: Y is the pool's output, Argmax its argmaxes, Pool one channel plane's window.
        public bool Pooled;
        public int* Argmax;
        public Window2d Pool;
    }

    /// <summary>Channels [c0, c1) of the forward pass: statistics (batch, and the running ones moved; or the running ones), then
    /// y = ((x − mean)·r)·w + b.</summary>
    private static unsafe void ForwardChannels<T>(void* state, int c0, int c1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var j = ref System.Runtime.CompilerServices.Unsafe.AsRef<Job<T>>(state);
        int s = j.S, n = j.Rows * s, stride = j.Channels * s, total = j.Rows * stride;
        var X = new ReadOnlySpan<T>(j.X, total); var Y = j.Pooled ? default : new Span<T>(j.Y, total);
        Span<Lanes8> sums4 = stackalloc Lanes8[4], squares4 = stackalloc Lanes8[4];
        Span<double> means4 = stackalloc double[4], sq4 = stackalloc double[4];
        int quadEnd = c0;
        for (int c = c0; c < c1; c++)
        {
            double mean, r;
            if (j.Training)
            {
                double sq;
                if (c >= quadEnd && c + 4 <= c1)
                {
                    // Channels c..c+3's statistics together (LaneSums.Add4: the same additions, four channels' chains interleaved).
                    sums4.Clear(); squares4.Clear();
                    for (int row = 0; row < j.Rows; row++) LaneSums.Add4(sums4, X.Slice(row * stride + c * s, 4 * s), s);
                    for (int k = 0; k < 4; k++) means4[k] = sums4[k].Total() / n;
                    for (int row = 0; row < j.Rows; row++) LaneSums.AddSquaredDeviations4(squares4, X.Slice(row * stride + c * s, 4 * s), s, means4);
                    for (int k = 0; k < 4; k++) sq4[k] = squares4[k].Total();
                    quadEnd = c + 4;
                }
                if (c < quadEnd) { mean = means4[c - (quadEnd - 4)]; sq = sq4[c - (quadEnd - 4)]; }
                else
                {
                    Lanes8 sums = default, squares = default;
                    for (int row = 0; row < j.Rows; row++) LaneSums.Add(ref sums, X.Slice(row * stride + c * s, s));
                    mean = sums.Total() / n;
                    for (int row = 0; row < j.Rows; row++) LaneSums.AddSquaredDeviations(ref squares, X.Slice(row * stride + c * s, s), mean);
                    sq = squares.Total();
                }
                double biased = sq / n;
                r = 1 / Math.Sqrt(biased + j.Eps);
                j.Rm[c] = T.CreateChecked((1 - j.Momentum) * double.CreateChecked(j.Rm[c]) + j.Momentum * mean);
                j.Rv[c] = T.CreateChecked((1 - j.Momentum) * double.CreateChecked(j.Rv[c]) + j.Momentum * (sq / (n - 1)));
            }
            else
            {
                mean = double.CreateChecked(j.Rm[c]);
                r = 1 / Math.Sqrt(double.CreateChecked(j.Rv[c]) + j.Eps);
            }
            j.Stats[2 * c] = mean; j.Stats[2 * c + 1] = r;
            if (j.Pooled) continue; // y comes later, example by example (PooledRows)
            double wc = j.W != null ? double.CreateChecked(j.W[c]) : 1, bc = j.B != null ? double.CreateChecked(j.B[c]) : 0;
            for (int row = 0; row < j.Rows; row++)
                NormalizeKernels.Affine(X.Slice(row * stride + c * s, s), Y.Slice(row * stride + c * s, s), mean, r, wc, bc);
        }
    }

    /// <summary>Examples [n0, n1) of a pooled forward pass (<see cref="Job{T}.Pooled"/>), after the statistics: each channel plane
    /// of y into this thread's buffer (the same Affine, so the same bits), then ReLU and the pool from there. By examples, as
    /// the pool itself runs: the layer after it reads each example's output where the same thread wrote it (cut by channels,
    /// the README CNN's steps were 7 % slower on two threads, the next convolution reading half of each example from the
    /// other core).</summary>
    private static unsafe void PooledRows<T>(void* state, int n0, int n1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var j = ref System.Runtime.CompilerServices.Unsafe.AsRef<Job<T>>(state);
        int s = j.S, stride = j.Channels * s, p = j.Pool.P;
        var plane = PlaneBuffer<T>.Get(s);
        for (int row = n0; row < n1; row++)
            for (int c = 0; c < j.Channels; c++)
            {
                double wc = j.W != null ? double.CreateChecked(j.W[c]) : 1, bc = j.B != null ? double.CreateChecked(j.B[c]) : 0;
                NormalizeKernels.Affine(new ReadOnlySpan<T>(j.X + (long)row * stride + c * s, s), plane, j.Stats[2 * c], j.Stats[2 * c + 1], wc, bc);
                long o = ((long)row * j.Channels + c) * p;
                var argmax = new Span<int>(j.Argmax + o, p);
                // The plane's argmaxes as indices within the example (channel c's plane starts at c·s).
                Conv.MaxPool<T>(plane, new Span<T>(j.Y + o, p), argmax, 1, j.Pool, relu: true, indexBase: c * s);
            }
    }

    /// <summary>Each thread's buffer for one channel plane of y, grown on demand and kept (no allocation in a warm fold).</summary>
    private static class PlaneBuffer<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? buffer;

        public static Span<T> Get(int length)
        {
            if (buffer is null || buffer.Length < length) buffer = new T[length];
            return buffer.AsSpan(0, length);
        }
    }

    /// <summary>Channels [c0, c1) of the backward pass: the sums Σ dy and Σ dy·x̂ (the affine gradients), then dx.</summary>
    private static unsafe void BackwardChannels<T>(void* state, int c0, int c1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var j = ref System.Runtime.CompilerServices.Unsafe.AsRef<Job<T>>(state);
        int s = j.S, n = j.Rows * s, stride = j.Channels * s, total = j.Rows * stride;
        var X = new ReadOnlySpan<T>(j.X, total); var DY = new ReadOnlySpan<T>(j.Y, total);
        var DX = j.Dx != null ? new Span<T>(j.Dx, total) : default;
        Span<Lanes8> dy2 = stackalloc Lanes8[2], dyh2 = stackalloc Lanes8[2];
        Span<double> mean2 = stackalloc double[2], r2 = stackalloc double[2], sdy2 = stackalloc double[2], sdyh2 = stackalloc double[2];
        int pairEnd = c0;
        for (int c = c0; c < c1; c++)
        {
            double mean = j.Stats[2 * c], r = j.Stats[2 * c + 1], sdy, sdyh;
            if (c >= pairEnd && c + 2 <= c1)
            {
                // Channels c and c + 1's sums together (LaneSums.AddGradientSums2: the same additions, two channels' chains interleaved).
                dy2.Clear(); dyh2.Clear();
                mean2[0] = mean; r2[0] = r; mean2[1] = j.Stats[2 * c + 2]; r2[1] = j.Stats[2 * c + 3];
                for (int row = 0; row < j.Rows; row++)
                    LaneSums.AddGradientSums2(dy2, dyh2, DY.Slice(row * stride + c * s, 2 * s), X.Slice(row * stride + c * s, 2 * s), s, mean2, r2);
                for (int k = 0; k < 2; k++) { sdy2[k] = dy2[k].Total(); sdyh2[k] = dyh2[k].Total(); }
                pairEnd = c + 2;
            }
            if (c < pairEnd) { sdy = sdy2[c - (pairEnd - 2)]; sdyh = sdyh2[c - (pairEnd - 2)]; }
            else
            {
                Lanes8 dySums = default, dyhSums = default;
                for (int row = 0; row < j.Rows; row++)
                    LaneSums.AddGradientSums(ref dySums, ref dyhSums, DY.Slice(row * stride + c * s, s), X.Slice(row * stride + c * s, s), mean, r);
                sdy = dySums.Total(); sdyh = dyhSums.Total();
            }
            if (j.Gw != null) { j.Gw[c] = T.CreateChecked(sdyh); j.Gb[c] = T.CreateChecked(sdy); }
            if (j.Dx == null) continue;
            double wc = j.W != null ? double.CreateChecked(j.W[c]) : 1, mdy = sdy / n, mdyh = sdyh / n;
            for (int row = 0; row < j.Rows; row++)
            {
                var x = X.Slice(row * stride + c * s, s); var dy = DY.Slice(row * stride + c * s, s); var dx = DX.Slice(row * stride + c * s, s);
                if (j.Training) NormalizeKernels.BatchDx(dy, x, dx, mean, r, wc * r, mdy, mdyh);
                else NormalizeKernels.ScaleDy(dy, dx, wc * r);
            }
        }
    }
}
