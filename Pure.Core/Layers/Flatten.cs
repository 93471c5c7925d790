using NeuralPure.Tensors;

namespace NeuralPure.Layers;

/// <summary>PyTorch's <c>nn.Flatten()</c> (start_dim 1): an example of any shape, such as [C, H, W], becomes the vector
/// [C·H·W] in row-major order. The data do not move: forward copies x to y and backward dy to dx, or nothing when given
/// one buffer for both (the training fold does: <see cref="IsView"/>).</summary>
public sealed record FlattenSpec : LayerSpec
{
    /// <inheritdoc/>
    public override string Kind => "flatten";

    /// <summary>True: y is x and dx is dy, element for element; the training fold passes one buffer for both (no copy).</summary>
    public override bool IsView => true;

    /// <inheritdoc/>
    public override Shape OutputShape(Shape input) => Shape.Of((input ?? throw new ArgumentNullException(nameof(input))).Size);

    /// <summary>y = x (the same elements, another shape).</summary>
    public override void Forward<T>(in ForwardArgs<T> a) => CopyUnlessSame(a.X, a.Y);

    /// <summary>dx = dy.</summary>
    public override void Backward<T>(in BackwardArgs<T> a)
    {
        if (a.InputGradient) CopyUnlessSame(a.DY, a.DX);
    }

    /// <summary>Copies unless <paramref name="to"/> is <paramref name="from"/> itself (the fold runs a flatten in place: a view).</summary>
    private static void CopyUnlessSame<T>(ReadOnlySpan<T> from, Span<T> to)
    {
        if (!System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(from), ref System.Runtime.InteropServices.MemoryMarshal.GetReference(to)))
            from.CopyTo(to);
    }
}
