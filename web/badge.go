package web

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// Status badges of single checks, at the URLs Healthchecks gives them:
// /b/<states>/<badge-key>.<svg|json|shields>. With 3 states a late check
// shows "late"; with any other number it shows "up" until it is down.
// Badges are public, like Healthchecks' (the key is random and says
// nothing about the ping URL), and answer browsers from any origin.
func (s *Server) routesBadges() {
	s.mux.HandleFunc("GET /b/{states}/{file}", s.handleCheckBadge)
}

// badgeURL is the badge a check's API view links to, as Healthchecks'
// badge_url: two states, SVG.
func (s *Server) badgeURL(c *nightjar.Check) string {
	if c.BadgeKey == "" {
		return ""
	}
	return s.cfg.BaseURL + "/b/2/" + c.BadgeKey + ".svg"
}

// badgeStatus is what a check's badge shows: up, late or down. New and
// paused checks show up, as in Healthchecks.
func badgeStatus(c *nightjar.Check, withLate bool) string {
	switch c.State.Status {
	case nightjar.StatusDown:
		return "down"
	case nightjar.StatusLate:
		if withLate {
			return "late"
		}
	}
	return "up"
}

func (s *Server) handleCheckBadge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	states, err := strconv.Atoi(r.PathValue("states"))
	key, format, ok := strings.Cut(r.PathValue("file"), ".")
	if err != nil || states < 0 || !ok {
		writeText(w, http.StatusNotFound, "not found")
		return
	}
	switch format {
	case "svg", "json", "shields":
	default:
		writeText(w, http.StatusNotFound, "not found")
		return
	}
	c, err := s.checks.ByBadgeKey(r.Context(), key)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		writeText(w, http.StatusNotFound, "not found")
		return
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := badgeStatus(c, states == 3)
	label := badgeLabel(c)
	switch format {
	case "json":
		grace, down := 0, 0
		if c.State.Status == nightjar.StatusLate {
			grace = 1
		}
		if c.State.Status == nightjar.StatusDown {
			down = 1
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": status, "total": 1, "grace": grace, "down": down})
	case "shields":
		// The endpoint format of shields.io.
		writeJSON(w, http.StatusOK, map[string]any{"schemaVersion": 1, "label": label, "message": status,
			"color": map[string]string{"up": "success", "late": "important", "down": "critical"}[status]})
	default:
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte(badgeSVG(label, status)))
	}
}

// badgeLabel names the check on its badge: its name, else its slug. The
// UUID is never shown, since it is the ping URL's secret.
func badgeLabel(c *nightjar.Check) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Slug != "":
		return c.Slug
	}
	return "check"
}

// badgeColors are the badge's right-hand colours by status.
var badgeColors = map[string]string{"up": "#4c1", "late": "#fe7d37", "down": "#e05d44"}

// textWidth estimates the width in pixels of s set in 11px Verdana, the
// badge font, closely enough to size the badge's two halves.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iljI.,:;'|!", r):
			w += 3
		case strings.ContainsRune("frtJ-() ", r):
			w += 4
		case strings.ContainsRune("mwMW", r):
			w += 10
		case r >= 'A' && r <= 'Z':
			w += 8
		default:
			w += 7
		}
	}
	return w
}

// badgeSVG draws a two-part badge in the familiar flat style: the label on
// grey, the status on its colour.
func badgeSVG(label, status string) string {
	w1, w2 := textWidth(label)+10, textWidth(status)+10
	l, st := html.EscapeString(label), html.EscapeString(status)
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%[1]d" height="20" role="img" aria-label="%[4]s: %[5]s">
<title>%[4]s: %[5]s</title>
<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="%[1]d" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="%[2]d" height="20" fill="#555"/><rect x="%[2]d" width="%[3]d" height="20" fill="%[6]s"/><rect width="%[1]d" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="%[7]s" y="15" fill="#010101" fill-opacity=".3">%[4]s</text><text x="%[7]s" y="14">%[4]s</text>
<text x="%[8]s" y="15" fill="#010101" fill-opacity=".3">%[5]s</text><text x="%[8]s" y="14">%[5]s</text>
</g>
</svg>
`, w1+w2, w1, w2, l, st, badgeColors[status], half(w1), half(2*w1+w2))
}

// half formats n/2 with at most one decimal.
func half(n int) string {
	if n%2 == 0 {
		return strconv.Itoa(n / 2)
	}
	return strconv.Itoa(n/2) + ".5"
}
