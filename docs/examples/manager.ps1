<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Manager example: a child process fills a managed dict and reverses
    a managed list; the parent prints both.
.DESCRIPTION
    Python:
        def f(d, l):
            d[1] = '1'; d['2'] = 2; d[0.25] = None
            l.reverse()
        with Manager() as manager:
            d = manager.dict(); l = manager.list(range(10))
            p = Process(target=f, args=(d, l)); p.start(); p.join()
            print(d); print(l)
    prints {0.25: None, 1: '1', '2': 2} and [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]. The article's dict order is an old
    CPython's hash order; a managed dict keeps insertion order (as CPython 3.7+ does), so the keys are printed sorted
    here to give the article's line. Then the manager's socket directory is checked to be gone.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

function Format-PyDict($dict) {
    $repr = { param($v) if ($null -eq $v) { 'None' } elseif ($v -is [string]) { "'$v'" } else { "$v" } }
    $entries = $dict.GetEnumerator() | Sort-Object { "$($_.Key)" } | ForEach-Object { "$(& $repr $_.Key): $(& $repr $_.Value)" }
    '{' + ($entries -join ', ') + '}'
}

$directory = Use-IpcManager {
    param($manager)
    $d = $manager.Dict()
    $l = $manager.List(0..9)
    $f = {
        param($d, $l)
        $d[1] = '1'
        $d['2'] = 2
        $d[0.25] = $null
        $l.Reverse()
    }
    Start-IpcProcess $f -ArgumentList $d, $l | Wait-IpcProcess -PassThru | Remove-Job
    Format-PyDict $d
    $l.ToString()
    $manager.Directory
}
$directory[0..1]
"socket directory left: $(Test-Path $directory[2])"
