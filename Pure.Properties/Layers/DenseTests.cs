using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Layers;

/// <summary>The dense layer: forward against its definition, backward against central differences, float against double, and its checks.</summary>
public sealed class DenseTests
{
    /// <summary>A layer's parameters, an input batch and an upstream gradient dL/dy.</summary>
    public sealed record DenseCase(NdArray<double> W, NdArray<double> B, NdArray<double> X, NdArray<double> Dy)
    {
        public DenseParams<double> Params => new(W, B);
        public ParamTree<double> Tree => new(["W", "b"], [W, B]);
        public override string ToString() =>
            $"W = {Generators.Show(W)}\n  b = {Generators.Show(B)}\n  x = {Generators.Show(X)}\n  dy = {Generators.Show(Dy)}";
    }

    /// <summary>Rows 1–<paramref name="maxRows"/>, in and out 1–<paramref name="maxWidth"/>, moderate values.</summary>
    private static Gen<DenseCase> Cases(int maxRows = 16, int maxWidth = 12) =>
        from rows in Gen.Choose(1, maxRows)
        from inW in Gen.Choose(1, maxWidth)
        from outW in Gen.Choose(1, maxWidth)
        from w in Generators.Matrix(outW, inW, 1.5)
        from b in Generators.Matrix(1, outW, 1.5).Select(m => m.Reshape(outW))
        from x in Generators.Matrix(rows, inW, 2.0)
        from dy in Generators.Matrix(rows, outW, 2.0)
        select new DenseCase(w, b, x, dy);

    private static double Naive(DenseCase c, int i, int j)
    {
        double s = c.B[j];
        for (int k = 0; k < c.X.Cols; k++) s += c.X[i, k] * c.W[j, k];
        return s;
    }

    private static double AbsTerms(DenseCase c, int i, int j)
    {
        double s = Math.Abs(c.B[j]);
        for (int k = 0; k < c.X.Cols; k++) s += Math.Abs(c.X[i, k] * c.W[j, k]);
        return s;
    }

    [Law(60)]
    public Property Weight_and_bias_gradients_match_central_differences() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var g = Dense.Backward(c.Params, c.X, c.Dy);
            return GradCheck.OfParameters(t => GradCheck.Pair(c.Dy, Dense.Forward(new DenseParams<double>(t[0], t[1]), c.X)), c.Tree,
                new ParamTree<double>(["W", "b"], [g.W, g.B]));
        });

    [Law(60)]
    public Property Input_gradient_matches_central_differences() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
            GradCheck.OfInput(x => GradCheck.Pair(c.Dy, Dense.Forward(c.Params, x)), c.X, Dense.Backward(c.Params, c.X, c.Dy).X));

    /// <summary>Sizes up to 40 cross the SIMD widths (2, 4, 8 doubles) and their scalar tails.</summary>
    [Law(60)]
    public Property Forward_is_x_times_W_transposed_plus_b() =>
        Prop.ForAll(Cases(20, 40).ToArbitrary(), c =>
        {
            var y = Dense.Forward(c.Params, c.X);
            if (y.Rows != c.X.Rows || y.Cols != c.W.Rows || y.Rank != 2) return false.Label($"y has shape {y.ShapeText}");
            for (int i = 0; i < y.Rows; i++)
                for (int j = 0; j < y.Cols; j++)
                {
                    double expected = Naive(c, i, j), tol = 1e-14 * AbsTerms(c, i, j);
                    if (!(Math.Abs(y[i, j] - expected) <= tol)) return false.Label($"y[{i}, {j}] = {y[i, j]:R}, definition {expected:R}");
                }
            return true.ToProperty();
        });

    /// <summary>dW = dyᵀ·x, db = Σ rows of dy, dx = dy·W, each to rounding of its own sum.</summary>
    [Law(60)]
    public Property Backward_is_the_three_matrix_products() =>
        Prop.ForAll(Cases(20, 40).ToArbitrary(), c =>
        {
            var g = Dense.Backward(c.Params, c.X, c.Dy);
            int rows = c.X.Rows, inW = c.X.Cols, outW = c.W.Rows;
            for (int o = 0; o < outW; o++)
            {
                double db = 0, dbAbs = 0;
                for (int i = 0; i < rows; i++) { db += c.Dy[i, o]; dbAbs += Math.Abs(c.Dy[i, o]); }
                if (!(Math.Abs(g.B[o] - db) <= 1e-14 * dbAbs)) return false.Label($"db[{o}] = {g.B[o]:R}, expected {db:R}");
                for (int k = 0; k < inW; k++)
                {
                    double dw = 0, abs = 0;
                    for (int i = 0; i < rows; i++) { dw += c.Dy[i, o] * c.X[i, k]; abs += Math.Abs(c.Dy[i, o] * c.X[i, k]); }
                    if (!(Math.Abs(g.W[o, k] - dw) <= 1e-14 * abs)) return false.Label($"dW[{o}, {k}] = {g.W[o, k]:R}, expected {dw:R}");
                }
            }
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < inW; k++)
                {
                    double dx = 0, abs = 0;
                    for (int o = 0; o < outW; o++) { dx += c.Dy[i, o] * c.W[o, k]; abs += Math.Abs(c.Dy[i, o] * c.W[o, k]); }
                    if (!(Math.Abs(g.X[i, k] - dx) <= 1e-14 * abs)) return false.Label($"dx[{i}, {k}] = {g.X[i, k]:R}, expected {dx:R}");
                }
            return (g.W.Shape.SequenceEqual(c.W.Shape) && g.B.Shape.SequenceEqual(c.B.Shape) && g.X.Shape.SequenceEqual(c.X.Shape))
                .Label($"gradient shapes {g.W.ShapeText}, {g.B.ShapeText}, {g.X.ShapeText}");
        });

    /// <summary>In float, each output is a sum of k + 1 terms, so |y_float − y_exact| ≤ γ_(k+2)·Σ|terms| with γ_n = n·u/(1 − n·u),
    /// u = 2⁻²⁴, whatever the summation order (Higham, Accuracy and Stability, §3.1). The exact value is computed in double from the same floats.</summary>
    [Law(60)]
    public Property Float_forward_agrees_with_double_to_float_rounding() =>
        Prop.ForAll(Cases(20, 40).ToArbitrary(), c =>
        {
            var pf = new DenseParams<float>(c.W.Cast<float>(), c.B.Cast<float>());
            var xf = c.X.Cast<float>();
            var yf = Dense.Forward(pf, xf);
            var asDouble = new DenseCase(pf.W.Cast<double>(), pf.B.Cast<double>(), xf.Cast<double>(), c.Dy);
            const double u = 1.0 / (1 << 24);
            int n = c.X.Cols + 2;
            double gamma = n * u / (1 - n * u);
            for (int i = 0; i < yf.Rows; i++)
                for (int j = 0; j < yf.Cols; j++)
                {
                    double exact = Naive(asDouble, i, j), bound = gamma * AbsTerms(asDouble, i, j);
                    if (!(Math.Abs(yf[i, j] - exact) <= bound)) return false.Label($"y[{i}, {j}] float {yf[i, j]:R} vs exact {exact:R}, bound {bound:R}");
                }
            return true.ToProperty();
        });

    [Law(40)]
    public Property Forward_and_backward_change_none_of_their_arguments() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var (w, b, x, dy) = (c.W.ToArray(), c.B.ToArray(), c.X.ToArray(), c.Dy.ToArray());
            Dense.Forward(c.Params, c.X);
            Dense.Backward(c.Params, c.X, c.Dy);
            return (c.W.Equals(NdArray.From<double>(w, [.. c.W.Shape])) && c.B.Equals(NdArray.From<double>(b, [.. c.B.Shape]))
                    && c.X.Equals(NdArray.From<double>(x, [.. c.X.Shape])) && c.Dy.Equals(NdArray.From<double>(dy, [.. c.Dy.Shape])))
                .Label("an argument changed");
        });

    [Law(40)]
    public Property Transpose_twice_is_the_identity_and_FromInOut_inverts_WeightInOut() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            var t = Dense.Transpose(c.W);
            bool shape = t.Rows == c.W.Cols && t.Cols == c.W.Rows;
            bool elements = Enumerable.Range(0, c.W.Rows).All(i => Enumerable.Range(0, c.W.Cols).All(j => t[j, i] == c.W[i, j]));
            var back = DenseParams<double>.FromInOut(c.Params.WeightInOut(), c.B);
            return (shape && elements).Label($"transpose {t.ShapeText} of {c.W.ShapeText}")
                .And(Dense.Transpose(t).Equals(c.W).Label("transpose twice"))
                .And((back.W.Equals(c.W) && back.B.Equals(c.B)).Label("FromInOut(WeightInOut())"));
        });

    [Fact]
    public void A_small_layer_gives_the_hand_computed_output()
    {
        var p = new DenseParams<double>(NdArray.Matrix(new double[,] { { 1, 2 }, { -1, 0.5 }, { 0, 3 } }), NdArray.Vector(0.5, -1.0, 2.0));
        var y = Dense.Forward(p, NdArray.Matrix(new double[,] { { 2, 4 } }));
        Assert.Equal([10.5, -1.0, 14.0], y.ToArray());
        Assert.Equal(3, p.Out);
        Assert.Equal(2, p.In);
    }

    [Fact]
    public void Forward_with_the_wrong_input_width_names_both_shapes()
    {
        var p = new DenseParams<double>(NdArray.Zeros<double>(5, 3), NdArray.Zeros<double>(5));
        var e = Assert.Throws<ArgumentException>(() => Dense.Forward(p, NdArray.Zeros<double>(2, 4)));
        Assert.Contains("[rows, 3]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        Assert.Contains("[5, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => Dense.Forward(p, NdArray.Zeros<double>(3)));
    }

    [Fact]
    public void Backward_with_the_wrong_dy_names_the_expected_and_actual_shapes()
    {
        var p = new DenseParams<double>(NdArray.Zeros<double>(5, 3), NdArray.Zeros<double>(5));
        var e = Assert.Throws<ArgumentException>(() => Dense.Backward(p, NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(2, 4)));
        Assert.Contains("[2, 5]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        Assert.Equal("dy", e.ParamName);
    }

    [Fact]
    public void DenseParams_rejects_a_weight_that_is_not_a_matrix_and_a_bias_of_the_wrong_length()
    {
        var e1 = Assert.Throws<ArgumentException>(() => new DenseParams<double>(NdArray.Zeros<double>(6), NdArray.Zeros<double>(6)));
        Assert.Contains("[6]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new DenseParams<double>(NdArray.Zeros<double>(4, 3), NdArray.Zeros<double>(3)));
        Assert.Contains("[4, 3]", e2.Message);
        Assert.Contains("[3]", e2.Message);
        Assert.Contains("[4]", e2.Message);
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(3, 0)]
    [InlineData(-1, 3)]
    public void DenseSpec_rejects_widths_below_1(int inW, int outW) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenseSpec(inW, outW));

    [Fact]
    public void DenseSpec_defaults_to_PyTorchs_initializer_and_names_its_parameters_like_nn_Linear()
    {
        var d = new DenseSpec(3, 4);
        Assert.Same(Initializer.PyTorchLinear, d.Initializer);
        Assert.Equal(["weight", "bias"], d.Parameters(3).Select(p => p.Name).ToArray());
        Assert.Equal([Shape.Of(4, 3), Shape.Of(4)], d.Parameters(3).Select(p => p.Shape).ToArray());
        Assert.Equal("dense", d.Kind);
        Assert.Equal(Shape.Of(4), d.OutputShape(3));
        var image = Assert.Throws<ArgumentException>(() => d.OutputShape(Shape.Of(1, 3)));
        Assert.Contains("flatten", image.Message);
        var e = Assert.Throws<ArgumentException>(() => d.OutputShape(5));
        Assert.Contains("3→4", e.Message);
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void DenseSpec_init_draws_W_out_by_in_and_b_out()
    {
        var spec = new ModelSpec(3, [new DenseSpec(3, 4, Initializer.XavierUniform)], new MseSpec());
        var p = Model.Init<double>(spec, RandomKey.FromSeed(7));
        Assert.Equal([4, 3], p["0.weight"].Shape.ToArray());
        Assert.Equal([4], p["0.bias"].Shape.ToArray());
    }

    // ── What the mutation run found unchecked ──────────────────────────────────────────────────────────

    [Fact]
    public void Refusals_name_the_argument_and_the_shapes()
    {
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => new DenseSpec(0, 3));
        Assert.Equal("In", e1.ParamName); Assert.Contains("input width ≥ 1", e1.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => new DenseSpec(3, 0));
        Assert.Equal("Out", e2.ParamName); Assert.Contains("output width ≥ 1", e2.Message);
        var w = NdArray.Zeros<double>(2, 3); var b = NdArray.Zeros<double>(2);
        Assert.Equal("W", Assert.Throws<ArgumentNullException>(() => new DenseParams<double>(null!, b)).ParamName);
        Assert.Equal("B", Assert.Throws<ArgumentNullException>(() => new DenseParams<double>(w, null!)).ParamName);
        var p = new DenseParams<double>(w, b);
        var x = NdArray.Zeros<double>(4, 3);
        Assert.Equal("p", Assert.Throws<ArgumentNullException>(() => Dense.Forward(null!, x)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Dense.Forward(p, null!)).ParamName);
        // dy with the right rank and width but the wrong number of rows, and with the right rows but the wrong width.
        var rows = Assert.Throws<ArgumentException>(() => Dense.Backward(p, x, NdArray.Zeros<double>(5, 2)));
        Assert.Equal("dy", rows.ParamName); Assert.Contains("dy must be [4, 2]", rows.Message);
        Assert.Throws<ArgumentException>(() => Dense.Backward(p, x, NdArray.Zeros<double>(4, 3)));
        Assert.Throws<ArgumentException>(() => Dense.Backward(p, x, NdArray.Zeros<double>(8)));
        Assert.Equal("a", Assert.Throws<ArgumentNullException>(() => Dense.Transpose<double>(null!)).ParamName);
        var t = Assert.Throws<ArgumentException>(() => Dense.Transpose(NdArray.Vector(1.0, 2.0)));
        Assert.Equal("a", t.ParamName); Assert.Contains("transpose needs a matrix, got shape [2]", t.Message);
    }

    /// <summary>The layer's own Backward through the pure single-layer driver (what a model's backprop calls) is Dense.Backward,
    /// and its gradients are the formulas dW = dyᵀ·x, db = Σ dy, dx = dy·W worked by hand.</summary>
    [Fact]
    public void The_layer_spec_backward_is_Dense_Backward()
    {
        var w = NdArray.From<double>([1, 2, 3, 4, 5, 6], 2, 3); var b = NdArray.Vector(0.5, -1.0);
        var x = NdArray.From<double>([1, -1, 2, 0, 3, 1], 2, 3); var dy = NdArray.From<double>([1, 2, -1, 0.5], 2, 2);
        var spec = new DenseSpec(3, 2);
        var (dx, grads) = Layer.Backward<double>(spec, [w, b], x, dy);
        var expected = Dense.Backward(new DenseParams<double>(w, b), x, dy);
        Assert.Equal(expected.W, grads[0]); Assert.Equal(expected.B, grads[1]); Assert.Equal(expected.X, dx);
        Assert.Equal(NdArray.From<double>([1, -4, 1, 2, -0.5, 4.5], 2, 3), grads[0]);
        Assert.Equal(NdArray.Vector(0.0, 2.5), grads[1]);
        Assert.Equal(NdArray.From<double>([9, 12, 15, 1, 0.5, 0], 2, 3), dx);
    }
    /// <summary>The spec's checks and the Backward helper's refusals by name: a given initializer is the one in use, a null or
    /// mis-shaped input names itself, and a null or mis-shaped x is refused before the driver sees it.</summary>
    [Fact]
    public void Spec_and_backward_helper_name_what_is_wrong()
    {
        Assert.Equal(Initializer.XavierUniform, new DenseSpec(3, 4, Initializer.XavierUniform).Initializer);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => new DenseSpec(3, 2).OutputShape(null!)).ParamName);
        var width = Assert.Throws<ArgumentException>(() => new DenseSpec(3, 2).OutputShape(5));
        Assert.Equal("input", width.ParamName);
        Assert.Contains("dense layer 3→2 cannot take an input of width 5", width.Message);
        var image = Assert.Throws<ArgumentException>(() => new DenseSpec(3, 2).OutputShape(Shape.Of(1, 3)));
        Assert.Contains("takes vectors [3], not examples of shape [1, 3] (flatten them first)", image.Message);

        var p = new DenseParams<double>(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(2));
        var x = NdArray.Zeros<double>(4, 3);
        var dy = NdArray.Zeros<double>(4, 2);
        Assert.Equal("p", Assert.Throws<ArgumentNullException>(() => Dense.Backward(null!, x, dy)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentNullException>(() => Dense.Backward(p, null!, dy)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentNullException>(() => Dense.Backward(p, x, null!)).ParamName);
        var wide = Assert.Throws<ArgumentException>(() => Dense.Backward(p, NdArray.Zeros<double>(4, 5), dy));
        Assert.Equal("x", wide.ParamName);
        Assert.Contains("x must be [rows, 3] for W [2, 3], got [4, 5]", wide.Message);
    }

    /// <summary>A backward pass in the size where dW and dX run side by side on two threads (config c's second layer: 128 rows,
    /// 256 → 128) gives the bits of one thread, float and double; a wrong gradient length is still refused by name.</summary>
    [Fact]
    public void The_side_by_side_backward_gives_the_bits_of_one_thread()
    {
        Check<float>(); Check<double>();
        static void Check<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            const int rows = 128, inW = 256, outW = 128;
            Assert.InRange((long)rows * inW * outW, DenseSpec.PairFrom, DenseSpec.PairBelow - 1);
            var spec = new DenseSpec(inW, outW);
            var r = new System.Random(3);
            T[] Values(int n) { var v = new T[n]; for (int i = 0; i < n; i++) v[i] = T.CreateChecked(r.NextDouble() * 2 - 1); return v; }
            var x = Values(rows * inW); var dy = Values(rows * outW); var w = Values(outW * inW); var b = Values(outW);
            (T[] Dw, T[] Db, T[] Dx) Run(int threads)
            {
                var dw = new T[outW * inW]; var db = new T[outW]; var dx = new T[rows * inW];
                spec.Backward(new BackwardArgs<T>(rows, Shape.Of(inW), Shape.Of(outW), x, new T[rows * outW], dy, dx, true, [w, b], [dw, db], [], null, threads));
                return (dw, db, dx);
            }
            var one = Run(1);
            foreach (int threads in new[] { 2, 3 })
            {
                var two = Run(threads);
                Assert.True(one.Dw.AsSpan().SequenceEqual(two.Dw) && one.Db.AsSpan().SequenceEqual(two.Db) && one.Dx.AsSpan().SequenceEqual(two.Dx), $"{typeof(T).Name}, {threads} threads");
            }
            var e = Assert.Throws<ArgumentException>(() => spec.Backward(new BackwardArgs<T>(rows, Shape.Of(inW), Shape.Of(outW), x, new T[rows * outW], dy, new T[rows * inW], true,
                [w, b], [new T[outW * inW - 1], new T[outW]], [], null, 2)));
            Assert.NotNull(e.ParamName);
        }
    }
}
