using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Lessons;

/// <summary>What the backprop lesson computed.</summary>
/// <param name="Weights">How many weights (scalars) the network has.</param>
/// <param name="Loss">The loss of the one example.</param>
/// <param name="Checked">How many gradients agree with central differences.</param>
/// <param name="MaxDifference">The largest |backprop − numeric| over all weights.</param>
/// <param name="LayerShares">Each layer with weights and its share of Σ|gradient|, output layer first.</param>
/// <param name="WeightsUnchanged">True when every weight has the same bits after backprop as before.</param>
public sealed record BackpropLessonResult(int Weights, double Loss, int Checked, double MaxDifference,
    ImmutableArray<(string Layer, double Share)> LayerShares, bool WeightsUnchanged);

/// <summary>Lesson 2: backpropagation computes how much each weight contributed to the loss, output to input, without changing any.</summary>
public static class BackpropLesson
{
    // PyTorch gradcheck's tolerances: |backprop − numeric| ≤ atol + rtol·|numeric|.
    private const double Atol = 1e-5, Rtol = 1e-3;

    /// <summary>Runs one example through a 2 → 2 → 1 network, prints every activation, the loss, and every weight's gradient
    /// layer by layer from the output back, checks each against <see cref="NumericGrad"/>, and shows the weights unchanged.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Unused: this lesson draws no plot.</param>
    public static BackpropLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);

        // The production line: station 0 mixes the two inputs (dense 2→2), station 1 squashes (sigmoid), station 2 mixes
        // again into one prediction (dense 2→1). Double precision, so the numerical check is meaningful.
        var spec = new ModelSpec(2, [new DenseSpec(2, 2), new SigmoidSpec(), new DenseSpec(2, 1)], new MseSpec());
        // Hand-picked weights (instead of random ones) so that you can redo every number on paper. W is [out, in].
        var parameters = new ParamTree<double>(spec.ParameterNames,
        [
            NdArray.Matrix(new[,] { { 0.5, -0.3 }, { 0.8, 0.2 } }), // 0.weight
            NdArray.Vector(0.1, -0.1),                             // 0.bias
            NdArray.Matrix(new[,] { { 1.0, -0.7 } }),              // 2.weight
            NdArray.Vector(0.2),                                   // 2.bias
        ]);
        var before = parameters.Flatten();
        var batch = new Batch<double>(NdArray.Matrix(new[,] { { 1.0, 0.5 } }), NdArray.Matrix(new[,] { { 1.0 } }));

        w.Line($"Lesson: backprop. Which weights made the prediction wrong, and by how much?");
        w.Line($"The network: {spec}, {parameters.ParameterCount} weights.");
        w.Line($"One example: x = {Fmt.List(batch.X.Span.ToArray())}, target y = {batch.Y[0]:F4}.");
        w.Heading($"The weights (W is [out, in]: row j holds the weights into unit j)");
        foreach (var (name, leaf) in parameters.Names.Zip(parameters.Leaves)) w.Line($"  {name,-9} {Show(leaf)}");

        // Model.Backprop runs forward (keeping every layer's input and output), the loss, then the chain rule backwards.
        var trace = Model.Backprop(spec, parameters, batch);

        w.Heading($"Forward: input to output, station by station");
        w.Line($"  input                x = {Fmt.List(trace.Activations[0].Span.ToArray())}");
        w.Line($"  layer 0 (dense)      z = W0 x + b0 = {Fmt.List(trace.Activations[1].Span.ToArray())}");
        w.Line($"  layer 1 (sigmoid)    h = 1/(1 + e^-z) = {Fmt.List(trace.Activations[2].Span.ToArray())}");
        w.Line($"  layer 2 (dense)      prediction = W2 h + b2 = {Fmt.List(trace.Activations[3].Span.ToArray())}");
        w.Line($"  loss (mse)           (prediction - y)^2 = {trace.Loss:F6}");

        var g = trace.Grads;
        w.Heading($"Backward: output to input, the chain rule one station at a time");
        w.Line($"  loss                 dL/dprediction = 2(prediction - y) = {Fmt.List(trace.ActivationGrads[3].Span.ToArray())}");
        w.Line($"  layer 2 (dense)      dL/dW2 = dL/dprediction * h = {Show(g["2.weight"])}");
        w.Line($"                       dL/db2 = dL/dprediction = {Show(g["2.bias"])}");
        w.Line($"                       passes back dL/dh = W2^T dL/dprediction = {Fmt.List(trace.ActivationGrads[2].Span.ToArray())}");
        w.Line($"  layer 1 (sigmoid)    no weights; passes back dL/dz = dL/dh * h(1 - h) = {Fmt.List(trace.ActivationGrads[1].Span.ToArray())}");
        w.Line($"  layer 0 (dense)      dL/dW0 = dL/dz x^T = {Show(g["0.weight"])}");
        w.Line($"                       dL/db0 = dL/dz = {Show(g["0.bias"])}");
        w.Line($"                       (dL/dx = {Fmt.List(trace.ActivationGrads[0].Span.ToArray())}: the input is data, nothing to change there)");

        // The independent check: nudge each weight by ±h and watch the loss (NumericGrad never calls backprop).
        var numeric = NumericGrad.OfParameters(p => Model.Loss(spec, p, batch), parameters);
        w.Heading($"Every gradient checked by central differences: (L(w + h) - L(w - h)) / 2h, h = 1e-6");
        w.Line($"  {"weight",-16}  {"backprop",10}  {"numeric",10}  agree");
        int agree = 0, total = 0;
        double maxDiff = 0;
        // The output layer's gradients first (the order backprop computes them in); within a layer, weight then bias.
        var order = Enumerable.Range(0, g.Count).OrderByDescending(i => int.Parse(g.Names[i].Split('.')[0], System.Globalization.CultureInfo.InvariantCulture)).ThenBy(i => i);
        foreach (int leaf in order)
        {
            for (int j = 0; j < g[leaf].Length; j++)
            {
                double a = g[leaf][j], n = numeric[leaf][j], diff = Math.Abs(a - n);
                bool ok = diff <= Atol + Rtol * Math.Abs(n);
                total++; if (ok) agree++;
                maxDiff = Math.Max(maxDiff, diff);
                w.Line($"  {g.Names[leaf] + Index(g[leaf], j),-16}  {a,10:F6}  {n,10:F6}  {(ok ? "yes" : "NO")}");
            }
        }
        w.Line($"  {agree} of {total} gradients agree (|backprop - numeric| <= 1e-5 + 1e-3 |numeric|, PyTorch gradcheck's test).");
        // A bound rather than the difference itself: the difference is rounding noise (about 1e-10), which is not worth printing.
        w.Line($"  {(agree == total ? "The check passes" : "The check FAILS")}: the largest difference is {(maxDiff < 1e-8 ? "below 1e-8" : Fmt.I($"{maxDiff:E2}"))}.");

        // "Which station caused the defect?": each dense layer's share of the total size of the gradient, Σ|g|.
        w.Heading($"Which station caused the defect? Each layer's share of the gradient (sum of |dL/dw| over its weights)");
        double all = g.Leaves.Sum(l => l.Span.ToArray().Sum(Math.Abs));
        var shares = ImmutableArray.CreateBuilder<(string, double)>();
        for (int i = spec.Layers.Length - 1; i >= 0; i--)
        {
            if (spec.Layers[i].Parameters(spec.Shapes[i]).IsEmpty) continue;
            double s = g[$"{i}.weight"].Span.ToArray().Sum(Math.Abs) + g[$"{i}.bias"].Span.ToArray().Sum(Math.Abs);
            int count = g[$"{i}.weight"].Length + g[$"{i}.bias"].Length;
            shares.Add(($"layer {i} ({spec.Layers[i].Kind})", s / all));
            w.Line($"  layer {i} ({spec.Layers[i].Kind}, {count} weights)   {s:F6}   {100 * s / all,5:F1}%");
        }
        var largest = Enumerable.Range(0, g.Count).SelectMany(l => Enumerable.Range(0, g[l].Length).Select(j => (Leaf: l, Index: j, Abs: Math.Abs(g[l][j]))))
            .MaxBy(t => t.Abs);
        w.Line($"  The single weight that moves the loss most is {g.Names[largest.Leaf]}{Index(g[largest.Leaf], largest.Index)} (|dL/dw| = {largest.Abs:F6}).");

        bool unchanged = before.AsSpan().SequenceEqual(parameters.Flatten());
        w.Heading($"After backprop");
        w.Line($"  Weights unchanged: {(unchanged ? "yes" : "NO")}, all {before.Length} values are the same bits as before.");
        w.Line($"  Backprop only measures. Changing the weights is the optimizer's job (lesson descent).");
        return new BackpropLessonResult(before.Length, trace.Loss, agree, maxDiff, shares.ToImmutable(), unchanged);
    }

    /// <summary>Element j of a leaf as [row,col] for a matrix, [j] for a vector.</summary>
    private static string Index(NdArray<double> a, int j) => a.Rank == 2 ? Fmt.I($"[{j / a.Shape[1]},{j % a.Shape[1]}]") : Fmt.I($"[{j}]");

    /// <summary>A leaf as nested lists: [[a, b], [c, d]] for a matrix, [a, b] for a vector.</summary>
    private static string Show(NdArray<double> a) =>
        a.Rank == 2 ? "[" + string.Join(", ", Enumerable.Range(0, a.Rows).Select(r => Fmt.List(a.Row(r).ToArray()))) + "]" : Fmt.List(a.Span.ToArray());
}
