#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "conv" lesson: dotnet run lessons/conv/conv.cs
// The lesson's code, the part worth reading, is Pure.Lessons/ConvLesson.cs.
NeuralPure.Lessons.ConvLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "conv"));
