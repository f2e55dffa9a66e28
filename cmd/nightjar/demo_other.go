//go:build !unix

package main

import "os"

// demoToggleSignals is empty where there is no SIGUSR1: failures are
// switched on the control address only.
var demoToggleSignals []os.Signal
