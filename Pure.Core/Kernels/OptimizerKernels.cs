using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralPure.Kernels;

/// <summary>The element-wise arithmetic of optimizer updates, one fused loop per formula.</summary>
/// <remarks>Each loop's expression is the scalar definition, evaluated in the written order (no FMA contraction), so the
/// results match PyTorch's formulas to rounding. The loops run <see cref="Vector{T}"/> lanes first and a scalar tail: every
/// lane performs the same IEEE operations in the same order as the scalar loop (add, multiply, divide and square root are
/// correctly rounded either way), so the bits are those of the scalar definition.</remarks>
internal static class OptimizerKernels
{
    /// <summary>True when <see cref="Vector{T}"/> of T runs in hardware: then the loops below go a register at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Vectorized<T>() where T : unmanaged => Vector.IsHardwareAccelerated && Vector<T>.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> At<T>(ReadOnlySpan<T> s, int i) where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<T>(Span<T> s, int i, Vector<T> v) where T : unmanaged => Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref MemoryMarshal.GetReference(s), i)), v);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dest)
    {
        Guard.SameLength(a, b, "a", "b");
        Guard.SameLength(a, dest, "a", "destination");
        Guard.NoPartialOverlap(a, dest, "a");
        Guard.NoPartialOverlap(b, dest, "b");
    }

    /// <summary>dest = β·m + c·g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Moment<T>(ReadOnlySpan<T> m, T beta, ReadOnlySpan<T> g, T c, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(m, g, dest);
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vb = new(beta), vc = new(c);
            for (; i <= m.Length - Vector<T>.Count; i += Vector<T>.Count) Put(dest, i, vb * At(m, i) + vc * At(g, i));
        }
        for (; i < m.Length; i++) dest[i] = beta * m[i] + c * g[i];
    }

    /// <summary>dest = β·v + c·g·g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SecondMoment<T>(ReadOnlySpan<T> v, T beta, ReadOnlySpan<T> g, T c, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(v, g, dest);
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vb = new(beta), vc = new(c);
            for (; i <= v.Length - Vector<T>.Count; i += Vector<T>.Count) { var gi = At(g, i); Put(dest, i, vb * At(v, i) + vc * gi * gi); }
        }
        for (; i < v.Length; i++) dest[i] = beta * v[i] + c * g[i] * g[i];
    }

    /// <summary>dest = max(a, b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, b, dest);
        for (int i = 0; i < a.Length; i++) dest[i] = T.Max(a[i], b[i]);
    }

    /// <summary>dest = max(v − m·m, 0): centred RMSprop's variance, clamped because rounding can take v − m² below 0 under a
    /// constant gradient (v and m² both tend to g², and √ of a tiny negative is NaN; PyTorch has that NaN, we don't).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SubtractSquare<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> m, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(v, m, dest);
        int i = 0;
        if (Vectorized<T>())
            for (; i <= v.Length - Vector<T>.Count; i += Vector<T>.Count) { var mi = At(m, i); Put(dest, i, Vector.Max(At(v, i) - mi * mi, Vector<T>.Zero)); }
        for (; i < v.Length; i++) dest[i] = T.Max(v[i] - m[i] * m[i], T.Zero);
    }

    /// <summary>dest = (m·s) / (√v / b + ε): Adam's direction with s = 1/(1 − β₁ᵗ) and b = √(1 − β₂ᵗ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdamDirection<T>(ReadOnlySpan<T> m, ReadOnlySpan<T> v, T s, T b, T eps, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(m, v, dest);
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vs = new(s), vb = new(b), ve = new(eps);
            for (; i <= m.Length - Vector<T>.Count; i += Vector<T>.Count) Put(dest, i, At(m, i) * vs / (Vector.SquareRoot(At(v, i)) / vb + ve));
        }
        for (; i < m.Length; i++) dest[i] = m[i] * s / (T.Sqrt(v[i]) / b + eps);
    }

    /// <summary>Lion in place: c = β₁·m + c₁·u; m ← β₂·m + c₂·u; u ← sign(c) (±1, or c itself when it is ±0 or NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LionStep<T>(Span<T> u, Span<T> m, T b1, T c1, T b2, T c2) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SameLength<T>(u, m, "updates", "momentum");
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vb1 = new(b1), vc1 = new(c1), vb2 = new(b2), vc2 = new(c2), one = Vector<T>.One, minus = -Vector<T>.One;
            for (; i <= u.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> g = At<T>(u, i), mi = At<T>(m, i), c = vb1 * mi + vc1 * g;
                Put(m, i, vb2 * mi + vc2 * g);
                Put(u, i, Vector.ConditionalSelect(Vector.GreaterThan(c, Vector<T>.Zero), one, Vector.ConditionalSelect(Vector.LessThan(c, Vector<T>.Zero), minus, c)));
            }
        }
        for (; i < u.Length; i++)
        {
            T g = u[i], c = b1 * m[i] + c1 * g;
            m[i] = b2 * m[i] + c2 * g;
            u[i] = c > T.Zero ? T.One : c < T.Zero ? T.NegativeOne : c;
        }
    }

    /// <summary>Adamax in place: u ← max(β₂·u, |g| + ε); g ← m·s / u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdamaxDirection<T>(Span<T> g, ReadOnlySpan<T> m, Span<T> u, T b2, T eps, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SameLength<T>(g, m, "updates", "m"); Guard.SameLength<T>(g, u, "updates", "u");
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vb = new(b2), ve = new(eps), vs = new(s);
            for (; i <= g.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var ui = Vector.Max(vb * At<T>(u, i), Vector.Abs(At<T>(g, i)) + ve);
                Put(u, i, ui);
                Put(g, i, At(m, i) * vs / ui);
            }
        }
        for (; i < g.Length; i++)
        {
            u[i] = T.Max(b2 * u[i], T.Abs(g[i]) + eps);
            g[i] = m[i] * s / u[i];
        }
    }

    /// <summary>NAdam in place: d = √(v / bc₂) + ε; g ← g·a/d + m·b/d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NAdamDirection<T>(Span<T> g, ReadOnlySpan<T> m, ReadOnlySpan<T> v, T bc2, T a, T b, T eps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SameLength<T>(g, m, "updates", "m"); Guard.SameLength<T>(g, v, "updates", "v");
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> vbc = new(bc2), va = new(a), vb = new(b), ve = new(eps);
            for (; i <= g.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var d = Vector.SquareRoot(At(v, i) / vbc) + ve;
                Put(g, i, At<T>(g, i) * va / d + At(m, i) * vb / d);
            }
        }
        for (; i < g.Length; i++)
        {
            var d = T.Sqrt(v[i] / bc2) + eps;
            g[i] = g[i] * a / d + m[i] * b / d;
        }
    }

    /// <summary>RAdam's rectified step: g ← m / bc₁ · (√bc₂ / (√v + ε)) · r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RAdamRectified<T>(Span<T> g, ReadOnlySpan<T> m, ReadOnlySpan<T> v, T bc1, T bc2Sqrt, T eps, T r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SameLength<T>(g, m, "updates", "m"); Guard.SameLength<T>(g, v, "updates", "v");
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> v1 = new(bc1), v2 = new(bc2Sqrt), ve = new(eps), vr = new(r);
            for (; i <= g.Length - Vector<T>.Count; i += Vector<T>.Count)
                Put(g, i, At(m, i) / v1 * (v2 / (Vector.SquareRoot(At(v, i)) + ve)) * vr);
        }
        for (; i < g.Length; i++) g[i] = m[i] / bc1 * (bc2Sqrt / (T.Sqrt(v[i]) + eps)) * r;
    }

    /// <summary>dest = g / (√v + ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DivideBySqrtPlus<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> v, T eps, Span<T> dest) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(g, v, dest);
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> ve = new(eps);
            for (; i <= g.Length - Vector<T>.Count; i += Vector<T>.Count) Put(dest, i, At(g, i) / (Vector.SquareRoot(At(v, i)) + ve));
        }
        for (; i < g.Length; i++) dest[i] = g[i] / (T.Sqrt(v[i]) + eps);
    }


    /// <summary>One Adam/AdamW step per element, in place on p, m and v: the composition of ScaleAdd (coupled decay), Moment,
    /// SecondMoment, AdamDirection, ScaleAdd (decoupled decay), Scale (−η) and Add, evaluated element by element.</summary>
    /// <remarks>
    /// <para>g' = p·λc + g; m ← β₁·m + (1 − β₁)·g'; v ← β₂·v + (1 − β₂)·g'·g'; d = (m·s)/(√v/b + ε); d' = p·λd + d; p ← p + d'·(−η).</para>
    /// <para>Each line is the same IEEE operations in the same order as the separate kernels, so the bits equal those of the
    /// transform chain; one pass over memory instead of seven. Large tensors are cut into blocks for up to
    /// <paramref name="threads"/> threads (elements are independent, so the split changes nothing).</para>
    /// </remarks>
    public static void AdamStep<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, in AdamConstants<T> c, int threads = 1)
        where T : unmanaged, IFloatingPointIeee754<T> => AdamStep(p, g, m, v, m, v, c, threads);

    /// <summary><see cref="AdamStep{T}(Span{T}, ReadOnlySpan{T}, Span{T}, Span{T}, in AdamConstants{T}, int)"/> reading the
    /// moments from <paramref name="m"/> and <paramref name="v"/> and writing them to <paramref name="mOut"/> and
    /// <paramref name="vOut"/> (each exactly its input, in place, or separate memory): a step that starts from moments it has
    /// not copied. The same operations, so the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void AdamStep<T>(Span<T> p, ReadOnlySpan<T> g, ReadOnlySpan<T> m, ReadOnlySpan<T> v, Span<T> mOut, Span<T> vOut, in AdamConstants<T> c, int threads = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SameLength<T>(p, g, "p", "g"); Guard.SameLength<T>(p, m, "p", "m"); Guard.SameLength<T>(p, v, "p", "v");
        Guard.SameLength<T>(m, mOut, "m", "mOut"); Guard.SameLength<T>(v, vOut, "v", "vOut");
        Guard.NoOverlap(g, p, "g"); Guard.NoOverlap(g, mOut, "g"); Guard.NoOverlap(g, vOut, "g");
        Guard.NoOverlap(m, p, "m"); Guard.NoOverlap(v, p, "v"); Guard.NoOverlap(m, vOut, "m"); Guard.NoOverlap(v, mOut, "v");
        Guard.NoPartialOverlap(m, mOut, "m"); Guard.NoPartialOverlap(v, vOut, "v"); Guard.NoOverlap<T>(mOut, vOut, "mOut");
        fixed (T* pp = p) fixed (T* pg = g) fixed (T* pm = m) fixed (T* pv = v) fixed (T* pmo = mOut) fixed (T* pvo = vOut)
        {
            var job = new AdamJob<T> { P = pp, G = pg, M = pm, V = pv, MOut = pmo, VOut = pvo, C = c };
            WorkerPool.RunBlocks(p.Length, threads, &AdamBlock<T>, &job);
        }
    }

    private unsafe struct AdamJob<T> where T : unmanaged
    {
        public T* P, G, M, V, MOut, VOut;
        public AdamConstants<T> C;
    }

    private static unsafe void AdamBlock<T>(void* state, int start, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var job = ref Unsafe.AsRef<AdamJob<T>>(state);
        AdamRange(new Span<T>(job.P + start, length), new ReadOnlySpan<T>(job.G + start, length), new ReadOnlySpan<T>(job.M + start, length), new ReadOnlySpan<T>(job.V + start, length),
            new Span<T>(job.MOut + start, length), new Span<T>(job.VOut + start, length), job.C);
    }

    /// <summary>One block: element i reads m[i] and v[i] before it writes mOut[i] and vOut[i], so in place is safe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AdamRange<T>(Span<T> p, ReadOnlySpan<T> g, ReadOnlySpan<T> m, ReadOnlySpan<T> v, Span<T> mOut, Span<T> vOut, in AdamConstants<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool coupled = c.Coupled.HasValue, decoupled = c.Decoupled.HasValue;
        T lc = c.Coupled.GetValueOrDefault(), ld = c.Decoupled.GetValueOrDefault();
        int i = 0;
        if (Vectorized<T>())
        {
            Vector<T> b1 = new(c.B1), c1 = new(c.C1), b2 = new(c.B2), c2 = new(c.C2), s = new(c.StepScale), bc = new(c.Bc2Sqrt), eps = new(c.Eps), f = new(c.Factor);
            Vector<T> vlc = new(lc), vld = new(ld);
            for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var pi = At<T>(p, i); var gi = At(g, i);
                if (coupled) gi = pi * vlc + gi;
                var mi = b1 * At(m, i) + c1 * gi;
                var vi = b2 * At(v, i) + c2 * gi * gi;
                var di = mi * s / (Vector.SquareRoot(vi) / bc + eps);
                if (decoupled) di = pi * vld + di;
                Put(p, i, pi + di * f); Put(mOut, i, mi); Put(vOut, i, vi);
            }
        }
        for (; i < p.Length; i++)
        {
            T pi = p[i], gi = g[i];
            if (coupled) gi = pi * lc + gi;
            T mi = c.B1 * m[i] + c.C1 * gi;
            T vi = c.B2 * v[i] + c.C2 * gi * gi;
            T di = mi * c.StepScale / (T.Sqrt(vi) / c.Bc2Sqrt + c.Eps);
            if (decoupled) di = pi * ld + di;
            p[i] = pi + di * c.Factor; mOut[i] = mi; vOut[i] = vi;
        }
    }
}

/// <summary>The constants of one fused Adam/AdamW step (see <see cref="OptimizerKernels.AdamStep{T}(Span{T}, ReadOnlySpan{T}, Span{T}, Span{T}, in AdamConstants{T}, int)"/>), converted to T as the separate transforms convert them.</summary>
/// <param name="B1">β₁.</param>
/// <param name="C1">1 − β₁ (formed in double, then converted, as ScaleByAdam does).</param>
/// <param name="B2">β₂.</param>
/// <param name="C2">1 − β₂ (formed in double, then converted).</param>
/// <param name="StepScale">1/(1 − β₁ᵗ).</param>
/// <param name="Bc2Sqrt">√(1 − β₂ᵗ).</param>
/// <param name="Eps">ε.</param>
/// <param name="Factor">−η(t).</param>
/// <param name="Coupled">λ of a weight decay before the moments (Adam's L2), or null.</param>
/// <param name="Decoupled">λ of a weight decay after the direction (AdamW), or null.</param>
internal readonly record struct AdamConstants<T>(T B1, T C1, T B2, T C2, T StepScale, T Bc2Sqrt, T Eps, T Factor, T? Coupled, T? Decoupled) where T : unmanaged;
