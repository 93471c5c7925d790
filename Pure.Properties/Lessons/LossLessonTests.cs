using NeuralPure.Lessons;
using Xunit;

namespace NeuralPure.Properties.Lessons;

[Collection("Lessons")]
public sealed class LossLessonTests(LessonRuns runs)
{
    private LossLessonResult Result => runs.Get("loss").As<LossLessonResult>();

    [Fact]
    public void Cross_entropy_charges_little_for_confident_right_and_a_lot_for_wrong()
    {
        var r = Result;
        Assert.True(r.CrossEntropyAt(0.95) < r.CrossEntropyAt(0.50));
        Assert.True(r.CrossEntropyAt(0.50) < r.CrossEntropyAt(0.10));
        Assert.Equal(-Math.Log(0.95), r.CrossEntropyAt(0.95), 12);
        Assert.Equal(-Math.Log(0.10), r.CrossEntropyAt(0.10), 12);
    }

    [Fact]
    public void A_confident_wrong_answer_costs_more_than_an_unsure_one()
    {
        Assert.True(Result.CrossEntropyAt(0.01) > Result.CrossEntropyAt(0.40));
        Assert.Contains("p(spam) = 0.01 (confident, wrong)   loss 4.6052", runs.Get("loss").Checked);
    }

    [Fact]
    public void Softmax_and_binary_cross_entropy_agree_on_every_row()
    {
        Assert.Equal(5, Result.SpamCrossEntropy.Length);
        Assert.All(Result.SpamCrossEntropy, row => Assert.Equal(row.SoftmaxCe, row.BinaryCe, 12));
    }

    [Fact]
    public void Predicting_250K_for_a_300K_house_costs_more_than_290K()
    {
        Assert.True(Result.MseAt(250) > Result.MseAt(290));
        Assert.Equal(2500, Result.MseAt(250), 9);
        Assert.Equal(100, Result.MseAt(290), 9);
        Assert.All(Result.HousePrices, h => Assert.True(h.Gradient < 0, "a prediction below the price has a negative gradient"));
    }

    /// <summary>The gradient the loss computes for a three-class email is softmax − onehot, the formula the page teaches:
    /// negative only for the true class, summing to 0, and the printed line says they agree.</summary>
    [Fact]
    public void Cross_entropy_gradient_is_softmax_minus_onehot()
    {
        var g = Result.Gradient;
        Assert.Equal(["spam", "promotions", "inbox"], g.Select(r => r.Class));
        double sumExp = g.Sum(r => Math.Exp(r.Logit));
        Assert.All(g, r =>
        {
            Assert.Equal(Math.Exp(r.Logit) / sumExp, r.Softmax, 12);
            Assert.Equal(r.Softmax - r.OneHot, r.Backprop, 12);
            Assert.Equal(r.SoftmaxMinusOneHot, r.Backprop, 12);
        });
        Assert.Equal([1.0, 0, 0], g.Select(r => r.OneHot));
        Assert.True(g[0].Backprop < 0 && g[1].Backprop > 0 && g[2].Backprop > 0);
        Assert.Equal(0, g.Sum(r => r.Backprop), 12);
        Assert.Contains("The two gradient columns agree to 1e-12.", runs.Get("loss").Checked);
    }
}
