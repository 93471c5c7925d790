using System.Collections.Immutable;
using System.Numerics;
using NeuralPure.Tensors;

namespace NeuralPure.Models;

/// <summary>Gradients by central differences: slow and approximate, but independent of backpropagation, so they check it.</summary>
/// <remarks>
/// ∂f/∂θᵢ ≈ (f(θ + h·eᵢ) − f(θ − h·eᵢ)) / 2h, with error O(h²) plus rounding of order ε_machine·|f|/h. Use double:
/// in float the rounding term swamps the answer (PyTorch's gradcheck refuses float32 for the same reason).
/// Default h = 1e-6 as in gradcheck.
/// </remarks>
public static class NumericGrad
{
    /// <summary>The gradient of <paramref name="f"/> with respect to every scalar of <paramref name="parameters"/>.</summary>
    public static ParamTree<T> OfParameters<T>(Func<ParamTree<T>, T> f, ParamTree<T> parameters, double h = 1e-6) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f); ArgumentNullException.ThrowIfNull(parameters);
        RequireStep(h);
        var leaves = ImmutableArray.CreateBuilder<NdArray<T>>(parameters.Count);
        for (int li = 0; li < parameters.Count; li++)
        {
            var g = new T[parameters[li].Length];
            for (int j = 0; j < g.Length; j++)
            {
                double plus = double.CreateChecked(f(Perturb(parameters, li, j, h)));
                double minus = double.CreateChecked(f(Perturb(parameters, li, j, -h)));
                g[j] = T.CreateChecked((plus - minus) / (2 * h));
            }
            leaves.Add(NdArray.Own(g, parameters[li].Shape));
        }
        return new ParamTree<T>(parameters.Names, leaves.MoveToImmutable());
    }

    /// <summary>The gradient of <paramref name="f"/> with respect to every element of <paramref name="x"/>.</summary>
    public static NdArray<T> OfInput<T>(Func<NdArray<T>, T> f, NdArray<T> x, double h = 1e-6) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f); ArgumentNullException.ThrowIfNull(x);
        RequireStep(h);
        var g = new T[x.Length];
        for (int j = 0; j < g.Length; j++)
        {
            double plus = double.CreateChecked(f(Perturb(x, j, h)));
            double minus = double.CreateChecked(f(Perturb(x, j, -h)));
            g[j] = T.CreateChecked((plus - minus) / (2 * h));
        }
        return NdArray.Own(g, x.Shape);
    }

    /// <summary>The directional derivative (f(θ + h·v) − f(θ − h·v)) / 2h, which should equal ⟨∇f, v⟩; one pair of evaluations whatever the size.</summary>
    /// <exception cref="ArgumentException">v's structure differs from the parameters'.</exception>
    public static double Directional<T>(Func<ParamTree<T>, T> f, ParamTree<T> parameters, ParamTree<T> direction, double h = 1e-6) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(f);
        RequireStep(h);
        var th = T.CreateChecked(h);
        var plus = ParamTree<T>.Zip(parameters, direction, (p, v) => Axpy(p, v, th), nameof(direction));
        var minus = ParamTree<T>.Zip(parameters, direction, (p, v) => Axpy(p, v, -th), nameof(direction));
        return (double.CreateChecked(f(plus)) - double.CreateChecked(f(minus))) / (2 * h);
    }

    /// <summary>⟨a, b⟩ summed over every leaf, in double.</summary>
    public static double Dot<T>(ParamTree<T> a, ParamTree<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParamTree<T>.RequireSameStructure(a, b, nameof(b));
        double s = 0;
        for (int i = 0; i < a.Count; i++)
        {
            var x = a[i].Span; var y = b[i].Span;
            for (int j = 0; j < x.Length; j++) s += double.CreateChecked(x[j]) * double.CreateChecked(y[j]);
        }
        return s;
    }

    private static void RequireStep(double h)
    {
        if (!(h > 0) || !double.IsFinite(h)) throw new ArgumentOutOfRangeException(nameof(h), h, "the step h must be positive and finite");
    }

    private static ParamTree<T> Perturb<T>(ParamTree<T> p, int leaf, int index, double h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var b = p.Leaves.ToBuilder();
        b[leaf] = Perturb(p[leaf], index, h);
        return new ParamTree<T>(p.Names, b.ToImmutable());
    }

    private static NdArray<T> Perturb<T>(NdArray<T> a, int index, double h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = a.ToArray();
        c[index] = T.CreateChecked(double.CreateChecked(c[index]) + h);
        return NdArray.Own(c, a.Shape);
    }

    private static NdArray<T> Axpy<T>(NdArray<T> p, NdArray<T> v, T h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[p.Length];
        Kernels.Elementwise.ScaleAdd(v.Span, h, p.Span, r);
        return NdArray.Own(r, p.Shape);
    }
}
