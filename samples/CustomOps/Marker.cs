/// <summary>Lets tests find this sample's assembly.</summary>
public sealed class CustomOpsMarker;
