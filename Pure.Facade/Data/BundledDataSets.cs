using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;

namespace NeuralPure.Facade.Data;

/// <summary>
/// Small public data sets embedded in the library (iris, digits, breast-cancer, auto-mpg), plus a finder for the
/// Fashion-MNIST test split kept on disk in the repository's <c>data/fashion_mnist</c> folder.
/// </summary>
/// <remarks>Provenance and licences: <c>Pure.Facade/Data/Bundled/PROVENANCE.md</c>.</remarks>
public static class BundledDataSets
{
    /// <summary>The Fashion-MNIST image file that <see cref="FindFashionMnistFolder"/> looks for.</summary>
    public const string FashionMnistImagesFile = "t10k-images-idx3-ubyte.gz";

    /// <summary>The Fashion-MNIST label file beside the images.</summary>
    public const string FashionMnistLabelsFile = "t10k-labels-idx1-ubyte.gz";

    private const string ResourcePrefix = "NeuralPure.Facade.Data.Bundled.";
    private const string SklearnLicence = "BSD-3-Clause (redistributed by scikit-learn); UCI lists the data set as CC BY 4.0";

    private static readonly ImmutableArray<(BundledDataSetInfo Info, string File)> Sets =
    [
        (new BundledDataSetInfo(
            "digits", TaskKind.Classification, 1797, 64, 10, "digit", SklearnLicence,
            "Handwritten digits as 8x8 images with pixel values 0..16 (UCI optdigits, test part).",
            "592cc047d0a1cc7fdef9fd724514209dcb45a80aa147dc3ab375e3e1a9a380f4")
        {
            ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        }, "digits.csv"),
        (new BundledDataSetInfo(
            "iris", TaskKind.Classification, 150, 4, 3, "species", SklearnLicence,
            "Fisher's iris flowers: 4 measurements in cm, 3 species (0 setosa, 1 versicolor, 2 virginica), sorted by class.",
            "3a6fc062ef64e75ac2e711cf140609279c55c7d9e17c794fc15ddc46c77287a0")
        {
            ClassNames = ["setosa", "versicolor", "virginica"],
        }, "iris.csv"),
        (new BundledDataSetInfo(
            "breast-cancer", TaskKind.Classification, 569, 30, 2, "diagnosis", SklearnLicence,
            "Breast Cancer Wisconsin (Diagnostic): 30 cell-nucleus features, 0 malignant / 1 benign.",
            "1f573a6153eb57b183b3bb3e49cc79e0f37e5e105d8337f9c7eb75b5fb04d347")
        {
            ClassNames = ["malignant", "benign"],
        }, "breast_cancer.csv"),
        (new BundledDataSetInfo(
            "auto-mpg", TaskKind.Regression, 392, 7, 0, "mpg",
            "Public domain (StatLib, per the Debian copyright file); UCI lists Auto MPG as CC BY 4.0",
            "Fuel economy (mpg) of 1970-82 cars from 7 attributes; origin is categorical (1 USA, 2 Europe, 3 Japan); sorted by year.",
            "08661bccbf7fcec9232879adc02dfc2e52e3714d3e49724952ef150b65b0c3ed"), "auto_mpg.csv"),
    ];

    private static readonly ConcurrentDictionary<string, Lazy<TabularData>> Cache = new(StringComparer.Ordinal);

    /// <summary>Gets the facts about every bundled data set, in a fixed order.</summary>
    public static ImmutableArray<BundledDataSetInfo> All { get; } = [.. Sets.Select(s => s.Info)];

    /// <summary>Gets the names accepted by <see cref="Load"/> (canonical names first, then aliases).</summary>
    public static ImmutableArray<string> Names { get; } = [.. All.Select(i => i.Name), "breast_cancer", "auto_mpg"];

    /// <summary>Loads a bundled data set by name; the result is cached, so repeated loads are free.</summary>
    /// <param name="name">One of <c>digits</c>, <c>iris</c>, <c>breast-cancer</c> (or <c>breast_cancer</c>),
    /// <c>auto-mpg</c> (or <c>auto_mpg</c>); case-insensitive.</param>
    /// <returns>The table, named with the canonical name; its labels are the file's 0..K-1 and its
    /// <see cref="TabularData.ClassNames"/> are <see cref="BundledDataSetInfo.ClassNames"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the known names.</exception>
    /// <exception cref="InvalidOperationException">The embedded copy is missing or does not match its recorded hash
    /// or shape (a broken build).</exception>
    public static TabularData Load(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string canonical = Canonical(name);
        return Cache.GetOrAdd(canonical, n => new Lazy<TabularData>(() => LoadUncached(n))).Value;
    }

    /// <summary>Gets the facts about one bundled data set.</summary>
    /// <param name="name">A name accepted by <see cref="Load"/>.</param>
    /// <returns>The facts.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the known names.</exception>
    public static BundledDataSetInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string canonical = Canonical(name);
        return All.First(i => i.Name == canonical);
    }

    /// <summary>
    /// Finds the folder holding the Fashion-MNIST test split (<c>data/fashion_mnist/t10k-images-idx3-ubyte.gz</c>),
    /// searching upward from <see cref="AppContext.BaseDirectory"/> and then from the current directory.
    /// </summary>
    /// <returns>The full path of the <c>data/fashion_mnist</c> folder.</returns>
    /// <exception cref="FileNotFoundException">No such folder exists above either starting point; the message lists where it looked.</exception>
    public static string FindFashionMnistFolder()
    {
        string relative = Path.Combine("data", "fashion_mnist", FashionMnistImagesFile);
        var starts = new List<string> { AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (string start in starts.Distinct(StringComparer.Ordinal))
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return Path.GetDirectoryName(candidate)!;
                }
            }
        }

        throw new FileNotFoundException(
            $"Cannot find '{relative}' in '{starts[0]}', '{starts[1]}' or any folder above them. The Fashion-MNIST test split lives in the repository's data/fashion_mnist folder; run from inside the repository or copy that folder next to the application.",
            relative);
    }

    private static string Canonical(string name)
    {
        string key = name.Trim().ToLowerInvariant().Replace('_', '-');
        foreach (BundledDataSetInfo info in All)
        {
            if (info.Name == key)
            {
                return info.Name;
            }
        }

        throw new ArgumentException(
            $"Unknown bundled data set {DataText.Quote(name)}; the known names are: {string.Join(", ", Names)}.", nameof(name));
    }

    private static TabularData LoadUncached(string canonical)
    {
        var (info, file) = Sets.First(s => s.Info.Name == canonical);
        string resource = ResourcePrefix + file;
        using Stream stream = typeof(BundledDataSets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded resource '{resource}' is missing from {typeof(BundledDataSets).Assembly.GetName().Name}; the build is broken.");
        TabularData data;
        try
        {
            // Everything is given, nothing detected: the files are comma-separated with a header, and their labels are 0..K-1.
            var options = new CsvOptions
            {
                Target = info.TargetName,
                Task = info.Task,
                Separator = ',',
                HasHeader = true,
                ClassNames = info.Task == TaskKind.Classification ? [.. Enumerable.Range(0, info.Classes).Select(k => k.ToString(CultureInfo.InvariantCulture))] : null,
            };
            data = CsvReader.Parse(stream, "resource " + resource, info.Name, options);
        }
        catch (DataFormatException ex)
        {
            throw new InvalidOperationException($"The bundled data set '{info.Name}' is corrupt: {ex.Message}", ex);
        }

        if (data.Sha256 != info.Sha256 || data.Rows != info.Rows || data.Features != info.Features || data.Classes != info.Classes)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"The bundled data set '{info.Name}' does not match its record: expected {info.Rows}x{info.Features}, {info.Classes} classes, sha256 {info.Sha256}; found {data.Rows}x{data.Features}, {data.Classes} classes, sha256 {data.Sha256}."));
        }

        return info.ClassNames.IsDefaultOrEmpty ? data : data.WithClassNames(info.ClassNames);
    }
}
