using System.Runtime.InteropServices;

namespace NeuralPure.Cli;

/// <summary>Ctrl+C and SIGTERM turned into cancellation, for as long as the object lives: the first of either cancels
/// <see cref="Source"/> (the run finishes its batch, checkpoints and writes its record) and records the exit code it asks for,
/// <see cref="Program.Interrupted"/> (130) or <see cref="TrainCommand.Terminated"/> (143); a second Ctrl+C is left to the
/// runtime, which stops the process at once (the last checkpoint stays valid). Shared by <c>train</c> and <c>sweep run</c>.</summary>
internal sealed class StopSignals : IDisposable
{
    private readonly ConsoleCancelEventHandler onCancel;
    private readonly PosixSignalRegistration? onTerm;
    private int signalled; // 0: none, else the exit code the signal asks for

    public StopSignals()
    {
        onCancel = (_, e) =>
        {
            if (Interlocked.CompareExchange(ref signalled, Program.Interrupted, 0) == 0) { e.Cancel = true; Source.Cancel(); }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                if (Interlocked.CompareExchange(ref signalled, TrainCommand.Terminated, 0) == 0) { c.Cancel = true; Source.Cancel(); }
            });
        }
        catch (PlatformNotSupportedException) { }
    }

    /// <summary>Cancelled by the first signal (and by whoever else holds it).</summary>
    public CancellationTokenSource Source { get; } = new();

    /// <summary>The exit code the signal received asks for, or 0 when none came.</summary>
    public int Signalled => Volatile.Read(ref signalled);

    public void Dispose()
    {
        Console.CancelKeyPress -= onCancel;
        onTerm?.Dispose();
        Source.Dispose();
    }
}
