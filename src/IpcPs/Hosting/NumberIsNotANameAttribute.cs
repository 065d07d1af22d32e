using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On the New-* cmdlets' -Name (their first positional parameter): a number given for it is refused. CPython's
    /// constructors take a count or a size first (<c>Semaphore(3)</c>, <c>Queue(100)</c>, <c>Barrier(3)</c>); without this,
    /// <c>New-IpcSemaphore 3</c> made a semaphore named '3' with the default count of 1, silently, and
    /// <c>New-IpcQueue 100</c> an unbounded queue named '100'. A name made of digits is still a name when given as a
    /// string ('3', or a string variable): only the argument's type is looked at, before PowerShell converts it.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class NumberIsNotANameAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (IsNumber(value))
                throw new ArgumentTransformationMetadataException(
                    $"{value} is a number, not a name; a name made of digits is given as a string ('{value}'). -Name is the first " +
                    "positional parameter of the New-* commands: a count or a size goes by its parameter's name (New-IpcSemaphore " +
                    "-InitialCount 3, New-IpcQueue -MaxSize 100, New-IpcBarrier -Parties 3, New-SharedMemory -Size 1KB).");
            return inputData;
        }

        /// <summary>A value of one of .NET's numeric types (an enum is not one: its type code is its underlying type's).</summary>
        private static bool IsNumber(object? value) =>
            value is IConvertible c && !(value is Enum) && c.GetTypeCode() >= TypeCode.SByte && c.GetTypeCode() <= TypeCode.Decimal
            || value is System.Numerics.BigInteger;
    }
}
