namespace NeuralPure.Facade.Data;

/// <summary>Facts about one data set bundled with the library (see <see cref="BundledDataSets"/>).</summary>
/// <param name="Name">The canonical name passed to <see cref="BundledDataSets.Load"/>, e.g. "breast-cancer".</param>
/// <param name="Task">Classification or regression.</param>
/// <param name="Rows">The number of rows.</param>
/// <param name="Features">The number of feature columns.</param>
/// <param name="Classes">The number of classes (0 for regression).</param>
/// <param name="TargetName">The target column's name.</param>
/// <param name="Licence">A one-line licence statement; full provenance is in Data/Bundled/PROVENANCE.md.</param>
/// <param name="Description">A one-line description of the data.</param>
/// <param name="Sha256">The SHA-256 of the bundled CSV file, checked on every load.</param>
public sealed record BundledDataSetInfo(
    string Name,
    TaskKind Task,
    int Rows,
    int Features,
    int Classes,
    string TargetName,
    string Licence,
    string Description,
    string Sha256)
{
    /// <summary>Gets the name of each class in label order (empty for regression), e.g. <c>setosa</c> for iris label 0.</summary>
    public System.Collections.Immutable.ImmutableArray<string> ClassNames { get; init; } = [];
}
