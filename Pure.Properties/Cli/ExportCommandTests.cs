using Microsoft.ML.OnnxRuntime;
using NeuralPure.Facade.Models;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Facade.Export;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary><c>neuralpure export</c> end to end: a run folder or a model file in, an ONNX file out that ONNX Runtime runs as
/// NeuralPure does; an existing file replaced only with --force, the model file never; a kind it cannot export named.</summary>
[Collection("Console")]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Export_writes_a_graph_onnx_runtime_runs_as_neuralpure_does()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--out", P("run"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        (code, var stdout, err) = CliRunner.Run("export", P("run"), "--onnx", P("iris.onnx"));
        Assert.True(code == 0, err);
        Assert.Contains("opset 17", stdout);
        var (model, _) = ModelFile.Load(Path.Combine(P("run"), "model.safetensors"));
        Assert.Equal(OnnxExportBytes(model), File.ReadAllBytes(P("iris.onnx")));
        using var session = new InferenceSession(P("iris.onnx"));
        Assert.Equal(["logits", "probabilities"], session.OutputNames);
        Assert.All(OnnxExportTests.Agreement(model, rows: 20).Values, e => Assert.True(e <= 1e-5));
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => f.Contains(".tmp", StringComparison.Ordinal));

        // the model file itself works as the source too
        (code, _, err) = CliRunner.Run("export", Path.Combine(P("run"), "model.safetensors"), "--onnx", P("again.onnx"));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(P("iris.onnx")), File.ReadAllBytes(P("again.onnx")));
    }

    private static byte[] OnnxExportBytes(TrainedModel model) => NeuralPure.Facade.Export.OnnxExport.ToBytes(model);

    [Fact]
    public void An_existing_file_is_replaced_only_with_force_and_the_model_file_never()
    {
        var (code, _, err) = CliRunner.Run("train", "--data", "auto-mpg", "--epochs", "1", "--out", P("run"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        File.WriteAllText(P("taken.onnx"), "mine");
        (code, _, err) = CliRunner.Run("export", P("run"), "--onnx", P("taken.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("--force", err);
        Assert.Equal("mine", File.ReadAllText(P("taken.onnx")));
        (code, _, err) = CliRunner.Run("export", P("run"), "--onnx", P("taken.onnx"), "--force");
        Assert.True(code == 0, err);
        using (var session = new InferenceSession(P("taken.onnx"))) Assert.Equal(["logits", "prediction"], session.OutputNames);

        var modelFile = Path.Combine(P("run"), "model.safetensors");
        var before = File.ReadAllBytes(modelFile);
        (code, _, err) = CliRunner.Run("export", modelFile, "--onnx", modelFile, "--force");
        Assert.Equal(2, code);
        Assert.Contains("model file itself", err);
        Assert.Equal(before, File.ReadAllBytes(modelFile));
        // nor, --force or not, the run's record, checkpoint or plot (replay and resume need them)
        foreach (var name in new[] { "run.json", "checkpoint.safetensors", "loss.svg" })
        {
            var file = Path.Combine(P("run"), name);
            var was = File.Exists(file) ? File.ReadAllBytes(file) : null;
            (code, _, err) = CliRunner.Run("export", P("run"), "--onnx", file, "--force");
            Assert.Equal(2, code);
            Assert.Contains("is a file of the run in", err);
            Assert.Equal(was, File.Exists(file) ? File.ReadAllBytes(file) : null);
        }

        (code, _, err) = CliRunner.Run("export", P("run"));
        Assert.Equal(2, code);
        Assert.Contains("--onnx", err);
        (code, _, err) = CliRunner.Run("export", P("nothing-here"), "--onnx", P("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", err);
        Assert.False(File.Exists(P("x.onnx")));
    }

    [Fact]
    public void A_model_file_with_a_kind_it_cannot_export_is_refused_naming_the_kind()
    {
        var spec = new ModelSpec(3, [new DenseSpec(3, 4), new CustomOps.SwishSpec(), new DenseSpec(4, 2)], new SoftmaxCrossEntropySpec());
        ModelFile.Save(P("swish.safetensors"), OnnxExportTests.RandomModel(spec, 2), kinds: KindRegistry.BuiltIn.WithLayer<CustomOps.SwishSpec>("swish"));
        var (code, stdout, err) = CliRunner.Run("export", P("swish.safetensors"), "--onnx", P("swish.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("'swish'", err);
        Assert.DoesNotContain("   at ", err + stdout);
        Assert.False(File.Exists(P("swish.onnx")));
    }
    /// <summary>A model file whose architecture puts a flip on flat vectors (here after the output layer, so its tensors are
    /// those of a valid model) is not a model: loading it refuses it, naming the layer, and export writes nothing.</summary>
    [Fact]
    public void A_model_file_with_an_image_augmentation_on_vectors_is_refused_by_load_and_export()
    {
        var spec = new ModelSpec(3, [new DenseSpec(3, 4), new ReluSpec(), new DenseSpec(4, 2)], new SoftmaxCrossEntropySpec());
        var file = ModelFile.ToSafeTensors(OnnxExportTests.RandomModel(spec, 2));
        var arch = System.Text.Json.Nodes.JsonNode.Parse(file.Metadata["architecture"])!;
        arch["layers"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["kind"] = "random-flip", ["horizontal"] = true, ["vertical"] = false });
        NeuralPure.Facade.Data.SafeTensors.Write(P("flip.safetensors"), new NeuralPure.Facade.Data.SafeTensorsFile(file.Metadata.SetItem("architecture", arch.ToJsonString()), file.Tensors));
        const string message = "layer 3 (random-flip): random-flip needs an image input [channels, height, width] (or [height, width]); it gets [2]";
        Assert.Contains(message, Assert.Throws<NeuralPure.Facade.Data.DataFormatException>(() => ModelFile.Load(P("flip.safetensors"))).Message);
        var (code, stdout, err) = CliRunner.Run("export", P("flip.safetensors"), "--onnx", P("flip.onnx"));
        Assert.Equal(1, code);
        Assert.Contains(message, err);
        Assert.DoesNotContain("   at ", err + stdout);
        Assert.False(File.Exists(P("flip.onnx")));
    }
}
