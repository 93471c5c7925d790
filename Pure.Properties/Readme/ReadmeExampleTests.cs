using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace NeuralPure.Properties.Readme;

/// <summary>The README's Pure.Core example is samples/CoreFold/Program.cs verbatim, and it trains.</summary>
[Collection("Console")]
public sealed class ReadmeExampleTests
{
    private static string RepoFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(string.Join('/', parts));
    }

    [Fact]
    public void Readme_core_example_is_the_sample_that_ci_builds()
    {
        var readme = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n");
        var sample = File.ReadAllText(RepoFile("samples", "CoreFold", "Program.cs")).Replace("\r\n", "\n").Trim();
        Assert.Contains("```csharp\n" + sample + "\n```", readme);
    }

    /// <summary>The kit's xunit example: its usings compile in the sample's tests (which use FsCheck and xunit as a user's do), and
    /// its two tests are there verbatim, so the form the README recommends is the one that runs.</summary>
    [Fact]
    public void Readme_kit_tests_are_the_samples_tests_verbatim()
    {
        var readme = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n");
        const string intro = "In your own xunit test, with FsCheck choosing the shapes and seeds";
        int at = readme.IndexOf(intro, StringComparison.Ordinal);
        Assert.True(at >= 0, "the README's kit example is gone");
        int open = readme.IndexOf("```csharp\n", at, StringComparison.Ordinal) + "```csharp\n".Length;
        var block = readme[open..readme.IndexOf("\n```", open, StringComparison.Ordinal)].Split('\n');
        var tests = File.ReadAllText(RepoFile("Pure.Properties", "Samples", "CustomOpsTests.cs")).Replace("\r\n", "\n");
        foreach (var name in block[0].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Assert.Contains(name + ";", tests);
        var body = string.Join('\n', block.Skip(2).Select(l => l.Length == 0 ? l : "    " + l));
        Assert.Contains(body, tests);
        // Each check throws its report: a property that returns .Passed fails with "Expected true, got false" and no report.
        Assert.Equal(Regex.Count(body, @"Verify\.\w+\("), Regex.Count(body, @"\.ThrowIfFailed\(\);"));
        Assert.DoesNotContain(".Passed", body);
    }

    /// <summary>The tolerance the README and docs/architecture.md state is the kit's (Verify.Step, Atol, Rtol), in their words.</summary>
    [Fact]
    public void The_documented_gradient_tolerance_is_the_kits()
    {
        static string E(double v)
        {
            int exponent = (int)Math.Round(Math.Log10(v));
            Assert.Equal(Math.Pow(10, exponent), v);   // the docs write powers of ten
            return $"1e{exponent}";
        }
        string rule = $"|a − n| ≤ {E(NeuralPure.Verification.Verify.Atol)} + {E(NeuralPure.Verification.Verify.Rtol)}·max(|a|, |n|)";
        static string Text(params string[] path) => Regex.Replace(File.ReadAllText(RepoFile(path)), @"\s+", " ");   // lines wrap anywhere
        Assert.Contains($"step h = {E(NeuralPure.Verification.Verify.Step)}; an element passes when {rule}", Text("README.md"));
        Assert.Contains($"(step {E(NeuralPure.Verification.Verify.Step)}; an element passes when {rule})", Text("docs", "architecture.md"));
    }

    [Fact]
    public void Readme_core_example_trains_and_is_reproducible()
    {
        string Run()
        {
            var entry = typeof(CoreFoldMarker).Assembly.EntryPoint!;
            var old = Console.Out;
            var w = new StringWriter();
            Console.SetOut(w);
            try { entry.Invoke(null, [Array.Empty<string>()]); }
            finally { Console.SetOut(old); }
            return w.ToString();
        }
        var first = Run();
        var lines = first.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(21, lines.Length);
        double Loss(string l) => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Loss(lines[19]) < 0.5 * Loss(lines[0]), first);
        Assert.Equal(first, Run());
    }

    [Fact]
    public void Readme_your_own_data_example_is_the_sample_and_predicts_the_classes_it_was_shown()
    {
        var readme = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n");
        var sample = File.ReadAllText(RepoFile("samples", "YourData", "Program.cs")).Replace("\r\n", "\n").Trim();
        Assert.Contains("## Your own data, in C#\n\n```csharp\n" + sample + "\n```", readme);
        Assert.True(sample.Split('\n').Length <= 14, "the example stays short");

        var dir = Path.Combine(Path.GetTempPath(), "np-yourdata-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var (old, cwd) = (Console.Out, Directory.GetCurrentDirectory());
        var w = new StringWriter();
        try
        {
            Directory.SetCurrentDirectory(dir);
            Console.SetOut(w);
            typeof(YourDataMarker).Assembly.EntryPoint!.Invoke(null, [Array.Empty<string>()]);
        }
        finally { Console.SetOut(old); Directory.SetCurrentDirectory(cwd); }
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("setosa, virginica", lines[0]);
        double p = double.Parse(lines[1].Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(p > 0.5, lines[1]);
        Assert.True(File.Exists(Path.Combine(dir, "iris-petals.safetensors")));
        Directory.Delete(dir, true);
    }

    /// <summary>The contents of the README's fenced block of <paramref name="language"/> whose first line starts with <paramref name="opening"/>.</summary>
    private static string ReadmeBlock(string language, string opening)
    {
        var readme = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n");
        int start = readme.IndexOf($"```{language}\n{opening}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the README has a ```{language} block opening with '{opening}'");
        start += language.Length + 4;
        return readme[start..readme.IndexOf("\n```", start, StringComparison.Ordinal)];
    }

    /// <summary>The README's two kit tests ("these two run in Pure.Properties/Samples/CustomOpsTests.cs") are in that file as
    /// written, less their indentation, and that file has every using the README's block starts with.</summary>
    [Fact]
    public void Readme_kit_tests_are_the_ones_custom_ops_tests_run()
    {
        var block = ReadmeBlock("csharp", "using FsCheck;").Split('\n');
        var tests = File.ReadAllText(RepoFile("Pure.Properties", "Samples", "CustomOpsTests.cs")).Replace("\r\n", "\n");
        foreach (var u in block[0].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Assert.Contains(u + ";\n", tests);
        var unindented = string.Join("\n", tests.Split('\n').Select(l => l.StartsWith("    ", StringComparison.Ordinal) ? l[4..] : l));
        Assert.Contains(string.Join("\n", block.Skip(1)).Trim(), unindented);
    }

    /// <summary>The kit report the README shows is what <c>Verify.Layer</c> reports for the sample's RMSNorm, line for line.</summary>
    [Fact]
    public void Readme_kit_report_is_what_the_kit_reports_for_the_samples_rms_norm()
    {
        var block = ReadmeBlock("text", "layer rms-norm");
        var report = NeuralPure.Verification.Verify.Layer(new CustomOps.RmsNormSpec(6), NeuralPure.Tensors.Shape.Of(6)).ToString().Replace("\r\n", "\n").TrimEnd();
        Assert.Equal(block, report);
    }

    /// <summary>The README's one-line snippets (weight decay on some parameters, parameter groups, a registry of user kinds) are
    /// in the README as written here, and written here they compile and train a step on a two-layer MLP.</summary>
    [Fact]
    public void Readme_one_line_snippets_compile_and_train()
    {
        var readme = File.ReadAllText(RepoFile("README.md"));
        Assert.Contains("`Optimizer.WithoutDecayOn(Optimizer.AdamW(), ParamMask.Matching(\"bias\"))`", readme);
        Assert.Contains("`Optimizer.Groups((ParamMask.Matching(\"0.*\"), Optimizer.Sgd(0.1)), (ParamMask.All, Optimizer.AdamW(0.01)))`", readme);
        Assert.Contains("`var kinds = KindRegistry.BuiltIn.WithLayer<SwishSpec>(\"swish\").WithLoss<L1Spec>(\"user-l1\").WithState(typeof(LionState<>), \"user-lion\");`", readme);

        var noDecay = NeuralPure.Optimizers.Optimizer.WithoutDecayOn(NeuralPure.Optimizers.Optimizer.AdamW(), NeuralPure.Optimizers.ParamMask.Matching("bias"));
        var groups = NeuralPure.Optimizers.Optimizer.Groups((NeuralPure.Optimizers.ParamMask.Matching("0.*"), NeuralPure.Optimizers.Optimizer.Sgd(0.1)),
            (NeuralPure.Optimizers.ParamMask.All, NeuralPure.Optimizers.Optimizer.AdamW(0.01)));
        var kinds = NeuralPure.Facade.Models.KindRegistry.BuiltIn.WithLayer<CustomOps.SwishSpec>("swish").WithLoss<CustomOps.L1Spec>("user-l1").WithState(typeof(CustomOps.LionState<>), "user-lion");
        Assert.NotNull(kinds);

        var spec = NeuralPure.Models.ModelSpec.Mlp([2, 4, 2], new NeuralPure.Layers.ReluSpec(), new NeuralPure.Losses.SoftmaxCrossEntropySpec());
        var batch = new NeuralPure.Models.Batch<float>(NeuralPure.Tensors.NdArray.Matrix(new float[,] { { 1, 2 }, { -1, 0.5f } }), NeuralPure.Tensors.NdArray.Vector(0f, 1f));
        foreach (var opt in new[] { noDecay, groups })
        {
            var state = NeuralPure.Training.Trainer.Init<float>(spec, opt, NeuralPure.Random.RandomKey.FromSeed(1));
            var (next, _) = NeuralPure.Training.Trainer.Step(spec, opt, state, batch);
            Assert.Equal(1, next.Step);
            Assert.False(next.Params.Equals(state.Params), "the step moved the parameters");
        }
    }
}
