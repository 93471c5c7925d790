using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Training;

/// <summary>The fold of <see cref="Trainer.Step{T}"/> over epochs, run in workspaces created once per fit: no allocation per
/// step, and the same bits as the pure composition.</summary>
/// <remarks>
/// <para><b>Why it gives the same bits.</b> It runs the very code the pure step runs — each layer's
/// <see cref="LayerSpec.Forward{T}"/> and <see cref="LayerSpec.Backward{T}"/>, the loss's
/// <see cref="LossSpec.ValueAndGrad{T}(in LossArgs{T})"/>, the optimizer's <see cref="TransformWorkspace{T}.Update"/> — on the
/// same operands in the same order; only the destinations differ: buffers owned by the fold instead of fresh arrays. It knows
/// no layer, loss or transform by kind, so a user's own run here as the built-ins do. Where the optimizer offers a one-pass
/// form that also applies the update (<see cref="GradientTransform.OpenApplying{T}"/>: Adam and AdamW), the fold takes it;
/// that form's contract is the bits of the separate steps. Where adjacent layers offer one pass with their bits
/// (<see cref="LayerSpec.FusedAfter"/>: a ReLU before a max pool, and a batch norm before those), the fold runs that pass in
/// their place and never writes their intermediate tensors or gradients (<see cref="Runs"/>): different code, whose bits are
/// the layers' by the argument in its remarks and by property tests against the layers (FusedReluMaxPoolTests).</para>
/// <para><b>Why it is pure from outside.</b> The starting state's arrays are copied in, never written; the result is new
/// immutable parameters and optimizer state: copies of the workspaces while the fold goes on (<see cref="State"/>), the
/// workspaces themselves when it is done (<see cref="Release"/>).</para>
/// <para>It checks what the pure step checks, with the same messages: the parameters against the model and the optimizer
/// state against the optimizer (when it is made), the targets of each batch (the loss's own checks, every step).
/// <see cref="Trainer"/> checks the inputs of the whole data set before it starts, naming a bad row by its place in the data.</para>
/// </remarks>
internal sealed class Fold<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ModelSpec spec;
    private readonly ImmutableArray<string> names;
    private readonly ImmutableArray<int>[] leafShapes;
    private readonly T[][] p, g, layerState;
    // Activations, their gradients and the layers' scratch start on cache lines (AlignedBuffer: a threaded product's column
    // blocks then share no line between threads).
    private readonly AlignedBuffer<T>[] acts, dActs;
    private readonly ImmutableArray<string> stateNames;
    private readonly ImmutableArray<int>[] stateShapes;
    private readonly AlignedBuffer<byte>[] scratch;
    private readonly T[] targets;
    private readonly Shape targetShape;
    private readonly double[] lossScratch;
    private readonly int threads, firstWithParameters;
    private readonly TransformWorkspace<T> optimizer;
    // What runs at each layer: the layer itself, a fused run's one layer at the run's last (LayerSpec.FusedAfter, reading the
    // run's first layer's input, from[i]), or null at the run's other layers, which do not run.
    private readonly LayerSpec?[] runs;
    private readonly int[] from;
    private bool released;

    /// <summary>How many activation or gradient buffers a layer shares with the one before it (views, backward in place).</summary>
    internal int SharedBuffers { get; }

    /// <summary>When set (length <see cref="PhaseCount"/>), each step adds the Stopwatch ticks of its phases: [0] the batch,
    /// [1 + i] layer i's forward pass, [n + 1] the loss, [n + 2 + i] layer i's backward pass, [2n + 2] the optimizer's update
    /// and its application. For Pure.Bench's report, which compares the kernels inside the step with the step.</summary>
    internal long[]? PhaseTicks { get; set; }

    /// <summary>The length <see cref="PhaseTicks"/> needs: 2·layers + 3.</summary>
    internal int PhaseCount => 2 * spec.Layers.Length + 3;

    private static void Lap(long[]? ticks, int phase, ref long t0)
    {
        if (ticks is null) return;
        long t = System.Diagnostics.Stopwatch.GetTimestamp();
        ticks[phase] += t - t0;
        t0 = t;
    }

    /// <summary>The distinct buffers the layers' gradients dL/dx live in (two: they ping-pong).</summary>
    internal int GradientBuffers => dActs.Distinct().Count();

    /// <summary>What the fold runs at each layer of <paramref name="spec"/>: the layer; or, for a run of layers that fuse
    /// (<see cref="LayerSpec.FusedAfter"/>: each later one with the run before it), null at all but the last and the fused layer
    /// at the last, which takes the run's first layer's input and the run's parameters and state. A run with parameters or
    /// state is fused only above the first layer with parameters (its backward pass is then always asked for dx).</summary>
    internal static LayerSpec?[] Runs(ModelSpec spec)
    {
        int n = spec.Layers.Length, firstWithParameters = Model.FirstWithParameters(spec);
        var runs = new LayerSpec?[n];
        for (int i = 0; i < n; i++)
        {
            runs[i] = spec.Layers[i];
            int from = i;
            while (from > 0 && runs[i]!.FusedAfter(runs[from - 1]!) is { } fused)
            {
                int start = From(runs, from - 1);
                bool carries = spec.ParameterOffsets[i + 1] != spec.ParameterOffsets[start] || spec.StateOffsets[i + 1] != spec.StateOffsets[start];
                if (carries && start <= firstWithParameters) break;
                for (int l = start; l < i; l++) runs[l] = null;
                runs[i] = fused;
                from = start;
            }
        }
        return runs;
    }

    /// <summary>The layer whose input layer i's run reads: i, or the first layer of a fused run.</summary>
    internal static int From(LayerSpec?[] runs, int i)
    {
        while (i > 0 && runs[i - 1] is null) i--;
        return i;
    }

    private Fold(ModelSpec spec, ParamTree<T> parameters, ParamTree<T> state, TransformWorkspace<T> optimizer, Shape targetShape, int maxRows, int threads)
    {
        stateNames = state.Names;
        stateShapes = [.. state.Leaves.Select(l => l.Shape)];
        layerState = [.. state.Leaves.Select(l => l.ToArray())];
        this.spec = spec; this.optimizer = optimizer; this.threads = threads; this.targetShape = targetShape;
        int n = spec.Layers.Length;
        names = parameters.Names;
        leafShapes = [.. parameters.Leaves.Select(l => l.Shape)];
        p = [.. parameters.Leaves.Select(l => l.ToArray())];
        g = [.. parameters.Leaves.Select(l => new T[l.Length])];
        acts = new AlignedBuffer<T>[n + 1]; dActs = new AlignedBuffer<T>[n + 1]; scratch = new AlignedBuffer<byte>[n];
        // Buffers shared where a layer allows it: a view (flatten) reads and writes one buffer forward (acts[i + 1] is acts[i],
        // so nothing is copied; not for the first layer, whose input may be the data set's own rows) and backward; a layer
        // whose backward runs in place (the element-wise activations) writes dx over dy (dActs[i] is dActs[i + 1]), so its
        // backward touches one buffer fewer and the model one buffer fewer. Measured in a warm fold on 2 threads (Zen 4), old
        // and new alternated in one process, median examples/s: the CNN 3,132 -> 3,206 and 3,158 -> 3,298 (its first ReLU's
        // backward 400 -> 208 us, the first batch norm's backward after it 1,289 -> 1,188, flatten 47 + 49 -> 0.6 + 0.6),
        // b 333,903 -> 341,383, c 164,109 -> 167,244, d 19,023 -> 19,280 (each ReLU's backward 53 -> 33 us); b on the AVX2
        // path 328,982 -> 326,959 (its ReLU's backward 4.8 -> 1.2 us, the product that wrote dy before it 5.1 -> 6.9). Not
        // taken: running activations in place forward (the CNN's ReLU forwards went 213 -> 335 and 148 -> 295 us: their input
        // was written on the other core, by channels), and dropout's backward in place (69 -> 109 us).
        runs = Runs(spec);
        from = [.. Enumerable.Range(0, n).Select(i => From(runs, i))];
        // A fused run's middles (its inner layers' outputs, and their gradients) are never written: they get no memory.
        var middle = new bool[n + 1];
        for (int i = 0; i < n; i++) middle[i + 1] = runs[i] is null;
        var view = new bool[n];
        for (int i = 0; i < n; i++) view[i] = i > 0 && runs[i] is { IsView: true } && spec.Widths[i] == spec.Widths[i + 1];
        for (int i = 0; i <= n; i++) acts[i] = middle[i] ? new(0) : i > 0 && view[i - 1] ? acts[i - 1] : new(maxRows * spec.Widths[i]);
        // The gradients dL/dx of the layers ping-pong between two buffers: layer i's backward reads dActs[i + 1] and writes
        // dActs[i], and dActs[i + 2] is dead by then (every backward writes all of its dx, LayerSpec.Backward's contract), so
        // dActs[i] may be dActs[i + 2]'s memory. The buffer a backward writes is then the one its successor just read, still in
        // cache, where a buffer per layer came from memory. The CNN at batch 64 had 23.1 MB of them, now two buffers of 6.4 MB.
        var side = new int[n + 1];
        var shares = new bool[n + 1];
        for (int i = n - 1; i >= 0; i--)
        {
            // A fused run's layer reads dActs[i + 1] and writes dActs[from]: the other buffer; its middles are unused.
            if (runs[i] is null) continue;
            int f = from[i];
            shares[i] = f == i && (view[i] || runs[i]!.BackwardInPlace) && spec.Widths[i] == spec.Widths[i + 1];
            side[f] = shares[i] ? side[i + 1] : 1 - side[i + 1];
            for (int m = f + 1; m <= i; m++) side[m] = side[i + 1];
        }
        var pingPong = new AlignedBuffer<T>[2];
        for (int b = 0; b < 2; b++)
        {
            long most = 0;
            for (int i = 0; i <= n; i++) if (side[i] == b && !middle[i]) most = Math.Max(most, (long)maxRows * spec.Widths[i]);
            pingPong[b] = new(checked((int)most));
        }
        for (int i = 0; i <= n; i++) dActs[i] = pingPong[side[i]];
        for (int i = 0; i < n; i++)
            if (!middle[i] && !middle[i + 1])
                SharedBuffers += (ReferenceEquals(acts[i], acts[i + 1]) ? 1 : 0) + (ReferenceEquals(dActs[i], dActs[i + 1]) ? 1 : 0);
        for (int i = 0; i < n; i++) scratch[i] = new(runs[i]?.ScratchBytes<T>(spec.Shapes[from[i]], maxRows) ?? 0);
        targets = new T[maxRows * targetShape.Size];
        lossScratch = new double[spec.Loss.ScratchDoubles(spec.OutputShape)];
        firstWithParameters = Model.FirstWithParameters(spec);
    }

    /// <summary>A fold for this model, optimizer, state and data.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The parameters do not fit the model, or the optimizer state does not fit the optimizer
    /// (the messages of <see cref="Model.RequireParameters{T}"/> and of the transform's Open).</exception>
    public static Fold<T> Create(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, DataSet<T> data, int batchSize, Parallelism? parallelism)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(optimizer); ArgumentNullException.ThrowIfNull(state); ArgumentNullException.ThrowIfNull(data);
        Model.RequireParameters(spec, state.Params, nameof(state));
        Model.RequireState(spec, state.LayerState, nameof(state));
        var work = optimizer.OpenApplying(state.OptState, state.Params) ?? optimizer.Open(state.OptState, state.Params)
            ?? throw new InvalidOperationException($"{optimizer.GetType().Name}.Open returned null");
        return new Fold<T>(spec, state.Params, state.LayerState, work, Shape.OfExamples(data.Y.Shape), Math.Min(batchSize, data.Rows), Parallelism.Resolve(parallelism));
    }

    /// <summary>One epoch: the same batches as <see cref="Trainer.Batches{T}"/>, each one <see cref="Step"/>, from batch
    /// <paramref name="skip"/> on. Returns the state (the counters advanced, Epoch + 1 only when the epoch was finished;
    /// parameters and optimizer state still in the workspaces), the losses of the batches it ran, the cursor (batches of
    /// the epoch done; 0 once it is finished) and whether afterStep stopped it. <paramref name="afterStep"/> sees each step and may stop the epoch after it.</summary>
    public (TrainState<T> State, EpochHistory History, int Cursor, bool Stopped) RunEpoch(TrainState<T> state, DataSet<T> data, TrainConfig config,
        int skip = 0, Func<StepReport, bool>? afterStep = null)
    {
        // The epoch's order (Trainer.Batches'); without shuffling it is the identity, which needs no array.
        var order = config.Shuffle ? Batching.Shuffle(data.Rows, state.Key.FoldIn(Trainer.ShuffleStream), state.Epoch) : default;
        int iterations = Batching.IterationsPerEpoch(data.Rows, config.BatchSize, config.DropLast);
        var losses = ImmutableArray.CreateBuilder<double>(iterations - skip);
        double weighted = 0; int seen = 0, cursor = skip;
        long step = state.Step;
        bool stopped = false;
        while (cursor < iterations && !stopped)
        {
            int offset = cursor * config.BatchSize, count = Math.Min(config.BatchSize, data.Rows - offset);
            var rows = config.Shuffle ? order.AsSpan(offset, count) : default;
            double l = double.CreateChecked(Step(data, rows, offset, count, state.Key, step));
            KernelWarmup.FirstStepDone(); // the warm-up's other kernels waited for a first step (a flag read after that)
            losses.Add(l); weighted += l * count; seen += count;
            step++; cursor++;
            stopped = afterStep is not null && !afterStep(new StepReport(state.Epoch, cursor, iterations, step, count, l, double.IsFinite(l) && ParametersFinite()));
        }
        var history = new EpochHistory(state.Epoch, losses.DrainToImmutable(), weighted / seen);
        return cursor == iterations ? (state with { Step = step, Epoch = state.Epoch + 1 }, history, 0, stopped) : (state with { Step = step }, history, cursor, stopped);
    }

    private bool ParametersFinite()
    {
        foreach (var leaf in p) if (!Elementwise.AllFinite<T>(leaf)) return false;
        return true;
    }

    /// <summary>The state the workspaces hold now, as new immutable arrays, with <paramref name="counters"/>' step, epoch and key;
    /// the fold may go on.</summary>
    public TrainState<T> State(TrainState<T> counters)
    {
        ObjectDisposedException.ThrowIf(released, this);
        return Capture(counters, optimizer.State(), a => (T[])a.Clone());
    }

    /// <summary>The state the workspaces hold now, for a driver that is done with this fold: the workspaces' own arrays become
    /// the new state's immutable arrays (no copy: for a large model the copy was most of a short fit's one-time cost and peak
    /// memory), and the optimizer workspace hands its buffers over too (<see cref="TransformWorkspace{T}.Release"/>). The fold
    /// refuses to step afterwards.</summary>
    public TrainState<T> Release(TrainState<T> counters)
    {
        ObjectDisposedException.ThrowIf(released, this);
        released = true;
        return Capture(counters, optimizer.Release(), a => a);
    }

    private TrainState<T> Capture(TrainState<T> counters, OptState optState, Func<T[], T[]> take) => counters with
    {
        Params = new ParamTree<T>(names, [.. p.Select((a, j) => NdArray.Own(take(a), leafShapes[j]))]),
        OptState = optState,
        LayerState = new ParamTree<T>(stateNames, [.. layerState.Select((a, j) => NdArray.Own(take(a), stateShapes[j]))]),
    };

    /// <summary>The run key whose dropout stream (<c>runKey.FoldIn(Trainer.DropoutStream)</c>) is cached in
    /// <see cref="dropoutStream"/>: the same for every step of a run.</summary>
    private RandomKey? dropoutRun;
    private RandomKey dropoutStream;

    /// <summary>One training step on rows <paramref name="rows"/> of <paramref name="data"/> (or, when that is empty, the
    /// <paramref name="m"/> rows from <paramref name="first"/>): forward, loss, backward, update, apply, all in place.
    /// Returns the batch's loss.</summary>
    internal T Step(DataSet<T> data, ReadOnlySpan<int> rows, int first, int m, RandomKey runKey, long step)
    {
        ObjectDisposedException.ThrowIf(released, this);
        int n = spec.Layers.Length;
        // The batch: the rows of X and of the targets (DataSet.Gather's rows). Rows in stored order are already one block of
        // each, which the layers and the loss only read: they read them where they are (copying config b's block of X cost
        // 21-25 µs a step on 2 threads; step-rate b, 2 processes of 16 alternated windows: best 291,213 -> 300,643 and
        // 289,625 -> 298,754 examples/s, c 153,591 -> 155,231, d 18,412 -> 18,448). Shuffled rows are gathered into the
        // workspace, X's on all threads.
        var ticks = PhaseTicks;
        long t0 = ticks is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        int w0 = spec.Widths[0], tw = targetShape.Size;
        var xs = data.X.Span; var ys = data.Y.Span;
        ReadOnlySpan<T> input = rows.IsEmpty ? xs.Slice(first * w0, m * w0) : Rows.Gather<T>(xs, data.Rows, w0, rows, acts[0].Span, threads);
        ReadOnlySpan<T> batchTargets = rows.IsEmpty ? ys.Slice(first * tw, m * tw) : Rows.Gather<T>(ys, data.Rows, tw, rows, targets, threads: 1);
        if (runKey != dropoutRun) { dropoutRun = runKey; dropoutStream = runKey.FoldIn(Trainer.DropoutStream); }
        Lap(ticks, 0, ref t0);
        for (int i = 0; i < n; i++)
        {
            if (runs[i] is { } layer)
            {
                int f = from[i], first0 = spec.ParameterOffsets[f], count = spec.ParameterOffsets[i + 1] - first0;
                int s0 = spec.StateOffsets[f], sn = spec.StateOffsets[i + 1] - s0;
                layer.Forward(new ForwardArgs<T>(m, spec.Shapes[f], spec.Shapes[i + 1], f == 0 ? input : acts[f].Slice(0, m * spec.Widths[f]), acts[i + 1].Slice(0, m * spec.Widths[i + 1]),
                    p.AsSpan(first0, count), scratch[i].Span, LayerKey.Derived(dropoutStream, (uint)step, (uint)i), threads, layerState.AsSpan(s0, sn)));
            }
            Lap(ticks, 1 + i, ref t0);
        }

        T loss = spec.Loss.ValueAndGrad(new LossArgs<T>(m, spec.OutputShape, acts[n].Slice(0, m * spec.Widths[n]), targetShape, batchTargets,
            dActs[n].Slice(0, m * spec.Widths[n]), lossScratch));
        Lap(ticks, n + 1, ref t0);

        for (int i = n - 1; i >= firstWithParameters; i--)
        {
            // (A fused run lies wholly above or below the first layer with parameters: one with parameters or state starts above
            // it, Runs, and one without cannot hold it.)
            if (runs[i] is { } layer)
            {
                int f = from[i], first0 = spec.ParameterOffsets[f], count = spec.ParameterOffsets[i + 1] - first0;
                layer.Backward(new BackwardArgs<T>(m, spec.Shapes[f], spec.Shapes[i + 1], f == 0 ? input : acts[f].Slice(0, m * spec.Widths[f]), acts[i + 1].Slice(0, m * spec.Widths[i + 1]),
                    dActs[i + 1].Slice(0, m * spec.Widths[i + 1]), dActs[f].Slice(0, m * spec.Widths[f]), f > firstWithParameters,
                    p.AsSpan(first0, count), g.AsSpan(first0, count), scratch[i].Span, LayerKey.Derived(dropoutStream, (uint)step, (uint)i), threads));
            }
            Lap(ticks, n + 2 + i, ref t0);
        }

        if (optimizer.AppliesUpdates) optimizer.Update(new UpdateArgs<T>(names, g, p, writableParameters: true, threads));
        else
        {
            optimizer.Update(new UpdateArgs<T>(names, g, p, writableParameters: false, threads));
            for (int j = 0; j < p.Length; j++) Elementwise.Add<T>(p[j], g[j], p[j]);
        }
        Lap(ticks, 2 * n + 2, ref t0);
        return loss;
    }
}
