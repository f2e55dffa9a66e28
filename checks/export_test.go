package checks

// SetCacheLimit changes how many checks the check cache keeps.
func (s *Service) SetCacheLimit(n int) {
	if s.cache != nil {
		s.cache.mu.Lock()
		s.cache.max = n
		s.cache.mu.Unlock()
	}
}
