using System.Collections.Immutable;
using NeuralPure.Kernels;
using NeuralPure.Layers;
using NeuralPure.Models;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Verification;

/// <summary>The checks of <c>Verify.Layer</c> (both overloads).</summary>
internal static class LayerCheck
{
    private sealed record Setup(LayerSpec Layer, Shape Input, Shape Output, int Rows, ImmutableArray<ParamShape> Shapes, ImmutableArray<NdArray<double>> Params,
        NdArray<double> X, NdArray<double> Cotangent, RandomKey? Key, ImmutableArray<ParamShape> StateShapes, ImmutableArray<NdArray<double>> State)
    {
        /// <summary>The pure driver's forward, the stateful one (its state is the layer's initial one; none for a layer without state).</summary>
        public (NdArray<double> Y, ImmutableArray<NdArray<double>> State) Forward(IReadOnlyList<NdArray<double>> ps, NdArray<double> x, Parallelism threads) =>
            Layers.Layer.Forward(Layer, ps, State, x, Key, threads);

        /// <summary>The pure driver's backward.</summary>
        public (NdArray<double> DX, ImmutableArray<NdArray<double>> Grads) Backward(Parallelism threads)
        {
            var (dx, grads, _) = Layers.Layer.Backward(Layer, Params, State, X, Cotangent, Key, threads);
            return (dx, grads);
        }

        /// <summary>The driver's backward without dL/dx (<see cref="BackwardArgs{T}.InputGradient"/> false), as a model runs its first
        /// layer with parameters (its input is data): the parameters' gradients only.</summary>
        public ImmutableArray<NdArray<double>> GradientsWithoutDx(Parallelism threads)
        {
            int n = threads.EffectiveThreads;
            var pass = Layers.Layer.Run(Layer, Input, Output, [.. Params.Select(p => p.Buffer)], X, Key, n, [.. State.Select(a => a.ToArray())]);
            return pass.Back(Cotangent, inputGradient: false, n).Grads;
        }
    }

    /// <summary>The checks on <paramref name="rows"/> examples of shape <paramref name="input"/>: x is <paramref name="givenX"/> when
    /// the caller gives it, else drawn away from zero; the parameters <paramref name="givenParams"/> when given, else Init's.</summary>
    public static VerificationReport Run(LayerSpec layer, Shape input, int rows, ulong seed, bool training,
        NdArray<double>? givenX = null, IReadOnlyList<NdArray<double>>? givenParams = null)
    {
        var keys = RandomKey.FromSeed(seed).Split(5);
        string given = givenX is null ? "" : givenParams is null ? " (x given)" : " (x and parameters given)";
        string subject = $"layer {layer.Kind} ({layer}) on {rows} × {input}{given}, seed {seed}{(training ? ", training" : "")}";
        Shape output; ImmutableArray<ParamShape> shapes, stateShapes; ImmutableArray<NdArray<double>> ps, state;
        CheckResult shapesCheck;
        try
        {
            output = layer.OutputShape(input) ?? throw new InvalidOperationException("OutputShape returned null");
            shapes = layer.Parameters(input);
            ps = layer.Init<double>(input, keys[1]);
            stateShapes = layer.State(input);
            state = stateShapes.IsDefault ? default : layer.InitState<double>(input);
            shapesCheck = ShapesCheck(layer, input, rows, shapes, ps, stateShapes, state, keys[1]);
            if (shapesCheck.Passed && givenParams is not null)
            {
                if (GivenMisfit(shapes, givenParams) is { } dg) shapesCheck = new(Verify.Shapes, false, dg);
                else ps = [.. givenParams];
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return NotRun(subject, Compare.Threw(Verify.Shapes, e));
        }
        if (!shapesCheck.Passed) return NotRun(subject, shapesCheck);

        var x = givenX ?? AwayFromZero(keys[0], rows * input.Size, input.Batch(rows));
        var c = Sampling.Uniform<double>(keys[2], -1, 1, [.. output.Batch(rows)]);
        var s = new Setup(layer, input, output, rows, shapes, ps, x, c, training ? keys[3] : null, stateShapes, state);

        var before = Inputs(s);
        var gradient = Compare.Guard(Verify.GradientCheck, () => Gradient(s));
        var (pure, written) = PureVsInPlace(s);
        var threads = Compare.Guard(Verify.Threads, () => ThreadsCheck(s));
        var shared = Compare.Guard(Verify.SharedBuffers, () => SharedBuffersCheck(s));
        var after = Inputs(s);
        var noWrite = written ?? (Compare.SnapshotDifference(before, after, "before", "after") is { } d
            ? new CheckResult(Verify.NoInputWritten, false, $"an input was written: {d}")
            : new CheckResult(Verify.NoInputWritten, true, "x, the parameters, dy and y (in backward) are unchanged"));
        return new VerificationReport(subject, [gradient, pure, noWrite, threads, shapesCheck, shared]);
    }

    private static List<Compare.Entry> Inputs(Setup s) =>
        [.. Compare.Snapshot(s.X, "x"), .. Compare.Snapshot(s.Cotangent, "dy"), .. s.Params.SelectMany((p, i) => Compare.Snapshot(p, s.Shapes[i].Name)),
         .. s.State.SelectMany((a, i) => Compare.Snapshot(a, s.StateShapes[i].Name))];

    private static VerificationReport NotRun(string subject, CheckResult shapes)
    {
        var why = $"not run: {Verify.Shapes} failed";
        return new VerificationReport(subject, [new(Verify.GradientCheck, false, why), new(Verify.PureVsInPlace, false, why),
            new(Verify.NoInputWritten, false, why), new(Verify.Threads, false, why), shapes, new(Verify.SharedBuffers, false, why)]);
    }

    /// <summary>Uniform in ±[margin, 2]: away from the kink at 0 of ReLU-like layers.</summary>
    private static NdArray<double> AwayFromZero(RandomKey key, int n, ImmutableArray<int> shape)
    {
        var (k1, k2) = key.Split();
        var mag = Sampling.Uniform<double>(k1, Verify.InputMargin, 2, n).Span;
        var sign = Sampling.Uniform<double>(k2, -1, 1, n).Span;
        var r = new double[n];
        for (int i = 0; i < n; i++) r[i] = sign[i] < 0 ? -mag[i] : mag[i];
        return NdArray.Own(r, shape);
    }

    private static CheckResult ShapesCheck(LayerSpec layer, Shape input, int rows, ImmutableArray<ParamShape> shapes, ImmutableArray<NdArray<double>> ps,
        ImmutableArray<ParamShape> stateShapes, ImmutableArray<NdArray<double>> state, RandomKey key)
    {
        const string name = Verify.Shapes;
        if (Declared("Parameters", "Init", "parameters", shapes, ps) is { } dp) return new(name, false, dp);
        if (Declared("State", "InitState", "state arrays", stateShapes, state) is { } ds) return new(name, false, ds);
        var again = layer.Init<double>(input, key);
        for (int i = 0; i < ps.Length; i++)
            if (again.Length != ps.Length || !again[i].Equals(ps[i])) return new(name, false, $"Init is not a function of its key: {shapes[i].Name} differs between two calls with the same key");
        int scratch = layer.ScratchBytes<double>(input, rows);
        if (scratch < 0) return new(name, false, $"ScratchBytes is {scratch}");
        return new(name, true, $"output {layer.OutputShape(input)}; parameters {(shapes.Length == 0 ? "none" : List(shapes))}" +
            $"{(stateShapes.Length == 0 ? "" : "; state " + List(stateShapes))}; scratch {scratch} bytes");
    }

    /// <summary>Why the caller's parameters are not one array per declared parameter, of its shape (null: they are).</summary>
    private static string? GivenMisfit(ImmutableArray<ParamShape> shapes, IReadOnlyList<NdArray<double>> given)
    {
        if (given.Count != shapes.Length)
            return $"{given.Count} parameter arrays given for {shapes.Length} declared ({(shapes.Length == 0 ? "none" : string.Join(", ", shapes.Select(p => p.Name)))})";
        for (int i = 0; i < given.Count; i++)
            if (!given[i].Shape.SequenceEqual(shapes[i].Shape.Dims)) return $"the {shapes[i].Name} given is {given[i].ShapeText}, declared {shapes[i].Shape}";
        return null;
    }

    private static string List(ImmutableArray<ParamShape> shapes) => string.Join(", ", shapes.Select(p => $"{p.Name} {p.Shape}"));

    /// <summary>Why the arrays <paramref name="init"/> returned are not one per entry <paramref name="declare"/> declared, of its
    /// shape (null: they are).</summary>
    private static string? Declared(string declare, string init, string what, ImmutableArray<ParamShape> shapes, ImmutableArray<NdArray<double>> arrays)
    {
        if (shapes.IsDefault) return $"{declare} returned a default array";
        if (arrays.IsDefault) return $"{init} returned a default array";
        if (arrays.Length != shapes.Length) return $"{init} returned {arrays.Length} arrays for {shapes.Length} declared {what} ({string.Join(", ", shapes.Select(p => p.Name))})";
        for (int i = 0; i < arrays.Length; i++)
        {
            if (arrays[i] is null) return $"{init} returned null for {shapes[i].Name}";
            if (!arrays[i].Shape.SequenceEqual(shapes[i].Shape.Dims)) return $"{init}'s {shapes[i].Name} is {arrays[i].ShapeText}, declared {shapes[i].Shape}";
        }
        return null;
    }

    private static double Pair(NdArray<double> c, NdArray<double> y)
    {
        double sum = 0;
        var a = c.Span; var b = y.Span;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static CheckResult Gradient(Setup s)
    {
        var one = Parallelism.SingleThread;
        var (y1, _) = s.Forward(s.Params, s.X, one);
        var (y2, _) = s.Forward(s.Params, s.X, one);
        if (Compare.BitDifference("y", y1.Shape, y1.Span, y2.Span, "first call", "second call") is { } again) return NotAFunction(again);
        var (dx, grads) = s.Backward(one);
        var tally = new Compare.GradientTally();
        var nx = NumericGrad.OfInput(x => Pair(s.Cotangent, s.Forward(s.Params, x, one).Y), s.X, Verify.Step);
        tally.Add("dx", s.X.Shape, dx.Span, nx.Span);
        var tree = new ParamTree<double>([.. s.Shapes.Select(p => p.Name)], s.Params);
        var np = NumericGrad.OfParameters(t => Pair(s.Cotangent, s.Forward(t.Leaves, s.X, one).Y), tree, Verify.Step);
        for (int i = 0; i < s.Params.Length; i++) tally.Add(s.Shapes[i].Name, s.Params[i].Shape, grads[i].Span, np[i].Span);
        if (s.Params.Length > 0)
        {
            var alone = WithoutDxOrSay(s, one);
            for (int i = 0; i < s.Params.Length; i++) tally.Add(s.Shapes[i].Name, s.Params[i].Shape, alone[i].Span, np[i].Span, WithoutDx);
        }
        var result = tally.Result(Verify.GradientCheck);
        return result.Passed || !result.Detail.Contains(WithoutDx + ":", StringComparison.Ordinal) ? result : new CheckResult(result.Name, false, result.Detail + WithoutDxMeans);
    }

    /// <summary>The gradient check's verdict on a forward pass (a loss's value) that two calls on the same arguments give two
    /// answers to: state outside the arguments (a counter, a cache, an unseeded random draw) or a write to its input.</summary>
    internal static CheckResult NotAFunction(string difference) =>
        new(Verify.GradientCheck, false, $"not compared: two calls on the same arguments differ ({difference}), so the function has no derivative " +
            "to check; it depends on something besides its arguments, or writes one of them");

    /// <summary>How a result of the backward pass without dL/dx is marked, and what that is.</summary>
    internal const string WithoutDx = " without dx",
        WithoutDxMeans = " (without dx: Backward with InputGradient false and DX empty, as a model runs its first layer with parameters, whose input is data)";

    /// <summary>The driver's gradients without dx, or what that backward threw, said so.</summary>
    private static ImmutableArray<NdArray<double>> WithoutDxOrSay(Setup s, Parallelism threads)
    {
        try { return s.GradientsWithoutDx(threads); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw WithoutDxThrew(e); }
    }

    private static InvalidOperationException WithoutDxThrew(Exception e) =>
        new($"the backward{WithoutDx}{WithoutDxMeans} threw {e.GetType().Name}: {e.Message}", e);

    /// <summary>The bit check and, from the same direct calls, whether y was written during backward (null: not written).</summary>
    private static (CheckResult Pure, CheckResult? Written) PureVsInPlace(Setup s)
    {
        const string name = Verify.PureVsInPlace;
        CheckResult? written = null;
        try
        {
            var one = Parallelism.SingleThread;
            var (yPure, statePure) = s.Forward(s.Params, s.X, one);
            var (dxPure, gPure) = s.Backward(one);
            var p = s.Params.Select(a => a.Buffer).ToArray();
            var y = Filled(yPure.Length, double.NaN);
            var dx = Filled(s.X.Length, double.NaN);
            var g = p.Select(a => Filled(a.Length, double.NaN)).ToArray();
            var aPure = g.Length == 0 ? [] : WithoutDxOrSay(s, one);
            var alone = p.Select(a => Filled(a.Length, double.NaN)).ToArray();
            var scratch = new byte[s.Layer.ScratchBytes<double>(s.Input, s.Rows)];
            scratch.AsSpan().Fill(0xCD);
            for (int run = 1; run <= 2; run++)
            {
                string when = run == 1 ? "on NaN-filled destinations" : "on reused destinations";
                var state = s.State.Select(a => a.ToArray()).ToArray(); // the layer's state, fresh each run (training moves it)
                s.Layer.Forward(new ForwardArgs<double>(s.Rows, s.Input, s.Output, s.X.Span, y, p, scratch, s.Key, 1, state));
                if (Compare.BitDifference("y", yPure.Shape, yPure.Span, y, "driver", "in place") is { } dy) return (new(name, false, $"{dy} (forward {when})"), written);
                for (int i = 0; i < state.Length; i++)
                    if (Compare.BitDifference(s.StateShapes[i].Name, statePure[i].Shape, statePure[i].Span, state[i], "driver", "in place") is { } ds) return (new(name, false, $"{ds} (forward {when})"), written);
                var ySaved = (double[])y.Clone();
                s.Layer.Backward(new BackwardArgs<double>(s.Rows, s.Input, s.Output, s.X.Span, y, s.Cotangent.Span, dx, true, p, g, scratch, s.Key, 1));
                if (written is null && Compare.BitDifference("y", yPure.Shape, ySaved, y, "before backward", "after") is { } wy)
                    written = new CheckResult(Verify.NoInputWritten, false, $"backward wrote its input {wy}");
                if (Compare.BitDifference("dx", s.X.Shape, dxPure.Span, dx, "driver", "in place") is { } ddx) return (new(name, false, $"{ddx} (backward {when})"), written);
                for (int i = 0; i < g.Length; i++)
                    if (Compare.BitDifference(s.Shapes[i].Name, gPure[i].Shape, gPure[i].Span, g[i], "driver", "in place") is { } dg) return (new(name, false, $"{dg} (backward {when})"), written);
                if (g.Length == 0) continue;
                // Without dx, after a forward pass of its own (a backward may use up its scratch): the gradients alone, dx empty.
                state = s.State.Select(a => a.ToArray()).ToArray();
                s.Layer.Forward(new ForwardArgs<double>(s.Rows, s.Input, s.Output, s.X.Span, y, p, scratch, s.Key, 1, state));
                try { s.Layer.Backward(new BackwardArgs<double>(s.Rows, s.Input, s.Output, s.X.Span, y, s.Cotangent.Span, default, false, p, alone, scratch, s.Key, 1)); }
                catch (Exception e) when (e is not OutOfMemoryException) { throw WithoutDxThrew(e); }
                for (int i = 0; i < alone.Length; i++)
                    if (Compare.BitDifference(s.Shapes[i].Name, aPure[i].Shape, aPure[i].Span, alone[i], "driver", "in place") is { } da)
                        return (new(name, false, $"{da}{WithoutDx} ({when}){WithoutDxMeans}"), written);
            }
            return (new(name, true, $"y, dx and {g.Length} gradient(s) equal the driver's bits, on NaN-filled and on reused destinations " +
                $"(scratch {scratch.Length} bytes, 0xCD-filled){(g.Length == 0 ? "" : "; the gradients without dx too")}"), written);
        }
        catch (Exception e) when (e is not OutOfMemoryException) { return (Compare.Threw(name, e), written); }
    }

    /// <summary>The claims the training fold relies on to share buffers (<see cref="LayerSpec.BackwardInPlace"/>,
    /// <see cref="LayerSpec.IsView"/>), run on one buffer where the fold would pass one, against the driver's bits.</summary>
    private static CheckResult SharedBuffersCheck(Setup s)
    {
        const string name = Verify.SharedBuffers;
        bool inPlace = s.Layer.BackwardInPlace, view = s.Layer.IsView;
        if (!inPlace && !view) return new(name, true, "claims neither BackwardInPlace nor IsView: the fold gives it buffers of its own");
        string claim = view ? "IsView" : "BackwardInPlace";
        if (s.Input.Size != s.Output.Size)
            return new(name, false, $"claims {claim}, but its output {s.Output} has {s.Output.Size} elements per example and its input {s.Input} {s.Input.Size}");
        var one = Parallelism.SingleThread;
        var (yPure, _) = s.Forward(s.Params, s.X, one);
        var (dxPure, gPure) = s.Backward(one);
        // A view's y is its x (the fold leaves the layer before it its own output in that buffer), and its dx its dy.
        if (view && Compare.BitDifference("y", yPure.Shape, s.X.Span, yPure.Span, "x", "y") is { } notX)
            return new(name, false, $"claims IsView, but y is not x element for element: {notX}");
        if (view && Compare.BitDifference("dx", s.X.Shape, s.Cotangent.Span, dxPure.Span, "dy", "dx") is { } notDy)
            return new(name, false, $"claims IsView, but dx is not dy element for element: {notDy}");
        var p = s.Params.Select(a => a.Buffer).ToArray();
        var scratch = new byte[s.Layer.ScratchBytes<double>(s.Input, s.Rows)];
        var state = s.State.Select(a => a.ToArray()).ToArray();
        // Forward: on x's own buffer for a view, else on a buffer of its own, as the fold runs it.
        var y = view ? s.X.ToArray() : Filled(yPure.Length, double.NaN);
        s.Layer.Forward(new ForwardArgs<double>(s.Rows, s.Input, s.Output, view ? y : s.X.Span, y, p, scratch, s.Key, 1, state));
        if (Compare.BitDifference("y", yPure.Shape, yPure.Span, y, "driver", view ? "y written over x" : "in place") is { } dy)
            return new(name, false, $"claims {claim}: {dy} (forward)");
        // Backward: dx written over dy.
        var d = s.Cotangent.ToArray();
        var g = p.Select(a => Filled(a.Length, double.NaN)).ToArray();
        s.Layer.Backward(new BackwardArgs<double>(s.Rows, s.Input, s.Output, view ? y : s.X.Span, y, d, d, true, p, g, scratch, s.Key, 1));
        if (Compare.BitDifference("dx", s.X.Shape, dxPure.Span, d, "driver", "dx written over dy") is { } ddx)
            return new(name, false, $"claims {claim}: {ddx} (backward)");
        for (int i = 0; i < g.Length; i++)
            if (Compare.BitDifference(s.Shapes[i].Name, gPure[i].Shape, gPure[i].Span, g[i], "driver", "dx written over dy") is { } dg)
                return new(name, false, $"claims {claim}: {dg} (backward)");
        return new(name, true, view ? "IsView: y written over x and dx over dy give the driver's bits"
            : $"BackwardInPlace: dx written over dy gives the driver's dx and {g.Length} gradient(s), bit for bit");
    }

    private static CheckResult ThreadsCheck(Setup s)
    {
        const string name = Verify.Threads;
        var one = Parallelism.SingleThread; var three = new Parallelism(3);
        var (y1, st1) = s.Forward(s.Params, s.X, one);
        var (y3, st3) = s.Forward(s.Params, s.X, three);
        if (Compare.BitDifference("y", y1.Shape, y1.Span, y3.Span, "1 thread", "3 threads") is { } d) return new(name, false, d);
        for (int i = 0; i < st1.Length; i++)
            if (Compare.BitDifference(s.StateShapes[i].Name, st1[i].Shape, st1[i].Span, st3[i].Span, "1 thread", "3 threads") is { } dst) return new(name, false, dst);
        var (dx1, g1) = s.Backward(one);
        var (dx3, g3) = s.Backward(three);
        if (Compare.BitDifference("dx", dx1.Shape, dx1.Span, dx3.Span, "1 thread", "3 threads") is { } ddx) return new(name, false, ddx);
        for (int i = 0; i < g1.Length; i++)
            if (Compare.BitDifference(s.Shapes[i].Name, g1[i].Shape, g1[i].Span, g3[i].Span, "1 thread", "3 threads") is { } dg) return new(name, false, dg);
        if (g1.Length > 0)
        {
            var (a1, a3) = (WithoutDxOrSay(s, one), WithoutDxOrSay(s, three));
            for (int i = 0; i < a1.Length; i++)
                if (Compare.BitDifference(s.Shapes[i].Name, a1[i].Shape, a1[i].Span, a3[i].Span, "1 thread", "3 threads") is { } da) return new(name, false, da + WithoutDx + WithoutDxMeans);
        }
        return new(name, true, "y, dx and the gradients have the same bits with 1 and 3 threads");
    }

    private static double[] Filled(int n, double v)
    {
        var a = new double[n];
        a.AsSpan().Fill(v);
        return a;
    }
}
