# An object that was looked at (Get-IpcObject -Name: a described handle that maps it to read, never a holder) is
# destroyed by its last Close like any other: the name is free again. On Windows a name lives while any handle on its
# mapping is open; the look's mapping of the kinds that keep their memory mapped after Close (synchronisation objects,
# queues, ShareableList) kept it until garbage collection, so the name stayed taken (listed as Foreign).
BeforeAll { . $PSScriptRoot/Common.ps1 }

Describe 'Closing what was looked at' -Tag 'Windows' {
    It 'frees the name of a <Kind> that was looked at and used, once every handle is closed' -ForEach @(
        @{ Kind = 'Lock'; Make = { param($n) New-IpcLock $n }; Use = { param($o) $null = $o.IsLocked } }
        @{ Kind = 'Queue'; Make = { param($n) New-IpcQueue $n }; Use = { param($o) $null = $o.QSize() } }
        @{ Kind = 'ShareableList'; Make = { param($n) 0..4 | New-ShareableList $n }; Use = { param($o) $o[-1] = -999 } }
    ) {
        $name = New-TestName
        $made = & $Make $name
        $look = Get-IpcObject -Name $name
        try { & $Use $look } finally { $look.Close(); $made.Close() }
        $left = Get-IpcObject -Name $name -ErrorAction SilentlyContinue
        "$($left.Status)" | Should -BeNullOrEmpty -Because 'the last Close destroyed it'
        $again = & $Make $name
        $again.Close()
    }
}
