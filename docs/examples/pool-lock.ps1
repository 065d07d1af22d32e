<#
.SYNOPSIS
    Python's multiprocessing Lock example with a pool: ten items print "hello world i", one at a time, in two workers.
.DESCRIPTION
    Python:
        def f(l, i):
            l.acquire()
            try: print('hello world', i)
            finally: l.release()
        lock = Lock()
        with Pool(2) as pool: pool.starmap(f, [(lock, num) for num in range(10)])
    (CPython cannot pass a Lock to pool workers as an argument — it must go through the initializer or a Manager;
    here the lock is an argument like any other, re-attached in each worker.)
    The items write their lines as output; -Ordered returns them in the order of the input.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$lock = New-IpcLock
0..9 | Invoke-IpcPool -ThrottleLimit 2 -Ordered -ArgumentList $lock {
    param($l)
    Use-IpcLock $l { "hello world $_ (worker $PID)" }
} | ForEach-Object { $_ -replace ' \(worker \d+\)$' }
$lock.Close()
