using System;

namespace IpcPs.Core
{
    /// <summary>
    /// What Core needs from the program that hosts it — the PowerShell module — and cannot know itself, since Core
    /// references no PowerShell: how to run a barrier's action text, what a host's wrapper around a value is, and how to
    /// serialize what the binary codec cannot. Set once, when the module is imported (Hosting/ModuleInitializer); a
    /// program that uses Core alone (the benchmarks, the C# tests) gets <see cref="None"/>: no actions, no wrappers, and
    /// only the values the codec encodes itself.
    /// </summary>
    public interface IIpcHost
    {
        /// <summary>Compiles a barrier's action text (trusted: read only from segments of this user) into what runs it.</summary>
        Action CompileAction(string text);

        /// <summary>VALUE without the host's wrapper (PowerShell's PSObject), or VALUE itself.</summary>
        object? Unwrap(object? value);

        /// <summary>Whether VALUE is wrapped by the host.</summary>
        bool IsWrapped(object? value);

        /// <summary>What the message codec hands the values it cannot encode itself (PowerShell's serializer), or null.</summary>
        Messaging.IMessageFallback? Messages { get; }
    }

    /// <summary>The host Core runs under (see <see cref="IIpcHost"/>).</summary>
    public static class IpcHost
    {
        private static IIpcHost _current = new NoHost();

        public static IIpcHost Current
        {
            get => _current;
            set => _current = value ?? throw new ArgumentNullException(nameof(value));
        }

        public static IIpcHost None { get; } = new NoHost();

        private sealed class NoHost : IIpcHost
        {
            public Action CompileAction(string text) =>
                throw new InvalidOperationException("This barrier has an action, but nothing in this process can run it (import the IpcPs module).");

            public object? Unwrap(object? value) => value;

            public bool IsWrapped(object? value) => false;

            public Messaging.IMessageFallback? Messages => null;
        }
    }
}
