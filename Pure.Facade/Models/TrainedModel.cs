using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralPure.Facade.Runs;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Training;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Models;

/// <summary>A trained model with everything needed to use it on raw data: architecture, parameters, standardization, task.</summary>
/// <param name="Spec">The architecture.</param>
/// <param name="Parameters">The trained parameters (float32, PyTorch layout: <c>0.weight</c> is [out, in]).</param>
/// <param name="Standardizer">The standardization fitted on the training rows.</param>
/// <param name="Task">Classification or regression.</param>
/// <param name="Classes">Number of classes (0 for regression).</param>
/// <param name="FeatureNames">Input column names.</param>
/// <param name="TargetName">Target column name.</param>
/// <param name="ClassNames">The classes' names (label k is ClassNames[k]): the sorted distinct labels of the training data;
/// default "0".."Classes − 1" (what model files without names meant).</param>
public sealed record TrainedModel(ModelSpec Spec, ParamTree<float> Parameters, Standardizer Standardizer, TaskKind Task, int Classes,
    ImmutableArray<string> FeatureNames, string TargetName, ImmutableArray<string> ClassNames = default)
{
    /// <summary>The layers' non-trainable state (batch normalization's running statistics) that evaluation reads; empty for a
    /// model without layer state. Saved in the model file beside the parameters, under PyTorch's state-dict names.</summary>
    /// <exception cref="ArgumentException">The state does not fit the model.</exception>
    public ParamTree<float> LayerState
    {
        get => layerState ??= Model.InitState<float>(Spec);
        init { if (value is not null) Model.RequireState(Spec, value, nameof(LayerState)); layerState = value; }
    }

    private ParamTree<float>? layerState;

    /// <summary>The parameters, checked against <see cref="Spec"/> when the model is made or given in a <c>with</c> (a mismatch would
    /// fail only at the first prediction, blaming its rows).</summary>
    public ParamTree<float> Parameters { get; init => field = RequireParameters(Spec, value); } = RequireParameters(Spec, Parameters);

    /// <summary>The standardization, checked when the model is made or given in a <c>with</c>: one finite mean and one finite scale
    /// &gt; 0 per input feature of <see cref="Spec"/>, and a finite target mean and scale &gt; 0.</summary>
    public Standardizer Standardizer { get; init => field = RequireStandardizer(Spec, value); } = RequireStandardizer(Spec, Standardizer);

    /// <summary>The input columns' names, checked when the model is made or given in a <c>with</c>: one per input feature of
    /// <see cref="Spec"/>, or none.</summary>
    public ImmutableArray<string> FeatureNames { get; init => field = RequireFeatureNames(Spec, value); } = RequireFeatureNames(Spec, FeatureNames);

    private static ImmutableArray<string> RequireFeatureNames(ModelSpec spec, ImmutableArray<string> names) =>
        names.IsDefaultOrEmpty || names.Length == spec.InputWidth ? names
            : throw new ArgumentException($"{names.Length} feature names for a model that takes {spec.InputWidth} features", nameof(FeatureNames));

    private static ParamTree<float> RequireParameters(ModelSpec spec, ParamTree<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(parameters);
        Model.RequireParameters(spec, parameters, nameof(Parameters));
        return parameters;
    }

    private static Standardizer RequireStandardizer(ModelSpec spec, Standardizer s)
    {
        ArgumentNullException.ThrowIfNull(s);
        int f = spec.InputWidth;
        if (s.Mean.IsDefault || s.Scale.IsDefault || s.Mean.Length != f || s.Scale.Length != f)
            throw new ArgumentException($"the standardizer has {(s.Mean.IsDefault ? 0 : s.Mean.Length)} means and {(s.Scale.IsDefault ? 0 : s.Scale.Length)} scales for a model that takes {f} features", nameof(Standardizer));
        for (int j = 0; j < f; j++)
            if (!double.IsFinite(s.Mean[j]) || !(s.Scale[j] > 0) || !double.IsFinite(s.Scale[j]))
                throw new ArgumentException($"the standardizer's feature {j} has mean {s.Mean[j]} and scale {s.Scale[j]}; a mean must be finite and a scale finite and > 0", nameof(Standardizer));
        if (!double.IsFinite(s.TargetMean) || !(s.TargetScale > 0) || !double.IsFinite(s.TargetScale))
            throw new ArgumentException($"the standardizer's target mean {s.TargetMean} and scale {s.TargetScale}: the mean must be finite and the scale finite and > 0", nameof(Standardizer));
        return s;
    }

    /// <summary>The class names, checked: one per class, distinct (empty for regression).</summary>
    public ImmutableArray<string> ClassNames { get; } =
        ClassNames.IsDefault ? [.. Enumerable.Range(0, Task == TaskKind.Classification ? Classes : 0).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]
        : ClassNames.Length == (Task == TaskKind.Classification ? Classes : 0) && ClassNames.Distinct(StringComparer.Ordinal).Count() == ClassNames.Length && ClassNames.All(n => n is not null)
            ? ClassNames
            : throw new ArgumentException($"expected {(Task == TaskKind.Classification ? Classes : 0)} distinct class names, got {ClassNames.Length}", nameof(ClassNames));

    /// <summary>Predictions for raw rows [rows, features]: the class index (classification) or the value in the target's units (regression).</summary>
    public double[] Predict(double[,] x) => Predict(Flat(x), x.GetLength(0));

    /// <summary>The predicted class names for raw rows [rows, features] (classification only).</summary>
    public string[] PredictClasses(double[,] x) => PredictClasses(Flat(x), x.GetLength(0));

    /// <summary>Each class's probability (softmax of the logits) for raw rows [rows, features], as [rows, classes] (classification only).</summary>
    public double[,] PredictProba(double[,] x)
    {
        int rows = x.GetLength(0);
        var p = PredictProbabilities(Flat(x), rows);
        var r = new double[rows, Classes];
        for (int i = 0; i < rows; i++) for (int c = 0; c < Classes; c++) r[i, c] = p[i * Classes + c];
        return r;
    }

    private double[] Flat(double[,] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.GetLength(1) != FeatureNames.Length) throw new ArgumentException($"the model takes {FeatureNames.Length} features ({string.Join(", ", FeatureNames.Take(8))}{(FeatureNames.Length > 8 ? ", …" : "")}); x has {x.GetLength(1)} columns", nameof(x));
        var flat = new double[x.Length];
        int k = 0;
        foreach (var v in x) flat[k++] = v;
        return flat;
    }

    /// <summary>The predicted class names for raw rows (classification only).</summary>
    /// <exception cref="InvalidOperationException">A regression model.</exception>
    public string[] PredictClasses(ReadOnlySpan<double> rawRows, int rows) =>
        Task == TaskKind.Classification ? [.. Evaluation.Evaluate.ArgMax(Outputs(rawRows, rows)).Select(c => ClassNames[c])]
        : throw new InvalidOperationException("class names exist only for classification models");

    /// <summary>Raw model outputs (logits, or standardized values) for raw feature rows [rows × features].</summary>
    /// <exception cref="ArgumentException">The width is wrong or a value is not finite.</exception>
    public NdArray<float> Outputs(ReadOnlySpan<double> rawRows, int rows) =>
        Evaluation.Evaluate.Outputs(Spec, Parameters, Shaped(Standardizer.TransformX(rawRows, rows)), LayerState);

    /// <summary>Standardized rows [rows, features] in the model's example shape ([rows, 1, 28, 28] for a CNN on images).</summary>
    public NdArray<float> Shaped(NdArray<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Spec.Input.Rank == 1 || x.Rank != 2 ? x : x.Reshape([.. Spec.Input.Batch(x.Rows)]);
    }

    /// <summary>Predictions for raw rows: the class index (classification) or the value in the target's units (regression).</summary>
    public double[] Predict(ReadOnlySpan<double> rawRows, int rows)
    {
        var o = Outputs(rawRows, rows);
        return Task == TaskKind.Classification
            ? [.. Evaluation.Evaluate.ArgMax(o).Select(c => (double)c)]
            : [.. Enumerable.Range(0, rows).Select(i => Standardizer.InverseTarget(o[i]))];
    }

    /// <summary>Class probabilities (softmax of the logits) for raw rows; classification only.</summary>
    public NdArray<float> PredictProbabilities(ReadOnlySpan<double> rawRows, int rows) =>
        Task == TaskKind.Classification ? NeuralPure.Losses.SoftmaxCrossEntropy.Softmax(Outputs(rawRows, rows))
        : throw new InvalidOperationException("probabilities exist only for classification models");

    /// <summary>SHA-256 of the parameters' float32 little-endian bytes in file order (the run record's parameters.sha256).</summary>
    public string ParameterHash() => HashParameters(Parameters);

    /// <summary>SHA-256 of a parameter tree's float32 little-endian bytes in leaf order.</summary>
    public static string HashParameters(ParamTree<float> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // A leaf's floats are its little-endian bytes on a little-endian machine: one call per leaf (a call per value had been
        // 1.9 M calls for config d's parameters). Elsewhere the bytes are made in chunks.
        Span<byte> chunk = stackalloc byte[4096];
        foreach (var leaf in p.Leaves)
        {
            var values = leaf.Span;
            if (BitConverter.IsLittleEndian) { sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)); continue; }
            for (int start = 0; start < values.Length; start += chunk.Length / 4)
            {
                var part = values.Slice(start, Math.Min(chunk.Length / 4, values.Length - start));
                for (int i = 0; i < part.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(chunk[(4 * i)..], part[i]);
                sha.AppendData(chunk[..(4 * part.Length)]);
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>Saves and loads <see cref="TrainedModel"/> as safetensors, readable by <c>safetensors.torch.load_file</c>.</summary>
/// <remarks>Tensors are named and laid out as a PyTorch <c>nn.Sequential</c> of <c>Linear</c> layers would have them
/// (<c>0.weight</c> [out, in], <c>0.bias</c>, <c>2.weight</c>, …), dtype F32. <c>__metadata__</c> holds <c>format</c>
/// (neuralpure/1), <c>architecture</c>, <c>standardization</c>, <c>task</c>, <c>classes</c>, <c>classNames</c> (a JSON list; absent in older files, which meant "0".."classes − 1"), <c>features</c>, <c>target</c>
/// and, when given, <c>config</c> — each a string, as the format requires.</remarks>
public static class ModelFile
{
    /// <summary>The value of the <c>format</c> metadata key.</summary>
    public const string Format = "neuralpure/1";

    /// <summary>The safetensors content of a model.</summary>
    public static SafeTensorsFile ToSafeTensors(TrainedModel model, string? configJson = null, KindRegistry? kinds = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var s = model.Standardizer;
        var meta = ImmutableDictionary.CreateBuilder<string, string>();
        meta["format"] = Format;
        meta["architecture"] = SpecJson.ToJson(model.Spec, kinds).ToJsonString();
        meta["standardization"] = new JsonObject
        {
            ["mean"] = new JsonArray([.. s.Mean.Select(v => (JsonNode)JsonValue.Create(v))]),
            ["scale"] = new JsonArray([.. s.Scale.Select(v => (JsonNode)JsonValue.Create(v))]),
            ["targetMean"] = s.TargetMean,
            ["targetScale"] = s.TargetScale,
        }.ToJsonString();
        meta["task"] = model.Task == TaskKind.Classification ? "classification" : "regression";
        meta["classes"] = model.Classes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (model.Task == TaskKind.Classification) meta["classNames"] = JsonSerializer.Serialize(model.ClassNames, FacadeJson.Compact.ImmutableArrayString);
        meta["features"] = JsonSerializer.Serialize(model.FeatureNames, FacadeJson.Compact.ImmutableArrayString);
        meta["target"] = model.TargetName;
        if (configJson is not null) meta["config"] = configJson;
        var tensors = model.Parameters.Names.Zip(model.Parameters.Leaves, (n, l) => (n, l))
            .Concat(model.LayerState.Names.Zip(model.LayerState.Leaves, (n, l) => (n, l))) // PyTorch's state dict holds the buffers beside the parameters
            .Select(t => new NamedTensor(t.n, t.l.Shape, SafeTensorDType.F32, [.. t.l.Span.ToArray().Select(v => (double)v)]));
        return new SafeTensorsFile(meta.ToImmutable(), [.. tensors]);
    }

    /// <summary>Writes the model atomically (temp file, then rename).</summary>
    public static void Save(string path, TrainedModel model, string? configJson = null, KindRegistry? kinds = null) => SafeTensors.Write(path, ToSafeTensors(model, configJson, kinds));

    /// <summary>Loads and validates a model file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">The file is not valid safetensors, or not a NeuralPure model: a missing or malformed
    /// metadata key, a tensor missing, extra, of the wrong shape or dtype, or holding NaN/∞.</exception>
    public static (TrainedModel Model, string? ConfigJson) Load(string path, KindRegistry? kinds = null)
    {
        var file = SafeTensors.Read(path);
        return FromSafeTensors(file, path, kinds);
    }

    /// <summary>Validates safetensors content as a model.</summary>
    /// <exception cref="DataFormatException">See <see cref="Load"/>.</exception>
    public static (TrainedModel Model, string? ConfigJson) FromSafeTensors(SafeTensorsFile file, string source, KindRegistry? kinds = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        string Meta(string key) => file.Metadata.TryGetValue(key, out var v) ? v
            : throw DataFormatException.InMetadata(source, key, $"missing; is this a NeuralPure model ({Format})?");
        if (Meta("format") != Format) throw DataFormatException.InMetadata(source, "format", $"{DataText.Quote(Meta("format"))}, expected '{Format}'");
        var spec = SpecJson.FromJson(Meta("architecture"), source, kinds);
        var task = Meta("task") switch
        {
            "classification" => TaskKind.Classification,
            "regression" => TaskKind.Regression,
            var t => throw DataFormatException.InMetadata(source, "task", $"{DataText.Quote(t)} is neither classification nor regression"),
        };
        if (!int.TryParse(Meta("classes"), System.Globalization.CultureInfo.InvariantCulture, out int classes) || classes < 0)
            throw DataFormatException.InMetadata(source, "classes", $"{DataText.Quote(Meta("classes"))} is not a count");
        if (task == TaskKind.Classification && classes != spec.OutputWidth)
            throw DataFormatException.InMetadata(source, "classes", $"{classes} classes, but the network outputs {spec.OutputWidth}");
        T Parsed<T>(string key, Func<string, T> parse)
        {
            try { return parse(Meta(key)); }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                throw DataFormatException.InMetadata(source, key, $"malformed: {(e.Message.Length <= 240 ? e.Message : e.Message[..240] + "…")}", e);
            }
        }
        var features = Parsed("features", text => JsonSerializer.Deserialize(text, FacadeJson.Compact.ImmutableArrayString));
        var standardizer = Parsed("standardization", text =>
        {
            var st = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
            ImmutableArray<double> Arr(string k) => [.. (st[k] as JsonArray ?? throw new JsonException($"'{k}' is not an array")).Select(n => n!.GetValue<double>())];
            return new Standardizer(Arr("mean"), Arr("scale"), st["targetMean"]!.GetValue<double>(), st["targetScale"]!.GetValue<double>());
        });
        if (features.IsDefault || features.Length != spec.InputWidth)
            throw DataFormatException.InMetadata(source, "features", $"{(features.IsDefault ? 0 : features.Length)} feature names for an input width of {spec.InputWidth}");
        if (standardizer.Mean.Length != spec.InputWidth || standardizer.Scale.Length != spec.InputWidth
            || standardizer.Mean.Concat(standardizer.Scale).Append(standardizer.TargetMean).Append(standardizer.TargetScale).Any(v => !double.IsFinite(v))
            || standardizer.Scale.Any(v => v <= 0) || standardizer.TargetScale <= 0)
            throw DataFormatException.InMetadata(source, "standardization", $"must have {spec.InputWidth} finite means and positive scales");

        var expectedNames = spec.ParameterNames;
        var stateNames = spec.StateShapes.Select(p => p.Name).ToImmutableArray();
        var extra = file.Tensors.Select(t => t.Name).Except(expectedNames).Except(stateNames).ToList();
        if (extra.Count > 0) throw new DataFormatException(source, null, null, $"unexpected tensors {string.Join(", ", extra)}; the architecture has {string.Join(", ", expectedNames)}");
        var template = Model.Init<float>(spec, default);
        var leaves = ImmutableArray.CreateBuilder<NdArray<float>>();
        for (int i = 0; i < expectedNames.Length; i++)
        {
            var name = expectedNames[i];
            if (!file.TryGet(name, out var t)) throw DataFormatException.InTensor(source, name, "missing");
            if (!t.Shape.SequenceEqual(template[i].Shape))
                throw DataFormatException.InTensor(source, name, $"shape [{string.Join(", ", t.Shape)}], but the architecture needs {template[i].ShapeText}");
            if (t.DType != SafeTensorDType.F32) throw DataFormatException.InTensor(source, name, $"{t.DType}; NeuralPure models are F32");
            var values = new float[t.Values.Length];
            for (int j = 0; j < values.Length; j++)
            {
                values[j] = (float)t.Values[j];
                if (!float.IsFinite(values[j])) throw DataFormatException.InTensor(source, name, $"holds {values[j]} at element {j}");
            }
            leaves.Add(NdArray.From<float>(values, [.. t.Shape]));
        }
        var parameters = new ParamTree<float>(expectedNames, leaves.ToImmutable());
        file.Metadata.TryGetValue("config", out var config);
        ImmutableArray<string> classNames = default;
        if (task == TaskKind.Classification && file.Metadata.TryGetValue("classNames", out var namesJson))
        {
            try { classNames = JsonSerializer.Deserialize(namesJson, FacadeJson.Compact.ImmutableArrayString); }
            catch (JsonException e) { throw DataFormatException.InMetadata(source, "classNames", $"not a JSON list of names: {e.Message}", e); }
            if (classNames.IsDefault || classNames.Length != classes || classNames.Any(n => n is null) || classNames.Distinct(StringComparer.Ordinal).Count() != classes)
                throw DataFormatException.InMetadata(source, "classNames", $"must be {classes} distinct names, one per class");
        }
        var stateLeaves = ImmutableArray.CreateBuilder<NdArray<float>>();
        foreach (var st in spec.StateShapes)
        {
            if (!file.TryGet(st.Name, out var t)) throw DataFormatException.InTensor(source, st.Name, $"missing: the layer state the architecture's layers carry ({string.Join(", ", stateNames)})");
            if (!t.Shape.SequenceEqual(st.Shape.Dims)) throw DataFormatException.InTensor(source, st.Name, $"layer state of shape [{string.Join(", ", t.Shape)}], but the architecture needs {st.Shape}");
            var values = new float[t.Values.Length];
            for (int j = 0; j < values.Length; j++)
                values[j] = float.IsFinite((float)t.Values[j]) ? (float)t.Values[j] : throw DataFormatException.InTensor(source, st.Name, $"layer state holding {t.Values[j]} at element {j}");
            stateLeaves.Add(NdArray.From<float>(values, [.. t.Shape]));
        }
        var model = new TrainedModel(spec, parameters, standardizer, task, classes, features, Meta("target"), classNames)
        { LayerState = new ParamTree<float>(stateNames, stateLeaves.ToImmutable()) };
        return (model, config);
    }
}
