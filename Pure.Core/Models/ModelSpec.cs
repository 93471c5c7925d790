using System.Collections.Immutable;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Tensors;

namespace NeuralPure.Models;

/// <summary>A model's architecture: the input width, a sequence of layers and the loss it is trained with.</summary>
/// <remarks>
/// Parameter names follow PyTorch's <c>nn.Sequential</c>: layer i's parameters are <c>{i}.weight</c> and <c>{i}.bias</c>,
/// counting every layer (activations and dropout too), so a dense layer after an activation is <c>2.weight</c>.
/// </remarks>
public sealed record ModelSpec
{
    /// <summary>A model on vectors of <paramref name="InputWidth"/> features.</summary>
    /// <exception cref="ArgumentException">The shapes do not chain, there is no layer, or the loss cannot follow the output.</exception>
    public ModelSpec(int InputWidth, ImmutableArray<LayerSpec> Layers, LossSpec Loss)
        : this(InputWidth >= 1 ? Shape.Of(InputWidth) : throw new ArgumentOutOfRangeException(nameof(InputWidth), InputWidth, "input width must be ≥ 1"), Layers, Loss) { }

    /// <summary>Checks that the layers chain (each one accepts the previous one's output shape) and that the loss fits the output.</summary>
    /// <exception cref="ArgumentException">The shapes do not chain, there is no layer, or the loss cannot follow the output.</exception>
    public ModelSpec(Shape Input, ImmutableArray<LayerSpec> Layers, LossSpec Loss)
    {
        ArgumentNullException.ThrowIfNull(Input);
        if (Layers.IsDefaultOrEmpty) throw new ArgumentException("a model needs at least one layer", nameof(Layers));
        ArgumentNullException.ThrowIfNull(Loss);
        var shape = Input;
        var shapes = ImmutableArray.CreateBuilder<Shape>(Layers.Length + 1);
        var parameters = ImmutableArray.CreateBuilder<ParamShape>();
        var offsets = ImmutableArray.CreateBuilder<int>(Layers.Length + 1);
        var states = ImmutableArray.CreateBuilder<ParamShape>();
        var stateOffsets = ImmutableArray.CreateBuilder<int>(Layers.Length + 1);
        shapes.Add(shape);
        for (int i = 0; i < Layers.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(Layers[i], $"{nameof(Layers)}[{i}]");
            offsets.Add(parameters.Count);
            stateOffsets.Add(states.Count);
            try
            {
                var next = Layers[i].OutputShape(shape) ?? throw new ArgumentException("the layer gave no output shape");
                foreach (var p in Layers[i].Parameters(shape)) parameters.Add(new ParamShape($"{i}.{p.Name}", p.Shape));
                foreach (var p in Layers[i].State(shape)) states.Add(new ParamShape($"{i}.{p.Name}", p.Shape));
                shape = next;
            }
            catch (ArgumentException e) { throw new ArgumentException($"layer {i} ({Layers[i].Kind}): {e.Message}", nameof(Layers), e); }
            shapes.Add(shape);
        }
        offsets.Add(parameters.Count);
        stateOffsets.Add(states.Count);
        var all = parameters.Select(p => p.Name).Concat(states.Select(p => p.Name)).ToList();
        if (all.Distinct().Count() != all.Count)
            throw new ArgumentException($"two parameters or state arrays share a name: {string.Join(", ", all.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key))}", nameof(Layers));
        Loss.RequireOutputShape(shape);
        this.Input = Input; this.Layers = Layers; this.Loss = Loss;
        Shapes = shapes.MoveToImmutable();
        ParameterShapes = parameters.ToImmutable();
        ParameterOffsets = offsets.MoveToImmutable();
        ParameterNames = [.. ParameterShapes.Select(p => p.Name)];
        StateShapes = states.ToImmutable();
        StateOffsets = stateOffsets.MoveToImmutable();
        Widths = [.. Shapes.Select(s => s.Size)];
    }

    /// <summary>The shape of one input example.</summary>
    public Shape Input { get; }

    /// <summary>The number of input features: the size of <see cref="Input"/>.</summary>
    public int InputWidth => Input.Size;

    /// <summary>The layers, input to output.</summary>
    public ImmutableArray<LayerSpec> Layers { get; }

    /// <summary>The loss.</summary>
    public LossSpec Loss { get; }

    /// <summary>The example shape entering each layer, then the output's (Layers.Length + 1 shapes).</summary>
    public ImmutableArray<Shape> Shapes { get; }

    /// <summary>The size of each of <see cref="Shapes"/>.</summary>
    public ImmutableArray<int> Widths { get; }

    /// <summary>The shape of one output example.</summary>
    public Shape OutputShape => Shapes[^1];

    /// <summary>The output width: the size of <see cref="OutputShape"/>.</summary>
    public int OutputWidth => Widths[^1];

    /// <summary>Every parameter's full name (<c>{layer}.{name}</c>) and shape, in file order.</summary>
    public ImmutableArray<ParamShape> ParameterShapes { get; }

    /// <summary>Every parameter's name in file order.</summary>
    public ImmutableArray<string> ParameterNames { get; }

    /// <summary>Every layer's non-trainable state arrays (<see cref="LayerSpec.State"/>), full names and shapes, in file order;
    /// empty for a model without state.</summary>
    public ImmutableArray<ParamShape> StateShapes { get; }

    /// <summary>Where each layer's state arrays start in <see cref="StateShapes"/> (Layers.Length + 1 offsets).</summary>
    public ImmutableArray<int> StateOffsets { get; }

    /// <summary>True when some layer carries non-trainable state.</summary>
    public bool HasState => !StateShapes.IsEmpty;

    /// <summary>Where each layer's parameters start in <see cref="ParameterShapes"/> (Layers.Length + 1 offsets; the last is the count).</summary>
    public ImmutableArray<int> ParameterOffsets { get; }

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
    public bool Equals(ModelSpec? other) => other is not null && Input.Equals(other.Input) && Loss.Equals(other.Loss) && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Input, Layers.Length, Loss);

    /// <inheritdoc/>
    public override string ToString() => (Input.Rank == 1 ? $"{InputWidth}" : Input.ToString()) + " → " + string.Join(" → ", Layers.Select(l => l is DenseSpec d ? $"dense({d.Out})" : l.Kind)) + $" | loss {Loss.Kind}";
}
