# A child's watch over its parent's pipe (stdin) ends the orderly way on any read failure, not only an IOException:
# a read can also throw UnauthorizedAccessException (EBADF), OperationCanceledException (Windows, an aborted read) or
# ObjectDisposedException (the stream closed). Unhandled on the watcher's thread, such an exception crashed the process
# (SIGABRT, exit code 134) instead of its parent-gone exit (code 129), or the manager's shutdown. Each watcher is
# given a real stream in a failing state (a closed one) in a child pwsh of its own.

BeforeAll {
    . $PSScriptRoot/Common.ps1
}

Describe 'A parent watcher whose read fails' {
    It 'ends a child with the parent-gone exit code (129), not a crash' {
        # The watch a pool worker starts (ChildChannel.WatchParentInBackground), on a closed stream; then the child waits
        # (at most 60 s) for the watcher to end it.
        $run = Invoke-Pwsh @'
$closed = [IO.MemoryStream]::new(); $closed.Dispose()
$watch = [IpcPs.Hosting.ChildChannel].GetMethod('WatchParentInBackground', [Reflection.BindingFlags]'NonPublic, Static')
$null = $watch.Invoke($null, @($closed, $null))
[Threading.Thread]::Sleep(60000)
[Console]::Out.WriteLine('NOT ENDED')
exit 7
'@ -TimeoutSeconds 120
        $output = $run.Lines -join "`n"
        $run.ExitCode | Should -Be 129 -Because "the watcher ends the child as if its parent had gone (its output: $output)"
        $output | Should -Not -Match 'Unhandled exception'
    }

    It "returns from a manager's watch, so the manager shuts down" {
        # ManagerHost.WatchParent reads Console.In; here a closed reader. Its return is what shuts the manager down.
        $run = Invoke-Pwsh @'
$closed = [IO.StringReader]::new('line'); $closed.Dispose()
[Console]::SetIn($closed)
$watch = [IpcPs.Hosting.ManagerHost].GetMethod('WatchParent', [Reflection.BindingFlags]'NonPublic, Static')
try { $null = $watch.Invoke($null, @()); [Console]::Out.WriteLine('RETURNED') }
catch { [Console]::Out.WriteLine("THREW $($_.Exception.InnerException.GetType().FullName)") }
'@ -TimeoutSeconds 120
        $output = $run.Lines -join "`n"
        $output | Should -Match '(?m)^RETURNED$' -Because "a failed read ends the watch (its output: $output)"
        $run.ExitCode | Should -Be 0
    }
}
