#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "loop" lesson: dotnet run lessons/loop/loop.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/LoopLesson.cs.
NeuralPure.Lessons.LoopLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "loop"));
