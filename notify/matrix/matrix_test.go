package matrix_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/matrix"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
)

const token = "syt_bmlnaHRqYXI_YfXbTkTcMoGeiEqLplKz_1Np9vS"

func build(url string, client *http.Client) notify.Notifier {
	return matrix.New(&nightjar.Channel{Kind: nightjar.ChannelMatrix, Config: nightjar.ChannelConfig{BaseURL: url, Token: token, RoomID: "!OGEhHVWSdvArJzumhm:matrix.example.org"}}, client)
}

// wire is an m.room.message event's content as the Matrix specification
// describes it, written independently of the package's types.
type wire struct {
	MsgType       string `json:"msgtype"`
	Body          string `json:"body"`
	Format        string `json:"format"`
	FormattedBody string `json:"formatted_body"`
}

const sent = `{"event_id":"$YUwRidLecu:example.com"}`

func TestDelivers(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, notifytest.Respond(200, sent), m.Msg)
			want := "/_matrix/client/v3/rooms/%21OGEhHVWSdvArJzumhm:matrix.example.org/send/m.room.message/" + url.PathEscape(m.Msg.Key())
			if req.Method != http.MethodPut || req.Path != want && req.Path != strings.Replace(want, "%21", "!", 1) || req.Header.Get("Authorization") != "Bearer "+token {
				t.Errorf("request %s %s, want PUT %s with the access token", req.Method, req.Path, want)
			}
			var p wire
			req.JSON(t, &p)
			if p.MsgType != "m.text" || p.Body == "" || p.Format != "org.matrix.custom.html" {
				t.Errorf("content %+v", p)
			}
			notifytest.CheckHTML(t, p.FormattedBody, "b", "i", "a", "code", "br")
			notifytest.Golden(t, m.Name, req)
		})
	}
}

// A retry of one message reuses its transaction id, so the homeserver
// posts it once; another message gets another id.
func TestTransactionID(t *testing.T) {
	rc := notifytest.NewReceiver(t, notifytest.Respond(200, sent))
	n := build(rc.URL, notifytest.Client())
	m := notifytest.Firing()
	m.IdempotencyKey = "alert:42:firing/1"
	for _, msg := range []notify.Message{m, m, notifytest.Resolved()} {
		if _, err := n.Notify(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
	}
	reqs := rc.Requests()
	if reqs[0].Path != reqs[1].Path || reqs[1].Path == reqs[2].Path || !strings.HasSuffix(reqs[0].Path, "/alert:42:firing%2F1") {
		t.Errorf("transaction paths %s, %s, %s", reqs[0].Path, reqs[1].Path, reqs[2].Path)
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, token)
}

func TestRateLimitBody(t *testing.T) {
	notifytest.CheckRetryHint(t, build, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}`, 2500*time.Millisecond)
}
