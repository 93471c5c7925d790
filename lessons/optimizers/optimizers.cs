#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "optimizers" lesson: dotnet run lessons/optimizers/optimizers.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/OptimizersLesson.cs.
NeuralPure.Lessons.OptimizersLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "optimizers"));
