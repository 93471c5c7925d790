using System.Collections.Immutable;
using System.Globalization;
using NeuralPure.Layers;
using NeuralPure.Losses;
using NeuralPure.Models;
using NeuralPure.Tensors;

namespace NeuralPure.Facade.Networks;

/// <summary>A model in one line, as <c>neuralpure train --arch</c> takes it:
/// <c>conv(32,3,pad=1),relu,maxpool(2),flatten,dense(128),relu,dense(10)</c> or <c>dense(64),batchnorm,relu,dropout(0.2)</c>.</summary>
/// <remarks>
/// <para>Items are separated by commas outside parentheses; an item is a name with optional arguments, positional first, then
/// <c>key=value</c>. Channels and widths coming in are inferred from the shape so far (the data's example shape first:
/// [features] for a table, [1, 28, 28] for IDX images), so only what a layer makes is written.</para>
/// <para>The output layer <c>dense(outputs)</c> is appended unless the line already ends with a dense layer of that width.</para>
/// <para>Known items: <see cref="Items"/>.</para>
/// </remarks>
public static class Arch
{
    /// <summary>An item's arguments: positional values and named ones.</summary>
    public sealed record Args(string Item, ImmutableArray<string> Positional, ImmutableDictionary<string, string> Named)
    {
        /// <summary>Argument <paramref name="index"/> or <paramref name="name"/> as a number, or <paramref name="fallback"/> when absent.</summary>
        /// <exception cref="ArgumentException">Absent without a fallback, or not a number.</exception>
        public double Number(int index, string name, double? fallback = null)
        {
            string? text = Named.TryGetValue(name, out var n) ? n : index < Positional.Length ? Positional[index] : null;
            if (text is null) return fallback ?? throw new ArgumentException($"--arch item {Item} needs its {name} (argument {index + 1} or {name}=…)", "arch");
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
                : throw new ArgumentException($"--arch item {Item}: {name} must be a number, got '{text}'", "arch");
        }

        /// <summary>As <see cref="Number"/>, checked whole.</summary>
        public int Int(int index, string name, int? fallback = null)
        {
            double v = Number(index, name, fallback);
            return v == Math.Floor(v) && v >= int.MinValue && v <= int.MaxValue ? (int)v : throw new ArgumentException($"--arch item {Item}: {name} must be a whole number, got {v}", "arch");
        }

        /// <summary>A named true/false argument.</summary>
        public bool Flag(string name, bool fallback) =>
            !Named.TryGetValue(name, out var t) ? fallback : t.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw new ArgumentException($"--arch item {Item}: {name} must be true or false, got '{t}'", "arch"),
            };

        internal void RequireOnly(int positional, params string[] names)
        {
            if (Positional.Length > positional) throw new ArgumentException($"--arch item {Item} takes at most {positional} positional argument(s), got {Positional.Length}", "arch");
            foreach (var k in Named.Keys) if (!names.Contains(k)) throw new ArgumentException($"--arch item {Item} has no option '{k}'{(names.Length > 0 ? $"; it takes {string.Join(", ", names)}" : "")}", "arch");
        }
    }

    /// <summary>Makes one layer from its arguments and the shape coming in.</summary>
    public delegate LayerSpec Builder(Args args, Shape input);

    private static readonly ImmutableDictionary<string, Builder> Builders = new Dictionary<string, Builder>
    {
        ["dense"] = (a, s) => { a.RequireOnly(1, "units"); return new DenseSpec(Width(s, a.Item), a.Int(0, "units")); },
        ["dropout"] = (a, _) => { a.RequireOnly(1, "rate"); return new DropoutSpec(a.Number(0, "rate")); },
        ["batchnorm"] = (a, s) => { a.RequireOnly(0, "momentum", "eps"); return new BatchNormSpec(s[0], a.Number(9, "eps", 1e-5), a.Number(9, "momentum", 0.1)); },
        ["layernorm"] = (a, _) => { a.RequireOnly(1, "dims", "eps"); return new LayerNormSpec(a.Int(0, "dims", 1), a.Number(9, "eps", 1e-5)); },
        ["leaky-relu"] = (a, _) => { a.RequireOnly(1, "slope"); return new LeakyReluSpec(a.Number(0, "slope", 0.01)); },
        ["elu"] = (a, _) => { a.RequireOnly(1, "alpha"); return new EluSpec(a.Number(0, "alpha", 1)); },
        ["softplus"] = (a, _) => { a.RequireOnly(1, "beta", "threshold"); return new SoftplusSpec(a.Number(0, "beta", 1), a.Number(9, "threshold", 20)); },
        ["conv"] = (a, s) =>
        {
            a.RequireOnly(2, "out", "kernel", "stride", "pad", "bias");
            if (s.Rank != 3) throw new ArgumentException($"--arch item {a.Item} takes images [C, H, W], but the shape here is {s}", "arch");
            return Conv2dSpec.Square(s[0], a.Int(0, "out"), a.Int(1, "kernel", 3), a.Int(9, "stride", 1), a.Int(9, "pad", 0), a.Flag("bias", true));
        },
        ["maxpool"] = (a, _) => { a.RequireOnly(1, "kernel", "stride", "pad"); int k = a.Int(0, "kernel"); return MaxPool2dSpec.Square(k, a.Int(9, "stride", k), a.Int(9, "pad", 0)); },
        ["avgpool"] = (a, _) =>
        {
            a.RequireOnly(1, "kernel", "stride", "pad", "count_include_pad");
            int k = a.Int(0, "kernel");
            return AvgPool2dSpec.Square(k, a.Int(9, "stride", k), a.Int(9, "pad", 0)) with { CountIncludePad = a.Flag("count_include_pad", true) };
        },
        ["flatten"] = (a, _) => { a.RequireOnly(0); return new FlattenSpec(); },
        ["log-softmax"] = (a, _) => { a.RequireOnly(0); return new LogSoftmaxSpec(); },
        ["flip"] = (a, _) => { a.RequireOnly(0, "horizontal", "vertical"); return new RandomFlipSpec(a.Flag("horizontal", true), a.Flag("vertical", false)); },
        ["shift"] = (a, _) =>
        {
            a.RequireOnly(1, "max", "h", "w");
            int? m = a.Positional.Length > 0 || a.Named.ContainsKey("max") ? a.Int(0, "max") : null;
            return new RandomShiftSpec(a.Int(9, "h", m), a.Int(9, "w", m));
        },
    }.ToImmutableDictionary();

    /// <summary>The item names <see cref="Parse"/> knows (activations by their names too).</summary>
    public static IReadOnlyList<string> Items => [.. Builders.Keys.Concat(["relu", "tanh", "sigmoid", "gelu", "identity"]).Order(StringComparer.Ordinal)];

    private static int Width(Shape s, string item) => s.Rank == 1 ? s[0]
        : throw new ArgumentException($"--arch item {item} takes vectors, but the shape here is {s}; add flatten before it", "arch");

    /// <summary>The model the line describes for examples of shape <paramref name="input"/>, ending in <paramref name="outputs"/> values and <paramref name="loss"/>.</summary>
    /// <exception cref="ArgumentException">An unknown item, a bad argument, or layers whose shapes do not fit (the message names the item).</exception>
    public static ModelSpec Parse(string text, Shape input, int outputs, LossSpec loss)
    {
        ArgumentNullException.ThrowIfNull(text); ArgumentNullException.ThrowIfNull(input); ArgumentNullException.ThrowIfNull(loss);
        var items = Split(text);
        if (items.Count == 0) throw new ArgumentException("--arch is empty: give layers like dense(64),relu", "arch");
        var layers = new List<LayerSpec>();
        var shape = input;
        foreach (var (raw, position) in items.Select((t, i) => (t, i + 1)))
        {
            var args = ParseItem(raw, position);
            string name = Canonical(args.Item);
            LayerSpec layer;
            if (Builders.TryGetValue(name, out var build))
            {
                try { layer = build(args with { Item = $"{position} ({raw.Trim()})" }, shape); }
                catch (ArgumentException e) when (e.ParamName != "arch") { throw new ArgumentException($"--arch item {position} '{raw.Trim()}': {e.Message.Split(" (Parameter")[0]}", "arch", e); }
            }
            else
            {
                try { layer = ActivationSpec.Parse(name); }
                catch (ArgumentException) { throw new ArgumentException($"--arch item {position} '{raw.Trim()}' is not a layer NeuralPure knows; known: {string.Join(", ", Items)}", "arch"); }
                args.RequireOnly(0);
            }
            try { shape = layer.OutputShape(shape); }
            catch (ArgumentException e) { throw new ArgumentException($"--arch item {position} '{raw.Trim()}': {e.Message.Split(" (Parameter")[0]}", "arch", e); }
            layers.Add(layer);
        }
        // A last log-softmax stays last: the output layer goes before it. nll takes log-probabilities, so a model trained with
        // it ends in log-softmax whether the line says so or not (as Output(k, "nll") builds it).
        bool logProbabilities = layers[^1] is LogSoftmaxSpec;
        if (logProbabilities) layers.RemoveAt(layers.Count - 1);
        if (!(layers.Count > 0 && layers[^1] is DenseSpec last && last.Out == outputs))
        {
            if (shape.Rank != 1) throw new ArgumentException($"--arch ends with examples of shape {shape}; add flatten so the output layer dense({outputs}) can follow", "arch");
            layers.Add(new DenseSpec(shape[0], outputs));
        }
        if (logProbabilities || loss is NllSpec) layers.Add(new LogSoftmaxSpec());
        return new ModelSpec(input, [.. layers], loss);
    }

    /// <summary>An item's name as <see cref="Builders"/> and the activations know it (PyTorch's spellings taken too).</summary>
    private static string Canonical(string item) => item.ToLowerInvariant() switch
    {
        "linear" => "dense", "bn" or "batchnorm1d" or "batchnorm2d" => "batchnorm", "conv2d" => "conv", "maxpool2d" => "maxpool", "avgpool2d" => "avgpool", "random-flip" => "flip", "random-shift" => "shift", "logsoftmax" => "log-softmax", var n => n,
    };

    /// <summary>What can be checked of a line without the data's shape, with <see cref="Parse"/>'s messages: its parentheses, each
    /// item's argument list, that each item is a layer NeuralPure knows and that an activation takes no arguments. (Argument values
    /// and shapes need the data: <see cref="Parse"/> checks them.)</summary>
    /// <exception cref="ArgumentException">The line is empty or malformed, or an item is unknown.</exception>
    public static void CheckSyntax(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = Split(text);
        if (items.Count == 0) throw new ArgumentException("--arch is empty: give layers like dense(64),relu", "arch");
        foreach (var (raw, position) in items.Select((t, i) => (t, i + 1)))
        {
            var args = ParseItem(raw, position);
            string name = Canonical(args.Item);
            if (Builders.ContainsKey(name)) continue;
            try { ActivationSpec.Parse(name); }
            catch (ArgumentException) { throw new ArgumentException($"--arch item {position} '{raw.Trim()}' is not a layer NeuralPure knows; known: {string.Join(", ", Items)}", "arch"); }
            args.RequireOnly(0);
        }
    }

    private static Args ParseItem(string raw, int position)
    {
        var t = raw.Trim();
        int open = t.IndexOf('(');
        if (open < 0) return new Args(t, [], ImmutableDictionary<string, string>.Empty);
        if (!t.EndsWith(')')) throw new ArgumentException($"--arch item {position} '{t}' opens a parenthesis it does not close", "arch");
        var name = t[..open].Trim();
        var inner = t[(open + 1)..^1];
        var positional = ImmutableArray.CreateBuilder<string>();
        var named = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var part in inner.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0) continue;
            int eq = part.IndexOf('=');
            if (eq < 0)
            {
                if (named.Count > 0) throw new ArgumentException($"--arch item {position} '{t}': positional arguments come before named ones", "arch");
                positional.Add(part);
            }
            else if (!named.TryAdd(part[..eq].Trim().ToLowerInvariant(), part[(eq + 1)..].Trim()))
                throw new ArgumentException($"--arch item {position} '{t}' names {part[..eq].Trim()} twice", "arch");
        }
        return new Args(name, positional.ToImmutable(), named.ToImmutable());
    }

    private static List<string> Split(string text)
    {
        var items = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')' && --depth < 0) throw new ArgumentException($"--arch has a ')' without its '(' at character {i + 1}", "arch");
            else if (text[i] == ',' && depth == 0) { items.Add(text[start..i]); start = i + 1; }
        }
        if (depth != 0) throw new ArgumentException("--arch opens a parenthesis it does not close", "arch");
        items.Add(text[start..]);
        return [.. items.Where(s => s.Trim().Length > 0)];
    }
}
