package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/matrix"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/pagerduty"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// serviceNotifiers sends to the chat and paging services' test receivers.
func serviceNotifiers(ch *nightjar.Channel) (notify.Notifier, error) {
	switch ch.Kind {
	case nightjar.ChannelMatrix:
		return matrix.New(ch, notifytest.Client()), nil
	case nightjar.ChannelPagerDuty:
		return pagerduty.New(ch, notifytest.Client()), nil
	}
	return nil, errors.New("no sender for " + ch.Kind)
}

func channelOf(t *testing.T, db *store.DB, p *nightjar.Project, kind string, cfg nightjar.ChannelConfig) outbox.Destination {
	t.Helper()
	ch := &nightjar.Channel{ProjectID: p.ID, Kind: kind, Name: kind, Config: cfg}
	if err := channels.New(db).Create(context.Background(), ch, t0); err != nil {
		t.Fatal(err)
	}
	return outbox.Destination{Kind: outbox.ToChannel, ID: ch.ID}
}

// A homeserver that asks to wait gets its wait, and the retry carries the
// same transaction id, so the room sees the alert once.
func TestOutboxMatrixRetryKeepsTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var calls atomic.Int32
		rc := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				notifytest.Respond(http.StatusTooManyRequests, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":30000}`)(w, r)
				return
			}
			notifytest.Respond(http.StatusOK, `{"event_id":"$e"}`)(w, r)
		})
		p, _ := setup(t, db, "", "", 0)
		to := channelOf(t, db, p, nightjar.ChannelMatrix, nightjar.ChannelConfig{BaseURL: rc.URL, Token: "syt_x", RoomID: "!r:example.org"})
		msg := firingTo(p, to)
		msg.IdempotencyKey = "alert:check:x:firing:1"
		id := enqueueAt(t, db, t0, msg)[0]
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, serviceNotifiers), Log: quiet(), Clock: clk, Rand: func() float64 { return 0 }}
		stepAndWait(t, ob, clk, t0)
		it, err := outbox.New(db).Entry(ctx, p.ID, id)
		if err != nil || it.Status != outbox.Pending || it.NextAttemptAt.Before(t0.Add(30*time.Second)) {
			t.Fatalf("after the 429: %+v %v; want pending until 30 s later", it, err)
		}
		stepAndWait(t, ob, clk, t0.Add(notify.BackoffBase))
		if n := len(rc.Requests()); n != 1 {
			t.Fatalf("%d requests before the homeserver's wait was over", n)
		}
		stepAndWait(t, ob, clk, t0.Add(30*time.Second))
		reqs := rc.Requests()
		if len(reqs) != 2 || reqs[0].Path != reqs[1].Path || !strings.HasSuffix(reqs[1].Path, "/alert:check:x:firing:1") {
			t.Fatalf("requests %d, paths %v", len(reqs), reqs)
		}
		if it, err := outbox.New(db).Entry(ctx, p.ID, id); err != nil || it.Status != outbox.Sent || it.Attempts != 2 {
			t.Fatalf("message: %+v %v", it, err)
		}
	})
}

// A key PagerDuty refuses is a permanent failure the channel's deliveries
// explain, without the key.
func TestOutboxPagerDutyRefusalIsPermanent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rc := notifytest.NewReceiver(t, notifytest.Respond(http.StatusBadRequest, `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`))
		p, _ := setup(t, db, "", "", 0)
		to := channelOf(t, db, p, nightjar.ChannelPagerDuty, nightjar.ChannelConfig{BaseURL: rc.URL, RoutingKey: "Bad-Routing-Key"})
		id := enqueueAt(t, db, t0, firingTo(p, to))[0]
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, serviceNotifiers), Log: quiet(), Clock: clk}
		stepAndWait(t, ob, clk, t0)
		it, err := outbox.New(db).Entry(context.Background(), p.ID, id)
		if err != nil || it.Status != outbox.Failed || it.Attempts != 1 || !strings.Contains(it.LastError, "Invalid routing key") || strings.Contains(it.LastError, "Bad-Routing-Key") {
			t.Fatalf("message: %+v %v; want failed at once, saying why without the key", it, err)
		}
	})
}
