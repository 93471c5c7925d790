using System.Collections.Immutable;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Optimizers;
using NeuralPure.Tensors;

namespace NeuralPure.Properties.Support;

/// <summary>A test problem for optimizers: where to start, the loss, its gradient and the value at the minimum.</summary>
/// <param name="Name">Shown in test output.</param>
/// <param name="Start">The starting parameters.</param>
/// <param name="Value">The loss f(θ).</param>
/// <param name="Gradient">∇f(θ), with θ's structure.</param>
/// <param name="Minimum">min f.</param>
/// <param name="Argmin">The minimiser.</param>
public sealed record OptimizerProblem(
    string Name,
    ParamTree<double> Start,
    Func<ParamTree<double>, double> Value,
    Func<ParamTree<double>, ParamTree<double>> Gradient,
    double Minimum,
    ParamTree<double> Argmin)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The table of problems the optimizers are run on (DESIGN §10): a parabola and Rosenbrock's banana.</summary>
public static class OptimizerProblems
{
    // Declared before the problems: static initialisers run in textual order.
    private static readonly double[] A = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 0.75];
    private static readonly double[] C = [1, -2, 0.5, 3, -1, 0.25, -0.75, 2, -3];

    /// <summary>f(θ) = Σᵢ aᵢ(θᵢ − cᵢ)² over two leaves (w [2, 3] and b [3]), curvatures aᵢ from 0.5 to 4; ∇f = 2aᵢ(θᵢ − cᵢ).</summary>
    public static OptimizerProblem Parabola { get; } = MakeParabola();

    /// <summary>f(x, y) = (1 − x)² + 100(y − x²)², started at (−1.2, 1) where f = 24.2; minimum 0 at (1, 1).</summary>
    public static OptimizerProblem Rosenbrock { get; } = MakeRosenbrock();

    /// <summary>Every problem.</summary>
    public static IReadOnlyList<OptimizerProblem> All { get; } = [Parabola, Rosenbrock];

    private static ParamTree<double> Tree(ReadOnlySpan<double> flat) =>
        new(["w", "b"], [NdArray.From(flat[..6], 2, 3), NdArray.From(flat[6..], 3)]);

    private static OptimizerProblem MakeParabola()
    {
        double Value(ParamTree<double> p)
        {
            var x = p.Flatten();
            double s = 0;
            for (int i = 0; i < x.Length; i++) s += A[i] * (x[i] - C[i]) * (x[i] - C[i]);
            return s;
        }
        ParamTree<double> Grad(ParamTree<double> p)
        {
            var x = p.Flatten();
            for (int i = 0; i < x.Length; i++) x[i] = 2 * A[i] * (x[i] - C[i]);
            return p.Unflatten(x);
        }
        return new OptimizerProblem("parabola", Tree(new double[9]), Value, Grad, 0, Tree(C));
    }

    private static OptimizerProblem MakeRosenbrock()
    {
        static ParamTree<double> Xy(double x, double y) => new(["xy"], [NdArray.Vector(x, y)]);
        static double Value(ParamTree<double> p)
        {
            double x = p[0][0], y = p[0][1];
            return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
        }
        static ParamTree<double> Grad(ParamTree<double> p)
        {
            double x = p[0][0], y = p[0][1];
            return Xy(-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x));
        }
        return new OptimizerProblem("rosenbrock", Xy(-1.2, 1), Value, Grad, 0, Xy(1, 1));
    }

    /// <summary>Runs <paramref name="steps"/> full-gradient steps of <paramref name="optimizer"/> from the problem's start.</summary>
    public static ParamTree<double> Run(GradientTransform optimizer, OptimizerProblem problem, int steps)
    {
        var p = problem.Start;
        var s = optimizer.Init(p);
        for (int i = 0; i < steps; i++)
        {
            var (u, next) = optimizer.Update(problem.Gradient(p), s, p);
            p = Optimizer.ApplyUpdates(p, u);
            s = next;
        }
        return p;
    }
}

/// <summary>A start point and a fixed sequence of gradients: enough to drive any optimizer for a few steps without a model.</summary>
/// <param name="Params">θ₀ (double; cast to float where a test runs in float).</param>
/// <param name="Grads">g₁, g₂, … with θ₀'s structure.</param>
public sealed record Trajectory(ParamTree<double> Params, ImmutableArray<ParamTree<double>> Grads)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"θ₀ = [{string.Join(", ", Params.Flatten().Select(v => v.ToString("R")))}] {Params}; grads = " +
        string.Join(" | ", Grads.Select(g => string.Join(", ", g.Flatten().Select(v => v.ToString("R")))));
}

/// <summary>FsCheck generators for optimizer tests.</summary>
public static class OptimizerGens
{
    /// <summary>A finite, nonzero double with a random sign and magnitude 10^[−3, 1]: far from ε = 1e-8, free of signed zeros.</summary>
    public static Gen<double> Nonzero { get; } =
        from e in Gen.Choose(-3000, 1000)
        from m in Gen.Choose(0, 1 << 20)
        from neg in Gen.Elements(false, true)
        select (neg ? -1 : 1) * Math.Pow(10, e / 1000.0) * (1 + m / (double)(1 << 21));

    /// <summary>A double in [−scale, scale] on a fine grid (zero included).</summary>
    public static Gen<double> Uniform(double scale) => Gen.Choose(-1 << 24, 1 << 24).Select(i => scale * i / (1 << 24));

    /// <summary>1 to 3 leaves named l0, l1, … with shapes [n] or [r, c], 1 to 7 per dimension.</summary>
    public static Gen<ImmutableArray<int[]>> Shapes { get; } =
        from count in Gen.Choose(1, 3)
        from shapes in Gen.ArrayOf(
            from rank in Gen.Choose(1, 2)
            from dims in Gen.ArrayOf(Gen.Choose(1, 7), rank)
            select dims, count)
        select ImmutableArray.Create(shapes);

    /// <summary>A tree with the given shapes whose values come from <paramref name="value"/>.</summary>
    public static Gen<ParamTree<double>> TreeOf(ImmutableArray<int[]> shapes, Gen<double> value) =>
        Gen.CollectToArray(shapes, s => Gen.ArrayOf(value, s.Aggregate(1, (a, b) => a * b)).Select(v => NdArray.From<double>(v, s)))
           .Select(leaves => new ParamTree<double>([.. Enumerable.Range(0, shapes.Length).Select(i => "l" + i)], [.. leaves]));

    /// <summary>θ₀ with values in [−3, 3] and <paramref name="steps"/> gradients from <see cref="Nonzero"/>.</summary>
    public static Gen<Trajectory> Trajectory(int steps) =>
        from shapes in Shapes
        from p in TreeOf(shapes, Uniform(3))
        from g in Gen.ArrayOf(TreeOf(shapes, Nonzero), steps)
        select new Trajectory(p, [.. g]);

    /// <summary>A learning rate in [1e-4, 0.5], log-uniform.</summary>
    public static Gen<double> LearningRate { get; } = Gen.Choose(-4000, (int)(1000 * Math.Log10(0.5))).Select(e => Math.Pow(10, e / 1000.0));

    /// <summary>A rate in [0, max] on a grid (momentum, β, α).</summary>
    public static Gen<double> Rate(double max) => Gen.Choose(0, 10_000).Select(i => max * i / 10_000);

    /// <summary>A weight decay: 0 a quarter of the time, else in (0, 0.5].</summary>
    public static Gen<double> WeightDecay { get; } = Gen.Frequency((1, Gen.Constant(0.0)), (3, Gen.Choose(1, 5000).Select(i => i / 10_000.0)));
}

/// <summary>Running an optimizer over a <see cref="Trajectory"/> and comparing runs.</summary>
public static class OptimizerRun
{
    /// <summary>θ after each step (index 0 is θ₀) when <paramref name="optimizer"/> is fed the trajectory's gradients, in T.</summary>
    public static List<ParamTree<T>> Params<T>(GradientTransform optimizer, Trajectory t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = t.Params.Cast<T>();
        var s = optimizer.Init(p);
        var r = new List<ParamTree<T>> { p };
        foreach (var g in t.Grads)
        {
            var (u, next) = optimizer.Update(g.Cast<T>(), s, p);
            p = Optimizer.ApplyUpdates(p, u);
            s = next;
            r.Add(p);
        }
        return r;
    }

    /// <summary>Null when both optimizers produce bitwise-equal parameters after every step, else where they first differ.</summary>
    public static string? FirstDifference<T>(GradientTransform a, GradientTransform b, Trajectory t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var pa = Params<T>(a, t);
        var pb = Params<T>(b, t);
        for (int i = 0; i < pa.Count; i++)
            if (!pa[i].Equals(pb[i]))
                return $"{typeof(T).Name}: after step {i}: [{string.Join(", ", pa[i].Flatten())}] vs [{string.Join(", ", pb[i].Flatten())}]";
        return null;
    }
}
