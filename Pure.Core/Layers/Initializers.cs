using System.Numerics;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>How a dense layer's weight and bias are drawn at the start of training.</summary>
/// <remarks>
/// Each initializer sees fan_in (the layer's input width) and fan_out (its output width). Only
/// <see cref="PyTorchLinear"/> draws the bias at random (as <c>torch.nn.Linear</c> does); the others start the bias at
/// zero, as Keras and the papers do.
/// </remarks>
public abstract record Initializer
{
    /// <summary>For derived initializers, in any assembly.</summary>
    protected Initializer() { }

    /// <summary>PyTorch's <c>nn.Linear</c> default: W, b ~ U(−1/√fan_in, 1/√fan_in). The default of <see cref="DenseSpec"/>.</summary>
    public static Initializer PyTorchLinear { get; } = new PyTorchLinearInit();

    /// <summary>He/Kaiming uniform for ReLU: W ~ U(−√(6/fan_in), √(6/fan_in)), b = 0 (He et al. 2015).</summary>
    public static Initializer HeUniform { get; } = new HeUniformInit();

    /// <summary>He/Kaiming normal for ReLU: W ~ N(0, 2/fan_in), b = 0 (He et al. 2015).</summary>
    public static Initializer HeNormal { get; } = new HeNormalInit();

    /// <summary>Xavier/Glorot uniform: W ~ U(±√(6/(fan_in + fan_out))), b = 0 (Glorot &amp; Bengio 2010).</summary>
    public static Initializer XavierUniform { get; } = new XavierUniformInit();

    /// <summary>Xavier/Glorot normal: W ~ N(0, 2/(fan_in + fan_out)), b = 0 (Glorot &amp; Bengio 2010).</summary>
    public static Initializer XavierNormal { get; } = new XavierNormalInit();

    /// <summary>W = 0, b = 0. Useful in lessons (every hidden unit stays identical: the symmetry problem).</summary>
    public static Initializer Zeros { get; } = new ZerosInit();

    /// <summary>A short name (<c>pytorch</c>, <c>he-uniform</c>, …), as used by files and the command line.</summary>
    public abstract string Name { get; }

    /// <summary>All initializers by <see cref="Name"/>.</summary>
    public static IReadOnlyList<Initializer> All { get; } = [PyTorchLinear, HeUniform, HeNormal, XavierUniform, XavierNormal, Zeros];

    /// <summary>The initializer called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No initializer has that name.</exception>
    public static Initializer Parse(string name) =>
        All.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown initializer '{name}'; known: {string.Join(", ", All.Select(i => i.Name))}", nameof(name));

    /// <summary>Draws (W [fan_out, fan_in], b [fan_out]) from <paramref name="key"/>.</summary>
    public (NdArray<T> W, NdArray<T> B) Sample<T>(RandomKey key, int fanIn, int fanOut) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (fanIn < 1 || fanOut < 1) throw new ArgumentException($"fan_in and fan_out must be ≥ 1, got {fanIn} and {fanOut}");
        var (kw, kb) = key.Split();
        return (Weight<T>(kw, fanIn, fanOut), Bias<T>(kb, fanIn, fanOut));
    }

    /// <summary>W [fan_out, fan_in] drawn from <paramref name="key"/>.</summary>
    protected abstract NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>b [fan_out] drawn from <paramref name="key"/>; zeros by default.</summary>
    protected virtual NdArray<T> Bias<T>(RandomKey key, int fanIn, int fanOut) where T : unmanaged, IFloatingPointIeee754<T> => NdArray.Zeros<T>(fanOut);

    private sealed record PyTorchLinearInit : Initializer
    {
        public override string Name => "pytorch";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) { var b = 1 / Math.Sqrt(fanIn); return Sampling.Uniform<T>(key, -b, b, fanOut, fanIn); }
        protected override NdArray<T> Bias<T>(RandomKey key, int fanIn, int fanOut) { var b = 1 / Math.Sqrt(fanIn); return Sampling.Uniform<T>(key, -b, b, fanOut); }
    }

    private sealed record HeUniformInit : Initializer
    {
        public override string Name => "he-uniform";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) { var b = Math.Sqrt(6.0 / fanIn); return Sampling.Uniform<T>(key, -b, b, fanOut, fanIn); }
    }

    private sealed record HeNormalInit : Initializer
    {
        public override string Name => "he-normal";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) => Sampling.Normal<T>(key, 0, Math.Sqrt(2.0 / fanIn), fanOut, fanIn);
    }

    private sealed record XavierUniformInit : Initializer
    {
        public override string Name => "xavier-uniform";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) { var b = Math.Sqrt(6.0 / (fanIn + fanOut)); return Sampling.Uniform<T>(key, -b, b, fanOut, fanIn); }
    }

    private sealed record XavierNormalInit : Initializer
    {
        public override string Name => "xavier-normal";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) => Sampling.Normal<T>(key, 0, Math.Sqrt(2.0 / (fanIn + fanOut)), fanOut, fanIn);
    }

    private sealed record ZerosInit : Initializer
    {
        public override string Name => "zeros";
        protected override NdArray<T> Weight<T>(RandomKey key, int fanIn, int fanOut) => NdArray.Zeros<T>(fanOut, fanIn);
    }
}
