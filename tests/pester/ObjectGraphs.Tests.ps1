BeforeAll {
    . $PSScriptRoot/Common.ps1

    # The graphs of the issue, made the same way in every process: a list that contains itself, and a custom-object
    # tree whose children point back at their parent. New-Graphs returns them in a hashtable (so they stay as made).
    $script:GraphText = {
        function New-Graphs {
            $list = [System.Collections.ArrayList]::new()
            [void]$list.Add(1)
            [void]$list.Add($list)
            $root = [pscustomobject]@{ Name = 'root'; Children = [System.Collections.ArrayList]::new(); Parent = $null }
            foreach ($i in 1..3) { [void]$root.Children.Add([pscustomobject]@{ Name = "child $i"; Parent = $root; Children = @() }) }
            @{ List = $list; Tree = $root; TreeInList = @(, $root) }
        }

        # A text that describes VALUE with its sharing: every container gets a number where first met (#n) and is
        # written @n where met again; lists of any kind are [..], custom objects show their first type name.
        function Get-GraphShape($Value) {
            $ids = [System.Collections.Generic.Dictionary[object, int]]::new([System.Collections.Generic.ReferenceEqualityComparer]::Instance)
            $walk = {
                param($x)
                if ($null -eq $x) { return 'null' }
                $base = $x.psobject.BaseObject
                if ($base -is [string] -or $base -is [ValueType]) { return "$($base.GetType().Name):$base" }
                $bag = $base -is [System.Management.Automation.PSCustomObject]
                $key = $base   # (not "= if …": a statement's output would unroll a list into a new array)
                if ($bag) { $key = $x }
                $id = 0
                if ($ids.TryGetValue($key, [ref] $id)) { return "@$id" }
                $id = $ids.Count
                $ids.Add($key, $id)
                if ($bag) {
                    $props = foreach ($p in $x.psobject.Properties) { "$($p.Name)=$(& $walk $p.Value)" }
                    return "#$id $($x.pstypenames[0]){$($props -join '; ')}"
                }
                if ($base -is [System.Collections.IDictionary]) {
                    $entries = foreach ($k in @($base.Keys) | Sort-Object) { "$k=$(& $walk $base[$k])" }
                    return "#$id @{$($entries -join '; ')}"
                }
                if ($base -is [System.Collections.IList]) {
                    $items = for ($i = 0; $i -lt $base.Count; $i++) { & $walk $base[$i] }
                    return "#$id [$($items -join ', ')]"
                }
                "#$id $($base.GetType().Name)"
            }
            & $walk $Value
        }
    }
    . $GraphText

    # What remoting delivers for each graph (PowerShell's own serializer, there and back), as shapes, in the order the
    # tests send them: the tree first (it ended the receiver), then the list (it ended the sender).
    $graphs = New-Graphs
    $script:Expected = foreach ($name in 'Tree', 'TreeInList', 'List') {
        Get-GraphShape ([System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($graphs[$name], 2)))
    }

    # Starts SCRIPT in a child pwsh with the graph functions defined; returns the job.
    function Start-GraphChild([scriptblock] $Script, [object[]] $ArgumentList = @()) {
        Start-IpcProcess -ScriptBlock $Script -ArgumentList $ArgumentList -InitializationScript $GraphText
    }

    # Waits for JOBS; each must have completed (a process that ended otherwise, e.g. by a stack overflow, fails the
    # test with what it wrote). Returns the output of the last one; removes them all.
    function Receive-GraphChild([object[]] $Jobs) {
        try {
            foreach ($job in $Jobs) {
                $null = $job | Wait-Job -Timeout 180
                $job.State | Should -Be 'Completed' -Because "the child must live ($(($job | Receive-Job -Keep -ErrorAction Continue 2>&1) | Out-String), exit code $($job.ExitCode))"
            }
            $Jobs[-1] | Receive-Job
        } finally { $Jobs | Remove-Job -Force }
    }

    # Puts BYTES into CHANNEL as one message, as any process that can write the segment can: through the channel's
    # own private put, with no encoding. (Put and Send encode; SendBytes sends a raw frame, which is never decoded.)
    function Send-Crafted($Channel, [byte[]] $Bytes) {
        $deadline = [IpcPs.IpcQueue].Assembly.GetType('IpcPs.Core.Sync.Deadline').GetProperty('Infinite').GetValue($null)
        $flags = [Reflection.BindingFlags]'Instance, NonPublic'
        if ($Channel -is [IpcPs.IpcQueue]) {
            $null = [IpcPs.IpcQueue].GetMethod('TryPut', $flags).Invoke($Channel, @($Bytes, $Bytes.Length, $null, [long]0, $deadline, [Threading.CancellationToken]::None))
        } else {
            $null = [IpcPs.IpcConnection].GetMethod('SendFrame', $flags).Invoke($Channel, @($Bytes, $Bytes.Length, $null, 0, $deadline, [Threading.CancellationToken]::None))
        }
    }

    function ConvertTo-Leb([long] $N) {
        $out = [System.Collections.Generic.List[byte]]::new()
        do { $b = [byte]($N -band 0x7F); $N = $N -shr 7; if ($N) { $b = $b -bor 0x80 }; $out.Add($b) } while ($N)
        , $out.ToArray()
    }

    # Messages no encoder writes, each made to hurt the receiver (docs/design.md, "Bounded decoding").
    function New-CraftedMessages {
        $size = 66 * 1024
        $claims = [System.Collections.Generic.List[byte]]::new()
        for ($i = 0; $i -lt 64; $i++) { $claims.Add(0x21); $claims.Add(1); $claims.AddRange((ConvertTo-Leb ($size / 2 - 400))); $claims.Add(0x10); $claims.Add(0) }
        while ($claims.Count -lt $size) { $claims.Add(0) }
        $root = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        $memberSets = $root + '<Obj><MS>' + ('<MS N="a">' * 200000) + ('</MS>' * 200000) + '</MS></Obj></Objs>'
        $clones = $root + '<Obj RefId="0"><TN RefId="0">' + ('<T>a</T>' * 4000) + '</TN></Obj>' + ('<Obj><TNRef RefId="0"/></Obj>' * 4000) + '</Objs>'
        $clixml = { param($text) $utf8 = [Text.Encoding]::UTF8.GetBytes($text); , ([byte[]]@(0x30) + (ConvertTo-Leb $utf8.Length) + $utf8) }
        [ordered]@{
            'hashtables claiming the whole message at every level' = $claims.ToArray()
            'CLIXML with 200,000 nested member sets' = & $clixml $memberSets
            'CLIXML copying a 4,000-name type list 4,000 times' = & $clixml $clones
            'a back-reference to a value the message has not had' = [byte[]](0x20, 1, 0x25, 5)
            'arrays nested 100,000 deep' = [byte[]]((, (0x20, 1)) * 100000 | ForEach-Object { $_ })
        }
    }

    # The receiving side of a crafted run: N messages, each reported as what came of it and what decoding it
    # allocated; then one ordinary message.
    $script:CraftedReceiver = {
        param($channel, $sizes)
        foreach ($size in $sizes) {
            $before = [GC]::GetAllocatedBytesForCurrentThread()
            $what = try { $null = if ($channel -is [IpcPs.IpcQueue]) { $channel.Get($true, 60) } else { $channel.Recv() }; 'a value' } catch {
                $e = $_.Exception
                while ($e -is [System.Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
                $e.GetType().Name
            }
            $used = [GC]::GetAllocatedBytesForCurrentThread() - $before
            # The codec's bound (64·S + 768 KiB), and a megabyte for PowerShell's own error handling around the call.
            "$what, within bound: $($used -le (64 * $size + 768KB + 1MB)) ($used bytes for $size)"
        }
        if ($channel -is [IpcPs.IpcQueue]) { $channel.Get($true, 60) } else { $channel.Recv() }
    }
}

Describe 'Object graphs' {
    It 'through a queue: a list that contains itself and a tree with parent links arrive as remoting delivers them, and the consumer lives' -Tag 'Windows' {
        $q = New-IpcQueue (New-TestName)
        try {
            $consumer = Start-GraphChild { param($q) foreach ($i in 1..3) { Get-GraphShape $q.Get($true, 60) }; $q.Get($true, 60) } $q
            $producer = Start-GraphChild { param($q) $g = New-Graphs; $q.Put($g.Tree); $q.Put($g.TreeInList); $q.Put($g.List); $q.Put('next') } $q
            $null = Receive-GraphChild $producer
            $out = Receive-GraphChild $consumer
            $out | Should -Be (@($Expected) + 'next')
        } finally { $q.Close() }
    }

    It 'through a pipe: the same graphs arrive the same way, and the receiver lives' -Tag 'Windows' {
        $a, $b = New-IpcPipe
        try {
            $receiver = Start-GraphChild { param($c) foreach ($i in 1..3) { Get-GraphShape $c.Recv() }; $c.Recv() } $b
            $sender = Start-GraphChild { param($c) $g = New-Graphs; $c.Send($g.Tree); $c.Send($g.TreeInList); $c.Send($g.List); $c.Send('next') } $a
            $null = Receive-GraphChild $sender
            Receive-GraphChild $receiver | Should -Be (@($Expected) + 'next')
        } finally { $a.Close(); $b.Close() }
    }

    It 'through the pool: as items and as results, and the same workers serve the next call' -Tag 'Windows' {
        # The pool's parent is a child too, so a crash on either side ends a child, not this test run.
        $run = Start-GraphChild {
            param($graphText)
            $pool = New-IpcPool -Size 1 -InitializationScript ([scriptblock]::Create($graphText))
            try {
                $before = $pool.Pids
                $g = New-Graphs
                $results = $g.Tree, $g.TreeInList, $g.List | Invoke-IpcPool -Pool $pool -Ordered { [pscustomobject]@{ Seen = Get-GraphShape $_; Item = $_ } }
                foreach ($r in $results) { "item: $($r.Seen)" }
                foreach ($r in $results) { "result: $(Get-GraphShape $r.Item)" }
                $after = 1..2 | Invoke-IpcPool -Pool $pool { $PID }
                "same workers: $((@($after | Sort-Object -Unique) -join ',') -eq ($before -join ',') -and $pool.Replaced -eq 0)"
            } finally { Remove-IpcPool $pool }
        } $GraphText.ToString()
        $out = Receive-GraphChild $run
        $out | Should -Be (@($Expected | ForEach-Object { "item: $_" }) + @($Expected | ForEach-Object { "result: $_" }) + 'same workers: True')
    }

    It 'through a manager: dict values set and read back, and the server lives and serves the next call' {
        $run = Start-GraphChild {
            $m = Start-IpcManager
            try {
                $d = $m.Dict()
                $g = New-Graphs
                $d['tree'] = $g.Tree; $d['tree in list'] = $g.TreeInList; $d['list'] = $g.List
                Get-GraphShape $d['tree']; Get-GraphShape $d['tree in list']; Get-GraphShape $d['list']
                $d['next'] = 'served'
                "$($d['next']) by a live server: $([bool](Get-Process -Id $m.Pid -ErrorAction SilentlyContinue))"
            } finally { Stop-IpcManager $m }
        }
        Receive-GraphChild $run | Should -Be (@($Expected) + 'served by a live server: True')
    }

    It 'through Start-IpcProcess arguments: the child gets them as remoting would' -Tag 'Windows' {
        $run = Start-GraphChild {
            param($graphText)
            $g = New-Graphs
            $child = Start-IpcProcess -ArgumentList $g.Tree, $g.List -InitializationScript ([scriptblock]::Create($graphText)) {
                param($tree, $list) Get-GraphShape $tree; Get-GraphShape $list
            }
            $child | Wait-Job | Receive-Job -Wait -AutoRemoveJob
        } $GraphText.ToString()
        Receive-GraphChild $run | Should -Be @($Expected[0], $Expected[2])
    }

    It 'cuts a chain of custom objects nested deeper than 64 to text at that depth, as remoting cuts at its depth' {
        $q = New-IpcQueue (New-TestName)
        try {
            $chain = $null
            foreach ($i in 1..100) { $chain = [pscustomobject]@{ Level = $i; Next = $chain } }
            $q.Put($chain)
            $r = $q.Get()
            $levels = 0
            while ($r -is [psobject] -and $r.psobject.BaseObject -is [System.Management.Automation.PSCustomObject]) { $levels++; $r = $r.Next }
            $levels | Should -Be 64
            $r | Should -BeOfType [string]
            $r | Should -BeLike '@{Level=36; Next=*'
        } finally { $q.Close() }
    }

    It 'serializes other objects in lists and custom objects to -Depth, as PowerShell''s serializer does' {
        $q = New-IpcQueue (New-TestName)
        try {
            $file = Get-Item -LiteralPath $PSCommandPath
            foreach ($depth in 1, 2, 3) {
                foreach ($value in @(, @($file)), [pscustomobject]@{ File = $file }, @{ File = $file }) {
                    Send-IpcMessage $q -InputObject $value -Depth $depth
                    $r = $q.Get()
                    $clixml = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($value, $depth))
                    $got = if ($r -is [System.Collections.IList]) { $r[0] } else { $r.File }
                    $want = if ($clixml -is [System.Collections.IList]) { $clixml[0] } else { $clixml.File }
                    $got.Directory.GetType().Name | Should -Be $want.Directory.GetType().Name -Because "-Depth $depth, $($value.GetType().Name)"
                    "$($got.Directory.Parent)" | Should -Be "$($want.Directory.Parent)" -Because "-Depth $depth, $($value.GetType().Name)"
                }
            }
        } finally { $q.Close() }
    }

    It 'a crafted message in a <Kind> gives the receiver MessageFormatException within the allocation bound, and it lives' -ForEach @(
        @{ Kind = 'queue' }, @{ Kind = 'pipe' }
    ) {
        $crafted = New-CraftedMessages
        if ($Kind -eq 'queue') { $to = $from = New-IpcQueue (New-TestName) -Capacity 64MB } else { $to, $from = New-IpcPipe }
        try {
            $receiver = Start-IpcProcess -ScriptBlock $CraftedReceiver -ArgumentList $from, @($crafted.Values | ForEach-Object { $_.Length })
            foreach ($bytes in $crafted.Values) { Send-Crafted $to $bytes }
            if ($Kind -eq 'queue') { $to.Put('next') } else { $to.Send('next') }
            $out = Receive-GraphChild $receiver
            $i = 0
            foreach ($what in $crafted.Keys) {
                $out[$i] | Should -BeLike 'MessageFormatException, within bound: True*' -Because $what
                $i++
            }
            $out[-1] | Should -Be 'next'
        } finally { $to.Close(); if (-not [object]::ReferenceEquals($to, $from)) { $from.Close() } }
    }
}
