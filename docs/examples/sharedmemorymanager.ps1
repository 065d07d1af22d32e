<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing SharedMemoryManager example: two processes each sum half of a
    2000-item ShareableList, inside a scope that destroys everything it created when it ends.
.DESCRIPTION
    Python:
        with SharedMemoryManager() as smm:
            sl = smm.ShareableList(range(2000))
            p1 = Process(target=do_work, args=(sl, 0, 1000))
            p2 = Process(target=do_work, args=(sl, 1000, 2000))
            p1.start(); p2.start(); p1.join(); p2.join()
            total_result = sum(sl)
    Here do_work stores its partial sum in the first item of its half and zeroes the rest, so that the sum of the
    whole list is the total.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$name = Use-IpcScope {
    $sl = 0..1999 | New-ShareableList
    $doWork = {
        param($sl, [int] $start, [int] $end)
        $sum = 0
        for ($i = $start; $i -lt $end; $i++) { $sum += $sl[$i]; $sl[$i] = 0 }
        $sl[$start] = $sum
    }
    $p1 = Start-IpcProcess $doWork -ArgumentList $sl, 0, 1000
    $p2 = Start-IpcProcess $doWork -ArgumentList $sl, 1000, 2000
    $p1, $p2 | Wait-IpcProcess -PassThru | Remove-Job
    $total = ($sl.ToArray() | Measure-Object -Sum).Sum
    "partial sums: $($sl[0]) $($sl[1000])"
    "total: $total"
    $sl.Name
}
$name[0..1]
"left in /dev/shm: $(Test-Path "/dev/shm/$($name[2])")"
