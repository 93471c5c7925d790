using NeuralPure.Layers; using NeuralPure.Losses; using NeuralPure.Models; using NeuralPure.Optimizers;
using NeuralPure.Random; using NeuralPure.Tensors; using NeuralPure.Training;

var key = RandomKey.FromSeed(7);
var x = Sampling.Normal<float>(key.FoldIn(1), 0, 1, 512, 2);                  // 512 points in the plane
var y = NdArray.Vector(x.Span.ToArray().Chunk(2).Select(p => p[0] * p[1] > 0 ? 1f : 0f).ToArray()); // XOR quadrants
var data = new DataSet<float>(x, y);
var spec = ModelSpec.Mlp([2, 16, 16, 2], new TanhSpec(), new SoftmaxCrossEntropySpec());
var adamW = Optimizer.AdamW(learningRate: 0.01);           // Chain(ScaleByAdam, AddDecayedWeights(0.01), ScaleByLearningRate)
var config = new TrainConfig(BatchSize: 32, Epochs: 1);

var final = Enumerable.Range(0, 20).Aggregate(Trainer.Init<float>(spec, adamW, key), (state, _) =>
{
    var (next, epoch) = Trainer.RunEpoch(spec, adamW, state, data, config);   // a fold of Step over 16 batches
    Console.WriteLine($"epoch {epoch.Epoch + 1,2}: loss {epoch.Loss:F4}");
    return next;
});
Console.WriteLine($"{final.Step} steps, {final.Params.ParameterCount} parameters, same bits on every run");
