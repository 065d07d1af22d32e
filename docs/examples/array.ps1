<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Array example: a child process sets element 2 to 9999.
.DESCRIPTION
    Python:
        def func(num): num[2] = 9999
        num = multiprocessing.Array("i", [1, 2, 3, 4, 5])
        p = Process(target=func, args=(num,)); p.start(); p.join()
        print(num[:])
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$num = New-IpcArray -Type i -Value 1, 2, 3, 4, 5
Start-IpcProcess -ArgumentList $num { param($num) $num[2] = 9999 } | Wait-IpcProcess -PassThru | Remove-Job
$num.ToArray() -join ' '
$num.Close()
