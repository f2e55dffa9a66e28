package schedule

import (
	"sync"
	"sync/atomic"
)

// cache holds parsed schedules for ParseCached; a parsed schedule is
// immutable, so one value serves every caller.
var (
	cache     sync.Map // expression → Schedule
	cacheSize atomic.Int64
	maxCached int64 = 10_000
)

// ParseCached is Parse for hot paths: every ping of a scheduled check
// evaluates its schedule, and parsing it again each time cost several
// microseconds. Valid expressions are kept, up to 10,000 distinct ones;
// past that they are parsed each time. Errors are never kept.
func ParseCached(expr string) (Schedule, error) {
	if v, ok := cache.Load(expr); ok {
		return v.(Schedule), nil
	}
	s, err := Parse(expr)
	if err != nil {
		return nil, err
	}
	if cacheSize.Load() < maxCached {
		if _, loaded := cache.LoadOrStore(expr, s); !loaded {
			cacheSize.Add(1)
		}
	}
	return s, nil
}
