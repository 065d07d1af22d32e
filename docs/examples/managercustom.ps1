<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing "register a custom type" example: a MathsClass served by a manager.
.DESCRIPTION
    Python:
        class MathsClass:
            def add(self, x, y): return x + y
            def mul(self, x, y): return x * y
        class MyManager(BaseManager): pass
        MyManager.register('Maths', MathsClass)
        with MyManager() as manager:
            maths = manager.Maths()
            print(maths.add(4, 3))   # prints 7
            print(maths.mul(7, 8))   # prints 56
    The class is defined in the script that runs in the manager process (-InitializationScript); the same is done
    with a .NET type ([System.Text.StringBuilder]) whose exposed members are listed. A member that is not exposed
    cannot be called.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$classes = {
    class MathsClass {
        [int] Add([int] $x, [int] $y) { return $x + $y }
        [int] Mul([int] $x, [int] $y) { return $x * $y }
    }
}
$register = @{
    Maths   = 'MathsClass'
    Builder = @{ Type = [System.Text.StringBuilder]; Exposed = 'Append', 'ToString' }
}
Use-IpcManager -InitializationScript $classes -Register $register {
    param($manager)
    $maths = $manager.Maths()
    $maths.Add(4, 3)
    $maths.Mul(7, 8)
    $builder = $manager.Builder('seed')
    $null = $builder.Append(' article')
    $builder.Invoke('ToString')   # ToString() on the proxy describes the proxy; Invoke calls the member by name
    try { $builder.Clear() } catch { "Clear: $($_.Exception.Message)" }
}
