using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using NeuralPure.Numerics;
using Xunit;

namespace NeuralPure.Properties.Numerics;

/// <summary>
/// Scans Pure.Core's IL for any call that would reach the platform's C library or hardware for a transcendental function —
/// System.Math / MathF (Exp, Log, Pow, Tanh, Cos, …), the generic-math interfaces (<c>T.Exp</c>, <c>T.Tanh</c>, …),
/// double/float/Half's static forms, TensorPrimitives' and Vector64/128/256/512's transcendental kernels — and fails
/// naming each caller. Square root, rounding, min/max, abs and the like are IEEE-exact and allowed. Everything else goes
/// through <see cref="Elementary"/>, which is why a run's bits do not depend on the platform.
/// </summary>
public sealed class NoPlatformMathTests
{
    private static readonly HashSet<string> Transcendental =
    [
        "Exp", "Exp2", "Exp10", "ExpM1", "Exp2M1", "Exp10M1", "Log", "Log2", "Log10", "LogP1", "Log2P1", "Log10P1", "ILogB",
        "Pow", "Cbrt", "Hypot", "RootN", "Sin", "Cos", "Tan", "SinCos", "SinPi", "CosPi", "TanPi", "SinCosPi", "Asin", "Acos",
        "Atan", "Atan2", "AsinPi", "AcosPi", "AtanPi", "Atan2Pi", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh",
        "Sigmoid", "SoftMax", "LogSoftMax", "Erf", "Erfc",
    ];

    private static readonly HashSet<string> Owners =
    [
        "System.Math", "System.MathF", "System.Double", "System.Single", "System.Half",
        "System.Numerics.IExponentialFunctions`1", "System.Numerics.ILogarithmicFunctions`1", "System.Numerics.IPowerFunctions`1",
        "System.Numerics.IRootFunctions`1", "System.Numerics.ITrigonometricFunctions`1", "System.Numerics.IHyperbolicFunctions`1",
        "System.Numerics.Tensors.TensorPrimitives", "System.Runtime.Intrinsics.Vector64", "System.Runtime.Intrinsics.Vector128",
        "System.Runtime.Intrinsics.Vector256", "System.Runtime.Intrinsics.Vector512", "System.Numerics.Vector",
    ];

    /// <summary>Every (caller, callee) pair in an assembly's IL: call, callvirt, newobj, ldftn, ldvirtftn.</summary>
    internal static List<(string Caller, string Owner, string Name)> Calls(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var operandSize = OperandSizes();
        var result = new List<(string, string, string)>();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            string typeName = FullName(md, type);
            foreach (var mh in type.GetMethods())
            {
                var method = md.GetMethodDefinition(mh);
                if (method.RelativeVirtualAddress == 0) continue;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILBytes()!;
                string caller = typeName + "." + md.GetString(method.Name);
                for (int i = 0; i < il.Length;)
                {
                    int code = il[i++];
                    if (code == 0xFE) code = 0xFE00 | il[i++];
                    if (!operandSize.TryGetValue((ushort)code, out int size)) throw new InvalidDataException($"{caller}: unknown opcode 0x{code:X} at IL_{i:X4}");
                    if (code is 0x28 or 0x6F or 0x73 or 0xFE06 or 0xFE07) // call, callvirt, newobj, ldftn, ldvirtftn
                    {
                        var (owner, name) = Callee(md, MetadataTokens.EntityHandle(BitConverter.ToInt32(il, i)));
                        result.Add((caller, owner, name));
                    }
                    if (code == 0x45) size = 4 + 4 * BitConverter.ToInt32(il, i); // switch: count, then that many targets
                    i += size;
                }
            }
        }
        return result;
    }

    private static (string Owner, string Name) Callee(MetadataReader md, EntityHandle h)
    {
        switch (h.Kind)
        {
            case HandleKind.MethodDefinition:
                var def = md.GetMethodDefinition((MethodDefinitionHandle)h);
                return (FullName(md, md.GetTypeDefinition(def.GetDeclaringType())), md.GetString(def.Name));
            case HandleKind.MemberReference:
                var mr = md.GetMemberReference((MemberReferenceHandle)h);
                return (OwnerName(md, mr.Parent), md.GetString(mr.Name));
            case HandleKind.MethodSpecification:
                return Callee(md, md.GetMethodSpecification((MethodSpecificationHandle)h).Method);
            default:
                return ("?", "?");
        }
    }

    private static string OwnerName(MetadataReader md, EntityHandle parent) => parent.Kind switch
    {
        HandleKind.TypeReference => TypeRefName(md, (TypeReferenceHandle)parent),
        HandleKind.TypeDefinition => FullName(md, md.GetTypeDefinition((TypeDefinitionHandle)parent)),
        HandleKind.TypeSpecification => GenericDefinitionName(md, md.GetTypeSpecification((TypeSpecificationHandle)parent).Signature),
        _ => "?",
    };

    /// <summary>The generic type definition a TypeSpec instantiates (GENERICINST CLASS|VALUETYPE TypeDefOrRef …), else "?".</summary>
    private static string GenericDefinitionName(MetadataReader md, BlobHandle signature)
    {
        var blob = md.GetBlobReader(signature);
        if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance) return "?";
        blob.ReadSignatureTypeCode(); // CLASS or VALUETYPE
        var handle = blob.ReadTypeHandle();
        return handle.Kind == HandleKind.TypeReference ? TypeRefName(md, (TypeReferenceHandle)handle)
             : handle.Kind == HandleKind.TypeDefinition ? FullName(md, md.GetTypeDefinition((TypeDefinitionHandle)handle)) : "?";
    }

    private static string TypeRefName(MetadataReader md, TypeReferenceHandle h)
    {
        var t = md.GetTypeReference(h);
        string ns = md.GetString(t.Namespace), name = md.GetString(t.Name);
        if (t.ResolutionScope.Kind == HandleKind.TypeReference) return TypeRefName(md, (TypeReferenceHandle)t.ResolutionScope) + "+" + name;
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static string FullName(MetadataReader md, TypeDefinition t)
    {
        string name = md.GetString(t.Name), ns = md.GetString(t.Namespace);
        var declaring = t.GetDeclaringType();
        if (!declaring.IsNil) return FullName(md, md.GetTypeDefinition(declaring)) + "+" + name;
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static Dictionary<ushort, int> OperandSizes()
    {
        var sizes = new Dictionary<ushort, int>();
        foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)f.GetValue(null)!;
            sizes[(ushort)op.Value] = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 0, // handled by the caller
                _ => 4,
            };
        }
        return sizes;
    }

    private static string CorePath => typeof(Elementary).Assembly.Location;

    [Fact]
    public void Pure_Core_calls_no_platform_transcendental()
    {
        var calls = Calls(CorePath);
        Assert.True(calls.Count > 10_000, $"only {calls.Count} calls decoded: the scanner is not reading Pure.Core");
        var offending = calls.Where(c => Owners.Contains(c.Owner) && Transcendental.Contains(c.Name))
                             .Select(c => $"{c.Caller} calls {c.Owner}.{c.Name}").Distinct().Order().ToList();
        Assert.True(offending.Count == 0,
            "Pure.Core must compute transcendental functions with NeuralPure.Numerics.Elementary (the same bits on every platform), not:\n"
            + string.Join("\n", offending));
    }

    /// <summary>The façade's training path too (options become schedules, e.g. the exponential decay's γ = 0.01^(1/steps)):
    /// only its plots (axis ticks on a log scale) may use the C library, since an SVG's tick positions are not a result.</summary>
    [Fact]
    public void Pure_Facade_calls_no_platform_transcendental_outside_its_plots()
    {
        var offending = Calls(typeof(NeuralPure.Facade.Training.FitOptions).Assembly.Location)
            .Where(c => Owners.Contains(c.Owner) && Transcendental.Contains(c.Name) && !c.Caller.StartsWith("NeuralPure.Facade.Plots.", StringComparison.Ordinal))
            .Select(c => $"{c.Caller} calls {c.Owner}.{c.Name}").Distinct().Order().ToList();
        Assert.True(offending.Count == 0, "use NeuralPure.Numerics.Elementary:\n" + string.Join("\n", offending));
    }

    /// <summary>The scanner finds such calls where they are: this test assembly calls Math.Exp, T.Exp (generic math) and
    /// double.SinPi on purpose (here), and all three must be reported.</summary>
    [Fact]
    public void The_scanner_sees_direct_generic_and_static_interface_calls()
    {
        var calls = Calls(typeof(NoPlatformMathTests).Assembly.Location)
            .Where(c => c.Caller.EndsWith("NoPlatformMathTests.Planted", StringComparison.Ordinal) || c.Caller.EndsWith("NoPlatformMathTests.PlantedGeneric", StringComparison.Ordinal))
            .Select(c => c.Owner + "." + c.Name).ToHashSet();
        Assert.Contains("System.Math.Exp", calls);
        Assert.Contains("System.Numerics.IExponentialFunctions`1.Exp", calls);
        Assert.Contains("System.Double.SinPi", calls);
        Assert.Equal(Math.Exp(1) + double.SinPi(0.25), Planted(1), 15);
        Assert.Equal(Math.Exp(0.5), PlantedGeneric(0.5), 15);
    }

    private static double Planted(double x) => Math.Exp(x) + double.SinPi(x / 4);

    private static T PlantedGeneric<T>(T x) where T : System.Numerics.IExponentialFunctions<T> => T.Exp(x);
}
