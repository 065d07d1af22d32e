using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>Stable error ids and categories for every exception IpcPs raises: built here and nowhere else.</summary>
    internal static class ErrorRecords
    {
        public const string IpcObjectExists = nameof(IpcObjectExists);
        public const string IpcObjectNotFound = nameof(IpcObjectNotFound);
        public const string IpcObjectRemoved = nameof(IpcObjectRemoved);
        public const string InvalidIpcName = nameof(InvalidIpcName);
        public const string IpcObjectWrongKind = nameof(IpcObjectWrongKind);
        public const string IpcObjectClosed = nameof(IpcObjectClosed);
        public const string IpcArgumentOutOfRange = nameof(IpcArgumentOutOfRange);
        public const string IpcInvalidArgument = nameof(IpcInvalidArgument);
        public const string IpcPlatformError = nameof(IpcPlatformError);
        public const string IpcNotSupported = nameof(IpcNotSupported);
        public const string IpcTimeout = nameof(IpcTimeout);
        public const string IpcError = nameof(IpcError);
        public const string ChildProcessFailed = nameof(ChildProcessFailed);
        public const string IpcPathNotFound = nameof(IpcPathNotFound);
        public const string IpcLockAbandoned = nameof(IpcLockAbandoned);
        public const string BrokenBarrier = nameof(BrokenBarrier);
        public const string IpcInvalidSyncState = nameof(IpcInvalidSyncState);
        public const string QueueFull = nameof(QueueFull);
        public const string QueueEmpty = nameof(QueueEmpty);
        public const string ConnectionClosed = nameof(ConnectionClosed);
        public const string MessageTooLarge = nameof(MessageTooLarge);
        public const string MessageFormat = nameof(MessageFormat);
        public const string TaskDoneTooOften = nameof(TaskDoneTooOften);
        public const string IpcInvalidOperation = nameof(IpcInvalidOperation);
        public const string IpcStorageExceeded = nameof(IpcStorageExceeded);
        public const string IpcValueOverflow = nameof(IpcValueOverflow);
        public const string PoolWorkerDied = nameof(PoolWorkerDied);
        public const string ManagerAuthenticationFailed = nameof(ManagerAuthenticationFailed);
        public const string ManagerRemoteError = nameof(ManagerRemoteError);
        public const string ManagerStartFailed = nameof(ManagerStartFailed);
        public const string IpcObjectCorrupt = nameof(IpcObjectCorrupt);
        public const string IpcObjectNotOwned = nameof(IpcObjectNotOwned);
        public const string IpcPidNamespaceMismatch = nameof(IpcPidNamespaceMismatch);
        public const string ManagerAddressInUse = nameof(ManagerAddressInUse);
        public const string BackendAuthenticationFailed = nameof(BackendAuthenticationFailed);
        public const string BackendUnavailable = nameof(BackendUnavailable);
        public const string BackendOutcomeUnknown = nameof(BackendOutcomeUnknown);
        public const string BackendNotTrusted = nameof(BackendNotTrusted);
        public const string LeaseLost = nameof(LeaseLost);
        public const string DeliveryExpired = nameof(DeliveryExpired);
        public const string BackendError = nameof(BackendError);

        public static ErrorRecord From(Exception e, object? target)
        {
            var (id, category) = e switch
            {
                IpcObjectExistsException _ => (IpcObjectExists, ErrorCategory.ResourceExists),
                IpcBackendAuthenticationException _ => (BackendAuthenticationFailed, ErrorCategory.SecurityError),
                IpcBackendUnavailableException _ => (BackendUnavailable, ErrorCategory.ConnectionError),
                IpcBackendOutcomeUnknownException _ => (BackendOutcomeUnknown, ErrorCategory.ConnectionError),
                IpcBackendNotTrustedException _ => (BackendNotTrusted, ErrorCategory.SecurityError),
                LeaseLostException _ => (LeaseLost, ErrorCategory.ResourceUnavailable),
                DeliveryExpiredException _ => (DeliveryExpired, ErrorCategory.InvalidOperation),
                ManagerAuthenticationException _ => (ManagerAuthenticationFailed, ErrorCategory.SecurityError),
                ManagerRemoteException _ => (ManagerRemoteError, ErrorCategory.InvalidOperation),
                ManagerStartException _ => (ManagerStartFailed, ErrorCategory.OpenError),
                ManagerAddressInUseException _ => (ManagerAddressInUse, ErrorCategory.ResourceBusy),
                AbandonedLockException _ => (IpcLockAbandoned, ErrorCategory.ResourceUnavailable),
                IpcPidNamespaceException _ => (IpcPidNamespaceMismatch, ErrorCategory.OpenError),
                BrokenBarrierException _ => (BrokenBarrier, ErrorCategory.OperationStopped),
                IpcSyncStateException _ => (IpcInvalidSyncState, ErrorCategory.InvalidOperation),
                QueueFullException _ => (QueueFull, ErrorCategory.LimitsExceeded),
                QueueEmptyException _ => (QueueEmpty, ErrorCategory.ResourceUnavailable),
                ConnectionClosedException _ => (ConnectionClosed, ErrorCategory.ConnectionError),
                MessageTooLargeException _ => (MessageTooLarge, ErrorCategory.LimitsExceeded),
                MessageFormatException _ => (MessageFormat, ErrorCategory.InvalidData),
                TaskDoneException _ => (TaskDoneTooOften, ErrorCategory.InvalidOperation),
                PoolInitializationException _ => (ChildProcessFailed, ErrorCategory.OpenError),
                InvalidOperationException _ when !(e is ObjectDisposedException) => (IpcInvalidOperation, ErrorCategory.InvalidOperation),
                IpcObjectNotFoundException _ => (IpcObjectNotFound, ErrorCategory.ObjectNotFound),
                IpcObjectRemovedException _ => (IpcObjectRemoved, ErrorCategory.ObjectNotFound),
                IpcStorageException _ => (IpcStorageExceeded, ErrorCategory.LimitsExceeded),
                OverflowException _ => (IpcValueOverflow, ErrorCategory.InvalidArgument),
                InvalidIpcNameException _ => (InvalidIpcName, ErrorCategory.InvalidArgument),
                IpcObjectCorruptException _ => (IpcObjectCorrupt, ErrorCategory.InvalidData),
                IpcObjectOwnerException _ => (IpcObjectNotOwned, ErrorCategory.PermissionDenied),
                IpcObjectKindException _ => (IpcObjectWrongKind, ErrorCategory.InvalidType),
                ObjectDisposedException _ => (IpcObjectClosed, ErrorCategory.ResourceUnavailable),
                System.IO.DirectoryNotFoundException _ => (IpcPathNotFound, ErrorCategory.ObjectNotFound),
                ArgumentOutOfRangeException _ => (IpcArgumentOutOfRange, ErrorCategory.InvalidArgument),
                ArgumentException _ => (IpcInvalidArgument, ErrorCategory.InvalidArgument),
                IpcNotSupportedException _ => (IpcNotSupported, ErrorCategory.NotImplemented),
                IpcPlatformException p when p.IsPermissionDenied
                    => (IpcPlatformError, ErrorCategory.PermissionDenied),
                IpcPlatformException p when p.IsResourceLimit => (IpcPlatformError, ErrorCategory.LimitsExceeded),
                IpcPlatformException _ => (IpcPlatformError, ErrorCategory.ResourceUnavailable),
                TimeoutException _ => (IpcTimeout, ErrorCategory.OperationTimeout),
                IpcBackendException _ => (BackendError, ErrorCategory.NotSpecified),
                _ => (IpcError, ErrorCategory.NotSpecified),
            };
            var record = new ErrorRecord(e, id, category, target);
            string clean = Clean(e.Message);
            if (clean != e.Message) record.ErrorDetails = new ErrorDetails(clean);
            return record;
        }

        /// <summary>
        /// MESSAGE without what .NET appends for programmers: "Object name: '…'." (ObjectDisposedException), "Actual
        /// value was …." and " (Parameter '…')" (argument exceptions). The message itself says which object and why.
        /// </summary>
        internal static string Clean(string message)
        {
            var lines = message.Replace("\r\n", "\n").Split('\n');
            var kept = new System.Collections.Generic.List<string>();
            foreach (var raw in lines)
            {
                string line = raw;
                if (line.StartsWith("Object name: ", StringComparison.Ordinal) || line.StartsWith("Actual value was ", StringComparison.Ordinal)) continue;
                int p = line.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
                if (p > 0 && line.EndsWith("')", StringComparison.Ordinal)) line = line.Substring(0, p);
                kept.Add(line);
            }
            return string.Join(Environment.NewLine, kept).TrimEnd();
        }
    }
}
