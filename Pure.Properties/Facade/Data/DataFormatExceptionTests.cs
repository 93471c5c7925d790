using NeuralPure.Facade.Data;
using Xunit;

namespace NeuralPure.Properties.Facade.Data;

/// <summary>DataFormatException's messages name the place as the format has it: a line and a column in a text file, a
/// metadata key or a tensor in a safetensors file.</summary>
public sealed class DataFormatExceptionTests
{
    [Fact]
    public void A_text_file_is_placed_by_line_and_column_and_a_safetensors_file_by_metadata_key_or_tensor()
    {
        Assert.Equal("iris.csv: line 17: expected 5 fields, found 4", new DataFormatException("iris.csv", 17, null, "expected 5 fields, found 4").Message);
        var csv = new DataFormatException("d.csv", 4, "x", 2, "'a' is not a finite number");
        Assert.Equal("d.csv: line 4, column 2 ('x'): 'a' is not a finite number", csv.Message);
        Assert.Equal((4L, "x", 2), (csv.Line!.Value, csv.Column!, csv.ColumnNumber!.Value));
        Assert.Null(csv.MetadataKey);
        Assert.Null(csv.Tensor);

        var meta = DataFormatException.InMetadata("ck.safetensors", "sha256", "the tensors do not match the recorded SHA-256");
        Assert.Equal("ck.safetensors: metadata key 'sha256': the tensors do not match the recorded SHA-256", meta.Message);
        Assert.Equal(("ck.safetensors", "sha256"), (meta.Source, meta.MetadataKey));
        Assert.Null(meta.Column); // not a column: tools reading Column for CSV files see none
        Assert.Null(meta.Line);
        Assert.Null(meta.Tensor);

        var inner = new FormatException("bad");
        var tensor = DataFormatException.InTensor(null, "history/epochs", "row 2 is not a valid epoch report", inner);
        Assert.Equal("tensor 'history/epochs': row 2 is not a valid epoch report", tensor.Message);
        Assert.Equal("history/epochs", tensor.Tensor);
        Assert.Null(tensor.Column);
        Assert.Same(inner, tensor.InnerException);
        Assert.Throws<ArgumentNullException>(() => DataFormatException.InMetadata("f", null!, "p"));
        Assert.Throws<ArgumentNullException>(() => DataFormatException.InTensor("f", "t", null!));
    }

    [Fact]
    public void A_run_record_of_an_unknown_format_is_refused_naming_the_field_not_a_column()
    {
        string path = Path.Combine(Path.GetTempPath(), $"np-format-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{\"format\": \"neuralpure-run/99\"}");
            var e = Assert.Throws<DataFormatException>(() => NeuralPure.Facade.Runs.RunRecord.ReadJson(path));
            Assert.StartsWith($"{path}: field 'format': run record format 'neuralpure-run/99' is not one this NeuralPure reads", e.Message);
            Assert.Equal("format", e.Field);
            Assert.Null(e.Column);
        }
        finally { File.Delete(path); }
        Assert.Throws<ArgumentNullException>(() => DataFormatException.InField("f", null!, "p"));
    }
}
