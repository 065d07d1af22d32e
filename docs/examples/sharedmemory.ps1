<#
.SYNOPSIS
    PowerShell counterpart of Python's multiprocessing SharedMemory walkthrough (two handles on one block of bytes).
.DESCRIPTION
    Python:
        shm_a = shared_memory.SharedMemory(create=True, size=10)
        buffer = shm_a.buf; len(buffer)                  # 10
        buffer[:4] = bytearray([22, 33, 44, 55]); buffer[4] = 100
        shm_b = shared_memory.SharedMemory(shm_a.name)
        array.array('b', shm_b.buf[:5])                  # array('b', [22, 33, 44, 55, 100])
        shm_b.buf[:5] = b'howdy'
        bytes(shm_a.buf[:5])                             # b'howdy'
        shm_b.close(); shm_a.close(); shm_a.unlink()
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../../out/IpcPs/IpcPs.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$shmA = New-SharedMemory -Size 10
$shmA.GetType().FullName
$shmA.Size
$shmA.Write(0, [byte[]](22, 33, 44, 55))   # modify several bytes at once
$shmA[4] = 100                             # modify a single byte
$shmB = Get-IpcObject -Name $shmA.Name -Open   # attach to the existing block (CPython: SharedMemory(name))
[sbyte[]]$shmB.Read(0, 5) -join ' '
$shmB.Write(0, [Text.Encoding]::ASCII.GetBytes('howdy'))
[Text.Encoding]::ASCII.GetString($shmA.Read(0, 5))
$shmB.Close()
$shmA.Close()

Test-Path "/dev/shm/$($shmA.Name)"
