# Every fast-path type (an array value is returned with the unary comma, so that it is not unrolled) of the wire format, with a value that would show a lossy trip (Messaging.Tests.ps1).
$script:FastPathCases = @(
    @{ Label = 'null'; Make = { $null } }
    @{ Label = 'bool'; Make = { $true } }
    @{ Label = 'int'; Make = { [int]::MinValue } }
    @{ Label = 'long'; Make = { [long]::MaxValue } }
    @{ Label = 'byte'; Make = { [byte]255 } }
    @{ Label = 'sbyte'; Make = { [sbyte]-128 } }
    @{ Label = 'int16'; Make = { [int16]-32768 } }
    @{ Label = 'uint16'; Make = { [uint16]65535 } }
    @{ Label = 'uint32'; Make = { [uint32]::MaxValue } }
    @{ Label = 'uint64'; Make = { [uint64]::MaxValue } }
    @{ Label = 'single'; Make = { [single]1.5e-30 } }
    @{ Label = 'double'; Make = { [double]::Epsilon } }
    @{ Label = 'decimal'; Make = { [decimal]'79228162514264337593543950335' } }
    @{ Label = 'string'; Make = { "naïve ☃ $([char]::ConvertFromUtf32(0x1F600)) `0 end" } }
    @{ Label = 'long string'; Make = { 'x' * 100000 } }
    @{ Label = 'char'; Make = { [char]0x263A } }
    @{ Label = 'DateTime (local)'; Make = { [datetime]::new(2026, 11, 26, 20, 1, 2, 345, [DateTimeKind]::Local) } }
    @{ Label = 'DateTime (utc)'; Make = { [datetime]::new(638000000000000123, 'Utc') } }
    @{ Label = 'TimeSpan'; Make = { [timespan]::FromTicks(-1234567890123) } }
    @{ Label = 'Guid'; Make = { [guid]'0f8fad5b-d9cb-469f-a165-70867728950e' } }
    @{ Label = 'byte[]'; Make = { , [byte[]](0, 1, 254, 255) } }
    @{ Label = 'empty byte[]'; Make = { , [byte[]]@() } }
    @{ Label = 'int[]'; Make = { , [int[]](1, -2, 3) } }
    @{ Label = 'double[]'; Make = { , [double[]](1.5, [double]::NaN) } }
    @{ Label = 'object[]'; Make = { , @(1, 'two', $null, @(3.5, [byte[]](9))) } }
    @{ Label = 'hashtable'; Make = { @{ Name = 'x'; N = 42; Inner = @{ Deep = [long]7 } } } }
    @{ Label = 'ordered'; Make = { [ordered]@{ z = 1; a = 2; m = 3 } } }
)
