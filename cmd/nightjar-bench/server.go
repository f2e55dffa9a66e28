package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nightjar-dev/nightjar/serverproc"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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

func newAPIClient(p *serverproc.Proc) *apiClient {
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
func (a *apiClient) createChecks(parent context.Context, n int, schedule, tz string) ([]string, error) {
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
				if schedule != "" {
					in = map[string]any{"name": fmt.Sprintf("bench-%05d", i), "schedule": schedule, "tz": tz, "grace": 60}
				}
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
