using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using Xunit;

namespace NeuralPure.Properties.Facade.Models;

public sealed class ModelFileTests
{
    private static TrainedModel Sample()
    {
        var spec = ModelSpec.Mlp([3, 5, 2], new LeakyReluSpec(0.2), new SoftmaxCrossEntropySpec([1.0, 2.0], 0.1), Initializer.XavierNormal, dropout: 0.25);
        return new TrainedModel(spec, Model.Init<float>(spec, RandomKey.FromSeed(5)), new Standardizer([1.0, 2.0, 3.0], [0.5, 1.0, 2.0]),
            TaskKind.Classification, 2, ["a", "b", "c"], "label");
    }

    [Fact]
    public void Save_and_load_round_trip_with_pytorch_names_and_layout()
    {
        var model = Sample();
        var file = ModelFile.ToSafeTensors(model, "{\"seed\":1}");
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], file.Tensors.Select(t => t.Name));
        Assert.Equal([5, 3], file["0.weight"].Shape.ToArray());   // [out, in], as torch.nn.Linear
        var bytes = SafeTensors.Serialize(file);
        var (back, config) = ModelFile.FromSafeTensors(SafeTensors.Deserialize(bytes, "mem"), "mem");
        Assert.Equal("{\"seed\":1}", config);
        Assert.Equal(model.Spec, back.Spec);
        Assert.True(model.Parameters.Equals(back.Parameters));
        Assert.Equal(model.Standardizer, back.Standardizer);
        Assert.Equal(model.FeatureNames.ToArray(), back.FeatureNames.ToArray());
        Assert.Equal(model.ParameterHash(), back.ParameterHash());
    }

    [Fact]
    public void Files_that_are_not_this_model_are_refused_with_a_clear_message()
    {
        var good = ModelFile.ToSafeTensors(Sample());
        var noFormat = new SafeTensorsFile(good.Metadata.Remove("format"), good.Tensors);
        Assert.Contains("format", Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(noFormat, "x")).Message);
        var missing = new SafeTensorsFile(good.Metadata, good.Tensors.RemoveAt(1));
        Assert.Contains("0.bias", Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(missing, "x")).Message);
        var wrongShape = new SafeTensorsFile(good.Metadata, good.Tensors.SetItem(1, new NamedTensor("0.bias", [4], SafeTensorDType.F32, [0, 0, 0, 0])));
        Assert.Contains("[5]", Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(wrongShape, "x")).Message);
        var nan = new SafeTensorsFile(good.Metadata, good.Tensors.SetItem(1, new NamedTensor("0.bias", [5], SafeTensorDType.F32, [0, double.NaN, 0, 0, 0])));
        Assert.Contains("NaN", Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(nan, "x")).Message);
        var badArch = new SafeTensorsFile(good.Metadata.SetItem("architecture", "{\"inputWidth\":3,\"layers\":[{\"kind\":\"" + new string('z', 5000) + "\"}],\"loss\":{\"kind\":\"mse\"}}"), good.Tensors);
        var msg = Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(badArch, "x")).Message;
        Assert.True(msg.Length < 600, msg.Length.ToString());
    }

    [Fact]
    public void A_malformed_model_file_is_refused_naming_the_metadata_key_or_tensor_never_a_column()
    {
        var good = ModelFile.ToSafeTensors(Sample());
        DataFormatException Refused(SafeTensorsFile bad) => Assert.Throws<DataFormatException>(() => ModelFile.FromSafeTensors(bad, "m.safetensors"));
        var task = Refused(new SafeTensorsFile(good.Metadata.SetItem("task", "clustering"), good.Tensors));
        Assert.Equal("m.safetensors: metadata key 'task': 'clustering' is neither classification nor regression", task.Message);
        Assert.Equal("task", task.MetadataKey);
        Assert.Null(task.Column);
        Assert.Equal("m.safetensors: metadata key 'classes': missing; is this a NeuralPure model (neuralpure/1)?", Refused(new SafeTensorsFile(good.Metadata.Remove("classes"), good.Tensors)).Message);
        Assert.StartsWith("m.safetensors: metadata key 'standardization': malformed: ", Refused(new SafeTensorsFile(good.Metadata.SetItem("standardization", "[1]"), good.Tensors)).Message);
        Assert.StartsWith("m.safetensors: metadata key 'architecture': unknown layer kind 'zz'",
            Refused(new SafeTensorsFile(good.Metadata.SetItem("architecture", """{"inputWidth":3,"layers":[{"kind":"zz"}],"loss":{"kind":"mse"}}"""), good.Tensors)).Message);
        var bias = Refused(new SafeTensorsFile(good.Metadata, good.Tensors.RemoveAt(1)));
        Assert.Equal("m.safetensors: tensor '0.bias': missing", bias.Message);
        Assert.Equal("0.bias", bias.Tensor);
    }
}
