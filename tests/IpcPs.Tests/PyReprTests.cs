using System;
using IpcPs.Core.Managers;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The bound of a manager proxy's text (docs/design.md, "Proxies"): a repr is cut, with "...", only when it is longer
    /// than <see cref="PyRepr.MaxChars"/>; one of exactly that length is whole (review finding: it got "..." too).
    /// </summary>
    public sealed class PyReprTests
    {
        [Fact]
        public void ATextOfExactlyTheLimitIsWholeAndALongerOneIsCut()
        {
            string exact = PyRepr.Of(new string('a', PyRepr.MaxChars - 2));   // 'aaa…' with its two quotes
            Assert.Equal(PyRepr.MaxChars, exact.Length);
            // Ordinal: xUnit's string asserts compare with the current culture, which under Wine's NLS took minutes on a
            // string of a million characters (the Wine leg hung here).
            Assert.True(exact.EndsWith("a'", StringComparison.Ordinal), "the whole text ends with the closing quote");

            string longer = PyRepr.Of(new string('a', PyRepr.MaxChars - 1));
            Assert.Equal(PyRepr.MaxChars + 3, longer.Length);
            Assert.True(longer.EndsWith("a...", StringComparison.Ordinal), "a cut text ends with ...");
        }
    }
}
