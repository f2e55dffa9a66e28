//go:build !unix

package aggregate_test

import "time"

// cpuTime is the CPU time the process has used, or 0 where it cannot be
// read, as here.
func cpuTime() time.Duration { return 0 }
