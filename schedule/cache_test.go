package schedule

import (
	"fmt"
	"testing"
	"time"
)

func TestParseCached(t *testing.T) {
	a, err := ParseCached("*/5 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseCached("*/5 * * * *")
	if err != nil || a != b {
		t.Fatalf("second parse = %p, %v; want the cached %p", b, err, a)
	}
	at := time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)
	if got := b.Next(at, time.UTC); !got.Equal(at.Add(4 * time.Minute)) {
		t.Fatalf("cached Next = %v", got)
	}
	oc, err := ParseCached("*:0/5")
	if _, isOC := oc.(*OnCalendar); err != nil || !isOC || !oc.Next(at, time.UTC).Equal(at.Add(4*time.Minute)) {
		t.Fatalf("cached OnCalendar schedule = %T %v, %v", oc, oc, err)
	}
	if _, err := ParseCached("61 * * * *"); err == nil {
		t.Fatal("an invalid expression was accepted")
	}
	if _, ok := cache.Load("61 * * * *"); ok {
		t.Fatal("an error was cached")
	}
	// Past the limit expressions are still parsed, just not kept.
	old := maxCached
	maxCached = cacheSize.Load()
	defer func() { maxCached = old }()
	expr := fmt.Sprintf("%d 3 * * *", time.Now().Nanosecond()%60)
	cache.Delete(expr)
	if c, err := ParseCached(expr); err != nil || c.String() != expr {
		t.Fatalf("parse past the limit = %v, %v", c, err)
	}
	if _, ok := cache.Load(expr); ok {
		t.Fatal("the cache grew past its limit")
	}
}
