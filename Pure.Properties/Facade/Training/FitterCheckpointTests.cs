using System.Collections.Immutable;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Training;
using NeuralPure.Models;
using NeuralPure.Optimizers;
using NeuralPure.Properties.Facade.Data;
using NeuralPure.Properties.Training;
using NeuralPure.Tensors;
using NeuralPure.Training;
using Xunit;

namespace NeuralPure.Properties.Facade.Training;

/// <summary>Fitter's checkpoints: written when promised, holding every fact, refused when damaged or foreign, and a fit resumed
/// from any of them (at an epoch boundary or mid-epoch) ends with the uninterrupted fit's bits.</summary>
public sealed class FitterCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly DataSet<float> Train = TrainingProblems.Blobs<float>(90, seed: 3);
    private static readonly DataSet<float> Val = TrainingProblems.Blobs<float>(30, seed: 4);
    private static readonly ModelSpec Spec = TrainingProblems.Classifier(dropout: 0.2); // dropout: the step's key matters
    private const int BatchSize = 8, Epochs = 5, PerEpoch = 12; // ⌈90 / 8⌉

    /// <summary>Every state record the format knows, alone and chained: momentum's velocity, Nesterov, Adam and AMSGrad's moments,
    /// AdamW's decay, centred RMSprop with momentum, clipping, and schedules' counters.</summary>
    public static TheoryData<string> Optimizers() => ["sgd", "momentum", "nesterov", "sgd-dampened", "adagrad", "lion", "adamax", "nadam", "radam", "nadam-wd", "adamw-no-decay-on-biases", "groups", "accumulated", "adam", "amsgrad", "adamw+clip", "rmsprop-centered", "adam-cosine"];

    private static GradientTransform Optimizer(string name) => name switch
    {
        "amsgrad" => NeuralPure.Optimizers.Optimizer.Adam(0.01, amsGrad: true),
        "sgd-dampened" => new OptimizerOptions("sgd", 0.05, Momentum: 0.9, Dampening: 0.5).Build(Epochs * PerEpoch),
        "nadam-wd" => new OptimizerOptions("nadam", 0.01, WeightDecay: 0.01).Build(Epochs * PerEpoch),
        "adagrad" => NeuralPure.Optimizers.Optimizer.Adagrad(0.05, lrDecay: 0.01, initialAccumulator: 0.1),
        "lion" => NeuralPure.Optimizers.Optimizer.Lion(1e-3, weightDecay: 0.1),
        "adamw-no-decay-on-biases" => NeuralPure.Optimizers.Optimizer.WithoutDecayOn(NeuralPure.Optimizers.Optimizer.AdamW(0.01), ParamMask.Matching("bias")),
        "groups" => NeuralPure.Optimizers.Optimizer.Groups((ParamMask.Matching("0.*"), NeuralPure.Optimizers.Optimizer.Momentum(0.05)), (ParamMask.All, NeuralPure.Optimizers.Optimizer.Adam(0.01))),
        // 5 micro-batches per update: with 12 batches an epoch, updates straddle epochs and every mid-epoch cursor is mid-accumulation
        "accumulated" => NeuralPure.Optimizers.Optimizer.Accumulate(NeuralPure.Optimizers.Optimizer.Adam(0.01), 5),
        "adamw+clip" => new OptimizerOptions("adamw", 0.01, ClipNorm: 1.0).Build(Epochs * PerEpoch),
        "rmsprop-centered" => NeuralPure.Optimizers.Optimizer.RmsProp(0.01, momentum: 0.5, centered: true, weightDecay: 1e-3),
        "adam-cosine" => new OptimizerOptions("adam", 0.01, Schedule: "warmup-cosine").Build(Epochs * PerEpoch),
        _ => new OptimizerOptions(name, 0.05).Build(Epochs * PerEpoch),
    };

    private static FitOptions Options(EarlyStopping? es = null, bool iterations = false) => new(Epochs, BatchSize, Seed: 17, EarlyStopping: es, ReportIterations: iterations);

    private static string Hash(ParamTree<float> p) => TrainedModel.HashParameters(p);

    /// <summary>Fits, cancelling just before global iteration <paramref name="stopAt"/> (so the checkpoint's cursor is stopAt mod 12).</summary>
    private static FitOutcome FitCancelledAt(GradientTransform opt, int stopAt, CheckpointOptions ck, DataSet<float>? val = null, EarlyStopping? es = null)
    {
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var it = new SyncProgress<IterationReport>(_ => { if (++seen == stopAt) cts.Cancel(); });
        return Fitter.Fit(Spec, opt, Train, val, Options(es, iterations: true), null, it, null, cts.Token, ck);
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void A_fit_resumed_from_a_mid_epoch_or_boundary_checkpoint_ends_with_the_uninterrupted_bits(string name)
    {
        var opt = Optimizer(name);
        var reference = Fitter.Fit(Spec, opt, Train, Val, Options());
        Assert.Equal(FitStatus.Completed, reference.Status);

        // 1: inside the first batch's boundary; 12: exactly at the end of epoch 1; 17: mid-epoch 2; 59: the last batch of the fit.
        foreach (int stopAt in new[] { 1, 12, 17, 59 })
        {
            var path = _dir.File($"{name}-{stopAt}.safetensors");
            var cut = FitCancelledAt(opt, stopAt, new CheckpointOptions(path), Val);
            Assert.Equal(FitStatus.Cancelled, cut.Status);
            var c = FitCheckpoint.Read(path);
            Assert.Equal(CheckpointReason.Cancelled, c.Reason);
            Assert.Equal(stopAt, c.State.Step);
            Assert.Equal(stopAt / PerEpoch, c.State.Epoch);
            Assert.Equal(stopAt % PerEpoch, c.Cursor);
            Assert.Equal(stopAt, c.IterationLosses.Length);

            var resumed = Fitter.Resume(Spec, opt, Train, Val, Options(), c, checkpoint: new CheckpointOptions(path));
            Assert.Equal(FitStatus.Completed, resumed.Status);
            Assert.Equal(Hash(reference.Parameters), Hash(resumed.Parameters));
            Assert.Equal(reference.State.OptState, resumed.State.OptState);
            Assert.Equal(reference.State.Step, resumed.State.Step);
            Assert.Equal(reference.IterationLosses.ToArray(), resumed.IterationLosses.ToArray());
            Assert.Equal(reference.History.Select(h => (h.Epoch, h.Iterations, h.TrainLoss, h.ValLoss, h.ValMetric)),
                         resumed.History.Select(h => (h.Epoch, h.Iterations, h.TrainLoss, h.ValLoss, h.ValMetric)));
            Assert.Equal(CheckpointReason.Completed, FitCheckpoint.Read(path).Reason);
        }
    }

    [Fact]
    public void Early_stopping_resumed_mid_run_stops_at_the_same_epoch_and_restores_the_same_best_parameters()
    {
        var opt = Optimizer("adam"); // lr 0.05 on blobs: the validation loss soon stops improving
        var es = new EarlyStopping(Patience: 1, MinDelta: 0.05);
        var reference = Fitter.Fit(Spec, opt, Train, Val, Options(es));
        Assert.Equal(FitStatus.EarlyStopped, reference.Status);
        var path = _dir.File("es.safetensors");
        int stopAt = (reference.History.Length - 1) * PerEpoch + 5; // inside the last epoch the reference ran
        var cut = FitCancelledAt(opt, stopAt, new CheckpointOptions(path), Val, es);
        Assert.Equal(FitStatus.Cancelled, cut.Status);
        var resumed = Fitter.Resume(Spec, opt, Train, Val, Options(es), FitCheckpoint.Read(path), checkpoint: new CheckpointOptions(path));
        Assert.Equal(FitStatus.EarlyStopped, resumed.Status);
        Assert.Equal(reference.BestEpoch, resumed.BestEpoch);
        Assert.Equal(Hash(reference.Parameters), Hash(resumed.Parameters));
        Assert.Equal(reference.History.Length, resumed.History.Length);

        // A finished fit's checkpoint resumes to the same outcome without training again.
        var final = FitCheckpoint.Read(path);
        Assert.Equal(CheckpointReason.EarlyStopped, final.Reason);
        var again = Fitter.Resume(Spec, opt, Train, Val, Options(es), final);
        Assert.Equal(FitStatus.EarlyStopped, again.Status);
        Assert.Equal(Hash(reference.Parameters), Hash(again.Parameters));
    }

    [Fact]
    public void Checkpoints_are_written_at_the_start_every_N_epochs_and_at_the_end_and_each_is_complete()
    {
        var path = _dir.File("every2.safetensors");
        var seen = new List<(int ReportedEpoch, CheckpointReason Reason, int Epoch)>();
        var progress = new SyncProgress<EpochReport>(r =>
        {
            var c = FitCheckpoint.Read(path); // the report comes before that epoch's checkpoint
            seen.Add((r.Epoch, c.Reason, c.State.Epoch));
        });
        var outcome = Fitter.Fit(Spec, Optimizer("momentum"), Train, null, Options(), progress, checkpoint: new CheckpointOptions(path, EveryEpochs: 2));
        Assert.Equal(
            [(1, CheckpointReason.Start, 0), (2, CheckpointReason.Start, 0), (3, CheckpointReason.Epoch, 2), (4, CheckpointReason.Epoch, 2), (5, CheckpointReason.Epoch, 4)],
            seen);
        var last = FitCheckpoint.Read(path);
        Assert.Equal(CheckpointReason.Completed, last.Reason);
        Assert.Equal(Hash(outcome.Parameters), Hash(last.State.Params));
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void A_checkpoint_round_trips_every_fact_bit_for_bit()
    {
        var path = _dir.File("rt.safetensors");
        var meta = ImmutableDictionary<string, string>.Empty.Add("config", "{\"x\":1}");
        FitCancelledAt(Optimizer("amsgrad"), 29, new CheckpointOptions(path, 1, meta), Val, new EarlyStopping(3));
        var a = FitCheckpoint.Read(path);
        var path2 = _dir.File("rt2.safetensors");
        a.Write(path2);
        var b = FitCheckpoint.Read(path2);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(path2));
        Assert.Equal(a.State.Params, b.State.Params);
        Assert.Equal(a.State.OptState, b.State.OptState);
        Assert.IsType<ChainState>(b.State.OptState);
        Assert.Equal((a.State.Step, a.State.Epoch, a.State.Key, a.Cursor), (b.State.Step, b.State.Epoch, b.State.Key, b.Cursor));
        Assert.Equal((29L, 2, 5), (b.State.Step, b.State.Epoch, b.Cursor));
        Assert.Equal(BitConverter.DoubleToInt64Bits(a.EpochLossSum), BitConverter.DoubleToInt64Bits(b.EpochLossSum));
        Assert.Equal(a.IterationLosses.ToArray(), b.IterationLosses.ToArray());
        Assert.Equal(a.History.ToArray(), b.History.ToArray());
        Assert.Equal(a.BestParams, b.BestParams);
        Assert.Equal((a.BestEpoch, a.SinceBest, a.BestValLoss), (b.BestEpoch, b.SinceBest, b.BestValLoss));
        Assert.Equal("{\"x\":1}", b.Metadata["config"]);
        Assert.Equal(Options(new EarlyStopping(3)) with { ReportIterations = false }, b.Options);
    }

    [Fact]
    public void Every_byte_of_a_checkpoint_matters_a_damaged_one_is_refused_with_DataFormatException()
    {
        var path = _dir.File("good.safetensors");
        FitCancelledAt(Optimizer("adam"), 20, new CheckpointOptions(path));
        byte[] good = File.ReadAllBytes(path);
        var original = FitCheckpoint.Read(path);
        var rng = new System.Random(5);
        int refused = 0;
        for (int i = 0; i < 300; i++)
        {
            var bad = (byte[])good.Clone();
            int pos = rng.Next(bad.Length);
            bad[pos] ^= (byte)(1 << rng.Next(8));
            try
            {
                var c = CheckpointFile.FromSafeTensors(SafeTensors.Deserialize(bad, "bad"), "bad");
                // Only a flip in the header's padding or in an insignificant JSON spot can survive; then the content is the same.
                Assert.Equal(original.State.Params, c.State.Params);
                Assert.Equal(original.State.OptState, c.State.OptState);
                Assert.Equal(original.IterationLosses.ToArray(), c.IterationLosses.ToArray());
            }
            catch (DataFormatException) { refused++; }
        }
        Assert.True(refused > 250, $"only {refused} of 300 flipped checkpoints were refused");
        // Truncated anywhere: refused.
        foreach (int len in new[] { 0, 7, 8, 100, good.Length / 2, good.Length - 1 })
            DataTestSupport.ThrowsData(() => CheckpointFile.FromSafeTensors(SafeTensors.Deserialize(good.AsSpan(0, len), "cut"), "cut"));
    }

    [Fact]
    public void Hostile_metadata_is_quoted_and_cut_in_messages_never_echoed_whole()
    {
        var path = _dir.File("meta.safetensors");
        FitCancelledAt(Optimizer("adam"), 3, new CheckpointOptions(path));
        var file = SafeTensors.Read(path);
        string junk = new string('\u0001', 10_000) + "\n" + new string('x', 10_000);
        foreach (var key in new[] { "format", "progress", "optState", "parameters" })
        {
            var bad = new SafeTensorsFile(file.Metadata.SetItem(key, junk), file.Tensors);
            var e = Assert.Throws<DataFormatException>(() => CheckpointFile.FromSafeTensors(bad, "bad.safetensors"));
            Assert.True(e.Message.Length < 600, $"{key}: a {e.Message.Length}-character message");
            Assert.DoesNotContain('\u0001', e.Message);
            Assert.StartsWith("bad.safetensors", e.Message);
        }
    }

    [Fact]
    public void A_malformed_checkpoint_is_refused_naming_the_file_and_the_metadata_key_or_tensor_never_a_column()
    {
        var path = _dir.File("named.safetensors");
        FitCancelledAt(Optimizer("adam"), 3, new CheckpointOptions(path));
        var file = SafeTensors.Read(path);
        DataFormatException Refused(SafeTensorsFile bad) => Assert.Throws<DataFormatException>(() => CheckpointFile.FromSafeTensors(bad, "bad.safetensors"));
        DataFormatException WithMeta(string key, string? value) =>
            Refused(new SafeTensorsFile(value is null ? file.Metadata.Remove(key) : file.Metadata.SetItem(key, value), file.Tensors));

        var sha = WithMeta("sha256", new string('0', 64));
        Assert.Equal("bad.safetensors: metadata key 'sha256': the tensors do not match the checkpoint's recorded SHA-256; the file was altered or damaged", sha.Message);
        Assert.Equal("sha256", sha.MetadataKey);
        Assert.Null(sha.Column);
        Assert.Equal("bad.safetensors: metadata key 'progress': missing; is this a NeuralPure checkpoint (neuralpure-checkpoint/1)?", WithMeta("progress", null).Message);
        Assert.StartsWith("bad.safetensors: metadata key 'progress': malformed: ", WithMeta("progress", "{").Message);
        Assert.StartsWith("bad.safetensors: metadata key 'progress': 'step' is missing or malformed", WithMeta("progress", """{"reason":"cancelled"}""").Message);
        Assert.Equal("bad.safetensors: metadata key 'format': 'pt', expected 'neuralpure-checkpoint/1'; is this a NeuralPure checkpoint?", WithMeta("format", "pt").Message);

        // a tensor at fault is named as a tensor (the file's SHA-256 written for the altered content)
        var c = FitCheckpoint.Read(path);
        var losses = Refused(CheckpointFile.ToSafeTensors(c with { IterationLosses = c.IterationLosses.RemoveAt(0) }));
        Assert.StartsWith("bad.safetensors: tensor 'history/iterationLosses': holds 2 losses;", losses.Message);
        Assert.Equal("history/iterationLosses", losses.Tensor);
        Assert.Null(losses.Column);
    }

    /// <summary>The bytes a checkpoint's sha256 covers, one value at a time, as the format documents them (and as they were hashed
    /// before the hash went by chunks): per tensor its UTF-8 name, 0, its dtype, its int32 dimensions and its stored values.</summary>
    private static string ReferenceContentHash(IEnumerable<NamedTensor> tensors)
    {
        var bytes = new List<byte>();
        foreach (var t in tensors)
        {
            bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(t.Name));
            bytes.Add(0); bytes.Add((byte)t.DType);
            foreach (int d in t.Shape) bytes.AddRange(BitConverter.GetBytes(d));
            foreach (double v in t.Values) bytes.AddRange(t.DType == SafeTensorDType.F32 ? BitConverter.GetBytes((float)v) : BitConverter.GetBytes(v));
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.ToArray()));
    }

    /// <summary>The hash is over the documented bytes whatever the chunking: 20,001 losses cross two of its chunks, the
    /// parameters' and moments' F32 values are hashed as floats; a tree's parameter hash is over its float32 bytes in leaf order
    /// (a leaf of 2,500 floats crosses its chunks).</summary>
    [Fact]
    public void The_recorded_sha256s_are_over_the_documented_bytes()
    {
        var path = _dir.File("hash.safetensors");
        FitCancelledAt(Optimizer("adam"), 7, new CheckpointOptions(path));
        var c = FitCheckpoint.Read(path);
        var longer = c with { IterationLosses = [.. Enumerable.Range(0, 20_001).Select(i => Math.Sin(i) * 1e3)] };
        var file = CheckpointFile.ToSafeTensors(longer);
        Assert.Contains(file.Tensors, t => t.DType == SafeTensorDType.F32 && t.Values.Length > 0);
        Assert.Equal(ReferenceContentHash(file.Tensors), file.Metadata["sha256"]);

        // The parameters and moments are held as floats and written from their bytes: the same file as the same tensors held as doubles.
        var asDoubles = new SafeTensorsFile(file.Metadata, [.. file.Tensors.Select(t => new NamedTensor(t.Name, t.Shape, t.DType, t.Values))]);
        Assert.Equal(SafeTensors.Serialize(asDoubles), SafeTensors.Serialize(file));
        Assert.Equal(asDoubles, file);

        var tree = new ParamTree<float>(["a", "b"], [NdArray.Vector([.. Enumerable.Range(0, 2_500).Select(i => (float)Math.Cos(i))]), NdArray.Vector(-0f, float.NaN, 1e-45f)]);
        var floats = tree.Leaves.SelectMany(l => l.Span.ToArray()).SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(floats)), TrainedModel.HashParameters(tree));
    }

    /// <summary>Checkpoints are written in the background, but a write that fails still fails the fit, with the write's own
    /// exception (here the start checkpoint's, into a folder that does not exist, at the end of the first epoch), and no
    /// temporary file is left behind.</summary>
    [Fact]
    public void A_checkpoint_that_cannot_be_written_fails_the_fit_with_its_own_exception()
    {
        var path = Path.Combine(_dir.Path, "missing-folder", "c.safetensors");
        int reported = 0;
        var progress = new SyncProgress<EpochReport>(_ => reported++);
        var e = Assert.ThrowsAny<IOException>(() => Fitter.Fit(Spec, Optimizer("adam"), Train, null, Options(), progress, checkpoint: new CheckpointOptions(path)));
        Assert.Contains("missing-folder", e.Message);
        Assert.Equal(0, reported); // it failed at the first epoch's end, before that epoch was reported
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "missing-folder")));
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_of_another_model_optimizer_or_set_of_options()
    {
        var path = _dir.File("own.safetensors");
        FitCancelledAt(Optimizer("adam"), 7, new CheckpointOptions(path));
        var c = FitCheckpoint.Read(path);
        var e1 = Assert.Throws<ArgumentException>(() => Fitter.Resume(Spec, Optimizer("momentum"), Train, null, Options(), c));
        Assert.Contains("optimizer", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Fitter.Resume(TrainingProblems.Classifier(), Optimizer("adam"), Train, null, Options(), c));
        Assert.Contains("architecture", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Fitter.Resume(Spec, Optimizer("adam"), Train, null, Options() with { Seed = 18 }, c));
        Assert.Contains("fit options", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => Fitter.Resume(Spec, Optimizer("adam"), TrainingProblems.Blobs<float>(60), null, Options(), c));
        Assert.Contains("data size", e4.Message);
        Assert.Throws<ArgumentException>(() => new CheckpointOptions(""));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointOptions("x", 0));
        Assert.Throws<ArgumentException>(() => CheckpointFile.ToSafeTensors(c with { Metadata = ImmutableDictionary<string, string>.Empty.Add("sha256", "mine") }));
    }

    [Fact]
    public void Divergence_stops_the_fold_without_an_exception_names_epoch_iteration_and_layer_and_keeps_finite_parameters()
    {
        var spec = TrainingProblems.Regressor();
        var data = TrainingProblems.Linear<float>(64);
        var opt = new OptimizerOptions("sgd", 1e6).Build(100);
        var path = _dir.File("div.safetensors");
        var outcome = Fitter.Fit(spec, opt, data, null, new FitOptions(Epochs: 4, BatchSize: 8), checkpoint: new CheckpointOptions(path));
        Assert.Equal(FitStatus.Diverged, outcome.Status);
        var d = Assert.IsType<DivergenceInfo>(outcome.Divergence);
        Assert.Equal(1, d.Epoch);
        Assert.InRange(d.Iteration, 1, 8);
        Assert.False(string.IsNullOrEmpty(d.Layer));
        Assert.Contains($"epoch {d.Epoch}, iteration {d.Iteration}", d.Message);
        Assert.Contains(d.Layer, d.Message);
        Assert.Contains("learning rate", d.Message);
        Assert.All(outcome.Parameters.Leaves, l => Assert.True(l.Span.ToArray().All(float.IsFinite)));
        Assert.Equal(d.Iteration - 1, outcome.State.Step); // the last finite state: the step before the one that overflowed
        Assert.Equal(d.Iteration - 1, outcome.IterationLosses.Length);
        Assert.Empty(outcome.History);
        // The last good checkpoint (the start) stays on disk, complete.
        Assert.Equal(CheckpointReason.Start, FitCheckpoint.Read(path).Reason);
    }
}

/// <summary>An IProgress that reports on the caller's thread, at once.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
