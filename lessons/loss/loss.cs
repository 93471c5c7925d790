#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "loss" lesson: dotnet run lessons/loss/loss.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/LossLesson.cs.
NeuralPure.Lessons.LossLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "loss"));
