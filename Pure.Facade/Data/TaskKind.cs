namespace NeuralPure.Facade.Data;

/// <summary>The kind of supervised learning task a table's target column poses.</summary>
public enum TaskKind
{
    /// <summary>The target is a class label: an integer in 0..Classes-1.</summary>
    Classification,

    /// <summary>The target is a real number.</summary>
    Regression,
}
