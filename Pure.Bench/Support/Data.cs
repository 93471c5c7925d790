namespace NeuralPure.Bench.Support;

/// <summary>Deterministic benchmark inputs.</summary>
public static class Data
{
    /// <summary>n floats uniform in [−1, 1) from a fixed seed.</summary>
    public static float[] Floats(int n, int seed = 1)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>Parses "m×k×n" (or "mxkxn").</summary>
    public static (int M, int K, int N) Shape(string s)
    {
        var p = s.Split('x', '×');
        return (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
    }
}
