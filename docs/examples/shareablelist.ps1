<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing ShareableList walkthrough, including "exceeds available storage".
.DESCRIPTION
    Python:
        a = shared_memory.ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42])
        [type(entry) for entry in a]   # str bytes float int NoneType bool int
        a[2]                           # -273.154
        a[2] = -78.5; a[2]             # -78.5
        a[2] = 'dry ice'; a[2]         # 'dry ice'
        a[2] = 'larger than previously allocated storage space'   # ValueError: exceeds available storage
        a[2]                           # 'dry ice'
        len(a); a.index(42); a.count(b'howdy'); a.count(b'HoWdY')   # 7 6 0 1
        b = shared_memory.ShareableList(range(5))      # in a first process
        c = shared_memory.ShareableList(name=b.shm.name)   # in a second process
        c[-1] = -999; b[-1]                            # -999
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$a = New-ShareableList -InputObject @('howdy', [byte[]][char[]]'HoWdY', -273.154, 100, $null, $true, 42)
($a.ToArray() | ForEach-Object { if ($null -eq $_) { 'null' } else { $_.GetType().Name } }) -join ' '
$a[2]
$a[2] = -78.5
$a[2]
$a[2] = 'dry ice'          # changing the type of an item works too
$a[2]
try { $a.Set(2, 'larger than previously allocated storage space') }
catch { "error: $($_.Exception.InnerException.Message -replace "'ipc_\w+'", "'...'")" }
$a[2]
$a.Count
$a.IndexOf(42)
$a.CountOf([byte[]][char[]]'howdy')
$a.CountOf([byte[]][char[]]'HoWdY')
$a.Close()

# One list, two processes: the child opens it by name and changes the last item.
$b = 0..4 | New-ShareableList
Start-IpcProcess -ArgumentList $b.Name {
    param($name)
    $c = Get-IpcObject -Name $name
    $c.ToArray() -join ' '
    $c[-1] = -999
    $c.Close()
} | Wait-IpcProcess -PassThru | Wait-Job | Receive-Job -AutoRemoveJob -Wait
$b[-1]
$b.Close()
