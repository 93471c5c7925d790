using System.Collections.Immutable;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Facade.Runs;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Facade.Runs;

/// <summary>ExperimentConfig.FromJson, the source-generated reading the CLI uses (so that it works under NativeAOT): it reads back
/// what ToJson wrote, and it reads any config text as the reflection-based JsonSerializer with <see cref="ExperimentConfig.JsonOptions"/>
/// did before it.</summary>
public sealed class ExperimentConfigJsonTests
{
    private static readonly Gen<ExperimentConfig> Configs =
        from data in Gen.Elements("digits", "iris", "auto-mpg", "some/file.csv")
        from layers in Gen.Choose(1, 512).ArrayOf().Select(a => a.Take(4).ToImmutableArray())
        from lr in ArbMap.Default.GeneratorFor<NormalFloat>().Select(f => Math.Abs(f.Get) + 1e-300)
        from decay in Gen.Elements<double?>(null, 0, 0.01, 5e-324, 1e-8)
        from seed in ArbMap.Default.GeneratorFor<ulong>()
        from batch in Gen.Choose(1, 4096)
        from header in Gen.Elements<bool?>(null, true, false)
        from arch in Gen.Elements<string?>(null, "conv(8,3),relu,maxpool(2),flatten", "dense(16),\"quoted\"\u00e9")
        from smoothing in Gen.Elements(0.0, 0.1, 1.0 / 3)
        select new ExperimentConfig(Data: data, Layers: layers, LearningRate: lr, WeightDecay: decay, Seed: seed, BatchSize: batch,
            Header: header, Arch: arch, LabelSmoothing: smoothing);

    [Law(200)]
    public Property FromJson_reads_back_what_ToJson_wrote_as_the_reflection_reader_did() =>
        Prop.ForAll(Configs.ToArbitrary(), c =>
        {
            string json = c.ToJson();
            var read = ExperimentConfig.FromJson(json);
            var byReflection = JsonSerializer.Deserialize<ExperimentConfig>(json, ExperimentConfig.JsonOptions)!;
            return read == c && read.ToJson() == json && byReflection.ToJson() == read.ToJson();
        });

    [Fact]
    public void FromJson_refuses_null_and_text_that_is_not_a_config()
    {
        Assert.Equal("the config is null", Assert.Throws<JsonException>(() => ExperimentConfig.FromJson("null")).Message);
        Assert.ThrowsAny<JsonException>(() => ExperimentConfig.FromJson("{\"data\": "));
        Assert.ThrowsAny<JsonException>(() => ExperimentConfig.FromJson("{\"epochs\": \"many\"}"));
        Assert.Throws<ArgumentNullException>(() => ExperimentConfig.FromJson(null!));
    }
}
