using NeuralPure.Layers;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>Layer.cs (the pure single-layer driver) and the argument bundles of LayerSpec.cs: every refusal names what is
/// wrong (the Stryker run's uncovered mutants), and the backward pass without dx returns none.</summary>
public sealed class LayerTests
{
    private static readonly DenseSpec D = new(3, 2);
    private static readonly NdArray<double> W = NdArray.From<double>([1, 2, 3, 4, 5, 6], 2, 3), B = NdArray.Vector(0.5, -1.0);
    private static readonly NdArray<double> X = NdArray.From<double>([1, -1, 2, 0, 3, 1], 2, 3);

    [Fact]
    public void The_driver_refuses_bad_arguments_by_name()
    {
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(null!, [W, B], X)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(D, null!, X)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(D, [W, B], null!)).ParamName);
        var rank0 = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(D, [W, B], NdArray.From<double>([1.0])));
        Assert.Equal("x", rank0.ParamName);
        Assert.Contains("row dimension", rank0.Message);
        var count = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(D, [W], X));
        Assert.Contains("the dense layer has 2 parameters (weight, bias), got 1", count.Message);
        var shape = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(D, [B, B], X));
        Assert.Contains("weight must be [2, 3], got [2]", shape.Message);
        Assert.Equal("parameters[1]", Assert.Throws<ArgumentNullException>(() => Layer.Forward<double>(D, [W, null!], X)).ParamName);
        var state = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(new NeuralPure.Properties.Models.CenterSpec(), [], X));
        Assert.Contains("the center layer carries state (running_mean)", state.Message);
        Assert.Equal("dy", Assert.Throws<ArgumentNullException>(() => Layer.Backward<double>(D, [W, B], X, null!)).ParamName);
        var dy = Assert.Throws<ArgumentException>(() => Layer.Backward<double>(D, [W, B], X, NdArray.Zeros<double>(2, 3)));
        Assert.Contains("dy must have the output's shape [2, 2], got [2, 3]", dy.Message);
    }

    [Fact]
    public void Forward_is_the_layers_own_forward_and_backward_gives_dx_and_every_gradient()
    {
        Assert.Equal(NdArray.From<double>([5.5, 10, 9.5, 20], 2, 2), Layer.Forward<double>(D, [W, B], X));
        var (dx, grads) = Layer.Backward<double>(D, [W, B], X, NdArray.From<double>([1, 0, 0, 1], 2, 2));
        Assert.Equal(NdArray.From<double>([1, 2, 3, 4, 5, 6], 2, 3), dx);
        Assert.Equal([2, 3], grads[0].Shape.ToArray());
        Assert.Equal(NdArray.Vector(1.0, 1.0), grads[1]);
    }

    [Fact]
    public void The_argument_bundles_refuse_spans_that_do_not_fit()
    {
        double[] x = new double[6], y = new double[4], dy = new double[4], dx = new double[6];
        Assert.Contains("x has 5 elements, not 2 × [3]", Assert.Throws<ArgumentException>(() => new ForwardArgs<double>(2, 3, 2, x.AsSpan(1), y, [], [], null, 1)).Message);
        Assert.Contains("y has 3 elements, not 2 × [2]", Assert.Throws<ArgumentException>(() => new ForwardArgs<double>(2, 3, 2, x, y.AsSpan(1), [], [], null, 1)).Message);
        Assert.Equal(1, new ForwardArgs<double>(2, 3, 2, x, y, [], [], null, 0).Threads);
        Assert.Contains("x has 5 elements", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(2, 3, 2, x.AsSpan(1), y, dy, dx, true, [], [], [], null, 1)).Message);
        Assert.Contains("y has 3 elements", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(2, 3, 2, x, y.AsSpan(1), dy, dx, true, [], [], [], null, 1)).Message);
        Assert.Contains("dy has 3 elements", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(2, 3, 2, x, y, dy.AsSpan(1), dx, true, [], [], [], null, 1)).Message);
        Assert.Contains("dx has 5 elements", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(2, 3, 2, x, y, dy, dx.AsSpan(1), true, [], [], [], null, 1)).Message);
        Assert.Contains("1 gradients for 0 parameters", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(2, 3, 2, x, y, dy, dx, true, [], [new double[1]], [], null, 1)).Message);
        var noDx = new BackwardArgs<double>(2, 3, 2, x, y, dy, dx.AsSpan(1), false, [], [], [], null, 1);
        Assert.True(noDx.DX.IsEmpty);
        Assert.False(noDx.InputGradient);
    }

    [Fact]
    public void Update_refuses_nulls_and_a_mismatched_tree_by_name_and_released_buffers_refuse_writes()
    {
        var p = new ParamTree<double>(["w"], [NdArray.Vector(1.0, 2.0)]);
        var opt = new TraceMomentum(0.9);
        var s = opt.Init(p);
        Assert.Equal("updates", Assert.Throws<ArgumentNullException>(() => opt.Update(null!, s, p)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentNullException>(() => opt.Update(p, null!, p)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => opt.Update(p, s, null!)).ParamName);
        var other = new ParamTree<double>(["v"], [NdArray.Vector(1.0, 2.0)]);
        Assert.Equal("updates", Assert.Throws<ArgumentException>(() => opt.Update(other, s, p)).ParamName);
        var (u, next) = opt.Update(p, s, p);
        Assert.Equal(p, u);                                             // v = 0.9·0 + g
        Assert.Equal(p, ((MomentumState<double>)next).Velocity);
        Assert.Equal(NdArray.Vector(0.0, 0.0), ((MomentumState<double>)s).Velocity[0]); // the given state is untouched
        Assert.Contains("read-only", Assert.Throws<InvalidOperationException>(() =>
            new UpdateArgs<double>(["w"], [new double[2]], [new double[2]], writableParameters: false, 1).WritableParameters(0).Clear()).Message);
        Assert.Contains("1 updates and 1 names for 2 parameters", Assert.Throws<ArgumentException>(() =>
            new UpdateArgs<double>(["w"], [new double[2]], [new double[2], new double[1]], false, 1)).Message);
        Assert.Contains("the updates of 'w' have 1 elements, the parameter 2", Assert.Throws<ArgumentException>(() =>
            new UpdateArgs<double>(["w"], [new double[1]], [new double[2]], false, 1)).Message);
        var buffers = new TreeBuffers<double>(p);
        buffers[0][0] = 5;
        Assert.Equal(1.0, p[0][0]);                                     // a copy
        Assert.Equal(5.0, buffers.ToTree()[0][0]);
    }
}
