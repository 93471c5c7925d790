using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Support;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Training;

/// <summary>What a TrainState carries and how the fold advances it: counters, the unchanging key, resumption, immutability.</summary>
public sealed class TrainStateTests
{
    [Fact]
    public void Step_advances_the_step_counter_only()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<float>(12);
        var opt = Optimizer.Momentum(0.1);
        var s = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(1));
        Assert.Equal((0L, 0), (s.Step, s.Epoch));
        var (next, _) = Trainer.Step(spec, opt, s, data.AsBatch());
        Assert.Equal(1, next.Step);
        Assert.Equal(s.Epoch, next.Epoch);
        Assert.Equal(s.Key, next.Key);
        Assert.False(next.Params.Equals(s.Params));
        Assert.NotEqual(s.OptState, next.OptState);
    }

    [Law(10)]
    public Property RunEpoch_and_Fit_count_steps_and_epochs_and_keep_the_key() =>
        Prop.ForAll(Gen.Choose(3, 40).ToArbitrary(), Gen.Choose(1, 16).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (n, b, epochs) =>
        {
            var spec = TrainingProblems.Regressor();
            var data = TrainingProblems.Linear<double>(n);
            var opt = Optimizer.Sgd(0.01);
            var key = new RandomKey((uint)n, (uint)(b * 31 + epochs));
            var s = Trainer.Init<double>(spec, opt, key);
            var (afterEpoch, h) = Trainer.RunEpoch(spec, opt, s, data, new TrainConfig(b, 1));
            var fit = Trainer.Fit(spec, opt, s, data, new TrainConfig(b, epochs));
            int iterations = Batching.IterationsPerEpoch(n, b);
            return (afterEpoch.Epoch == 1 && afterEpoch.Step == iterations && h.Epoch == 0).Label($"RunEpoch: epoch {afterEpoch.Epoch}, step {afterEpoch.Step}")
                .And((fit.State.Epoch == epochs && fit.State.Step == (long)iterations * epochs).Label($"Fit: epoch {fit.State.Epoch}, step {fit.State.Step}"))
                .And((fit.State.Key == key && afterEpoch.Key == key).Label("the key changed"))
                .And((fit.History.IterationLosses.Length == iterations * epochs).Label("history length"));
        });

    /// <summary>The key never changes and the epoch index continues, so stopping after one epoch and fitting again from the state
    /// is the same, bit for bit, as one fit of both epochs (with shuffling and dropout on).</summary>
    [Fact]
    public void A_fit_resumed_from_its_state_equals_the_uninterrupted_fit()
    {
        var spec = TrainingProblems.Classifier(dropout: 0.2);
        var data = TrainingProblems.Blobs<float>(45);
        var opt = Optimizer.AdamW(new Schedule.WarmupCosine(0.02, 5, 40));
        var start = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(77));
        var whole = Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 3));
        var first = Trainer.Fit(spec, opt, start, data, new TrainConfig(8, 1));
        var rest = Trainer.Fit(spec, opt, first.State, data, new TrainConfig(8, 2));
        Assert.Equal(whole.State, rest.State);
        // (ImmutableArray compares by reference through IEquatable, so compare as arrays.)
        Assert.Equal(whole.History.IterationLosses.ToArray(), first.History.IterationLosses.AddRange(rest.History.IterationLosses).ToArray());
        Assert.Equal([0, 1, 2], whole.History.Epochs.Select(e => e.Epoch));
        Assert.Equal([1, 2], rest.History.Epochs.Select(e => e.Epoch));
    }

    [Fact]
    public void Init_is_a_function_of_the_key()
    {
        var spec = TrainingProblems.Classifier();
        var opt = Optimizer.Adam();
        var a = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(5));
        var b = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(5));
        var c = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(6));
        Assert.Equal(a, b);
        Assert.False(a.Params.Equals(c.Params));
        Assert.Equal(opt.Init(a.Params), a.OptState);
        Assert.Equal(spec.ParameterNames.ToArray(), a.Params.Names.ToArray());
        Assert.Equal(RandomKey.FromSeed(5), a.Key);
    }

    [Fact]
    public void Init_from_parameters_requires_the_models_parameters()
    {
        var spec = TrainingProblems.Classifier();
        var opt = Optimizer.Sgd();
        var p = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(1)).Params;
        var s = Trainer.Init(spec, opt, p, RandomKey.FromSeed(2));
        Assert.Same(p, s.Params);
        Assert.Equal(RandomKey.FromSeed(2), s.Key);
        var wrong = p.Map(l => l.Rank == 2 ? NdArray.Zeros<double>(l.Shape[0], l.Shape[1] + 1) : l);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => Trainer.Init(spec, opt, wrong, RandomKey.FromSeed(2))).ParamName);
        var renamed = new ParamTree<double>([.. p.Names.Select(n => "x" + n)], p.Leaves);
        Assert.Throws<ArgumentException>(() => Trainer.Init(spec, opt, renamed, RandomKey.FromSeed(2)));
    }

    /// <summary>States are values: equal components make equal states, and `with` copies rather than changes.</summary>
    [Fact]
    public void States_are_values()
    {
        var spec = TrainingProblems.Classifier();
        var opt = Optimizer.Momentum(0.1);
        var s = Trainer.Init<float>(spec, opt, RandomKey.FromSeed(3));
        var copy = new TrainState<float>(s.Params.Map(l => NdArray.From(l.Span, [.. l.Shape])), opt.Init(s.Params), 0, 0, RandomKey.FromSeed(3));
        Assert.Equal(s, copy);
        var later = s with { Step = 5 };
        Assert.Equal(0, s.Step);
        Assert.NotEqual(s, later);
        Assert.NotEqual(s, s with { Key = RandomKey.FromSeed(4) });
        Assert.NotEqual(s, s with { Params = s.Params.ZerosLike() });
    }

    [Fact]
    public void Step_does_not_change_the_state_it_is_given()
    {
        var spec = TrainingProblems.Classifier();
        var data = TrainingProblems.Blobs<double>(9);
        var opt = Optimizer.Adam(0.1);
        var s = Trainer.Init<double>(spec, opt, RandomKey.FromSeed(12));
        var (s1, _) = Trainer.Step(spec, opt, s, data.AsBatch());
        var before = ((ChainState)s.OptState).States[0] as AdamState<double>;
        var p = s.Params.Flatten();
        var (s2, _) = Trainer.Step(spec, opt, s, data.AsBatch());
        Assert.Equal(p, s.Params.Flatten());
        Assert.Equal(0, before!.Count);
        Assert.Equal(s1, s2); // the same state in, the same state out
    }

    /// <summary>Histories are values: equal when every epoch number, epoch loss and iteration loss is; any one difference, another
    /// length or null makes them unequal.</summary>
    [Fact]
    public void Histories_compare_by_every_number()
    {
        EpochHistory E(int epoch, double loss, params double[] its) => new(epoch, [.. its], loss);
        var a = E(0, 1.5, 1, 2); var b = E(1, 0.5, 0.4, 0.6);
        Assert.Equal(E(0, 1.5, 1, 2), a);
        Assert.NotEqual(E(1, 1.5, 1, 2), a);
        Assert.NotEqual(E(0, 1.25, 1, 2), a);
        Assert.NotEqual(E(0, 1.5, 1, 3), a);
        Assert.False(a.Equals(null));
        var h = History.Empty.Add(a).Add(b);
        Assert.Equal(History.Empty.Add(E(0, 1.5, 1, 2)).Add(E(1, 0.5, 0.4, 0.6)), h);
        Assert.NotEqual(History.Empty.Add(a), h);
        Assert.NotEqual(History.Empty.Add(a).Add(E(2, 0.5, 0.4, 0.6)), h);
        Assert.NotEqual(History.Empty.Add(a).Add(E(1, 0.75, 0.4, 0.6)), h);
        Assert.NotEqual(History.Empty.Add(a).Add(E(1, 0.5, 0.4, 0.7)), h);
        Assert.NotEqual(History.Empty.Add(E(5, 1.5, 1, 2)).Add(b), h);
        Assert.False(h.Equals(null));
        Assert.Equal([1.0, 2, 0.4, 0.6], h.IterationLosses.ToArray());
        Assert.Equal([1.5, 0.5], h.EpochLosses.ToArray());
    }
}
