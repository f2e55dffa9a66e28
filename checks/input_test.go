package checks_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// No text that PostgreSQL cannot store reaches it: the checks area's
// statements refuse a string argument with a NUL byte or invalid UTF-8
// with EINVALID, on both databases alike, even where no validation ran
// before.
func TestChecksRefuseBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "Alpha")
		c := newCheck(t, svc, p, "job", nil)
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			_, err := svc.Get(ctx, p.ID, bad)
			wantCode(t, err, nightjar.EINVALID)
			_, err = svc.List(ctx, p.ID, checks.Filter{Slug: bad})
			wantCode(t, err, nightjar.EINVALID)
			_, err = svc.SetPaused(ctx, p.ID, bad, true, t0)
			wantCode(t, err, nightjar.EINVALID)
			_, err = svc.Update(ctx, p.ID, c.ID, t0, func(c *nightjar.Check) error { c.Desc = bad; return nil })
			wantCode(t, err, nightjar.EINVALID)
		}
		if got, err := svc.Get(ctx, p.ID, c.ID); err != nil || got.Desc != "" {
			t.Fatalf("check after refused update: %+v %v", got, err)
		}
	})
}

// A ping's metadata is what clients send: it is stored with invalid bytes
// replaced, never refused, and the body byte for byte, on both databases.
func TestPingMetadataStoredSafely(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "Alpha")
		c := newCheck(t, svc, p, "job", nil)
		body := []byte("a\x00b\xff\xfe\xc3\x28 end\x00")
		// Alone, and in a batch with a well-behaved ping.
		reqs := []*checks.PingRequest{
			{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0, Method: "PO\xffST", Scheme: "ht\x00tp", RemoteAddr: "\xff1.2.3.4",
				UA: "x\xff" + strings.Repeat("é", 300), RID: "\x00", Body: body},
			{PingKey: p.PingKey, Slug: "job", Kind: nightjar.PingLog, At: t0, Method: "GET", UA: "curl/8", Body: []byte("fine")},
		}
		for i, r := range svc.RecordPings(ctx, reqs, 0) {
			if r.Err != nil {
				t.Fatalf("ping %d: %v", i, r.Err)
			}
		}
		got, err := svc.PingWithBody(ctx, c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, body) {
			t.Fatalf("body %q, want %q", got.Body, body)
		}
		for _, s := range []string{got.UA, got.Method, got.Scheme, got.RemoteAddr, got.RID} {
			if !nightjar.ValidText(s) {
				t.Fatalf("stored metadata %q is not valid text: %+v", s, got)
			}
		}
		if !strings.HasPrefix(got.UA, "x\uFFFDéé") || utf8.RuneCountInString(got.UA) != 200 || got.Method != "PO\uFFFDST" {
			t.Fatalf("ua %q (%d characters), method %q", got.UA, utf8.RuneCountInString(got.UA), got.Method)
		}
		if other, err := svc.PingWithBody(ctx, c.ID, 2); err != nil || string(other.Body) != "fine" || other.UA != "curl/8" {
			t.Fatalf("the batch's other ping: %+v %v", other, err)
		}
	})
}
