#:project ../../Pure.Lessons/Pure.Lessons.csproj
// Runs the "diagnose" lesson: dotnet run lessons/diagnose/diagnose.cs [plot folder]
// The lesson's code, the part worth reading, is Pure.Lessons/DiagnoseLesson.cs.
NeuralPure.Lessons.DiagnoseLesson.Run(Console.Out, args.Length > 0 ? args[0] : Path.Combine("runs", "lessons", "diagnose"));
