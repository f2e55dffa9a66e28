// Package alertin decodes the alerts other monitoring systems send to
// Nightjar into Nightjar's own alert changes: Alertmanager's webhook
// payload and PagerDuty's Events API v2. It sits at the signals end of the
// data flow (signals → evaluation → alerts → incidents → delivery): the
// HTTP layer hands it a request body and gets back alerts for the alert
// stage, or a field error to answer with a 400.
//
// The package is pure: it reads bytes and returns values, with no I/O and
// no clock; the time an event arrived is passed in.
package alertin

import (
	"strings"

	"github.com/prometheus/common/model"

	"github.com/nightjar-dev/nightjar"
)

// Target says where decoded alerts belong: which project, which service
// when the payload names none, and through which integration (a webhook
// URL, a routing key) they came. The integration's id is the alerts'
// SourceID, so an alert can be traced back to where it was sent.
type Target struct {
	ProjectID   string
	Service     string
	Integration string
}

// Sources of decoded alerts, as nightjar.Alert.Source.
const (
	SourceAlertmanager = "alertmanager"
	SourcePagerDuty    = "pagerduty"
)

// MaxSummaryLength is the longest alert summary, in characters:
// PagerDuty's limit, which Alertmanager summaries are cut to.
const MaxSummaryLength = 1024

// AlertmanagerBatch is one Alertmanager notification: a group of alerts
// sent together to one receiver.
type AlertmanagerBatch struct {
	Receiver    string
	GroupKey    string
	Status      string
	ExternalURL string
	GroupLabels map[string]string
	// Truncated is how many of the group's alerts Alertmanager left out
	// (its max_alerts setting); they are not in Alerts.
	Truncated int64
	Alerts    []nightjar.Alert
}

// DecodeAlertmanager reads an Alertmanager webhook payload (version 4)
// into one alert change per Alertmanager alert:
//
//   - the dedup key is "alertmanager:" and the alert's fingerprint (a
//     hash of its labels, the same from every Alertmanager of a cluster),
//     computed as Alertmanager does when the payload lacks it, so an
//     alert is the same alert however its summary changes;
//   - status "resolved" resolves the alert, "firing" fires it;
//   - labels are kept as labels, annotations as details;
//   - the severity label becomes the alert's severity (see
//     AlertmanagerSeverity);
//   - the summary is the summary annotation, else the description, else
//     the alertname label, cut to MaxSummaryLength characters;
//   - the runbook_url annotation, the alert's generatorURL and the
//     payload's externalURL become links when they are http or https
//     URLs; a generatorURL that is not is kept in the details instead;
//   - the service is the service label, else the target's.
//
// Fields Nightjar does not use are ignored, so payloads from newer
// Alertmanagers, or Grafana's Alertmanager-compatible ones, are read too.
// Anything malformed is a field error naming the field, such as
// alerts[2].startsAt.
func DecodeAlertmanager(body []byte, to Target) (*AlertmanagerBatch, error) {
	o, err := readBody(body)
	if err != nil {
		return nil, err
	}
	if v := o.str("version", true, 0); o.err == nil && v != "4" {
		o.fail("version", `must be "4": Nightjar reads version 4 of Alertmanager's webhook payload`)
	}
	b := &AlertmanagerBatch{
		Status:      o.oneOf("status", true, "firing", "resolved"),
		Receiver:    o.str("receiver", false, 0),
		GroupKey:    o.str("groupKey", false, 0),
		Truncated:   o.count("truncatedAlerts"),
		GroupLabels: o.strMap("groupLabels"),
		ExternalURL: o.str("externalURL", false, 0),
	}
	o.strMap("commonLabels")
	o.strMap("commonAnnotations")
	if o.get("alerts") == nil {
		o.fail("alerts", "is required")
	}
	items := o.list("alerts")
	if o.err != nil {
		return nil, o.err
	}
	// Alerts of one group mostly link to the same pages: each address is
	// checked once.
	web := webURLs{}
	for _, item := range items {
		a := decodeAMAlert(item, b, to, web)
		if item.err != nil {
			return nil, item.err
		}
		b.Alerts = append(b.Alerts, a)
	}
	return b, nil
}

// decodeAMAlert reads one alert of an Alertmanager payload.
func decodeAMAlert(o *object, b *AlertmanagerBatch, to Target, web webURLs) nightjar.Alert {
	status := o.oneOf("status", true, "firing", "resolved")
	labels := o.strMap("labels")
	if o.err == nil && len(labels) == 0 {
		o.fail(o.name("labels"), "must have at least one label")
	}
	annotations := o.strMap("annotations")
	startsAt := o.time("startsAt", true)
	endsAt := o.time("endsAt", false)
	generator := o.str("generatorURL", false, 0)
	fingerprint := o.str("fingerprint", false, 64)
	if o.err != nil {
		return nightjar.Alert{}
	}
	if fingerprint == "" {
		fingerprint = model.LabelSet(toLabelSet(labels)).Fingerprint().String()
	}
	a := nightjar.Alert{
		ProjectID: to.ProjectID,
		DedupKey:  SourceAlertmanager + ":" + fingerprint,
		Source:    SourceAlertmanager,
		SourceID:  to.Integration,
		Service:   to.Service,
		Severity:  AlertmanagerSeverity(labels["severity"]),
		Summary:   amSummary(labels, annotations, fingerprint),
		Details:   annotations,
		Status:    nightjar.AlertFiring,
		StartsAt:  startsAt,
		Labels:    labels,
	}
	if s := labels["service"]; s != "" {
		if len([]rune(s)) > nightjar.MaxServiceLength {
			o.fail(o.name("labels.service"), "must be at most %d characters, as a Nightjar service name", nightjar.MaxServiceLength)
			return nightjar.Alert{}
		}
		a.Service = s
	}
	if status == "resolved" {
		a.Status, a.EndsAt = nightjar.AlertResolved, endsAt
	}
	if u := annotations["runbook_url"]; web.is(u) {
		a.Links = append(a.Links, nightjar.Link{Href: u, Text: "Runbook"})
	}
	switch {
	case web.is(generator):
		a.Links = append(a.Links, nightjar.Link{Href: generator, Text: "Alert source"})
	case generator != "":
		if a.Details == nil {
			a.Details = map[string]string{}
		}
		a.Details["generatorURL"] = generator
	}
	if web.is(b.ExternalURL) {
		a.Links = append(a.Links, nightjar.Link{Href: b.ExternalURL, Text: "Alertmanager"})
	}
	return a
}

// webURLs remembers which addresses isWebURL took.
type webURLs map[string]bool

func (w webURLs) is(u string) bool {
	ok, seen := w[u]
	if !seen {
		ok = isWebURL(u)
		w[u] = ok
	}
	return ok
}

func toLabelSet(labels map[string]string) model.LabelSet {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// amSummary picks an Alertmanager alert's summary.
func amSummary(labels, annotations map[string]string, fingerprint string) string {
	for _, s := range []string{annotations["summary"], annotations["description"], labels["alertname"]} {
		if s = strings.TrimSpace(s); s != "" {
			return nightjar.CleanText(s, MaxSummaryLength)
		}
	}
	return "Alertmanager alert " + fingerprint
}

// AlertmanagerSeverity maps the severity label of an Alertmanager alert,
// in any case, to Nightjar's severities:
//
//	critical, page    → page
//	warning, ticket   → ticket
//	info, none        → info (Watchdog-style alerts say none)
//	anything else, or no severity label → page
//
// An alert nobody classified pages, since a missed page costs more than
// an extra one; a route that matches the original label (severity="low")
// can give it another urgency.
func AlertmanagerSeverity(label string) nightjar.Severity {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "warning", "ticket":
		return nightjar.SeverityTicket
	case "info", "none":
		return nightjar.SeverityInfo
	}
	return nightjar.SeverityPage
}
