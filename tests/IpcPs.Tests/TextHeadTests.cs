using System;
using System.Linq;
using System.Threading;
using IpcPs.Hosting;
using Xunit;

namespace IpcPs.Tests
{
    /// <summary>
    /// The start of a child's error output, kept for a failure's reason (Hosting/TextHead): bounded, a start of what
    /// came and nothing after a cut, whole pieces from concurrent writers, never half a surrogate pair.
    /// </summary>
    public sealed class TextHeadTests
    {
        [Fact]
        public void KeepsTheFirstCharactersAcrossPiecesAndDropsTheRest()
        {
            var head = new TextHead(10);
            head.Append("abcd");
            head.Append("efgh".ToCharArray(), 1, 3);
            head.Append("ijklmn");
            Assert.Equal("abcdfghijk", head.ToString());
            Assert.Equal(10, head.Capacity);
        }

        [Fact]
        public void KeepsNothingAfterACutEvenWhatWouldFit()
        {
            var head = new TextHead(6);
            head.Append("abcd");
            head.Append("efgh");   // "ef" kept, "gh" dropped
            head.Append("");
            head.Append("i");
            Assert.Equal("abcdef", head.ToString());

            // A cut that leaves room (half a surrogate pair dropped) keeps nothing after it either.
            var pair = new TextHead(3);
            pair.Append("ab\uD83D\uDE00");
            pair.Append("c");
            Assert.Equal("ab", pair.ToString());
        }

        [Fact]
        public void AddsALineEndOnlyAfterWholeTextAndWhenAllOfItFits()
        {
            string nl = Environment.NewLine;
            var head = new TextHead(4 + nl.Length);
            head.Append("ab", lineEnd: true);
            head.Append("cd", lineEnd: true);   // its text fits, its line end does not
            Assert.Equal("ab" + nl + "cd", head.ToString());

            var cut = new TextHead(3);
            cut.Append("abcdef", lineEnd: true);
            Assert.Equal("abc", cut.ToString());
        }

        [Fact]
        public void NeverEndsInTheFirstHalfOfASurrogatePair()
        {
            var head = new TextHead(3);
            head.Append("ab\uD83D\uDE00".ToCharArray(), 0, 4);
            Assert.Equal("ab", head.ToString());

            var whole = new TextHead(4);
            whole.Append("ab\uD83D\uDE00");
            Assert.Equal("ab\uD83D\uDE00", whole.ToString());
        }

        [Fact]
        public void RefusesACapacityThatIsNotPositive()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new TextHead(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new TextHead(-1));
        }

        [Fact]
        public void KeepsWholePiecesFromConcurrentWritersUpToTheBound()
        {
            // Eight threads append 2,000 pieces of 4 characters each (their own letter), let go together: what is kept
            // is exactly the bound (a multiple of 4), and each 4-character block is one thread's piece, never a mix.
            const int Threads = 8, Pieces = 2000, Bound = 4 * 5000;
            var head = new TextHead(Bound);
            using var start = new Barrier(Threads);
            var writers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                var piece = new string((char)('a' + t), 4).ToCharArray();
                start.SignalAndWait();
                for (int i = 0; i < Pieces; i++) head.Append(piece, 0, piece.Length);
            })).ToList();
            writers.ForEach(w => w.Start());
            writers.ForEach(w => w.Join());
            string kept = head.ToString();
            Assert.Equal(Bound, kept.Length);
            for (int i = 0; i < kept.Length; i += 4)
                Assert.True(kept[i] == kept[i + 1] && kept[i] == kept[i + 2] && kept[i] == kept[i + 3], $"a mixed piece at {i}: {kept.Substring(i, 4)}");
        }
    }
}
