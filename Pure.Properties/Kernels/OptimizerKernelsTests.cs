using System.Numerics;
using NeuralPure.Kernels;
using Xunit;

namespace NeuralPure.Properties.Kernels;

/// <summary>The optimizer kernels against their summaries' expressions evaluated in the written order (the class promises "no
/// FMA contraction", so equality is bitwise), every length 0..256, out of place, dest = first input, dest = second input; float
/// and double; and the throwing cases.</summary>
public sealed class OptimizerKernelsTests
{
    private delegate void Kernel<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dest);
    private delegate T Scalar<T>(T a, T b);

    private static void Check<T>(string name, Kernel<T> kernel, Scalar<T> definition, bool nonNegativeB = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= KernelData.MaxLength; n++)
        {
            var a = KernelData.Values<T>(n, 11, 3);
            var b = KernelData.Values<T>(n, 12, 3);
            if (nonNegativeB) for (int i = 0; i < n; i++) b[i] = T.Abs(b[i]);
            var expected = new T[n];
            for (int i = 0; i < n; i++) expected[i] = definition(a[i], b[i]);
            var d = KernelData.Garbage<T>(n);
            kernel(a, b, d);
            KernelData.AssertSameBits<T>(expected, d, $"{name}<{typeof(T).Name}> n={n} out of place");
            var ad = (T[])a.Clone();
            kernel(ad, b, ad);
            KernelData.AssertSameBits<T>(expected, ad, $"{name}<{typeof(T).Name}> n={n} dest = a");
            var bd = (T[])b.Clone();
            kernel(a, bd, bd);
            KernelData.AssertSameBits<T>(expected, bd, $"{name}<{typeof(T).Name}> n={n} dest = b");
        }
    }

    private static void All<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        T beta = T.CreateChecked(0.9), c = T.CreateChecked(0.1), s = T.CreateChecked(1 / 0.19), bc = T.CreateChecked(Math.Sqrt(1 - 0.999 * 0.999)), eps = T.CreateChecked(1e-8);
        Check<T>("Moment", (m, g, d) => OptimizerKernels.Moment(m, beta, g, c, d), (m, g) => beta * m + c * g);
        Check<T>("SecondMoment", (v, g, d) => OptimizerKernels.SecondMoment(v, beta, g, c, d), (v, g) => beta * v + c * g * g);
        Check<T>("Max", OptimizerKernels.Max, T.Max);
        Check<T>("SubtractSquare", OptimizerKernels.SubtractSquare, (v, m) => T.Max(v - m * m, T.Zero));
        Check<T>("AdamDirection", (m, v, d) => OptimizerKernels.AdamDirection(m, v, s, bc, eps, d), (m, v) => m * s / (T.Sqrt(v) / bc + eps), nonNegativeB: true);
        Check<T>("DivideBySqrtPlus", (g, v, d) => OptimizerKernels.DivideBySqrtPlus(g, v, eps, d), (g, v) => g / (T.Sqrt(v) + eps), nonNegativeB: true);
    }

    [Fact] public void Kernels_are_their_written_expressions_in_double() => All<double>();
    [Fact] public void Kernels_are_their_written_expressions_in_float() => All<float>();

    /// <summary>(1 + 2⁻³⁰)·(1 − 2⁻³⁰) + (−1): 0 with two roundings, −2⁻⁶⁰ fused. Moment(m, β, g, c) = β·m + c·g must give 0.</summary>
    [Fact]
    public void Moment_is_not_contracted_to_a_fused_multiply_add()
    {
        double a = 1 + Math.Pow(2, -30), b = 1 - Math.Pow(2, -30);
        var m = Enumerable.Repeat(a, 67).ToArray();
        var g = Enumerable.Repeat(-1.0, 67).ToArray();
        var d = new double[67];
        OptimizerKernels.Moment<double>(m, b, g, 1.0, d);
        Assert.All(d, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Mismatched_lengths_and_partial_overlap_throw()
    {
        var calls = new (string Name, Action<double[], double[], double[]> Call)[]
        {
            ("Moment", (a, b, d) => OptimizerKernels.Moment<double>(a, 0.9, b, 0.1, d)),
            ("SecondMoment", (a, b, d) => OptimizerKernels.SecondMoment<double>(a, 0.9, b, 0.1, d)),
            ("Max", (a, b, d) => OptimizerKernels.Max<double>(a, b, d)),
            ("SubtractSquare", (a, b, d) => OptimizerKernels.SubtractSquare<double>(a, b, d)),
            ("AdamDirection", (a, b, d) => OptimizerKernels.AdamDirection<double>(a, b, 1, 1, 1e-8, d)),
            ("DivideBySqrtPlus", (a, b, d) => OptimizerKernels.DivideBySqrtPlus<double>(a, b, 1e-8, d)),
        };
        foreach (int n in new[] { 1, 5, 32, 33 })
            foreach (var (name, call) in calls)
            {
                Assert.Throws<ArgumentException>(() => call(new double[n], new double[n + 1], new double[n]));
                Assert.Throws<ArgumentException>(() => call(new double[n], new double[n], new double[n - 1]));
                Assert.Throws<ArgumentException>(() => call(new double[n + 1], new double[n], new double[n]));
            }
        var buf = new double[10];
        var other = new double[9];
        void Refused(Action a) => Assert.Equal("destination", Assert.Throws<ArgumentException>(a).ParamName);
        Refused(() => OptimizerKernels.Moment<double>(buf.AsSpan(0, 9), 0.9, other, 0.1, buf.AsSpan(1, 9)));
        Refused(() => OptimizerKernels.Moment<double>(other, 0.9, buf.AsSpan(1, 9), 0.1, buf.AsSpan(0, 9)));
        Refused(() => OptimizerKernels.SecondMoment<double>(buf.AsSpan(0, 9), 0.9, other, 0.1, buf.AsSpan(1, 9)));
        Refused(() => OptimizerKernels.Max<double>(other, buf.AsSpan(0, 9), buf.AsSpan(1, 9)));
        Refused(() => OptimizerKernels.SubtractSquare<double>(buf.AsSpan(1, 9), other, buf.AsSpan(0, 9)));
        Refused(() => OptimizerKernels.AdamDirection<double>(other, buf.AsSpan(0, 9), 1, 1, 1e-8, buf.AsSpan(1, 9)));
        Refused(() => OptimizerKernels.DivideBySqrtPlus<double>(buf.AsSpan(0, 9), other, 1e-8, buf.AsSpan(1, 9)));
    }
}
