BeforeAll {
    . $PSScriptRoot/Common.ps1
}

# ToString() of a managed dict, list or namespace prints what the manager holds, which any client (or a hostile
# manager) chose: a value that contains itself, a dict that holds its own proxy, or a small message whose shared
# references unfold into an exponential tree must print in bounded time and memory, never overflow the stack (which
# ends the process). Each case runs in a child pwsh, so a crash fails the test instead of ending the run.
Describe 'ToString() of a managed object whose contents are hostile' {
    It 'a value that contains itself and a dict that holds its own proxy print as Python prints them ([...], {...})' {
        $r = Invoke-Pwsh @'
$m = Start-IpcManager
try {
    $a = [object[]]::new(2); $a[0] = 1; $a[1] = $a
    $d = $m.Dict(); $d['x'] = $a
    $l = $m.List(); $l.Append($l)
    $ns = $m.Namespace(); $ns.me = $ns
    $d['self'] = $d
    'dict: ' + $d.ToString()
    'list: ' + $l.ToString()
    'ns: ' + $ns.ToString()
} finally { Stop-IpcManager $m }
'@ -TimeoutSeconds 120
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $r.Lines | Should -Contain "dict: {'x': [1, [...]], 'self': {...}}"
        $r.Lines | Should -Contain 'list: [[...]]'
        $r.Lines | Should -Contain 'ns: Namespace(me=Namespace(...))'
    }

    It 'shared references that unfold into 2^60 items print a bounded text, at once' {
        $r = Invoke-Pwsh @'
$m = Start-IpcManager
try {
    $a = [object[]]@('leaf')
    for ($i = 0; $i -lt 60; $i++) { $a = [object[]]@($a, $a) }   # 61 arrays on the wire, 2^60 leaves unfolded
    $l = $m.List(); $l.Append($a)
    $s = $l.ToString()
    "length: $($s.Length)"
    'end: ' + $s.Substring($s.Length - 3)
} finally { Stop-IpcManager $m }
'@ -TimeoutSeconds 60
        $r.ExitCode | Should -Be 0 -Because ($r.Lines -join "`n")
        $length = [int]((@($r.Lines) -match '^length: ' | Select-Object -First 1) -replace 'length: ')
        $length | Should -BeGreaterThan 1000
        $length | Should -BeLessOrEqual ([IpcPs.ManagedList].Assembly.GetType('IpcPs.PyRepr').GetField('MaxChars', [Reflection.BindingFlags]'Static,Public,NonPublic').GetValue($null) + 3)
        $r.Lines | Should -Contain 'end: ...' -Because 'a cut repr says so'
    }
}
