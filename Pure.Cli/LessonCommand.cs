using System.CommandLine;
using NeuralPure.Lessons;

namespace NeuralPure.Cli;

/// <summary><c>neuralpure lesson [name]</c>: lists the lessons of "How training works", or runs one (lessons/&lt;name&gt;/README.md explains it).</summary>
internal static class LessonCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("name") { Description = "The lesson to run (omit to list them)", Arity = ArgumentArity.ZeroOrOne };
        var outDir = new Option<string?>("--out") { Description = "Where the lesson writes its plots (default: runs/lessons/<name>)" };
        var cmd = new Command("lesson", "Run a lesson of \"How training works\" (loss, backprop, descent, loop, optimizers, diagnose, conv, sweep); without a name, list them")
        {
            name, outDir,
        };
        cmd.SetAction(p =>
        {
            var requested = p.GetValue(name);
            if (string.IsNullOrWhiteSpace(requested))
            {
                Console.WriteLine("Lessons of \"How training works\" (each page is lessons/<name>/README.md):");
                foreach (var l in LessonCatalog.All) Console.WriteLine($"  {l.Name,-11} {l.Summary}");
                Console.WriteLine("Run one with: neuralpure lesson <name>");
                return 0;
            }
            var lesson = LessonCatalog.Find(requested)
                ?? throw new UsageException($"unknown lesson '{requested}'; known: {string.Join(", ", LessonCatalog.All.Select(l => l.Name))}");
            var folder = p.GetValue(outDir) ?? Path.Combine("runs", "lessons", lesson.Name);
            OutputPath.RequireFolder("--out", folder);
            lesson.Run(Console.Out, folder);
            if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.svg").Any())
                Console.WriteLine($"the plots are in {folder}");
            return 0;
        });
        return cmd;
    }
}
