using System.Collections.Immutable;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Verification;

/// <summary>The verification kit: runs a layer, a loss or a gradient transform — a built-in or a user's own — through the checks
/// the property suite runs every built-in through (DESIGN principle 16), and reports each one.</summary>
/// <remarks>
/// <para>Everything runs in double, with inputs drawn from a seed so a report is reproducible. The gradient check compares the
/// analytic gradient with central differences (step <see cref="Step"/>); an element passes when
/// |a − n| ≤ <see cref="Atol"/> + <see cref="Rtol"/>·max(|a|, |n|), the suite's tolerance. The bit checks compare IEEE bit
/// patterns (NaN equals NaN, 0 differs from −0).</para>
/// <para>Why these numbers. The central difference (L(θ + h) − L(θ − h))/2h has two errors: truncation, h²/6·|L‴| ≈ 2e-13·|L‴|,
/// negligible for the moderate functions checked; and rounding, about ε·Σ|terms of L|/h ≈ 1e-10 per unit of the scalar's terms
/// (ε = 2.2e-16), with the rounding of θ ± h itself (ε·|θ|/h ≈ 2e-10). For a check's scalar of up to a few thousand in
/// magnitude that stays well below <see cref="Atol"/>, and <see cref="Rtol"/> covers large gradients, whose rounding scales with
/// them; a wrong factor of 1 + 10⁻³, a sign or a missing term is many tolerances away. Both are an order tighter than
/// PyTorch's <c>gradcheck</c> (atol 1e-5, rtol 1e-3, the same step 1e-6). A layer so large that its scalar runs into the
/// hundreds of thousands can fail by rounding alone: check a smaller instance of it, as gradcheck users do.</para>
/// <para>Why double, when training runs in float. In float (ε = 6e-8) the rounding term is ε/h: at h = 1e-6 it swamps the
/// derivative, and at the best h (≈ 1e-3) it leaves an error near 1e-4 of the gradient, so a check in float could not tell a
/// small bug from noise (PyTorch's gradcheck fails in float32 by design). An op is written once over
/// <c>T : IFloatingPointIeee754&lt;T&gt;</c> and the fold runs the same code in float, so the chain rule checked in double is the
/// float run's. What a double check does not see is float's own range and rounding (an exponential that overflows above 88 in
/// float, above 709 in double; a difference of nearly equal sums) and code that branches on the type: keep such code out of an
/// op, or test its float path on its own.</para>
/// <para>A check that throws fails, with the exception in its detail; the arguments themselves are checked first
/// (<see cref="ArgumentNullException"/>, <see cref="ArgumentOutOfRangeException"/>, <see cref="ArgumentException"/>).</para>
/// </remarks>
public static class Verify
{
    /// <summary>The central-difference step h (PyTorch gradcheck's eps), in double.</summary>
    public const double Step = 1e-6;

    /// <summary>The gradient check's absolute tolerance (PyTorch's gradcheck: 1e-5); why, in the class remarks.</summary>
    public const double Atol = 1e-6;

    /// <summary>The gradient check's relative tolerance, of max(|a|, |n|) (PyTorch's gradcheck: 1e-3); why, in the class remarks.</summary>
    public const double Rtol = 1e-4;

    /// <summary>The smallest |x| of the drawn layer inputs.</summary>
    public const double InputMargin = 0.05;

    /// <summary>Names of the layer checks, in report order.</summary>
    public const string GradientCheck = "gradient vs central differences", PureVsInPlace = "pure vs in place", NoInputWritten = "no input written",
        Threads = "threads 1 vs 3", Shapes = "shapes and init", SharedBuffers = "shared buffers";

    /// <summary>Names of the transform checks, in report order (with <see cref="NoInputWritten"/> and <see cref="Threads"/>).</summary>
    public const string InPlaceSteps = "in place vs pure steps", FusedSteps = "fused vs pure + apply", StateIsCopy = "state is a copy",
        ZeroGradient = "zero gradient at zero";

    /// <summary>Checks a layer on <paramref name="rows"/> examples of shape <paramref name="input"/>.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="input">One input example's shape.</param>
    /// <param name="rows">Examples in the batch (≥ 1).</param>
    /// <param name="seed">Draws the inputs, the parameters (through <see cref="LayerSpec.Init{T}"/>), the cotangent and the key.</param>
    /// <param name="training">Run with a key (dropout active); the same key is used for every evaluation, so the mask is fixed.</param>
    /// <remarks>
    /// <para>The checks, in order: <b>(1) gradient</b>: with L = Σ y·c for a fixed random cotangent c, dL/dx and dL/d(each
    /// parameter) from <see cref="Layers.Layer.Backward{T}(Layers.LayerSpec, IReadOnlyList{Tensors.NdArray{T}}, Tensors.NdArray{T}, Tensors.NdArray{T}, Random.RandomKey?, Kernels.Parallelism?)"/> against central differences of L, and the
    /// parameters' gradients again from a backward pass without dx (<see cref="BackwardArgs{T}.InputGradient"/> false, DX empty), as
    /// a model runs its first layer with parameters; the detail names the worst entry ("weight[2] without dx" for the latter). Checks
    /// (2) and (4) run that pass too. First, two forward passes on the same arguments must give the same bits: a forward with state
    /// outside its arguments (a counter, a cache) or one that writes its input has no derivative to compare, and the check says so.
    /// Inputs are drawn uniform in ±[<see cref="InputMargin"/>, 2] (away from 0) so ReLU-like kinks at 0 are not straddled. A kink
    /// elsewhere, at k, is straddled only when |x − k| &lt; <see cref="Step"/> (about 10⁻⁶ per element of the draw), and max-pooling
    /// ties only when two inputs of a window are that close: rare, but a seed may find one. For a layer with kinks where inputs
    /// fall, a branch below <see cref="InputMargin"/>, or a domain that is not the whole line (√x, log x), give the inputs:
    /// <see cref="Layer(LayerSpec, NdArray{double}, IReadOnlyList{NdArray{double}}, ulong, bool)"/>. A layer whose backward is
    /// deliberately not its forward's derivative (a straight-through estimator, gradient reversal) fails this check by design;
    /// hold it to the others. <b>(2) pure vs in place</b>: the driver's results (fresh
    /// arrays) equal bit for bit a direct call of <see cref="LayerSpec.Forward{T}"/> and <see cref="LayerSpec.Backward{T}"/> on
    /// destinations pre-filled with NaN and scratch pre-filled with 0xCD, then again on the same buffers as the first call left them
    /// (catches elements left unwritten and any dependence on a destination's contents). <b>(3) no input written</b>: x, the
    /// parameters, dy, and y during the backward pass are unchanged after the calls. <b>(4) threads</b>: the driver with 1 and 3
    /// threads gives the same bits. <b>(5) shapes</b>: <see cref="LayerSpec.Init{T}"/> returns one array per declared parameter with
    /// its declared shape, the same bits for the same key, <see cref="LayerSpec.InitState{T}"/> returns one array per declared
    /// <see cref="LayerSpec.State"/> entry with its shape, and <see cref="LayerSpec.ScratchBytes{T}"/> is ≥ 0; when it fails (or
    /// <see cref="LayerSpec.OutputShape"/> throws) the other checks are not run and fail. <b>(6) shared buffers</b>: what the layer
    /// claims about sharing the training fold's buffers holds: with <see cref="LayerSpec.BackwardInPlace"/>, a backward given dx as
    /// dy's own span leaves the driver's dx there and the driver's gradients; with <see cref="LayerSpec.IsView"/>, the driver's y is x and its dx is dy element for
    /// element, a forward given y as x's own span leaves the driver's y, and a backward given dx as dy's span (and x as that same y) the driver's dx. A
    /// layer that claims neither passes (the fold gives it its own buffers).</para>
    /// <para>A layer that carries state (<see cref="LayerSpec.State"/>, e.g. batch normalization's running statistics) runs with its
    /// <see cref="LayerSpec.InitState{T}"/>: in training the gradient flows through what the forward computes from the batch, the
    /// state a direct forward leaves must equal the driver's bit for bit (and for 1 and 3 threads), and the state given is never written.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException">layer or input is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">rows &lt; 1.</exception>
    public static VerificationReport Layer(LayerSpec layer, Shape input, int rows = 4, ulong seed = 1, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(layer); ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        return LayerCheck.Run(layer, input, rows, seed, training);
    }

    /// <summary>Checks a layer on the caller's batch <paramref name="x"/> [rows, …input], as PyTorch's <c>gradcheck</c> takes its
    /// inputs: for a layer defined only on part of the line (√x, log x: the drawn inputs have both signs), one with a kink or a
    /// branch the draw would straddle or miss (the drawn |x| is never below <see cref="InputMargin"/>), or a case of your own.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="x">The inputs, [rows ≥ 1, …one example's shape]; the gradient is checked at these values.</param>
    /// <param name="parameters">The parameters, one array per entry of <see cref="LayerSpec.Parameters"/> with its shape; null (the
    /// default): <see cref="LayerSpec.Init{T}"/>'s, drawn from <paramref name="seed"/>. Arrays that do not fit the declaration fail
    /// the shape check, and the other checks are not run.</param>
    /// <param name="seed">Draws the cotangent, the key and (when not given) the parameters.</param>
    /// <param name="training">Run with a key (dropout active), as in <see cref="Layer(LayerSpec, Shape, int, ulong, bool)"/>.</param>
    /// <remarks>The checks are those of <see cref="Layer(LayerSpec, Shape, int, ulong, bool)"/>, on these values; the report's subject
    /// says "x given" (and "parameters given").</remarks>
    /// <exception cref="ArgumentNullException">layer or x is null.</exception>
    /// <exception cref="ArgumentException">x has no row dimension or no rows, or a parameter array is null.</exception>
    public static VerificationReport Layer(LayerSpec layer, NdArray<double> x, IReadOnlyList<NdArray<double>>? parameters = null, ulong seed = 1, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(layer); ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 1 || x.Shape[0] < 1) throw new ArgumentException($"x must be [rows ≥ 1, …], got {x.ShapeText}", nameof(x));
        if (parameters is not null && parameters.Any(p => p is null)) throw new ArgumentException("a parameter array is null", nameof(parameters));
        return LayerCheck.Run(layer, Shape.OfExamples(x.Shape), x.Shape[0], seed, training, x, parameters);
    }

    /// <summary>Checks a loss on outputs of shape <paramref name="output"/> drawn from <paramref name="seed"/> against the caller's targets.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="output">One output example's shape.</param>
    /// <param name="targets">[rows, …]: class labels or values, as <paramref name="loss"/> expects them.</param>
    /// <param name="seed">Draws the outputs (uniform in [−2, 2]).</param>
    /// <remarks>The checks, in order: <b>(1) gradient</b>: the pure <see cref="LossSpec.ValueAndGrad{T}(NdArray{T}, NdArray{T})"/>'s
    /// gradient against central differences of the value (the worst entry named), once two calls have given the same value; <b>(2) pure vs in place</b>: the span form
    /// <see cref="LossSpec.ValueAndGrad{T}(in LossArgs{T})"/>, on a gradient destination pre-filled with NaN and NaN scratch, then again
    /// on the same buffers, returns the pure value and gradient bit for bit; <b>(3) no input written</b>: outputs and targets unchanged.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">targets has no row dimension or no rows.</exception>
    public static VerificationReport Loss(LossSpec loss, Shape output, NdArray<double> targets, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(loss); ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(targets);
        if (targets.Rank < 1 || targets.Shape[0] < 1) throw new ArgumentException($"targets must be [rows ≥ 1, …], got {targets.ShapeText}", nameof(targets));
        return LossCheck.Run(loss, output, targets, seed);
    }

    /// <summary>Checks a loss on the caller's outputs <paramref name="output"/> [rows, …] against <paramref name="targets"/>: for a
    /// loss defined only on part of the line (a rate or a probability: the drawn outputs are in [−2, 2]), one with a kink the draw
    /// could straddle, or a case of your own.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="output">The model's outputs, [rows ≥ 1, …one output's shape]; the gradient is checked at these values.</param>
    /// <param name="targets">[rows, …]: as <paramref name="loss"/> expects them, with the rows of <paramref name="output"/>.</param>
    /// <remarks>The checks are those of <see cref="Loss(LossSpec, Shape, NdArray{double}, ulong)"/>, on these values.</remarks>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">output or targets has no row dimension or no rows, or their rows differ.</exception>
    public static VerificationReport Loss(LossSpec loss, NdArray<double> output, NdArray<double> targets)
    {
        ArgumentNullException.ThrowIfNull(loss); ArgumentNullException.ThrowIfNull(output); ArgumentNullException.ThrowIfNull(targets);
        if (output.Rank < 1 || output.Shape[0] < 1) throw new ArgumentException($"output must be [rows ≥ 1, …], got {output.ShapeText}", nameof(output));
        if (targets.Rank < 1 || targets.Shape[0] != output.Shape[0])
            throw new ArgumentException($"targets must be [{output.Shape[0]}, …] (the outputs' rows), got {targets.ShapeText}", nameof(targets));
        return LossCheck.Run(loss, Shape.OfExamples(output.Shape), targets, 0, output);
    }

    /// <summary>Checks a gradient transform over <paramref name="steps"/> updates of gradients drawn from <paramref name="seed"/>,
    /// starting from <see cref="GradientTransform.Init{T}"/> of <paramref name="parameters"/>.</summary>
    /// <param name="transform">The transform (a chain, an alias of <see cref="Optimizer"/>, or a single transform).</param>
    /// <param name="parameters">The parameters the transform sees (and, for the fused form, updates).</param>
    /// <param name="steps">Updates to run (≥ 1).</param>
    /// <param name="seed">Draws the gradients (uniform in [−1, 1]).</param>
    /// <remarks>The checks, in order: <b>(1) in place vs pure</b>: one <see cref="GradientTransform.Open{T}"/> stepped
    /// <paramref name="steps"/> times on one reused updates buffer gives, at every step, the bits of the pure
    /// <see cref="GradientTransform.Update{T}"/> chained as many times, and its final <see cref="TransformWorkspace{T}.State"/>
    /// equals the pure state; <b>(2) fused</b>: when <see cref="GradientTransform.OpenApplying{T}"/> returns a workspace, it
    /// declares <see cref="TransformWorkspace{T}.AppliesUpdates"/>, its parameters after each step equal bit for bit the pure
    /// Update followed by <see cref="Optimizer.ApplyUpdates{T}"/>, and its state equals the pure state (passes, saying so, when
    /// there is no fused form); <b>(3) no input written</b>: the gradients, the parameters and the state passed to Open are
    /// unchanged; <b>(4) threads</b>: a workspace given 1 thread and one given 3 (<see cref="UpdateArgs{T}.Threads"/>, which the
    /// training fold sets to its thread budget while the pure Update runs on one), stepped side by side, give the same updates and
    /// state bit for bit (for the fused form: parameters and state); <b>(5) state is a copy</b>: a <see cref="TransformWorkspace{T}.State"/> snapshot does not change when the
    /// workspace steps on (for the fused form too); <b>(6) zero gradient at zero</b>, a law every built-in transform and alias
    /// obeys: from Init of a tree of zeros shaped like <paramref name="parameters"/>, <paramref name="steps"/> pure updates of zero
    /// gradients give updates that are all 0 (−0 counts as 0), and the fused form leaves the parameters at 0 — nothing pulls and
    /// there is no weight to decay. A sign taken as +1 at 0, a constant added, or 0/0 (an ε of 0) breaks it; a transform meant to
    /// move parameters without a gradient (noise injection) fails it by design. States are compared through their public properties, recursively
    /// (parameter trees, arrays, counts), so a difference is named by its path.</remarks>
    /// <exception cref="ArgumentNullException">transform or parameters is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1.</exception>
    public static VerificationReport Transform(GradientTransform transform, ParamTree<double> parameters, int steps = 5, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(transform); ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return TransformCheck.Run(transform, parameters, steps, seed);
    }
}
