BeforeAll {
    . $PSScriptRoot/Common.ps1

    # The record marker a child's frames start with (ChildProtocol.Marker), for scripts that write text like it.
    $script:RS = [string][char]0x1e
}

# What a child writes on its stdout is read as written by an adversary: text without a newline, frames that do not
# decode and lines of any length must neither lose the records after them nor hang or swell the parent.
Describe 'ChildOutput: console text and frames on a child''s stdout' -Tag 'Windows' {
    It 'outputs text written without a newline as text and still reads the records after it, the terminating error included' {
        $job = Start-IpcProcess { [Console]::Write('working...'); 'second record'; Write-Warning 'warn'; [Console]::Write('more'); throw 'boom' }
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Failed'
        $job.JobStateInfo.Reason.Message | Should -Be 'boom'
        @($job.Output | ForEach-Object { "$_" }) | Should -Be @('working...', 'second record', 'more')
        $job.Warning.Message | Should -Be @('warn')
        $job | Remove-Job
    }

    It 'keeps text that holds the marker but no frame intact, and text cannot forge more than a line of its own could' {
        $job = Start-IpcProcess -NoSpare {
            param($rs)
            [Console]::WriteLine("a${rs}IPCPS b")                       # the marker, no frame after it
            [Console]::WriteLine("x${rs}IPCPS O not base64!")           # a frame's start, not a frame
            [Console]::Write("${rs}IPCPS "); 'next'                     # a marker cut short, then a record
            'end'
        } -ArgumentList $RS
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        @($job.Output | ForEach-Object { "$_" }) | Should -Be @("a${RS}IPCPS b", "x${RS}IPCPS O not base64!", "${RS}IPCPS ", 'next', 'end')
        $job.Error.Count | Should -Be 0
        $job | Remove-Job
    }

    It 'reports a frame that does not decode as InvalidData and reads on: later output arrives and the job ends' {
        $job = Start-IpcProcess -NoSpare {
            # A well-formed frame whose progress record cannot be built (ActivityId -1), then more than a pipe holds.
            $xml = [System.Management.Automation.PSSerializer]::Serialize(@{ ActivityId = -1; Activity = 'a' }, 2)
            [Console]::Out.WriteLine("$([char]0x1e)IPCPS P " + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($xml)))
            [Console]::Out.Flush()
            1..3000 | ForEach-Object { "output line $_ " + ('x' * 100) }
            'last'
        }
        try {
            $job | Wait-Job -Timeout 60 | Should -Be $job -Because 'the parent reads past a bad frame, so the child never blocks on a full pipe'
            $job.State | Should -Be 'Completed'
            $job.Output.Count | Should -Be 3001
            "$($job.Output[3000])" | Should -Be 'last'
            $job.Error.Count | Should -Be 1
            $job.Error[0].CategoryInfo.Category | Should -Be 'InvalidData'
            $job.Error[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessFailed*'
        } finally { $job | Remove-Job -Force }
    }

    It 'delivers console text longer than 64 KiB without a newline in pieces of 64 KiB, then the records after it' {
        $job = Start-IpcProcess -NoSpare {
            [Console]::Out.Write(('a' * 65536) + ('b' * 65536) + ('c' * 1000))
            'after'
        }
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Completed'
        $out = @($job.Output | ForEach-Object { "$_" })
        $out.Count | Should -Be 4
        $out[0] | Should -BeExactly ('a' * 65536)
        $out[1] | Should -BeExactly ('b' * 65536)
        $out[2] | Should -BeExactly ('c' * 1000)
        $out[3] | Should -Be 'after'
        $job | Remove-Job
    }

    It 'splits long stderr text too and keeps the job''s reason bounded' {
        $job = Start-IpcProcess -NoSpare { [Console]::Error.Write('e' * 200000); [Console]::Error.Flush(); [Environment]::Exit(3) }
        $job | Wait-Job -Timeout 60 | Out-Null
        $job.State | Should -Be 'Failed'
        $job.ExitCode | Should -Be 3
        $job.JobStateInfo.Reason.Message.Length | Should -BeLessThan 20000
        $job | Remove-Job
    }
}
