using System.Collections.Immutable;
using NeuralPure.Losses;
using NeuralPure.Tensors;

namespace NeuralPure.Lessons;

/// <summary>What the loss lesson computed.</summary>
/// <param name="SpamCrossEntropy">For a true spam email predicted spam with probability p: (p, softmax cross-entropy, binary cross-entropy).</param>
/// <param name="Gradient">For an email scored with one logit per class, truth spam: each class's logit, softmax probability,
/// one-hot target, the gradient dL/dlogit as <see cref="SoftmaxCrossEntropySpec"/> computes it, and softmax − onehot.</param>
/// <param name="HousePrices">For a $300K house: (predicted $K, squared error, dL/dŷ).</param>
public sealed record LossLessonResult(
    ImmutableArray<(double P, double SoftmaxCe, double BinaryCe)> SpamCrossEntropy,
    ImmutableArray<(string Class, double Logit, double Softmax, double OneHot, double Backprop, double SoftmaxMinusOneHot)> Gradient,
    ImmutableArray<(double PredictedK, double Loss, double Gradient)> HousePrices)
{
    /// <summary>The cross-entropy charged for predicting spam with probability <paramref name="p"/>.</summary>
    public double CrossEntropyAt(double p) => SpamCrossEntropy.First(r => r.P == p).SoftmaxCe;

    /// <summary>The squared error charged for predicting <paramref name="predictedK"/> thousand dollars.</summary>
    public double MseAt(double predictedK) => HousePrices.First(r => r.PredictedK == predictedK).Loss;
}

/// <summary>Lesson 1: a loss function measures how wrong a prediction is.</summary>
public static class LossLesson
{
    /// <summary>Prints the cross-entropy table for a spam email and the squared error for a house price, computed by NeuralPure's losses.</summary>
    /// <param name="output">Where the lesson's text goes.</param>
    /// <param name="outputFolder">Unused: this lesson draws no plot.</param>
    public static LossLessonResult Run(TextWriter output, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(output);
        var w = new LessonWriter(output);
        w.Line($"Lesson: loss. A loss function turns \"how wrong was this prediction?\" into one number to make smaller.");

        // Classification. One email that really is spam; the model gives it probability p of being spam.
        // SoftmaxCrossEntropy.OfProbability feeds the logits [log p, log(1 − p)] with label 0 to the loss that training uses;
        // BinaryCrossEntropy.OfProbability feeds the single logit log(p / (1 − p)) with label 1 to the binary loss.
        // Both reduce to −log p, so the two columns must agree.
        w.Heading($"Cross-entropy: an email that really is spam");
        w.Line($"The model says \"spam\" with probability p. Cross-entropy charges -log(p): the less probability on the truth, the more it costs.");
        w.Line();
        w.Line($"  p(spam)   softmax CE   binary CE   what it means");
        var rows = ImmutableArray.CreateBuilder<(double, double, double)>();
        foreach (var (p, meaning) in new[] { (0.95, "confident and right: costs very little"), (0.50, "unsure: costs a medium amount"), (0.10, "wrong: costs a lot") })
        {
            double ce = SoftmaxCrossEntropy.OfProbability(p), bce = BinaryCrossEntropy.OfProbability(p);
            rows.Add((p, ce, bce));
            w.Line($"  {p,-8:F2}  {ce,-11:F4}  {bce,-10:F4}  {meaning}");
        }

        w.Line();
        w.Line($"A confident wrong answer costs far more than an unsure wrong one:");
        double unsure = SoftmaxCrossEntropy.OfProbability(0.40), confident = SoftmaxCrossEntropy.OfProbability(0.01);
        rows.Add((0.40, unsure, BinaryCrossEntropy.OfProbability(0.40)));
        rows.Add((0.01, confident, BinaryCrossEntropy.OfProbability(0.01)));
        w.Line($"  p(spam) = 0.40 (unsure, wrong)      loss {unsure:F4}");
        w.Line($"  p(spam) = 0.01 (confident, wrong)   loss {confident:F4}   ({confident / unsure:F1} times as much)");

        // The gradient of cross-entropy. Three classes this time, and logits chosen directly (not from a probability): the
        // loss's own ValueAndGrad gives dL/dz, and the formula it must equal is softmax(z) − onehot(y), computed here apart.
        w.Heading($"The gradient of cross-entropy: softmax - onehot");
        w.Line($"A model gives one score (logit) per class; softmax turns them into probabilities. The gradient of the loss");
        w.Line($"with respect to each logit is its probability minus 1 for the true class, minus 0 for the others.");
        w.Line();
        string[] classes = ["spam", "promotions", "inbox"];
        var logits = NdArray.Matrix(new[,] { { 2.0, 1.0, 0.1 } });
        const int truth = 0;
        var (ceLoss, ceGrad) = new SoftmaxCrossEntropySpec().ValueAndGrad(logits, NdArray.Vector((double)truth));
        var softmax = SoftmaxCrossEntropy.Softmax(logits);
        var gradient = ImmutableArray.CreateBuilder<(string, double, double, double, double, double)>();
        w.Line($"  {"class",-11}  {"logit",6}   {"softmax",7}   {"onehot",6}   {"dL/dlogit (the loss's)",22}   {"softmax - onehot",16}");
        for (int j = 0; j < classes.Length; j++)
        {
            double oneHot = j == truth ? 1 : 0, formula = softmax[0, j] - oneHot;
            gradient.Add((classes[j], logits[0, j], softmax[0, j], oneHot, ceGrad[0, j], formula));
            w.Line($"  {classes[j],-11}  {logits[0, j],6:F4}   {softmax[0, j],7:F4}   {oneHot,6:F0}   {ceGrad[0, j],22:F4}   {formula,16:F4}");
        }
        double worstCe = gradient.Max(g => Math.Abs(g.Item5 - g.Item6)), sumCe = gradient.Sum(g => g.Item5);
        w.Line();
        w.Line($"The email really is spam, so the loss is -log({softmax[0, truth]:F4}) = {ceLoss:F4}. The two gradient columns {(worstCe < 1e-12 ? "agree to 1e-12" : Fmt.I($"DIFFER by {worstCe:E2}"))}.");
        bool pushes = gradient[truth].Item5 < 0 && gradient.Where((g, j) => j != truth).All(g => g.Item5 > 0);
        w.Line($"{(pushes ? "Only the true class has a negative gradient" : "NOT only the true class has a negative gradient")}: a step of descent raises its logit by rate * {-gradient[truth].Item5:F4}");
        w.Line($"and lowers every other logit by rate * its probability. The gradients sum to {(Math.Abs(sumCe) < 1e-12 ? "0" : Fmt.I($"{sumCe:E2}"))}:");
        w.Line($"adding the same number to every logit changes no probability, so it cannot change the loss.");
        w.Line($"(Over a batch of N examples the loss is the mean, so each example's row is divided by N.)");

        // Regression. Mse.ValueAndGrad gives the mean of (ŷ − y)² and its gradient 2(ŷ − y)/N. Prices are in thousands
        // of dollars, so an error of $50K is 50 and its square 2500 ($K²).
        w.Heading($"Mean squared error: a house that sold for $300K");
        w.Line($"The loss is (prediction - price)^2, in thousands of dollars; the gradient dL/dprediction = 2(prediction - price) says which way to move.");
        w.Line();
        w.Line($"  prediction   error   loss   gradient");
        var houses = ImmutableArray.CreateBuilder<(double, double, double)>();
        foreach (double predicted in new[] { 250.0, 290.0 })
        {
            var (loss, grad) = Mse.ValueAndGrad(NdArray.Vector(predicted), NdArray.Vector(300.0));
            houses.Add((predicted, loss, grad[0]));
            w.Line($"  ${predicted:F0}K        {predicted - 300,5:F0}   {loss,4:F0}   {grad[0],8:F0}");
        }
        var both = Mse.Value(NdArray.Vector(250.0, 290.0), NdArray.Vector(300.0, 300.0));
        double far = houses[0].Item2, near = houses[1].Item2;
        w.Line();
        double farOff = Math.Abs(houses[0].Item1 - 300) / Math.Abs(houses[1].Item1 - 300);
        w.Line($"${houses[0].Item1:F0}K is {farOff:F0} times as far off as ${houses[1].Item1:F0}K but costs {far / near:F0} times as much: squaring punishes big misses most.");
        string sign = houses.All(h => h.Item3 < 0) ? "Both gradients are negative: raising either prediction lowers the loss"
            : houses.All(h => h.Item3 > 0) ? "Both gradients are positive: lowering either prediction lowers the loss"
            : "The gradients have opposite signs: each prediction moves towards the price";
        w.Line($"{sign}. Over the two houses the mean is {both:F0}.");
        return new LossLessonResult(rows.ToImmutable(), gradient.ToImmutable(), houses.ToImmutable());
    }
}
