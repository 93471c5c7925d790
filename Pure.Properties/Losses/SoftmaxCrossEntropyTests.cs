using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralPure.Losses;
using NeuralPure.Properties.Support;
using NeuralPure.Tensors;
using Xunit;

namespace NeuralPure.Properties.Losses;

/// <summary>Softmax cross-entropy from logits: gradients with every option, the lesson's numbers, stability, and label checks.</summary>
public sealed class SoftmaxCrossEntropyTests
{
    /// <summary>Cross-entropy cases with 2–8 classes; <paramref name="weighted"/> and <paramref name="smoothed"/> fix the options
    /// (null: either), weights in [0.1, 3] and ε in [0.05, 0.5].</summary>
    private static Gen<LossCase> Cases(bool? weighted, bool? smoothed, double bound = 4.0) =>
        Generators.LossCase(k => Generators.CrossEntropy(k).Where(s =>
        {
            var ce = (SoftmaxCrossEntropySpec)s;
            return (weighted is null || weighted == ce.ClassWeights is not null) && (smoothed is null || smoothed == ce.LabelSmoothing > 0);
        }), minWidth: 2, maxWidth: 8, bound: bound);

    private static Property GradientLaw(bool weighted, bool smoothed) =>
        Prop.ForAll(Cases(weighted, smoothed).ToArbitrary(), c => GradCheck.OfLoss(c.Spec, c.Output, c.Target));

    [Law(50)] public Property Gradient_matches_central_differences() => GradientLaw(weighted: false, smoothed: false);
    [Law(50)] public Property Gradient_with_class_weights_matches_central_differences() => GradientLaw(weighted: true, smoothed: false);
    [Law(50)] public Property Gradient_with_label_smoothing_matches_central_differences() => GradientLaw(weighted: false, smoothed: true);
    [Law(50)] public Property Gradient_with_weights_and_smoothing_matches_central_differences() => GradientLaw(weighted: true, smoothed: true);

    [Law(100)]
    public Property Cross_entropy_is_non_negative_with_every_option() =>
        Prop.ForAll(Cases(null, null, 20).ToArbitrary(), c =>
        {
            double v = c.Spec.Value(c.Output, c.Target);
            return (v >= 0 && double.IsFinite(v)).Label($"loss {v:R}");
        });

    /// <summary>The PyTorch definition computed naively from the softmax: L = (1 − ε)/W·Σ w[y]·(−log p[y]) + ε/(K·W)·Σᵢ Σ_c w_c·(−log p[c]), W = Σᵢ w[yᵢ].</summary>
    [Law(100)]
    public Property Value_is_PyTorchs_weighted_smoothed_mean() =>
        Prop.ForAll(Cases(null, null).ToArbitrary(), c =>
        {
            var ce = (SoftmaxCrossEntropySpec)c.Spec;
            var p = SoftmaxCrossEntropy.Softmax(c.Output);
            int rows = c.Output.Rows, k = c.Output.Cols;
            double w(int cls) => ce.ClassWeights is { } ws ? ws[cls] : 1;
            double eps = ce.LabelSmoothing, W = 0, nll = 0, smooth = 0;
            for (int i = 0; i < rows; i++)
            {
                int y = (int)c.Target[i];
                W += w(y);
                nll += w(y) * -Math.Log(p[i, y]);
                for (int cls = 0; cls < k; cls++) smooth += w(cls) * -Math.Log(p[i, cls]);
            }
            double expected = (1 - eps) * nll / W + eps / k * smooth / W, v = c.Spec.Value(c.Output, c.Target);
            return (Math.Abs(v - expected) <= 1e-12 * Math.Max(1, expected)).Label($"loss {v:R}, definition {expected:R}");
        });

    /// <summary>Softmax is unchanged by adding a constant to a row, so every loss of it has gradient rows summing to 0 — with
    /// class weights and label smoothing too (the weights only rescale row i by w[yᵢ]/W; smoothing's term ε/K·(S·p − w) sums to S − S).</summary>
    [Law(100)]
    public Property Gradient_rows_sum_to_0_with_every_option() =>
        Prop.ForAll(Cases(null, null).ToArbitrary(), c =>
        {
            var ce = (SoftmaxCrossEntropySpec)c.Spec;
            var g = ce.ValueAndGrad(c.Output, c.Target).Gradient;
            int rows = g.Rows, k = g.Cols;
            double w(int cls) => ce.ClassWeights is { } ws ? ws[cls] : 1;
            double W = Enumerable.Range(0, rows).Sum(i => w((int)c.Target[i])), S = Enumerable.Range(0, k).Sum(w), eps = ce.LabelSmoothing;
            for (int i = 0; i < rows; i++)
            {
                // The size of the terms that cancel in row i: Σⱼ|(1 − ε)·w[y]·(pⱼ − [j = y])| + |ε/K·(S·pⱼ − wⱼ)| ≤ (2(1 − ε)·w[y] + 2ε·S/K)/W.
                double scale = (2 * (1 - eps) * w((int)c.Target[i]) + 2 * eps * S / k) / W, sum = 0;
                for (int j = 0; j < k; j++) sum += g[i, j];
                if (!(Math.Abs(sum) <= 2e-14 * scale)) return false.Label($"row {i} sums to {sum:R} (terms of size {scale:R})");
            }
            return true.ToProperty();
        });

    /// <summary>Without smoothing, a class-weighted gradient row is the unweighted row times rows·w[yᵢ]/Σⱼ w[yⱼ].</summary>
    [Law(100)]
    public Property Class_weights_rescale_each_row_by_its_labels_weight() =>
        Prop.ForAll(Cases(true, false).ToArbitrary(), c =>
        {
            var ce = (SoftmaxCrossEntropySpec)c.Spec;
            var gw = ce.ValueAndGrad(c.Output, c.Target).Gradient;
            var g = new SoftmaxCrossEntropySpec().ValueAndGrad(c.Output, c.Target).Gradient;
            int rows = c.Output.Rows;
            double W = Enumerable.Range(0, rows).Sum(i => ce.ClassWeights!.Value[(int)c.Target[i]]);
            for (int i = 0; i < rows; i++)
            {
                double factor = rows * ce.ClassWeights!.Value[(int)c.Target[i]] / W;
                for (int j = 0; j < g.Cols; j++)
                    if (!(Math.Abs(gw[i, j] - factor * g[i, j]) <= 1e-14 * Math.Abs(factor * g[i, j]) + 1e-300))
                        return false.Label($"[{i}, {j}]: weighted {gw[i, j]:R}, {factor:R} × unweighted {g[i, j]:R}");
            }
            return true.ToProperty();
        });

    /// <summary>When the true class's logit beats every other by 50, the loss is log(1 + Σ e^(−margin)) &lt; 10·e^(−50) ≈ 2e-21.</summary>
    [Law(50)]
    public Property A_confident_right_answer_costs_almost_nothing() =>
        Prop.ForAll((from k in Gen.Choose(2, 10)
                     from others in Gen.ArrayOf(Generators.Moderate(5), k)
                     from label in Gen.Choose(0, k - 1)
                     select (others, label)).ToArbitrary(), t =>
        {
            var (logits, label) = t;
            logits = (double[])logits.Clone();
            logits[label] = logits.Where((_, j) => j != label).Max() + 50;
            double v = new SoftmaxCrossEntropySpec().Value(NdArray.From<double>(logits, 1, logits.Length), NdArray.Vector((double)label));
            return (v >= 0 && v < 1e-12).Label($"loss {v:R} for logits [{string.Join(", ", logits)}], label {label}");
        });

    [Fact]
    public void The_lessons_table_orders_confidence_in_the_true_class()
    {
        double Ce(double p) => SoftmaxCrossEntropy.OfProbability(p);
        Assert.True(Ce(0.95) < Ce(0.50), $"{Ce(0.95)} vs {Ce(0.50)}");
        Assert.True(Ce(0.50) < Ce(0.10), $"{Ce(0.50)} vs {Ce(0.10)}");
        Assert.True(Ce(0.01) > Ce(0.40), $"{Ce(0.01)} vs {Ce(0.40)}");
    }

    [Theory]
    [InlineData(0.95)]
    [InlineData(0.5)]
    [InlineData(0.4)]
    [InlineData(0.1)]
    [InlineData(0.01)]
    [InlineData(1e-6)]
    [InlineData(0.999999)]
    public void OfProbability_is_minus_log_p(double p)
    {
        double v = SoftmaxCrossEntropy.OfProbability(p), expected = -Math.Log(p);
        Assert.True(Math.Abs(v - expected) <= 1e-12 * Math.Max(1, expected), $"−log {p} = {expected:R}, got {v:R}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void OfProbability_needs_p_strictly_between_0_and_1(double p)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.OfProbability(p));
        Assert.Equal("pTrue", e.ParamName);
        Assert.Contains("strictly between 0 and 1", e.Message);
    }

    [Fact]
    public void Softmax_refuses_null_and_logits_that_are_not_a_matrix()
    {
        Assert.Equal("logits", Assert.Throws<ArgumentNullException>(() => SoftmaxCrossEntropy.Softmax<double>(null!)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Softmax(NdArray.Vector(1.0, 2.0)));
        Assert.Equal("logits", e.ParamName);
        Assert.Contains("[rows, classes]", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    /// <summary>Hashing is consistent with equality (equal specs, equal hashes) and sees the weights: no weights, and weights
    /// of another length, hash apart (HashCode's per-process seed makes a collision a 2⁻³² accident).</summary>
    [Fact]
    public void Hash_agrees_with_equality_and_sees_the_weights()
    {
        var none = new SoftmaxCrossEntropySpec();
        var one = new SoftmaxCrossEntropySpec(ImmutableArray.Create(2.0));
        var three = new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 3.0));
        Assert.Equal(three.GetHashCode(), new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0, 3.0)).GetHashCode());
        Assert.NotEqual(none.GetHashCode(), three.GetHashCode());
        Assert.NotEqual(none.GetHashCode(), one.GetHashCode());
        Assert.NotEqual(one.GetHashCode(), three.GetHashCode());
    }

    /// <summary>Log-softmax subtracts the row maximum, so logits of ±1e4 (e^(1e4) overflows) give finite losses and gradients.</summary>
    [Theory]
    [InlineData(1e4, -1e4, 0, 0.0)]
    [InlineData(1e4, -1e4, 1, 2e4)]
    [InlineData(-1e4, -1e4, 0, 0.6931471805599453)]
    [InlineData(1e4, 1e4, 1, 0.6931471805599453)]
    public void Huge_logits_give_finite_losses_and_gradients(double z0, double z1, int label, double expected)
    {
        foreach (var spec in new[] { new SoftmaxCrossEntropySpec(), new SoftmaxCrossEntropySpec(ImmutableArray.Create(2.0, 0.5), 0.1) })
        {
            var (v, g) = spec.ValueAndGrad(NdArray.From<double>([z0, z1], 1, 2), NdArray.Vector((double)label));
            Assert.True(double.IsFinite(v) && g.ToArray().All(double.IsFinite), $"{spec}: loss {v}, gradient {Generators.Show(g)}");
            var (vf, gf) = spec.ValueAndGrad(NdArray.From<float>([(float)z0, (float)z1], 1, 2), NdArray.Vector((float)label));
            Assert.True(float.IsFinite(vf) && gf.ToArray().All(float.IsFinite), $"float {spec}: loss {vf}");
        }
        double plain = new SoftmaxCrossEntropySpec().Value(NdArray.From<double>([z0, z1], 1, 2), NdArray.Vector((double)label));
        Assert.True(Math.Abs(plain - expected) <= 1e-12 * Math.Max(1, expected), $"loss {plain:R}, expected {expected:R}");
    }

    [Law(100)]
    public Property Softmax_rows_are_probabilities_and_ignore_a_shift() =>
        Prop.ForAll(Gen.Zip(Generators.Matrix(4, 5, 30), Generators.Moderate(1000)).ToArbitrary(), t =>
        {
            var (z, shift) = t;
            var p = SoftmaxCrossEntropy.Softmax(z);
            var q = SoftmaxCrossEntropy.Softmax(NdArray.From<double>(z.ToArray().Select(v => v + shift).ToArray(), 4, 5));
            for (int i = 0; i < 4; i++)
            {
                double sum = 0;
                for (int j = 0; j < 5; j++)
                {
                    if (!(p[i, j] >= 0 && p[i, j] <= 1)) return false.Label($"p[{i}, {j}] = {p[i, j]:R}");
                    if (!(Math.Abs(p[i, j] - q[i, j]) <= 1e-10 + 1e-10 * p[i, j])) return false.Label($"shift by {shift:R} moved p[{i}, {j}] from {p[i, j]:R} to {q[i, j]:R}");
                    sum += p[i, j];
                }
                if (!(Math.Abs(sum - 1) <= 1e-13)) return false.Label($"row {i} sums to {sum:R}");
            }
            return true.ToProperty();
        });

    /// <summary>With ε = 1 the target is uniform over the classes, so the label no longer matters.</summary>
    [Law(50)]
    public Property Full_smoothing_ignores_the_labels() =>
        Prop.ForAll(Cases(false, null).SelectMany(c => Gen.ArrayOf(Gen.Choose(0, c.Output.Cols - 1), c.Output.Rows).Select(l => (c, l))).ToArbitrary(), t =>
        {
            var (c, other) = t;
            var spec = new SoftmaxCrossEntropySpec(LabelSmoothing: 1);
            double a = spec.Value(c.Output, c.Target), b = spec.Value(c.Output, NdArray.Vector(other.Select(v => (double)v).ToArray()));
            return (Math.Abs(a - b) <= 1e-14 * Math.Max(1, a)).Label($"loss {a:R} with the labels, {b:R} with others");
        });

    [Fact]
    public void Labels_as_a_column_give_the_same_loss_as_a_vector()
    {
        var z = NdArray.From<double>([1, 2, 3, -1, 0, 4], 2, 3);
        var spec = new SoftmaxCrossEntropySpec();
        Assert.Equal(spec.Value(z, NdArray.Vector(2.0, 0.0)), spec.Value(z, NdArray.From<double>([2, 0], 2, 1)));
    }

    [Theory]
    [InlineData(3.0, "label 3 ")]
    [InlineData(-1.0, "label -1 ")]
    [InlineData(1.5, "label 1.5 ")]
    [InlineData(double.NaN, "label NaN ")]
    public void A_label_outside_0_to_classes_or_not_whole_is_named_with_its_row(double bad, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().Value(NdArray.Zeros<double>(2, 3), NdArray.Vector(0.0, bad)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains(expected, e.Message);
        Assert.Contains("row 1", e.Message);
        Assert.Contains("[0, 3)", e.Message);
    }

    [Fact]
    public void Targets_that_are_not_labels_name_the_expected_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().Value(NdArray.Zeros<double>(2, 3), NdArray.Zeros<double>(2, 3)));
        Assert.Contains("[2]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void Option_checks_name_the_bad_value()
    {
        var high = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropySpec(LabelSmoothing: 1.5));
        Assert.Equal("LabelSmoothing", high.ParamName);
        Assert.Contains("label smoothing must be in [0, 1]", high.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxCrossEntropySpec(LabelSmoothing: -0.1));
        var neg = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, -2.0)));
        Assert.Contains("class weight 1 is -2", neg.Message);
        var empty = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec(ImmutableArray<double>.Empty));
        Assert.Contains("must not be empty", empty.Message);
        var count = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec(ImmutableArray.Create(1.0, 2.0)).Value(NdArray.Zeros<double>(1, 3), NdArray.Vector(0.0)));
        Assert.Contains("2 class weights", count.Message);
        Assert.Contains("3 classes", count.Message);
    }

    [Fact]
    public void A_batch_whose_labels_all_weigh_0_is_rejected()
    {
        var spec = new SoftmaxCrossEntropySpec(ImmutableArray.Create(0.0, 1.0));
        var e = Assert.Throws<ArgumentException>(() => spec.Value(NdArray.Zeros<double>(2, 2), NdArray.Vector(0.0, 0.0)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("sum to 0", e.Message);
        Assert.Equal(Math.Log(2), spec.Value(NdArray.Zeros<double>(2, 2), NdArray.Vector(0.0, 1.0)), 14);
    }

    /// <summary>Labels are [rows] or [rows, 1] with the logits' row count: a column of another length is refused by name.</summary>
    [Fact]
    public void A_label_column_of_another_length_is_refused()
    {
        foreach (var target in new[] { NdArray.Zeros<double>(4, 1), NdArray.Zeros<double>(2, 1), NdArray.Zeros<double>(3, 2), NdArray.Zeros<double>(4) })
        {
            var e = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropySpec().ValueAndGrad(NdArray.Zeros<double>(3, 4), target));
            Assert.Equal("target", e.ParamName);
            Assert.Contains("cross-entropy targets must be class labels [3]", e.Message);
        }
        Assert.True(double.IsFinite(new SoftmaxCrossEntropySpec().Value(NdArray.Zeros<double>(3, 4), NdArray.Zeros<double>(3, 1))));
    }

    /// <summary>The loss and its gradient are the row-by-row definition to the bit (eⱼ = Exp(zⱼ − max z) one at a time, then
    /// the row's sum, log, term and gradient), for class counts whose rows share one exponentiation call (10: 25 rows a call)
    /// and beyond the shared buffer (300), with weights, smoothing, both or neither (without smoothing the gradient of a
    /// group of rows is formed in vector lanes), float and double.</summary>
    [Fact]
    public void Value_and_gradient_are_the_row_by_row_definition_bitwise()
    {
        foreach (int k in new[] { 1, 3, 10, 257, 300 })
            foreach (bool weighted in new[] { false, true })
                foreach (bool smoothed in new[] { false, true })
                {
                    Check<double>(k, weighted, smoothed);
                    Check<float>(k, weighted, smoothed);
                }

        static void Check<T>(int k, bool weighted, bool smoothed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            bool options = weighted;
            const int rows = 70;
            var r = new System.Random(k * 4 + (weighted ? 1 : 0) + (smoothed ? 2 : 0));
            var z = new T[rows * k]; var labels = new T[rows];
            for (int i = 0; i < z.Length; i++) z[i] = T.CreateChecked(r.NextDouble() * 8 - 4);
            for (int i = 0; i < rows; i++) labels[i] = T.CreateChecked(r.Next(k));
            double[] weights = options ? [.. Enumerable.Range(0, k).Select(c => 0.5 + c % 3)] : [];
            double eps = smoothed ? 0.1 : 0;
            var grad = new T[rows * k];
            double got = SoftmaxCrossEntropy.ValueAndGrad<T>(z, labels, k, weights, eps, grad, new double[k]);
            // The definition, one row and one exponential at a time.
            double wSum = 0, s = 0, nll = 0, smooth = 0, keep = 1 - eps, share = eps / k;
            foreach (var y in labels) wSum += options ? weights[int.CreateChecked(y)] : 1.0;
            for (int c = 0; c < k; c++) s += options ? weights[c] : 1.0;
            var want = new T[rows * k];
            for (int i = 0; i < rows; i++)
            {
                double m = double.NegativeInfinity;
                for (int j = 0; j < k; j++) m = Math.Max(m, double.CreateChecked(z[i * k + j]));
                var e = new double[k];
                for (int j = 0; j < k; j++) e[j] = NeuralPure.Numerics.Elementary.Exp(double.CreateChecked(z[i * k + j]) - m);
                double sum = 0;
                foreach (var v in e) sum += v;
                double lse = m + NeuralPure.Numerics.Elementary.Log(sum);
                int y = int.CreateChecked(labels[i]);
                double wy = options ? weights[y] : 1.0;
                nll += wy * (lse - double.CreateChecked(z[i * k + y]));
                if (eps != 0) for (int c = 0; c < k; c++) smooth += (options ? weights[c] : 1.0) * (lse - double.CreateChecked(z[i * k + c]));
                for (int j = 0; j < k; j++)
                {
                    double p = e[j] / sum, gj = keep * wy * (p - (j == y ? 1 : 0));
                    if (eps != 0) gj += share * (s * p - (options ? weights[j] : 1.0));
                    want[i * k + j] = T.CreateChecked(gj / wSum);
                }
            }
            Assert.Equal(keep * nll / wSum + share * smooth / wSum, got);
            Assert.True(want.AsSpan().SequenceEqual(grad), $"gradient, {typeof(T).Name}, {k} classes, weights {weighted}, smoothing {smoothed}");
        }
    }
}
