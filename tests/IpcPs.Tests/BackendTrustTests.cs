using System;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// Which backend addresses a received handle descriptor may re-attach to (IpcBackendCredentials.IsTrusted): those
    /// this process connected to or was given, and those its parent's environment lists; nothing a message can add.
    /// </summary>
    public sealed class BackendTrustTests
    {
        [Fact]
        public void OnlyAddressesThisProcessWasGivenAreTrusted_AndChildrenInheritThemThroughTheEnvironment()
        {
            string a = $"redis://127.0.0.1:{40000 + Environment.ProcessId % 1000}/0", b = a.Replace("/0", "/1");
            Assert.False(IpcBackendCredentials.IsTrusted(a));
            IpcBackendCredentials.Adopt(new[] { new System.Collections.Generic.KeyValuePair<string, string>(a, "") });   // a parent's, without password
            Assert.True(IpcBackendCredentials.IsTrusted(a));
            Assert.False(IpcBackendCredentials.TryGet(a, out _));   // trust alone: no empty password remembered
            Assert.Contains(a, Environment.GetEnvironmentVariable(IpcBackendCredentials.TrustedVariable)!.Split(';'));
            Assert.Contains(IpcBackendCredentials.ForChild(), p => p.Key == a && p.Value == "");
            Assert.False(IpcBackendCredentials.IsTrusted(b));
            IpcBackendCredentials.Remember(b, "secret");
            Assert.True(IpcBackendCredentials.IsTrusted(b));
            Assert.DoesNotContain("secret", Environment.GetEnvironmentVariable(IpcBackendCredentials.TrustedVariable)!);
        }

        [Fact]
        public void WhatIsNotABackendAddressIsNeverTrusted()
        {
            foreach (var bad in new[] { "tcp://127.0.0.1:1", "redis://127.0.0.1:2/0;redis://127.0.0.1:3/0", "redis://" + new string('a', 5000) })
            {
                IpcBackendCredentials.Trust(bad);
                Assert.False(IpcBackendCredentials.IsTrusted(bad));
            }
            Assert.False(IpcBackendCredentials.IsTrusted("redis://127.0.0.1:3/0"));   // a ';' cannot smuggle a second address in
        }
    }
}
