/// <summary>Lets the tests find this sample's assembly (its entry point is the README's "your own data" example).</summary>
public sealed class YourDataMarker;
