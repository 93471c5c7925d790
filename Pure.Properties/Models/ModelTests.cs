using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Models;

/// <summary>Whole networks: backpropagation against central differences, purity, descent, float against double, and the checks at the surface.</summary>
public sealed class ModelTests
{
    private static double Loss(NetworkCase c, ParamTree<double> p, RandomKey? key = null) => Model.Loss(c.Spec, p, c.Batch, key);

    private static ParamTree<double> Copy(ParamTree<double> p) => p.Unflatten(p.Flatten());

    private static NdArray<double> Copy(NdArray<double> a) => NdArray.From<double>(a.ToArray(), [.. a.Shape]);

    // ── Gradients ────────────────────────────────────────────────────────────────────────────────

    /// <summary>Every parameter of a random network (depth 1–4, widths 1–12, batch 1–16, any activation and loss) against
    /// central differences; ReLU/LeakyReLU cases with a pre-activation within 1e-4 of 0 (or Huber within 1e-3 of δ) are rejected.</summary>
    [Law(150)]
    public Property Every_parameter_gradient_matches_central_differences() =>
        Prop.ForAll(Generators.Network().ToArbitrary(), c =>
            Prop.When(Generators.AwayFromKinks(c), () =>
                GradCheck.OfParameters(p => Loss(c, p), c.Params, Model.ValueAndGrad(c.Spec, c.Params, c.Batch).Grads)));

    [Law(100)]
    public Property The_input_gradient_matches_central_differences() =>
        Prop.ForAll(Generators.Network().ToArbitrary(), c =>
            Prop.When(Generators.AwayFromKinks(c), () =>
                GradCheck.OfInput(x => Model.Loss(c.Spec, c.Params, new Batch<double>(x, c.Batch.Y)), c.Batch.X,
                    Model.InputGradient(c.Spec, c.Params, c.Batch).InputGrad)));

    /// <summary>With dropout in training mode and a fixed key the mask is fixed, so the loss is a smooth function of the parameters and the input again.</summary>
    [Law(60)]
    public Property Gradients_with_dropout_and_a_fixed_key_match_central_differences() =>
        Prop.ForAll(Gen.Zip(Generators.Network(maxDepth: 3, dropout: true), Generators.Seed).ToArbitrary(), t =>
        {
            var (c, seed) = t;
            var key = RandomKey.FromSeed(seed);
            return Prop.When(Generators.AwayFromKinks(c, key), () =>
                GradCheck.OfParameters(p => Loss(c, p, key), c.Params, Model.ValueAndGrad(c.Spec, c.Params, c.Batch, key).Grads)
                    .And(GradCheck.OfInput(x => Model.Loss(c.Spec, c.Params, new Batch<double>(x, c.Batch.Y), key), c.Batch.X,
                        Model.InputGradient(c.Spec, c.Params, c.Batch, key).InputGrad)));
        });

    /// <summary>A 64-32-10 network on a batch of 16 (2 410 parameters): the directional derivative along a random v equals ⟨∇, v⟩.</summary>
    /// <remarks>The step h·v moves every parameter at once, so a first-layer pre-activation moves by up to h·(Σ|x| + 1) ≈ 6.5e-5
    /// with x ∈ [−1, 1]: the kink margin is raised to 1e-3 here.</remarks>
    [Law(40)]
    public Property Directional_derivative_of_a_64_32_10_network_matches_the_gradient() =>
        Prop.ForAll(LargeNetwork().ToArbitrary(), t =>
        {
            var (c, dirSeed) = t;
            return Prop.When(Generators.AwayFromKinks(c.Spec, c.Params, c.Batch, margin: 1e-3), () =>
                GradCheck.Directional(p => Loss(c, p), c.Params, Model.ValueAndGrad(c.Spec, c.Params, c.Batch).Grads, RandomKey.FromSeed(dirSeed)));
        });

    private static Gen<(NetworkCase, ulong)> LargeNetwork() =>
        from act in Generators.Activation
        from loss in Generators.Loss(10)
        from init in Generators.RandomInitializer
        from seed in Generators.Seed
        from x in Generators.Matrix(16, 64, 1.0)
        from y in Generators.Targets(loss, 16, 10)
        from dirSeed in Generators.Seed
        let spec = ModelSpec.Mlp([64, 32, 10], act, loss, init)
        select (new NetworkCase(spec, init, seed, Model.Init<double>(spec, RandomKey.FromSeed(seed)), new Batch<double>(x, y)), dirSeed);

    // ── Purity ───────────────────────────────────────────────────────────────────────────────────

    [Law(60)]
    public Property Backprop_changes_nothing() =>
        Prop.ForAll(Gen.Zip(Generators.Network(dropout: true), Gen.Elements(false, true)).ToArbitrary(), t =>
        {
            var (c, training) = t;
            RandomKey? key = training ? RandomKey.FromSeed(c.Seed ^ 0x5eed) : null;
            var (p, x, y) = (Copy(c.Params), Copy(c.Batch.X), Copy(c.Batch.Y));
            Model.ValueAndGrad(c.Spec, c.Params, c.Batch, key);
            Model.Backprop(c.Spec, c.Params, c.Batch, key);
            Model.InputGradient(c.Spec, c.Params, c.Batch, key);
            Model.Forward(c.Spec, c.Params, c.Batch.X, key);
            return c.Params.Equals(p).Label("parameters changed")
                .And(c.Batch.X.Equals(x).Label("x changed"))
                .And(c.Batch.Y.Equals(y).Label("targets changed"));
        });

    [Law(40)]
    public Property The_same_call_gives_the_same_bits() =>
        Prop.ForAll(Generators.Network(dropout: true).ToArbitrary(), c =>
        {
            var key = RandomKey.FromSeed(c.Seed + 1);
            var (l1, g1) = Model.ValueAndGrad(c.Spec, c.Params, c.Batch, key);
            var (l2, g2) = Model.ValueAndGrad(c.Spec, c.Params, c.Batch, key);
            return (l1.Equals(l2) && g1.Equals(g2)).Label("two identical calls differ")
                .And(Model.Init<double>(c.Spec, RandomKey.FromSeed(c.Seed)).Equals(c.Params).Label("Init with one key differs"));
        });

    /// <summary>The trace is consistent with the other entry points: its first activation is x, its last is Forward's output,
    /// its loss is ValueAndGrad's and Loss's, its first activation gradient is InputGradient's.</summary>
    [Law(40)]
    public Property Backprop_trace_agrees_with_Forward_Loss_and_InputGradient() =>
        Prop.ForAll(Generators.Network().ToArbitrary(), c =>
        {
            var t = Model.Backprop(c.Spec, c.Params, c.Batch);
            return (t.Activations.Length == c.Spec.Layers.Length + 1 && t.ActivationGrads.Length == t.Activations.Length).Label("trace lengths")
                .And(t.Activations[0].Equals(c.Batch.X).Label("Activations[0] is not x"))
                .And(t.Activations[^1].Equals(Model.Forward(c.Spec, c.Params, c.Batch.X)).Label("last activation is not Forward's output"))
                .And(t.Loss.Equals(Model.Loss(c.Spec, c.Params, c.Batch)).Label("trace loss is not Loss"))
                .And(t.Loss.Equals(c.Spec.Loss.Value(t.Activations[^1], c.Batch.Y)).Label("trace loss is not the loss of the output"))
                .And(t.ActivationGrads[0].Equals(Model.InputGradient(c.Spec, c.Params, c.Batch).InputGrad).Label("ActivationGrads[0] is not InputGradient"))
                .And(t.ActivationGrads[^1].Equals(c.Spec.Loss.ValueAndGrad(t.Activations[^1], c.Batch.Y).Gradient).Label("last activation gradient is not the loss's"))
                .And(t.Grads.Equals(Model.ValueAndGrad(c.Spec, c.Params, c.Batch).Grads).Label("trace grads are not ValueAndGrad's"));
        });

    /// <summary>Forward (evaluation) is the composition of the layers' public functions; dropout is the identity there.</summary>
    [Law(40)]
    public Property Forward_is_the_composition_of_the_layers() =>
        Prop.ForAll(Generators.Network(dropout: true).ToArbitrary(), c =>
        {
            var a = c.Batch.X;
            int leaf = 0;
            foreach (var layer in c.Spec.Layers)
            {
                a = layer switch
                {
                    DenseSpec => Dense.Forward(new DenseParams<double>(c.Params[leaf], c.Params[leaf + 1]), a),
                    ActivationSpec act => act.Apply(a),
                    DropoutSpec d => Dropout.Forward(a, d.Rate, null),
                    _ => throw new InvalidOperationException(layer.Kind),
                };
                leaf += layer.Parameters(a.Shape[1]).Length;
            }
            return a.Equals(Model.Forward(c.Spec, c.Params, c.Batch.X)).Label("Forward differs from the composition")
                .And(a.Equals(Model.Forward(c.Spec, c.Params, c.Batch.X, null)).Label("Forward with a null key differs"));
        });

    // ── Descent ──────────────────────────────────────────────────────────────────────────────────

    /// <summary>On smooth networks (tanh, sigmoid, GELU; MSE or cross-entropy) one full-batch SGD step with η = 1e-4/(1 + ‖g‖)
    /// does not increase the loss beyond rounding, and decreases it strictly when ‖g‖ ≥ 1e-2.</summary>
    /// <remarks>Taylor: L(θ − ηg) = L − η‖g‖² + O(η²‖g‖²·‖H‖); with η‖H‖ ≪ 1 the first-order decrease dominates.</remarks>
    [Law(100)]
    public Property One_small_SGD_step_does_not_increase_the_loss() =>
        Prop.ForAll(Generators.Network(activation: Generators.SmoothActivation, loss: SmoothLoss).ToArbitrary(), c =>
        {
            var (before, g) = Model.ValueAndGrad(c.Spec, c.Params, c.Batch);
            double norm = Optimizer.GlobalNorm(g), lr = 1e-4 / (1 + norm);
            var sgd = Optimizer.Sgd(lr);
            var (updates, _) = sgd.Update(g, sgd.Init(c.Params), c.Params);
            double after = Loss(c, Optimizer.ApplyUpdates(c.Params, updates));
            return (after <= before + 1e-12 * Math.Abs(before)).Label($"loss rose from {before:R} to {after:R} (‖g‖ {norm:R}, η {lr:R})")
                .And((norm < 1e-2 || after < before).Label($"loss did not fall: {before:R} → {after:R} with ‖g‖ {norm:R}"));
        });

    private static Gen<LossSpec> SmoothLoss(int width) => width < 2 ? Gen.Constant<LossSpec>(new MseSpec()) : Gen.OneOf(Gen.Constant<LossSpec>(new MseSpec()), Generators.CrossEntropy(width));

    // ── Float and double ─────────────────────────────────────────────────────────────────────────

    /// <summary>The same generic code in float agrees with double, run on the same (float-representable) parameters and inputs,
    /// to float rounding: within 1e-5 of the output's scale (~170 float ulps for depth ≤ 4 and width ≤ 12; float's ε is 1.2e-7).</summary>
    [Law(100)]
    public Property A_float_forward_agrees_with_double() =>
        Prop.ForAll(Generators.Network().ToArbitrary(), c =>
        {
            var pf = c.Params.Cast<float>();
            var xf = c.Batch.X.Cast<float>();
            var yf = Model.Forward(c.Spec, pf, xf);
            var yd = Model.Forward(c.Spec, pf.Cast<double>(), xf.Cast<double>());
            double scale = 1 + yd.ToArray().Max(Math.Abs);
            for (int i = 0; i < yd.Length; i++)
                if (!(Math.Abs(yf[i] - yd[i]) <= 1e-5 * scale)) return false.Label($"output {i}: float {yf[i]:R}, double {yd[i]:R} (scale {scale:R})");
            return true.ToProperty();
        });

    [Fact]
    public void Float_parameters_from_Init_are_the_double_ones_rounded()
    {
        var spec = ModelSpec.Mlp([5, 7, 3], new TanhSpec(), new MseSpec(), Initializer.HeNormal);
        var key = RandomKey.FromSeed(42);
        Assert.True(Model.Init<float>(spec, key).Equals(Model.Init<double>(spec, key).Cast<float>()));
    }

    // ── Errors at the public surface ─────────────────────────────────────────────────────────────

    private static readonly ModelSpec Classifier = ModelSpec.Mlp([5, 4, 3], new ReluSpec(), new SoftmaxCrossEntropySpec());
    private static readonly ModelSpec Regressor = ModelSpec.Mlp([5, 4, 2], new TanhSpec(), new MseSpec());
    private static readonly ParamTree<double> ClassifierParams = Model.Init<double>(Classifier, RandomKey.FromSeed(1));
    private static readonly ParamTree<double> RegressorParams = Model.Init<double>(Regressor, RandomKey.FromSeed(1));

    [Fact]
    public void An_input_of_the_wrong_width_names_both_widths()
    {
        var x = NdArray.Zeros<double>(2, 3);
        var e = Assert.Throws<ArgumentException>(() => Model.Forward(Classifier, ClassifierParams, x));
        Assert.Contains("[rows, 5]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Classifier, ClassifierParams, Batch<double>.Classification(x, [0, 1])));
        Assert.Contains("[2, 3]", e2.Message);
        Assert.Equal("batch", e2.ParamName);
    }

    [Theory]
    [InlineData(3.0, "label 3 ")]
    [InlineData(-1.0, "label -1 ")]
    [InlineData(0.5, "label 0.5 ")]
    public void A_label_outside_the_classes_or_not_whole_is_named(double bad, string expected)
    {
        var batch = new Batch<double>(NdArray.Full(0.5, 2, 5), NdArray.Vector(1.0, bad));
        var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Classifier, ClassifierParams, batch));
        Assert.Contains(expected, e.Message);
        Assert.Contains("[0, 3)", e.Message);
        Assert.Contains("row 1", e.Message);
        Assert.Throws<ArgumentException>(() => Model.Loss(Classifier, ClassifierParams, batch));
    }

    [Fact]
    public void An_empty_batch_is_rejected()
    {
        var empty = new Batch<double>(NdArray.Zeros<double>(0, 5), NdArray.Zeros<double>(0));
        var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Classifier, ClassifierParams, empty));
        Assert.Contains("empty (0 rows)", e.Message);
        Assert.Throws<ArgumentException>(() => Model.Forward(Classifier, ClassifierParams, empty.X));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_input_is_named_with_its_row_and_column(double bad)
    {
        // Anywhere: inside, at the very first element and at the very last.
        foreach (var (at, where) in new[] { (7, "row 1, column 2"), (0, "row 0, column 0"), (9, "row 1, column 4") })
        {
            var data = new double[10];
            data[at] = bad;
            var x = NdArray.From<double>(data, 2, 5);
            var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Regressor, RegressorParams, new Batch<double>(x, NdArray.Zeros<double>(2, 2))));
            Assert.Contains(where, e.Message);
            Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
            Assert.Equal("batch", e.ParamName);
            Assert.Equal("x", Assert.Throws<ArgumentException>(() => Model.Forward(Regressor, RegressorParams, x)).ParamName);
        }
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_non_finite_target_is_named_with_its_row(double bad)
    {
        var y = NdArray.From<double>([0, 0, bad, 0], 2, 2);
        var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Regressor, RegressorParams, new Batch<double>(NdArray.Zeros<double>(2, 5), y)));
        Assert.Contains("row 1", e.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Parameters_with_other_names_are_rejected_with_both_name_lists()
    {
        var deeper = ModelSpec.Mlp([5, 4, 4, 2], new TanhSpec(), new MseSpec());
        var wrong = Model.Init<double>(deeper, RandomKey.FromSeed(2));
        var e = Assert.Throws<ArgumentException>(() => Model.Forward(Regressor, wrong, NdArray.Zeros<double>(1, 5)));
        Assert.Contains("parameters [0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias] do not match the model's [0.weight, 0.bias, 2.weight, 2.bias]", e.Message);
        Assert.Equal("parameters", e.ParamName);
    }

    [Fact]
    public void Parameters_with_a_wrong_shape_name_the_leaf_and_both_shapes()
    {
        var leaves = RegressorParams.Leaves.SetItem(0, NdArray.Zeros<double>(5, 4));
        var wrongW = new ParamTree<double>(RegressorParams.Names, leaves);
        var e = Assert.Throws<ArgumentException>(() => Model.ValueAndGrad(Regressor, wrongW, new Batch<double>(NdArray.Zeros<double>(1, 5), NdArray.Zeros<double>(1, 2))));
        Assert.Contains("0.weight", e.Message);
        Assert.Contains("[4, 5]", e.Message);
        Assert.Contains("[5, 4]", e.Message);

        var wrongB = new ParamTree<double>(RegressorParams.Names, RegressorParams.Leaves.SetItem(3, NdArray.Zeros<double>(3)));
        var e2 = Assert.Throws<ArgumentException>(() => Model.Forward(Regressor, wrongB, NdArray.Zeros<double>(1, 5)));
        Assert.Contains("2.bias", e2.Message);
        Assert.Contains("[2]", e2.Message);
        Assert.Contains("[3]", e2.Message);
    }

    [Fact]
    public void Init_names_parameters_like_nn_Sequential()
    {
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], ClassifierParams.Names.ToArray());
        Assert.Equal([4, 5], ClassifierParams["0.weight"].Shape.ToArray());
        Assert.Equal([3], ClassifierParams["2.bias"].Shape.ToArray());
        Assert.False(ClassifierParams.Equals(Model.Init<double>(Classifier, RandomKey.FromSeed(2))));
    }

    [Fact]
    public void A_null_batch_is_named()
    {
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => Model.Loss(Classifier, ClassifierParams, null!)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => Model.ValueAndGrad(Classifier, ClassifierParams, null!)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => Model.Backprop(Classifier, ClassifierParams, null!)).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.Init<double>(null!, RandomKey.FromSeed(1))).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Model.Forward(Classifier, ClassifierParams, null!)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Model.Forward(Classifier, null!, NdArray.Zeros<double>(1, 5))).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.RequireInput(null!, NdArray.Zeros<double>(1, 5), "x")).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Model.RequireInput<double>(Classifier, null!, "x")).ParamName);
        Assert.Equal("spec", Assert.Throws<ArgumentNullException>(() => Model.RequireParameters(null!, ClassifierParams, "p")).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => Model.RequireParameters<double>(Classifier, null!, "p")).ParamName);
    }

    /// <summary>A network that starts with layers without parameters (an activation, dropout): ValueAndGrad skips differentiating
    /// below its first dense layer, and still gives the gradients of the full backward pass, which match central differences.</summary>
    [Fact]
    public void Layers_below_the_first_dense_one_are_skipped_by_ValueAndGrad_without_changing_a_gradient()
    {
        var spec = new ModelSpec(4, [new TanhSpec(), new DropoutSpec(0.25), new DenseSpec(4, 5), new SigmoidSpec(), new DenseSpec(5, 3)], new SoftmaxCrossEntropySpec());
        var p = Model.Init<double>(spec, RandomKey.FromSeed(6));
        var r = new System.Random(3);
        var batch = Batch<double>.Classification(NdArray.From<double>([.. Enumerable.Range(0, 24).Select(_ => r.NextDouble() * 2 - 1)], 6, 4), [0, 1, 2, 2, 1, 0]);
        var key = RandomKey.FromSeed(9);
        var (loss, grads) = Model.ValueAndGrad(spec, p, batch, key);
        var trace = Model.Backprop(spec, p, batch, key);
        Assert.Equal(trace.Loss, loss);
        Assert.Equal(trace.Grads, grads);
        GradCheck.OfParameters(q => Model.Loss(spec, q, batch, key), p, grads);
        Assert.Equal(new[] { "2.weight", "2.bias", "4.weight", "4.bias" }, grads.Names.ToArray());
        // Backprop and InputGradient still go all the way down to the input.
        GradCheck.OfInput(x => Model.Loss(spec, p, new Batch<double>(x, batch.Y), key), batch.X, Model.InputGradient(spec, p, batch, key).InputGrad);
    }

    /// <summary>Two traces are equal when every part is: a change to any one of them (the loss, a gradient, an activation, an
    /// activation's gradient) makes them differ.</summary>
    [Fact]
    public void Backprop_traces_are_equal_exactly_when_every_part_is()
    {
        var batch = Batch<double>.Classification(NdArray.From<double>([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0], 2, 5), [0, 2]);
        var t = Model.Backprop(Classifier, ClassifierParams, batch);
        Assert.True(t.Equals(Model.Backprop(Classifier, ClassifierParams, batch)));
        Assert.Equal(t.GetHashCode(), Model.Backprop(Classifier, ClassifierParams, batch).GetHashCode());
        Assert.False(t.Equals(null));
        NdArray<double> Bumped(NdArray<double> a) { var c = a.ToArray(); c[0] += 1; return NdArray.From<double>(c, [.. a.Shape]); }
        Assert.False(t.Equals(t with { Loss = t.Loss + 1 }));
        Assert.False(t.Equals(t with { Grads = new ParamTree<double>(t.Grads.Names, t.Grads.Leaves.SetItem(1, Bumped(t.Grads[1]))) }));
        Assert.False(t.Equals(t with { Activations = t.Activations.SetItem(1, Bumped(t.Activations[1])) }));
        Assert.False(t.Equals(t with { ActivationGrads = t.ActivationGrads.SetItem(0, Bumped(t.ActivationGrads[0])) }));
        Assert.True(t.Equals(t with { }));
    }

    /// <summary>A weight wrong in one dimension only (rows, or columns) is caught as surely as one wrong in both.</summary>
    [Fact]
    public void A_weight_wrong_in_one_dimension_is_named()
    {
        foreach (var (shape, text) in new[] { (new[] { 3, 5 }, "[3, 5]"), (new[] { 4, 6 }, "[4, 6]"), (new[] { 20 }, "[20]") })
        {
            var wrong = new ParamTree<double>(RegressorParams.Names, RegressorParams.Leaves.SetItem(0, NdArray.Zeros<double>(shape)));
            var e = Assert.Throws<ArgumentException>(() => Model.Forward(Regressor, wrong, NdArray.Zeros<double>(1, 5)));
            Assert.Contains($"0.weight must be [4, 5], got {text}", e.Message);
        }
        var bias = new ParamTree<double>(RegressorParams.Names, RegressorParams.Leaves.SetItem(1, NdArray.Zeros<double>(4, 1)));
        Assert.Contains("0.bias must be [4], got [4, 1]", Assert.Throws<ArgumentException>(() => Model.Forward(Regressor, bias, NdArray.Zeros<double>(1, 5))).Message);
    }

    /// <summary>A model without parameters (an activation and a loss) has a loss, an empty gradient tree, and an input gradient.</summary>
    [Fact]
    public void A_model_without_parameters_has_a_loss_and_no_gradients()
    {
        var spec = new ModelSpec(3, [new TanhSpec()], new MseSpec());
        var p = Model.Init<double>(spec, RandomKey.FromSeed(1));
        var batch = new Batch<double>(NdArray.From<double>([0.5, -1, 2, 0.1, 0.2, -0.3], 2, 3), NdArray.Zeros<double>(2, 3));
        var (loss, grads) = Model.ValueAndGrad(spec, p, batch);
        Assert.Equal(0, grads.Count);
        Assert.Equal(Model.Loss(spec, p, batch), loss);
        GradCheck.OfInput(x => Model.Loss(spec, p, new Batch<double>(x, batch.Y)), batch.X, Model.InputGradient(spec, p, batch).InputGrad);
    }
}
