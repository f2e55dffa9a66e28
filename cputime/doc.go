// Package cputime reads the CPU time the process has used, so benchmarks
// can report what a piece of work costs in CPU as well as in wall time,
// which on a busy machine differ.
package cputime
