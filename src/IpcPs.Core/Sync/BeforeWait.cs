using System;

namespace IpcPs.Core.Sync
{
    /// <summary>
    /// What a thread must do before it waits on anything of IpcPs: Send-IpcMessage gathers the items its pipeline
    /// produces back to back into a batch, and registers here the flush of what it holds, so that the thread never
    /// sleeps (waiting for a reply, say, in the command before it: <c>Receive-IpcMessage $in | Send-IpcMessage $out</c>)
    /// while a message it was given is still held back. <see cref="SignalWord.Await"/> and <see cref="WordWait.Sleep"/>
    /// run it first. Per thread; an action is removed before it runs, so a flush that itself waits does not run again.
    /// </summary>
    internal static class BeforeWait
    {
        [ThreadStatic] private static Action? _actions;

        /// <summary>Adds ACTION for this thread's next wait (once).</summary>
        public static void Register(Action action) => _actions += action;

        /// <summary>Removes ACTION if it has not run yet.</summary>
        public static void Unregister(Action action) => _actions -= action;

        /// <summary>Runs (and removes) what is registered on this thread; nothing registered costs one thread-static read.</summary>
        public static void Run()
        {
            var actions = _actions;
            if (actions is null) return;
            _actions = null;
            actions();
        }
    }
}
