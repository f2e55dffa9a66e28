package schedule

import (
	"sync"
	"sync/atomic"
)

// cache holds parsed expressions for ParseCronCached; a Cron is immutable,
// so one value serves every caller.
var (
	cache     sync.Map // expression → *Cron
	cacheSize atomic.Int64
	maxCached int64 = 10_000
)

// ParseCronCached is ParseCron for hot paths: every ping of a cron check
// evaluates its schedule, and parsing it again each time cost several
// microseconds. Valid expressions are kept, up to 10,000 distinct ones;
// past that they are parsed each time. Errors are never kept.
func ParseCronCached(expr string) (*Cron, error) {
	if v, ok := cache.Load(expr); ok {
		return v.(*Cron), nil
	}
	c, err := ParseCron(expr)
	if err != nil {
		return nil, err
	}
	if cacheSize.Load() < maxCached {
		if _, loaded := cache.LoadOrStore(expr, c); !loaded {
			cacheSize.Add(1)
		}
	}
	return c, nil
}
