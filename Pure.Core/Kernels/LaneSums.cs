using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralPure.Kernels;

/// <summary>Eight double partial sums: the accumulator of <see cref="LaneSums"/>.</summary>
[InlineArray(8)]
internal struct Lanes8
{
    private double element;

    /// <summary>The total in a fixed tree: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).</summary>
    public readonly double Total()
    {
        ReadOnlySpan<double> l = this;
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
}

/// <summary>Sums in double over eight lanes, defined independently of the hardware: within each span added, element j goes to
/// lane j mod 8, lanes accumulate across calls in call order, and <see cref="Lanes8.Total"/> combines them in a fixed tree.
/// Every instruction set (Vector128 on x64 and ARM64, the software fallback, the scalar tail) performs exactly these additions,
/// so the bits do not depend on it; compared with one running sum it has eight independent chains (the adds pipeline) and
/// smaller rounding error. Used by batch and layer normalization.</summary>
/// <remarks>The vector body keeps lanes (0, 1), (2, 3), (4, 5), (6, 7) in four <see cref="Vector128{T}"/> of double — four
/// independent chains, two lanes each — and widens floats with <see cref="Vector128.WidenLower(Vector128{float})"/> (exact);
/// with Vector256 (batch norm's passes), lanes 0–3 and 4–7 in two: half the instructions for the same additions (the CNN's
/// first batch norm forward 673 -> 493 µs on two Zen 4 threads).
/// Products and differences are separate roundings (no fused multiply-add), as in the scalar tail.</remarks>
internal static class LaneSums
{
    /// <summary>acc[j mod 8] += x[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<T>(ref Lanes8 acc, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<double> l = acc;
        int j = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            Vector256<double> a0 = Vector256.Create(l[..4]), a1 = Vector256.Create(l[4..]);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(x, j, out var v0, out var v1);
                a0 += v0; a1 += v1;
            }
            a0.CopyTo(l); a1.CopyTo(l[4..]);
        }
        else if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> a0 = Vector128.Create(l[0], l[1]), a1 = Vector128.Create(l[2], l[3]), a2 = Vector128.Create(l[4], l[5]), a3 = Vector128.Create(l[6], l[7]);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(x, j, out var v0, out var v1, out var v2, out var v3);
                a0 += v0; a1 += v1; a2 += v2; a3 += v3;
            }
            Store(l, a0, a1, a2, a3);
        }
        for (; j < x.Length; j++) l[j & 7] += double.CreateTruncating(x[j]);
    }

    /// <summary>Four channels at once: acc[k][j mod 8] += x[k·s + j] for k &lt; 4 and j &lt; s — four <see cref="Add{T}"/> calls on
    /// the consecutive runs of <paramref name="x"/>, with the same additions in each lane.</summary>
    /// <remarks>A lane's chain cannot be split (its additions are in order), so one channel keeps only two Vector256 chains busy,
    /// each add waiting for the one before; four channels' chains interleaved keep eight (batch norm's statistics pass, whose
    /// channels are independent).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add4<T>(Span<Lanes8> acc, ReadOnlySpan<T> x, int s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector256.IsHardwareAccelerated || !(typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            for (int k = 0; k < 4; k++) Add(ref acc[k], x.Slice(k * s, s));
            return;
        }
        var x0 = x[..s]; var x1 = x.Slice(s, s); var x2 = x.Slice(2 * s, s); var x3 = x.Slice(3 * s, s);
        Span<double> l0 = acc[0], l1 = acc[1], l2 = acc[2], l3 = acc[3];
        Vector256<double> a0 = Vector256.Create(l0[..4]), a1 = Vector256.Create(l0[4..]), b0 = Vector256.Create(l1[..4]), b1 = Vector256.Create(l1[4..]);
        Vector256<double> c0 = Vector256.Create(l2[..4]), c1 = Vector256.Create(l2[4..]), d0 = Vector256.Create(l3[..4]), d1 = Vector256.Create(l3[4..]);
        int j = 0;
        for (; j <= s - 8; j += 8)
        {
            Load8(x0, j, out var v0, out var v1); a0 += v0; a1 += v1;
            Load8(x1, j, out v0, out v1); b0 += v0; b1 += v1;
            Load8(x2, j, out v0, out v1); c0 += v0; c1 += v1;
            Load8(x3, j, out v0, out v1); d0 += v0; d1 += v1;
        }
        a0.CopyTo(l0); a1.CopyTo(l0[4..]); b0.CopyTo(l1); b1.CopyTo(l1[4..]);
        c0.CopyTo(l2); c1.CopyTo(l2[4..]); d0.CopyTo(l3); d1.CopyTo(l3[4..]);
        for (int k = 0; k < 4; k++)
        {
            Span<double> l = acc[k];
            var xk = x.Slice(k * s, s);
            for (int t = j; t < s; t++) l[t & 7] += double.CreateTruncating(xk[t]);
        }
    }

    /// <summary>Four channels at once: acc[k][j mod 8] += (x[k·s + j] − mean[k])², as four <see cref="AddSquaredDeviations{T}"/>
    /// calls (see <see cref="Add4{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSquaredDeviations4<T>(Span<Lanes8> acc, ReadOnlySpan<T> x, int s, ReadOnlySpan<double> mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector256.IsHardwareAccelerated || !(typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            for (int k = 0; k < 4; k++) AddSquaredDeviations(ref acc[k], x.Slice(k * s, s), mean[k]);
            return;
        }
        var x0 = x[..s]; var x1 = x.Slice(s, s); var x2 = x.Slice(2 * s, s); var x3 = x.Slice(3 * s, s);
        Span<double> l0 = acc[0], l1 = acc[1], l2 = acc[2], l3 = acc[3];
        Vector256<double> a0 = Vector256.Create(l0[..4]), a1 = Vector256.Create(l0[4..]), b0 = Vector256.Create(l1[..4]), b1 = Vector256.Create(l1[4..]);
        Vector256<double> c0 = Vector256.Create(l2[..4]), c1 = Vector256.Create(l2[4..]), d0 = Vector256.Create(l3[..4]), d1 = Vector256.Create(l3[4..]);
        Vector256<double> ma = Vector256.Create(mean[0]), mb = Vector256.Create(mean[1]), mc = Vector256.Create(mean[2]), md = Vector256.Create(mean[3]);
        int j = 0;
        for (; j <= s - 8; j += 8)
        {
            Load8(x0, j, out var v0, out var v1); v0 -= ma; v1 -= ma; a0 += v0 * v0; a1 += v1 * v1;
            Load8(x1, j, out v0, out v1); v0 -= mb; v1 -= mb; b0 += v0 * v0; b1 += v1 * v1;
            Load8(x2, j, out v0, out v1); v0 -= mc; v1 -= mc; c0 += v0 * v0; c1 += v1 * v1;
            Load8(x3, j, out v0, out v1); v0 -= md; v1 -= md; d0 += v0 * v0; d1 += v1 * v1;
        }
        a0.CopyTo(l0); a1.CopyTo(l0[4..]); b0.CopyTo(l1); b1.CopyTo(l1[4..]);
        c0.CopyTo(l2); c1.CopyTo(l2[4..]); d0.CopyTo(l3); d1.CopyTo(l3[4..]);
        for (int k = 0; k < 4; k++)
        {
            Span<double> l = acc[k];
            var xk = x.Slice(k * s, s);
            for (int t = j; t < s; t++) { double d = double.CreateTruncating(xk[t]) - mean[k]; l[t & 7] += d * d; }
        }
    }

    /// <summary>acc[j mod 8] += (x[j] − mean)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSquaredDeviations<T>(ref Lanes8 acc, ReadOnlySpan<T> x, double mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<double> l = acc;
        int j = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            Vector256<double> a0 = Vector256.Create(l[..4]), a1 = Vector256.Create(l[4..]), m4 = Vector256.Create(mean);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(x, j, out var v0, out var v1);
                v0 -= m4; v1 -= m4;
                a0 += v0 * v0; a1 += v1 * v1;
            }
            a0.CopyTo(l); a1.CopyTo(l[4..]);
        }
        else if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> a0 = Vector128.Create(l[0], l[1]), a1 = Vector128.Create(l[2], l[3]), a2 = Vector128.Create(l[4], l[5]), a3 = Vector128.Create(l[6], l[7]);
            var m = Vector128.Create(mean);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(x, j, out var v0, out var v1, out var v2, out var v3);
                v0 -= m; v1 -= m; v2 -= m; v3 -= m;
                a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
            }
            Store(l, a0, a1, a2, a3);
        }
        for (; j < x.Length; j++) { double d = double.CreateTruncating(x[j]) - mean; l[j & 7] += d * d; }
    }

    /// <summary>dySum[j mod 8] += dy[j] and dyhSum[j mod 8] += dy[j]·(x[j] − mean)·r, the product rounded left to right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradientSums<T>(ref Lanes8 dySum, ref Lanes8 dyhSum, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, double mean, double r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dy.Length != x.Length) throw new ArgumentException("dy and x differ in length", nameof(dy));
        Span<double> s = dySum, h = dyhSum;
        int j = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            Vector256<double> s0 = Vector256.Create(s[..4]), s1 = Vector256.Create(s[4..]), h0 = Vector256.Create(h[..4]), h1 = Vector256.Create(h[4..]);
            Vector256<double> m = Vector256.Create(mean), rr = Vector256.Create(r);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(dy, j, out Vector256<double> d0, out Vector256<double> d1);
                Load8(x, j, out Vector256<double> x0, out Vector256<double> x1);
                s0 += d0; s1 += d1;
                h0 += d0 * (x0 - m) * rr; h1 += d1 * (x1 - m) * rr;
            }
            s0.CopyTo(s); s1.CopyTo(s[4..]); h0.CopyTo(h); h1.CopyTo(h[4..]);
        }
        else if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> s0 = Vector128.Create(s[0], s[1]), s1 = Vector128.Create(s[2], s[3]), s2 = Vector128.Create(s[4], s[5]), s3 = Vector128.Create(s[6], s[7]);
            Vector128<double> h0 = Vector128.Create(h[0], h[1]), h1 = Vector128.Create(h[2], h[3]), h2 = Vector128.Create(h[4], h[5]), h3 = Vector128.Create(h[6], h[7]);
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r);
            for (; j <= x.Length - 8; j += 8)
            {
                Load8(dy, j, out var d0, out var d1, out var d2, out var d3);
                Load8(x, j, out var x0, out var x1, out var x2, out var x3);
                s0 += d0; s1 += d1; s2 += d2; s3 += d3;
                h0 += d0 * (x0 - m) * rr; h1 += d1 * (x1 - m) * rr; h2 += d2 * (x2 - m) * rr; h3 += d3 * (x3 - m) * rr;
            }
            Store(s, s0, s1, s2, s3); Store(h, h0, h1, h2, h3);
        }
        for (; j < x.Length; j++)
        {
            double d = double.CreateTruncating(dy[j]);
            s[j & 7] += d; h[j & 7] += d * (double.CreateTruncating(x[j]) - mean) * r;
        }
    }

    /// <summary>Two channels at once: <see cref="AddGradientSums{T}"/> on the runs [0, s) and [s, 2s) of <paramref name="dy"/> and
    /// <paramref name="x"/> into dySum[k], dyhSum[k] with mean[k], r[k] (k = 0, 1), with the same additions in each lane: eight
    /// chains interleaved instead of four (see <see cref="Add4{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradientSums2<T>(Span<Lanes8> dySum, Span<Lanes8> dyhSum, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int s,
        ReadOnlySpan<double> mean, ReadOnlySpan<double> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector256.IsHardwareAccelerated || !(typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            for (int k = 0; k < 2; k++) AddGradientSums(ref dySum[k], ref dyhSum[k], dy.Slice(k * s, s), x.Slice(k * s, s), mean[k], r[k]);
            return;
        }
        var dyA = dy[..s]; var dyB = dy.Slice(s, s); var xA = x[..s]; var xB = x.Slice(s, s);
        Span<double> sa = dySum[0], sb = dySum[1], ha = dyhSum[0], hb = dyhSum[1];
        Vector256<double> sa0 = Vector256.Create(sa[..4]), sa1 = Vector256.Create(sa[4..]), ha0 = Vector256.Create(ha[..4]), ha1 = Vector256.Create(ha[4..]);
        Vector256<double> sb0 = Vector256.Create(sb[..4]), sb1 = Vector256.Create(sb[4..]), hb0 = Vector256.Create(hb[..4]), hb1 = Vector256.Create(hb[4..]);
        Vector256<double> ma = Vector256.Create(mean[0]), ra = Vector256.Create(r[0]), mb = Vector256.Create(mean[1]), rb = Vector256.Create(r[1]);
        int j = 0;
        for (; j <= s - 8; j += 8)
        {
            Load8(dyA, j, out Vector256<double> d0, out Vector256<double> d1);
            Load8(xA, j, out Vector256<double> x0, out Vector256<double> x1);
            sa0 += d0; sa1 += d1;
            ha0 += d0 * (x0 - ma) * ra; ha1 += d1 * (x1 - ma) * ra;
            Load8(dyB, j, out d0, out d1);
            Load8(xB, j, out x0, out x1);
            sb0 += d0; sb1 += d1;
            hb0 += d0 * (x0 - mb) * rb; hb1 += d1 * (x1 - mb) * rb;
        }
        sa0.CopyTo(sa); sa1.CopyTo(sa[4..]); ha0.CopyTo(ha); ha1.CopyTo(ha[4..]);
        sb0.CopyTo(sb); sb1.CopyTo(sb[4..]); hb0.CopyTo(hb); hb1.CopyTo(hb[4..]);
        for (int k = 0; k < 2; k++)
        {
            Span<double> sk = dySum[k], hk = dyhSum[k];
            var dyk = dy.Slice(k * s, s); var xk = x.Slice(k * s, s);
            for (int t = j; t < s; t++)
            {
                double d = double.CreateTruncating(dyk[t]);
                sk[t & 7] += d; hk[t & 7] += d * (double.CreateTruncating(xk[t]) - mean[k]) * r[k];
            }
        }
    }

    /// <summary>Eight elements from j as doubles, lanes (0, 1), (2, 3), (4, 5), (6, 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Load8<T>(ReadOnlySpan<T> x, int j, out Vector128<double> v0, out Vector128<double> v1, out Vector128<double> v2, out Vector128<double> v3)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(x);
            var lo = Vector128.Create(f.Slice(j, 4)); var hi = Vector128.Create(f.Slice(j + 4, 4));
            v0 = Vector128.WidenLower(lo); v1 = Vector128.WidenUpper(lo); v2 = Vector128.WidenLower(hi); v3 = Vector128.WidenUpper(hi);
        }
        else
        {
            var d = MemoryMarshal.Cast<T, double>(x);
            v0 = Vector128.Create(d.Slice(j, 2)); v1 = Vector128.Create(d.Slice(j + 2, 2)); v2 = Vector128.Create(d.Slice(j + 4, 2)); v3 = Vector128.Create(d.Slice(j + 6, 2));
        }
    }

    /// <summary>Eight elements from j as doubles, lanes 0–3 and 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Load8<T>(ReadOnlySpan<T> x, int j, out Vector256<double> v0, out Vector256<double> v1) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            var f = Vector256.Create(MemoryMarshal.Cast<T, float>(x).Slice(j, 8));
            v0 = Vector256.WidenLower(f); v1 = Vector256.WidenUpper(f);
        }
        else
        {
            var d = MemoryMarshal.Cast<T, double>(x);
            v0 = Vector256.Create(d.Slice(j, 4)); v1 = Vector256.Create(d.Slice(j + 4, 4));
        }
    }

    /// <summary>Eight doubles to T at j, lanes 0–3 and 4–7 (rounded to nearest for float, as a scalar cast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store8<T>(Span<T> y, int j, Vector256<double> v0, Vector256<double> v1) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) Vector256.Narrow(v0, v1).CopyTo(MemoryMarshal.Cast<T, float>(y).Slice(j, 8));
        else
        {
            var d = MemoryMarshal.Cast<T, double>(y);
            v0.CopyTo(d.Slice(j, 4)); v1.CopyTo(d.Slice(j + 4, 4));
        }
    }

    /// <summary>Eight doubles to T at j (rounded to nearest for float, as a scalar cast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store8<T>(Span<T> y, int j, Vector128<double> v0, Vector128<double> v1, Vector128<double> v2, Vector128<double> v3) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(y);
            Vector128.Narrow(v0, v1).CopyTo(f.Slice(j, 4)); Vector128.Narrow(v2, v3).CopyTo(f.Slice(j + 4, 4));
        }
        else
        {
            var d = MemoryMarshal.Cast<T, double>(y);
            v0.CopyTo(d.Slice(j, 2)); v1.CopyTo(d.Slice(j + 2, 2)); v2.CopyTo(d.Slice(j + 4, 2)); v3.CopyTo(d.Slice(j + 6, 2));
        }
    }

    private static void Store(Span<double> l, Vector128<double> a0, Vector128<double> a1, Vector128<double> a2, Vector128<double> a3)
    {
        a0.CopyTo(l); a1.CopyTo(l[2..]); a2.CopyTo(l[4..]); a3.CopyTo(l[6..]);
    }
}

/// <summary>The element-wise passes of batch and layer normalization, vectorised in double with the scalar definition's operations in
/// its order (so the vector and scalar paths give the same bits): each output a function of its own inputs only.</summary>
internal static class NormalizeKernels
{
    /// <summary>y[j] = ((x[j] − mean)·r)·w + b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine<T>(ReadOnlySpan<T> x, Span<T> y, double mean, double r, double w, double b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y differ in length", nameof(y));
        int j = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            Vector256<double> m = Vector256.Create(mean), rr = Vector256.Create(r), ww = Vector256.Create(w), bb = Vector256.Create(b);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(x, j, out Vector256<double> v0, out Vector256<double> v1);
                LaneSums.Store8(y, j, (v0 - m) * rr * ww + bb, (v1 - m) * rr * ww + bb);
            }
        }
        else if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r), ww = Vector128.Create(w), bb = Vector128.Create(b);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(x, j, out var v0, out var v1, out var v2, out var v3);
                LaneSums.Store8(y, j, (v0 - m) * rr * ww + bb, (v1 - m) * rr * ww + bb, (v2 - m) * rr * ww + bb, (v3 - m) * rr * ww + bb);
            }
        }
        for (; j < x.Length; j++) y[j] = T.CreateTruncating((double.CreateTruncating(x[j]) - mean) * r * w + b);
    }

    /// <summary>Batch norm's dx with batch statistics: dx[j] = wr·((dy[j] − mdy) − ((x[j] − mean)·r)·mdyh).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BatchDx<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, double mean, double r, double wr, double mdy, double mdyh)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length != dy.Length || dx.Length != dy.Length) throw new ArgumentException("dy, x and dx differ in length", nameof(dx));
        int j = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            Vector256<double> m = Vector256.Create(mean), rr = Vector256.Create(r), k = Vector256.Create(wr), md = Vector256.Create(mdy), mh = Vector256.Create(mdyh);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(dy, j, out Vector256<double> d0, out Vector256<double> d1);
                LaneSums.Load8(x, j, out Vector256<double> x0, out Vector256<double> x1);
                LaneSums.Store8(dx, j, k * (d0 - md - (x0 - m) * rr * mh), k * (d1 - md - (x1 - m) * rr * mh));
            }
        }
        else if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r), k = Vector128.Create(wr), md = Vector128.Create(mdy), mh = Vector128.Create(mdyh);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(dy, j, out var d0, out var d1, out var d2, out var d3);
                LaneSums.Load8(x, j, out var x0, out var x1, out var x2, out var x3);
                LaneSums.Store8(dx, j, k * (d0 - md - (x0 - m) * rr * mh), k * (d1 - md - (x1 - m) * rr * mh),
                    k * (d2 - md - (x2 - m) * rr * mh), k * (d3 - md - (x3 - m) * rr * mh));
            }
        }
        for (; j < x.Length; j++)
            dx[j] = T.CreateTruncating(wr * (double.CreateTruncating(dy[j]) - mdy - (double.CreateTruncating(x[j]) - mean) * r * mdyh));
    }

    /// <summary>dx[j] = k·dy[j] (batch norm's dx with fixed statistics).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleDy<T>(ReadOnlySpan<T> dy, Span<T> dx, double k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dx.Length != dy.Length) throw new ArgumentException("dy and dx differ in length", nameof(dx));
        int j = 0;
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            var kk = Vector128.Create(k);
            for (; j <= dy.Length - 8; j += 8)
            {
                LaneSums.Load8(dy, j, out var d0, out var d1, out var d2, out var d3);
                LaneSums.Store8(dx, j, kk * d0, kk * d1, kk * d2, kk * d3);
            }
        }
        for (; j < dy.Length; j++) dx[j] = T.CreateTruncating(k * double.CreateTruncating(dy[j]));
    }

    /// <summary>y[j] = (x[j] − mean)·r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Standardize<T>(ReadOnlySpan<T> x, Span<T> y, double mean, double r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y differ in length", nameof(y));
        int j = 0;
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(x, j, out var v0, out var v1, out var v2, out var v3);
                LaneSums.Store8(y, j, (v0 - m) * rr, (v1 - m) * rr, (v2 - m) * rr, (v3 - m) * rr);
            }
        }
        for (; j < x.Length; j++) y[j] = T.CreateTruncating((double.CreateTruncating(x[j]) - mean) * r);
    }

    /// <summary>y[j] = ((x[j] − mean)·r)·w[j] + b[j] (layer norm's per-element affine map).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AffineElementwise<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, double mean, double r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Length || w.Length != x.Length || b.Length != x.Length) throw new ArgumentException("x, weight, bias and y differ in length", nameof(y));
        int j = 0;
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(x, j, out var v0, out var v1, out var v2, out var v3);
                LaneSums.Load8(w, j, out var w0, out var w1, out var w2, out var w3);
                LaneSums.Load8(b, j, out var b0, out var b1, out var b2, out var b3);
                LaneSums.Store8(y, j, (v0 - m) * rr * w0 + b0, (v1 - m) * rr * w1 + b1, (v2 - m) * rr * w2 + b2, (v3 - m) * rr * w3 + b3);
            }
        }
        for (; j < x.Length; j++)
            y[j] = T.CreateTruncating((double.CreateTruncating(x[j]) - mean) * r * double.CreateTruncating(w[j]) + double.CreateTruncating(b[j]));
    }

    /// <summary>Layer norm's backward sums over one group, with h = (x − mean)·r and g = dy·w (dy without weight): mg[j mod 8] += g,
    /// mgh[j mod 8] += g·h, and per element (when <paramref name="sumW"/> is not empty) sumW[j] += dy·h, sumB[j] += dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerGradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, double mean, double r,
        ref Lanes8 mg, ref Lanes8 mgh, Span<double> sumW, Span<double> sumB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool affine = !w.IsEmpty;
        if (x.Length != dy.Length || affine && (w.Length != dy.Length || sumW.Length != dy.Length || sumB.Length != dy.Length))
            throw new ArgumentException("dy, x, weight and the sums differ in length", nameof(dy));
        Span<double> g = mg, gh = mgh;
        int j = 0;
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> g0 = Vector128.Create(g[0], g[1]), g1 = Vector128.Create(g[2], g[3]), g2 = Vector128.Create(g[4], g[5]), g3 = Vector128.Create(g[6], g[7]);
            Vector128<double> q0 = Vector128.Create(gh[0], gh[1]), q1 = Vector128.Create(gh[2], gh[3]), q2 = Vector128.Create(gh[4], gh[5]), q3 = Vector128.Create(gh[6], gh[7]);
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(dy, j, out var d0, out var d1, out var d2, out var d3);
                LaneSums.Load8(x, j, out var h0, out var h1, out var h2, out var h3);
                h0 = (h0 - m) * rr; h1 = (h1 - m) * rr; h2 = (h2 - m) * rr; h3 = (h3 - m) * rr;
                Vector128<double> e0 = d0, e1 = d1, e2 = d2, e3 = d3;
                if (affine)
                {
                    LaneSums.Load8(w, j, out var w0, out var w1, out var w2, out var w3);
                    e0 = d0 * w0; e1 = d1 * w1; e2 = d2 * w2; e3 = d3 * w3;
                    var sw = sumW.Slice(j, 8); var sb = sumB.Slice(j, 8);
                    (Vector128.Create(sw[..2]) + d0 * h0).CopyTo(sw); (Vector128.Create(sw[2..4]) + d1 * h1).CopyTo(sw[2..]);
                    (Vector128.Create(sw[4..6]) + d2 * h2).CopyTo(sw[4..]); (Vector128.Create(sw[6..8]) + d3 * h3).CopyTo(sw[6..]);
                    (Vector128.Create(sb[..2]) + d0).CopyTo(sb); (Vector128.Create(sb[2..4]) + d1).CopyTo(sb[2..]);
                    (Vector128.Create(sb[4..6]) + d2).CopyTo(sb[4..]); (Vector128.Create(sb[6..8]) + d3).CopyTo(sb[6..]);
                }
                g0 += e0; g1 += e1; g2 += e2; g3 += e3;
                q0 += e0 * h0; q1 += e1 * h1; q2 += e2 * h2; q3 += e3 * h3;
            }
            g0.CopyTo(g); g1.CopyTo(g[2..]); g2.CopyTo(g[4..]); g3.CopyTo(g[6..]);
            q0.CopyTo(gh); q1.CopyTo(gh[2..]); q2.CopyTo(gh[4..]); q3.CopyTo(gh[6..]);
        }
        for (; j < x.Length; j++)
        {
            double h = (double.CreateTruncating(x[j]) - mean) * r, d = double.CreateTruncating(dy[j]);
            double e = affine ? d * double.CreateTruncating(w[j]) : d;
            g[j & 7] += e; gh[j & 7] += e * h;
            if (affine) { sumW[j] += d * h; sumB[j] += d; }
        }
    }

    /// <summary>Layer norm's dx over one group: dx[j] = r·((g − mg) − h·mgh), h = (x − mean)·r, g = dy·w (dy without weight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerDx<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, double mean, double r, double mg, double mgh)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool affine = !w.IsEmpty;
        if (x.Length != dy.Length || dx.Length != dy.Length || affine && w.Length != dy.Length) throw new ArgumentException("dy, x, weight and dx differ in length", nameof(dx));
        int j = 0;
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            Vector128<double> m = Vector128.Create(mean), rr = Vector128.Create(r), a = Vector128.Create(mg), q = Vector128.Create(mgh);
            for (; j <= x.Length - 8; j += 8)
            {
                LaneSums.Load8(dy, j, out var d0, out var d1, out var d2, out var d3);
                LaneSums.Load8(x, j, out var h0, out var h1, out var h2, out var h3);
                if (affine)
                {
                    LaneSums.Load8(w, j, out var w0, out var w1, out var w2, out var w3);
                    d0 *= w0; d1 *= w1; d2 *= w2; d3 *= w3;
                }
                LaneSums.Store8(dx, j, rr * (d0 - a - (h0 - m) * rr * q), rr * (d1 - a - (h1 - m) * rr * q),
                    rr * (d2 - a - (h2 - m) * rr * q), rr * (d3 - a - (h3 - m) * rr * q));
            }
        }
        for (; j < x.Length; j++)
        {
            double h = (double.CreateTruncating(x[j]) - mean) * r, d = double.CreateTruncating(dy[j]);
            double e = affine ? d * double.CreateTruncating(w[j]) : d;
            dx[j] = T.CreateTruncating(r * (e - mg - h * mgh));
        }
    }
}
