using System.Collections.Immutable;
using NeuralPure.Optimizers;
using NeuralPure.Random;
using NeuralPure.Tensors;

namespace NeuralPure.Verification;

/// <summary><see cref="Verify.Transform"/>'s checks.</summary>
internal static class TransformCheck
{
    public static VerificationReport Run(GradientTransform transform, ParamTree<double> parameters, int steps, ulong seed)
    {
        string subject = $"transform {transform} on {parameters} ({parameters.ParameterCount} parameters), {steps} steps, seed {seed}";
        var keys = RandomKey.FromSeed(seed).Split(steps);
        var grads = keys.Select(k =>
        {
            var leafKeys = k.Split(parameters.Count);
            return new ParamTree<double>(parameters.Names, [.. parameters.Leaves.Select((l, i) => Sampling.Uniform<double>(leafKeys[i], -1, 1, [.. l.Shape]))]);
        }).ToArray();
        OptState state0;
        try { state0 = transform.Init(parameters) ?? throw new InvalidOperationException("Init returned null"); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var why = Compare.Threw("Init", e).Detail;
            return new VerificationReport(subject, [new(Verify.InPlaceSteps, false, "Init " + why), new(Verify.FusedSteps, false, "Init " + why),
                new(Verify.NoInputWritten, false, "Init " + why), new(Verify.Threads, false, "Init " + why), new(Verify.StateIsCopy, false, "Init " + why),
                new(Verify.ZeroGradient, false, "Init " + why)]);
        }
        var before = Inputs(parameters, grads, state0);
        var inPlace = Compare.Guard(Verify.InPlaceSteps, () => InPlace(transform, parameters, grads, state0));
        var fused = Compare.Guard(Verify.FusedSteps, () => Fused(transform, parameters, grads, state0));
        var threads = Compare.Guard(Verify.Threads, () => ThreadsCheck(transform, parameters, grads, state0));
        var copy = Compare.Guard(Verify.StateIsCopy, () => StateCopy(transform, parameters, grads, state0));
        var zero = Compare.Guard(Verify.ZeroGradient, () => ZeroGradientCheck(transform, parameters, steps));
        var diff = Compare.SnapshotDifference(before, Inputs(parameters, grads, state0), "before", "after");
        var noWrite = diff is null ? new CheckResult(Verify.NoInputWritten, true, "the gradients, the parameters and the state passed to Open are unchanged")
            : new CheckResult(Verify.NoInputWritten, false, $"an input was written: {diff}");
        return new VerificationReport(subject, [inPlace, fused, noWrite, threads, copy, zero]);
    }

    private static List<Compare.Entry> Inputs(ParamTree<double> parameters, ParamTree<double>[] grads, OptState state) =>
        [.. Compare.Snapshot(parameters, "parameters"), .. grads.SelectMany((g, k) => Compare.Snapshot(g, $"gradients (step {k + 1})")), .. Compare.Snapshot(state, "state")];

    private static double[][] Buffers(ParamTree<double> t) => [.. t.Leaves.Select(l => l.Buffer)];

    private static double[][] Copies(ParamTree<double> t) => [.. t.Leaves.Select(l => l.ToArray())];

    private static void Load(ParamTree<double> from, double[][] into)
    {
        for (int j = 0; j < into.Length; j++) from[j].Span.CopyTo(into[j]);
    }

    private static string? TreeDifference(ParamTree<double> expected, double[][] actual, string what, string expectedName, string actualName)
    {
        for (int j = 0; j < actual.Length; j++)
            if (Compare.BitDifference($"{what} '{expected.Names[j]}'", expected[j].Shape, expected[j].Span, actual[j], expectedName, actualName) is { } d) return d;
        return null;
    }

    private static string? StateDifference(OptState expected, OptState actual, string expectedName, string actualName) =>
        Compare.SnapshotDifference(Compare.Snapshot(expected, "state"), Compare.Snapshot(actual, "state"), expectedName, actualName);

    private static CheckResult InPlace(GradientTransform transform, ParamTree<double> parameters, ParamTree<double>[] grads, OptState state0)
    {
        const string name = Verify.InPlaceSteps;
        var work = transform.Open(state0, parameters) ?? throw new InvalidOperationException("Open returned null");
        var u = Copies(grads[0]);
        var p = Buffers(parameters);
        var state = state0;
        for (int k = 0; k < grads.Length; k++)
        {
            (var pureU, state) = transform.Update(grads[k], state, parameters);
            Load(grads[k], u);
            work.Update(new UpdateArgs<double>(parameters.Names, u, p, writableParameters: false, threads: 1));
            if (TreeDifference(pureU, u, "updates", "pure", "in place") is { } d) return new(name, false, $"step {k + 1}: {d}");
        }
        if (StateDifference(state, work.State(), "pure", "in place") is { } ds) return new(name, false, $"after {grads.Length} steps: {ds}");
        return new(name, true, $"{grads.Length} in-place steps on one workspace give the pure updates' bits and state");
    }

    private static CheckResult Fused(GradientTransform transform, ParamTree<double> parameters, ParamTree<double>[] grads, OptState state0)
    {
        const string name = Verify.FusedSteps;
        var work = transform.OpenApplying(state0, parameters);
        if (work is null) return new(name, true, "no fused form (OpenApplying returns null)");
        if (!work.AppliesUpdates) return new(name, false, "OpenApplying returned a workspace whose AppliesUpdates is false");
        var u = Copies(grads[0]);
        var pw = Copies(parameters);
        var p = parameters;
        var state = state0;
        for (int k = 0; k < grads.Length; k++)
        {
            (var pureU, state) = transform.Update(grads[k], state, p);
            p = Optimizer.ApplyUpdates(p, pureU);
            Load(grads[k], u);
            work.Update(new UpdateArgs<double>(parameters.Names, u, pw, writableParameters: true, threads: 1));
            if (TreeDifference(p, pw, "parameters", "pure + apply", "fused") is { } d) return new(name, false, $"step {k + 1}: {d}");
        }
        if (StateDifference(state, work.State(), "pure", "fused") is { } ds) return new(name, false, $"after {grads.Length} steps: {ds}");
        return new(name, true, $"{grads.Length} fused steps give the parameters and state of the pure updates and ApplyUpdates");
    }

    /// <summary>The training fold hands its thread budget to the workspace (<see cref="UpdateArgs{T}.Threads"/>) while the pure
    /// Update runs on one thread: two workspaces, one given 1 thread and one 3, stepped side by side on the same gradients, must
    /// give the same updates (the fused form: parameters) and state, bit for bit.</summary>
    private static CheckResult ThreadsCheck(GradientTransform transform, ParamTree<double> parameters, ParamTree<double>[] grads, OptState state0)
    {
        const string name = Verify.Threads;
        var p = Buffers(parameters);
        if (SideBySide(transform.Open(state0, parameters) ?? throw new InvalidOperationException("Open returned null"),
                transform.Open(state0, parameters)!, parameters, grads, p, p, applies: false) is { } d)
            return new(name, false, d);
        if (transform.OpenApplying(state0, parameters) is not { } fused)
            return new(name, true, $"{grads.Length} steps give the same updates and state with 1 and 3 threads");
        if (SideBySide(fused, transform.OpenApplying(state0, parameters)!, parameters, grads, Copies(parameters), Copies(parameters), applies: true) is { } df)
            return new(name, false, "fused form: " + df);
        return new(name, true, $"{grads.Length} steps give the same updates and state with 1 and 3 threads (plain and fused forms)");
    }

    /// <summary>Steps <paramref name="one"/> with 1 thread and <paramref name="three"/> with 3 on the same gradients and describes
    /// the first difference in the updates (or, for a fused form, the parameters) or the state (null: none).</summary>
    private static string? SideBySide(TransformWorkspace<double> one, TransformWorkspace<double> three, ParamTree<double> parameters, ParamTree<double>[] grads,
        double[][] p1, double[][] p3, bool applies)
    {
        var u1 = Copies(grads[0]); var u3 = Copies(grads[0]);
        for (int k = 0; k < grads.Length; k++)
        {
            Load(grads[k], u1); Load(grads[k], u3);
            one.Update(new UpdateArgs<double>(parameters.Names, u1, p1, applies, threads: 1));
            three.Update(new UpdateArgs<double>(parameters.Names, u3, p3, applies, threads: 3));
            var (what, a, b) = applies ? ("parameters", p1, p3) : ("updates", u1, u3);
            for (int j = 0; j < a.Length; j++)
                if (Compare.BitDifference($"{what} '{parameters.Names[j]}'", parameters[j].Shape, a[j], b[j], "1 thread", "3 threads") is { } d) return $"step {k + 1}: {d}";
        }
        return StateDifference(one.State(), three.State(), "1 thread", "3 threads") is { } ds ? $"after {grads.Length} steps: {ds}" : null;
    }

    /// <summary>The law every built-in obeys: from <see cref="GradientTransform.Init{T}"/>, zero gradients at zero parameters give
    /// zero updates, step after step (nothing pulls and there is no weight to decay), and a fused form leaves the parameters at 0.
    /// A sign taken as +1 at 0, a constant added, or a 0/0 (an ε of 0) moves them.</summary>
    private static CheckResult ZeroGradientCheck(GradientTransform transform, ParamTree<double> parameters, int steps)
    {
        const string name = Verify.ZeroGradient;
        var zeros = parameters.ZerosLike();
        var state = transform.Init(zeros);
        for (int k = 1; k <= steps; k++)
        {
            (var u, state) = transform.Update(zeros, state, zeros);
            if (NonZero("updates", u.Names, u.Leaves.Select(l => l.Buffer).ToArray(), zeros) is { } d) return new(name, false, $"step {k}: {d}");
        }
        if (transform.OpenApplying(transform.Init(zeros), zeros) is not { } fused)
            return new(name, true, $"{steps} steps of zero gradients at zero parameters give zero updates");
        var p = Copies(zeros); var g = Copies(zeros);
        for (int k = 1; k <= steps; k++)
        {
            Load(zeros, g);
            fused.Update(new UpdateArgs<double>(zeros.Names, g, p, writableParameters: true, threads: 1));
            if (NonZero("parameters", zeros.Names, p, zeros) is { } d) return new(name, false, $"fused form: step {k}: {d}");
        }
        return new(name, true, $"{steps} steps of zero gradients at zero parameters give zero updates, and the fused form leaves the parameters at 0");
    }

    /// <summary>The first element that is not 0 (NaN is not), described with how many are not, or null when all are 0.</summary>
    private static string? NonZero(string what, ImmutableArray<string> names, double[][] arrays, ParamTree<double> like)
    {
        int count = 0, total = 0; string? first = null;
        for (int j = 0; j < arrays.Length; j++)
            for (int i = 0; i < arrays[j].Length; i++, total++)
                if (!(arrays[j][i] == 0) && count++ == 0) first = $"{what} '{names[j]}'{Compare.Position(i, like[j].Shape)} is {Compare.R(arrays[j][i])}";
        return first is null ? null : $"{first}, not 0, for zero gradients at zero parameters ({count} of {total} elements are not 0)";
    }

    private static CheckResult StateCopy(GradientTransform transform, ParamTree<double> parameters, ParamTree<double>[] grads, OptState state0)
    {
        const string name = Verify.StateIsCopy;
        var plain = transform.Open(state0, parameters) ?? throw new InvalidOperationException("Open returned null");
        if (Stepped(plain, parameters, grads, Buffers(parameters), writable: false) is { } d) return new(name, false, d);
        var fused = transform.OpenApplying(state0, parameters);
        if (fused is not null && Stepped(fused, parameters, grads, Copies(parameters), writable: true) is { } df) return new(name, false, "fused form: " + df);
        return new(name, true, fused is null ? "a State() snapshot is unchanged by further steps" : "a State() snapshot is unchanged by further steps (plain and fused forms)");
    }

    /// <summary>Takes a snapshot after the first step, steps on, and describes any change in the snapshot (null: none).</summary>
    private static string? Stepped(TransformWorkspace<double> work, ParamTree<double> parameters, ParamTree<double>[] grads, double[][] p, bool writable)
    {
        var u = Copies(grads[0]);
        work.Update(new UpdateArgs<double>(parameters.Names, u, p, writable, 1));
        var snapshot = work.State();
        var kept = Compare.Snapshot(snapshot, "state");
        for (int k = 0; k < Math.Max(2, grads.Length); k++)
        {
            Load(grads[k % grads.Length], u);
            work.Update(new UpdateArgs<double>(parameters.Names, u, p, writable, 1));
        }
        return Compare.SnapshotDifference(kept, Compare.Snapshot(snapshot, "state"), "at State()", "after further steps") is { } d
            ? $"the state taken after step 1 changed when the workspace stepped on: {d}" : null;
    }
}
