using System.Globalization;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Finds a target value's class among given class names (a trained model's): text by exact (ordinal) name; a number by
/// value among the names that are numbers ("1.0" is the class "1"), or, when no name is a number, by position (a whole
/// number k in 0..K-1 is class k, as the bundled files store their named classes).
/// </summary>
internal sealed class ClassMatcher
{
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<double, int> _byNumber = [];

    public ClassMatcher(IReadOnlyList<string> names)
    {
        Names = names;
        for (int k = 0; k < names.Count; k++)
        {
            _byName.TryAdd(names[k], k);
            if (double.TryParse(names[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))
            {
                _byNumber.TryAdd(v + 0.0, k);
            }
        }
    }

    public IReadOnlyList<string> Names { get; }

    public bool TryText(string label, out int k) => _byName.TryGetValue(label, out k);

    public bool TryNumber(double label, out int k)
    {
        if (_byNumber.Count > 0)
        {
            return _byNumber.TryGetValue(label + 0.0, out k);
        }

        k = label >= 0 && label < Names.Count && label == Math.Floor(label) ? (int)label : -1;
        return k >= 0;
    }

    /// <summary>The end of a "not one of the classes" message: the classes, and how numbers are matched.</summary>
    public string Describe()
    {
        string byPosition = _byNumber.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $" (a number stands for the class at that position, 0 to {Names.Count - 1})")
            : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{Names.Count} given classes: {DataText.List(Names, 20)}{byPosition}");
    }
}
