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

# ShareableList interop: the same segment read and changed by both sides, every item type, both directions.
Describe 'ShareableList interop with CPython' -Skip:(-not (Get-Command python3 -ErrorAction SilentlyContinue)) {
    It 'CPython reads and changes a list New-ShareableList created, byte for byte the list CPython would make' {
        $name = New-TestName 'psl'
        $sl = New-ShareableList $name -InputObject @(-5, 2.5, $true, 'héllo wörld', [byte[]](0x48, 0x69, 0, 0x21), $null, 9223372036854775807, $false)
        try {
            $format = $sl.Format
            $result = Invoke-Python @"
from multiprocessing import shared_memory, resource_tracker
sl = shared_memory.ShareableList(name='$name')
resource_tracker.unregister(sl.shm._name, 'shared_memory')   # attached only: CPython must not unlink it at exit
print(repr(list(sl)))
print(sl.format)
ref = shared_memory.ShareableList([-5, 2.5, True, 'héllo wörld', b'Hi\x00!', None, 9223372036854775807, False])
print(bytes(ref.shm.buf) == bytes(sl.shm.buf[:ref.shm.size]) and ref.shm.size == sl.shm.size)
ref.shm.close(); ref.shm.unlink()
sl[0] = 'text'; sl[1] = None; sl[2] = 7; sl[3] = b'bytes'; sl[4] = 1.25; sl[5] = True; sl[6] = -1; sl[7] = 'ok'
sl.shm.close()
"@
            $result[0] | Should -Be "[-5, 2.5, True, 'héllo wörld', b'Hi\x00!', None, 9223372036854775807, False]"
            $result[1] | Should -Be $format
            $format | Should -Be 'qdxxxxxxx?16s8sxxxxxx?xqxxxxxxx?'
            $result[2] | Should -Be 'True'
            $sl[0] | Should -BeExactly 'text'
            $sl[1] | Should -BeNullOrEmpty
            $sl[2] | Should -Be 7
            $sl[2] | Should -BeOfType ([long])
            [Text.Encoding]::ASCII.GetString($sl[3]) | Should -Be 'bytes'
            $sl[4] | Should -Be 1.25
            $sl[5] | Should -BeTrue
            $sl[5] | Should -BeOfType ([bool])
            $sl[6] | Should -Be -1
            $sl[7] | Should -Be 'ok'
        } finally { $sl.Close() }
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }

    It 'opens with Get-IpcObject -Kind ShareableList a list CPython created, reads and changes it, and CPython sees the change' {
        $name = New-TestName 'pyl'
        $psi = [Diagnostics.ProcessStartInfo]::new('python3')
        $psi.ArgumentList.Add('-c')
        $psi.ArgumentList.Add(@"
import sys
from multiprocessing import shared_memory
sl = shared_memory.ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42, 'ünï'], name='$name')
print('ready', flush=True)
sys.stdin.readline()
print(repr(list(sl)), flush=True)
print(sl.format, flush=True)
sl.shm.close(); sl.shm.unlink()
"@)
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true
        $psi.StandardOutputEncoding = [Text.Encoding]::UTF8
        $psi.Environment['PYTHONIOENCODING'] = 'utf-8'
        $py = [Diagnostics.Process]::Start($psi)
        try {
            $py.StandardOutput.ReadLine() | Should -Be 'ready'
            $sl = Get-IpcObject -Name $name -Kind ShareableList
            try {
                Should -ActualValue $sl -BeOfType ([IpcPs.ShareableList])   # piped, a list is its items (as an array)
                $sl.Status | Should -Be 'Foreign'
                $sl.Count | Should -Be 8
                $sl.Format | Should -Be '8s8sdqxxxxxx?xxxxxxxx?q8s'
                $sl[0] | Should -BeExactly 'howdy'
                [Text.Encoding]::ASCII.GetString($sl[1]) | Should -BeExactly 'HoWdY'
                $sl[2] | Should -Be -273.154
                $sl[3] | Should -Be 100
                $sl[4] | Should -BeNullOrEmpty
                $sl[5] | Should -BeTrue
                $sl[6] | Should -Be 42
                $sl[7] | Should -Be 'ünï'
                $sl.IndexOf(42) | Should -Be 6
                $sl[0] = [byte[]](1, 2)
                $sl[1] = 'dry ice'
                $sl[2] = $false
                $sl[3] = $null
                $sl[4] = -1.5
                $sl[5] = 'x'
                $sl[6] = [long]::MinValue
                Get-ThrownException { $sl.Set(7, 'this does not fit') } | Should -BeOfType ([IpcPs.IpcStorageException])
                $sl[-1] = 'ça va'
            } finally { $sl.Close() }
            Test-Path "/dev/shm/$name" | Should -BeTrue -Because 'closing a foreign segment never destroys it'
            $py.StandardInput.WriteLine('go')
            $py.StandardOutput.ReadLine() | Should -Be "[b'\x01\x02', 'dry ice', False, None, -1.5, 'x', -9223372036854775808, 'ça va']"
            $py.StandardOutput.ReadLine() | Should -Be '8s8sxxxxxxx?xxxxxx?xd8sq8s'
        } finally {
            $py.StandardInput.Close()
            if (-not $py.WaitForExit(30000)) { $py.Kill() }
        }
        Test-Path "/dev/shm/$name" | Should -BeFalse
    }
}
