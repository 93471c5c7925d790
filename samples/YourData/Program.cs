using NeuralPure.Facade.Models; using NeuralPure.Facade.Networks; using NeuralPure.Facade.Training;

double[,] x = { { 1.4, 0.2 }, { 1.5, 0.2 }, { 1.3, 0.4 }, { 1.7, 0.3 }, { 4.7, 1.4 }, { 4.5, 1.5 }, { 4.0, 1.3 }, // your rows: petal
                { 3.9, 1.1 }, { 6.0, 2.5 }, { 5.1, 1.9 }, { 5.9, 2.1 }, { 5.6, 1.8 } };                              // length, width (cm)
string[] y = { "setosa", "setosa", "setosa", "setosa", "versicolor", "versicolor", "versicolor", "versicolor",
               "virginica", "virginica", "virginica", "virginica" };                                             // and their labels

var spec = Network.Input(2).Dense(16, "relu").Output(3, "cross-entropy");
var fit = Fitter.Fit(spec, x, y, new FitOptions(Epochs: 500, BatchSize: 4));     // standardizes, trains with Adam, keeps both
Console.WriteLine(string.Join(", ", fit.PredictClasses(new double[,] { { 1.5, 0.3 }, { 5.7, 2.2 } })));
ModelFile.Save("iris-petals.safetensors", fit.Model);                             // class names and standardization included
var (model, _) = ModelFile.Load("iris-petals.safetensors");
Console.WriteLine($"versicolor with probability {model.PredictProba(new double[,] { { 4.4, 1.4 } })[0, 1]:F2}");
