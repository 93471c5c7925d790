namespace NeuralPure.Optimizers;

/// <summary>Adam's relatives as aliases, with torch.optim's defaults (<see cref="Adamax"/>, <see cref="NAdam"/>, <see cref="RAdam"/>).</summary>
public static partial class Optimizer
{
    /// <summary>Adamax (Kingma &amp; Ba 2015, §7.1) as torch.optim.Adamax: lr 2e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, coupled weight decay 0.</summary>
    /// <remarks>g ← g + λθ; m ← β₁m + (1 − β₁)g; u ← max(β₂u, |g| + ε); θ ← θ − η/(1 − β₁ᵗ)·m/u.
    /// <c>Chain(AddDecayedWeights(λ), ScaleByAdamax(β₁, β₂, ε), ScaleByLearningRate(η))</c>, leaving out the decay when λ = 0.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">β₁ or β₂ outside [0, 1), ε or λ negative or not finite.</exception>
    public static GradientTransform Adamax(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByAdamax(beta1, beta2, eps), new ScaleByLearningRate(learningRate ?? 2e-3));

    /// <summary>NAdam (Dozat 2016) as torch.optim.NAdam in PyTorch ≥ 2.0: lr 2e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, momentum decay ψ 4e-3,
    /// coupled weight decay 0.</summary>
    /// <remarks>g ← g + λθ; μₜ = β₁(1 − ½·0.96^(tψ)); Πₜ = Π μ₁..ₜ; m, v as Adam; d = √(v/(1 − β₂ᵗ)) + ε;
    /// θ ← θ − η(1 − μₜ)/(1 − Πₜ)·g/d − η·μₜ₊₁/(1 − Πₜμₜ₊₁)·m/d (PyTorch 1.13 counted μₜ twice in the last product; see
    /// <see cref="ScaleByNAdam"/>). <c>Chain(AddDecayedWeights(λ), ScaleByNAdam(β₁, β₂, ε, ψ), ScaleByLearningRate(η))</c>,
    /// leaving out the decay when λ = 0. PyTorch 2.1's <c>decoupled_weight_decay</c> (NAdamW) is not offered.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">β₁ or β₂ outside [0, 1), ε, ψ or λ negative or not finite.</exception>
    public static GradientTransform NAdam(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByNAdam(beta1, beta2, eps, momentumDecay), new ScaleByLearningRate(learningRate ?? 2e-3));

    /// <summary>RAdam (Liu et al. 2020) as torch.optim.RAdam: lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8, coupled weight decay 0.</summary>
    /// <remarks>g ← g + λθ; m, v as Adam; m̂ = m/(1 − β₁ᵗ); ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ), ρ∞ = 2/(1 − β₂) − 1; if ρₜ &gt; 5,
    /// θ ← θ − η·m̂·√(1 − β₂ᵗ)/(√v + ε)·r with r the rectification of <see cref="ScaleByRAdam"/>, else θ ← θ − η·m̂.
    /// <c>Chain(AddDecayedWeights(λ), ScaleByRAdam(β₁, β₂, ε), ScaleByLearningRate(η))</c>, leaving out the decay when λ = 0.
    /// PyTorch 2.1's <c>decoupled_weight_decay</c> is not offered.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">β₁ or β₂ outside [0, 1), ε or λ negative or not finite.</exception>
    public static GradientTransform RAdam(Schedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0) =>
        Chain(weightDecay != 0 ? new AddDecayedWeights(weightDecay) : null, new ScaleByRAdam(beta1, beta2, eps), new ScaleByLearningRate(learningRate ?? 1e-3));
}
