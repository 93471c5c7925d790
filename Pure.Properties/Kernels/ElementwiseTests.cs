using System.Numerics;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Kernels;
using NeuralPure.Properties.Support;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>Test data and comparisons shared by the kernel tests.</summary>
internal static class KernelData
{
    /// <summary>Every length a vector kernel is checked at (DESIGN §7: 0..~256 covers every SIMD width's tail).</summary>
    public const int MaxLength = 256;

    /// <summary>n values from a fixed seed: mostly ±[1e-3, 1e1)·scale, with exact zeros and negative zeros mixed in.</summary>
    public static T[] Values<T>(int n, int seed, double scale = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new System.Random(seed * 7919 + n);
        var a = new T[n];
        for (int i = 0; i < n; i++)
        {
            int kind = r.Next(40);
            double v = kind == 0 ? 0.0 : kind == 1 ? -0.0 : (r.Next(2) == 0 ? -1 : 1) * scale * Math.Pow(10, r.NextDouble() * 4 - 3);
            a[i] = T.CreateChecked(v);
        }
        return a;
    }

    public static T[] Garbage<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[n];
        a.AsSpan().Fill(T.NaN);
        return a;
    }

    public static bool SameBits<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged =>
        MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    /// <summary>The distance in units in the last place (0 for equal bits, and for +0 vs −0).</summary>
    public static long Ulps<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (T.IsNaN(a) || T.IsNaN(b)) return T.IsNaN(a) && T.IsNaN(b) ? 0 : long.MaxValue;
        if (typeof(T) == typeof(float))
        {
            static long Ordered(float f) { int i = BitConverter.SingleToInt32Bits(f); return i < 0 ? int.MinValue - (long)i : i; }
            return Math.Abs(Ordered(float.CreateChecked(a)) - Ordered(float.CreateChecked(b)));
        }
        static long OrderedD(double d) { long i = BitConverter.DoubleToInt64Bits(d); return i < 0 ? long.MinValue - i : i; }
        return Math.Abs(OrderedD(double.CreateChecked(a)) - OrderedD(double.CreateChecked(b)));
    }

    /// <summary>Fails with the first index where the bits differ.</summary>
    public static void AssertSameBits<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : unmanaged
    {
        Assert.True(expected.Length == actual.Length, $"{what}: lengths {expected.Length} vs {actual.Length}");
        if (SameBits(expected, actual)) return;
        for (int i = 0; i < expected.Length; i++)
            if (!SameBits(expected.Slice(i, 1), actual.Slice(i, 1)))
                Assert.Fail($"{what}: element {i} of {expected.Length}: expected {expected[i]}, got {actual[i]}");
    }

    public static void AssertUlps<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, long maxUlps, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Ulps(expected[i], actual[i]) <= maxUlps, $"{what}: element {i} of {expected.Length}: expected {expected[i]}, got {actual[i]} ({Ulps(expected[i], actual[i])} ulps > {maxUlps})");
    }
}

/// <summary>Element-wise kernels against their scalar definitions, every length 0..256, out of place and in place, float and double;
/// and the argument checks. Equality is bitwise wherever the kernel evaluates the same expression per element (every kernel but
/// Sigmoid, whose kernel uses the overflow-free form e^x/(1 + e^x) for x &lt; 0 where the reference writes 1/(1 + e^(−x))).</summary>
public sealed class ElementwiseTests
{
    private delegate void Unary<T>(ReadOnlySpan<T> x, Span<T> dest);
    private delegate void Binary<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> dest);

    /// <summary>For every length: out of place into garbage, then in place (dest = x); x is never changed by an out-of-place call.</summary>
    private static void Unaries<T>(string name, Unary<T> kernel, Unary<T> reference, long ulps = 0, double scale = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            var x = KernelData.Values<T>(n, 1, scale);
            var x0 = (T[])x.Clone();
            var expected = KernelData.Garbage<T>(n);
            reference(x, expected);
            var d = KernelData.Garbage<T>(n);
            kernel(x, d);
            Compare(expected, d, ulps, $"{name}<{typeof(T).Name}> n={n} out of place");
            KernelData.AssertSameBits<T>(x0, x, $"{name} changed its input");
            kernel(x, x);
            Compare(expected, x, ulps, $"{name}<{typeof(T).Name}> n={n} in place");
        }
    }

    /// <summary>For every length: out of place, dest = x, dest = y, and x = y = dest.</summary>
    private static void Binaries<T>(string name, Binary<T> kernel, Binary<T> reference, long ulps = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            var x = KernelData.Values<T>(n, 2);
            var y = KernelData.Values<T>(n, 3);
            var expected = KernelData.Garbage<T>(n);
            reference(x, y, expected);
            var d = KernelData.Garbage<T>(n);
            kernel(x, y, d);
            Compare(expected, d, ulps, $"{name}<{typeof(T).Name}> n={n} out of place");
            var xd = (T[])x.Clone();
            kernel(xd, y, xd);
            Compare(expected, xd, ulps, $"{name}<{typeof(T).Name}> n={n} dest = x");
            var yd = (T[])y.Clone();
            kernel(x, yd, yd);
            Compare(expected, yd, ulps, $"{name}<{typeof(T).Name}> n={n} dest = y");
            var same = (T[])x.Clone();
            var expectedSame = KernelData.Garbage<T>(n);
            reference(x, x, expectedSame);
            kernel(same, same, same);
            Compare(expectedSame, same, ulps, $"{name}<{typeof(T).Name}> n={n} x = y = dest");
        }
    }

    private static void Compare<T>(T[] expected, T[] actual, long ulps, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (ulps == 0) KernelData.AssertSameBits<T>(expected, actual, what);
        else KernelData.AssertUlps<T>(expected, actual, ulps, what);
    }

    [Fact] public void Relu_is_its_scalar_reference() { Unaries<float>("Relu", Elementwise.Relu, ScalarReference.Relu); Unaries<double>("Relu", Elementwise.Relu, ScalarReference.Relu); }
    [Fact] public void Tanh_is_its_scalar_reference() { Unaries<float>("Tanh", Elementwise.Tanh, ScalarReference.Tanh, 0, 5); Unaries<double>("Tanh", Elementwise.Tanh, ScalarReference.Tanh, 0, 5); }
    /// <summary>Both forms are within ~1.5 ulps of the truth, so they agree to 4 ulps (arguments up to ±40: no subnormal results).</summary>
    [Fact] public void Sigmoid_is_its_scalar_reference_to_4_ulps() { Unaries<float>("Sigmoid", Elementwise.Sigmoid, ScalarReference.Sigmoid, 4, 4); Unaries<double>("Sigmoid", Elementwise.Sigmoid, ScalarReference.Sigmoid, 4, 4); }
    [Fact] public void Add_is_its_scalar_reference() { Binaries<float>("Add", Elementwise.Add, ScalarReference.Add); Binaries<double>("Add", Elementwise.Add, ScalarReference.Add); }
    [Fact] public void Subtract_is_its_scalar_reference() { Binaries<float>("Subtract", Elementwise.Subtract, ScalarReference.Subtract); Binaries<double>("Subtract", Elementwise.Subtract, ScalarReference.Subtract); }

    [Fact]
    public void Scale_is_its_scalar_reference()
    {
        Unaries<float>("Scale", (x, d) => Elementwise.Scale(x, -0.37f, d), (x, d) => ScalarReference.Scale(x, -0.37f, d));
        Unaries<double>("Scale", (x, d) => Elementwise.Scale(x, 3.1, d), (x, d) => ScalarReference.Scale(x, 3.1, d));
    }

    /// <summary>x·s + y with two roundings (no FMA), as the optimizers' bitwise laws assume.</summary>
    [Fact]
    public void ScaleAdd_is_its_scalar_reference_with_two_roundings()
    {
        Binaries<float>("ScaleAdd", (x, y, d) => Elementwise.ScaleAdd(x, 0.1f, y, d), (x, y, d) => ScalarReference.ScaleAdd(x, 0.1f, y, d));
        Binaries<double>("ScaleAdd", (x, y, d) => Elementwise.ScaleAdd(x, -0.3, y, d), (x, y, d) => ScalarReference.ScaleAdd(x, -0.3, y, d));
        // A case where the fused result differs from the two-rounding one: (1 + 2⁻³⁰)·(1 − 2⁻³⁰) − 1 = −2⁻⁶⁰ exactly (fused), 0 unfused.
        // Checked at a length that runs the vector path and the scalar tail.
        double a = 1 + Math.Pow(2, -30), s = 1 - Math.Pow(2, -30);
        var xs = Enumerable.Repeat(a, 67).ToArray();
        var d = new double[67];
        Elementwise.ScaleAdd<double>(xs, s, Enumerable.Repeat(-1.0, 67).ToArray(), d);
        Assert.All(d, v => Assert.Equal(0.0, v));
    }

    private static void LeakyDef<T>(ReadOnlySpan<T> x, T slope, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = x[i] > T.Zero ? x[i] : x[i] * slope;
    }

    [Fact]
    public void LeakyRelu_is_x_or_slope_times_x()
    {
        Unaries<float>("LeakyRelu", (x, d) => Elementwise.LeakyRelu(x, 0.01f, d), (x, d) => LeakyDef(x, 0.01f, d));
        Unaries<double>("LeakyRelu", (x, d) => Elementwise.LeakyRelu(x, 0.2, d), (x, d) => LeakyDef(x, 0.2, d));
    }

    // Backward kernels: definitions in the order the summaries write them.
    private static void ReluBackDef<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> { for (int i = 0; i < x.Length; i++) d[i] = x[i] > T.Zero ? dy[i] : T.Zero; }
    private static void LeakyBackDef<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> { for (int i = 0; i < x.Length; i++) d[i] = x[i] > T.Zero ? dy[i] : dy[i] * s; }
    private static void SigmoidBackDef<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> { for (int i = 0; i < y.Length; i++) d[i] = dy[i] * (y[i] * (T.One - y[i])); }
    private static void TanhBackDef<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> { for (int i = 0; i < y.Length; i++) d[i] = dy[i] * (T.One - y[i] * y[i]); }

    [Fact]
    public void Backward_kernels_are_their_definitions()
    {
        Binaries<float>("ReluBackward", Elementwise.ReluBackward, ReluBackDef); Binaries<double>("ReluBackward", Elementwise.ReluBackward, ReluBackDef);
        Binaries<float>("LeakyReluBackward", (x, dy, d) => Elementwise.LeakyReluBackward(x, dy, 0.01f, d), (x, dy, d) => LeakyBackDef(x, dy, 0.01f, d));
        Binaries<double>("LeakyReluBackward", (x, dy, d) => Elementwise.LeakyReluBackward(x, dy, 0.3, d), (x, dy, d) => LeakyBackDef(x, dy, 0.3, d));
        Binaries<float>("SigmoidBackward", Elementwise.SigmoidBackward, SigmoidBackDef); Binaries<double>("SigmoidBackward", Elementwise.SigmoidBackward, SigmoidBackDef);
        Binaries<float>("TanhBackward", Elementwise.TanhBackward, TanhBackDef); Binaries<double>("TanhBackward", Elementwise.TanhBackward, TanhBackDef);
    }

    [Fact]
    public void Relu_gradient_at_zero_is_zero_for_both_signs_of_zero()
    {
        var dx = new double[3];
        Elementwise.ReluBackward<double>([0.0, -0.0, 1e-300], [5.0, 5.0, 5.0], dx);
        Assert.Equal([0.0, 0.0, 5.0], dx);
        var lx = new double[2];
        Elementwise.LeakyReluBackward<double>([0.0, -1.0], [2.0, 2.0], 0.5, lx);
        Assert.Equal([1.0, 1.0], lx); // x = 0 takes the slope, as PyTorch's leaky_relu_backward
    }

    /// <summary>ReLU of NaN: the kernel (TensorPrimitives.Max, IEEE maximum) and PyTorch give NaN; the scalar reference
    /// (x &gt; 0 ? x : 0) gives 0. The reference is what fast kernels "must compute", so they must agree on every input.</summary>
    [Fact]
    public void Relu_and_its_scalar_reference_agree_on_nan_and_infinities()
    {
        double[] x = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0];
        var kernel = new double[x.Length];
        var reference = new double[x.Length];
        Elementwise.Relu<double>(x, kernel);
        ScalarReference.Relu<double>(x, reference);
        Assert.Equal(double.PositiveInfinity, kernel[1]);
        Assert.Equal(0.0, kernel[2]);
        KernelData.AssertSameBits<double>(reference, kernel, "Relu vs ScalarReference.Relu on non-finite input");
    }

    /// <summary>The threaded ReLU passes the training fold uses: on 2 threads, at lengths below, at and above the split threshold
    /// (with ragged last parts), the same bits as the one-thread kernels, forward and backward, in place and out of place.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(65536 + 17)]
    [InlineData(300_001)]
    public void Threaded_relu_passes_are_the_one_thread_kernels(int n)
    {
        var x = KernelData.Values<float>(n, 3); var dy = KernelData.Values<float>(n, 4);
        if (n > 5) { x[1] = float.NaN; x[2] = -0f; x[3] = float.PositiveInfinity; x[n - 1] = float.NegativeInfinity; }
        var one = new float[n]; var two = new float[n];
        Elementwise.Relu<float>(x, one);
        Elementwise.ReluOrBackward<float>(x, default, two, backward: false, threads: 2);
        KernelData.AssertSameBits<float>(one, two, $"Relu on 2 threads, n = {n}");
        Elementwise.ReluBackward<float>(x, dy, one);
        Elementwise.ReluOrBackward<float>(x, dy, two, backward: true, threads: 2);
        KernelData.AssertSameBits<float>(one, two, $"ReluBackward on 2 threads, n = {n}");
        var inPlace = (float[])dy.Clone();
        Elementwise.ReluOrBackward<float>(x, inPlace, inPlace, backward: true, threads: 2);
        KernelData.AssertSameBits<float>(one, inPlace, $"ReluBackward on 2 threads in place, n = {n}");
        if (n > 1)
        {
            Assert.Throws<ArgumentException>(() => Elementwise.ReluOrBackward<float>(x, default, new float[n - 1], backward: false, threads: 2));
            Assert.Throws<ArgumentException>(() => Elementwise.ReluOrBackward<float>(x, dy.AsSpan(1), new float[n], backward: true, threads: 2));
            var shared = new float[n + 1];
            Assert.Throws<ArgumentException>(() => Elementwise.ReluOrBackward<float>(shared.AsSpan(0, n), default, shared.AsSpan(1, n), backward: false, threads: 2));
        }
    }

    [Fact]
    public void Sigmoid_does_not_overflow_and_saturates()
    {
        var d = new double[4];
        Elementwise.Sigmoid<double>([-1000.0, 1000.0, 0.0, -40.0], d);
        Assert.Equal(0.0, d[0]);
        Assert.Equal(1.0, d[1]);
        Assert.Equal(0.5, d[2]);
        Assert.Equal(4.248354255291589e-18, d[3], 1e-30);
        var f = new float[2];
        Elementwise.Sigmoid<float>([-100f, 100f], f);
        Assert.True(f[0] > 0 && f[0] < 1e-43f, $"sigmoid(-100f) = {f[0]}");
        Assert.Equal(1f, f[1]);
    }

    /// <summary>GELU and its derivative at points computed with mpmath (40 digits): erf(x/√2) is accurate to a few ulps; for very
    /// negative x, 1 + erf cancels, so the tolerance is a few ulps of max(|x|, 1) (PyTorch's CPU formula cancels the same way).</summary>
    [Theory]
    [InlineData(-6.0, -5.9195258702261885e-09, -3.5468709453902015e-08)]
    [InlineData(-3.0, -0.0040496940948902835, -0.011945647204183927)]
    [InlineData(-1.5, -0.1002108019032871, -0.12746919222997952)]
    [InlineData(-1.0, -0.15865525393145705, -0.0833154705876863)]
    [InlineData(-0.5, -0.15426876936299344, 0.13250487534383715)]
    [InlineData(-0.125, -0.056282721896235885, 0.4007820643017934)]
    [InlineData(0.0, 0.0, 0.5)]
    [InlineData(0.125, 0.06871727810376412, 0.5992179356982066)]
    [InlineData(0.5, 0.34573123063700656, 0.8674951246561629)]
    [InlineData(1.0, 0.8413447460685429, 1.0833154705876864)]
    [InlineData(1.5, 1.399789198096713, 1.1274691922299795)]
    [InlineData(2.0, 1.9544997361036416, 1.085231801078197)]
    [InlineData(3.0, 2.99595030590511, 1.011945647204184)]
    [InlineData(6.0, 5.999999994080474, 1.0000000354687095)]
    public void Gelu_and_its_gradient_match_high_precision_values(double x, double y, double dydx)
    {
        var d = new double[1];
        Elementwise.Gelu<double>([x], d);
        Assert.True(Math.Abs(d[0] - y) <= 8e-16 * Math.Max(1, Math.Abs(x)), $"gelu({x}) = {d[0]:R}, expected {y:R}");
        var g = new double[1];
        Elementwise.GeluBackward<double>([x], [1.0], g);
        Assert.True(Math.Abs(g[0] - dydx) <= 8e-16 * Math.Max(1, Math.Abs(x)), $"gelu'({x}) = {g[0]:R}, expected {dydx:R}");
    }

    /// <summary>The float kernel evaluates in double and rounds once: Gelu&lt;float&gt;(x) = (float)Gelu&lt;double&gt;(x), bitwise, every length;
    /// in place too; and the backward kernel is dy·(Φ + xφ) with the factor rounded to T.</summary>
    [Fact]
    public void Gelu_in_float_is_the_double_result_rounded_once()
    {
        Unaries<float>("Gelu", Elementwise.Gelu, (x, d) =>
        {
            var xd = new double[x.Length];
            for (int i = 0; i < x.Length; i++) xd[i] = x[i];
            var yd = new double[x.Length];
            Elementwise.Gelu<double>(xd, yd);
            for (int i = 0; i < x.Length; i++) d[i] = (float)yd[i];
        }, 0, 4);
        Binaries<double>("GeluBackward", Elementwise.GeluBackward, (x, dy, d) =>
        {
            var ones = Enumerable.Repeat(1.0, x.Length).ToArray();
            var f = new double[x.Length];
            Elementwise.GeluBackward<double>(x, ones, f);
            for (int i = 0; i < x.Length; i++) d[i] = dy[i] * f[i];
        });
    }

    [Law(100)]
    public Property GeluBackward_is_the_derivative_of_Gelu() =>
        Prop.ForAll(Gen.Choose(-8000, 8000).Select(i => i / 1000.0).ToArbitrary(), x =>
        {
            const double h = 1e-5;
            var y = new double[2];
            Elementwise.Gelu<double>([x + h, x - h], y);
            double numeric = (y[0] - y[1]) / (2 * h);
            var g = new double[1];
            Elementwise.GeluBackward<double>([x], [1.0], g);
            return (Math.Abs(numeric - g[0]) <= 1e-8).Label($"x {x}: {g[0]:R} vs numeric {numeric:R}");
        });

    private static void MaskDef<T>(ReadOnlySpan<T> x, ReadOnlySpan<bool> m, T s, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T> { for (int i = 0; i < x.Length; i++) d[i] = m[i] ? x[i] * s : T.Zero; }

    [Fact]
    public void MaskScale_is_its_definition()
    {
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            var mask = Enumerable.Range(0, n).Select(i => (i * 7919 + n) % 3 != 0).ToArray();
            foreach (var scale in new[] { 2.0, 1 / 0.7 })
            {
                var x = KernelData.Values<double>(n, 4);
                var expected = new double[n];
                MaskDef<double>(x, mask, scale, expected);
                var d = KernelData.Garbage<double>(n);
                Elementwise.MaskScale<double>(x, mask, scale, d);
                KernelData.AssertSameBits<double>(expected, d, $"MaskScale n={n}");
                Elementwise.MaskScale<double>(x, mask, scale, x);
                KernelData.AssertSameBits<double>(expected, x, $"MaskScale in place n={n}");
                var xf = KernelData.Values<float>(n, 4);
                var ef = new float[n];
                MaskDef<float>(xf, mask, (float)scale, ef);
                Elementwise.MaskScale<float>(xf, mask, (float)scale, xf);
                KernelData.AssertSameBits<float>(ef, xf, $"MaskScale<float> in place n={n}");
            }
        }
    }

    /// <summary>Σx² in double, in order: bitwise the obvious loop, for float input too (squares taken after widening).</summary>
    [Fact]
    public void SumOfSquares_is_the_in_order_double_sum()
    {
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            var x = KernelData.Values<double>(n, 5, 100);
            double s = 0;
            foreach (var v in x) s += v * v;
            Assert.Equal(BitConverter.DoubleToInt64Bits(s), BitConverter.DoubleToInt64Bits(Elementwise.SumOfSquares<double>(x)));
            var f = KernelData.Values<float>(n, 5, 100);
            double sf = 0;
            foreach (var v in f) sf += (double)v * v;
            Assert.Equal(BitConverter.DoubleToInt64Bits(sf), BitConverter.DoubleToInt64Bits(Elementwise.SumOfSquares<float>(f)));
        }
        Assert.Equal(2.0 * (double)1e38f * 1e38f, Elementwise.SumOfSquares<float>([1e38f, 1e38f])); // would overflow in float
    }

    [Fact]
    public void FirstNonFinite_and_AllFinite_find_nan_and_infinities_at_every_position()
    {
        foreach (var bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
            for (int n = 1; n <= 70; n++)
                for (int at = 0; at < n; at += Math.Max(1, n / 7))
                {
                    var x = KernelData.Values<double>(n, 6);
                    x[at] = bad;
                    if (at + 1 < n) x[n - 1] = bad;
                    Assert.Equal(at, Elementwise.FirstNonFinite<double>(x));
                    Assert.False(Elementwise.AllFinite<double>(x));
                    var f = x.Select(v => (float)v).ToArray();
                    Assert.Equal(at, Elementwise.FirstNonFinite<float>(f));
                }
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            Assert.Equal(-1, Elementwise.FirstNonFinite<double>(KernelData.Values<double>(n, 7)));
            Assert.True(Elementwise.AllFinite<float>(KernelData.Values<float>(n, 7)));
        }
        Assert.True(Elementwise.AllFinite<double>([double.MaxValue, -double.MaxValue, double.Epsilon]));
    }

    // ───────────────────────── throwing cases ─────────────────────────

    /// <summary>Every kernel with a mismatched length (destination or second input one short or one long) and with a destination
    /// that partially overlaps an input (dest = input shifted by one) throws ArgumentException; the overlap names "destination".</summary>
    [Fact]
    public void Mismatched_lengths_and_partial_overlap_throw()
    {
        foreach (int n in new[] { 1, 2, 3, 7, 16, 33 })
        {
            var kernels = new (string Name, Action<double[], double[], double[]> Call)[]
            {
                ("Relu", (x, y, d) => Elementwise.Relu<double>(x, d)),
                ("Tanh", (x, y, d) => Elementwise.Tanh<double>(x, d)),
                ("Sigmoid", (x, y, d) => Elementwise.Sigmoid<double>(x, d)),
                ("Gelu", (x, y, d) => Elementwise.Gelu<double>(x, d)),
                ("LeakyRelu", (x, y, d) => Elementwise.LeakyRelu<double>(x, 0.1, d)),
                ("Scale", (x, y, d) => Elementwise.Scale<double>(x, 2.0, d)),
                ("Add", (x, y, d) => Elementwise.Add<double>(x, y, d)),
                ("Subtract", (x, y, d) => Elementwise.Subtract<double>(x, y, d)),
                ("ScaleAdd", (x, y, d) => Elementwise.ScaleAdd<double>(x, 2.0, y, d)),
                ("ReluBackward", (x, y, d) => Elementwise.ReluBackward<double>(x, y, d)),
                ("LeakyReluBackward", (x, y, d) => Elementwise.LeakyReluBackward<double>(x, y, 0.1, d)),
                ("SigmoidBackward", (x, y, d) => Elementwise.SigmoidBackward<double>(x, y, d)),
                ("TanhBackward", (x, y, d) => Elementwise.TanhBackward<double>(x, y, d)),
                ("GeluBackward", (x, y, d) => Elementwise.GeluBackward<double>(x, y, d)),
            };
            foreach (var (name, call) in kernels)
            {
                var x = new double[n]; var y = new double[n];
                Assert.Throws<ArgumentException>(() => call(x, y, new double[n + 1]));
                Assert.Throws<ArgumentException>(() => call(x, y, new double[n - 1]));
                if (name is "Add" or "Subtract" or "ScaleAdd" or "ReluBackward" or "LeakyReluBackward" or "SigmoidBackward" or "TanhBackward" or "GeluBackward")
                    Assert.Throws<ArgumentException>(() => call(x, new double[n + 1], new double[n]));
            }
            // Partial overlap: dest starts one element after x (or y) in the same buffer (n ≥ 2, else they are merely adjacent);
            // spans are built inside the lambdas.
            Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Elementwise.MaskScale<double>(new double[n], new bool[n + 1], 2.0, new double[n])).ParamName);
            if (n < 2) continue;
            var buf = new double[n + 1];
            var other = new double[n];
            void Overlap(string name, Action a) => Assert.Equal("destination", Assert.Throws<ArgumentException>(a).ParamName);
            Overlap("Relu", () => Elementwise.Relu<double>(buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("Relu back", () => Elementwise.Relu<double>(buf.AsSpan(1, n), buf.AsSpan(0, n)));
            Overlap("Tanh", () => Elementwise.Tanh<double>(buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("Sigmoid", () => Elementwise.Sigmoid<double>(buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("Gelu", () => Elementwise.Gelu<double>(buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("LeakyRelu", () => Elementwise.LeakyRelu<double>(buf.AsSpan(0, n), 0.1, buf.AsSpan(1, n)));
            Overlap("Scale", () => Elementwise.Scale<double>(buf.AsSpan(0, n), 2.0, buf.AsSpan(1, n)));
            Overlap("Add x", () => Elementwise.Add<double>(buf.AsSpan(0, n), other, buf.AsSpan(1, n)));
            Overlap("Add y", () => Elementwise.Add<double>(other, buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("Subtract y", () => Elementwise.Subtract<double>(other, buf.AsSpan(1, n), buf.AsSpan(0, n)));
            Overlap("ScaleAdd y", () => Elementwise.ScaleAdd<double>(other, 2.0, buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("ReluBackward dy", () => Elementwise.ReluBackward<double>(other, buf.AsSpan(0, n), buf.AsSpan(1, n)));
            Overlap("TanhBackward y", () => Elementwise.TanhBackward<double>(buf.AsSpan(0, n), other, buf.AsSpan(1, n)));
            Overlap("MaskScale", () => Elementwise.MaskScale<double>(buf.AsSpan(0, n), new bool[n], 2.0, buf.AsSpan(1, n)));
            // dest = the same start but shorter than x is not "exactly an input" either (and is a length mismatch).
            Assert.Throws<ArgumentException>(() => Elementwise.Relu<double>(buf.AsSpan(0, n), buf.AsSpan(0, n - 1)));
        }
    }

    [Fact]
    public void Float_kernels_refuse_partial_overlap_too()
    {
        var buf = new float[9];
        Assert.Throws<ArgumentException>(() => Elementwise.Add<float>(buf.AsSpan(0, 8), buf.AsSpan(0, 8), buf.AsSpan(1, 8)));
        Assert.Throws<ArgumentException>(() => Elementwise.Relu<float>(buf.AsSpan(1, 8), buf.AsSpan(0, 8)));
        // Adjacent, non-overlapping halves are separate memory: allowed.
        var halves = new float[16];
        Elementwise.Add<float>(halves.AsSpan(0, 8), halves.AsSpan(0, 8), halves.AsSpan(8, 8));
    }
}
