<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Lock example: ten processes print "hello world i", one at a time.
.DESCRIPTION
    Python:
        def f(l, i):
            l.acquire()
            try: print('hello world', i)
            finally: l.release()
        lock = Lock()
        for num in range(10): Process(target=f, args=(lock, num)).start()
    Here each child takes the lock with Use-IpcLock (which always releases it), prints straight to the console,
    and the parent waits for all ten.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$lock = New-IpcLock
$jobs = foreach ($num in 0..9) {
    Start-IpcProcess -ArgumentList $lock, $num {
        param($l, $i)
        Use-IpcLock $l { [Console]::WriteLine("hello world $i") }
    }
}
# Lines a child writes to the console arrive as its output: print them in the order the children finished.
$jobs | Wait-IpcProcess -PassThru | Receive-Job
$jobs | Remove-Job
$lock.Close()
