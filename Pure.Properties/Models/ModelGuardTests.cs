using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Model's and ModelSpec's guards, each named: null arguments, a state passed or missing, names that collide, a layer
/// without an output shape, and how a spec on images prints.</summary>
public sealed class ModelGuardTests
{
    private sealed record Nameless : LayerSpec
    {
        public override string Kind => "nameless";
        public override Shape OutputShape(Shape input) => null!;
        public override void Forward<T>(in ForwardArgs<T> a) { }
        public override void Backward<T>(in BackwardArgs<T> a) { }
    }

    /// <summary>A layer whose state arrays are called "weight" and "scale", as two of its parameters are.</summary>
    private sealed record Twin : LayerSpec
    {
        public override string Kind => "twin";
        public override Shape OutputShape(Shape input) => input;
        public override ImmutableArray<ParamShape> Parameters(Shape input) => [new("weight", input), new("bias", input), new("scale", input)];
        public override ImmutableArray<ParamShape> State(Shape input) => [new("weight", input), new("scale", input)];
        public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    private static ModelSpec Stateful() => new(2, [new DenseSpec(2, 3), new BatchNormSpec(3), new DenseSpec(3, 2)], new MseSpec());

    [Fact]
    public void Null_arguments_are_named()
    {
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.Init<double>(null!, RandomKey.FromSeed(1))).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.InitState<double>(null!)).ParamName);
        Assert.Equal("Input", Assert.Throws<ArgumentNullException>(() => new ModelSpec((Shape)null!, [new ReluSpec()], new MseSpec())).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.ValueAndGrad<double>(null!, new ParamTree<double>([], []), new Batch<double>(NdArray.Zeros<double>(1, 2), NdArray.Zeros<double>(1, 2)))).ParamName);
    }

    [Fact]
    public void A_model_with_state_needs_it_and_the_messages_say_so()
    {
        var spec = Stateful();
        var p = Model.Init<double>(spec, RandomKey.FromSeed(1));
        var batch = new Batch<double>(NdArray.From<double>([1.0, 2, 3, 4], 2, 2), NdArray.From<double>([1.0, 0, 0, 1], 2, 2));
        var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(spec, p, batch));
        Assert.Contains("this model's layers carry state (1.running_mean, 1.running_var, 1.num_batches_tracked); pass it", e.Message);
        Assert.Equal("spec", e.ParamName);
        var wrong = new ParamTree<double>(["1.running_mean"], [NdArray.Zeros<double>(3)]);
        var s = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(spec, p, wrong, batch));
        Assert.Contains("layer state [1.running_mean] does not match the model's [1.running_mean, 1.running_var, 1.num_batches_tracked]", s.Message);
        var shaped = new ParamTree<double>(["1.running_mean", "1.running_var", "1.num_batches_tracked"], [NdArray.Zeros<double>(4), NdArray.Zeros<double>(3), NdArray.Zeros<double>(1).Reshape()]);
        Assert.Contains("1.running_mean must be [3], got [4]", Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(spec, p, shaped, batch)).Message);
        Assert.Contains("carry state", Assert.Throws<ArgumentException>(() => Model.Backprop(spec, p, batch)).Message);
    }

    [Fact]
    public void Inputs_of_the_wrong_shape_are_named_with_the_models_shape()
    {
        var spec = new ModelSpec(Shape.Of(1, 2, 2), [new FlattenSpec(), new DenseSpec(4, 2)], new MseSpec());
        var e = Assert.Throws<ArgumentException>(() => Model.RequireInput(spec, NdArray.Zeros<double>(3, 4), "x"));
        Assert.Equal("x must be [rows, 1, 2, 2] for this model, got [3, 4]", e.Message.Split(" (Parameter")[0]);
        Assert.Equal("[1, 2, 2] → flatten → dense(2) | loss mse", spec.ToString());
        Assert.Equal("4 → dense(2) | loss mse", new ModelSpec(4, [new DenseSpec(4, 2)], new MseSpec()).ToString());
    }

    [Fact]
    public void A_layer_without_an_output_shape_and_names_that_collide_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelSpec(2, [new Nameless()], new MseSpec()));
        Assert.Contains("layer 0 (nameless): the layer gave no output shape", e.Message);
        var twin = Assert.Throws<ArgumentException>(() => new ModelSpec(2, [new Twin()], new MseSpec()));
        Assert.StartsWith("two parameters or state arrays share a name: 0.weight, 0.scale (Parameter", twin.Message);
        Assert.Equal("Layers", twin.ParamName);
    }
}
