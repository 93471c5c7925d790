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
/// <para><b>Why it gives the same bits.</b> Every number is computed by the same kernel, on the same operands, in the same
/// order as in the pure step: the dense products and bias (<see cref="MatMul"/>), the activations (<see cref="Elementwise"/>),
/// the loss (softmax cross-entropy through the function the loss itself uses, <see cref="SoftmaxCrossEntropy.ValueAndGrad{T}"/>,
/// on the workspaces; other losses through <see cref="LossSpec.ValueAndGrad{T}"/> on copies), and the optimizer transforms (the
/// <see cref="OptimizerKernels"/> formulas, in place). The only differences are where results are written: into buffers owned
/// by the fold instead of fresh arrays. Adam and AdamW run their whole update per element in one pass
/// (<see cref="OptimizerKernels.AdamStep{T}"/>), whose per-element expression is the composition of the separate transforms.</para>
/// <para><b>Why it is pure from outside.</b> The starting state's arrays are copied in, never written; the result is new
/// immutable parameters and optimizer state (the workspaces are handed over once the fold is done and never touched again).</para>
/// <para>Anything it does not know (another layer kind, a nested chain, an optimizer state that does not match, data that
/// the step would reject) makes <see cref="TryCreate"/> return null, and <see cref="Trainer"/> runs the pure composition,
/// which then also produces the same exceptions.</para>
/// </remarks>
internal sealed class Fold<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private enum Kind { Dense, Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Identity, Dropout }

    private readonly ModelSpec spec;
    private readonly Kind[] kinds;
    private readonly int[] widths, leafOf;
    private readonly T[] slopes;
    private readonly double[] rates;
    private readonly ImmutableArray<string> names;
    private readonly ImmutableArray<int>[] shapes;
    private readonly T[][] p, g, acts, dActs;
    private readonly bool[]?[] masks;
    private readonly T[] targets;
    private readonly int targetWidth;
    private readonly int[]? labels;
    private readonly double[] scratch;
    private readonly int threads, firstWithParameters;
    private readonly Transform[] transforms;
    private readonly bool chained;
    private readonly AdamFusion? fused;

    private Fold(ModelSpec spec, ParamTree<T> parameters, Transform[] transforms, bool chained, int maxRows, int targetWidth, int threads)
    {
        this.spec = spec; this.transforms = transforms; this.chained = chained; this.threads = threads; this.targetWidth = targetWidth;
        int n = spec.Layers.Length;
        kinds = new Kind[n]; leafOf = new int[n]; slopes = new T[n]; rates = new double[n]; masks = new bool[n][];
        widths = [.. spec.Widths];
        names = parameters.Names;
        shapes = [.. parameters.Leaves.Select(l => l.Shape)];
        p = [.. parameters.Leaves.Select(l => l.ToArray())];
        g = [.. parameters.Leaves.Select(l => new T[l.Length])];
        acts = new T[n + 1][]; dActs = new T[n + 1][];
        acts[0] = new T[maxRows * widths[0]];
        dActs[0] = new T[maxRows * widths[0]];
        int leaf = 0;
        firstWithParameters = n;
        for (int i = 0; i < n; i++)
        {
            var l = spec.Layers[i];
            leafOf[i] = leaf;
            if (l.ParameterNames.Length > 0 && firstWithParameters == n) firstWithParameters = i;
            leaf += l.ParameterNames.Length;
            kinds[i] = KindOf(l);
            if (l is LeakyReluSpec lr) slopes[i] = T.CreateChecked(lr.Slope);
            if (l is DropoutSpec d) { rates[i] = d.Rate; if (d.Rate != 0) masks[i] = new bool[maxRows * widths[i]]; }
            acts[i + 1] = PassesThrough(i) ? acts[i] : new T[maxRows * widths[i + 1]];
        }
        // Gradients flow backward: an identity (or rate-0 dropout) passes the same buffer down.
        dActs[n] = new T[maxRows * widths[n]];
        for (int i = n - 1; i >= 1; i--) dActs[i] = PassesThrough(i) ? dActs[i + 1] : new T[maxRows * widths[i]];
        targets = new T[maxRows * targetWidth];
        labels = spec.Loss is SoftmaxCrossEntropySpec ? new int[maxRows] : null;
        scratch = new double[widths[n]];
        fused = AdamFusion.Match(transforms);
    }

    /// <summary>Identity, and dropout at rate 0, return their input: they share its buffer (and the gradient's).</summary>
    private bool PassesThrough(int i) => kinds[i] == Kind.Identity || (kinds[i] == Kind.Dropout && rates[i] == 0);

    private static Kind KindOf(LayerSpec l) => l switch
    {
        DenseSpec => Kind.Dense,
        ReluSpec => Kind.Relu,
        LeakyReluSpec => Kind.LeakyRelu,
        SigmoidSpec => Kind.Sigmoid,
        TanhSpec => Kind.Tanh,
        GeluSpec => Kind.Gelu,
        IdentitySpec => Kind.Identity,
        DropoutSpec => Kind.Dropout,
        _ => throw new NotSupportedException(l.Kind), // unreachable: the layer hierarchy is closed (private protected constructors)
    };

    /// <summary>A fold for this model, optimizer, state and data, or null when any of them is outside what the fold knows
    /// (then the pure composition runs, with its own checks and exceptions).</summary>
    public static Fold<T>? TryCreate(ModelSpec spec, GradientTransform optimizer, TrainState<T> state, DataSet<T> data, int batchSize, Parallelism? parallelism)
    {
        if (spec is null || optimizer is null || state is null || data is null) return null;
        try { Model.RequireParameters(spec, state.Params, nameof(state)); }
        catch (ArgumentException) { return null; }
        // The data must be what every step would accept: the right width, finite inputs, valid targets.
        if (data.X.Rank != 2 || data.X.Shape[1] != spec.InputWidth || Elementwise.FirstNonFinite(data.X.Span) >= 0) return null;
        int targetWidth = data.Y.Cols;
        if (spec.Loss is SoftmaxCrossEntropySpec)
        {
            int k = spec.OutputWidth;
            bool labels = (data.Y.Rank == 1) || (data.Y.Rank == 2 && data.Y.Shape[1] == 1);
            if (!labels) return null;
            foreach (var v in data.Y.Span)
                if (!T.IsFinite(v) || !T.IsInteger(v) || v < T.Zero || v >= T.CreateChecked(k)) return null;
        }
        var list = optimizer is ChainTransform c ? c.Transforms : [optimizer];
        var states = optimizer is ChainTransform ? (state.OptState as ChainState)?.States : [state.OptState];
        if (states is null || states.Value.Length != list.Length) return null;
        var transforms = new Transform[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            var t = Transform.TryCreate(list[i], states.Value[i], state.Params);
            if (t is null) return null;
            transforms[i] = t;
        }
        int maxRows = Math.Min(batchSize, data.Rows);
        return new Fold<T>(spec, state.Params, transforms, optimizer is ChainTransform, maxRows, targetWidth, Parallelism.Resolve(parallelism));
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

    /// <summary>The state the workspaces hold now, as new immutable arrays; the fold goes on.</summary>
    /// <remarks><see cref="Finish"/> wraps the workspaces without copying; a snapshot copies what it wrapped.</remarks>
    public TrainState<T> Snapshot(TrainState<T> counters)
    {
        var wrapped = Finish(counters);
        return wrapped with { Params = Detach(wrapped.Params), OptState = Detach(wrapped.OptState) };
    }

    private static ParamTree<T> Detach(ParamTree<T> tree) => new(tree.Names, [.. tree.Leaves.Select(l => NdArray.Own(l.ToArray(), l.Shape))]);

    private static OptState Detach(OptState s) => s switch
    {
        ChainState c => new ChainState([.. c.States.Select(Detach)]),
        AdamState<T> a => new AdamState<T>(a.Count, Detach(a.Mu), Detach(a.Nu), a.NuMax is null ? null : Detach(a.NuMax)),
        MomentumState<T> m => new MomentumState<T>(Detach(m.Velocity)),
        RmsState<T> r => new RmsState<T>(Detach(r.Nu), r.GradAvg is null ? null : Detach(r.GradAvg)),
        _ => s, // Empty and Count states hold no arrays
    };

    /// <summary>Hands the workspaces over as the state's immutable parameters and optimizer state (wrapped, not copied): the fold
    /// must not step afterwards, unless the result is only read through <see cref="Snapshot"/>'s copies.</summary>
    public TrainState<T> Finish(TrainState<T> counters)
    {
        var parameters = Tree(p);
        OptState optState;
        if (chained) optState = new ChainState([.. transforms.Select(t => t.Finish(this))]);
        else optState = transforms[0].Finish(this);
        return counters with { Params = parameters, OptState = optState };
    }

    private ParamTree<T> Tree(T[][] leaves) => new(names, [.. leaves.Select((a, i) => NdArray.Own(a, shapes[i]))]);

    /// <summary>One training step on rows <paramref name="rows"/> of <paramref name="data"/> (or, when that is empty, the
    /// <paramref name="m"/> rows from <paramref name="first"/>): forward, loss, backward, update, apply, all in place.
    /// Returns the batch's loss.</summary>
    internal T Step(DataSet<T> data, ReadOnlySpan<int> rows, int first, int m, RandomKey runKey, long step)
    {
        int n = kinds.Length;
        // The batch: gathered rows of X and of the targets (DataSet.Gather's copy, into the workspace).
        int w0 = widths[0];
        var xs = data.X.Span; var ys = data.Y.Span;
        for (int i = 0; i < m; i++)
        {
            int row = rows.IsEmpty ? first + i : rows[i];
            xs.Slice(row * w0, w0).CopyTo(acts[0].AsSpan(i * w0, w0));
            ys.Slice(row * targetWidth, targetWidth).CopyTo(targets.AsSpan(i * targetWidth, targetWidth));
        }

        var dropoutKey = runKey.FoldIn(Trainer.DropoutStream).FoldIn((uint)step);
        for (int i = 0; i < n; i++) Forward(i, m, dropoutKey.FoldIn((uint)i));

        T loss = Loss(m, data);

        for (int i = n - 1; i >= firstWithParameters; i--) Backward(i, m, inputGradient: i > firstWithParameters);

        if (fused is { } f) f.Apply(this);
        else
        {
            foreach (var t in transforms) t.Update(this);
            for (int j = 0; j < p.Length; j++) Elementwise.Add<T>(p[j], g[j], p[j]);
        }
        return loss;
    }

    private void Forward(int i, int m, RandomKey key)
    {
        int win = widths[i], wout = widths[i + 1];
        ReadOnlySpan<T> x = acts[i].AsSpan(0, m * win);
        Span<T> y = acts[i + 1].AsSpan(0, m * wout);
        switch (kinds[i])
        {
            case Kind.Dense:
                MatMul.MultiplyTransposedBAddRow<T>(x, p[leafOf[i]], p[leafOf[i] + 1], y, m, win, wout, threads);
                break;
            case Kind.Relu: Elementwise.ReluOrBackward(x, default, y, backward: false, threads); break;
            case Kind.LeakyRelu: Elementwise.LeakyRelu(x, slopes[i], y); break;
            case Kind.Sigmoid: Elementwise.Sigmoid(x, y); break;
            case Kind.Tanh: Elementwise.Tanh(x, y); break;
            case Kind.Gelu: Elementwise.Gelu(x, y); break;
            case Kind.Identity: break; // y is x's buffer
            case Kind.Dropout:
                if (masks[i] is { } mask)
                {
                    var mk = mask.AsSpan(0, m * win);
                    Sampling.KeepMask(key, 1 - rates[i], mk);
                    Elementwise.MaskScale(x, mk, T.CreateChecked(1 / (1 - rates[i])), y);
                }
                break;
        }
    }

    private void Backward(int i, int m, bool inputGradient)
    {
        int win = widths[i], wout = widths[i + 1];
        ReadOnlySpan<T> x = acts[i].AsSpan(0, m * win), y = acts[i + 1].AsSpan(0, m * wout), dy = dActs[i + 1].AsSpan(0, m * wout);
        Span<T> dx = dActs[i].AsSpan(0, m * win);
        switch (kinds[i])
        {
            case Kind.Dense:
                int leaf = leafOf[i];
                MatMul.MultiplyTransposedA(dy, x, g[leaf], m, wout, win, threads);
                MatMul.ColumnSums(dy, g[leaf + 1], m, wout);
                if (inputGradient) MatMul.Multiply<T>(dy, p[leaf], dx, m, wout, win, threads);
                break;
            case Kind.Relu: Elementwise.ReluOrBackward(x, dy, dx, backward: true, threads); break;
            case Kind.LeakyRelu: Elementwise.LeakyReluBackward(x, dy, slopes[i], dx); break;
            case Kind.Sigmoid: Elementwise.SigmoidBackward(y, dy, dx); break;
            case Kind.Tanh: Elementwise.TanhBackward(y, dy, dx); break;
            case Kind.Gelu: Elementwise.GeluBackward(x, dy, dx); break;
            case Kind.Identity: break; // dx is dy's buffer
            case Kind.Dropout:
                if (masks[i] is { } mask) Elementwise.MaskScale(dy, mask.AsSpan(0, m * win), T.CreateChecked(1 / (1 - rates[i])), dx);
                break;
        }
    }

    /// <summary>The loss of the output in acts[n] and its gradient into dActs[n].</summary>
    private T Loss(int m, DataSet<T> data)
    {
        int n = kinds.Length, k = widths[n];
        var output = acts[n].AsSpan(0, m * k);
        var grad = dActs[n].AsSpan(0, m * k);
        if (labels is not null)
        {
            // Cross-entropy: the loss's own evaluation (SoftmaxCrossEntropy.ValueAndGrad), on the workspaces.
            var ce = (SoftmaxCrossEntropySpec)spec.Loss;
            var lab = labels.AsSpan(0, m);
            for (int i = 0; i < m; i++) lab[i] = int.CreateChecked(targets[i]); // labels are one column (TryCreate checked)
            var weights = ce.ClassWeights is { } w ? w.AsSpan() : default;
            if (!(SoftmaxCrossEntropy.WeightSum(lab, weights) > 0))
                throw new ArgumentException("the class weights of this batch's labels sum to 0, so the weighted mean is undefined", "target"); // as the loss says it
            return T.CreateChecked(SoftmaxCrossEntropy.ValueAndGrad<T>(output, lab, k, weights, ce.LabelSmoothing, grad, scratch));
        }
        // Other losses: their own function, on copies (it returns new arrays).
        var yShape = data.Y.Shape.SetItem(0, m);
        var (value, gradient) = spec.Loss.ValueAndGrad(NdArray.From<T>(output, m, k), NdArray.Own(targets.AsSpan(0, m * targetWidth).ToArray(), yShape));
        gradient.Span.CopyTo(grad);
        return value;
    }

    // ── Optimizer transforms, in place ─────────────────────────────────────────────────────────────

    /// <summary>One transform of the chain with its state in workspaces: Update transforms g (the updates) in place.</summary>
    private abstract class Transform
    {
        public abstract void Update(Fold<T> f);
        public abstract OptState Finish(Fold<T> f);

        public static Transform? TryCreate(GradientTransform t, OptState state, ParamTree<T> parameters)
        {
            switch (t)
            {
                case AddDecayedWeights d when state is EmptyState:
                    return new Decay(d.WeightDecay);
                case ScaleByLearningRate lr when state is CountState cs:
                    return new LearningRate(lr.LearningRate, cs.Count);
                case ClipByGlobalNorm clip when state is EmptyState:
                    return new Clip(clip.MaxNorm);
                case ScaleByAdam a when state is AdamState<T> s && s.Mu.SameStructure(parameters) && s.Nu.SameStructure(parameters)
                                        && (!a.AmsGrad || (s.NuMax is { } nm && nm.SameStructure(parameters))):
                    return new Adam(a, s);
                case TraceMomentum mo when state is MomentumState<T> s && s.Velocity.SameStructure(parameters):
                    return new Momentum(mo, s);
                case ScaleByRms r when state is RmsState<T> s && s.Nu.SameStructure(parameters) && (!r.Centered || (s.GradAvg is { } ga && ga.SameStructure(parameters))):
                    return new Rms(r, s);
                default:
                    return null;
            }
        }

        protected static T[][] Copy(ParamTree<T> tree) => [.. tree.Leaves.Select(l => l.ToArray())];
    }

    /// <summary>u ← p·λ + u (<see cref="AddDecayedWeights"/>); nothing when λ = 0.</summary>
    private sealed class Decay(double weightDecay) : Transform
    {
        public readonly double WeightDecay = weightDecay;
        public readonly T Lambda = T.CreateChecked(weightDecay);
        public override void Update(Fold<T> f)
        {
            if (WeightDecay == 0) return;
            for (int j = 0; j < f.p.Length; j++) Elementwise.ScaleAdd<T>(f.p[j], Lambda, f.g[j], f.g[j]);
        }
        public override OptState Finish(Fold<T> f) => EmptyState.Instance;
    }

    /// <summary>u ← −η(t)·u (<see cref="ScaleByLearningRate"/>), with its count.</summary>
    private sealed class LearningRate(Schedule schedule, long count) : Transform
    {
        public long Count = count;
        public T Factor() // the pure transform's checks and conversion, then the count moves on
        {
            double lr = schedule.At(Count);
            if (!double.IsFinite(lr) || lr < 0) throw new InvalidOperationException($"the schedule gave learning rate {lr} at step {Count}");
            Count++;
            return T.CreateChecked(-lr);
        }
        public override void Update(Fold<T> f)
        {
            var factor = Factor();
            for (int j = 0; j < f.g.Length; j++) Elementwise.Scale<T>(f.g[j], factor, f.g[j]);
        }
        public override OptState Finish(Fold<T> f) => new CountState(Count);
    }

    /// <summary>u ← u·min(1, c/‖u‖) (<see cref="ClipByGlobalNorm"/>).</summary>
    private sealed class Clip(double maxNorm) : Transform
    {
        public override void Update(Fold<T> f)
        {
            double s = 0;
            foreach (var l in f.g) s += Elementwise.SumOfSquares<T>(l);
            double norm = Math.Sqrt(s);
            if (!(norm > maxNorm)) return;
            var factor = T.CreateChecked(maxNorm / norm);
            for (int j = 0; j < f.g.Length; j++) Elementwise.Scale<T>(f.g[j], factor, f.g[j]);
        }
        public override OptState Finish(Fold<T> f) => EmptyState.Instance;
    }

    /// <summary><see cref="ScaleByAdam"/> with its moments in workspaces.</summary>
    private sealed class Adam : Transform
    {
        public readonly ScaleByAdam Spec;
        public long Count;
        public readonly T[][] Mu, Nu;
        public readonly T[][]? NuMax;
        public readonly T B1, B2, C1, C2, Eps;

        public Adam(ScaleByAdam spec, AdamState<T> s)
        {
            Spec = spec; Count = s.Count; Mu = Copy(s.Mu); Nu = Copy(s.Nu); NuMax = spec.AmsGrad ? Copy(s.NuMax!) : null;
            B1 = T.CreateChecked(spec.Beta1); B2 = T.CreateChecked(spec.Beta2); C1 = T.CreateChecked(1 - spec.Beta1); C2 = T.CreateChecked(1 - spec.Beta2); Eps = T.CreateChecked(spec.Eps);
        }

        /// <summary>The bias corrections of the next step, as the pure transform converts them; advances the count.</summary>
        public (T StepScale, T Bc2Sqrt) Next()
        {
            long t = ++Count;
            double bc1 = 1 - Math.Pow(Spec.Beta1, t), bc2Sqrt = Math.Sqrt(1 - Math.Pow(Spec.Beta2, t));
            return (T.CreateChecked(1 / bc1), T.CreateChecked(bc2Sqrt));
        }

        public override void Update(Fold<T> f)
        {
            var (stepScale, bc2) = Next();
            for (int j = 0; j < f.g.Length; j++)
            {
                OptimizerKernels.Moment<T>(Mu[j], B1, f.g[j], C1, Mu[j]);
                OptimizerKernels.SecondMoment<T>(Nu[j], B2, f.g[j], C2, Nu[j]);
                var vUse = Nu[j];
                if (NuMax is { } nm) { OptimizerKernels.Max<T>(nm[j], Nu[j], nm[j]); vUse = nm[j]; }
                OptimizerKernels.AdamDirection<T>(Mu[j], vUse, stepScale, bc2, Eps, f.g[j]);
            }
        }

        public override OptState Finish(Fold<T> f) => new AdamState<T>(Count, f.Tree(Mu), f.Tree(Nu), NuMax is null ? null : f.Tree(NuMax));
    }

    /// <summary><see cref="TraceMomentum"/> with its velocity in workspaces.</summary>
    private sealed class Momentum(TraceMomentum spec, MomentumState<T> s) : Transform
    {
        private readonly T[][] velocity = Copy(s.Velocity);
        private readonly T mu = T.CreateChecked(spec.Momentum);
        public override void Update(Fold<T> f)
        {
            for (int j = 0; j < f.g.Length; j++)
            {
                Elementwise.ScaleAdd<T>(velocity[j], mu, f.g[j], velocity[j]); // v ← v·μ + u
                if (spec.Nesterov) Elementwise.ScaleAdd<T>(velocity[j], mu, f.g[j], f.g[j]);
                else velocity[j].AsSpan().CopyTo(f.g[j]);
            }
        }
        public override OptState Finish(Fold<T> f) => new MomentumState<T>(f.Tree(velocity));
    }

    /// <summary><see cref="ScaleByRms"/> with its averages in workspaces.</summary>
    private sealed class Rms(ScaleByRms spec, RmsState<T> s) : Transform
    {
        private readonly T[][] nu = Copy(s.Nu);
        private readonly T[][]? gAvg = spec.Centered ? Copy(s.GradAvg!) : null;
        private readonly T[][]? denom = spec.Centered ? [.. s.Nu.Leaves.Select(l => new T[l.Length])] : null;
        private readonly T a = T.CreateChecked(spec.Alpha), c = T.CreateChecked(1 - spec.Alpha), eps = T.CreateChecked(spec.Eps);
        public override void Update(Fold<T> f)
        {
            for (int j = 0; j < f.g.Length; j++)
            {
                OptimizerKernels.SecondMoment<T>(nu[j], a, f.g[j], c, nu[j]);
                T[] source = nu[j];
                if (gAvg is not null)
                {
                    OptimizerKernels.Moment<T>(gAvg[j], a, f.g[j], c, gAvg[j]);
                    OptimizerKernels.SubtractSquare<T>(nu[j], gAvg[j], denom![j]);
                    source = denom[j];
                }
                OptimizerKernels.DivideBySqrtPlus<T>(f.g[j], source, eps, f.g[j]);
            }
        }
        public override OptState Finish(Fold<T> f) => new RmsState<T>(f.Tree(nu), gAvg is null ? null : f.Tree(gAvg));
    }

    /// <summary>Adam or AdamW as one pass per element: [AddDecayedWeights(λc)], ScaleByAdam, [AddDecayedWeights(λd)], ScaleByLearningRate.</summary>
    private sealed class AdamFusion
    {
        private readonly Decay? coupled, decoupled;
        private readonly Adam adam;
        private readonly LearningRate lr;

        private AdamFusion(Decay? coupled, Adam adam, Decay? decoupled, LearningRate lr) { this.coupled = coupled; this.adam = adam; this.decoupled = decoupled; this.lr = lr; }

        public static AdamFusion? Match(Transform[] t)
        {
            Adam? Ad(int i) => t[i] is Adam a && a.NuMax is null ? a : null;
            return t switch
            {
                [Adam, LearningRate l] when Ad(0) is { } a => new(null, a, null, l),
                [Decay d, Adam, LearningRate l] when Ad(1) is { } a => new(d, a, null, l),
                [Adam, Decay d, LearningRate l] when Ad(0) is { } a => new(null, a, d, l),
                _ => null,
            };
        }

        public void Apply(Fold<T> f)
        {
            var (stepScale, bc2) = adam.Next();
            var factor = lr.Factor();
            var c = new OptimizerKernels.AdamConstants<T>(adam.B1, adam.C1, adam.B2, adam.C2, stepScale, bc2, adam.Eps, factor,
                coupled is { WeightDecay: not 0 } ? coupled.Lambda : null, decoupled is { WeightDecay: not 0 } ? decoupled.Lambda : null);
            for (int j = 0; j < f.p.Length; j++) OptimizerKernels.AdamStep<T>(f.p[j], f.g[j], adam.Mu[j], adam.Nu[j], c, f.threads);
        }
    }
}
