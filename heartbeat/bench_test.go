package heartbeat_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
	"github.com/nightjar-dev/nightjar/schedule"
)

// BenchmarkExpectedAfterCron measures the schedule step of every ping of a
// cron check, beside the same step parsing the expression and loading the
// zone again each time (what it did before both were cached).
func BenchmarkExpectedAfterCron(b *testing.B) {
	c := nightjar.NewCheck("p", "x")
	c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "*/5 * * * *", "Europe/Berlin"
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			heartbeat.ExpectedAfter(c, at)
		}
	})
	b.Run("parse-each-time", func(b *testing.B) {
		for b.Loop() {
			cr, err := schedule.ParseCron(c.Schedule)
			if err != nil {
				b.Fatal(err)
			}
			loc, err := time.LoadLocation(c.TZ)
			if err != nil {
				b.Fatal(err)
			}
			cr.Next(cr.Next(at, loc), loc)
		}
	})
}
