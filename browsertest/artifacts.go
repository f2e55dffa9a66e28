package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ArtifactDir is the directory for the test's screenshots and page dumps:
// $NIGHTJAR_TEST_ARTIFACTS/<test name>, or
// <temporary directory>/nightjar-test-artifacts/<test name>; a subtest's
// directory is inside its parent's. It is emptied the first time a run of
// the test binary writes to it, so it never mixes two runs. It stays after
// the test, for a person or CI to look at.
func ArtifactDir(t testing.TB) string {
	root := os.Getenv(EnvArtifacts)
	if root == "" {
		root = filepath.Join(os.TempDir(), "nightjar-test-artifacts")
	}
	parts := []string{root}
	for part := range strings.SplitSeq(t.Name(), "/") {
		parts = append(parts, sanitize(part))
	}
	return filepath.Join(parts...)
}

// emptied holds the artifact directories that this process has emptied.
var emptied sync.Map

// writeArtifact writes data as the file name in the test's artifact
// directory and returns its path.
func writeArtifact(t testing.TB, name string, data []byte) (string, error) {
	dir := ArtifactDir(t)
	if _, done := emptied.LoadOrStore(dir, true); !done {
		// Only the files: a subtest's directory may be in there.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o644)
}

// saveArtifacts saves what a person needs to see why step op failed with
// cause: a full-page screenshot (PNG), the page's HTML, and a log with the
// error, the URL, the steps so far, the page's console and the browser's
// output. It returns the paths it wrote, and what went wrong on the way (a
// crashed tab has no screenshot, but the log is still written).
func (p *Page) saveArtifacts(op string, cause error) ([]string, error) {
	ctx, cancel := context.WithTimeout(p.tab, artifactTimeout)
	defer cancel()
	p.mu.Lock()
	p.failures++
	base := fmt.Sprintf("fail-%02d-%s", p.failures, sanitize(strings.SplitN(op, "(", 2)[0]))
	p.mu.Unlock()

	var files []string
	var errs []error
	write := func(name string, data []byte) {
		path, err := writeArtifact(p.t, name, data)
		if err != nil {
			errs = append(errs, err)
			return
		}
		files = append(files, path)
	}

	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		errs = append(errs, fmt.Errorf("screenshot: %w", err))
	} else {
		write(base+".png", png)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + "\n" : "") + document.documentElement.outerHTML`,
	)); err != nil {
		errs = append(errs, fmt.Errorf("page HTML: %w", err))
	} else {
		write(base+".html", []byte(html))
	}

	var log strings.Builder
	fmt.Fprintf(&log, "step:  %s\nerror: %v\ntime:  %s\n", op, cause, time.Now().Format(time.RFC3339Nano))
	if url, err := p.currentURL(p.tab, time.Now().Add(artifactTimeout)); err == nil {
		fmt.Fprintf(&log, "url:   %s\n", url)
	}
	fmt.Fprintf(&log, "browser: %s (%s)\n", p.b.version, p.b.execPath)
	p.mu.Lock()
	fmt.Fprintf(&log, "\n--- steps ---\n%s\n", strings.Join(p.steps, "\n"))
	fmt.Fprintf(&log, "\n--- console ---\n%s\n", strings.Join(p.console, "\n"))
	p.mu.Unlock()
	if blocked := p.b.BlockedRequests(); len(blocked) > 0 {
		fmt.Fprintf(&log, "\n--- refused requests off the loopback ---\n%s\n", strings.Join(blocked, "\n"))
	}
	if own := p.b.proxy.browserHosts(); len(own) > 0 {
		fmt.Fprintf(&log, "\n--- refused calls of the browser to its own services ---\n%s\n", strings.Join(own, "\n"))
	}
	fmt.Fprintf(&log, "\n--- browser output (tail) ---\n%s\n", p.b.output.String())
	write(base+".log", []byte(log.String()))

	return files, errors.Join(errs...)
}

// sanitize makes s safe as a file name: letters, digits, '.', '-' and '_'
// stay, and each run of other characters becomes one '_'.
func sanitize(s string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		ok := r == '.' || r == '-' || r == '_' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			under = false
		case !under:
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}
