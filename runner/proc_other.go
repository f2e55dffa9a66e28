//go:build !unix

package runner

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
)

// forwardedSignals is the one portable stop request; other systems have no
// equivalent of the Unix job-control signals.
var forwardedSignals = []os.Signal{os.Interrupt}

// outcome reports the process's exit code; without Unix signals there is
// no 128+N convention to follow.
func outcome(state *os.ProcessState) (code int, sig os.Signal) {
	return state.ExitCode(), nil
}

// terminate stops the process; there is no gentler portable request.
func terminate(p *os.Process) error {
	return p.Kill()
}

// startFailureCode maps an error from starting a command to the exit code
// a shell uses: 127 when the program does not exist, 126 otherwise.
func startFailureCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}
