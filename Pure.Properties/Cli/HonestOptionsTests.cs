using System.Text.Json.Nodes;
using Xunit;

namespace NeuralPure.Properties.Cli;

/// <summary>Options take effect or are refused (exit 2, one line naming the option), and run.json records what actually ran.</summary>
[Collection("Console")]
public sealed class HonestOptionsTests : IDisposable
{
    private readonly string _dir = CliRunner.TempDir();

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private string Out(string name) => Path.Combine(_dir, name);

    private (int Code, JsonNode? Record, string Err) Train(string name, params string[] extra)
    {
        var (code, stdout, err) = CliRunner.Run(["train", "--data", "iris", "--epochs", "2", "--out", Out(name), "--json", "--checkpoint-every", "0", .. extra]);
        return (code, code == 0 ? JsonNode.Parse(stdout) : null, err);
    }

    /// <summary>A usage error (exit 2) in one line holding <paramref name="message"/>, and no run folder made.</summary>
    private void RefusedBeforeTheFolder(string message, int code, string err)
    {
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(Out("x")));
    }

    private static string Hash(JsonNode r) => r["parameters"]!["sha256"]!.GetValue<string>();

    [Fact]
    public void Sgd_momentum_takes_effect_and_the_record_shows_the_chain_that_ran()
    {
        var (c1, plain, e1) = Train("plain", "--optimizer", "sgd", "--lr", "0.05");
        var (c2, momentum, e2) = Train("momentum", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9");
        var (c3, damped, e3) = Train("damped", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--dampening", "0.5");
        var (c4, nesterov, e4) = Train("nesterov", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--nesterov");
        Assert.True(c1 == 0 && c2 == 0 && c3 == 0 && c4 == 0, e1 + e2 + e3 + e4);
        Assert.Equal(4, new[] { plain!, momentum!, damped!, nesterov! }.Select(Hash).Distinct().Count());
        // the momentum alias is sgd with momentum 0.9: the same bits
        var (c5, alias, e5) = Train("alias", "--optimizer", "momentum", "--lr", "0.05");
        Assert.True(c5 == 0, e5);
        Assert.Equal(Hash(momentum!), Hash(alias!));

        var chain = damped!["optimizer"]!["transforms"]!.AsArray();
        Assert.Equal(["TraceMomentum", "ScaleByLearningRate"], chain.Select(t => t!["transform"]!.GetValue<string>()));
        Assert.Equal(0.9, chain[0]!["momentum"]!.GetValue<double>());
        Assert.Equal(0.5, chain[0]!["dampening"]!.GetValue<double>());
        Assert.False(chain[0]!["nesterov"]!.GetValue<bool>());
        Assert.Equal(0.05, chain[1]!["learningRate"]!["value"]!.GetValue<double>());
        Assert.True(nesterov!["optimizer"]!["transforms"]![0]!["nesterov"]!.GetValue<bool>());
        Assert.Equal(["ScaleByLearningRate"], plain!["optimizer"]!["transforms"]!.AsArray().Select(t => t!["transform"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("adam", "--momentum", "0.9")]
    [InlineData("adamw", "--momentum", "0.5")]
    [InlineData("rmsprop", "--dampening", "0.5")]
    [InlineData("nesterov", "--dampening", "0.5")]
    [InlineData("adam", "--nesterov", null)]
    public void An_option_the_optimizer_does_not_take_is_refused_naming_both(string optimizer, string option, string? value)
    {
        var (code, _, err) = Train("x", ["--optimizer", optimizer, option, .. value is null ? Array.Empty<string>() : [value]]);
        Assert.Equal(2, code);
        Assert.StartsWith($"neuralpure: {option} does not apply to --optimizer {optimizer}; it takes --lr", err.Trim());
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(Out("x")));
    }

    [Theory]
    [InlineData("--optimizer sgd --nesterov: Nesterov momentum requires a momentum > 0 (got 0)", "--optimizer", "sgd", "--nesterov")]
    [InlineData("--optimizer sgd --nesterov --momentum 0: Nesterov momentum requires a momentum > 0 (got 0)", "--optimizer", "sgd", "--nesterov", "--momentum", "0")]
    [InlineData("--optimizer nesterov --momentum 0: Nesterov momentum requires a momentum > 0 (got 0)", "--optimizer", "nesterov", "--momentum", "0")]
    [InlineData("requires zero dampening", "--optimizer", "sgd", "--momentum", "0.9", "--dampening", "0.1", "--nesterov")]
    [InlineData("dampening 0.5 has no effect without momentum", "--optimizer", "sgd", "--dampening", "0.5")]
    [InlineData("dampening 0.5 has no effect without momentum", "--optimizer", "momentum", "--momentum", "0", "--dampening", "0.5")]
    [InlineData("--dampening must be in [0, 1], got 2", "--optimizer", "sgd", "--momentum", "0.9", "--dampening", "2")]
    [InlineData("--early-stopping watches the validation loss, but --val-fraction is 0", "--early-stopping", "3", "--val-fraction", "0")]
    [InlineData("--activation acts on hidden layers, but --layers none is a linear model", "--layers", "none", "--activation", "tanh")]
    [InlineData("--activation acts on hidden layers, but --layers none is a linear model", "--layers", "none", "--activation", "relu")]
    [InlineData("--dropout acts on hidden layers, but --layers none is a linear model", "--layers", "none", "--dropout", "0.5")]
    [InlineData("--layers is empty", "--layers", "")]
    [InlineData("--layers is empty", "--layers", "  ")]
    [InlineData("--target sepal_length_cm: the bundled data set 'iris' predicts 'species'", "--target", "sepal_length_cm")]
    public void An_option_that_would_do_nothing_or_something_else_is_refused_with_the_reason(string message, params string[] args)
    {
        var (code, _, err) = Train("x", args);
        RefusedBeforeTheFolder(message, code, err);
    }

    /// <summary>More threads than processors is accepted (a config replays on a smaller machine, with the same bits), but the
    /// record's environment says how many ran, not how many were asked for: config.threads keeps that.</summary>
    [Fact]
    public void The_record_says_at_which_vector_width_the_products_ran()
    {
        var (code, record, err) = Train("vectors");
        Assert.True(code == 0, err);
        string vectors = record!["environment"]!["vectors"]!.GetValue<string>();
        Assert.Equal(NeuralPure.Kernels.KernelInfo.ProductVectors, vectors);
        Assert.Equal(NeuralPure.Kernels.Gemm.Resolve<float>(NeuralPure.Kernels.VectorWidth.Best) switch
        {
            NeuralPure.Kernels.VectorWidth.V512 => "V512", NeuralPure.Kernels.VectorWidth.V256 => "V256", NeuralPure.Kernels.VectorWidth.V128 => "V128", _ => "scalar",
        }, vectors);
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Assert.Equal("V512", vectors);
        else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported) Assert.Equal("V256", vectors);
    }

    /// <summary>The tests run under the JIT; .ci/aot checks that a native build's record says "NativeAOT".</summary>
    [Fact]
    public void The_record_says_how_the_code_that_ran_was_compiled()
    {
        var (code, record, err) = Train("compiled");
        Assert.True(code == 0, err);
        Assert.Equal("JIT", record!["environment"]!["compiled"]!.GetValue<string>());
    }

    [Fact]
    public void More_threads_than_processors_are_recorded_as_the_threads_that_ran()
    {
        int asked = Environment.ProcessorCount + 3;
        var (c1, many, e1) = Train("many", "--threads", asked.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (c2, all, e2) = Train("all", "--threads", "0");
        Assert.True(c1 == 0 && c2 == 0, e1 + e2);
        Assert.Equal(asked, many!["config"]!["threads"]!.GetValue<int>());
        Assert.Equal(Environment.ProcessorCount, many["environment"]!["threads"]!.GetValue<int>());
        Assert.Equal(Environment.ProcessorCount, many["environment"]!["processors"]!.GetValue<int>());
        Assert.Equal(Environment.ProcessorCount, all!["environment"]!["threads"]!.GetValue<int>());
        Assert.Equal(Hash(many), Hash(all));

        var (code, stdout, err) = CliRunner.Run(["train", "--data", "iris", "--epochs", "1", "--out", Out("text"), "--checkpoint-every", "0", "--threads", asked.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(code == 0, err);
        Assert.Contains($"note: --threads {asked}: this machine has {Environment.ProcessorCount} processors, so the kernels run on {Environment.ProcessorCount} threads", stdout);
        var (code1, stdout1, err1) = CliRunner.Run(["train", "--data", "iris", "--epochs", "1", "--out", Out("one"), "--checkpoint-every", "0", "--threads", "1"]);
        Assert.True(code1 == 0, err1);
        Assert.DoesNotContain("--threads", stdout1);
    }

    /// <summary>A batch larger than the training split is what Keras and a PyTorch DataLoader do with it, one batch of all the
    /// rows an epoch; train says so, and the record's history shows one iteration an epoch.</summary>
    [Fact]
    public void A_batch_larger_than_the_training_rows_is_said_to_be_one_batch_of_them()
    {
        var (code, stdout, err) = CliRunner.Run(["train", "--data", "iris", "--epochs", "2", "--out", Out("big"), "--checkpoint-every", "0", "--batch-size", "1000"]);
        Assert.True(code == 0, err);
        Assert.Contains("iris: note: --batch-size 1000 is more than the 105 training rows, so each epoch is one batch of 105", stdout);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(Out("big"), "run.json")))!;
        Assert.All(record["history"]!.AsArray(), e => Assert.Equal(1, e!["iterations"]!.GetValue<int>()));
        var (code2, stdout2, err2) = CliRunner.Run(["train", "--data", "iris", "--epochs", "1", "--out", Out("fits"), "--checkpoint-every", "0", "--batch-size", "105"]);
        Assert.True(code2 == 0, err2);
        Assert.DoesNotContain("--batch-size", stdout2);
    }

    [Fact]
    public void A_linear_model_is_asked_for_by_name()
    {
        var (code, r, err) = Train("linear", "--layers", "none");
        Assert.True(code == 0, err);
        Assert.Equal(15, r!["parameters"]!["count"]!.GetValue<int>()); // 4 features → 3 classes: 4·3 + 3
    }

    [Fact]
    public void The_record_names_the_build_and_the_data_as_given_and_as_resolved()
    {
        var csv = Path.Combine(_dir, "tiny.csv");
        File.WriteAllLines(csv, ["a,b,y", .. Enumerable.Range(0, 40).Select(i => $"{i % 7},{i % 5},{i % 2}")]);
        var cwd = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(_dir);
            var (code, stdout, err) = CliRunner.Run("train", "--data", "tiny.csv", "--epochs", "1", "--out", Out("csv"), "--json", "--checkpoint-every", "0");
            Assert.True(code == 0, err);
            var data = JsonNode.Parse(stdout)!["data"]!;
            Assert.Equal("tiny.csv", data["given"]!.GetValue<string>());
            Assert.Equal(Path.GetFullPath(csv), data["resolved"]!.GetValue<string>());
        }
        finally { Directory.SetCurrentDirectory(cwd); }

        var (c2, bundled, e2) = Train("bundled");
        Assert.True(c2 == 0, e2);
        Assert.Equal("iris", bundled!["data"]!["given"]!.GetValue<string>());
        Assert.Equal("bundled:iris", bundled!["data"]!["resolved"]!.GetValue<string>());
        var build = bundled!["neuralpure"]!;
        Assert.Matches(@"^\d+\.\d+\.\d+", build["version"]!.GetValue<string>());
        // built from a git checkout (as CI and every from-source user): the full commit id, and whether the tree was modified
        Assert.Matches("^[0-9a-f]{40}$", build["commit"]!.GetValue<string>());
        Assert.NotNull(build["modified"]);
    }

    [Fact]
    public void Early_stopping_is_announced_with_the_epoch_it_restored_and_recorded()
    {
        var (code, stdout, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "300", "--lr", "0.05", "--early-stopping", "3", "--out", Out("es"), "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"early stopping after epoch (\d+): the validation loss had not improved for 3 epochs; restored the parameters of epoch (\d+) \(validation loss ");
        Assert.True(m.Success, stdout);
        int stopped = int.Parse(m.Groups[1].Value), restored = int.Parse(m.Groups[2].Value);
        Assert.True(stopped < 300 && restored == stopped - 3, stdout);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(Out("es"), "run.json")))!;
        Assert.Equal("early-stopped", record["status"]!.GetValue<string>());
        Assert.Equal(restored, record["earlyStopping"]!["restoredEpoch"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("digits", "200")]
    [InlineData("iris", "150")]
    [InlineData("breast-cancer", "100")]
    public void Gradcheck_uses_pytorchs_rule_and_passes_on_many_rows(string data, string rows)
    {
        var (code, stdout, err) = CliRunner.Run("gradcheck", "--data", data, "--rows", rows);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("rule: |backprop - numeric| <= 1e-5 + 1e-3·|numeric|", stdout);
        Assert.Matches(@"ok: all \d+ gradients agree", stdout);
    }

    [Fact]
    public void New_optimizers_no_decay_and_accumulation_take_effect_and_the_record_shows_them()
    {
        var (c1, adagrad, e1) = Train("adagrad", "--optimizer", "adagrad", "--lr", "0.05", "--lr-decay", "0.01");
        var (c2, lion, e2) = Train("lion", "--optimizer", "lion", "--lr", "3e-4", "--weight-decay", "0.1");
        var (c3, adamw, e3) = Train("adamw", "--optimizer", "adamw");
        var (c4, masked, e4) = Train("masked", "--optimizer", "adamw", "--no-decay", "bias");
        var (c5, acc, e5) = Train("acc", "--accumulate", "2", "--batch-size", "16");
        Assert.True(c1 + c2 + c3 + c4 + c5 == 0, e1 + e2 + e3 + e4 + e5);
        Assert.Equal(5, new[] { adagrad!, lion!, adamw!, masked!, acc! }.Select(Hash).Distinct().Count());
        string Kinds(JsonNode r) => string.Join(",", r["optimizer"]!["transforms"]!.AsArray().Select(t => t!["transform"]!.GetValue<string>()));
        Assert.Equal("ScaleByAdagrad,ScaleByLearningRate", Kinds(adagrad!));
        Assert.Equal("InverseTimeDecay", adagrad!["optimizer"]!["transforms"]![1]!["learningRate"]!["schedule"]!.GetValue<string>());
        Assert.Equal("ScaleByLion,AddDecayedWeights,ScaleByLearningRate", Kinds(lion!));
        Assert.Equal("ScaleByAdam,Masked,ScaleByLearningRate", Kinds(masked!));
        Assert.Equal("MultiSteps", acc!["optimizer"]!["transform"]!.GetValue<string>());
        Assert.Equal(2, acc!["optimizer"]!["every"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("--no-decay bias would do nothing: --optimizer adam has no weight decay here; give --weight-decay", "--no-decay", "bias")]
    [InlineData("--no-decay foo matches no parameter; the parameters are 0.weight, 0.bias, 2.weight, 2.bias", "--optimizer", "adamw", "--no-decay", "foo")]
    [InlineData("--no-decay is empty", "--optimizer", "adamw", "--no-decay", ",")]
    [InlineData("--accumulate must be ≥ 1", "--accumulate", "0")]
    [InlineData("--lr-decay does not apply to --optimizer adam", "--lr-decay", "0.1")]
    [InlineData("--momentum does not apply to --optimizer lion", "--optimizer", "lion", "--momentum", "0.9")]
    [InlineData("--label-smoothing must be in [0, 1], got 1.5", "--label-smoothing", "1.5")]
    [InlineData("--label-smoothing must be in [0, 1], got -0.1", "--label-smoothing", "-0.1")]
    [InlineData("--label-smoothing applies to --loss cross-entropy, not huber", "--label-smoothing", "0.1", "--loss", "huber")]
    public void Options_that_would_do_nothing_or_are_out_of_range_are_refused(string message, params string[] args)
    {
        var (code, _, err) = Train("x", args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(Out("x")));
    }

    [Fact]
    public void Label_smoothing_takes_effect_on_cross_entropy_and_the_record_shows_it()
    {
        var (c1, plain, e1) = Train("plain");
        var (c2, smooth, e2) = Train("smooth", "--label-smoothing", "0.1");
        Assert.True(c1 + c2 == 0, e1 + e2);
        Assert.NotEqual(Hash(plain!), Hash(smooth!));
        Assert.Equal(0.1, smooth!["config"]!["labelSmoothing"]!.GetValue<double>());
        Assert.Equal(0.1, smooth["model"]!["loss"]!["labelSmoothing"]!.GetValue<double>());
        // --label-smoothing 0 is the default: the same bits
        var (c3, zero, e3) = Train("zero", "--label-smoothing", "0");
        Assert.True(c3 == 0, e3);
        Assert.Equal(Hash(plain!), Hash(zero!));
    }

    [Fact]
    public void An_arch_with_batch_norm_trains_saves_its_running_statistics_replays_and_evaluates()
    {
        var (code, r, err) = Train("bn", "--arch", "dense(16),batchnorm,relu,dropout(0.1),dense(8),layernorm,silu", "--lr", "0.01");
        Assert.True(code == 0, err);
        Assert.Equal(["dense", "batch-norm", "relu", "dropout", "dense", "layer-norm", "silu", "dense"], r!["model"]!["layers"]!.AsArray().Select(l => l!["kind"]!.GetValue<string>()));
        var (model, _) = NeuralPure.Facade.Models.ModelFile.Load(Path.Combine(Out("bn"), "model.safetensors"));
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked"], model.LayerState.Names.ToArray());
        Assert.NotEqual(0f, model.LayerState[2][0]); // batches were counted
        Assert.Equal("identical", CliRunner.Run("replay", Out("bn")).Out.Trim());
        var (c2, s2, e2) = CliRunner.Run("evaluate", Out("bn"));
        Assert.True(c2 == 0, e2);
        Assert.Contains("accuracy", s2);
        var (c3, _, e3) = Train("both", "--arch", "dense(16),relu", "--layers", "8");
        Assert.Equal(2, c3);
        Assert.Contains("--layers describes the MLP, but --arch gives the whole model", e3);
    }

    [Fact]
    public void A_cnn_on_idx_images_trains_evaluates_its_test_split_as_recorded_predicts_and_replays()
    {
        var folder = NeuralPure.Facade.Data.BundledDataSets.FindFashionMnistFolder();
        string images = Path.Combine(folder, NeuralPure.Facade.Data.BundledDataSets.FashionMnistImagesFile), labels = Path.Combine(folder, NeuralPure.Facade.Data.BundledDataSets.FashionMnistLabelsFile);
        var (code, stdout, err) = CliRunner.Run("train", "--data", images, "--labels", labels, "--arch", "conv(4,3,stride=2),batchnorm,relu,maxpool(2),flatten",
            "--epochs", "1", "--out", Out("cnn"), "--json", "--checkpoint-every", "0");
        Assert.True(code == 0, err);
        var record = JsonNode.Parse(stdout)!;
        Assert.Equal(["conv2d", "batch-norm", "relu", "maxpool2d", "flatten", "dense"], record["model"]!["layers"]!.AsArray().Select(l => l!["kind"]!.GetValue<string>()));
        Assert.Equal([1, 28, 28], record["model"]!["inputShape"]!.AsArray().Select(d => d!.GetValue<int>()));
        var (c2, s2, e2) = CliRunner.Run("evaluate", Out("cnn"));
        Assert.True(c2 == 0, e2);
        Assert.Contains($"accuracy {record["test"]!["accuracy"]!.GetValue<double>():F4}", s2);
        var (c3, _, e3) = CliRunner.Run("predict", "--model", Path.Combine(Out("cnn"), "model.safetensors"), "--data", images, "--labels", labels, "--out", Out("p.csv"));
        Assert.True(c3 == 0, e3);
        Assert.Equal(10_001, File.ReadAllLines(Out("p.csv")).Length);
        Assert.Equal("identical", CliRunner.Run("replay", Out("cnn")).Out.Trim());
    }
    [Theory]
    [InlineData("--lr", "0,001")]
    [InlineData("--lr", "1,5")]
    [InlineData("--weight-decay", "0,05", "--optimizer", "adamw")]
    [InlineData("--momentum", "0,9", "--optimizer", "sgd")]
    [InlineData("--dampening", "0,5", "--optimizer", "sgd", "--momentum", "0.9")]
    [InlineData("--lr-decay", "0,01", "--optimizer", "adagrad")]
    [InlineData("--clip-norm", "1,5")]
    [InlineData("--dropout", "0,1")]
    [InlineData("--label-smoothing", "0,1")]
    [InlineData("--val-fraction", "0,2")]
    [InlineData("--test-fraction", "0,2")]
    public void A_decimal_comma_is_refused_naming_the_option_not_read_as_a_thousands_separator(string option, string value, params string[] more)
    {
        var (code, _, err) = Train("x", [option, value, .. more]);
        RefusedBeforeTheFolder($"{option}: '{value}' is not a number (use a '.' for decimals)", code, err);
    }

    [Fact]
    public void Every_decimal_option_of_train_reads_a_point_and_refuses_a_comma()
    {
        var train = NeuralPure.Cli.TrainCommand.Create();
        var decimals = train.Options.Where(o => o.ValueType == typeof(double) || o.ValueType == typeof(double?)).ToList();
        Assert.True(decimals.Count >= 10, string.Join(", ", decimals.Select(o => o.Name)));
        foreach (var o in decimals)
        {
            var refused = train.Parse([o.Name, "0,25"]);
            Assert.True(refused.Errors.Count == 1 && refused.Errors[0].Message == $"{o.Name}: '0,25' is not a number (use a '.' for decimals)",
                $"{o.Name}: {string.Join("; ", refused.Errors.Select(e => e.Message))}");
            Assert.Contains("is not a number", Assert.Single(train.Parse([o.Name, "abc"]).Errors).Message);
            foreach (var text in new[] { "0.25", "2.5e-1", "+0.25" })
            {
                var read = train.Parse([o.Name, text]);
                Assert.Empty(read.Errors);
                Assert.Equal(0.25, Convert.ToDouble(read.GetResult(o)!.GetValueOrDefault<object>(), System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        // not given: the defaults, untouched by the parser
        var none = train.Parse([]);
        Assert.Empty(none.Errors);
        Assert.Equal(1e-3, none.GetValue(NeuralPure.Cli.TrainCommand.Lr));
        Assert.Equal(0.1, none.GetValue(NeuralPure.Cli.TrainCommand.ValFraction));
        Assert.Equal(0.2, none.GetValue(NeuralPure.Cli.TrainCommand.TestFraction));
        Assert.Equal(0, none.GetValue(NeuralPure.Cli.TrainCommand.LabelSmoothing));
        Assert.Null(none.GetValue(NeuralPure.Cli.TrainCommand.WeightDecay));
    }

    [Fact]
    public void A_decimal_point_is_read_and_recorded_as_given()
    {
        var (code, r, err) = Train("point", "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "5e-2");
        Assert.True(code == 0, err);
        Assert.Equal(0.001, r!["config"]!["learningRate"]!.GetValue<double>());
        Assert.Equal(0.05, r["config"]!["weightDecay"]!.GetValue<double>());
    }
    [Fact]
    public void Gradcheck_reads_layers_as_train_does()
    {
        var (c1, _, e1) = CliRunner.Run("gradcheck", "--data", "iris", "--layers", "");
        Assert.Equal(2, c1);
        Assert.Contains("--layers is empty: give hidden widths like 64,32, or 'none'", e1); // it built a linear model
        var (c2, o2, e2) = CliRunner.Run("gradcheck", "--data", "iris", "--layers", "none");
        Assert.True(c2 == 0, e2); // it refused 'none', which train takes
        Assert.Contains("4 → dense(3)", o2);
        Assert.Contains("must be comma-separated widths like 64,32, got '4,x'", CliRunner.Run("gradcheck", "--data", "iris", "--layers", "4,x").Err);
    }

    [Fact]
    public void A_mistyped_command_is_named_with_the_nearest_one_and_a_bad_number_without_net_type_names()
    {
        var (c1, _, e1) = CliRunner.Run("trian", "--data", "iris");
        Assert.Equal(2, c1);
        Assert.StartsWith("neuralpure: 'trian' is not a command; did you mean 'train'? (commands: train, resume, sweep, ", e1);
        Assert.Contains("'xyz' is not a command (commands: ", CliRunner.Run("xyz").Err);
        var (c2, _, e2) = CliRunner.Run("train", "--data", "iris", "--seed", "-1", "--out", Out("s"));
        Assert.Equal(2, c2);
        Assert.Contains("Cannot parse argument '-1' for option '--seed' as a whole number ≥ 0", e2);
        Assert.DoesNotContain("System.", e2);
        Assert.Contains("for option '--epochs' as a whole number.", CliRunner.Run("train", "--epochs", "x").Err);
        Assert.False(Directory.Exists(Out("s")));
    }

    [Fact]
    public void An_accumulation_longer_than_the_run_is_refused_with_the_numbers_before_the_folder_is_made()
    {
        // iris: 150 rows, 105 for training (val 0.1, test 0.2): 4 batches of 32
        var (code, _, err) = CliRunner.Run("train", "--data", "iris", "--epochs", "2", "--accumulate", "100", "--out", Out("x"), "--checkpoint-every", "0");
        Assert.Equal(2, code);
        Assert.Equal("neuralpure: --accumulate 100 is more than the 8 batches of the whole run (2 epochs of 4: 105 training rows at batch 32): no update would ever be made; give --accumulate 8 or less, more --epochs or a smaller --batch-size", err.Trim());
        Assert.False(Directory.Exists(Out("x")));
        // longer than an epoch but not than the run: its updates straddle epochs (30 epochs of 4 batches, 24 updates of 5)
        var (c1, o1, e1) = CliRunner.Run("train", "--data", "iris", "--epochs", "30", "--accumulate", "5", "--out", Out("straddle"), "--json", "--checkpoint-every", "0");
        Assert.True(c1 == 0, e1);
        Assert.Equal(5, JsonNode.Parse(o1)!["optimizer"]!["every"]!.GetValue<int>());
        // an epoch's worth of batches is one update an epoch
        var (c2, r, e2) = Train("four", "--accumulate", "4");
        Assert.True(c2 == 0, e2);
        Assert.Equal(4, r!["optimizer"]!["every"]!.GetValue<int>());
    }
    [Theory]
    [InlineData("--separator does not apply to the bundled data set 'iris': it is not read from a CSV file", "--separator", ";")]
    [InlineData("--header does not apply to the bundled data set 'iris': it is not read from a CSV file", "--header")]
    [InlineData("--no-header does not apply to the bundled data set 'iris': it is not read from a CSV file", "--no-header")]
    [InlineData("--labels does not apply to the bundled data set 'iris': its labels come with it", "--labels", "labels.idx")]
    public void A_csv_option_on_a_bundled_set_is_refused_by_train_predict_and_evaluate(string message, params string[] option)
    {
        var (code, _, err) = Train("x", option);
        RefusedBeforeTheFolder(message, code, err);

        var (c1, _, e1) = Train("run");
        Assert.True(c1 == 0, e1);
        string model = Path.Combine(Out("run"), "model.safetensors");
        var (c2, _, e2) = CliRunner.Run(["evaluate", "--model", model, "--data", "iris", "--all-rows", .. option]);
        Assert.Equal(2, c2);
        Assert.Contains(message, e2);
        if (option[0] is "--separator" or "--labels") // predict takes no header options
        {
            var (c3, _, e3) = CliRunner.Run(["predict", "--model", model, "--data", "iris", "--out", Out("p.csv"), .. option]);
            Assert.Equal(2, c3);
            Assert.Contains(message, e3);
            Assert.False(File.Exists(Out("p.csv")));
        }
        // a run's own evaluation reads the data as the record says: a reading option there would be ignored
        if (option[0] is not "--labels")
        {
            var (c4, _, e4) = CliRunner.Run(["evaluate", Out("run"), .. option]);
            Assert.Equal(2, c4);
            Assert.Contains($"{option[0]} does not apply to evaluate <run>: the run's record says how its data is read", e4);
        }
    }

    /// <summary>Iris has 4 features: a flip or a shift on them would mirror or move columns of a table. --arch refuses it in
    /// one line before the run folder is made, and with --force before the old run is touched.</summary>
    [Fact]
    public void An_image_augmentation_on_table_features_is_refused_before_anything_trains()
    {
        const string needs = "needs an image input [channels, height, width] (or [height, width]); it gets [4]";
        var (code, _, err) = Train("x", "--arch", "flip,dense(8),relu");
        RefusedBeforeTheFolder($"--arch item 1 'flip': random-flip {needs}", code, err);
        (code, _, err) = Train("x", "--arch", "dense(8),relu,shift(h=1,w=0)");
        RefusedBeforeTheFolder($"--arch item 3 'shift(h=1,w=0)': random-shift needs an image input [channels, height, width] (or [height, width]); it gets [8]", code, err);

        var (c1, _, e1) = Train("kept");
        Assert.True(c1 == 0, e1);
        var before = Directory.GetFiles(Out("kept")).Order(StringComparer.Ordinal).Select(f => $"{f} {Convert.ToHexString(File.ReadAllBytes(f))}").ToList();
        (code, _, err) = Train("kept", "--arch", "flip,dense(8),relu", "--force");
        Assert.Equal(2, code);
        Assert.Contains($"random-flip {needs}", err);
        Assert.Equal(before, Directory.GetFiles(Out("kept")).Order(StringComparer.Ordinal).Select(f => $"{f} {Convert.ToHexString(File.ReadAllBytes(f))}").ToList());
        Assert.Empty(Directory.GetDirectories(Out("kept")));
    }

    [Theory]
    [InlineData("--separator does not apply to IDX data ('t10k-images-idx3-ubyte.gz' with --labels): IDX files are not CSV", "--separator", ";")]
    [InlineData("--target does not apply to IDX data ('t10k-images-idx3-ubyte.gz' with --labels): the labels file is the target", "--target", "label")]
    [InlineData("--no-header does not apply to IDX data ('t10k-images-idx3-ubyte.gz' with --labels): IDX files are not CSV", "--no-header")]
    [InlineData("--header does not apply to IDX data ('t10k-images-idx3-ubyte.gz' with --labels): IDX files are not CSV", "--header")]
    public void A_csv_option_on_idx_data_is_refused(string message, params string[] option)
    {
        var folder = NeuralPure.Facade.Data.BundledDataSets.FindFashionMnistFolder();
        string images = Path.Combine(folder, NeuralPure.Facade.Data.BundledDataSets.FashionMnistImagesFile), labels = Path.Combine(folder, NeuralPure.Facade.Data.BundledDataSets.FashionMnistLabelsFile);
        var (code, _, err) = CliRunner.Run(["train", "--data", images, "--labels", labels, "--epochs", "1", "--out", Out("x"), "--checkpoint-every", "0", .. option]);
        RefusedBeforeTheFolder(message, code, err);
    }
}
