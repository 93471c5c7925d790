using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace NeuralPure.Properties.Architecture;

/// <summary>The DESIGN's arrows, held by reflection: Kernels ← Tensors ← Layers/Losses; Optimizers ← Tensors (never Layers);
/// Training ← all.</summary>
/// <remarks>
/// Depth: a namespace "references" a type if the type appears in any of its types' (including compiler-generated closures,
/// iterators and lambdas, which are nested and share the namespace) base types, interfaces, generic constraints, fields,
/// property types, method and constructor signatures, local variable types, or — the part signatures miss — in the IL of any
/// method body: every token operand of call/newobj/ldfld/ldsfld/stfld/ldtoken/box/castclass/isinst/newarr/initobj/… is resolved
/// with Module.ResolveMember in the method's generic context, and the declaring type, field type, return and parameter types and
/// generic arguments of what it names are collected (recursively through arrays, by-refs, pointers and generic arguments). That
/// catches a private helper that calls into a forbidden namespace, which a signature-only check would not. What it cannot see:
/// reflection by name at run time (Type.GetType("…")) and calli signatures; Pure.Core uses neither.
/// </remarks>
public sealed class DependencyTests
{
    private static readonly Assembly Core = typeof(NeuralPure.Tensors.NdArray).Assembly;

    private const string
        Kernels = "NeuralPure.Kernels", Tensors = "NeuralPure.Tensors", Random = "NeuralPure.Random", Layers = "NeuralPure.Layers",
        Losses = "NeuralPure.Losses", Models = "NeuralPure.Models", Optimizers = "NeuralPure.Optimizers", Training = "NeuralPure.Training";

    /// <summary>What each namespace must not reference. The brief's three rules, plus the ones the DESIGN's picture implies
    /// (Kernels below Tensors; Layers and Losses below Models; Models below Optimizers/Training). Random's place is not drawn
    /// (it builds NdArrays; Layers use it), so only "not above itself" is asserted for it.</summary>
    public static TheoryData<string, string[]> Rules() => new()
    {
        { Optimizers, [Layers, Losses, Models, Training] },
        { Kernels, [Tensors, Layers, Losses, Models, Optimizers, Training] },
        { Tensors, [Layers, Losses, Models, Optimizers, Training] },
        { Random, [Layers, Losses, Models, Optimizers, Training] },
        { Layers, [Losses, Models, Optimizers, Training] },
        { Losses, [Layers, Models, Optimizers, Training] },
        { Models, [Optimizers, Training] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_namespace_does_not_reference_the_namespaces_above_it(string ns, string[] forbidden)
    {
        var refs = References(ns);
        Assert.NotEmpty(TypesIn(ns));
        var bad = refs.Where(r => forbidden.Contains(r.Type.Namespace)).Select(r => $"{r.From} → {r.Type.FullName}").Distinct().OrderBy(x => x).ToList();
        Assert.True(bad.Count == 0, $"{ns} references forbidden types:\n" + string.Join("\n", bad));
    }

    /// <summary>The scanner finds what is there: Optimizers reaches Kernels only inside method bodies (the Tree helpers call
    /// Elementwise/OptimizerKernels; no signature mentions a kernel), Training reaches Optimizers, Models reaches Layers; and every
    /// token in every method body of the assembly resolves.</summary>
    [Fact]
    public void The_scanner_sees_references_made_only_in_method_bodies()
    {
        var fromOptimizers = References(Optimizers);
        Assert.Contains(fromOptimizers, r => r.Type.Namespace == Kernels && r.From.Contains("IL"));
        Assert.Contains(References(Training), r => r.Type.Namespace == Optimizers);
        Assert.Contains(References(Models), r => r.Type.Namespace == Layers);
        Assert.DoesNotContain(SignatureReferences(Optimizers), r => r.Type.Namespace == Kernels && r.Type.Name is "Elementwise" or "OptimizerKernels");
        foreach (var ns in new[] { Kernels, Tensors, Random, Layers, Losses, Models, Optimizers, Training }) _ = References(ns);
        Assert.True(Unresolved.Count == 0, "tokens that did not resolve: " + string.Join(", ", Unresolved.Take(10)));
    }

    /// <summary>The façade is a user of Pure.Core like any other: it sees only the public surface (the kit and the extension
    /// points are the ones users get), so Core grants its internals to its own tests and benchmarks only.</summary>
    [Fact]
    public void Only_the_tests_and_the_benchmarks_see_Cores_internals()
    {
        var friends = Core.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>().Select(a => a.AssemblyName).Order().ToArray();
        Assert.Equal(["Pure.Bench", "Pure.Properties"], friends);
    }

    private static readonly List<string> Unresolved = [];

    private static IEnumerable<Type> TypesIn(string ns) => Core.GetTypes().Where(t => t.Namespace == ns);

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static List<(string From, Type Type)> References(string ns) => [.. SignatureReferences(ns), .. BodyReferences(ns)];

    private static IEnumerable<(string From, Type Type)> SignatureReferences(string ns)
    {
        foreach (var t in TypesIn(ns))
        {
            string where = t.FullName ?? t.Name;
            if (t.BaseType is { } b) foreach (var x in Expand(b)) yield return (where + " base", x);
            foreach (var i in t.GetInterfaces()) foreach (var x in Expand(i)) yield return (where + " interface", x);
            foreach (var g in t.IsGenericTypeDefinition ? t.GetGenericArguments() : [])
                foreach (var c in g.GetGenericParameterConstraints()) foreach (var x in Expand(c)) yield return (where + " constraint", x);
            foreach (var f in t.GetFields(All)) foreach (var x in Expand(f.FieldType)) yield return ($"{where}.{f.Name} field", x);
            foreach (var p in t.GetProperties(All)) foreach (var x in Expand(p.PropertyType)) yield return ($"{where}.{p.Name} property", x);
            foreach (var m in t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
            {
                if (m is MethodInfo mi) foreach (var x in Expand(mi.ReturnType)) yield return ($"{where}.{m.Name} return", x);
                foreach (var p in m.GetParameters()) foreach (var x in Expand(p.ParameterType)) yield return ($"{where}.{m.Name} parameter {p.Name}", x);
                if (m.GetMethodBody() is { } body)
                    foreach (var l in body.LocalVariables) foreach (var x in Expand(l.LocalType)) yield return ($"{where}.{m.Name} local", x);
            }
        }
    }

    private static IEnumerable<(string From, Type Type)> BodyReferences(string ns)
    {
        foreach (var t in TypesIn(ns))
            foreach (var m in t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
            {
                var il = m.GetMethodBody()?.GetILAsByteArray();
                if (il is null) continue;
                var typeArgs = t.IsGenericType ? t.GetGenericArguments() : null;
                var methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
                foreach (int token in Tokens(il))
                {
                    MemberInfo? member;
                    try { member = m.Module.ResolveMember(token, typeArgs, methodArgs); }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException or MissingMemberException or TypeLoadException)
                    {
                        lock (Unresolved) Unresolved.Add($"{t.FullName}.{m.Name} 0x{token:x8}: {e.GetType().Name}");
                        continue;
                    }
                    foreach (var x in MemberTypes(member)) yield return ($"{t.FullName}.{m.Name} IL", x);
                }
            }
    }

    private static IEnumerable<Type> MemberTypes(MemberInfo? member)
    {
        switch (member)
        {
            case Type ty:
                foreach (var x in Expand(ty)) yield return x;
                break;
            case FieldInfo f:
                foreach (var x in Expand(f.DeclaringType).Concat(Expand(f.FieldType))) yield return x;
                break;
            case MethodBase mb:
                foreach (var x in Expand(mb.DeclaringType)) yield return x;
                if (mb is MethodInfo mi)
                {
                    foreach (var x in Expand(mi.ReturnType)) yield return x;
                    if (mi.IsGenericMethod) foreach (var g in mi.GetGenericArguments()) foreach (var x in Expand(g)) yield return x;
                }
                foreach (var p in mb.GetParameters()) foreach (var x in Expand(p.ParameterType)) yield return x;
                break;
        }
    }

    /// <summary>A type and everything it is built from: element types, generic arguments, declaring types.</summary>
    private static IEnumerable<Type> Expand(Type? t)
    {
        if (t is null || t.IsGenericParameter) yield break;
        if (t.HasElementType) { foreach (var x in Expand(t.GetElementType())) yield return x; yield break; }
        yield return t;
        if (t.IsGenericType && !t.IsGenericTypeDefinition)
            foreach (var g in t.GetGenericArguments()) foreach (var x in Expand(g)) yield return x;
        if (t.IsNested) foreach (var x in Expand(t.DeclaringType)) yield return x;
    }

    // ───────────────────────── a minimal IL reader ─────────────────────────

    private static readonly Dictionary<short, OpCode> OpCodesByValue =
        typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The metadata tokens of every field, method, type and ldtoken operand, walking the instruction stream.</summary>
    internal static IEnumerable<int> Tokens(byte[] il)
    {
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE && i + 1 < il.Length ? (short)(0xFE00 | il[i + 1]) : il[i];
            if (!OpCodesByValue.TryGetValue(value, out var op)) throw new InvalidOperationException($"unknown opcode 0x{value:x} at {i}");
            i += op.Size;
            switch (op.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                default: i += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
            }
        }
    }

    [Fact]
    public void The_IL_reader_walks_a_known_body()
    {
        // ldarg.0; call <token>; ldc.i4.s 7; switch (2 targets); ldc.r8 1.0; ret
        var tok = BitConverter.GetBytes(0x0A000012);
        byte[] il = [0x02, 0x28, .. tok, 0x1F, 7, 0x45, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x23, .. BitConverter.GetBytes(1.0), 0x2A];
        Assert.Equal(new[] { 0x0A000012 }, Tokens(il));
        // Two-byte opcodes: ldftn (FE 06) carries a method token.
        byte[] il2 = [0xFE, 0x06, .. tok, 0x2A];
        Assert.Equal(new[] { 0x0A000012 }, Tokens(il2));
    }
}
