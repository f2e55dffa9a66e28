package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// buildBinary builds ./cmd/nightjar of the module the current directory
// belongs to into dir and returns its path.
func buildBinary(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the nightjar module: run from the repository or pass --binary")
	}
	bin := filepath.Join(dir, "nightjar")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/nightjar")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/nightjar: %w\n%s", err, out)
	}
	return bin, nil
}

// freeAddr returns a 127.0.0.1 address no one listened on a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serverProc is a `nightjar serve` child process.
type serverProc struct {
	cmd     *exec.Cmd
	Addr    string
	Base    string // http://Addr
	APIKey  string
	logPath string
	done    chan struct{}
	waitErr error
	stopped sync.Once
}

// serverEnv is the environment of a child server: the parent's, without
// the settings the benchmark decides itself, plus extra.
func serverEnv(extra ...string) []string {
	own := []string{"NIGHTJAR_DATABASE_URL", "NIGHTJAR_DATA_DIR", "NIGHTJAR_LISTEN", "NIGHTJAR_BASE_URL",
		"NIGHTJAR_BOOTSTRAP_API_KEY", "NIGHTJAR_LOG_FORMAT"}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, o := range own {
			if name == o || name == o+"_FILE" {
				keep = false
			}
		}
		if keep {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startServer starts `nightjar serve` on a free loopback port. dataDir is
// the SQLite directory, or "" when databaseURL names PostgreSQL. Its
// output goes to a log file in logDir.
func startServer(binary, dataDir, databaseURL, logDir string, extraEnv ...string) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	key := "bench-" + randomHex(12)
	env := []string{"NIGHTJAR_BOOTSTRAP_API_KEY=" + key, "NIGHTJAR_BASE_URL=http://" + addr}
	args := []string{"serve", "--listen", addr}
	if databaseURL != "" {
		env = append(env, "NIGHTJAR_DATABASE_URL="+databaseURL)
	} else {
		args = append(args, "--data", dataDir)
	}
	logPath := filepath.Join(logDir, "nightjar-"+strings.ReplaceAll(addr, ":", "_")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = serverEnv(append(env, extraEnv...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &serverProc{cmd: cmd, Addr: addr, Base: "http://" + addr, APIKey: key, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *serverProc) Pid() int { return p.cmd.Process.Pid }

// WaitReady polls /readyz every 10 ms until it answers 200 and returns
// how long that took since the process started.
func (p *serverProc) WaitReady(started time.Time, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	deadline := started.Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return 0, fmt.Errorf("nightjar serve exited during start-up (%v); log:\n%s", p.waitErr, p.LogTail(30))
		default:
		}
		resp, err := client.Get(p.Base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(started), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("nightjar serve not ready after %s; log:\n%s", timeout, p.LogTail(30))
}

// Stop asks the server to shut down (SIGTERM) and kills it if it has not
// exited after grace.
func (p *serverProc) Stop(grace time.Duration) error {
	var err error
	p.stopped.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			var ee *exec.ExitError
			if p.waitErr != nil && !errors.As(p.waitErr, &ee) {
				err = p.waitErr
			} else if p.waitErr != nil {
				err = fmt.Errorf("nightjar serve: %v", p.waitErr)
			}
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = fmt.Errorf("nightjar serve did not stop within %s after SIGTERM; killed", grace)
		}
	})
	return err
}

// LogTail returns the last n lines of the server's output.
func (p *serverProc) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// memInfo is a process's memory as /proc reports it.
type memInfo struct {
	RSS, HWM int64 // bytes: resident now, and peak resident
}

func readMem(pid int) (memInfo, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	defer f.Close()
	var m memInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.HWM
		default:
			continue
		}
		fields := strings.Fields(v) // "123456 kB"
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse %s: %w", name, err)
		}
		*dst = kb * 1024
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, sc.Err()
}

// apiClient talks to a server's management API.
type apiClient struct {
	base, key string
	http      *http.Client
}

func newAPIClient(p *serverProc) *apiClient {
	return &apiClient{base: p.Base, key: p.APIKey, http: newLoadClient(16, 30*time.Second)}
}

// do sends a request and decodes a JSON answer into out (when not nil),
// failing on any non-2xx status.
func (a *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Api-Key", a.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// createChecks creates n simple checks through the Healthchecks API, a
// few at a time, and returns their UUIDs in creation order.
func (a *apiClient) createChecks(parent context.Context, n int) ([]string, error) {
	ctx, cancel := context.WithCancel(parent) // the first error stops the others
	defer cancel()
	ids := make([]string, n)
	errs := make(chan error, 8)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				var out struct {
					UUID string `json:"uuid"`
				}
				in := map[string]any{"name": fmt.Sprintf("bench-%05d", i), "timeout": 3600, "grace": 60}
				if err := a.do(ctx, http.MethodPost, "/api/v3/checks/", in, &out); err != nil {
					errs <- err
					cancel()
					return
				}
				if out.UUID == "" {
					errs <- errors.New("POST /api/v3/checks/: answer has no uuid")
					cancel()
					return
				}
				ids[i] = out.UUID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) || parent.Err() != nil {
			return nil, err
		}
	}
	return ids, parent.Err()
}
