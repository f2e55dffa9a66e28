// Package crashtest checks Nightjar's central durability promise end to
// end: a ping answered with 200 OK has been committed, so it survives the
// server being killed (SIGKILL, no shutdown) an instant later.
//
// The test builds the real nightjar binary, runs `nightjar serve` on
// SQLite and, when a server is reachable, on PostgreSQL, pings it from
// many goroutines, kills it mid-load, starts it again on the same data
// and looks for every acknowledged ping. It runs in `go test ./...` and
// is skipped under -short.
//
// With PostgreSQL it runs two `nightjar serve` replicas on one database
// and kills one of them while their escalation policy pages a webhook
// receiver, and checks that every page arrives, and once (see
// TestKilledReplicaPagesOnce for what "once" means after a kill that cuts
// a send).
//
// It also kills `nightjar apply -f` in the middle of a large file and
// checks that the database is as it was before: a configuration is
// applied whole or not at all.
package crashtest
