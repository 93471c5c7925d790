using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace NeuralPure.Facade.Export;

// The ONNX messages this exporter writes, and their protobuf encoding. Every field number below is the one in
// onnx/onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, syntax "proto2"; the numbers have not changed
// since IR version 3): a message is a sequence of (tag = field << 3 | wire type, value) pairs, varints for integers
// (wire type 0), length-delimited bytes for strings and sub-messages (wire type 2) and 4 little-endian bytes for a float
// (wire type 5). Fields are written in field-number order, each once, so the same model gives the same bytes.

/// <summary>ONNX's <c>TensorProto.DataType</c> values this exporter uses.</summary>
internal enum OnnxDataType
{
    /// <summary>FLOAT = 1.</summary>
    Float = 1,
    /// <summary>INT64 = 7.</summary>
    Int64 = 7,
}

/// <summary>An attribute of a node (<c>AttributeProto</c>): one of a float, an int, or a list of ints.</summary>
/// <param name="Name">The attribute's name (<c>name</c> = 1).</param>
/// <param name="Float">The value when <c>type</c> is FLOAT (<c>f</c> = 2).</param>
/// <param name="Int">The value when <c>type</c> is INT (<c>i</c> = 3).</param>
/// <param name="Ints">The value when <c>type</c> is INTS (<c>ints</c> = 8).</param>
internal sealed record OnnxAttribute(string Name, float? Float = null, long? Int = null, ImmutableArray<long> Ints = default)
{
    // AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20; AttributeType: FLOAT = 1, INT = 2, INTS = 7.
    internal void Encode(ProtoWriter w)
    {
        w.String(1, Name);
        if (Float is { } f) { w.Float(2, f); w.Int(20, 1); }
        else if (Int is { } i) { w.Int(3, i); w.Int(20, 2); }
        else { foreach (var v in Ints) w.Int(8, v); w.Int(20, 7); }
    }
}

/// <summary>A node (<c>NodeProto</c>): an operator applied to named inputs, giving named outputs.</summary>
/// <param name="OpType">The operator, from the default domain (<c>op_type</c> = 4).</param>
/// <param name="Name">A name unique in the graph (<c>name</c> = 3).</param>
/// <param name="Inputs">The input value names (<c>input</c> = 1); an empty name is an omitted optional input.</param>
/// <param name="Outputs">The output value names (<c>output</c> = 2).</param>
/// <param name="Attributes">The attributes (<c>attribute</c> = 5).</param>
internal sealed record OnnxNode(string OpType, string Name, ImmutableArray<string> Inputs, ImmutableArray<string> Outputs, ImmutableArray<OnnxAttribute> Attributes)
{
    internal void Encode(ProtoWriter w)
    {
        foreach (var i in Inputs) w.String(1, i);
        foreach (var o in Outputs) w.String(2, o);
        w.String(3, Name);
        w.String(4, OpType);
        foreach (var a in Attributes) w.Message(5, a.Encode);
    }
}

/// <summary>A constant tensor (<c>TensorProto</c>), a graph initializer: float32 or int64 values, row-major.</summary>
/// <param name="Name">The value name (<c>name</c> = 8).</param>
/// <param name="Dims">The shape (<c>dims</c> = 1); empty for a scalar.</param>
/// <param name="Floats">The values of a FLOAT tensor, or default.</param>
/// <param name="Longs">The values of an INT64 tensor, or default.</param>
internal sealed record OnnxTensor(string Name, ImmutableArray<long> Dims, ImmutableArray<float> Floats = default, ImmutableArray<long> Longs = default)
{
    /// <summary>FLOAT when <see cref="Floats"/> is set, else INT64.</summary>
    public OnnxDataType DataType => Floats.IsDefault ? OnnxDataType.Int64 : OnnxDataType.Float;

    // TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (the values as little-endian bytes, row-major).
    internal void Encode(ProtoWriter w)
    {
        foreach (var d in Dims) w.Int(1, d);
        w.Int(2, (long)DataType);
        w.String(8, Name);
        var raw = new byte[Floats.IsDefault ? Longs.Length * 8 : Floats.Length * 4];
        if (Floats.IsDefault) for (int i = 0; i < Longs.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), Longs[i]);
        else for (int i = 0; i < Floats.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), Floats[i]);
        w.Bytes(9, raw);
    }
}

/// <summary>A graph input or output (<c>ValueInfoProto</c>): a float32 tensor whose dimensions are numbers or symbols.</summary>
/// <param name="Name">The value name (<c>name</c> = 1).</param>
/// <param name="Dims">Each dimension: a number (<c>dim_value</c>) or a symbol such as "batch" (<c>dim_param</c>).</param>
internal sealed record OnnxValueInfo(string Name, ImmutableArray<OnnxDim> Dims)
{
    // ValueInfoProto: name = 1, type = 2. TypeProto: tensor_type = 1. TypeProto.Tensor: elem_type = 1, shape = 2.
    // TensorShapeProto: dim = 1. TensorShapeProto.Dimension: dim_value = 1, dim_param = 2.
    internal void Encode(ProtoWriter w)
    {
        w.String(1, Name);
        w.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int(1, (long)OnnxDataType.Float);
            tensor.Message(2, shape =>
            {
                foreach (var d in Dims)
                    shape.Message(1, dim => { if (d.Symbol is { } s) dim.String(2, s); else dim.Int(1, d.Value); });
            });
        }));
    }
}

/// <summary>One dimension of a value's shape: a number, or a symbol (a dimension fixed only when the model runs).</summary>
internal readonly record struct OnnxDim(long Value, string? Symbol = null)
{
    public static implicit operator OnnxDim(long value) => new(value);
}

/// <summary>A graph (<c>GraphProto</c>): nodes in topological order, their constants, inputs and outputs.</summary>
internal sealed record OnnxGraph(string Name, ImmutableArray<OnnxNode> Nodes, ImmutableArray<OnnxTensor> Initializers,
    ImmutableArray<OnnxValueInfo> Inputs, ImmutableArray<OnnxValueInfo> Outputs)
{
    // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
    internal void Encode(ProtoWriter w)
    {
        foreach (var n in Nodes) w.Message(1, n.Encode);
        w.String(2, Name);
        foreach (var t in Initializers) w.Message(5, t.Encode);
        foreach (var i in Inputs) w.Message(11, i.Encode);
        foreach (var o in Outputs) w.Message(12, o.Encode);
    }
}

/// <summary>A model (<c>ModelProto</c>): the IR version, the operator set, who made it, the graph and free-form metadata.</summary>
internal sealed record OnnxModel(long IrVersion, long Opset, string ProducerName, string ProducerVersion, OnnxGraph Graph,
    ImmutableArray<KeyValuePair<string, string>> Metadata)
{
    // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8, metadata_props = 14.
    // OperatorSetIdProto: domain = 1 (empty: the default "ai.onnx" domain, so not written), version = 2.
    // StringStringEntryProto: key = 1, value = 2.
    /// <summary>The protobuf bytes of the model.</summary>
    public byte[] Encode()
    {
        var w = new ProtoWriter();
        w.Int(1, IrVersion);
        w.String(2, ProducerName);
        w.String(3, ProducerVersion);
        w.Message(7, Graph.Encode);
        w.Message(8, op => op.Int(2, Opset));
        foreach (var (k, v) in Metadata) w.Message(14, e => { e.String(1, k); e.String(2, v); });
        return w.ToArray();
    }
}

/// <summary>A protobuf encoder for the three wire types ONNX needs: varint (0), length-delimited (2) and 32-bit (5).</summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> buffer = new();

    /// <summary>An int64/int32/enum field as a varint (negative values as ten bytes of two's complement, as protobuf does).</summary>
    public void Int(int field, long value) { Tag(field, 0); Varint((ulong)value); }

    /// <summary>A float field: four little-endian bytes.</summary>
    public void Float(int field, float value)
    {
        Tag(field, 5);
        BinaryPrimitives.WriteSingleLittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    /// <summary>A string field, UTF-8.</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field: the length as a varint, then the bytes.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        buffer.Write(value);
    }

    /// <summary>A sub-message field, written by <paramref name="body"/> into its own writer (its length comes first).</summary>
    public void Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        Bytes(field, inner.buffer.WrittenSpan);
    }

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => buffer.WrittenSpan.ToArray();

    private void Tag(int field, int wireType) => Varint((ulong)(field << 3 | wireType));

    private void Varint(ulong v)
    {
        while (v >= 0x80) { Write((byte)(v | 0x80)); v >>= 7; }
        Write((byte)v);
    }

    private void Write(byte b) { buffer.GetSpan(1)[0] = b; buffer.Advance(1); }
}
