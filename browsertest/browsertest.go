// Package browsertest drives a real headless Chromium from tests, for end
// to end tests of Nightjar's web console. It is a test helper: import it
// from _test.go files only.
//
// A test starts a browser with New, opens a tab with Browser.NewPage and
// works with the tab through the helpers of Page. Every helper fails the
// test with a message that names the step, the selector and the page's URL,
// after it saved a full-page screenshot, the page's HTML and its console
// into the test's artifact directory (see ArtifactDir):
//
//	b := browsertest.New(t)
//	p := b.NewPage(t)
//	p.Navigate(srv.URL + "/login")
//	p.Fill("#email", "ops@example.com")
//	p.Submit("#login-form")
//	p.WaitText("#banner", "Welcome")
//
// Starting a browser takes about half a second on a small machine. Tests that
// need several tabs share one browser: call New once in the parent test and
// NewPage in each subtest. Every page lives in a browser context of its own,
// so cookies and storage never leak from one page to another.
//
// The browser is Debian's chromium package. NIGHTJAR_TEST_CHROMIUM names
// another binary; "off" skips the browser tests. When the binary is missing
// New skips the test, except in CI (CI set), where it fails it.
// scripts/ensure-chromium.sh installs the package, and scripts/test.sh runs
// it before the tests.
//
// The browser only ever reaches the loopback (127.0.0.1, localhost and
// [::1]): names resolve to nothing, and every other request goes to a local
// proxy of the harness that refuses it and records it (see
// Browser.BlockedRequests). Each browser has a fresh temporary profile, and
// its processes are killed and its profile removed when the test ends.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/nightjar-dev/nightjar/peerbin"
)

// Environment variables that the harness reads.
const (
	// EnvChromium names the Chromium binary; "off" skips the browser tests.
	EnvChromium = "NIGHTJAR_TEST_CHROMIUM"
	// EnvArtifacts names the directory for screenshots and page dumps.
	EnvArtifacts = "NIGHTJAR_TEST_ARTIFACTS"
)

// DefaultChromium is the binary that Debian's chromium package installs.
const DefaultChromium = "/usr/bin/chromium"

// Timeouts. They are generous, for a busy machine with two cores: under a
// load average of 30 a page of the incident pages took more than 30 s.
const (
	// DefaultPageTimeout bounds all the steps on one page together.
	DefaultPageTimeout = 60 * time.Second
	// startTimeout bounds the start of the browser and of a tab.
	startTimeout = 60 * time.Second
	// artifactTimeout bounds the capture of the artifacts after a failure,
	// which may come after the page's deadline passed.
	artifactTimeout = 10 * time.Second
	// testDeadlineMargin is kept free before the deadline of `go test
	// -timeout`, so that a slow step fails with artifacts rather than the
	// binary panicking.
	testDeadlineMargin = 5 * time.Second
)

// Browser is one headless Chromium process with a fresh profile. Its
// methods are safe for use by parallel subtests.
type Browser struct {
	// PageTimeout is the time that NewPage gives each page for all of its
	// steps together (DefaultPageTimeout). Change it before NewPage.
	PageTimeout time.Duration

	ctx      context.Context // chromedp context of the browser's first tab
	execPath string
	profile  string
	version  string
	startup  time.Duration
	output   *tailBuffer
	proxy    *blockProxy
}

// New starts headless Chromium for the test and returns it. The browser
// and everything it started are stopped when the test (and its subtests)
// ends. New skips the test when Chromium is absent, except in CI, where it
// fails it.
func New(t testing.TB) *Browser {
	t.Helper()
	execPath := findChromium(t)

	profile, err := os.MkdirTemp("", "nightjar-browsertest-")
	if err != nil {
		t.Fatalf("browsertest: temporary profile: %v", err)
	}
	proxy, err := startBlockProxy()
	if err != nil {
		os.RemoveAll(profile)
		t.Fatalf("browsertest: start the blocking proxy: %v", err)
	}
	b := &Browser{
		PageTimeout: DefaultPageTimeout,
		execPath:    execPath,
		profile:     profile,
		output:      &tailBuffer{max: 64 << 10},
		proxy:       proxy,
	}

	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(),
		allocatorOptions(execPath, profile, proxy.addr(), b.output)...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithBrowserOption(
			chromedp.WithBrowserLogf(b.output.logf),
			chromedp.WithBrowserErrorf(b.output.logf),
		))
	b.ctx = ctx
	t.Cleanup(func() {
		// Killing is enough for a throwaway profile, and it is fast. The
		// cancel funcs wait for the main process; killLeftovers then
		// finds the helpers that outlived it by their profile path.
		cancel()
		allocCancel()
		killLeftovers(profile)
		if err := removeAllRetry(profile); err != nil {
			t.Logf("browsertest: remove profile %s: %v", profile, err)
		}
		proxy.close()
		if blocked := proxy.hosts(); len(blocked) > 0 {
			t.Logf("browsertest: the browser tried to leave the loopback; refused: %s", strings.Join(blocked, ", "))
		}
	})

	start := time.Now()
	// The first Run starts the process and binds it to ctx, so it must not
	// get a context with a timeout; a watchdog bounds it instead.
	if err := runBounded(ctx, cancel, startTimeout, chromedp.Steps()); err != nil {
		t.Fatalf("browsertest: start %s: %v\nbrowser output:\n%s", execPath, err, b.output.String())
	}
	b.startup = time.Since(start)
	vctx, vcancel := context.WithTimeout(ctx, startTimeout)
	defer vcancel()
	if v, err := cdp.Call(vctx, chromedp.FromContext(ctx).Browser, browser.GetVersion, cdp.Empty{}); err == nil {
		b.version = v.Product
	}
	t.Logf("browsertest: %s (%s) started in %v", b.version, execPath, b.startup.Round(time.Millisecond))
	return b
}

// allocatorOptions is the complete command line of the browser. It is
// built from scratch rather than from chromedp's defaults, so that every
// flag is one chosen here.
func allocatorOptions(execPath, profile, proxyAddr string, output io.Writer) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("user-data-dir", profile),

		// Loopback only. No name resolves but the loopback's, and every
		// request that does not go to the loopback goes to the harness's
		// proxy, which refuses it. <-loopback drops the implicit bypass
		// rules (which also cover link-local addresses) before the
		// loopback names are added back.
		chromedp.Flag("host-resolver-rules", hostResolverRules),
		chromedp.ProxyServer("http://" + proxyAddr),
		chromedp.Flag("proxy-bypass-list", proxyBypassList),

		// Fewer calls home (refused anyway): no network time queries, no
		// form-field lookups on pages with forms.
		chromedp.Flag("disable-features", "NetworkTimeServiceQuerying,AutofillServerCommunication"),

		// Quieter, steadier runs: no keyring look-up, no default-browser
		// prompt, one window size for all screenshots.
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 800),

		// Chromium keeps its crash database in its configuration home, not
		// in the profile; this puts it in the profile, which goes away.
		chromedp.Env("CHROME_CONFIG_HOME=" + profile),
		chromedp.CombinedOutput(output),
	}
}

const (
	hostResolverRules = "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1"
	proxyBypassList   = "<-loopback>;localhost;127.0.0.1;[::1]"
)

// runBounded runs a on ctx and cancels ctx (which kills the browser) when
// it takes longer than limit.
func runBounded(ctx context.Context, cancel context.CancelFunc, limit time.Duration, a chromedp.Action[chromedp.Void]) error {
	done := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, a)
		done <- err
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		cancel()
		<-done
		return fmt.Errorf("no answer within %v", limit)
	}
}

// findChromium returns the binary to run, skipping or failing the test
// when there is none.
func findChromium(t testing.TB) string {
	t.Helper()
	path := peerbin.Find(t, peerbin.Peer{Name: "Chromium", Env: EnvChromium, Default: DefaultChromium,
		Installer: "scripts/ensure-chromium.sh", Check: checkExecutable})
	return realBinary(path)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// debianBinary is the browser binary of Debian's chromium package. The
// package's /usr/bin/chromium is a shell launcher that sources
// /etc/chromium.d, which adds keys for Google's web services and flags that
// enable extensions. The harness runs the binary itself, so that the
// command line is exactly the one built here.
const debianBinary = "/usr/lib/chromium/chromium"

// realBinary returns the binary behind Debian's launcher script, and path
// itself for anything else.
func realBinary(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return path
	}
	defer f.Close()
	head := make([]byte, 16<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) || !bytes.Contains(head, []byte("/etc/chromium.d")) {
		return path
	}
	if checkExecutable(debianBinary) != nil {
		return path
	}
	return debianBinary
}

// Version is the browser's product string, such as "Chrome/156.0.8078.79".
func (b *Browser) Version() string { return b.version }

// StartupTime is how long the browser took to start and open its first tab.
func (b *Browser) StartupTime() time.Duration { return b.startup }

// ExecPath is the binary that runs.
func (b *Browser) ExecPath() string { return b.execPath }

// BlockedRequests lists the hosts (host:port) that pages of this browser
// tried to reach off the loopback, in the order of the first attempt. The
// requests were refused.
func (b *Browser) BlockedRequests() []string { return b.proxy.hosts() }

// Context is the chromedp context of the browser, for chromedp actions of
// the browser as a whole. Pages have their own contexts (Page.Context).
func (b *Browser) Context() context.Context { return b.ctx }

// tailBuffer keeps the last max bytes of the lines written to it, less
// the noise: it collects the browser's output for failure reports.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	partial []byte // the start of a line whose end has not come yet
}

// noise marks output lines that say nothing about a test: a machine
// without D-Bus makes Chromium complain many times at every start.
var noise = [][]byte{[]byte(":ERROR:dbus/")}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := w.partial[:i+1]
		if !slices.ContainsFunc(noise, func(n []byte) bool { return bytes.Contains(line, n) }) {
			w.buf = append(w.buf, line...)
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > w.max {
		w.partial = w.partial[len(w.partial)-w.max:]
	}
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) logf(format string, args ...any) {
	fmt.Fprintf(w, "chromedp: "+format+"\n", args...)
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf) + string(w.partial)
}

// killLeftovers kills the processes of the browser that still run: its
// helpers can outlive the main process, and one can fork while the main
// process dies, so it looks until a few passes in a row find nothing. Each
// of them has the profile's path on its command line (as --user-data-dir
// or, for the crash handler, inside --database). It reads /proc, so it does
// nothing where there is none.
func killLeftovers(profile string) {
	const quietPasses = 3
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < quietPasses && time.Now().Before(deadline); {
		pids := processesUsing(profile)
		for _, pid := range pids {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
		}
		if len(pids) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processesUsing returns the ids of the live processes whose command line
// has the path dir in it. (A process that exited has an empty one.)
func processesUsing(dir string) []int {
	if runtime.GOOS != "linux" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && hasPath(cmdline, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hasPath reports whether cmdline holds the path dir, or a path inside it.
// Chromium's helpers rewrite their command lines with spaces for NULs, so
// the path may end in either, in '/', or at the end.
func hasPath(cmdline []byte, dir string) bool {
	for rest := cmdline; ; {
		i := bytes.Index(rest, []byte(dir))
		if i < 0 {
			return false
		}
		rest = rest[i+len(dir):]
		if len(rest) == 0 || rest[0] == 0 || rest[0] == ' ' || rest[0] == '/' {
			return true
		}
	}
}

// removeAllRetry removes dir, trying again for a while: a helper that is
// being killed can still create a file in it.
func removeAllRetry(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
