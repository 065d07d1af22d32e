<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing Pipe example: a child process sends a message through its end of a
    pipe, the parent receives it.
.DESCRIPTION
    Python:
        parent_conn, child_conn = Pipe()
        p = Process(target=myfunction, args=(child_conn,))   # myfunction: conn.send(['hi!! I am Python']); conn.close()
        p.start(); print(parent_conn.recv()); p.join()
    As in Python, the parent closes its copy of the child's end once the child has it: then, once the child has
    ended, the parent's end reports the end of the stream instead of waiting.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$parentConn, $childConn = New-IpcPipe
$p = Start-IpcProcess -ArgumentList $childConn {
    param($conn)
    $conn.Send(@('hi!! I am PowerShell'))
    $conn.Close()
}
$childConn.Close()                           # the child holds its end now (Python: child_conn.close())
$message = $parentConn.Recv()
"$message"                                   # the list the child sent
$p | Wait-IpcProcess -PassThru | Remove-Job
try { $parentConn.Recv() } catch [IpcPs.ConnectionClosedException] { 'the child has closed its end' }
$parentConn.Close()
