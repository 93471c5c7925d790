// Pure.Bench.Aot first-step <config>: what `Pure.Bench first-step <config>` prints, from a NativeAOT build (see the csproj).
if (args.Length == 2 && args[0] == "first-step") return NeuralPure.Bench.Report.FirstStepChild.Run(args[1]);
Console.Error.WriteLine("usage: Pure.Bench.Aot first-step <a|b|c|d|cnn>");
return 2;
