using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using Xunit;
using Xunit.Abstractions;

namespace NeuralPure.Properties.Facade.Export;

/// <summary>samples/torch/load_model.py reads a model file into <c>nn.Sequential(...).load_state_dict(strict=True)</c> with torch
/// alone, and torch's outputs are NeuralPure's. Runs only where /usr/bin/python3 has torch; elsewhere it says so and passes.</summary>
public sealed class TorchLoadTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";

    private static string Script()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NeuralPure.sln"))) return Path.Combine(d.FullName, "samples", "torch", "load_model.py");
        throw new InvalidOperationException("the repository root (NeuralPure.sln) was not found above " + AppContext.BaseDirectory);
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static bool TorchMissing(out string why)
    {
        why = "";
        if (!File.Exists(Python)) { why = $"{Python} is not installed"; return true; }
        var (code, _, err) = Run("-c", "import torch");
        if (code != 0) { why = $"{Python} has no torch ({err.Trim().Split('\n')[^1]})"; return true; }
        return false;
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("batch-norm-vectors")]
    [InlineData("layer-norm-images")]
    [InlineData("regression")]
    public void Torch_loads_the_model_file_strictly_and_gives_neuralpure_s_outputs(string kind)
    {
        if (TorchMissing(out var why)) { output.WriteLine($"SKIPPED: {why}; the torch loader is not checked here"); return; }
        var model = OnnxExportTests.RandomModel(OnnxExportTests.KindSpec(kind), kind.Length * 17 + 3, regression: kind == "regression");
        var dir = Path.Combine(Path.GetTempPath(), "np-torch-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "model.safetensors");
            ModelFile.Save(path, model);
            int rows = 5, f = model.Spec.InputWidth;
            var raw = OnnxExportTests.RawRows(model, rows, seed: 3);
            File.WriteAllText(Path.Combine(dir, "rows.json"), JsonSerializer.Serialize(raw.Chunk(f)));
            var (code, stdout, err) = Run(Script(), path, "--rows", Path.Combine(dir, "rows.json"));
            Assert.True(code == 0, err);
            var torch = JsonNode.Parse(stdout)!.AsObject();
            var expected = new Dictionary<string, double[]> { ["logits"] = [.. model.Outputs(raw, rows).Span.ToArray().Select(v => (double)v)] };
            if (model.Task == TaskKind.Classification) expected["probabilities"] = [.. model.PredictProbabilities(raw, rows).Span.ToArray().Select(v => (double)v)];
            else expected["prediction"] = model.Predict(raw, rows);
            foreach (var (name, e) in expected)
            {
                var t = torch[name]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
                Assert.Equal(e.Length, t.Length);
                double worst = e.Zip(t, (a, b) => Math.Abs(a - b)).Max() / Math.Max(e.Max(Math.Abs), 1e-30);
                output.WriteLine($"{kind} {name}: torch vs NeuralPure {worst:E1} of the largest magnitude");
                Assert.True(worst <= 1e-5, $"{name}: {worst:E2}");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
