BeforeAll {
    . $PSScriptRoot/Common.ps1

    # What PowerShell's serializer delivers for VALUE: the reference the fast path must match.
    function Get-Remoted($Value, [int] $Depth = 2) {
        [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($Value, $Depth))
    }
    # Type names, then each property's name, type and value (nested custom objects described the same way).
    function Get-Shape($Object) {
        if ($Object -isnot [psobject] -or $Object.PSObject.BaseObject -isnot [System.Management.Automation.PSCustomObject]) {
            if ($null -eq $Object) { return 'null' }
            return "$($Object.GetType().Name):$Object"
        }
        $props = foreach ($p in $Object.PSObject.Properties) { "$($p.Name)[$($p.MemberType)]=$(Get-Shape $p.Value)" }
        "{$($Object.PSObject.TypeNames -join ',')|$($props -join ';')}"
    }
    function Send-Through($Value) {
        $q = New-IpcQueue (New-TestName)
        try { $q.Put($Value); $q.Get() } finally { $q.Close() }
    }
}

Describe 'Fast objects: custom objects arrive exactly as PowerShell''s serializer delivers them' {
    It 'takes the fast path on this PowerShell (the internals it reads are there)' {
        $co = [IpcPs.Commands.SendIpcMessageCommand].Assembly.GetType('IpcPs.Hosting.CustomObjects')
        $co.GetField('Unavailable', [Reflection.BindingFlags]'Static,NonPublic,Public').GetValue($null) | Should -BeNullOrEmpty
        $co.GetField('Available', [Reflection.BindingFlags]'Static,NonPublic,Public').GetValue($null) | Should -BeTrue
    }

    It 'a plain [pscustomobject] of four properties, and nested ones, in order, with their types' {
        $o = [pscustomobject]@{ Id = 7; Name = 'item 7'; Size = 21; Ok = $true; Inner = [pscustomobject]@{ B = 2; A = 'x'; When = [datetime]'2026-01-02' } }
        Get-Shape (Send-Through $o) | Should -Be (Get-Shape (Get-Remoted $o))
        (Send-Through $o).PSObject.TypeNames | Should -Be @('Deserialized.System.Management.Automation.PSCustomObject', 'Deserialized.System.Object')
    }

    It 'its own type names, an empty object, and a property named like a method' {
        $o = [pscustomobject]@{ ToString = 'not a method'; Value = $null }
        $o.PSObject.TypeNames.Insert(0, 'My.Shape')
        Get-Shape (Send-Through $o) | Should -Be (Get-Shape (Get-Remoted $o))
        Get-Shape (Send-Through ([pscustomobject]@{})) | Should -Be (Get-Shape (Get-Remoted ([pscustomobject]@{})))
    }

    It 'script, alias and note properties added with Add-Member send their values, as the serializer does' {
        $o = [pscustomobject]@{ A = 2 }
        $o | Add-Member -MemberType ScriptProperty -Name Twice -Value { $this.A * 2 }
        $o | Add-Member -MemberType AliasProperty -Name Alias -Value A
        $o | Add-Member -MemberType ScriptMethod -Name Method -Value { 1 }   # a method: not sent
        Get-Shape (Send-Through $o) | Should -Be (Get-Shape (Get-Remoted $o))
        (Send-Through $o).Twice | Should -Be 4
    }

    It 'a type-table property of its type names is sent (seen as soon as Update-TypeData adds it)' {
        $name = "Ipc.Fast.$(New-TestName)"
        $o = [pscustomobject]@{ A = 1 }
        $o.PSObject.TypeNames.Insert(0, $name)
        Get-Shape (Send-Through $o) | Should -Be (Get-Shape (Get-Remoted $o))   # before: none
        Update-TypeData -TypeName $name -MemberType ScriptProperty -MemberName FromTypes -Value { 'typed' }
        try {
            $got = Send-Through $o
            $got.FromTypes | Should -Be 'typed'
            Get-Shape $got | Should -Be (Get-Shape (Get-Remoted $o))
        } finally { Remove-TypeData -TypeName $name }
    }

    It 'a decoded object''s type names are its own: changing them changes no other object' {
        $a = Send-Through ([pscustomobject]@{ A = 1 })
        $b = Send-Through ([pscustomobject]@{ B = 1 })
        $a.PSObject.TypeNames.Insert(0, 'Changed')
        $b.PSObject.TypeNames[0] | Should -Be 'Deserialized.System.Management.Automation.PSCustomObject'
        (Send-Through ([pscustomobject]@{ C = 1 })).PSObject.TypeNames[0] | Should -Be 'Deserialized.System.Management.Automation.PSCustomObject'
        $a.A | Should -Be 1
        $a | Add-Member -NotePropertyName Extra -NotePropertyValue 5
        $a.Extra | Should -Be 5
        $b.PSObject.Properties['Extra'] | Should -BeNullOrEmpty
    }

    It 'a property named twice or reserved by PowerShell is a damaged message, as before' {
        # A bag (tag 0x24) with no type names and two properties 'a' and 'A' (case ignored: one name twice); one
        # property named PSObject (reserved).
        foreach ($bytes in [byte[]](0x24, 0, 2, 1, 0x61, 3, 1, 0, 0, 0, 1, 0x41, 3, 2, 0, 0, 0),
                           [byte[]](0x24, 0, 1, 8, 0x50, 0x53, 0x4F, 0x62, 0x6A, 0x65, 0x63, 0x74, 3, 1, 0, 0, 0)) {
            $e = Get-ThrownException { [IpcPs.Core.Messaging.MessageCodec]::Decode($bytes) }
            $e.GetType().FullName | Should -Be 'IpcPs.MessageFormatException'
        }
        # The same bag with distinct names is an object.
        ([IpcPs.Core.Messaging.MessageCodec]::Decode([byte[]](0x24, 0, 2, 1, 0x61, 3, 1, 0, 0, 0, 1, 0x62, 3, 2, 0, 0, 0))).b | Should -Be 2
    }

    It 'a decoded property is seen by member access that bound the name before (PowerShell''s binders are told of it)' {
        # A name never used as a property in this session: the site $o.<name> first binds to an object without it,
        # then reads a decoded object that has it. The message is written by hand, so that nothing but the decoder
        # adds a property of that name (a bag: no type names, one property, an Int32 of 42).
        $name = 'P' + [guid]::NewGuid().ToString('n')
        $site = [scriptblock]::Create("param(`$o) `$o.$name")
        & $site ([pscustomobject]@{ Other = 1 }) | Should -BeNullOrEmpty
        $utf8 = [Text.Encoding]::UTF8.GetBytes($name)
        $bytes = [byte[]](@(0x24, 0, 1, $utf8.Length) + $utf8 + @(3, 42, 0, 0, 0))
        $decoded = [IpcPs.Core.Messaging.MessageCodec]::Decode($bytes)
        & $site $decoded | Should -Be 42
        $decoded.$name | Should -Be 42
    }

    It 'an object whose .psobject was used, and nested objects in a batch, arrive as the serializer delivers them' {
        $o = [pscustomobject]@{ Id = 1; Name = 'one'; Inner = [pscustomobject]@{ A = 'x' } }
        $null = $o.psobject.Properties.Name
        Get-Shape (Send-Through $o) | Should -Be (Get-Shape (Get-Remoted $o))
        $q = New-IpcQueue (New-TestName)
        try {
            $objects = foreach ($i in 1..50) { [pscustomobject]@{ Id = $i; Name = "item $i"; Ok = $true; Inner = [pscustomobject]@{ At = [datetime]::new(2026, 1, 1).AddDays($i) } } }
            $q.PutMany($objects)
            $got = $q.GetMany(100)
            $got.Count | Should -Be 50
            for ($i = 0; $i -lt 50; $i++) { Get-Shape $got[$i] | Should -Be (Get-Shape (Get-Remoted $objects[$i])) }
        } finally { $q.Close() }
    }

    It 'hashtables, ordered dictionaries and .NET objects arrive as before' {
        $h = @{ Id = 1; Name = 'n' }
        (Send-Through $h).GetType() | Should -Be ([hashtable])
        (Send-Through ([ordered]@{ b = 1; a = 2 })).Keys | Should -Be @('b', 'a')
        $v = Send-Through ([version]'1.2.3')
        $v | Should -Be ([version]'1.2.3')
        $f = Send-Through (Get-Item $PSScriptRoot)
        $f.PSObject.TypeNames[0] | Should -Be 'Deserialized.System.IO.DirectoryInfo'
        $f.Name | Should -Be (Split-Path -Leaf $PSScriptRoot)
    }
}
