using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Model.Init and Model.InitState check what a (user) layer's Init and InitState return against what it declares,
/// naming the layer; Model.RequireState names a state tree that does not fit.</summary>
public sealed class ModelInitTests
{
    /// <summary>A layer declaring a weight [2] and a state [2] whose Init and InitState return <paramref name="Returns"/>.</summary>
    private sealed record Liar(string Returns) : LayerSpec
    {
        public override string Kind => "liar";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("weight", input)];
        public override ImmutableArray<ParamShape> State(Shape input) => [new("running_mean", input)];
        private ImmutableArray<NdArray<T>> Lie<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
            Returns == "default" ? default : Returns == "wrong shape" ? [NdArray.Zeros<T>(3)] : [NdArray.Zeros<T>(2)];
        public override ImmutableArray<NdArray<T>> Init<T>(Shape input, RandomKey key) => Lie<T>();
        public override ImmutableArray<NdArray<T>> InitState<T>(Shape input) => Lie<T>();
        public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    private static ModelSpec Spec(string returns) => new(2, [new DenseSpec(2, 2), new Liar(returns)], new MseSpec());

    [Theory]
    [InlineData("default", "the liar layer has 1 parameters (weight), got 0")]
    [InlineData("wrong shape", "weight must be [2], got [3]")]
    public void Init_names_a_layer_whose_Init_is_not_its_parameters(string returns, string detail)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Model.Init<double>(Spec(returns), RandomKey.FromSeed(1)));
        Assert.Contains("layer 1 (liar): its Init does not return its parameters", e.Message);
        Assert.Contains(detail, e.Message);
        Assert.Equal("Init", Assert.IsType<ArgumentException>(e.InnerException).ParamName);
    }

    [Theory]
    [InlineData("default", "the liar layer has 1 parameters (running_mean), got 0")]
    [InlineData("wrong shape", "running_mean must be [2], got [3]")]
    public void InitState_names_a_layer_whose_InitState_is_not_its_state(string returns, string detail)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Model.InitState<double>(Spec(returns)));
        Assert.Contains("layer 1 (liar): its InitState does not return its state", e.Message);
        Assert.Contains(detail, e.Message);
        Assert.Equal("InitState", Assert.IsType<ArgumentException>(e.InnerException).ParamName);
    }

    [Fact]
    public void An_honest_layer_initializes()
    {
        Assert.Equal(3, Model.Init<double>(Spec("right"), RandomKey.FromSeed(1)).Count);
        Assert.Equal(["1.running_mean"], Model.InitState<double>(Spec("right")).Names.ToArray());
    }

    [Fact]
    public void RequireState_names_a_tree_that_does_not_fit()
    {
        var spec = Spec("right");
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.RequireState<double>(null!, Model.InitState<double>(spec), "state")).ParamName);
        Assert.Equal("layerState", Assert.Throws<ArgumentNullException>(() => Model.RequireState<double>(spec, null!, "layerState")).ParamName);
        var wrong = new ParamTree<double>(["mean"], [NdArray.Zeros<double>(2)]);
        var e = Assert.Throws<ArgumentException>(() => Model.RequireState(spec, wrong, "layerState"));
        Assert.Equal("layerState", e.ParamName);
        Assert.Contains("layer state [mean] does not match the model's [1.running_mean]", e.Message);
    }
}
