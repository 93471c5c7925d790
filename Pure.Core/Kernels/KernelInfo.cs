namespace NeuralPure.Kernels;

/// <summary>What this process's kernels run on: for a run record, a benchmark, or a check that a build kept the machine's
/// vector instructions.</summary>
/// <remarks>Every width gives the same bits (the products never split a sum across lanes), so this changes a run's speed, never
/// its result. A NativeAOT build fixes the width when it is compiled: published without an <c>IlcInstructionSet</c> that includes
/// FMA (x64's default baseline has none), the products run element by element — config d's first step took 1.5 s instead of
/// 45 ms. Publish with <c>&lt;IlcInstructionSet&gt;native&lt;/IlcInstructionSet&gt;</c> (the building machine's) or
/// <c>x86-64-v3</c> (AVX2 and FMA).</remarks>
public static class KernelInfo
{
    /// <summary>The register width of the matrix products in this process: "V512" (AVX-512F), "V256" (AVX2 with FMA), "V128"
    /// (SSE or AVX with FMA, or Arm AdvSimd) or "scalar" (no SIMD, or x64 without FMA).</summary>
    public static string ProductVectors => Gemm.Resolve<float>(VectorWidth.Best) switch
    {
        VectorWidth.V512 => "V512",
        VectorWidth.V256 => "V256",
        VectorWidth.V128 => "V128",
        _ => "scalar",
    };
}
