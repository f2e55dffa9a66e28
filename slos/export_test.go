package slos

import (
	"time"

	"github.com/nightjar-dev/nightjar/slo"
)

// CachedSum is the counts the evaluation's cached series of an objective
// holds for [from, to).
func (s *Service) CachedSum(id string, from, to time.Time) slo.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.series[id].series.Sum(from, to)
}
