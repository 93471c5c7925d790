using NeuralPure.Layers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>The built-in layers through their LayerSpec span methods (what a model and the training fold drive), checked
/// against their pure helpers: dropout's training and evaluation passes, an activation's backward, the backward pass that is
/// not asked for dx, and the argument bundles' null checks, zero-row batches, modes and thread counts.</summary>
public sealed class LayerPathTests
{
    private static readonly NdArray<double> X = NdArray.From<double>([1.5, -2, 0.25, 3, -0.5, 1, 2, -1, 4, 0.75, -3, 2.5], 3, 4);
    private static readonly NdArray<double> Dy = NdArray.From<double>([0.5, 1, -1, 2, 0.25, -0.5, 1.5, 3, -2, 1, 0.125, -0.75], 3, 4);

    /// <summary>In training the layer's mask is the key's mask: forward and backward equal Dropout.Forward/Backward bit for bit,
    /// and some elements are dropped while others are scaled by 1/(1 − p).</summary>
    [Theory]
    [InlineData(0.25, 7UL)]
    [InlineData(0.5, 2024UL)]
    public void Dropout_layer_in_training_is_the_keys_mask(double rate, ulong seed)
    {
        var spec = new DropoutSpec(rate);
        var key = RandomKey.FromSeed(seed);
        var y = Layer.Forward<double>(spec, [], X, key);
        Assert.Equal(Dropout.Forward(X, rate, key), y);
        Assert.Contains(y.ToArray(), v => v == 0);
        Assert.Contains(Enumerable.Range(0, X.Length), i => y[i] != 0 && y[i] == X[i] * (1 / (1 - rate)));
        var (dx, grads) = Layer.Backward<double>(spec, [], X, Dy, key);
        Assert.Equal(Dropout.Backward(Dy, rate, key), dx);
        Assert.Empty(grads);
        for (int i = 0; i < X.Length; i++) Assert.Equal(y[i] == 0, dx[i] == 0);
    }

    /// <summary>Without a key (evaluation), or at rate 0 even with one, the layer is the identity both ways.</summary>
    [Theory]
    [InlineData(0.5, false)]
    [InlineData(0.0, true)]
    [InlineData(0.0, false)]
    public void Dropout_layer_in_evaluation_or_at_rate_0_is_the_identity(double rate, bool withKey)
    {
        var spec = new DropoutSpec(rate);
        RandomKey? key = withKey ? RandomKey.FromSeed(3) : null;
        Assert.Equal(X, Layer.Forward<double>(spec, [], X, key));
        Assert.Equal(Dy, Layer.Backward<double>(spec, [], X, Dy, key).DX);
    }

    /// <summary>The mask is kept in the scratch: one byte per element of the batch, none at rate 0.</summary>
    [Fact]
    public void Dropout_scratch_is_one_byte_per_element_and_none_at_rate_0()
    {
        Assert.Equal(3 * 12, new DropoutSpec(0.3).ScratchBytes<double>(Shape.Of(3, 4), 3));
        Assert.Equal(0, new DropoutSpec(0).ScratchBytes<double>(Shape.Of(3, 4), 3));
        Assert.Equal(Shape.Of(3, 4), new DropoutSpec(0.3).OutputShape(Shape.Of(3, 4)));
        // 2¹⁶ rows of 2¹⁶ elements need 2³² bytes: an overflow, not a wrapped-around size of 0.
        Assert.Throws<OverflowException>(() => new DropoutSpec(0.3).ScratchBytes<double>(1 << 16, 1 << 16));
    }

    /// <summary>A backward pass not asked for dx (a model's first layer) returns none, writes no dx and still gives the parameter
    /// gradients — for dropout in both modes, an activation and a dense layer.</summary>
    [Fact]
    public void A_backward_pass_without_dx_returns_none_and_keeps_the_gradients()
    {
        foreach (var key in new RandomKey?[] { null, RandomKey.FromSeed(11) })
        {
            var (dx, grads) = Layer.Run<double>(new DropoutSpec(0.5), [], X, key, null).Back(Dy, inputGradient: false, 1);
            Assert.Null(dx);
            Assert.Empty(grads);
        }
        var (adx, _) = Layer.Run<double>(new TanhSpec(), [], X, null, null).Back(Dy, inputGradient: false, 1);
        Assert.Null(adx);
        var w = NdArray.From<double>([1, 2, 3, 4, 5, 6, 7, 8], 2, 4);
        var b = NdArray.Vector(0.5, -1.0);
        var dyDense = NdArray.From<double>([1, 0, 0, 1, 2, -1], 3, 2);
        var (ddx, dgrads) = Layer.Run<double>(new DenseSpec(4, 2), [w, b], X, null, null).Back(dyDense, inputGradient: false, 1);
        Assert.Null(ddx);
        var full = Layer.Backward<double>(new DenseSpec(4, 2), [w, b], X, dyDense);
        Assert.Equal(full.Grads[0], dgrads[0]);
        Assert.Equal(full.Grads[1], dgrads[1]);
    }

    /// <summary>An activation's layer backward is its Gradient: dx = f′(x)·dy.</summary>
    [Fact]
    public void Activation_layer_backward_is_its_gradient()
    {
        foreach (var act in new ActivationSpec[] { new TanhSpec(), new ReluSpec() })
        {
            var y = act.Apply(X);
            Assert.Equal(y, Layer.Forward<double>(act, [], X));
            Assert.Equal(act.Gradient(X, y, Dy), Layer.Backward<double>(act, [], X, Dy).DX);
        }
    }

    /// <summary>A batch of scalar examples ([rows], example shape []) runs through a shape-free layer.</summary>
    [Fact]
    public void A_vector_is_a_batch_of_scalars()
    {
        var v = NdArray.Vector(-1.0, 0.5, 2.0);
        Assert.Equal(new ReluSpec().Apply(v), Layer.Forward<double>(new ReluSpec(), [], v));
    }

    /// <summary>A layer with two state arrays (a mean and a count, say): only the model carries state.</summary>
    private sealed record TwoStateSpec : LayerSpec
    {
        public override string Kind => "two-state";
        public override Shape OutputShape(Shape input) => input;
        public override System.Collections.Immutable.ImmutableArray<ParamShape> State(Shape input) => [new("running_mean", input), new("count", 1)];
        public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);
        public override void Backward<T>(in BackwardArgs<T> a) => a.DY.CopyTo(a.DX);
    }

    [Fact]
    public void A_stateful_layer_outside_a_model_is_refused_as_the_specs_fault_naming_all_its_state()
    {
        var e = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(new NeuralPure.Properties.Models.CenterSpec(), [], NdArray.Zeros<double>(2, 2)));
        Assert.Equal("spec", e.ParamName);
        var two = Assert.Throws<ArgumentException>(() => Layer.Forward<double>(new TwoStateSpec(), [], NdArray.Zeros<double>(2, 2)));
        Assert.Equal("spec", two.ParamName);
        Assert.Contains("the two-state layer carries state (running_mean, count); run it inside a model", two.Message);
    }

    [Fact]
    public void Argument_bundles_name_null_shapes_and_take_zero_rows_modes_and_threads()
    {
        double[] x = new double[6], y = new double[4];
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => new ForwardArgs<double>(2, null!, 2, x, y, [], [], null, 1)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => new ForwardArgs<double>(2, 3, null!, x, y, [], [], null, 1)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => new BackwardArgs<double>(2, null!, 2, x, y, y, x, true, [], [], [], null, 1)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentNullException>(() => new BackwardArgs<double>(2, 3, null!, x, y, y, x, true, [], [], [], null, 1)).ParamName);
        Assert.Contains("x has 0 elements, not -1 × [3]", Assert.Throws<ArgumentException>(() => new ForwardArgs<double>(-1, 3, 2, [], [], [], [], null, 1)).Message);
        Assert.Contains("x has 0 elements, not -1 × [3]", Assert.Throws<ArgumentException>(() => new BackwardArgs<double>(-1, 3, 2, [], [], [], [], true, [], [], [], null, 1)).Message);

        var f0 = new ForwardArgs<double>(0, 3, 2, [], [], [], [], null, 1);
        Assert.Equal(0, f0.Rows);
        Assert.False(f0.Training);
        var b0 = new BackwardArgs<double>(0, 3, 2, [], [], [], [], true, [], [], [], null, 1);
        Assert.Equal(0, b0.Rows);
        Assert.False(b0.Training);

        var key = RandomKey.FromSeed(1);
        var f = new ForwardArgs<double>(2, 3, 2, x, y, [], [], key, 4);
        Assert.True(f.Training);
        Assert.Equal(4, f.Threads);
        var b = new BackwardArgs<double>(2, 3, 2, x, y, y, x, true, [], [], [], key, 4);
        Assert.True(b.Training);
        Assert.Equal(4, b.Threads);
        Assert.Equal(1, new BackwardArgs<double>(2, 3, 2, x, y, y, x, true, [], [], [], null, 0).Threads);
    }
}
