//go:build unix

package runner

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// forwardedSignals are the signals a supervisor or terminal sends to ask a
// job to stop, reload or report; the wrapper passes them on so that the job,
// not the wrapper, decides what they mean.
var forwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// outcome turns a finished process's state into the exit code a shell
// would report: the exit status, or 128 plus the signal number when a
// signal ended the process.
func outcome(state *os.ProcessState) (code int, sig os.Signal) {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal()
	}
	return state.ExitCode(), nil
}

// terminate asks the process to stop the way supervisors do, with SIGTERM,
// leaving it time to clean up before it is killed.
func terminate(p *os.Process) error {
	return p.Signal(syscall.SIGTERM)
}

// startFailureCode maps an error from starting a command to the exit code
// a shell uses: 127 when the program does not exist, 126 when it exists but
// cannot be executed.
func startFailureCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}
