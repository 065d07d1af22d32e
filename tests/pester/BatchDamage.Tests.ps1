# A batch receive that meets a damaged message (bytes that are not a message) behaves as that many single receives:
# every good message is delivered once and in order, and the damaged one's error comes once (docs/design.md, "Damaged
# messages in a batch"). Receive-IpcMessage reports it as a single receive does (the terminating MessageFormat error),
# after outputting the messages its batch took after it. Core's cases: tests/IpcPs.Tests/BatchDamageTests.cs.
BeforeAll {
    . $PSScriptRoot/Common.ps1

    # Puts BYTES into CHANNEL as one message, as any process that can write the segment can: through the channel's own
    # private put, with no encoding (as ObjectGraphs.Tests.ps1 sends crafted messages).
    function Send-Crafted($Channel, [byte[]] $Bytes) {
        $deadline = [IpcPs.IpcQueue].Assembly.GetType('IpcPs.Core.Sync.Deadline').GetProperty('Infinite').GetValue($null)
        $flags = [Reflection.BindingFlags]'Instance, NonPublic'
        if ($Channel -is [IpcPs.IpcQueue]) {
            $null = [IpcPs.IpcQueue].GetMethod('TryPut', $flags).Invoke($Channel, @($Bytes, $Bytes.Length, $null, [long]0, $deadline, [Threading.CancellationToken]::None))
        } else {
            $null = [IpcPs.IpcConnection].GetMethod('SendFrame', $flags).Invoke($Channel, @($Bytes, $Bytes.Length, $null, 0, $deadline, [Threading.CancellationToken]::None))
        }
    }

    # Sends 0..9 into CHANNEL, the messages at DAMAGED as bytes that are not a message.
    function Send-Ten($Channel, [int[]] $Damaged) {
        foreach ($i in 0..9) {
            if ($i -in $Damaged) { Send-Crafted $Channel ([byte[]](0xEE, 1, 2)) }
            elseif ($Channel -is [IpcPs.IpcQueue]) { $Channel.Put($i) }
            else { $Channel.Send($i) }
        }
    }

    # Runs RECEIVE (a script block) until an attempt brings nothing and no error: every message output, in order, and
    # the FullyQualifiedErrorId of every error, terminating or not.
    function Receive-Everything([scriptblock] $Receive) {
        $got = [Collections.Generic.List[object]]::new()
        $errors = [Collections.Generic.List[string]]::new()
        for ($try = 0; $try -lt 20; $try++) {
            $before = $got.Count + $errors.Count
            try {
                & $Receive 2>&1 | ForEach-Object {
                    if ($_ -is [Management.Automation.ErrorRecord]) { $errors.Add($_.FullyQualifiedErrorId) } else { $got.Add($_) }
                }
            } catch { $errors.Add($_.FullyQualifiedErrorId) }
            if ($got.Count + $errors.Count -eq $before) { break }
        }
        [pscustomobject]@{ Messages = $got.ToArray(); Errors = $errors.ToArray() }
    }
}

Describe 'A damaged message in a batch' {
    It 'Receive-IpcMessage -Count on a <Kind> given <How>: the messages its batch took after the damaged one come before its error, nothing is lost' -ForEach @(
        @{ Kind = 'queue'; How = 'as a handle' }, @{ Kind = 'queue'; How = 'by name' }, @{ Kind = 'pipe'; How = 'as a handle' }, @{ Kind = 'pipe'; How = 'by name' }
    ) {
        if ($Kind -eq 'queue') { $to = $from = New-IpcQueue (New-TestName 'bd') } else { $from, $to = New-IpcPipe (New-TestName 'bd') }
        try {
            Send-Ten $to 4
            $target = if ($How -eq 'by name') { $from.Name } else { $from }
            # Batches of 1, 2, 4: the third takes 3, the damaged 4, then 5 and 6, which the command outputs before the
            # error (a handle opened by name is closed after it); 7..9 stay in the queue or pipe.
            $first = [Collections.Generic.List[object]]::new()
            $e = $null
            try { Receive-IpcMessage $target -Count 10 -NoWait | ForEach-Object { $first.Add($_) } } catch { $e = $_ }
            $first | Should -Be @(0, 1, 2, 3, 5, 6)
            $e.FullyQualifiedErrorId | Should -Be 'MessageFormat,IpcPs.Commands.ReceiveIpcMessageCommand'
            $e.Exception | Should -BeOfType ([IpcPs.MessageFormatException])
            Receive-IpcMessage $target -Count 10 -NoWait -ErrorAction Stop | Should -Be @(7, 8, 9)
        } finally { $from.Close(); if (-not [object]::ReferenceEquals($to, $from)) { $to.Close() } }
    }

    It 'GetMany, RecvMany, Receive-IpcMessage -All and -Count in turn on a <Kind> with three damaged messages: each good one once, in order, each damaged one an error once' -ForEach @(
        @{ Kind = 'queue' }, @{ Kind = 'pipe' }
    ) {
        if ($Kind -eq 'queue') { $to = $from = New-IpcQueue (New-TestName 'bd') } else { $from, $to = New-IpcPipe (New-TestName 'bd') }
        try {
            Send-Ten $to 2, 5, 6
            # In turn: a method's batch of 3 (the damaged one of the queue or pipe at 2 ends it, 6 fails it at once),
            # Receive-IpcMessage -Count 2 (meets the kept 2), -All (takes 3, 4 and meets 5), and so on.
            $script:attempt = 0
            $seen = Receive-Everything {
                switch ($script:attempt++ % 3) {
                    0 { if ($from -is [IpcPs.IpcQueue]) { $from.GetMany(3, 0) } else { $from.RecvMany(3, 0) } }
                    1 { Receive-IpcMessage $from -Count 2 -NoWait }
                    2 { Receive-IpcMessage $from -All -NoWait }
                }
            }
            $seen.Messages | Should -Be @(0, 1, 3, 4, 7, 8, 9)
            $seen.Errors.Count | Should -Be 3 -Because ($seen.Errors -join ', ')
        } finally { $from.Close(); if (-not [object]::ReferenceEquals($to, $from)) { $to.Close() } }
    }
}

Describe 'A damaged message in a batch of a Redis queue' {
    BeforeAll {
        $script:RedisServer = Start-TestRedis
        $script:Uri = $script:RedisServer.Uri
    }

    BeforeEach {
        if (-not $script:RedisServer) { Set-ItResult -Skipped -Because 'redis-server is not installed (.ci/run installs it)' }
    }

    AfterAll {
        Stop-TestRedis $script:RedisServer
    }

    It 'GetMany keeps the messages after the damaged body, and Receive-IpcMessage -Count outputs them before the damaged one''s error' {
        $name = New-TestName 'bd'
        $q = New-IpcQueue -Name $name -Backend $script:Uri
        try {
            $q.PutMany(@(0..9))
            Invoke-Rcli LSET "ipcps:{$name}:r" 4 'damaged' | Should -Be 'OK'   # a plain queue keeps the bodies in its ready list
            $q.GetMany(10, 1) | Should -Be @(0, 1, 2, 3)
            $q.QSize() | Should -Be 6
            $got = [Collections.Generic.List[object]]::new()
            $e = $null
            try { Receive-IpcMessage $q -Count 6 -NoWait | ForEach-Object { $got.Add($_) } } catch { $e = $_ }
            $got | Should -Be @(5, 6, 7, 8, 9)
            $e.FullyQualifiedErrorId | Should -Be 'MessageFormat,IpcPs.Commands.ReceiveIpcMessageCommand'
            $q.Empty() | Should -BeTrue
            @(Receive-IpcMessage $q -Count 3 -NoWait -ErrorAction Stop) | Should -HaveCount 0
        } finally { Remove-IpcObject -Name $name -Backend $script:Uri }
    }
}
