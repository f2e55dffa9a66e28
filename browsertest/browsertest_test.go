package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// formPage is a small console-like page: a form whose submit handler posts
// with fetch and shows the answer, as Nightjar's console does, plus a
// classic form that navigates.
const formPage = `<!doctype html>
<html><head><title>browsertest</title></head>
<body>
<h1>Checks</h1>
<form id="check-form">
  <input id="name" name="name" required>
  <select id="kind" name="kind">
    <option value="heartbeat">Heartbeat</option>
    <option value="http">HTTP</option>
  </select>
  <textarea id="notes" name="notes"></textarea>
  <button id="save" type="submit">Save</button>
</form>
<p id="result" hidden></p>
<form id="search" action="/search" method="get">
  <input id="q" name="q">
</form>
<script>
document.getElementById("check-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = new URLSearchParams(new FormData(ev.target));
  const r = document.getElementById("result");
  r.textContent = "saving…";
  r.hidden = false;
  const res = await fetch("/api/checks", {method: "POST", body});
  r.textContent = await res.text();
  console.log("saved", res.status);
});
</script>
</body></html>`

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, formPage)
	})
	mux.HandleFunc("POST /api/checks", func(w http.ResponseWriter, r *http.Request) {
		// Slow enough that a test which does not wait would see "saving…".
		time.Sleep(150 * time.Millisecond)
		fmt.Fprintf(w, "saved check %q (%s)", r.FormValue("name"), r.FormValue("kind"))
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p id="hits">results for %s</p>`, html.EscapeString(r.FormValue("q")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserForm(t *testing.T) {
	srv := newServer(t)
	b := New(t)
	t.Logf("browser start: %v", b.StartupTime())

	t.Run("fetch form", func(t *testing.T) {
		p := b.NewPage(t)
		p.Navigate(srv.URL + "/")
		p.WaitVisible("#name")
		p.Fill("#name", "nightly backup")
		p.Fill("#kind", "http")
		p.Fill("#notes", "line one\nline two")
		p.Submit("#save")
		p.WaitText("#result", "saved check")
		if got, want := p.Text("#result"), `saved check "nightly backup" (http)`; got != want {
			t.Errorf("result = %q, want %q", got, want)
		}
		if got := p.Value("#name"); got != "nightly backup" {
			t.Errorf("name = %q", got)
		}
		if got := p.Value("#notes"); got != "line one\nline two" {
			t.Errorf("notes = %q", got)
		}
		// Fill replaces what is there.
		p.Fill("#name", "x")
		if got := p.Value("#name"); got != "x" {
			t.Errorf("name after second Fill = %q", got)
		}
		var title string
		p.Eval(`document.title`, &title)
		var sum int
		p.Eval(`new Promise(r => setTimeout(() => r(40 + 2), 10))`, &sum)
		if title != "browsertest" || sum != 42 {
			t.Errorf("Eval: title %q, sum %d", title, sum)
		}
		if path := p.Screenshot("after-save"); !isPNG(t, path) {
			t.Errorf("%s is not a PNG", path)
		}
	})

	t.Run("navigating form", func(t *testing.T) {
		p := b.NewPage(t)
		p.Navigate(srv.URL + "/")
		p.Fill("#q", "disk full")
		p.Submit("#q")
		p.WaitText("#hits", "results for disk full")
		if got, want := p.URL(), srv.URL+"/search?q=disk+full"; got != want {
			t.Errorf("URL = %q, want %q", got, want)
		}
	})

	t.Run("click", func(t *testing.T) {
		p := b.NewPage(t)
		p.Navigate(srv.URL + "/")
		p.Fill("#name", "clicked")
		p.Click("#save")
		p.WaitText("#result", `"clicked"`)
	})
}

// TestBrowserFailureArtifacts checks what a failed step leaves behind,
// without failing this test: once through saveArtifacts directly, and once
// through a helper on a TB that records the failure.
func TestBrowserFailureArtifacts(t *testing.T) {
	t.Setenv(EnvArtifacts, t.TempDir())
	srv := newServer(t)
	b := New(t)

	t.Run("direct", func(t *testing.T) {
		p := b.NewPage(t)
		p.Navigate(srv.URL + "/")
		p.Eval(`console.error("something broke")`, nil)
		// A wait that fails, as a helper would run it, but without failing
		// the test.
		ctx, cancel := context.WithTimeout(p.Context(), 300*time.Millisecond)
		defer cancel()
		_, waitErr := chromedp.Run(ctx, chromedp.WaitVisible(chromedp.CSS("#nope")))
		if !errors.Is(waitErr, context.DeadlineExceeded) {
			t.Fatalf("waiting for a missing element: %v", waitErr)
		}
		files, err := p.saveArtifacts(`WaitVisible("#nope")`, waitErr)
		if err != nil {
			t.Fatalf("saveArtifacts: %v", err)
		}
		checkArtifacts(t, files, "fail-01-WaitVisible")
		log := readFile(t, files[2])
		for _, want := range []string{`WaitVisible("#nope")`, "deadline exceeded", srv.URL, `Navigate("` + srv.URL + `/")`, "something broke"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
		if html := readFile(t, files[1]); !strings.Contains(html, `<form id="check-form">`) {
			t.Errorf("HTML dump lacks the form:\n%s", html)
		}
	})

	t.Run("failing wait", func(t *testing.T) {
		rec := &recorder{TB: t}
		p := b.NewPage(rec)
		p.Navigate(srv.URL + "/")
		p.SetTimeout(500 * time.Millisecond)
		start := time.Now()
		rec.run(func() { p.WaitText("#result", "never shown") })
		took := time.Since(start)
		if !rec.failed {
			t.Fatal("WaitText on a hidden, empty element did not fail")
		}
		if took > 15*time.Second {
			t.Errorf("the failing wait took %v with a 0.5s timeout", took)
		}
		t.Logf("failure message:\n%s", rec.msg)
		dir := ArtifactDir(t)
		for _, want := range []string{"WaitText(\"#result\", \"never shown\") failed on " + srv.URL, "timed out", "hidden", dir} {
			if !strings.Contains(rec.msg, want) {
				t.Errorf("message lacks %q", want)
			}
		}
		checkArtifacts(t, artifactFiles(t, dir, "fail-01-WaitText"), "fail-01-WaitText")
	})

	t.Run("missing element", func(t *testing.T) {
		rec := &recorder{TB: t}
		p := b.NewPage(rec)
		p.Navigate(srv.URL + "/")
		p.SetTimeout(500 * time.Millisecond)
		rec.run(func() { p.Click("#does-not-exist") })
		if !rec.failed || !strings.Contains(rec.msg, "no element matches it now") {
			t.Errorf("Click on a missing element: failed %v, message:\n%s", rec.failed, rec.msg)
		}
	})
}

// TestBrowserLoopbackOnly checks that pages reach the loopback and nothing
// else: another name and another address go to the refusing proxy. The
// other address is 127.0.0.2, still on this machine, so that a broken
// guard sends nothing out.
func TestBrowserLoopbackOnly(t *testing.T) {
	srv := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	var reached atomic.Int32
	other := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		fmt.Fprint(w, "reached")
	})}
	go other.Serve(ln)
	t.Cleanup(func() { other.Close() })

	b := New(t)
	p := b.NewPage(t)
	p.Navigate(srv.URL + "/")
	p.WaitVisible("#check-form")
	// The other names of the loopback work too.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p.Navigate(fmt.Sprintf("http://localhost:%d/", port))
	p.WaitVisible("#check-form")
	if v6, err := net.Listen("tcp", "[::1]:0"); err == nil {
		s6 := httptest.NewUnstartedServer(srv.Config.Handler)
		s6.Listener.Close()
		s6.Listener = v6
		s6.Start()
		defer s6.Close()
		p.Navigate(s6.URL + "/")
		p.WaitVisible("#check-form")
	}

	p.Navigate("http://" + ln.Addr().String() + "/")
	p.WaitText("body", "may only reach the loopback")
	p.Navigate("http://nightjar-test.invalid/")
	p.WaitText("body", "refused GET nightjar-test.invalid")

	blocked := b.BlockedRequests()
	if want := []string{ln.Addr().String(), "nightjar-test.invalid"}; !slices.Equal(blocked, want) {
		t.Errorf("blocked requests = %q, want %q", blocked, want)
	}
	t.Logf("the browser's own calls, refused: %q", b.proxy.browserHosts())
	if n := reached.Load(); n != 0 {
		t.Errorf("the server on %s got %d requests", ln.Addr(), n)
	}
}

// TestBrowserStartAndCleanup measures how long New takes, which every
// browser test pays once, and checks that no process of a browser outlives
// its test and that its profile is gone.
func TestBrowserStartAndCleanup(t *testing.T) {
	var times []time.Duration
	for i := range 2 {
		var profile string
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			start := time.Now()
			b := New(t)
			b.NewPage(t).Navigate("about:blank")
			times = append(times, time.Since(start))
			profile = b.profile
			if runtime.GOOS == "linux" {
				if n := len(processesUsing(profile)); n < 2 {
					t.Fatalf("found %d browser processes while it runs; the check cannot see them", n)
				}
			}
		})
		if pids := processesUsing(profile); len(pids) > 0 {
			t.Errorf("browser processes %v outlived the test", pids)
		}
		if _, err := os.Stat(profile); !os.IsNotExist(err) {
			t.Errorf("profile %s still there: %v", profile, err)
		}
	}
	t.Logf("browser start + first page: %v", times)
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"TestX":             "TestX",
		"fetch form":        "fetch_form",
		"a/b..c":            "a_b..c",
		"..":                "_",
		`WaitText("#x")`:    "WaitText_x_",
		"ünïcode ok-1.png":  "_n_code_ok-1.png",
		"":                  "_",
		"many   spaces\t\n": "many_spaces_",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// recorder is a testing.TB whose Fatal records the failure and ends the
// goroutine, as t.Fatal does, without failing the real test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msg    string
}

func (r *recorder) Fatal(args ...any) {
	r.record(fmt.Sprint(args...))
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msg = msg
}

// run runs f on a goroutine of its own, which a Fatal ends.
func (r *recorder) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func checkArtifacts(t *testing.T, files []string, base string) {
	t.Helper()
	var exts []string
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), base+".") {
			t.Errorf("artifact %s is not named %s.*", f, base)
		}
		exts = append(exts, filepath.Ext(f))
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("artifact %s is missing or empty: %v", f, err)
		}
	}
	if !slices.Equal(exts, []string{".png", ".html", ".log"}) {
		t.Fatalf("artifacts %q, want a .png, a .html and a .log", files)
	}
	if !isPNG(t, files[0]) {
		t.Errorf("%s is not a PNG", files[0])
	}
}

func artifactFiles(t *testing.T, dir, base string) []string {
	t.Helper()
	var files []string
	for _, ext := range []string{".png", ".html", ".log"} {
		files = append(files, filepath.Join(dir, base+ext))
	}
	return files
}

func isPNG(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	return err == nil && bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) && len(data) > 1000
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestHasPath(t *testing.T) {
	const dir = "/tmp/nightjar-browsertest-12"
	for cmdline, want := range map[string]bool{
		"chromium\x00--user-data-dir=/tmp/nightjar-browsertest-12\x00":                              true,
		"chromium --type=zygote --user-data-dir=/tmp/nightjar-browsertest-12 x":                     true,
		"handler\x00--database=/tmp/nightjar-browsertest-12/chromium/Crash":                         true,
		"chromium\x00--user-data-dir=/tmp/nightjar-browsertest-12":                                  true,
		"chromium\x00--user-data-dir=/tmp/nightjar-browsertest-123\x00":                             false,
		"chromium\x00--user-data-dir=/tmp/nightjar-browsertest-123\x00/tmp/nightjar-browsertest-12": true,
		"bash\x00": false,
	} {
		if got := hasPath([]byte(cmdline), dir); got != want {
			t.Errorf("hasPath(%q) = %v, want %v", cmdline, got, want)
		}
	}
}
