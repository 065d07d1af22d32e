# On Windows (the Wine leg: tagged WindowsOnly): the runtime prints an unhandled exception natively to the standard
# error handle of the moment, in a child the output relay's (docs/design.md, "A Windows child's output pipes are its
# parent's alone"), and the process ends before a relay could copy it. The relay puts the parent's handles back first:
# the job's reason keeps the exception's text, as it did when the child wrote to its parent's pipe.
BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'A Windows child''s crash keeps its text' -Tag 'WindowsOnly' {
    It 'a child whose thread throws fails with the exception in its reason (<_>)' -ForEach @('cold', 'spare') {
        $noSpare = $_ -eq 'cold'
        # A script block as a thread's delegate, with no runspace on that thread: PSInvalidOperationException, unhandled.
        $job = Start-IpcProcess -NoSpare:$noSpare {
            $t = [Threading.Thread]::new([Threading.ThreadStart] { 'never' })
            $t.Start()
            $t.Join()
            'not reached'
        }
        $null = $job | Wait-Job -Timeout 120
        $job.State | Should -Be 'Failed'
        $job.JobStateInfo.Reason.Message | Should -BeLike '*PSInvalidOperationException*'
        $job | Remove-Job -Force
    }
}
