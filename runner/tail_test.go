package runner

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		writes []string
	}{
		{"nothing written", 4, nil},
		{"fits", 10, []string{"abc", "def"}},
		{"exactly full", 6, []string{"abc", "def"}},
		{"wraps", 4, []string{"abc", "def", "gh"}},
		{"one large write", 4, []string{"abcdefghij"}},
		{"large write after wrap", 4, []string{"ab", "cdefg", "hijklmnop", "q"}},
		{"many small writes", 3, strings.Split("the quick brown fox", "")},
		{"zero size", 0, []string{"abc"}},
		{"empty writes", 3, []string{"", "ab", "", "cd", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTail(tc.size)
			all := strings.Join(tc.writes, "")
			for _, w := range tc.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			want := all[len(all)-min(len(all), tc.size):]
			if got := string(tl.Bytes()); got != want {
				t.Errorf("Bytes = %q, want %q", got, want)
			}
			if tl.Total() != int64(len(all)) {
				t.Errorf("Total = %d, want %d", tl.Total(), len(all))
			}
		})
	}
}

func FuzzTail(f *testing.F) {
	f.Add(5, []byte("hello, world"), 3)
	f.Add(1, []byte("ab"), 1)
	f.Add(64, bytes.Repeat([]byte("x"), 200), 17)
	f.Fuzz(func(t *testing.T, size int, data []byte, chunk int) {
		size = max(0, size%1024)
		chunk = max(1, chunk%64)
		tl := newTail(size)
		for p := data; len(p) > 0; {
			n := min(chunk, len(p))
			_, _ = tl.Write(p[:n])
			p = p[n:]
			chunk = chunk*7%63 + 1 // vary the write sizes
		}
		want := data[len(data)-min(len(data), size):]
		if got := tl.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("size %d: Bytes = %q, want %q", size, got, want)
		}
	})
}

func TestTeeSharesTailAcrossStreams(t *testing.T) {
	var mu sync.Mutex
	tl := newTail(1 << 20)
	var dst bytes.Buffer // one destination for both, as when stdout and stderr are the same
	out := &tee{mu: &mu, tail: tl, dst: &dst}
	errw := &tee{mu: &mu, tail: tl, dst: &dst}
	var wg sync.WaitGroup
	for _, w := range []*tee{out, errw} {
		wg.Go(func() {
			for range 1000 {
				_, _ = w.Write([]byte("0123456789\n"))
			}
		})
	}
	wg.Wait()
	if dst.Len() != 22000 || tl.Total() != 22000 || !bytes.Equal(tl.Bytes(), dst.Bytes()) {
		t.Errorf("dst %d bytes, tail %d of %d: want both 22000 and equal", dst.Len(), len(tl.Bytes()), tl.Total())
	}
}

func TestBuildBody(t *testing.T) {
	const summary = "nightjar run: command exited with status 1 after 2s"
	tests := []struct {
		name   string
		output string
		total  int64
		limit  int64
		want   string
	}{
		{
			name:   "no limit, whole output",
			output: "a\nb\n", total: 4, limit: -1,
			want: summary + "\na\nb\n",
		},
		{
			name:   "no output",
			output: "", total: 0, limit: -1,
			want: summary + "\n",
		},
		{
			name:   "tail already cut by the buffer",
			output: "xyz", total: 10, limit: -1,
			want: summary + "; output truncated to the last 3 of 10 bytes\nxyz",
		},
		{
			name:   "limit just fits the whole body",
			output: "0123456789", total: 10, limit: int64(len(summary + "\n0123456789")),
			want: summary + "\n0123456789",
		},
		{
			name:   "limit one short of the whole body",
			output: "0123456789", total: 10, limit: int64(len(summary+"\n0123456789")) - 1,
			want: summary + "; output truncated to the last 0 of 10 bytes"[:len(summary+"\n0123456789")-1-len(summary)],
		},
		{
			name:   "limit cuts the output from the front",
			output: "0123456789", total: 50, limit: int64(len(summary+"; output truncated to the last 10 of 50 bytes\n")) + 4,
			want: summary + "; output truncated to the last 4 of 50 bytes\n6789",
		},
		{
			name:   "limit leaves room for the summary only",
			output: "0123456789", total: 50, limit: int64(len(summary + "; output truncated to the last 0 of 50 bytes")),
			want: summary + "; output truncated to the last 0 of 50 bytes",
		},
		{
			name:   "limit below the summary",
			output: "0123456789", total: 10, limit: 8,
			want: "nightjar",
		},
		{
			name:   "zero limit",
			output: "0123456789", total: 10, limit: 0,
			want: "",
		},
		{
			name:   "cut output starts at a character boundary",
			output: "\xbc\xbc" + "ab", total: 40, limit: -1,
			want: summary + "; output truncated to the last 2 of 40 bytes\nab",
		},
		{
			name:   "whole output is not trimmed",
			output: "\xbcab", total: 3, limit: -1,
			want: summary + "\n\xbcab",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(buildBody(summary, []byte(tc.output), tc.total, tc.limit))
			if got != tc.want {
				t.Errorf("buildBody =\n%q\nwant\n%q", got, tc.want)
			}
			if tc.limit >= 0 && int64(len(got)) > tc.limit {
				t.Errorf("body is %d bytes, over the limit %d", len(got), tc.limit)
			}
		})
	}
}

func FuzzBuildBody(f *testing.F) {
	f.Add("summary", []byte("out\n"), int64(4), int64(-1))
	f.Add("summary", []byte("0123456789"), int64(99), int64(30))
	f.Add("s", []byte("\xe2\x82\xac\xe2\x82\xac"), int64(10), int64(7))
	f.Fuzz(func(t *testing.T, summary string, output []byte, extra, limit int64) {
		if strings.Contains(summary, "\n") || limit > 1<<20 {
			return
		}
		total := int64(len(output)) + max(0, extra%1000)
		body := buildBody(summary, output, total, limit)
		if limit >= 0 && int64(len(body)) > limit {
			t.Fatalf("body %d bytes over limit %d", len(body), limit)
		}
		head, shown, found := bytes.Cut(body, []byte("\n"))
		if !strings.HasPrefix(string(head), summary) && !strings.HasPrefix(summary, string(head)) {
			t.Fatalf("body %q does not start with the summary %q", body, summary)
		}
		if found && !bytes.HasSuffix(output, shown) {
			t.Fatalf("shown output %q is not a suffix of %q", shown, output)
		}
		if limit < 0 && int64(len(output)) == total && !bytes.Equal(shown, output) {
			t.Fatalf("unlimited body dropped output: %q", body)
		}
	})
}
