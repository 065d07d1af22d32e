# On Windows (the Wine leg: tagged WindowsOnly): a child's text that goes through its output relay (docs/design.md,
# "A Windows child's output pipes are its parent's alone") keeps its place among the records written after it, as it
# did when it was written straight to the parent's pipe. [Console]::OutputEncoding's setter makes Console.Out anew on
# the standard handle of the moment, the relay's: each line must still come before the record that follows it.
BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'Text through a Windows child''s output relay keeps its order' -Tag 'WindowsOnly' {
    It 'console lines and records alternate as written (<_>)' -ForEach @('cold', 'spare') {
        $noSpare = $_ -eq 'cold'
        $lines = Start-IpcProcess -NoSpare:$noSpare {
            [Console]::OutputEncoding = [Text.Encoding]::UTF8
            foreach ($i in 1..40) { [Console]::WriteLine("text $i"); "record $i" }
        } | Receive-Job -Wait -AutoRemoveJob
        $expected = foreach ($i in 1..40) { "text $i"; "record $i" }
        (@($lines | ForEach-Object { "$_".Trim() }) -join '|') | Should -Be ($expected -join '|')
    }
}
