package incidents_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// TestStormBeyondTheRateWaitsAsOneBundle: bob's webhook takes 3 messages
// a minute. Its verification code, a storm's first page and the bundle
// after it, all within the first seconds, use them up; the
// pages of three more incidents that open within the minute wait, none
// lost, and when the minute allows go out together as one bundle.
func TestStormBeyondTheRateWaitsAsOneBundle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rcv := newReceiver(t)
		w.method(t, w.bob, rcv.srv.URL+"/bob")
		p := w.policy(t, "bob", 0, step(time.Hour, user(w.bob)))
		for i := 1; i <= 8; i++ {
			w.service(t, fmt.Sprintf("svc%d", i), p, incident.DefaultServiceConfig())
		}
		clk := nightjar.NewFakeClock(t0)
		ob := delivery(w, clk, webhooks())
		ob.PerMinute = map[string]int{nightjar.ChannelWebhook: 3}
		deliver := stepper(t, ob, clk)

		storm := func(from, to int, start time.Duration) {
			for i := from; i <= to; i++ {
				at := t0.Add(start + time.Duration(i-from)*time.Second)
				w.alert(t, at, fmt.Sprintf("db%d", i), fmt.Sprintf("svc%d", i), nightjar.AlertFiring)
				deliver(at)
			}
		}
		storm(1, 5, 0)
		deliver(t0.Add(5 * time.Second))
		if pages := pagesIn(rcv.payloads()); len(pages) != 2 || pages[0].Bundle != nil || len(pages[1].Bundle) != 4 {
			t.Fatalf("after the first storm: %d pages, want the first alone and a bundle of 4", len(pages))
		}
		storm(6, 8, 10*time.Second)
		for at := 15 * time.Second; at < time.Minute; at += 5 * time.Second {
			deliver(t0.Add(at))
			if pages := pagesIn(rcv.payloads()); len(pages) != 2 {
				t.Fatalf("at %s, within the minute: %d pages, want 2", at, len(pages))
			}
		}
		deliver(t0.Add(time.Minute))
		pages := pagesIn(rcv.payloads())
		if len(pages) != 3 || len(pages[2].Bundle) != 3 {
			t.Fatalf("a minute on: %d pages, want a third, bundling 3", len(pages))
		}
		for i, item := range pages[2].Bundle {
			if item.Incident.Number != int64(i+6) {
				t.Errorf("bundle item %d is incident #%d, want #%d", i, item.Incident.Number, i+6)
			}
		}
	})
}
