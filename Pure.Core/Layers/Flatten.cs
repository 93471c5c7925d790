using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>PyTorch's <c>nn.Flatten()</c> (start_dim 1): an example of any shape, such as [C, H, W], becomes the vector
/// [C·H·W] in row-major order. The data do not move: forward copies x to y and backward dy to dx.</summary>
public sealed record FlattenSpec : LayerSpec
{
    /// <inheritdoc/>
    public override string Kind => "flatten";

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Shape.Of((input ?? throw new ArgumentNullException(nameof(input))).Size);

    /// <summary>y = x (the same elements, another shape).</summary>
    public override void Forward<T>(in ForwardArgs<T> a) => a.X.CopyTo(a.Y);

    /// <summary>dx = dy.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (a.InputGradient) a.DY.CopyTo(a.DX);
    }
}
