using System.Collections.Immutable;
using System.Text.Json;
using NeuralPure.Facade.Data;
using NeuralPure.Facade.Models;
using NeuralPure.Facade.Runs;
using NeuralPure.Layers;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Export;

/// <summary>Writes a <see cref="TrainedModel"/> as an ONNX graph (opset 17, IR version 8) that takes raw feature rows and gives
/// what <see cref="TrainedModel"/> gives: the logits, and the class probabilities or the prediction in the target's units.</summary>
/// <remarks>
/// <para>The graph: one float32 input <c>input</c> [batch, features] ("batch" is a symbolic dimension); the standardization as
/// <c>Sub</c> and <c>Div</c> by the training rows' means and scales (so the graph takes raw features); for a model on examples
/// of another shape, such as images [1, 28, 28], a <c>Reshape</c> to [batch, C, H, W]; one group of nodes per layer; the output
/// <c>logits</c> [batch, outputs] and, for classification, <c>probabilities</c> (<c>Softmax</c> over the classes, as
/// <see cref="TrainedModel.PredictProbabilities"/>) or, for regression, <c>prediction</c> (the logits times the target's scale
/// plus its mean, as <see cref="TrainedModel.Predict(double[,])"/>). The feature names, task, target and class names are in the
/// model's <c>metadata_props</c>.</para>
/// <para>Each layer kind, as the ONNX operators that compute it at inference: dense → <c>Gemm</c> (transB = 1, the weight
/// [out, in] as stored); relu, leaky-relu, sigmoid, tanh, elu → their operators; gelu (exact) → 0.5·x·(1 + <c>Erf</c>(x/√2));
/// silu → x·<c>Sigmoid</c>(x); softplus(β, threshold) → <c>Where</c>(βx &gt; threshold, x, <c>Softplus</c>(βx)/β), PyTorch's
/// definition; layer-norm → <c>LayerNormalization</c> (axis −dims; ones and zeros when not affine); batch-norm →
/// <c>BatchNormalization</c> in inference mode with the running statistics; conv2d → <c>Conv</c>; maxpool2d → <c>MaxPool</c>
/// (ONNX's padding never wins a maximum, as PyTorch's −∞); avgpool2d → <c>AveragePool</c> with count_include_pad; flatten →
/// <c>Flatten</c> (axis 1); log-softmax → <c>LogSoftmax</c> (axis −1). Identity, dropout, random-flip and random-shift are the identity at inference and add no node.</para>
/// <para>The bytes are a function of the model (and NeuralPure's version, written as the producer version): the same model gives
/// the same file.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The operator set written (the default ONNX domain): 17, the first with <c>LayerNormalization</c>.</summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17 (ONNX 1.12).</summary>
    public const int IrVersion = 8;

    /// <summary>The layer kinds the exporter knows (their <see cref="LayerSpec.Kind"/>).</summary>
    public static ImmutableArray<string> Kinds { get; } =
        ["dense", "identity", "relu", "leaky-relu", "sigmoid", "tanh", "gelu", "silu", "elu", "softplus", "dropout", "random-flip", "random-shift",
         "layer-norm", "batch-norm", "conv2d", "maxpool2d", "avgpool2d", "flatten", "log-softmax"];

    /// <summary>The model as ONNX protobuf bytes.</summary>
    /// <exception cref="ArgumentException">A layer is of a kind the exporter does not know (a user's own layer); the message names it.</exception>
    public static byte[] ToBytes(TrainedModel model) => Build(model).Encode();

    /// <summary>Writes the model as an ONNX file, atomically (temp file, then rename).</summary>
    /// <exception cref="ArgumentException">A layer is of a kind the exporter does not know; the message names it.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(TrainedModel model, string path) => AtomicFile.WriteAllBytes(path, ToBytes(model));

    /// <summary>Writes the model's ONNX bytes to a stream.</summary>
    /// <exception cref="ArgumentException">A layer is of a kind the exporter does not know; the message names it.</exception>
    public static void Write(TrainedModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(model));
    }

    /// <summary>The ONNX model as records, before encoding (the tests read its nodes).</summary>
    internal static OnnxModel Build(TrainedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spec = model.Spec;
        for (int i = 0; i < spec.Layers.Length; i++)
            if (!Kinds.Contains(spec.Layers[i].Kind) || spec.Layers[i].GetType().Assembly != typeof(LayerSpec).Assembly)
                throw new ArgumentException($"layer {i} is of kind '{spec.Layers[i].Kind}' ({spec.Layers[i].GetType().Name}), which the ONNX exporter does not know; "
                    + $"it exports {string.Join(", ", Kinds)}", nameof(model));

        var g = new GraphBuilder(model);
        var s = model.Standardizer;
        string x = g.Node("Sub", "standardize.sub", ["input", g.Floats("standardize.mean", [.. s.Mean.Select(v => (float)v)], s.Mean.Length)]);
        x = g.Node("Div", "standardize.div", [x, g.Floats("standardize.scale", [.. s.Scale.Select(v => (float)v)], s.Scale.Length)]);
        if (spec.Input.Rank > 1) // [batch, C·H·W] → [batch, C, H, W]; the 0 copies the batch dimension from the input
            x = g.Node("Reshape", "input.reshape", [x, g.Longs("input.shape", [0, .. spec.Input.Dims.Select(d => (long)d)])]);
        for (int i = 0; i < spec.Layers.Length; i++) x = g.Layer(i, spec.Layers[i], spec.Shapes[i], x);
        g.Rename(x, "logits");

        var batch = new OnnxDim(0, "batch");
        ImmutableArray<OnnxDim> outDims = [batch, .. spec.OutputShape.Dims.Select(d => (OnnxDim)d)];
        var outputs = ImmutableArray.CreateBuilder<OnnxValueInfo>();
        outputs.Add(new OnnxValueInfo("logits", outDims));
        if (model.Task == TaskKind.Classification)
        {
            g.Node("Softmax", "probabilities.softmax", ["logits"], [new OnnxAttribute("axis", Int: 1)], output: "probabilities");
            outputs.Add(new OnnxValueInfo("probabilities", outDims));
        }
        else
        {
            if (s.TargetScale == 1 && s.TargetMean == 0) g.Node("Identity", "prediction.identity", ["logits"], output: "prediction");
            else
            {
                var scaled = g.Node("Mul", "prediction.scale", ["logits", g.Floats("target.scale", [(float)s.TargetScale])]);
                g.Node("Add", "prediction.shift", [scaled, g.Floats("target.mean", [(float)s.TargetMean])], output: "prediction");
            }
            outputs.Add(new OnnxValueInfo("prediction", outDims));
        }

        var graph = new OnnxGraph("neuralpure", g.Nodes.ToImmutable(), g.Initializers.ToImmutable(),
            [new OnnxValueInfo("input", [batch, spec.InputWidth])], outputs.ToImmutable());
        var metadata = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        metadata.Add(new("features", JsonSerializer.Serialize(model.FeatureNames, FacadeJson.Compact.ImmutableArrayString)));
        metadata.Add(new("task", model.Task == TaskKind.Classification ? "classification" : "regression"));
        metadata.Add(new("target", model.TargetName));
        if (model.Task == TaskKind.Classification) metadata.Add(new("classNames", JsonSerializer.Serialize(model.ClassNames, FacadeJson.Compact.ImmutableArrayString)));
        return new OnnxModel(IrVersion, Opset, "NeuralPure", BuildInfo.Number, graph, metadata.ToImmutable());
    }

    /// <summary>Collects nodes and initializers; names values by layer index (<c>3.weight</c>, <c>3.gelu.erf</c>) so a reader
    /// of the graph finds the model file's tensors under the same names.</summary>
    private sealed class GraphBuilder(TrainedModel model)
    {
        public ImmutableArray<OnnxNode>.Builder Nodes { get; } = ImmutableArray.CreateBuilder<OnnxNode>();
        public ImmutableArray<OnnxTensor>.Builder Initializers { get; } = ImmutableArray.CreateBuilder<OnnxTensor>();

        /// <summary>Adds a node with one output (named after the node unless <paramref name="output"/> says) and returns that name.</summary>
        public string Node(string op, string name, ImmutableArray<string> inputs, ImmutableArray<OnnxAttribute> attributes = default, string? output = null)
        {
            output ??= name;
            Nodes.Add(new OnnxNode(op, name, inputs, [output], attributes.IsDefault ? [] : attributes));
            return output;
        }

        public string Floats(string name, ImmutableArray<float> values, params ImmutableArray<long> dims)
        {
            Initializers.Add(new OnnxTensor(name, dims, Floats: values));
            return name;
        }

        public string Longs(string name, ImmutableArray<long> values)
        {
            Initializers.Add(new OnnxTensor(name, [values.Length], Longs: values));
            return name;
        }

        /// <summary>A float constant of shape [] (broadcast against any tensor).</summary>
        private string Scalar(string name, double value) => Floats(name, [(float)value]);

        /// <summary>The parameter or state tensor as an initializer under its model-file name (<c>{layer}.{name}</c>).</summary>
        private string Tensor(string fullName)
        {
            var t = model.Parameters.Names.Contains(fullName) ? model.Parameters[fullName] : model.LayerState[fullName];
            return Floats(fullName, [.. t.Span], [.. t.Shape.Select(d => (long)d)]);
        }

        /// <summary>A constant filled with <paramref name="value"/> of shape <paramref name="shape"/> (a non-affine norm's scale or bias).</summary>
        private string Filled(string name, double value, Shape shape) =>
            Floats(name, [.. Enumerable.Repeat((float)value, shape.Size)], [.. shape.Dims.Select(d => (long)d)]);

        /// <summary>The final value gets the graph output's name: the last node wrote it, and no node reads it yet.</summary>
        public void Rename(string value, string name)
        {
            var last = Nodes[^1];
            if (last.Outputs[0] != value) throw new InvalidOperationException($"the last node writes '{last.Outputs[0]}', not the model's output '{value}'");
            Nodes[^1] = last with { Outputs = [name] };
        }

        private static ImmutableArray<OnnxAttribute> Window(int kh, int kw, int sh, int sw, int ph, int pw) =>
            [new("kernel_shape", Ints: [kh, kw]), new("pads", Ints: [ph, pw, ph, pw]), new("strides", Ints: [sh, sw])];

        /// <summary>The nodes of layer <paramref name="i"/> on <paramref name="x"/> (examples of shape <paramref name="input"/>); returns its output.</summary>
        public string Layer(int i, LayerSpec layer, Shape input, string x)
        {
            string p = $"{i}.{layer.Kind}";
            switch (layer)
            {
                case IdentitySpec or DropoutSpec or RandomFlipSpec or RandomShiftSpec:
                    return x; // the identity at inference
                case DenseSpec:
                    return Node("Gemm", p, [x, Tensor($"{i}.weight"), Tensor($"{i}.bias")], [new("transB", Int: 1)]);
                case ReluSpec: return Node("Relu", p, [x]);
                case LeakyReluSpec lr: return Node("LeakyRelu", p, [x], [new("alpha", Float: (float)lr.Slope)]);
                case SigmoidSpec: return Node("Sigmoid", p, [x]);
                case TanhSpec: return Node("Tanh", p, [x]);
                case EluSpec elu: return Node("Elu", p, [x], [new("alpha", Float: (float)elu.Alpha)]);
                case GeluSpec:
                {
                    var e = Node("Erf", $"{p}.erf", [Node("Div", $"{p}.div", [x, Scalar($"{p}.sqrt2", Math.Sqrt(2))])]);
                    var onePlus = Node("Add", $"{p}.add", [e, Scalar($"{p}.one", 1)]);
                    return Node("Mul", $"{p}.half", [Node("Mul", $"{p}.mul", [x, onePlus]), Scalar($"{p}.half.value", 0.5)]);
                }
                case SiluSpec:
                    return Node("Mul", $"{p}.mul", [x, Node("Sigmoid", $"{p}.sigmoid", [x])]);
                case SoftplusSpec sp:
                {
                    var beta = Scalar($"{p}.beta", sp.Beta);
                    var bx = Node("Mul", $"{p}.scale", [x, beta]);
                    var soft = Node("Div", $"{p}.div", [Node("Softplus", $"{p}.softplus", [bx]), beta]);
                    var linear = Node("Greater", $"{p}.linear", [bx, Scalar($"{p}.threshold", sp.Threshold)]);
                    return Node("Where", p, [linear, x, soft]);
                }
                case LayerNormSpec ln:
                {
                    var shape = new Shape([.. input.Dims.Skip(input.Rank - ln.Dims)]);
                    var (w, b) = ln.Affine ? (Tensor($"{i}.weight"), Tensor($"{i}.bias")) : (Filled($"{p}.ones", 1, shape), Filled($"{p}.zeros", 0, shape));
                    return Node("LayerNormalization", p, [x, w, b], [new("axis", Int: -ln.Dims), new("epsilon", Float: (float)ln.Eps)]);
                }
                case BatchNormSpec bn:
                {
                    var c = Shape.Of(bn.Channels);
                    var (w, b) = bn.Affine ? (Tensor($"{i}.weight"), Tensor($"{i}.bias")) : (Filled($"{p}.ones", 1, c), Filled($"{p}.zeros", 0, c));
                    return Node("BatchNormalization", p, [x, w, b, Tensor($"{i}.running_mean"), Tensor($"{i}.running_var")], [new("epsilon", Float: (float)bn.Eps)]);
                }
                case Conv2dSpec cv:
                    return Node("Conv", p, cv.Bias ? [x, Tensor($"{i}.weight"), Tensor($"{i}.bias")] : [x, Tensor($"{i}.weight")],
                        Window(cv.KernelH, cv.KernelW, cv.StrideH, cv.StrideW, cv.PaddingH, cv.PaddingW));
                case MaxPool2dSpec mp:
                    return Node("MaxPool", p, [x], Window(mp.KernelH, mp.KernelW, mp.StrideH!.Value, mp.StrideW!.Value, mp.PaddingH, mp.PaddingW));
                case AvgPool2dSpec ap:
                    return Node("AveragePool", p, [x],
                        [.. Window(ap.KernelH, ap.KernelW, ap.StrideH!.Value, ap.StrideW!.Value, ap.PaddingH, ap.PaddingW), new("count_include_pad", Int: ap.CountIncludePad ? 1 : 0)]);
                case FlattenSpec:
                    return Node("Flatten", p, [x], [new("axis", Int: 1)]);
                case LogSoftmaxSpec:
                    return Node("LogSoftmax", p, [x], [new("axis", Int: -1)]);
                default:
                    throw new ArgumentException($"layer {i} is of kind '{layer.Kind}', which the ONNX exporter does not know", nameof(layer));
            }
        }
    }
}
