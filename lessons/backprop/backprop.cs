#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "backprop" lesson: dotnet run lessons/backprop/backprop.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/BackpropLesson.cs.
NeuralPure.Lessons.BackpropLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "backprop"));
