// samples/NativeAot [output folder]: the façade under NativeAOT (see the csproj). Everything it prints and the model and
// ONNX files it writes must be the same published with NativeAOT as under `dotnet run`; .ci/aot checks that.
using System.Security.Cryptography;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Export;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Networks;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Training;

string dir = args.Length > 0 ? args[0] : ".";
Directory.CreateDirectory(dir);
string P(string f) => Path.Combine(dir, f);
string Sha(string f) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)));

// README.md, "Your own data, in C#" (the model file written into the output folder)
double[,] x = { { 1.4, 0.2 }, { 1.5, 0.2 }, { 1.3, 0.4 }, { 1.7, 0.3 }, { 4.7, 1.4 }, { 4.5, 1.5 }, { 4.0, 1.3 },
                { 3.9, 1.1 }, { 6.0, 2.5 }, { 5.1, 1.9 }, { 5.9, 2.1 }, { 5.6, 1.8 } };
string[] y = { "setosa", "setosa", "setosa", "setosa", "versicolor", "versicolor", "versicolor", "versicolor",
               "virginica", "virginica", "virginica", "virginica" };
var spec = Network.Input(2).Dense(16, "relu").Output(3, "cross-entropy");
var fit = Fitter.Fit(spec, x, y, new FitOptions(Epochs: 500, BatchSize: 4));
Console.WriteLine(string.Join(", ", fit.PredictClasses(new double[,] { { 1.5, 0.3 }, { 5.7, 2.2 } })));
ModelFile.Save(P("iris-petals.safetensors"), fit.Model);
var (model, _) = ModelFile.Load(P("iris-petals.safetensors"));
Console.WriteLine($"versicolor with probability {model.PredictProba(new double[,] { { 4.4, 1.4 } })[0, 1]:F2}");
var proba = model.PredictProba(new double[,] { { 4.4, 1.4 }, { 1.5, 0.3 }, { 5.7, 2.2 } });
Console.WriteLine("probabilities (R): " + string.Join(" ", proba.Cast<double>().Select(v => v.ToString("R"))));
Console.WriteLine($"model file sha256 {Sha(P("iris-petals.safetensors"))}");
OnnxExport.Write(model, P("iris-petals.onnx"));
Console.WriteLine($"onnx sha256 {Sha(P("iris-petals.onnx"))}");

// More of the façade: an experiment with a run record, a checkpoint (registered kinds: layer-norm) and its model, read back.
var config = new ExperimentConfig(Data: "iris", Epochs: 3, Arch: "dense(16),layernorm,relu", Optimizer: "adamw", Schedule: "warmup-cosine", ClipNorm: 1);
var data = BundledDataSets.Load("iris");
var result = Experiment.Run(Experiment.Plan(config, data), checkpoint: new CheckpointOptions(P("checkpoint.safetensors")));
RunRecord.Write(P("run.json"), result);
ModelFile.Save(P("model.safetensors"), result.Model, result.Config.ToJson());
var (again, configJson) = ModelFile.Load(P("model.safetensors"));
var read = RunRecord.Read(P("run.json"));
var checkpoint = CheckpointFile.Read(P("checkpoint.safetensors"));
Console.WriteLine($"run: config read back equal {read.Config == config}, config in model file equal {configJson == config.ToJson()}, checkpoint at step {checkpoint.State.Step}, epoch {checkpoint.State.Epoch}");
Console.WriteLine("optimizer: " + TransformJson.Describe(result.Optimizer!).ToJsonString());
Console.WriteLine($"test accuracy {result.TestClassification?.Accuracy:R}; reloaded model predicts {string.Join(",", again.PredictClasses(new double[,] { { 5.1, 3.5, 1.4, 0.2 } }))}");
Console.WriteLine($"experiment model sha256 {Sha(P("model.safetensors"))}");
try { KindRegistry.BuiltIn.WithState(typeof(NeuralPure.Optimizers.LionState<>), "lion2"); Console.Error.WriteLine("WithState(generic definition): registered"); }
catch (NotSupportedException e) { Console.Error.WriteLine("WithState(generic definition): " + e.Message); }
Console.Error.WriteLine("closed: " + KindRegistry.BuiltIn.WithState(typeof(NeuralPure.Optimizers.LionState<float>), "lion2").LibraryNames.Contains("lion2"));
