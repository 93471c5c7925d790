using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using NeuralPure.Properties.Support;
using NeuralPure.Verification;
using Xunit;

namespace NeuralPure.Properties.Verification;

/// <summary>A check's result and the report: their validation, verdict, table, lookup and equality.</summary>
public sealed class VerificationReportTests
{
    private static readonly string NL = Environment.NewLine;

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void A_check_needs_a_name(string? name)
    {
        var e = Assert.Throws<ArgumentException>(() => new CheckResult(name!, true, "d"));
        Assert.Equal("Name", e.ParamName);
        Assert.StartsWith("a check needs a name", e.Message);
    }

    [Fact]
    public void A_check_is_one_line_and_its_detail_is_never_null()
    {
        Assert.Equal("", new CheckResult("c", true, null!).Detail);
        Assert.Equal("✓ c: fine", new CheckResult("c", true, "fine").ToString());
        Assert.Equal("✗ c: broken", new CheckResult("c", false, "broken").ToString());
    }

    [Fact]
    public void A_report_needs_a_subject_and_checks_without_nulls()
    {
        Assert.Equal("Subject", Assert.Throws<ArgumentNullException>(() => new VerificationReport(null!, [])).ParamName);
        var d = Assert.Throws<ArgumentException>(() => new VerificationReport("s", default));
        Assert.Equal("Checks", d.ParamName);
        Assert.StartsWith("a report's checks must not be default or contain null", d.Message);
        Assert.Equal("Checks", Assert.Throws<ArgumentException>(() => new VerificationReport("s", [new("c", true, ""), null!])).ParamName);
    }

    private static readonly VerificationReport Mixed = new("layer x", [new("ab", true, "fine"), new("abcd", false, "broken"), new("abc", false, "also")]);

    [Fact]
    public void The_table_pads_the_names_and_counts_the_failures()
    {
        Assert.Equal($"layer x: FAILED (2 of 3 checks){NL}  ✓ ab    fine{NL}  ✗ abcd  broken{NL}  ✗ abc   also", Mixed.ToString());
        Assert.Equal($"s: passed{NL}  ✓ a  d", new VerificationReport("s", [new("a", true, "d")]).ToString());
        Assert.Equal("s: passed", new VerificationReport("s", []).ToString());
    }

    [Fact]
    public void Passed_is_true_only_when_every_check_passed()
    {
        Assert.False(Mixed.Passed);
        Assert.True(new VerificationReport("s", []).Passed);
        Assert.True(new VerificationReport("s", [new("a", true, ""), new("b", true, "")]).Passed);
        Assert.False(new VerificationReport("s", [new("a", true, ""), new("b", false, "")]).Passed);
    }

    [Fact]
    public void A_check_is_found_by_its_name()
    {
        Assert.Equal(new CheckResult("abcd", false, "broken"), Mixed["abcd"]);
        Assert.Null(Mixed["abcde"]);
        Assert.Equal("first", new VerificationReport("s", [new("a", true, "first"), new("a", false, "second")])["a"]!.Detail);
    }

    [Fact]
    public void ThrowIfFailed_throws_the_table_only_on_failure()
    {
        new VerificationReport("s", [new("a", true, "")]).ThrowIfFailed();
        var e = Assert.Throws<VerificationException>(Mixed.ThrowIfFailed);
        Assert.Equal(Mixed.ToString(), e.Message);
    }

    [Fact]
    public void The_exception_has_the_usual_constructors()
    {
        Assert.Equal("verification failed", new VerificationException().Message);
        Assert.Equal("m", new VerificationException("m").Message);
        var inner = new InvalidOperationException("i");
        var e = new VerificationException("m", inner);
        Assert.Equal("m", e.Message);
        Assert.Same(inner, e.InnerException);
    }

    private static Gen<CheckResult> Check { get; } =
        from name in Gen.Elements("a", "b", "gradient")
        from passed in Gen.Elements(false, true)
        from detail in Gen.Elements("", "x", "y")
        select new CheckResult(name, passed, detail);

    [Law(50)]
    public Property Reports_are_equal_exactly_when_subject_and_checks_agree_in_order() =>
        Prop.ForAll((from s1 in Gen.Elements("s", "t")
                     from s2 in Gen.Elements("s", "t")
                     from c1 in Gen.ListOf(Check)
                     from c2 in Gen.ListOf(Check)
                     select (s1, s2, c1, c2)).ToArbitrary(),
            c =>
            {
                var a = new VerificationReport(c.s1, [.. c.c1]);
                var b = new VerificationReport(c.s2, [.. c.c2]);
                var copy = new VerificationReport(c.s1, [.. c.c1]);
                bool same = c.s1 == c.s2 && c.c1.SequenceEqual(c.c2);
                return (a.Equals(b) == same && a.Equals(copy) && a.GetHashCode() == copy.GetHashCode() && !a.Equals(null)
                        && (same || a.GetHashCode() != b.GetHashCode()))
                    .Label($"{a} vs {b}");
            });
}
