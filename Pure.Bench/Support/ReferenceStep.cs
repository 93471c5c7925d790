using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Bench.Support;

/// <summary>The baseline training step: <see cref="Trainer.Step{T}"/>'s arithmetic for a Dense/ReLU MLP with every matrix
/// product, bias add, ReLU and column sum done by <see cref="ScalarReference"/> (plain loops), on one thread.</summary>
/// <remarks>The loss, its gradient and the optimizer are the library's own (they are not matrix kernels), so the ratio
/// against this step measures what the fast kernels buy in a whole step.</remarks>
public static class ReferenceStep
{
    public static (TrainState<float> State, float Loss) Step(ModelSpec spec, GradientTransform optimizer, TrainState<float> state, Batch<float> batch)
    {
        int layers = spec.Layers.Length, m = batch.Rows;
        var acts = new float[layers + 1][];
        acts[0] = batch.X.ToArray();
        int leaf = 0;
        var offsets = new int[layers];
        for (int i = 0; i < layers; i++)
        {
            offsets[i] = leaf;
            switch (spec.Layers[i])
            {
                case DenseSpec d:
                    var y = new float[m * d.Out];
                    ScalarReference.MultiplyTransposedB<float>(acts[i], state.Params[leaf].Span, y, m, d.In, d.Out);
                    ScalarReference.AddRowInPlace<float>(y, state.Params[leaf + 1].Span, m, d.Out);
                    acts[i + 1] = y; leaf += 2;
                    break;
                case ReluSpec:
                    var r = new float[acts[i].Length];
                    ScalarReference.Relu<float>(acts[i], r);
                    acts[i + 1] = r;
                    break;
                default: throw new NotSupportedException(spec.Layers[i].Kind);
            }
        }
        var output = NdArray.From<float>(acts[layers], m, spec.OutputWidth);
        var (loss, dOut) = spec.Loss.ValueAndGrad(output, batch.Y);
        var grads = new NdArray<float>[state.Params.Count];
        var dy = dOut.ToArray();
        for (int i = layers - 1; i >= 0; i--)
        {
            switch (spec.Layers[i])
            {
                case DenseSpec d:
                    var dw = new float[d.Out * d.In];
                    ScalarReference.MultiplyTransposedA<float>(dy, acts[i], dw, m, d.Out, d.In);
                    var db = new float[d.Out];
                    ScalarReference.ColumnSums<float>(dy, db, m, d.Out);
                    grads[offsets[i]] = NdArray.From<float>(dw, d.Out, d.In);
                    grads[offsets[i] + 1] = NdArray.From<float>(db, d.Out);
                    if (i > 0)
                    {
                        var dx = new float[m * d.In];
                        ScalarReference.Multiply<float>(dy, state.Params[offsets[i]].Span, dx, m, d.Out, d.In);
                        dy = dx;
                    }
                    break;
                case ReluSpec:
                    var x = acts[i];
                    var g = new float[dy.Length];
                    for (int j = 0; j < g.Length; j++) g[j] = x[j] > 0 ? dy[j] : 0;
                    dy = g;
                    break;
            }
        }
        var tree = new ParamTree<float>(state.Params.Names, [.. grads]);
        var (updates, optState) = optimizer.Update(tree, state.OptState, state.Params);
        var parameters = NeuralPure.Optimizers.Optimizer.ApplyUpdates(state.Params, updates);
        return (state with { Params = parameters, OptState = optState, Step = state.Step + 1 }, loss);
    }
}
