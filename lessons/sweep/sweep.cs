#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "sweep" lesson: dotnet run lessons/sweep/sweep.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/SweepLesson.cs.
NeuralPure.Lessons.SweepLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "sweep"));
