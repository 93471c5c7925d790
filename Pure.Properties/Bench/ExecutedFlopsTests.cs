using System.Text.RegularExpressions;
using NeuralPure.Bench.Support;
using NeuralPure.Facade.Networks;
using NeuralPure.Losses;
using NeuralPure.Properties.Lessons;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Bench;

/// <summary>The report's FLOP convention (Pure.Bench/Support/Configs.cs, compiled in here; nothing is timed): the products a
/// step executes, by hand, and the bench's CNN is the README's.</summary>
public sealed class ExecutedFlopsTests
{
    /// <summary>conv 2·N·OC·OH·OW·IC·KH·KW forward and dW (no dX: the first layer), conv2 and the dense layers three times.</summary>
    [Fact]
    public void The_cnn_step_executes_the_hand_counted_products()
    {
        long conv1 = 2L * 64 * 32 * 28 * 28 * 1 * 3 * 3;   //    28,901,376
        long conv2 = 2L * 64 * 64 * 14 * 14 * 32 * 3 * 3;  //   462,422,016
        long dense1 = 2L * 64 * 3136 * 128;                //    51,380,224
        long dense2 = 2L * 64 * 128 * 10;                  //       163,840
        Assert.Equal(1_599_700_992L, 2 * conv1 + 3 * (conv2 + dense1 + dense2));
        var cnn = BenchConfig.Get("cnn");
        Assert.Equal(64, cnn.Batch);
        Assert.Equal(1_599_700_992d, cnn.FlopsPerStep);
    }

    /// <summary>Config d: the first layer's input gradient is not counted, so the figure is below 6·parameters·batch.</summary>
    [Fact]
    public void An_mlp_step_counts_no_input_gradient_for_the_first_layer()
    {
        var d = BenchConfig.Get("d");
        Assert.Equal(2d * 256 * (2 * 784 * 1024 + 3 * 1024 * 1024 + 3 * 1024 * 10), d.FlopsPerStep);
        Assert.Equal(2_448_424_960d, d.FlopsPerStep);
        Assert.True(d.FlopsPerStep < 6d * d.Parameters * d.Batch);
        Assert.Equal(2d * 32 * (2 * 64 * 32 + 3 * 32 * 10), BenchConfig.Get("a").FlopsPerStep);
    }

    /// <summary>The bench's CNN is what <c>--arch</c> makes of the README's CNN line on [1, 28, 28] images with 10 classes.</summary>
    [Fact]
    public void The_bench_cnn_is_the_readmes_arch_line()
    {
        var readme = File.ReadAllText(LessonText.RepoFile("README.md"));
        var line = Regex.Match(readme, "--arch \"(flip[^\"]*)\"").Groups[1].Value;
        Assert.StartsWith("flip,shift(1),conv(32,3,pad=1),batchnorm", line);
        Assert.Equal(Arch.Parse(line, Shape.Of(1, 28, 28), 10, new SoftmaxCrossEntropySpec()), BenchConfig.CnnSpec);
    }
}
