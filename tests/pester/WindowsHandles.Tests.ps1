# On Windows (the Wine leg: tagged WindowsOnly): what an IpcPs child takes from its session when it starts
# (docs/design.md, "Child processes": the handle list and the job's breakaway). .NET's Process.Start hands a child every
# inheritable handle of the session, and starts it in the session's job object: a -Detached child held the output pipe
# of whoever started the session (a CI agent's), and died with a job that kills its processes when it closes.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class WindowsHandlesJob {
    [StructLayout(LayoutKind.Sequential)]
    private struct Limits {
        public long UserTime, JobUserTime; public uint Flags; public UIntPtr MinSet, MaxSet; public uint Active; public UIntPtr Affinity;
        public uint Priority, Scheduling; public ulong Io1, Io2, Io3, Io4, Io5, Io6; public UIntPtr Memory1, Memory2, Memory3, Memory4;
    }
    [DllImport("kernel32", SetLastError = true)] private static extern IntPtr CreateJobObjectW(IntPtr attributes, IntPtr name);
    [DllImport("kernel32", SetLastError = true)] private static extern bool SetInformationJobObject(IntPtr job, int cls, ref Limits limits, int size);
    [DllImport("kernel32", SetLastError = true)] public static extern bool AssignProcessToJobObject(IntPtr job, IntPtr process);
    [DllImport("kernel32", SetLastError = true)] public static extern bool IsProcessInJob(IntPtr process, IntPtr job, out bool inJob);
    [DllImport("kernel32", SetLastError = true)] public static extern bool CloseHandle(IntPtr handle);
    /// <summary>The job's limit flags as the system reports them (Wine 8 reports none: its query is a stub).</summary>
    public static uint Flags(IntPtr job) {
        Limits limits;
        if (!QueryInformationJobObject(job, 9, out limits, Marshal.SizeOf(typeof(Limits)), IntPtr.Zero)) throw new System.ComponentModel.Win32Exception();
        return limits.Flags;
    }
    [DllImport("kernel32", SetLastError = true)] private static extern bool QueryInformationJobObject(IntPtr job, int cls, out Limits limits, int size, IntPtr returned);
    /// <summary>A job that ends its processes when its last handle closes (KILL_ON_JOB_CLOSE), with BREAKAWAY_OK or not.</summary>
    public static IntPtr Create(bool breakawayOk) {
        IntPtr job = CreateJobObjectW(IntPtr.Zero, IntPtr.Zero);
        if (job == IntPtr.Zero) throw new System.ComponentModel.Win32Exception();
        var limits = new Limits { Flags = 0x2000u | (breakawayOk ? 0x800u : 0u) };
        if (!SetInformationJobObject(job, 9, ref limits, Marshal.SizeOf(typeof(Limits)))) throw new System.ComponentModel.Win32Exception();
        return job;
    }
}
'@

    # A session (pwsh) put in JOB before it imports the module (no spare of it starts outside the job), which then runs
    # SCRIPT (it writes one line) and waits for a line on its input. Returns @{ Process; Line }: the session, and its
    # first line, which must come within 180 s (BECAUSE). The session is killed if this fails; else the caller ends it.
    function Start-SessionInJob([IntPtr] $Job, [string] $Script, [string] $Because) {
        $psi = New-PwshStartInfo @('-NoProfile', '-NonInteractive', '-Command',
            "`$null = [Console]::In.ReadLine(); Import-Module '$env:IPCPS_MODULE_PATH'; $Script; `$null = [Console]::In.ReadLine()")
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $session = [Diagnostics.Process]::Start($psi)
        try {
            [WindowsHandlesJob]::AssignProcessToJobObject($Job, $session.Handle) | Should -BeTrue
            $session.StandardInput.WriteLine('go')
            $line = $session.StandardOutput.ReadLineAsync()
            $line.Wait(180000) | Should -BeTrue -Because $Because
            [pscustomobject]@{ Process = $session; Line = $line.Result }
        }
        catch {
            if (-not $session.HasExited) { $session.Kill() }
            $session.Dispose()
            throw
        }
    }
}

Describe 'What an IpcPs child takes from its session, on Windows' -Tag 'WindowsOnly' {
    It 'a -Detached child holds none of the session''s own handles: the session''s output ends when the session exits' {
        # The session's standard output is a pipe (inheritable in it, as every redirected child's is): Invoke-Pwsh fails
        # the test when that output has not ended 60 s after the session's exit. Before, the detached child held it.
        $file = Join-Path ([IO.Path]::GetTempPath()) (New-TestName 'detached')
        try {
            $r = Invoke-Pwsh "`$j = Start-IpcProcess -Detached { Start-Sleep -Seconds 300 }; Set-Content -LiteralPath '$file' `$j.Pid; 'started'"
            $r.Lines | Should -Contain 'started'
            $r.ExitCode | Should -Be 0
        }
        finally {
            if (Test-Path -LiteralPath $file) { Stop-Process -Id ([int](Get-Content -LiteralPath $file)) -Force -ErrorAction SilentlyContinue; Remove-Item -LiteralPath $file }
        }
    }

    It 'a -Detached child leaves a job that allows it, and outlives the job''s close (KILL_ON_JOB_CLOSE)' {
        $job = [WindowsHandlesJob]::Create($true)
        $session = $null
        $child = $null
        try {
            $started = Start-SessionInJob $job "`$j = Start-IpcProcess -Detached { Start-Sleep -Seconds 300 }; [Console]::Out.WriteLine(`$j.Pid)" 'the session starts its detached child'
            $session = $started.Process
            $child = Get-Process -Id ([int]$started.Line)
            $null = $child.Handle   # held from now on
            $inJob = $true
            [WindowsHandlesJob]::IsProcessInJob($child.Handle, $job, [ref]$inJob) | Should -BeTrue
            $inJob | Should -BeFalse -Because 'the detached child was created out of the job (CREATE_BREAKAWAY_FROM_JOB)'
            [WindowsHandlesJob]::CloseHandle($job) | Should -BeTrue
            $job = [IntPtr]::Zero
            $session.WaitForExit(60000) | Should -BeTrue -Because 'the job ends the session as it closes'
            $child.WaitForExit(3000) | Should -BeFalse -Because 'the detached child runs on (it sleeps for 300 s)'
        }
        finally {
            if ($job -ne [IntPtr]::Zero) { $null = [WindowsHandlesJob]::CloseHandle($job) }
            if ($session) { if (-not $session.HasExited) { $session.Kill() }; $session.Dispose() }
            if ($child) { if (-not $child.HasExited) { $child.Kill() }; $child.Dispose() }
        }
    }

    It 'a -Detached start in a job that refuses the breakaway: refused (IpcNotSupported) where the job kills on close, else started in the job' {
        $job = [WindowsHandlesJob]::Create($false)
        $session = $null
        $child = $null
        try {
            $started = Start-SessionInJob $job ("try { `$j = Start-IpcProcess -Detached { Start-Sleep -Seconds 300 } -ErrorAction Stop; [Console]::Out.WriteLine(`$j.Pid) } " +
                "catch { [Console]::Out.WriteLine(`$_.FullyQualifiedErrorId + ' ' + `$_.Exception.Message) }") 'the session tries its detached start'
            $session = $started.Process
            if ([WindowsHandlesJob]::Flags($job) -band 0x2000) {
                $started.Line | Should -BeLike 'IpcNotSupported,*KILL_ON_JOB_CLOSE*BREAKAWAY_OK*' -Because 'a detached child would end with the job'
            }
            else {
                # Where the job's limits cannot be read as set (Wine 8), the job is taken not to kill on close.
                $child = Get-Process -Id ([int]$started.Line)
                $null = $child.Handle
                $inJob = $false
                [WindowsHandlesJob]::IsProcessInJob($child.Handle, $job, [ref]$inJob) | Should -BeTrue
                $inJob | Should -BeTrue -Because 'the job refused the breakaway and reports no kill on close: started in it'
            }
        }
        finally {
            $null = [WindowsHandlesJob]::CloseHandle($job)
            if ($session) { if (-not $session.HasExited) { $session.Kill() }; $session.Dispose() }
            if ($child) { if (-not $child.HasExited) { $child.Kill() }; $child.Dispose() }
        }
    }

    It 'a program the script starts without redirection still writes to the job''s output (<_>)' -ForEach @('cold', 'spare') {
        $noSpare = $_ -eq 'cold'
        $lines = Start-IpcProcess -NoSpare:$noSpare { 'first'; Start-Process -FilePath cmd.exe -ArgumentList '/c echo relayed-line' -NoNewWindow -Wait } |
            Receive-Job -Wait -AutoRemoveJob
        $lines | Should -Contain 'first'
        @($lines | ForEach-Object { "$_".Trim() }) | Should -Contain 'relayed-line' -Because 'the program''s line, its last before the job''s end, is relayed before the last frame'
    }
}
