using System.CommandLine;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Export;
using NeuralPure.Facade.Models;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure export &lt;run folder or model.safetensors&gt; --onnx model.onnx [--force]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("model") { Description = "A run folder (its model.safetensors) or a model.safetensors written by neuralpure train" };
        var onnx = new Option<string?>("--onnx") { Description = $"Where to write the model as an ONNX graph (opset {OnnxExport.Opset}); an existing file only with --force" };
        var force = new Option<bool>("--force") { Description = "Replace an existing --onnx file (never the model file itself)" };
        var cmd = new Command("export", "Export a trained model: --onnx writes an ONNX graph that takes raw feature rows and gives logits and probabilities (or the prediction)")
        { source, onnx, force };
        cmd.SetAction(p =>
        {
            var arg = p.GetValue(source)!;
            var modelPath = Directory.Exists(arg) ? Path.Combine(arg, "model.safetensors") : arg;
            var outPath = p.GetValue(onnx) ?? throw new UsageException("export needs --onnx <file>: where to write the ONNX graph");
            OutputPath.RequireFile("--onnx", outPath);
            if (PredictCommand.SameFile(modelPath, outPath)) throw new UsageException($"--onnx '{outPath}' is the model file itself; export never overwrites its input");
            // Nor a run's record, checkpoint or plot, --force or not: they are what replay and resume need.
            var outFolder = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
            if (RunFolder.Outputs.Contains(Path.GetFileName(outPath)) && File.Exists(Path.Combine(outFolder, "run.json")))
                throw new UsageException($"--onnx '{outPath}' is a file of the run in '{outFolder}'; export never writes over a run's files: choose another name");
            OutputPath.RequireNewOrForced("--onnx", outPath, p.GetValue(force));
            var (model, _) = EvaluateCommand.LoadModel(modelPath);
            OnnxExport.Write(model, outPath);
            var outputs = model.Task == TaskKind.Classification ? "'logits' and 'probabilities'" : "'logits' and 'prediction'";
            Console.WriteLine($"wrote {outPath}: ONNX opset {OnnxExport.Opset}, input 'input' [batch, {model.Spec.InputWidth}] (raw features), outputs {outputs} [batch, {model.Spec.OutputWidth}]; "
                + $"{model.Spec.Layers.Length} layers, {model.Parameters.ParameterCount} parameters");
            return 0;
        });
        return cmd;
    }
}
