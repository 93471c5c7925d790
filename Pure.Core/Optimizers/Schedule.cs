using NeuralPure.Numerics;

namespace NeuralPure.Optimizers;

/// <summary>A learning rate as a pure function of the step (0 for the first update).</summary>
/// <remarks>Schedules are records, so a run file records them exactly. A plain number converts to <see cref="Constant"/>.
/// A trimmed or NativeAOT application keeps every schedule's public properties (the annotation below), which run records read
/// by reflection.</remarks>
[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicProperties)]
public abstract record Schedule
{
    /// <summary>For derived schedules, in any assembly.</summary>
    protected Schedule() { }

    /// <summary>The value at <paramref name="step"/> (0-based).</summary>
    public abstract double At(long step);

    /// <summary>A constant learning rate.</summary>
    public static implicit operator Schedule(double value) => new Constant(value);

    /// <summary>v when it is a positive finite number; otherwise an ArgumentOutOfRangeException naming <paramref name="name"/>.</summary>
    protected static double Positive(double v, string name) =>
        v > 0 && double.IsFinite(v) ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be a positive finite number");

    /// <summary>v when it is a finite number ≥ 0; otherwise an ArgumentOutOfRangeException naming <paramref name="name"/>.</summary>
    protected static double NonNegative(double v, string name) =>
        v >= 0 && double.IsFinite(v) ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be a finite number ≥ 0");

    /// <summary>v when it is ≥ 1; otherwise an ArgumentOutOfRangeException naming <paramref name="name"/>.</summary>
    protected static long AtLeastOne(long v, string name) =>
        v >= 1 ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be ≥ 1");

    /// <summary>η(t) = value.</summary>
    public sealed record Constant(double Value) : Schedule
    {
        /// <summary>The rate, checked positive and finite.</summary>
        public double Value { get; } = Positive(Value, "learning rate");
        /// <inheritdoc/>
        public override double At(long step) => Value;
    }

    /// <summary>η(t) = initial / (1 + t·decay): Adagrad's <c>lr_decay</c> in torch.optim.Adagrad (clr = lr / (1 + (step − 1)·lr_decay)
    /// with PyTorch's 1-based step), optax's inverse-time decay with power 1.</summary>
    public sealed record InverseTimeDecay(double Initial, double Decay) : Schedule
    {
        /// <summary>η₀, checked.</summary>
        public double Initial { get; } = Positive(Initial, nameof(Initial));
        /// <summary>The decay, checked ≥ 0.</summary>
        public double Decay { get; } = NonNegative(Decay, nameof(Decay));
        /// <inheritdoc/>
        public override double At(long step) => Initial / (1 + step * Decay);
    }

    /// <summary>η(t) = initial·γ^⌊t / stepSize⌋ (PyTorch's StepLR, counted in updates).</summary>
    public sealed record StepDecay(double Initial, long StepSize, double Gamma = 0.1) : Schedule
    {
        /// <summary>η₀, checked.</summary>
        public double Initial { get; } = Positive(Initial, nameof(Initial));
        /// <summary>Updates between decays, checked.</summary>
        public long StepSize { get; } = AtLeastOne(StepSize, nameof(StepSize));
        /// <summary>γ, checked positive.</summary>
        public double Gamma { get; } = Positive(Gamma, nameof(Gamma));
        /// <inheritdoc/>
        public override double At(long step) => Initial * Elementary.Pow(Gamma, Math.Floor((double)step / StepSize));
    }

    /// <summary>η(t) = initial·γ^t (PyTorch's ExponentialLR, counted in updates).</summary>
    public sealed record Exponential(double Initial, double Gamma) : Schedule
    {
        /// <summary>η₀, checked.</summary>
        public double Initial { get; } = Positive(Initial, nameof(Initial));
        /// <summary>γ, checked positive.</summary>
        public double Gamma { get; } = Positive(Gamma, nameof(Gamma));
        /// <inheritdoc/>
        public override double At(long step) => Initial * Elementary.Pow(Gamma, step);
    }

    /// <summary>Cosine decay from initial to floor over decaySteps, then floor: η(t) = floor + (initial − floor)·½(1 + cos(π·min(t, T)/T)).</summary>
    /// <remarks>PyTorch's CosineAnnealingLR with eta_min = floor, without restarts (optax.cosine_decay_schedule with alpha = floor/initial).</remarks>
    public sealed record Cosine(double Initial, long DecaySteps, double Floor = 0) : Schedule
    {
        /// <summary>η₀, checked.</summary>
        public double Initial { get; } = Positive(Initial, nameof(Initial));
        /// <summary>T, checked.</summary>
        public long DecaySteps { get; } = AtLeastOne(DecaySteps, nameof(DecaySteps));
        /// <summary>The final rate, checked ≥ 0.</summary>
        public double Floor { get; } = NonNegative(Floor, nameof(Floor));
        /// <inheritdoc/>
        public override double At(long step) => Floor + (Initial - Floor) * 0.5 * (1 + Elementary.CosPi((double)Math.Min(step, DecaySteps) / DecaySteps));
    }

    /// <summary>Linear warm-up from start to peak over warmupSteps, then cosine decay to end at totalSteps (optax.warmup_cosine_decay_schedule).</summary>
    public sealed record WarmupCosine(double Peak, long WarmupSteps, long TotalSteps, double Start = 0, double End = 0) : Schedule
    {
        /// <summary>The peak rate, checked.</summary>
        public double Peak { get; } = Positive(Peak, nameof(Peak));
        /// <summary>Warm-up length, checked ≥ 0.</summary>
        public long WarmupSteps { get; } = WarmupSteps >= 0 ? WarmupSteps : throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "warm-up steps must be ≥ 0");
        /// <summary>Total length, checked &gt; warm-up.</summary>
        public long TotalSteps { get; } = TotalSteps > WarmupSteps ? TotalSteps : throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "total steps must exceed warm-up steps");
        /// <summary>The first rate, checked ≥ 0.</summary>
        public double Start { get; } = NonNegative(Start, nameof(Start));
        /// <summary>The last rate, checked ≥ 0.</summary>
        public double End { get; } = NonNegative(End, nameof(End));
        /// <inheritdoc/>
        public override double At(long step)
        {
            if (step < WarmupSteps) return Start + (Peak - Start) * step / WarmupSteps;
            long t = Math.Min(step - WarmupSteps, TotalSteps - WarmupSteps);
            return End + (Peak - End) * 0.5 * (1 + Elementary.CosPi((double)t / (TotalSteps - WarmupSteps)));
        }
    }

    /// <summary>PyTorch's OneCycleLR (cosine annealing, three_phase = false): from max/div up to max over pctStart·total, then down to max/(div·finalDiv).</summary>
    /// <remarks>Phase ends as PyTorch computes them: up ends at step pctStart·total − 1, down at total − 1.</remarks>
    public sealed record OneCycle(double MaxLr, long TotalSteps, double PctStart = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4) : Schedule
    {
        /// <summary>The peak, checked.</summary>
        public double MaxLr { get; } = Positive(MaxLr, nameof(MaxLr));
        /// <summary>Total steps, checked ≥ 2.</summary>
        public long TotalSteps { get; } = TotalSteps >= 2 ? TotalSteps : throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "one-cycle needs at least 2 steps");
        /// <summary>The rising fraction, checked in (0, 1).</summary>
        public double PctStart { get; } = PctStart > 0 && PctStart < 1 ? PctStart : throw new ArgumentOutOfRangeException(nameof(PctStart), PctStart, "pct_start must be in (0, 1)");
        /// <summary>initial = max / div.</summary>
        public double DivFactor { get; } = Positive(DivFactor, nameof(DivFactor));
        /// <summary>final = initial / finalDiv.</summary>
        public double FinalDivFactor { get; } = Positive(FinalDivFactor, nameof(FinalDivFactor));
        /// <inheritdoc/>
        public override double At(long step)
        {
            double initial = MaxLr / DivFactor, final = initial / FinalDivFactor;
            double upEnd = PctStart * TotalSteps - 1, downEnd = TotalSteps - 1;
            double s = Math.Min(step, TotalSteps - 1);
            static double Anneal(double from, double to, double pct) => to + (from - to) / 2.0 * (Elementary.CosPi(pct) + 1);
            return s <= upEnd ? Anneal(initial, MaxLr, upEnd <= 0 ? 1 : s / upEnd) : Anneal(MaxLr, final, (s - upEnd) / (downEnd - upEnd));
        }
    }
}
