using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Layers;
using NeuralPure.Properties.Training;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Verification;

/// <summary>The buffers the training fold shares between layers (<see cref="LayerSpec.BackwardInPlace"/>, <see cref="LayerSpec.IsView"/>):
/// the fold shares exactly those the layers allow and gives the pure steps' bits, built-in and user layers alike; Verify.Layer
/// passes every honest claim and fails a false one, naming what it saw.</summary>
public sealed class SharedBuffersTests
{
    /// <summary>f(x) = x³ / 3, f′(x) = x², written as a user would, element by element: an honest BackwardInPlace.</summary>
    private sealed record Cube(bool TwoPasses = false) : ActivationSpec
    {
        public override string Kind => "cube";
        public override bool BackwardInPlace => true;
        public override void Apply<T>(ReadOnlySpan<T> x, Span<T> y, int threads)
        {
            for (int i = 0; i < x.Length; i++) y[i] = x[i] * x[i] * x[i] / T.CreateChecked(3);
        }
        public override void Gradient<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int threads)
        {
            if (TwoPasses)
            {
                // f′(x) first, then times dy: over dy's own buffer the second pass reads f′(x) instead of dy.
                for (int i = 0; i < x.Length; i++) dx[i] = x[i] * x[i];
                for (int i = 0; i < x.Length; i++) dx[i] *= dy[i];
            }
            else for (int i = 0; i < x.Length; i++) dx[i] = x[i] * x[i] * dy[i];
        }
    }

    /// <summary>y = 2x, claimed a view: in place it would even give the right y, but y is not x.</summary>
    private sealed record Doubling : LayerSpec
    {
        public override string Kind => "doubling";
        public override bool IsView => true;
        public override Shape OutputShape(Shape input) => input;
        public override void Forward<T>(in ForwardArgs<T> a) { for (int i = 0; i < a.X.Length; i++) a.Y[i] = a.X[i] + a.X[i]; }
        public override void Backward<T>(in BackwardArgs<T> a) { if (a.InputGradient) for (int i = 0; i < a.DY.Length; i++) a.DX[i] = a.DY[i] + a.DY[i]; }
    }

    /// <summary>Sums pairs of inputs ([4] → [2]) and claims BackwardInPlace, which needs dx and dy of one size.</summary>
    private sealed record PairSums : LayerSpec
    {
        public override string Kind => "pair-sums";
        public override bool BackwardInPlace => true;
        public override Shape OutputShape(Shape input) => Shape.Of(input.Size / 2);
        public override void Forward<T>(in ForwardArgs<T> a) { for (int i = 0; i < a.Y.Length; i++) a.Y[i] = a.X[2 * i] + a.X[2 * i + 1]; }
        public override void Backward<T>(in BackwardArgs<T> a) { if (a.InputGradient) for (int i = 0; i < a.DX.Length; i++) a.DX[i] = a.DY[i / 2]; }
    }

    public static TheoryData<string> BuiltIns() => ["relu", "leaky-relu", "sigmoid", "tanh", "gelu", "silu", "elu", "softplus", "identity"];

    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void Every_built_in_activation_runs_its_backward_in_place_and_passes_the_check(string name)
    {
        var layer = ActivationSpec.Parse(name);
        Assert.True(layer.BackwardInPlace);
        var r = Verify.Layer(layer, Shape.Of(5), rows: 3, training: true);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal("BackwardInPlace: dx written over dy gives the driver's dx and 0 gradient(s), bit for bit", r[Verify.SharedBuffers]!.Detail);
    }

    [Fact]
    public void Flatten_is_a_view_and_passes_the_check_while_the_other_layers_claim_nothing()
    {
        var flatten = Verify.Layer(new FlattenSpec(), Shape.Of(2, 3, 3), rows: 2);
        Assert.True(flatten.Passed, flatten.ToString());
        Assert.Equal("IsView: y written over x and dx over dy give the driver's bits", flatten[Verify.SharedBuffers]!.Detail);
        LayerSpec[] others = [new DenseSpec(4, 3), new DropoutSpec(0.5)];
        foreach (var layer in others)
        {
            Assert.False(layer.BackwardInPlace || layer.IsView, layer.Kind);
            var r = Verify.Layer(layer, Shape.Of(4), rows: 3, training: true);
            Assert.True(r[Verify.SharedBuffers]!.Passed, r.ToString());
            Assert.Equal("claims neither BackwardInPlace nor IsView: the fold gives it buffers of its own", r[Verify.SharedBuffers]!.Detail);
        }
    }

    /// <summary>Batch and layer normalization take their sums over a channel's (a group's) dy before they write its dx, so they
    /// claim BackwardInPlace; the check runs them in place, training and evaluating, on vectors and images, threaded.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Normalizations_write_dx_over_dy_and_pass_the_check(bool training)
    {
        (LayerSpec Layer, Shape Input)[] cases =
            [(new BatchNormSpec(4), Shape.Of(4)), (new BatchNormSpec(3), Shape.Of(3, 5, 6)), (new LayerNormSpec(), Shape.Of(7)), (new LayerNormSpec(2, Affine: false), Shape.Of(3, 4, 5))];
        foreach (var (layer, input) in cases)
        {
            Assert.True(layer.BackwardInPlace, layer.Kind);
            var r = Verify.Layer(layer, input, rows: 5, training: training);
            Assert.True(r[Verify.SharedBuffers]!.Passed, r.ToString());
            Assert.Equal("BackwardInPlace: dx written over dy gives the driver's dx and " + (layer.Parameters(input).Length) + " gradient(s), bit for bit", r[Verify.SharedBuffers]!.Detail);
        }
    }

    [Fact]
    public void A_user_activation_whose_backward_is_element_by_element_passes_and_one_in_two_passes_fails_on_dx()
    {
        var honest = Verify.Layer(new Cube(), Shape.Of(4), rows: 3);
        Assert.True(honest.Passed, honest.ToString());
        var twoPasses = Verify.Layer(new Cube(TwoPasses: true), Shape.Of(4), rows: 3);
        Assert.True(twoPasses[Verify.GradientCheck]!.Passed && twoPasses[Verify.PureVsInPlace]!.Passed, twoPasses.ToString());
        var c = twoPasses[Verify.SharedBuffers]!;
        Assert.False(c.Passed);
        Assert.StartsWith("claims BackwardInPlace: dx", c.Detail);
        Assert.EndsWith("(backward)", c.Detail);
    }

    [Fact]
    public void A_false_view_and_an_in_place_claim_across_sizes_fail_and_say_why()
    {
        var doubling = Verify.Layer(new Doubling(), Shape.Of(4), rows: 2)[Verify.SharedBuffers]!;
        Assert.False(doubling.Passed);
        Assert.StartsWith("claims IsView, but y is not x element for element: y", doubling.Detail);
        var pairs = Verify.Layer(new PairSums(), Shape.Of(4), rows: 2)[Verify.SharedBuffers]!;
        Assert.False(pairs.Passed);
        Assert.Equal("claims BackwardInPlace, but its output [2] has 2 elements per example and its input [4] 4", pairs.Detail);
    }

    [Fact]
    public void The_fold_shares_the_buffers_the_layers_allow_and_gives_the_pure_steps_bits()
    {
        // The test CNN: the second batch norm and ReLU write dx over dy (the first batch norm, ReLU and max pool run as one,
        // BatchNormReluMaxPool2dSpec, their middle buffers never written), the flatten is a view (forward and backward): 4 shared.
        var cnn = CnnFoldTests.Cnn();
        var opt = Optimizer.Adam(0.01);
        var cnnData = ConvolutionTests.Bars<float>(16);
        var cnnStart = Trainer.Init<float>(cnn, opt, RandomKey.FromSeed(2));
        var cnnFold = Fold<float>.Create(cnn, opt, cnnStart, cnnData, 8, null);
        Assert.Equal(4, cnnFold.SharedBuffers);
        // The gradients ping-pong between two buffers (each layer's dx is the memory of the dx two layers up, dead by then).
        Assert.Equal(2, cnnFold.GradientBuffers);
        Assert.Equal(TrainingProblems.StepFold(cnn, opt, cnnStart, cnnData, new TrainConfig(8, 2)), Trainer.Fit(cnn, opt, cnnStart, cnnData, new TrainConfig(8, 2)).State);

        // The phases timed inside the step (the report's kernels inside the step): the backward passes of the layers before the
        // first with parameters (which do not run) have no ticks, a convolution's passes some, and the bits are the same.
        var timedFold = Fold<float>.Create(cnn, opt, cnnStart, cnnData, 8, null);
        var plainFold = Fold<float>.Create(cnn, opt, cnnStart, cnnData, 8, null);
        var ticks = new long[timedFold.PhaseCount];
        timedFold.PhaseTicks = ticks;
        for (int step = 0; step < 2; step++)
        {
            Assert.Equal(plainFold.Step(cnnData, default, 8 * step, 8, cnnStart.Key, step), timedFold.Step(cnnData, default, 8 * step, 8, cnnStart.Key, step));
        }
        int layers = cnn.Layers.Length, firstWithParameters = NeuralPure.Models.Model.FirstWithParameters(cnn);
        Assert.Equal(2 * layers + 3, ticks.Length);
        for (int i = 0; i < ticks.Length; i++)
        {
            bool ran = i <= layers + 1 || i == 2 * layers + 2 || i - layers - 2 >= firstWithParameters;
            Assert.True(ran ? ticks[i] >= 0 : ticks[i] == 0, $"phase {i}: {ticks[i]} ticks");
        }
        Assert.True(ticks[1 + firstWithParameters] > 0 && ticks[layers + 2 + firstWithParameters] > 0, "the first convolution's passes took no time");
        Assert.Equal(plainFold.State(cnnStart), timedFold.State(cnnStart));

        // A user activation that claims BackwardInPlace honestly: shared, and the fit is the pure steps' bits.
        var spec = ModelSpec.Mlp([2, 8, 8, 3], new Cube(), new SoftmaxCrossEntropySpec());
        var data = TrainingProblems.Blobs<double>(24);
        var start = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(3));
        Assert.Equal(2, Fold<double>.Create(spec, opt, start, data, 8, null).SharedBuffers);
        var config = new TrainConfig(8, 3);
        Assert.Equal(TrainingProblems.StepFold(spec, opt, start, data, config), Trainer.Fit(spec, opt, start, data, config).State);

        // The same model with the two-pass gradient: the fold trusts the claim, and its gradients are then wrong, which is
        // what the check above catches before a fit does.
        var lying = ModelSpec.Mlp([2, 8, 8, 3], new Cube(TwoPasses: true), new SoftmaxCrossEntropySpec());
        Assert.NotEqual(TrainingProblems.StepFold(lying, opt, start, data, config), Trainer.Fit(lying, opt, start, data, config).State);
    }
}
