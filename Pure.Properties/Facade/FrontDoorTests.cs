using NeuralPure.Facade.Models;
using NeuralPure.Facade.Networks;
using NeuralPure.Facade.Training;
using NeuralPure.Losses;
using Xunit;

namespace NeuralPure.Properties.Facade;

/// <summary>A C# user's first program: the builder by names, arrays in, predictions out, and every mistake refused before training.</summary>
public sealed class FrontDoorTests
{
    /// <summary>Three blobs in the plane, labelled by <paramref name="label"/>.</summary>
    private static (double[,] X, T[] Y) Blobs<T>(Func<int, T> label, int perClass = 20, int seed = 1, double spread = 1)
    {
        var rng = new System.Random(seed);
        var x = new double[3 * perClass, 2];
        var y = new T[3 * perClass];
        for (int i = 0; i < y.Length; i++)
        {
            int c = i % 3;
            x[i, 0] = 4 * c + spread * rng.NextDouble(); x[i, 1] = -3 * c + spread * rng.NextDouble();
            y[i] = label(c);
        }
        return (x, y);
    }

    private static readonly FitOptions Quick = new(Epochs: 60, BatchSize: 8, Seed: 3);

    [Fact]
    public void Output_takes_the_loss_by_name_and_checks_it_against_the_width()
    {
        Assert.Equal(Network.Input(4).Dense(8, "relu").Output(3, new SoftmaxCrossEntropySpec()), Network.Input(4).Dense(8, "relu").Output(3, "cross-entropy"));
        Assert.Equal(Network.Input(4).Output(1, new MseSpec()), Network.Input(4).Output(1, "mse"));
        var e = Assert.Throws<ArgumentException>(() => Network.Input(4).Dense(8).Output(1, "cross-entropy"));
        Assert.Contains("Output(1, cross-entropy): cross-entropy needs at least 2 classes (outputs), got 1", e.Message);
        Assert.Contains("cross-entropy", Assert.Throws<ArgumentException>(() => Network.Input(4).Output(3, "crossentropy")).Message); // lists the known names
        Assert.Throws<ArgumentOutOfRangeException>(() => Network.Input(4).Output(0, "mse"));
    }

    [Fact]
    public void String_labels_train_and_predict_their_names_and_probabilities_also_after_a_file_round_trip()
    {
        string[] names = ["cat", "dog", "emu"];
        var (x, y) = Blobs(c => names[c]);
        var fit = Fitter.Fit(Network.Input(2).Dense(16, "tanh").Output(3, "cross-entropy"), x, y, Quick);
        Assert.Equal(names, fit.Model.ClassNames);
        Assert.Equal(y, fit.PredictClasses(x));
        var p = fit.PredictProba(x);
        for (int i = 0; i < y.Length; i++) Assert.Equal(1.0, p[i, 0] + p[i, 1] + p[i, 2], 5);

        var file = Path.Combine(Path.GetTempPath(), $"np-front-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModelFile.Save(file, fit.Model);
            var (loaded, _) = ModelFile.Load(file);
            Assert.Equal(names, loaded.ClassNames);
            Assert.Equal(fit.PredictClasses(x), loaded.PredictClasses(x));
            Assert.Equal(p, loaded.PredictProba(x));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Int_labels_are_their_distinct_values_and_string_and_int_labels_give_the_same_bits()
    {
        var (x, y) = Blobs(c => 7 + 2 * c); // 7, 9, 11
        var spec = Network.Input(2).Dense(8).Output(3, "cross-entropy");
        var fit = Fitter.Fit(spec, x, y, Quick);
        Assert.Equal(new[] { "7", "9", "11" }, fit.Model.ClassNames.ToArray());
        var predicted = fit.Predict(x);
        Assert.True(y.Where((v, i) => predicted[i] == (v - 7) / 2).Count() >= 0.9 * y.Length); // class k is the k-th smallest label
        Assert.All(predicted, v => Assert.Contains(v, new[] { 0.0, 1.0, 2.0 }));
        var asText = Fitter.Fit(spec, x, y.Select(v => ((char)('a' + (v - 7) / 2)).ToString()).ToArray(), Quick);
        Assert.Equal(fit.Model.ParameterHash(), asText.Model.ParameterHash());
    }

    [Fact]
    public void Regression_on_arrays_predicts_in_the_targets_units()
    {
        var rng = new System.Random(5);
        var x = new double[80, 1];
        var y = new double[80];
        for (int i = 0; i < 80; i++) { x[i, 0] = rng.NextDouble() * 10; y[i] = 1000 + 50 * x[i, 0]; }
        var fit = Fitter.Fit(Network.Input(1).Output(1, "mse"), x, y, new FitOptions(Epochs: 200, BatchSize: 16), NeuralPure.Optimizers.Optimizer.Adam(0.05));
        var pred = fit.Predict(new double[,] { { 2 }, { 8 } });
        Assert.Equal(1100, pred[0], 0);
        Assert.Equal(1400, pred[1], 0);
    }

    [Fact]
    public void Mistakes_are_refused_before_training_naming_the_argument_and_the_row()
    {
        var (x, y) = Blobs(c => c);
        var three = Network.Input(2).Dense(8).Output(3, "cross-entropy");
        Assert.Contains("the model outputs 2 values but y has 3 classes [0, 1, 2]; end it with Output(3, \"cross-entropy\")",
            Assert.Throws<ArgumentException>(() => Fitter.Fit(Network.Input(2).Output(2, "cross-entropy"), x, y)).Message);
        Assert.Contains("the model takes 3 features but x has 2 columns", Assert.Throws<ArgumentException>(() => Fitter.Fit(Network.Input(3).Output(3, "cross-entropy"), x, y)).Message);
        var bad = (double[,])x.Clone(); bad[25, 1] = double.NaN;
        Assert.Contains("x[25, 1] is NaN", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, bad, y)).Message);
        Assert.Contains("x has 60 rows but y has 59 values", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y[..59])).Message);
        var labels = y.Select(v => v.ToString()).ToArray(); labels[7] = null!;
        Assert.Contains("y[7] is null", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, labels)).Message);
        Assert.Contains("validationY[1] is '5', which is not one of the training classes [0, 1, 2]",
            Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y, validationX: x, validationY: [0, 5, .. y[2..]])).Message);
        Assert.Contains("takes class labels; give y as int[] or string[]", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y.Select(v => (double)v).ToArray())).Message);
        Assert.Contains("does not take class labels", Assert.Throws<ArgumentException>(() => Fitter.Fit(Network.Input(2).Output(1, "mse"), x, y)).Message);
        Assert.Contains("early stopping watches the validation loss",
            Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y, new FitOptions(EarlyStopping: new EarlyStopping(3)))).Message);
        Assert.Contains("the model takes 2 features", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y, Quick).Predict(new double[2, 3])).Message);
        // validation labels without validation rows would be ignored: refused, in every overload
        var noRows = Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, y, Quick, validationY: y));
        Assert.Equal("validationX", noRows.ParamName);
        Assert.Contains("validationY needs validationX", noRows.Message);
        Assert.Equal("validationX", Assert.Throws<ArgumentException>(() => Fitter.Fit(three, x, labels.Select(l => l ?? "0").ToArray(), Quick, validationY: ["0"])).ParamName);
        var reg = Network.Input(2).Dense(4).Output(1, "mse");
        Assert.Equal("validationX", Assert.Throws<ArgumentException>(() => Fitter.Fit(reg, x, y.Select(v => (double)v).ToArray(), Quick, validationY: [1.0])).ParamName);
        // no rows: said as such, not as a class count
        var empty = Assert.Throws<ArgumentException>(() => Fitter.Fit(three, new double[0, 2], Array.Empty<int>()));
        Assert.Contains("x has 0 rows and y 0 labels; a fit needs at least one row", empty.Message);
        // bce takes 0/1 targets per output, which no array overload takes: refused up front, not on a standardized value
        var bce = Network.Input(2).Dense(4).Output(1, "bce");
        foreach (var call in new Action[] { () => Fitter.Fit(bce, x, y), () => Fitter.Fit(bce, x, labels.Select(l => l ?? "0").ToArray()), () => Fitter.Fit(bce, x, y.Select(v => v == 0 ? 0.0 : 1.0).ToArray()) })
        {
            var e = Assert.Throws<ArgumentException>(call);
            Assert.Equal("spec", e.ParamName);
            Assert.Contains("the model's loss 'bce' takes 0/1 targets per output, which these array overloads do not", e.Message);
        }
    }

    [Fact]
    public void A_trained_model_made_of_parts_that_do_not_fit_is_refused_when_made_not_at_its_first_prediction()
    {
        var (x, y) = Blobs(c => c);
        var m = Fitter.Fit(Network.Input(2).Dense(4).Output(3, "cross-entropy"), x, y, Quick).Model;
        var other = Fitter.Fit(Network.Input(2).Dense(5).Output(3, "cross-entropy"), x, y, Quick).Model;
        Assert.Equal("Parameters", Assert.Throws<ArgumentException>(() => new TrainedModel(m.Spec, other.Parameters, m.Standardizer, m.Task, m.Classes, m.FeatureNames, m.TargetName)).ParamName);
        Assert.Equal("Parameters", Assert.Throws<ArgumentException>(() => m with { Parameters = other.Parameters }).ParamName);
        var zero = m.Standardizer with { Scale = [1.0, 0.0] };
        var e = Assert.Throws<ArgumentException>(() => m with { Standardizer = zero });
        Assert.Equal("Standardizer", e.ParamName);
        Assert.Contains("feature 1 has mean", e.Message);
        Assert.Contains("has 3 means and 3 scales for a model that takes 2 features",
            Assert.Throws<ArgumentException>(() => m with { Standardizer = new NeuralPure.Facade.Training.Standardizer([0, 0, 0], [1, 1, 1]) }).Message);
        Assert.Contains("3 feature names for a model that takes 2 features", Assert.Throws<ArgumentException>(() => m with { FeatureNames = ["a", "b", "c"] }).Message);
        // what fits still goes in
        Assert.Equal(m.Predict(x), (m with { FeatureNames = ["u", "v"] }).Predict(x));
    }

    [Fact]
    public void Early_stopping_with_validation_arrays_restores_the_best_epoch()
    {
        var (x, y) = Blobs(c => c, seed: 2, spread: 12); // overlapping: the validation loss bottoms out
        var (vx, vy) = Blobs(c => c, perClass: 10, seed: 9, spread: 12);
        var fit = Fitter.Fit(Network.Input(2).Dense(32).Output(3, "cross-entropy"), x, y, new FitOptions(Epochs: 400, BatchSize: 8, EarlyStopping: new EarlyStopping(2)),
            validationX: vx, validationY: vy);
        Assert.Equal(FitStatus.EarlyStopped, fit.Outcome.Status);
        Assert.True(fit.Outcome.BestEpoch < fit.Outcome.History.Length);
    }

    [Fact]
    public void A_bad_target_in_a_data_set_is_named_by_its_row_before_any_step()
    {
        var spec = Network.Input(2).Dense(4).Output(3, "cross-entropy");
        var x = NeuralPure.Tensors.NdArray.FromRows<float>([.. Enumerable.Range(0, 40).Select(i => (IReadOnlyList<float>)new float[] { i, -i })]);
        var labels = Enumerable.Range(0, 40).Select(i => (float)(i % 3)).ToArray();
        labels[25] = 3;
        var data = new NeuralPure.Training.DataSet<float>(x, NeuralPure.Tensors.NdArray.Vector(labels));
        var e = Assert.Throws<ArgumentException>(() => Fitter.Fit(spec, NeuralPure.Optimizers.Optimizer.Adam(), data, null, new FitOptions(Epochs: 1)));
        Assert.Contains("the training targets do not suit the loss 'cross-entropy': label 3 in row 25 is outside [0, 3)", e.Message);
        var core = Assert.Throws<ArgumentException>(() => NeuralPure.Training.Trainer.Fit(spec, NeuralPure.Optimizers.Optimizer.Adam(),
            NeuralPure.Training.Trainer.Init<float>(spec, NeuralPure.Optimizers.Optimizer.Adam(), NeuralPure.Random.RandomKey.FromSeed(1)), data, new NeuralPure.Training.TrainConfig(8, 1)));
        Assert.Contains("label 3 in row 25", core.Message);

        var reg = Network.Input(2).Output(1, "mse");
        var values = Enumerable.Range(0, 40).Select(i => (float)i).ToArray();
        values[31] = float.NaN;
        var e2 = Assert.Throws<ArgumentException>(() => Fitter.Fit(reg, NeuralPure.Optimizers.Optimizer.Adam(), new NeuralPure.Training.DataSet<float>(x, NeuralPure.Tensors.NdArray.Vector(values).Reshape(40, 1)), null, new FitOptions(Epochs: 1)));
        Assert.Contains("the target in row 31 is NaN", e2.Message);
    }
}
