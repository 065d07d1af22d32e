<#
.SYNOPSIS
    Python's multiprocessing SharedMemoryManager example done the way its comment suggests ("A multiprocessing.Pool might
    be more efficient"): the halves of a 2000-item ShareableList are summed by a pool of two warm workers.
.DESCRIPTION
    Python:
        with SharedMemoryManager() as smm, Pool(2) as pool:
            sl = smm.ShareableList(range(2000))
            pool.starmap(do_work, [(sl, 0, 1000), (sl, 1000, 2000)])
            total_result = sum(sl)
    Each item is a hashtable with the list's handle and a range; the handle arrives re-attached in the worker.
    do_work stores its partial sum in the first slot of its half and zeroes the rest, so the list sums to the total.
    Then the same pool sums squares, to show it is used again without starting processes.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$pool = New-IpcPool -Size 2
try {
    $name = Use-IpcScope {
        $sl = 0..1999 | New-ShareableList
        $halves = @{ List = $sl; Start = 0; End = 1000 }, @{ List = $sl; Start = 1000; End = 2000 }
        $halves | Invoke-IpcPool -Pool $pool {
            $sl = $_.List
            $sum = 0
            for ($i = $_.Start; $i -lt $_.End; $i++) { $sum += $sl[$i]; $sl[$i] = 0 }
            $sl[$_.Start] = $sum
        }
        "partial sums: $($sl[0]) $($sl[1000])"
        "total: $(($sl.ToArray() | Measure-Object -Sum).Sum)"
        $sl.Name
    }
    $name[0..1]
    "left in /dev/shm: $(Test-Path "/dev/shm/$($name[2])")"
    "sum of squares 1..100: $((1..100 | Invoke-IpcPool -Pool $pool { $_ * $_ } | Measure-Object -Sum).Sum)"
} finally {
    Remove-IpcPool $pool
}
