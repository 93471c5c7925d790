using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;
using NeuralPure.Training;

namespace NeuralPure.Facade.Training;

/// <summary>Saves and loads <see cref="FitCheckpoint"/> as a safetensors file, so the hostile-input validation of
/// <see cref="SafeTensors"/> guards it, and checks every fact in it before a fit continues from it.</summary>
/// <remarks>
/// <para>Tensors: <c>param/{name}</c> (F32, the parameters in the model file's names and shapes); <c>opt/{path}/{field}/{name}</c>
/// (F32, every leaf of every optimizer state record: <c>velocity</c> of momentum, <c>mu</c>/<c>nu</c>/<c>nuMax</c> of Adam,
/// <c>nu</c>/<c>gradAvg</c> of RMSprop; <c>path</c> is <c>s</c> for the root and <c>s.i</c> for a chain's i-th state);
/// <c>best/{name}</c> (F32, early stopping's best parameters, when there are any); <c>history/epochs</c> (F64 [epochs, 8]:
/// epoch, epochs, iterations, train loss, has-validation flag, validation loss, validation metric, examples/s);
/// <c>history/iterationLosses</c> (F64); <c>progress/doubles</c> (F64 [3]: the epoch's Σ loss × rows so far, the best validation
/// loss, the seconds so far). Doubles live in tensors, not JSON, because they must come back bit for bit, ∞ included.</para>
/// <para><c>__metadata__</c>: <c>format</c> (<see cref="Format"/>), <c>architecture</c>, <c>optimizer</c>, <c>parameters</c>
/// (the leaf names in order), <c>fit</c> (the fit options), <c>progress</c> (reason, step, epoch, cursor, iterations per epoch,
/// examples, the key's two words, best epoch, epochs since), <c>optState</c> (the state records' kinds and nesting, with their
/// counts), <c>sha256</c> (of every tensor's name, dtype, shape and stored bytes, in file order), and the caller's keys.</para>
/// <para>Writes are atomic (<see cref="AtomicFile"/>): a reader sees the previous checkpoint or the new one, never a part.</para>
/// </remarks>
public static class CheckpointFile
{
    /// <summary>The value of the <c>format</c> metadata key.</summary>
    public const string Format = "neuralpure-checkpoint/1";

    /// <summary>Metadata keys the checkpoint itself uses.</summary>
    public static ImmutableArray<string> ReservedKeys { get; } = ["format", "architecture", "optimizer", "parameters", "fit", "progress", "optState", "layerState", "sha256"];

    private const int HistoryColumns = 8;

    /// <summary>Writes a checkpoint atomically (temporary file, flush to disk, rename).</summary>
    /// <exception cref="ArgumentException">The caller's metadata uses a reserved key, or the optimizer state holds a record this format does not know.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, FitCheckpoint checkpoint, KindRegistry? kinds = null) => SafeTensors.Write(path, ToSafeTensors(checkpoint, kinds));

    /// <summary>Reads and validates a checkpoint file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">The file is not valid safetensors or not a complete, self-consistent checkpoint
    /// (the message names the key or tensor at fault).</exception>
    public static FitCheckpoint Read(string path, KindRegistry? kinds = null) => FromSafeTensors(SafeTensors.Read(path), path, kinds);

    /// <summary>The safetensors content of a checkpoint.</summary>
    /// <exception cref="ArgumentException">The caller's metadata uses a reserved key, or the optimizer state holds a record this format does not know.</exception>
    public static SafeTensorsFile ToSafeTensors(FitCheckpoint c, KindRegistry? kinds = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        foreach (var key in c.Metadata.Keys)
            if (ReservedKeys.Contains(key)) throw new ArgumentException($"metadata key '{key}' is reserved by the checkpoint format", nameof(c));
        var p = c.State.Params;
        var tensors = new List<NamedTensor>();
        AddTree(tensors, "param", p);
        var optJson = EncodeState(c.State.OptState, "s", p, tensors, kinds ?? KindRegistry.BuiltIn);
        // The layers' non-trainable state (running statistics), only when the model has any: a stateless model's file is unchanged.
        if (c.State.LayerState.Count > 0) AddTree(tensors, "layer", c.State.LayerState);
        bool hasBest = c.Options.EarlyStopping is not null && c.BestEpoch > 0;
        if (hasBest)
        {
            ParamTree<float>.RequireSameStructure(p, c.BestParams, nameof(c));
            AddTree(tensors, "best", c.BestParams);
            if (c.State.LayerState.Count > 0) AddTree(tensors, "bestLayer", c.BestLayerState ?? c.State.LayerState);
        }
        var hist = new double[c.History.Length * HistoryColumns];
        for (int i = 0; i < c.History.Length; i++)
        {
            var h = c.History[i];
            hist.AsSpan(i * HistoryColumns, HistoryColumns).SetValues(h.Epoch, h.Epochs, h.Iterations, h.TrainLoss, h.ValLoss is null ? 0 : 1, h.ValLoss ?? 0, h.ValMetric ?? 0, h.ExamplesPerSecond);
        }
        tensors.Add(new NamedTensor("history/epochs", [c.History.Length, HistoryColumns], SafeTensorDType.F64, [.. hist]));
        tensors.Add(new NamedTensor("history/iterationLosses", [c.IterationLosses.Length], SafeTensorDType.F64, c.IterationLosses));
        tensors.Add(new NamedTensor("progress/doubles", [3], SafeTensorDType.F64, [c.EpochLossSum, c.BestValLoss, c.Seconds]));

        var meta = c.Metadata.ToBuilder();
        meta["format"] = Format;
        meta["architecture"] = c.Architecture;
        meta["optimizer"] = c.Optimizer;
        meta["parameters"] = JsonSerializer.Serialize(p.Names, FacadeJson.Compact.ImmutableArrayString);
        if (c.State.LayerState.Count > 0) meta["layerState"] = JsonSerializer.Serialize(c.State.LayerState.Names, FacadeJson.Compact.ImmutableArrayString);
        meta["fit"] = FitJson(c.Options).ToJsonString();
        meta["progress"] = new JsonObject
        {
            ["reason"] = ReasonName(c.Reason),
            ["step"] = c.State.Step,
            ["epoch"] = c.State.Epoch,
            ["cursor"] = c.Cursor,
            ["iterationsPerEpoch"] = c.IterationsPerEpoch,
            ["epochExamples"] = c.EpochExamples,
            ["examples"] = c.Examples,
            ["key"] = new JsonArray(c.State.Key.Word0, c.State.Key.Word1),
            ["bestEpoch"] = c.BestEpoch,
            ["sinceBest"] = c.SinceBest,
        }.ToJsonString();
        meta["optState"] = optJson.ToJsonString();
        meta["sha256"] = ContentHash(tensors);
        return new SafeTensorsFile(meta.ToImmutable(), [.. tensors]);
    }

    /// <summary>Validates safetensors content as a checkpoint.</summary>
    /// <exception cref="DataFormatException">See <see cref="Read"/>.</exception>
    public static FitCheckpoint FromSafeTensors(SafeTensorsFile file, string source, KindRegistry? kinds = null)
    {
        ArgumentNullException.ThrowIfNull(file); ArgumentNullException.ThrowIfNull(source);
        var r = new Reader(file, source, kinds ?? KindRegistry.BuiltIn);
        if (r.Meta("format") != Format) throw r.MetaError("format", $"{DataText.Quote(r.Meta("format"))}, expected '{Format}'; is this a NeuralPure checkpoint?");
        if (r.Meta("sha256") != ContentHash(file.Tensors))
            throw r.MetaError("sha256", "the tensors do not match the checkpoint's recorded SHA-256; the file was altered or damaged");

        var names = r.Json("parameters", n => n.AsArray().Select(x => x!.GetValue<string>()).ToImmutableArray());
        if (names.Length == 0 || names.Distinct().Count() != names.Length) throw r.MetaError("parameters", "the parameter names must be a non-empty list without repeats");
        var parameters = r.Tree("param", names, null, requireFinite: true);
        var shapes = parameters;

        var fit = r.Json("fit", ReadFit);
        var progress = r.Json("progress", n => n.AsObject());
        string reasonText = r.Get(progress, "progress", "reason", v => v.GetValue<string>());
        var reason = ParseReason(reasonText) ?? throw r.MetaError("progress", $"unknown reason {DataText.Quote(reasonText)}");
        long step = r.Get(progress, "progress", "step", v => v.GetValue<long>());
        int epoch = r.Get(progress, "progress", "epoch", v => v.GetValue<int>());
        int cursor = r.Get(progress, "progress", "cursor", v => v.GetValue<int>());
        int perEpoch = r.Get(progress, "progress", "iterationsPerEpoch", v => v.GetValue<int>());
        int epochExamples = r.Get(progress, "progress", "epochExamples", v => v.GetValue<int>());
        long examples = r.Get(progress, "progress", "examples", v => v.GetValue<long>());
        var key = r.Get(progress, "progress", "key", v => { var a = v.AsArray(); return a.Count == 2 ? new RandomKey(a[0]!.GetValue<uint>(), a[1]!.GetValue<uint>()) : throw new FormatException("the key must be two 32-bit words"); });
        int bestEpoch = r.Get(progress, "progress", "bestEpoch", v => v.GetValue<int>());
        int sinceBest = r.Get(progress, "progress", "sinceBest", v => v.GetValue<int>());
        if (step < 0 || epoch < 0 || epoch > fit.Epochs || perEpoch < 1 || cursor < 0 || cursor >= perEpoch || epochExamples < 0 || examples < 0
            || bestEpoch < 0 || bestEpoch > epoch || sinceBest < 0 || (cursor > 0 && epoch == fit.Epochs))
            throw r.MetaError("progress", $"inconsistent progress: step {step}, epoch {epoch} of {fit.Epochs}, cursor {cursor} of {perEpoch} batches, best epoch {bestEpoch}, {sinceBest} since");
        if (reason == CheckpointReason.Completed && epoch != fit.Epochs) throw r.MetaError("progress", $"marked completed at epoch {epoch} of {fit.Epochs}");

        var optState = r.Json("optState", n => r.DecodeState(n, "s", shapes, 0));

        ParamTree<float> best = parameters;
        if (file.TryGet("best/" + names[0], out _)) best = r.Tree("best", names, shapes, requireFinite: true);
        else if (fit.EarlyStopping is not null && bestEpoch > 0) throw r.TensorError("best/" + names[0], "early stopping has a best epoch but its parameters are missing");

        var histT = r.Tensor("history/epochs", SafeTensorDType.F64);
        if (histT.Shape.Length != 2 || histT.Shape[1] != HistoryColumns) throw r.TensorError("history/epochs", $"must be [epochs, {HistoryColumns}], is {NamedTensor.FormatShape(histT.Shape.AsSpan())}");
        var history = ImmutableArray.CreateBuilder<EpochReport>(histT.Shape[0]);
        long iterationsInHistory = 0;
        for (int i = 0; i < histT.Shape[0]; i++)
        {
            var v = histT.Values.AsSpan(i * HistoryColumns, HistoryColumns);
            bool hasVal = v[4] == 1;
            if (!IsCount(v[0]) || !IsCount(v[1]) || !IsCount(v[2]) || (v[4] != 0 && v[4] != 1) || (int)v[1] != fit.Epochs || (int)v[2] != perEpoch
                || (i > 0 && (int)v[0] != history[i - 1].Epoch + 1))
                throw r.TensorError("history/epochs", $"row {i} is not a valid epoch report");
            history.Add(new EpochReport((int)v[0], (int)v[1], (int)v[2], v[3], hasVal ? v[5] : null, hasVal ? v[6] : null, v[7]));
            iterationsInHistory += (int)v[2];
        }
        if (history.Count > 0 && history[^1].Epoch != epoch) throw r.TensorError("history/epochs", $"the last report is for epoch {history[^1].Epoch} but the state has completed {epoch}");
        var iterLosses = r.Tensor("history/iterationLosses", SafeTensorDType.F64);
        if (iterLosses.Shape.Length != 1 || iterLosses.Values.Length != iterationsInHistory + cursor)
            throw r.TensorError("history/iterationLosses", $"holds {iterLosses.Values.Length} losses; the history's {iterationsInHistory} iterations and the cursor's {cursor} make {iterationsInHistory + cursor}");
        var layerState = new ParamTree<float>([], []);
        if (file.Metadata.ContainsKey("layerState"))
        {
            var stateNames = r.Json("layerState", n => n.AsArray().Select(x => x!.GetValue<string>()).ToImmutableArray());
            if (stateNames.Length == 0 || stateNames.Distinct().Count() != stateNames.Length) throw r.MetaError("layerState", "the layer state names must be a non-empty list without repeats");
            layerState = r.Tree("layer", stateNames, null, requireFinite: true);
        }
        ParamTree<float>? bestLayer = null;
        if (layerState.Count > 0 && file.TryGet("bestLayer/" + layerState.Names[0], out _)) bestLayer = r.Tree("bestLayer", layerState.Names, layerState, requireFinite: true);
        var doubles = r.Tensor("progress/doubles", SafeTensorDType.F64);
        if (doubles.Values.Length != 3) throw r.TensorError("progress/doubles", "must hold 3 values");
        if (r.Used != file.Tensors.Length)
        {
            var extra = file.Tensors.Select(t => t.Name).Except(r.UsedNames).Take(5);
            throw r.FileError($"unexpected tensors {string.Join(", ", extra.Select(DataText.Quote))}");
        }

        var metadata = file.Metadata.RemoveRange(ReservedKeys);
        var state = new TrainState<float>(parameters, optState, step, epoch, key) { LayerState = layerState };
        return new FitCheckpoint(state, cursor, perEpoch, doubles.Values[0], epochExamples, history.ToImmutable(), iterLosses.Values,
            doubles.Values[1], bestEpoch, sinceBest, best, reason, examples, doubles.Values[2], fit, r.Meta("architecture"), r.Meta("optimizer"), metadata)
        { BestLayerState = bestLayer };
    }

    /// <summary>The fit options as the checkpoint stores them.</summary>
    internal static JsonObject FitJson(FitOptions o) => new()
    {
        ["epochs"] = o.Epochs,
        ["batchSize"] = o.BatchSize,
        ["seed"] = o.Seed,
        ["shuffle"] = o.Shuffle,
        ["dropLast"] = o.DropLast,
        ["earlyStopping"] = o.EarlyStopping is { } es ? new JsonObject { ["patience"] = es.Patience, ["minDelta"] = es.MinDelta, ["restoreBest"] = es.RestoreBest } : null,
    };

    private static FitOptions ReadFit(JsonNode n)
    {
        var o = n.AsObject();
        EarlyStopping? es = o["earlyStopping"] is JsonObject e
            ? new EarlyStopping(e["patience"]!.GetValue<int>(), e["minDelta"]!.GetValue<double>(), e["restoreBest"]!.GetValue<bool>())
            : null;
        return new FitOptions(o["epochs"]!.GetValue<int>(), o["batchSize"]!.GetValue<int>(), o["seed"]!.GetValue<ulong>(), o["shuffle"]!.GetValue<bool>(),
            o["dropLast"]!.GetValue<bool>(), es);
    }

    private static bool IsCount(double v) => v >= 0 && v <= int.MaxValue && v == Math.Floor(v);

    private static string ReasonName(CheckpointReason r) => r switch
    {
        CheckpointReason.Start => "start",
        CheckpointReason.Epoch => "epoch",
        CheckpointReason.Cancelled => "cancelled",
        CheckpointReason.Completed => "completed",
        _ => "early-stopped",
    };

    private static CheckpointReason? ParseReason(string s) => s switch
    {
        "start" => CheckpointReason.Start,
        "epoch" => CheckpointReason.Epoch,
        "cancelled" => CheckpointReason.Cancelled,
        "completed" => CheckpointReason.Completed,
        "early-stopped" => CheckpointReason.EarlyStopped,
        _ => null,
    };

    private static void AddTree(List<NamedTensor> tensors, string prefix, ParamTree<float> tree)
    {
        for (int i = 0; i < tree.Count; i++)
        {
            // Held as the tree's own immutable floats: written and hashed from their bytes (no copy, no conversion either way).
            tensors.Add(new NamedTensor($"{prefix}/{tree.Names[i]}", tree[i].Shape, tree[i]));
        }
    }

    private static JsonObject EncodeState(OptState state, string path, ParamTree<float> like, List<NamedTensor> tensors, KindRegistry kinds)
    {
        void Tree(string field, ParamTree<float> t)
        {
            ParamTree<float>.RequireSameStructure(like, t, nameof(state));
            AddTree(tensors, $"opt/{path}/{field}", t);
        }
        switch (state)
        {
            case EmptyState: return new JsonObject { ["kind"] = "empty" };
            case CountState c: return new JsonObject { ["kind"] = "count", ["count"] = c.Count };
            case MomentumState<float> m: Tree("velocity", m.Velocity); return new JsonObject { ["kind"] = "momentum" };
            case DampedMomentumState<float> dm: Tree("velocity", dm.Velocity); return new JsonObject { ["kind"] = "dampedMomentum", ["count"] = dm.Count };
            case AdamState<float> a:
                Tree("mu", a.Mu); Tree("nu", a.Nu);
                if (a.NuMax is { } nm) Tree("nuMax", nm);
                return new JsonObject { ["kind"] = "adam", ["count"] = a.Count, ["amsGrad"] = a.NuMax is not null };
            case RmsState<float> s:
                Tree("nu", s.Nu);
                if (s.GradAvg is { } g) Tree("gradAvg", g);
                return new JsonObject { ["kind"] = "rms", ["centered"] = s.GradAvg is not null };
            case AdamaxState<float> ax: Tree("mu", ax.Mu); Tree("inf", ax.Inf); return new JsonObject { ["kind"] = "adamax", ["count"] = ax.Count };
            case NAdamState<float> na: Tree("mu", na.Mu); Tree("nu", na.Nu); return new JsonObject { ["kind"] = "nadam", ["count"] = na.Count, ["muProduct"] = na.MuProduct };
            case RAdamState<float> ra: Tree("mu", ra.Mu); Tree("nu", ra.Nu); return new JsonObject { ["kind"] = "radam", ["count"] = ra.Count };
            case AdagradState<float> ag: Tree("sum", ag.Sum); return new JsonObject { ["kind"] = "adagrad" };
            case LionState<float> li: Tree("mu", li.Mu); return new JsonObject { ["kind"] = "lion" };
            case MaskedState ms:
            {
                var sub = Subtree(like, ms.Names, nameof(state));
                return new JsonObject { ["kind"] = "masked", ["names"] = new JsonArray([.. ms.Names.Select(n => (JsonNode?)n)]), ["inner"] = EncodeState(ms.Inner, $"{path}.m", sub, tensors, kinds) };
            }
            case MultiStepsState<float> mu:
                Tree("accumulated", mu.Accumulated);
                return new JsonObject { ["kind"] = "multiSteps", ["miniStep"] = mu.MiniStep, ["inner"] = EncodeState(mu.Inner, $"{path}.a", like, tensors, kinds) };
            case ChainState ch:
                var arr = new JsonArray();
                for (int i = 0; i < ch.States.Length; i++) arr.Add((JsonNode)EncodeState(ch.States[i], $"{path}.{i}", like, tensors, kinds));
                return new JsonObject { ["kind"] = "chain", ["states"] = arr };
            default:
                // A user's state: its registered kind, its fields, and its parameter trees as tensors.
                return kinds.Encode(state, "optimizer state", Tree);
        }
    }

    /// <summary>The leaves of <paramref name="like"/> named <paramref name="names"/>, in that order (a masked state's parameters).</summary>
    private static ParamTree<float> Subtree(ParamTree<float> like, ImmutableArray<string> names, string argName)
    {
        var index = like.Names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var leaves = names.Select(n => index.TryGetValue(n, out var i) ? like.Leaves[i] : throw new ArgumentException($"the masked state names '{n}', which is not a parameter", argName));
        return new ParamTree<float>(names, [.. leaves]);
    }

    /// <summary>SHA-256 over every tensor's name, dtype, shape and stored bytes, in order.</summary>
    /// <remarks>The bytes hashed: per tensor its UTF-8 name, 0, its dtype, its dimensions as int32 and its values as stored
    /// (float32 or float64, little-endian). They pass to SHA-256 in chunks of <see cref="HashChunk"/> bytes (one call per
    /// value had made the hash a third of a checkpoint's cost: 5.6 M calls for config d's parameters and Adam moments).</remarks>
    private static string ContentHash(IEnumerable<NamedTensor> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(HashChunk);
        try
        {
            Span<byte> buf = stackalloc byte[4];
            foreach (var t in tensors)
            {
                sha.AppendData(Encoding.UTF8.GetBytes(t.Name));
                buf[0] = 0; buf[1] = (byte)t.DType;
                sha.AppendData(buf[..2]);
                foreach (int d in t.Shape) { BinaryPrimitives.WriteInt32LittleEndian(buf, d); sha.AppendData(buf); }
                if (t.HasFloats && BitConverter.IsLittleEndian) { sha.AppendData(MemoryMarshal.AsBytes(t.Floats)); continue; }
                ReadOnlySpan<double> values = t.Values.AsSpan();
                int size = t.DType == SafeTensorDType.F32 ? 4 : 8, perChunk = HashChunk / size;
                for (int start = 0; start < values.Length; start += perChunk)
                {
                    var part = values.Slice(start, Math.Min(perChunk, values.Length - start));
                    Span<byte> bytes = chunk.AsSpan(0, part.Length * size);
                    if (size == 4) for (int i = 0; i < part.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], (float)part[i]);
                    else for (int i = 0; i < part.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes[(8 * i)..], part[i]);
                    sha.AppendData(bytes);
                }
            }
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
    }

    private const int HashChunk = 1 << 16;

    /// <summary>A message from a parser, which may quote hostile text, cut to a readable length.</summary>
    private static string Cut(string message) => message.Length <= 200 ? message : message[..200] + "…";

    /// <summary>Reads parts of a checkpoint, turning every problem into a <see cref="DataFormatException"/> naming the part.</summary>
    private sealed class Reader(SafeTensorsFile file, string source, KindRegistry kinds)
    {
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        public int Used => _used.Count;

        public IEnumerable<string> UsedNames => _used;

        /// <summary>A problem with the metadata entry <paramref name="key"/>: the message names it as a metadata key.</summary>
        public DataFormatException MetaError(string key, string problem, Exception? inner = null) => DataFormatException.InMetadata(source, key, problem, inner);

        /// <summary>A problem with the tensor <paramref name="name"/>: the message names it as a tensor.</summary>
        public DataFormatException TensorError(string name, string problem, Exception? inner = null) => DataFormatException.InTensor(source, name, problem, inner);

        /// <summary>A problem of the file as a whole.</summary>
        public DataFormatException FileError(string problem) => new(source, null, null, problem);

        public string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw MetaError(key, $"missing; is this a NeuralPure checkpoint ({Format})?");

        public T Json<T>(string key, Func<JsonNode, T> read)
        {
            string text = Meta(key);
            try { return read(JsonNode.Parse(text) ?? throw new FormatException("null")); }
            catch (DataFormatException) { throw; }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException or KeyNotFoundException or OverflowException)
            {
                throw MetaError(key, $"malformed: {Cut(e.Message)}", e);
            }
        }

        public T Get<T>(JsonObject o, string key, string field, Func<JsonNode, T> read)
        {
            try { return read(o[field] ?? throw new FormatException($"'{field}' is missing")); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or NullReferenceException or OverflowException)
            {
                throw MetaError(key, $"'{field}' is missing or malformed: {Cut(e.Message)}", e);
            }
        }

        public NamedTensor Tensor(string name, SafeTensorDType dtype)
        {
            if (!file.TryGet(name, out var t)) throw TensorError(name, "missing");
            if (t.DType != dtype) throw TensorError(name, $"{t.DType}, expected {dtype}");
            _used.Add(name);
            return t;
        }

        public ParamTree<float> Tree(string prefix, ImmutableArray<string> names, ParamTree<float>? like, bool requireFinite)
        {
            var leaves = ImmutableArray.CreateBuilder<NdArray<float>>(names.Length);
            for (int i = 0; i < names.Length; i++)
            {
                string n = $"{prefix}/{names[i]}";
                var t = Tensor(n, SafeTensorDType.F32);
                if (like is not null && !t.Shape.SequenceEqual(like[i].Shape))
                    throw TensorError(n, $"shape {NamedTensor.FormatShape(t.Shape.AsSpan())}, but the parameter is {like[i].ShapeText}");
                var values = new float[t.Values.Length];
                for (int j = 0; j < values.Length; j++)
                {
                    values[j] = (float)t.Values[j];
                    if (requireFinite && !float.IsFinite(values[j])) throw TensorError(n, $"holds {values[j]} at element {j}");
                }
                try { leaves.Add(NdArray.From<float>(values, [.. t.Shape])); }
                catch (ArgumentException e) { throw TensorError(n, $"an unusable shape: {e.Message}", e); }
            }
            return new ParamTree<float>(names, leaves.MoveToImmutable());
        }

        private OptState Registered(Type t, JsonObject o, Func<string, ParamTree<float>> tree)
        {
            try { return (OptState)kinds.Decode(t, o, tree); }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException) { throw MetaError("optState", $"state {DataText.Quote(o["kind"]?.ToString() ?? "")}: {Cut(e.Message)}", e); }
        }

        private OptState DecodeMasked(JsonObject o, string path, ParamTree<float> like, int depth)
        {
            ImmutableArray<string> names = [.. (o["names"] as JsonArray ?? throw MetaError("optState", $"state {path} has no names")).Select(n => n!.GetValue<string>())];
            ParamTree<float> sub;
            try { sub = Subtree(like, names, "optState"); }
            catch (ArgumentException e) { throw MetaError("optState", $"state {path}: {e.Message.Split(" (Parameter")[0]}", e); }
            return new MaskedState(names, names.IsEmpty ? DecodeEmpty(o["inner"]!, path) : DecodeState(o["inner"]!, $"{path}.m", sub, depth + 1));
        }

        private OptState DecodeEmpty(JsonNode node, string path) =>
            node["kind"]?.GetValue<string>() == "empty" ? EmptyState.Instance : throw MetaError("optState", $"state {path} covers no parameters but holds a {node["kind"]} state");

        public OptState DecodeState(JsonNode node, string path, ParamTree<float> like, int depth)
        {
            if (depth > 16) throw MetaError("optState", "the optimizer state is nested more than 16 deep");
            var o = node.AsObject();
            string kind = o["kind"]!.GetValue<string>();
            ParamTree<float> T(string field) => Tree($"opt/{path}/{field}", like.Names, like, requireFinite: false);
            long Count() => o["count"]!.GetValue<long>() is var c and >= 0 ? c : throw MetaError("optState", $"state {path} has a negative count");
            return kind switch
            {
                "empty" => EmptyState.Instance,
                "count" => new CountState(Count()),
                "momentum" => new MomentumState<float>(T("velocity")),
                "dampedMomentum" => new DampedMomentumState<float>(Count(), T("velocity")),
                "adam" => new AdamState<float>(Count(), T("mu"), T("nu"), o["amsGrad"]!.GetValue<bool>() ? T("nuMax") : null),
                "rms" => new RmsState<float>(T("nu"), o["centered"]!.GetValue<bool>() ? T("gradAvg") : null),
                "adamax" => new AdamaxState<float>(Count(), T("mu"), T("inf")),
                "nadam" => new NAdamState<float>(Count(), o["muProduct"]!.GetValue<double>() is var mp and >= 0 and <= 1 ? mp : throw MetaError("optState", $"state {path} has a momentum product outside [0, 1]"), T("mu"), T("nu")),
                "radam" => new RAdamState<float>(Count(), T("mu"), T("nu")),
                "adagrad" => new AdagradState<float>(T("sum")),
                "lion" => new LionState<float>(T("mu")),
                "masked" => DecodeMasked(o, path, like, depth),
                "multiSteps" => new MultiStepsState<float>(o["miniStep"]!.GetValue<int>() is var k and >= 0 ? k : throw MetaError("optState", $"state {path} has a negative micro-batch"),
                    T("accumulated"), DecodeState(o["inner"]!, $"{path}.a", like, depth + 1)),
                "chain" => new ChainState([.. o["states"]!.AsArray().Select((s, i) => DecodeState(s!, $"{path}.{i}", like, depth + 1))]),
                _ => kinds.TypeOf(kind) is { } t && typeof(OptState).IsAssignableFrom(t) ? Registered(t, o, T)
                    : throw MetaError("optState", $"state {path} has unknown kind {DataText.Quote(kind)}; built in: empty, count, momentum, dampedMomentum, adam, rms, adamax, nadam, radam, adagrad, lion, masked, multiSteps, chain; {kinds.KnownText}"),
            };
        }
    }
}

internal static class SpanExtensions
{
    public static void SetValues(this Span<double> s, params ReadOnlySpan<double> values) => values.CopyTo(s);
}
