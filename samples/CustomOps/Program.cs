using System.Globalization;
using CustomOps;
using L1Spec = CustomOps.L1Spec; // the sample's own L1, not NeuralPure.Losses.L1Spec
using NeuralPure.Facade.Data; using NeuralPure.Facade.Evaluation; using NeuralPure.Facade.Models; using NeuralPure.Facade.Training;
using NeuralPure.Kernels; using NeuralPure.Layers; using NeuralPure.Losses; using NeuralPure.Models;
using NeuralPure.Random; using NeuralPure.Tensors; using NeuralPure.Training; using NeuralPure.Verification;

// Four ops written outside the library (SwishSpec, RmsNormSpec, L1Spec, ScaleByLion), trained by the library's own fold.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// 0. Each op through the verification kit, the same checks the library's own ops pass: gradients against central differences
//    in double, the pure functions against the in-place calls bit for bit, no input written, threads, shapes; for the optimizer,
//    the workspace stepped in place against repeated pure updates, and its state handed out as a copy.
var parameters = new ParamTree<double>(["0.weight", "0.bias"], [Sampling.Normal<double>(RandomKey.FromSeed(3), 0, 1, 4, 3), Sampling.Normal<double>(RandomKey.FromSeed(4), 0, 1, 4)]);
VerificationReport[] reports =
[
    Verify.Layer(new SwishSpec(), Shape.Of(6)),
    Verify.Layer(new SwishSpec(Beta: 1.7), Shape.Of(5), rows: 3, training: true),
    Verify.Layer(new RmsNormSpec(6), Shape.Of(6)),
    Verify.Loss(new L1Spec(), Shape.Of(3), Sampling.Normal<double>(RandomKey.FromSeed(5), 0, 1, 4, 3)),
    Verify.Transform(new ScaleByLion(), parameters),
    Verify.Transform(CustomOptimizers.Lion(learningRate: 1e-3, weightDecay: 0.1), parameters),
];
foreach (var r in reports) Console.WriteLine(r);
if (!reports.All(r => r.Passed)) return 2;
var digits = BundledDataSets.Load("digits");                          // 1797 images 8×8, pixels 0..16, 10 classes
var split = DataSplit.Create(digits.Rows, 0, 0.2, seed: 1);
var standardizer = Standardizer.Fit(digits, split.Train.AsSpan());
var train = standardizer.ToDataSet(digits, split.Train.AsSpan());
var test = standardizer.ToDataSet(digits, split.Test.AsSpan());

// 1. Classification: 64 → RMSNorm(64) → Dense(64, 32) → Swish → Dense(32, 10), softmax cross-entropy, Lion.
var classifier = new ModelSpec(64, [new RmsNormSpec(64), new DenseSpec(64, 32), new SwishSpec(), new DenseSpec(32, 10)], new SoftmaxCrossEntropySpec());
var lion = CustomOptimizers.Lion(learningRate: 1e-3);
var fit = Fitter.Fit(classifier, lion, train, null, new FitOptions(Epochs: 15, BatchSize: 32, Seed: 42));
Console.WriteLine($"classifier {classifier}, optimizer {lion}: {fit.Status}");
foreach (var e in fit.History) Console.WriteLine($"classification epoch {e.Epoch,2}: loss {e.TrainLoss:F4}");
var accuracy = Evaluate.Classification(classifier, fit.Parameters, test).Accuracy;
Console.WriteLine($"test accuracy: {accuracy:F4} ({split.Test.Length} held-out images)");

// The model file holds the user's kinds by the names a KindRegistry gives them (their fields as written by their constructors).
var kinds = KindRegistry.BuiltIn.WithLayer<RmsNormSpec>("rms-norm").WithLayer<SwishSpec>("swish").WithLoss<L1Spec>("user-l1");
var file = Path.Combine(Path.GetTempPath(), $"customops-{Environment.ProcessId}.safetensors");
var trained = new TrainedModel(classifier, fit.Parameters, standardizer, digits.Task, digits.Classes, digits.FeatureNames, digits.TargetName);
ModelFile.Save(file, trained, kinds: kinds);
var (reloaded, _) = ModelFile.Load(file, kinds);
Console.WriteLine($"model file: reloaded with its kinds: same architecture {reloaded.Spec.Equals(classifier)}, same parameters {reloaded.ParameterHash() == trained.ParameterHash()}");
try { ModelFile.Load(file); }
catch (DataFormatException e) { Console.WriteLine($"model file without the kinds: {e.Message}"); }
finally { File.Delete(file); }

// 2. Regression with the L1 loss: each image's mean pixel, standardized with the training images' mean and deviation.
double MeanOf(int r) => digits.GetRow(r).ToArray().Average();
var rawTrain = split.Train.Select(MeanOf).ToArray();
double mu = rawTrain.Average(), sd = Math.Sqrt(rawTrain.Select(v => (v - mu) * (v - mu)).Average());
DataSet<float> MeanPixel(DataSet<float> d, IReadOnlyList<int> rows) =>
    new(d.X, NdArray.From<float>([.. rows.Select(r => (float)((MeanOf(r) - mu) / sd))], rows.Count, 1));
var trainMean = MeanPixel(train, split.Train);
var regressor = new ModelSpec(64, [new DenseSpec(64, 16), new SwishSpec(), new DenseSpec(16, 1)], new L1Spec());
var reg = Fitter.Fit(regressor, CustomOptimizers.Lion(learningRate: 1e-3), trainMean, null, new FitOptions(Epochs: 10, BatchSize: 32, Seed: 42));
foreach (var e in reg.History) Console.WriteLine($"regression (l1) epoch {e.Epoch,2}: loss {e.TrainLoss:F4}");
var testMean = MeanPixel(test, split.Test);
Console.WriteLine($"regression test l1: {regressor.Loss.Value(Evaluate.Outputs(regressor, reg.Parameters, testMean.X), testMean.Y):F4}");

// 3. The fold's promise, for these user ops: after the first step of an epoch, a step allocates nothing. Measured with the
//    core's observed fit on one thread (the façade's observer itself records per-iteration losses, so it is not used here).
var one = new Parallelism(1);
var start = Trainer.Init<float>(classifier, lion, RandomKey.FromSeed(42));
var config = new TrainConfig(BatchSize: 32, Epochs: 2);
int perEpoch = (train.Rows + 31) / 32, step = 0;
var bytes = new long[2 * perEpoch];
long last = 0;
var observer = new TrainObserver<float>(AfterStep: _ =>
{
    long now = GC.GetAllocatedBytesForCurrentThread();
    bytes[step++] = now - last;
    last = GC.GetAllocatedBytesForCurrentThread();
    return true;
});
// Compiled and warm: long enough for tiered compilation to have promoted the hot methods (a step right after a promotion can
// see the runtime's bookkeeping allocate once).
var warm = System.Diagnostics.Stopwatch.StartNew();
do { step = 0; Trainer.Fit(classifier, lion, start, train, config, observer, 0, one); } while (warm.ElapsedMilliseconds < 700);
step = 0;
last = GC.GetAllocatedBytesForCurrentThread();
Trainer.Fit(classifier, lion, start, train, config, observer, 0, one);
// An epoch's first report also carries what came before it (the workspaces, the epoch's shuffle), so it is left out.
var steady = Enumerable.Range(0, 2).SelectMany(e => bytes.Skip(e * perEpoch + 1).Take(perEpoch - 1)).ToArray();
Console.WriteLine($"allocated per step: {steady.Max()} bytes (max over {steady.Length} steps after each epoch's first; total {steady.Sum()})");
return steady.All(b => b == 0) ? 0 : 1;
