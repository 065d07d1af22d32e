BeforeAll { . $PSScriptRoot/Common.ps1 }

# Interop with the machine's CPython 3.11 (shared_memory.SharedMemory attaches /dev/shm/NAME by name).
Describe 'SharedMemory interop with CPython' -Skip:(-not (Get-Command python3 -ErrorAction SilentlyContinue)) {
    It 'opens with Get-IpcObject a segment CPython created, and reads and changes it' {
        $name = New-TestName 'py'
        # CPython creates the segment, writes, then waits for a line on stdin so the segment lives while we look.
        $psi = [Diagnostics.ProcessStartInfo]::new('python3')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add(@"
import sys
from multiprocessing import shared_memory
shm = shared_memory.SharedMemory(name='$name', create=True, size=10)
shm.buf[:5] = b'howdy'
print('ready', flush=True)
sys.stdin.readline()
print(bytes(shm.buf[:10]).hex(), flush=True)
shm.close(); shm.unlink()
"@)
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true
        $py = [Diagnostics.Process]::Start($psi)
        try {
            $py.StandardOutput.ReadLine() | Should -Be 'ready'
            $shm = Get-IpcObject -Name $name
            $shm.Kind | Should -Be 'SharedMemory'
            $shm.Size | Should -Be 10
            $shm.Status | Should -Be 'Foreign'
            [Text.Encoding]::ASCII.GetString($shm.Read(0, 5)) | Should -Be 'howdy'
            $shm.Write(5, [Text.Encoding]::ASCII.GetBytes('HELLO'))
            $shm.Close()
            Test-Path "/dev/shm/$name" | Should -BeTrue -Because 'closing a foreign segment never destroys it'
            $py.StandardInput.WriteLine('go')
            $py.StandardOutput.ReadLine() | Should -Be ([Convert]::ToHexString([Text.Encoding]::ASCII.GetBytes('howdyHELLO')).ToLower())
        } finally {
            $py.StandardInput.Close()
            if (-not $py.WaitForExit(30000)) { $py.Kill() }
        }
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }

    It 'lets CPython attach by name a segment New-SharedMemory created, read it and write back' {
        $name = New-TestName 'ps'
        $shm = New-SharedMemory $name 4096
        try {
            $shm.Write(0, [Text.Encoding]::UTF8.GetBytes('from pwsh'))
            $result = Invoke-Python @"
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name='$name')
# Attaching registers the segment with CPython's tracker, which would unlink it at exit (gh-82300): unregister.
resource_tracker.unregister(shm._name, 'shared_memory')
print(shm.size)
print(bytes(shm.buf[:9]).decode())
shm.buf[100:106] = b'python'
shm.close()
"@
            $result[0] | Should -Be '4096'
            $result[1] | Should -Be 'from pwsh'
            [Text.Encoding]::ASCII.GetString($shm.Read(100, 6)) | Should -Be 'python'
        } finally { $shm.Close() }
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }

    It 'refuses to create a name CPython already holds, as CPython refuses ours' {
        $name = New-TestName 'px'
        $shm = New-SharedMemory $name 16
        try {
            $result = Invoke-Python @"
from multiprocessing import shared_memory
try:
    shared_memory.SharedMemory(name='$name', create=True, size=16)
    print('created')
except FileExistsError:
    print('exists')
"@
            $result | Should -Be 'exists'
        } finally { $shm.Close() }
    }
}
