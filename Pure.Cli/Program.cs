namespace NeuralPure.Cli; public static class Program { public static int Main(string[] args) { System.Console.WriteLine("neuralpure"); return 0; } }
