using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using IpcPs.Redis;

namespace IpcPs.Tests
{
    /// <summary>
    /// One participant of a Redis test in a process of its own: "redis-worker ROLE ADDRESS NAME ARGS…". The password comes
    /// on stdin's first line, as a parent passes credentials to a child (never on the command line); results go to stdout,
    /// one line each, flushed at once so the test can wait for them.
    /// </summary>
    public static class RedisWorker
    {
        public static int Run(string[] args)
        {
            string role = args[1], address = args[2], name = args[3];
            string password = Console.ReadLine() ?? "";
            IpcBackendCredentials.Remember(address, password);
            var backend = RedisBackend.Connect(address, TimeSpan.FromSeconds(30));   // a loaded machine starts a worker slowly (a 5 s connect timeout ran out once)
            switch (role)
            {
                case "produce":
                {
                    using var q = (RedisQueue)backend.Open(name, IpcObjectKind.Queue);
                    long from = long.Parse(args[4]), count = long.Parse(args[5]);
                    var batch = new List<object?>();
                    for (long i = from; i < from + count; i++)
                    {
                        batch.Add(i);
                        if (batch.Count == 50) { q.PutMany(batch.ToArray()); batch.Clear(); }
                    }
                    if (batch.Count > 0) q.PutMany(batch.ToArray());
                    Say("done");
                    return 0;
                }
                case "consume":
                {
                    // Gets until the sentinel -1; prints every id got, in one line at the end.
                    using var q = (RedisQueue)backend.Open(name, IpcObjectKind.Queue);
                    var got = new List<long>();
                    while (true)
                    {
                        var batch = q.GetMany(20, 60);
                        for (int i = 0; i < batch.Length; i++)
                        {
                            long v = Convert.ToInt64(batch[i]);
                            if (v == -1)
                            {
                                // The stop sentinels come after every message: give back those of the other consumers.
                                if (i + 1 < batch.Length) q.PutMany(batch[(i + 1)..]);
                                Say("got " + string.Join(",", got));
                                return 0;
                            }
                            got.Add(v);
                        }
                    }
                }
                case "consume-joinable":
                {
                    // "victim": report the first delivery, then hang without TaskDone (the test SIGKILLs it).
                    bool victim = args.Length > 4 && args[4] == "victim";
                    using var q = (RedisQueue)backend.Open(name, IpcObjectKind.Queue);
                    var got = new List<string>();
                    while (true)
                    {
                        var d = q.GetDelivery(true, 60);
                        long v = Convert.ToInt64(d.Message);
                        if (victim) { Say($"took {v} {d.DeliveryCount}"); Thread.Sleep(Timeout.Infinite); }
                        if (v == -1) { q.TaskDone(); Say("got " + string.Join(",", got)); return 0; }
                        got.Add($"{v}:{d.DeliveryCount}");
                        q.TaskDone();
                    }
                }
                case "increment":
                {
                    // N increments of a number under a lock; fencing tokens must strictly increase.
                    using var value = (RedisNumber)backend.Open(name, IpcObjectKind.Value);
                    using var l = (RedisLock)backend.Open(args[4], IpcObjectKind.Lock);
                    int n = int.Parse(args[5]);
                    long last = 0;
                    var tokens = new List<long>();
                    for (int i = 0; i < n; i++)
                    {
                        if (l.TryAcquire(TimeSpan.FromSeconds(60), CancellationToken.None) == LockAcquisition.TimedOut) { Say("timeout"); return 2; }
                        if (l.Token <= last) { Say($"token {l.Token} after {last}"); return 3; }
                        last = l.Token;
                        tokens.Add(last);
                        value.Value = Convert.ToInt64(value.Value) + 1;
                        l.Release();
                    }
                    Say("tokens " + string.Join(",", tokens));
                    return 0;
                }
                case "hold":
                {
                    using var l = (RedisLock)backend.Open(name, IpcObjectKind.Lock);
                    l.TryAcquire(TimeSpan.FromSeconds(30), CancellationToken.None);
                    Say($"held {l.Token}");
                    Console.ReadLine();   // "release"
                    try { l.Release(); Say("released"); }
                    catch (LeaseLostException e) { Say($"lost {e.Token} {(l.LeaseLost.IsCancellationRequested ? "cancelled" : "not-cancelled")}"); }
                    return 0;
                }
                case "hold-many":
                {
                    // Holds COUNT locks (NAME-0…) of LEASE ms for HOLD ms, then says how many leases were lost meanwhile.
                    int count = int.Parse(args[4]), hold = int.Parse(args[6]);
                    var options = new IpcBackendOptions { LeaseTime = TimeSpan.FromMilliseconds(int.Parse(args[5])) };
                    var locks = new List<RedisLock>();
                    for (int i = 0; i < count; i++) locks.Add((RedisLock)backend.Create(IpcObjectKind.Lock, $"{name}-{i}", options));
                    foreach (var l in locks) l.TryAcquire(TimeSpan.FromSeconds(30), CancellationToken.None);
                    Say("held");
                    Thread.Sleep(hold);   // the time held (renewed every third of a lease meanwhile), not a synchronisation
                    int lost = 0;
                    string why = "";
                    foreach (var l in locks)
                    {
                        if (l.LeaseLost.IsCancellationRequested) lost++;
                        try { l.Release(); } catch (LeaseLostException e) { why = e.Message; }
                        l.Unlink();
                        l.Dispose();
                    }
                    Say(lost == 0 ? "lost 0" : $"lost {lost} ({why})");
                    return 0;
                }
                case "wait-event":
                {
                    using var ev = (RedisEvent)backend.Open(name, IpcObjectKind.Event);
                    ev.Wait(TimeSpan.FromMilliseconds(1), CancellationToken.None);   // subscribes before saying it waits
                    Say("waiting");
                    bool set = ev.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                    Say($"woke {set} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                    return 0;
                }
                case "barrier":
                {
                    using var b = (RedisBarrier)backend.Open(name, IpcObjectKind.Barrier);
                    Say("arriving");
                    int index = b.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                    Say($"released {index} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                    return 0;
                }
                case "semaphore":
                {
                    // N rounds: take a permit, count in, check at most the permits are in, count out, release.
                    using var s = (RedisSemaphore)backend.Open(name, IpcObjectKind.Semaphore);
                    using var inside = (RedisNumber)backend.Open(args[4], IpcObjectKind.Value);
                    int n = int.Parse(args[5]);
                    long most = 0;
                    for (int i = 0; i < n; i++)
                    {
                        s.TryAcquire(TimeSpan.FromSeconds(60), CancellationToken.None);
                        long now = Convert.ToInt64(inside.Add(1));
                        most = Math.Max(most, now);
                        Thread.SpinWait(20_000);
                        inside.Add(-1);
                        s.Release();
                    }
                    Say($"most {most}");
                    return 0;
                }
                case "share":
                {
                    var m = backend.Manager();
                    var d = m.Dict(name);
                    var l = m.List(name + "-list");
                    string id = args[4];
                    int n = int.Parse(args[5]);
                    for (int i = 0; i < n; i++)
                    {
                        d[$"{id}-{i}"] = i;
                        l.Add($"{id}-{i}");
                    }
                    Say("done");
                    return 0;
                }
                case "attach":
                {
                    // Re-attaches by descriptor (kind, name, address without password) and the inherited password.
                    var o = RedisBackend.Attach(new IpcBackendDescriptor(address, Enum.Parse<IpcObjectKind>(args[4]), name));
                    ((RedisQueue)o).Put($"attached from {Environment.ProcessId}");
                    Say("ok");
                    return 0;
                }
                default:
                    Console.Error.WriteLine($"unknown role {role}");
                    return 1;
            }
        }

        private static void Say(string line)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
