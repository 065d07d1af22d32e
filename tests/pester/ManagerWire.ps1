# The manager's wire protocol done by hand (docs/design.md, "Managers"), for tests that must talk raw frames:
# dot-sourced by Managers.Tests.ps1 and ManagerSecurity.Tests.ps1 after Common.ps1.

$script:ManagerMagic = [Text.Encoding]::ASCII.GetBytes('IPCPS-MANAGER-2')

function Send-Frame($Stream, [byte[]] $Payload) {
    $Stream.Write([BitConverter]::GetBytes([int]$Payload.Length), 0, 4)
    $Stream.Write($Payload, 0, $Payload.Length)
}

# The next frame's payload, or $null at the end of the stream.
function Receive-Frame($Stream) {
    $head = [byte[]]::new(4); $got = 0
    while ($got -lt 4) { $n = $Stream.Read($head, $got, 4 - $got); if ($n -eq 0) { return $null }; $got += $n }
    $body = [byte[]]::new([BitConverter]::ToInt32($head, 0)); $got = 0
    while ($got -lt $body.Length) { $n = $Stream.Read($body, $got, $body.Length - $got); if ($n -eq 0) { return $null }; $got += $n }
    , $body
}

function Get-Hmac([byte[]] $Key, [byte[][]] $Parts) {
    $h = [Security.Cryptography.HMACSHA256]::new($Key)
    try {
        foreach ($p in $Parts) { $null = $h.TransformBlock($p, 0, $p.Length, $null, 0) }
        $null = $h.TransformFinalBlock([byte[]]::new(0), 0, 0)
        , $h.Hash
    } finally { $h.Dispose() }
}

function Get-Bytes([string] $Text) { , [Text.Encoding]::ASCII.GetBytes($Text) }

# The client's side of the handshake on STREAM with KEY: @{ Ok; ServerChallenge; ClientChallenge; Hello }.
function Invoke-RawHandshake($Stream, [byte[]] $Key) {
    $hello = Receive-Frame $Stream
    if ($null -eq $hello) { return [pscustomobject]@{ Ok = $false; Hello = $null } }
    $cs = [byte[]]$hello[15..46]
    $cc = [Security.Cryptography.RandomNumberGenerator]::GetBytes(32)
    Send-Frame $Stream ([byte[]]($cc + (Get-Hmac $Key (Get-Bytes 'client'), $cs, $cc)))
    $verdict = Receive-Frame $Stream
    $ok = $null -ne $verdict -and $verdict.Length -eq 34 -and [Text.Encoding]::ASCII.GetString($verdict, 0, 2) -eq 'OK'
    if ($ok) {
        $proof = Get-Hmac $Key (Get-Bytes 'server'), $cs, $cc
        $ok = [Convert]::ToBase64String([byte[]]$verdict[2..33]) -eq [Convert]::ToBase64String($proof)
    }
    [pscustomobject]@{ Ok = $ok; ServerChallenge = $cs; ClientChallenge = $cc; Hello = $hello; Verdict = $verdict }
}

# A TCP connection to ADDRESS (from FROM, an address of this machine, when given) that has passed the handshake with
# KEY, with its frame keys: use Send-SealedFrame / Receive-SealedFrame on it.
function Connect-RawAuthenticated([string] $Address, [byte[]] $Key, [string] $From) {
    $hostName, $port = $Address -split ':'
    $socket = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
    if ($From) { $socket.Bind([Net.IPEndPoint]::new([Net.IPAddress]::Parse($From), 0)) }
    $socket.Connect($hostName, [int]$port)
    $stream = [Net.Sockets.NetworkStream]::new($socket, $true)
    $h = Invoke-RawHandshake $stream $Key
    if (-not $h.Ok) { $stream.Dispose(); throw "The raw handshake with $Address failed." }
    [pscustomobject]@{
        Stream = $stream
        SendKey = Get-Hmac $Key (Get-Bytes 'ipcps frames client->server'), $h.ServerChallenge, $h.ClientChallenge
        ReceiveKey = Get-Hmac $Key (Get-Bytes 'ipcps frames server->client'), $h.ServerChallenge, $h.ClientChallenge
        Sent = [long]0
        Received = [long]0
    }
}

# Sends PAYLOAD as the next sealed frame of SESSION (a valid tag, whatever the payload).
function Send-SealedFrame($Session, [byte[]] $Payload) {
    $tag = Get-Hmac $Session.SendKey ([BitConverter]::GetBytes([long]$Session.Sent)), $Payload
    $Session.Sent++
    Send-Frame $Session.Stream ([byte[]]($Payload + $tag[0..15]))
}

# The next sealed frame's payload (its tag checked), or $null at the end of the stream.
function Receive-SealedFrame($Session) {
    $frame = Receive-Frame $Session.Stream
    if ($null -eq $frame) { return $null }
    $payload = if ($frame.Length -gt 16) { [byte[]]$frame[0..($frame.Length - 17)] } else { [byte[]]::new(0) }
    $tag = Get-Hmac $Session.ReceiveKey ([BitConverter]::GetBytes([long]$Session.Received)), $payload
    $Session.Received++
    if ([Convert]::ToBase64String([byte[]]$tag[0..15]) -ne [Convert]::ToBase64String([byte[]]$frame[($frame.Length - 16)..($frame.Length - 1)])) { throw 'A frame from the manager failed its tag.' }
    , $payload
}
