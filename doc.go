// Package nightjar is Nightjar's domain: the types every stage of the data
// flow (signals → evaluation → alerts → incidents → delivery) shares, their
// validation, the error codes returned to users, and the Clock that all logic
// takes its time from. It imports no database driver and no net/http, so the
// capabilities around it (heartbeat, store, web, engine, notify) depend on it
// and never the other way round.
package nightjar
