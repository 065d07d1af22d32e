using System;
using System.Management.Automation;

namespace IpcPs.Hosting
{
    /// <summary>
    /// On the New-* cmdlets' -Name (their first positional parameter): a number given for it is refused. CPython's
    /// constructors take a count or a size first (<c>Semaphore(3)</c>, <c>Queue(100)</c>, <c>Barrier(3)</c>); without this,
    /// <c>New-IpcSemaphore 3</c> made a semaphore named '3' with the default count of 1, silently, and
    /// <c>New-IpcQueue 100</c> an unbounded queue named '100'. A name made of digits is still a name when given as a
    /// string ('3', or "$i"): only the argument's type is looked at, before PowerShell converts it. So a number in a
    /// variable is refused too (a loop's counter, $PID, a number from ConvertFrom-Json): Transform cannot tell a position
    /// from -Name, nor a literal from a variable.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class NumberIsNotANameAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (IsNumber(value))
            {
                // As PowerShell would have bound it (007, 1.10, 0x10 stay as typed; never a culture's decimal comma).
                string text = LanguagePrimitives.ConvertTo<string>(inputData);
                throw new ArgumentTransformationMetadataException(
                    $"{text} is a number, not a name; a name made of digits is given as a string ('{text}', or \"$i\" for a " +
                    "variable). -Name is the first positional parameter of the New-* commands, where CPython's constructors take a " +
                    "count or a size: give those by name (New-IpcSemaphore -InitialCount 3, New-IpcQueue -MaxSize 100).");
            }
            return inputData;
        }

        /// <summary>A value of one of .NET's numeric types (an enum is not one: its type code is its underlying type's).</summary>
        private static bool IsNumber(object? value) =>
            value is IConvertible c && !(value is Enum) && c.GetTypeCode() >= TypeCode.SByte && c.GetTypeCode() <= TypeCode.Decimal
            || value is System.Numerics.BigInteger;
    }
}
