#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "descent" lesson: dotnet run lessons/descent/descent.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/DescentLesson.cs.
NeuralPure.Lessons.DescentLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "descent"));
