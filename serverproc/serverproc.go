// Package serverproc runs `nightjar serve` as a child process on a free
// loopback port, for the crash test and the benchmark: build the binary,
// start it on SQLite or PostgreSQL, wait until it is ready, stop or kill
// it, and read its log.
package serverproc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build builds ./cmd/nightjar of the module the current directory
// belongs to into dir and returns its path.
func Build(ctx context.Context, dir string) (string, error) {
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

// FreeAddr returns a 127.0.0.1 address no one listened on a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// RandomHex returns n random bytes as hex, for names of test schemas and keys.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Proc is a `nightjar serve` child process.
type Proc struct {
	cmd     *exec.Cmd
	Addr    string
	Base    string // http://Addr
	APIKey  string
	logPath string
	done    chan struct{}
	waitErr error
	stopped sync.Once
}

// Env is the environment of a child server: the parent's, without the
// settings Start decides itself, plus extra.
func Env(extra ...string) []string {
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

// Options say how to start a server.
type Options struct {
	Binary string
	// DataDir is the SQLite directory, used when DatabaseURL is empty.
	DataDir     string
	DatabaseURL string
	// LogDir receives the server's output in a file.
	LogDir string
	// APIKey becomes a read-write key of the first project; a random one
	// when empty.
	APIKey string
	// Env adds NAME=value settings.
	Env []string
}

// Start starts `nightjar serve` on a free loopback port; WaitReady tells
// when it answers.
func Start(o Options) (*Proc, error) {
	binary, dataDir, databaseURL, logDir, extraEnv := o.Binary, o.DataDir, o.DatabaseURL, o.LogDir, o.Env
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	key := o.APIKey
	if key == "" {
		key = "serverproc-" + RandomHex(12)
	}
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
	cmd.Env = Env(append(env, extraEnv...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	p := &Proc{cmd: cmd, Addr: addr, Base: "http://" + addr, APIKey: key, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// WaitReady polls /readyz every 10 ms until it answers 200 and returns
// how long that took since the process started.
func (p *Proc) WaitReady(started time.Time, timeout time.Duration) (time.Duration, error) {
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
func (p *Proc) Stop(grace time.Duration) error {
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

// Kill stops the server at once with SIGKILL, as a crash would, and waits
// until the process is gone.
func (p *Proc) Kill(timeout time.Duration) error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill nightjar serve: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("nightjar serve (pid %d) still running %s after SIGKILL", p.Pid(), timeout)
	}
}

// LogTail returns the last n lines of the server's output.
func (p *Proc) LogTail(n int) string {
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
