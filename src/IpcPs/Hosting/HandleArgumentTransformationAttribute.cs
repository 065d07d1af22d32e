using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// Keeps a handle given alone as one argument of an array parameter (-ArgumentList, -InputObject). IpcArray,
    /// ShareableList and a manager's list are lists to PowerShell, which would otherwise bind their elements, as it
    /// does for an array: Start-IpcProcess -ArgumentList $arr passes the array itself, as it always did.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class HandleArgumentTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            return value is IpcObject || value is IManagedProxy ? new[] { inputData } : inputData;
        }
    }
}
