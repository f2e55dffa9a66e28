//go:build unix

package main

import (
	"os"
	"syscall"
)

// demoToggleSignals switch the demo's failures on and off: SIGUSR1 where
// there is one.
var demoToggleSignals = []os.Signal{syscall.SIGUSR1}
