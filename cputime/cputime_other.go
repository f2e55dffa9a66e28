//go:build !unix

package cputime

import "time"

// Used is the CPU time the process has used, or 0 where it cannot be
// read, as here.
func Used() time.Duration { return 0 }
