namespace NeuralPure.Facade.Data;

/// <summary>The element types this library reads and writes in safetensors files.</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE 754 single precision, 4 bytes little-endian ("F32").</summary>
    F32,

    /// <summary>IEEE 754 double precision, 8 bytes little-endian ("F64").</summary>
    F64,
}
