using System;
using System.Threading;

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

        /// <summary>
        /// A token the host cancels when the work of the calling thread is stopped (PowerShell: Ctrl+C, Stop-Job, a
        /// stopped pipeline); read on the calling thread by a method that is about to block, so that a blocking method
        /// ends the way a cmdlet does. <see cref="CancellationToken.None"/> when the host has nothing that stops it.
        /// </summary>
        CancellationToken Interrupt { get; }

        /// <summary>
        /// True while the calling thread enumerates a collection for the host language's list concatenation (PowerShell's
        /// + and +=, which copy it into a new array): a proxy of a shared list refuses that rather than be replaced by a
        /// local copy. Read only when such a collection is enumerated.
        /// </summary>
        bool IsConcatenating { get; }
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

        /// <summary>
        /// What a blocking method (Get, Acquire, Wait, Recv, a manager call) waits with: the host's interrupt for the
        /// calling thread (<see cref="IIpcHost.Interrupt"/>). Read once when the method may block, never on a fast path.
        /// </summary>
        internal static CancellationToken CallerInterrupt => _current.Interrupt;

        /// <summary>
        /// Throws when WHAT, a shared list being enumerated, is an operand of PowerShell's + or += (<see
        /// cref="IIpcHost.IsConcatenating"/>): on the left, the result would quietly take the shared list's place with a
        /// local copy. The host cannot tell which operand is enumerated, so a shared list on the right is refused too;
        /// the message says what to write for each.
        /// </summary>
        public static void RefuseConcatenation(string what)
        {
            if (_current.IsConcatenating)
                throw new InvalidOperationException($"{what} is shared: + and += would put a local copy of it in its place. "
                    + "Add to the shared list with $list.Append(item) or $list.Extend(@(items)); to use its items in a local array, "
                    + "copy them first: @($list) + $more, or $array += @($list)");
        }

        private sealed class NoHost : IIpcHost
        {
            public Action CompileAction(string text) =>
                throw new InvalidOperationException("This barrier has an action, but nothing in this process can run it (import the IpcPs module).");

            public object? Unwrap(object? value) => value;

            public bool IsWrapped(object? value) => false;

            public Messaging.IMessageFallback? Messages => null;

            public CancellationToken Interrupt => CancellationToken.None;

            public bool IsConcatenating => false;
        }
    }
}
