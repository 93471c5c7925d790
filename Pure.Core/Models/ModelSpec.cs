using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;

namespace NeuralPure.Models;

/// <summary>A model's architecture: the input width, a sequence of layers and the loss it is trained with.</summary>
/// <remarks>
/// Parameter names follow PyTorch's <c>nn.Sequential</c>: layer i's parameters are <c>{i}.weight</c> and <c>{i}.bias</c>,
/// counting every layer (activations and dropout too), so a dense layer after an activation is <c>2.weight</c>.
/// </remarks>
public sealed record ModelSpec
{
    /// <summary>Checks that the layers chain (each one accepts the previous one's width) and that the loss fits the output.</summary>
    /// <exception cref="ArgumentException">The widths do not chain, there is no layer, or the loss cannot follow the output.</exception>
    public ModelSpec(int InputWidth, ImmutableArray<LayerSpec> Layers, LossSpec Loss)
    {
        if (InputWidth < 1) throw new ArgumentOutOfRangeException(nameof(InputWidth), InputWidth, "input width must be ≥ 1");
        if (Layers.IsDefaultOrEmpty) throw new ArgumentException("a model needs at least one layer", nameof(Layers));
        ArgumentNullException.ThrowIfNull(Loss);
        int w = InputWidth;
        var widths = ImmutableArray.CreateBuilder<int>(Layers.Length + 1);
        widths.Add(w);
        for (int i = 0; i < Layers.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(Layers[i], $"{nameof(Layers)}[{i}]");
            try { w = Layers[i].OutputWidth(w); }
            catch (ArgumentException e) { throw new ArgumentException($"layer {i} ({Layers[i].Kind}): {e.Message}", nameof(Layers), e); }
            widths.Add(w);
        }
        Loss.RequireOutputWidth(w);
        this.InputWidth = InputWidth; this.Layers = Layers; this.Loss = Loss;
        Widths = widths.MoveToImmutable();
        ParameterNames = [.. Layers.SelectMany((l, i) => l.ParameterNames.Select(n => $"{i}.{n}"))];
    }

    /// <summary>The number of input features.</summary>
    public int InputWidth { get; }

    /// <summary>The layers, input to output.</summary>
    public ImmutableArray<LayerSpec> Layers { get; }

    /// <summary>The loss.</summary>
    public LossSpec Loss { get; }

    /// <summary>The width entering each layer, then the output width (Layers.Length + 1 values).</summary>
    public ImmutableArray<int> Widths { get; }

    /// <summary>The output width.</summary>
    public int OutputWidth => Widths[^1];

    /// <summary>Every parameter's name in file order.</summary>
    public ImmutableArray<string> ParameterNames { get; }

    /// <summary>A multilayer perceptron: Dense layers of the given widths, with <paramref name="activation"/> after every one but the last.</summary>
    /// <param name="sizes">Input width, hidden widths…, output width (at least two numbers).</param>
    /// <param name="activation">The hidden activation.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="init">The initializer of every dense layer (null: PyTorch's Linear default).</param>
    /// <param name="dropout">A dropout rate after each hidden activation (0: none).</param>
    /// <exception cref="ArgumentException">Fewer than two sizes or a size below 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The dropout rate is outside [0, 1) or NaN.</exception>
    public static ModelSpec Mlp(IReadOnlyList<int> sizes, ActivationSpec activation, LossSpec loss, Initializer? init = null, double dropout = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes); ArgumentNullException.ThrowIfNull(activation);
        if (sizes.Count < 2) throw new ArgumentException($"an MLP needs an input and an output size, got {sizes.Count} sizes", nameof(sizes));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout rate must be in [0, 1)");
        var layers = ImmutableArray.CreateBuilder<LayerSpec>();
        for (int i = 0; i + 1 < sizes.Count; i++)
        {
            layers.Add(new DenseSpec(sizes[i], sizes[i + 1], init));
            if (i + 2 < sizes.Count)
            {
                layers.Add(activation);
                if (dropout > 0) layers.Add(new DropoutSpec(dropout));
            }
        }
        return new ModelSpec(sizes[0], layers.ToImmutable(), loss);
    }

    /// <summary>Value equality over the input width, layers and loss.</summary>
    public bool Equals(ModelSpec? other) => other is not null && InputWidth == other.InputWidth && Loss.Equals(other.Loss) && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(InputWidth, Layers.Length, Loss);

    /// <inheritdoc/>
    public override string ToString() => $"{InputWidth} → " + string.Join(" → ", Layers.Select(l => l is DenseSpec d ? $"dense({d.Out})" : l.Kind)) + $" | loss {Loss.Kind}";
}
