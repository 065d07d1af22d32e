using System;
using System.Collections.Generic;

namespace IpcPs.Hosting
{
    /// <summary>
    /// The handles <see cref="IpcObjectConverter.ConvertFrom(object, Type, IFormatProvider, bool)"/> attached on this
    /// thread while the log was open. PowerShell's deserializer calls the converter itself for every handle descriptor it
    /// meets (types.ps1xml: TargetTypeForDeserialization), so when a CLIXML text fails to deserialize after one, the
    /// handles it attached are in no value anyone can walk: only this log reaches them. Logs nest (an inner one hides
    /// the outer one until it is disposed). Proxies are not logged: one holds nothing until its first call.
    /// </summary>
    internal sealed class AttachLog : IDisposable
    {
        [ThreadStatic] private static AttachLog? _open;
        private readonly AttachLog? _outer;
        private readonly List<IDisposable> _handles = new List<IDisposable>();

        private AttachLog(AttachLog? outer) => _outer = outer;

        /// <summary>Opens a log on this thread; dispose it to stop logging.</summary>
        public static AttachLog Open() => _open = new AttachLog(_open);

        /// <summary>Notes HANDLE (a live IPC or backend handle just attached) in the log open on this thread, if any.</summary>
        public static T Note<T>(T handle) where T : IDisposable
        {
            _open?._handles.Add(handle);
            return handle;
        }

        /// <summary>Closes every handle logged (each once; <see cref="IpcObjectConverter.CloseAll"/>).</summary>
        public void CloseAll()
        {
            IpcObjectConverter.CloseAll(_handles);
            _handles.Clear();
        }

        public void Dispose()
        {
            if (ReferenceEquals(_open, this)) _open = _outer;
        }
    }
}
