package nightjar

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar/metricrule"
	"github.com/nightjar-dev/nightjar/schedule"
)

// Check kinds: how the next expected ping is computed.
const (
	KindSimple     = "simple"     // every Timeout after the last ping
	KindCron       = "cron"       // at the times of a cron expression in a time zone
	KindOnCalendar = "oncalendar" // at the times of systemd OnCalendar expressions
)

// ScheduleKind returns the kind of check a schedule makes, telling cron
// expressions from OnCalendar ones as Healthchecks does: one line of five
// fields is cron, anything else OnCalendar.
func ScheduleKind(expr string) string {
	if schedule.IsCron(expr) {
		return KindCron
	}
	return KindOnCalendar
}

// ScheduleHorizonYears is how far ahead a schedule's next run may be. A
// schedule that does not run within it never, or practically never, does
// (0 0 31 2 *, the fifth Monday of February, a date in the past), so a
// check following it could not go late, and it is refused.
const ScheduleHorizonYears = 10

// Check statuses. "started" means a run announced itself with /start and has
// not finished; "late" means the expected time passed and the grace period
// runs; "down" means the grace period ran out or the job reported failure.
const (
	StatusNew     = "new"
	StatusUp      = "up"
	StatusStarted = "started"
	StatusLate    = "late"
	StatusDown    = "down"
	StatusPaused  = "paused"
)

// Limits on check settings, the same as Healthchecks' where it has them.
const (
	MinTimeout = time.Minute
	MaxTimeout = 365 * 24 * time.Hour
	MinGrace   = time.Minute
	MaxGrace   = 365 * 24 * time.Hour
)

// Limits on a check's text settings, in characters. Healthchecks keeps
// its tags in one field of 500 characters; MaxTags of at most 100
// characters each is as much as anyone filters by.
const (
	MaxNameLength     = 100
	MaxDescLength     = 10000
	MaxServiceLength  = 100
	MaxTags           = 50
	MaxTagLength      = 100
	MaxKeywordsLength = 500
)

// Defaults for new checks.
const (
	DefaultTimeout        = 24 * time.Hour
	DefaultGrace          = time.Hour
	DefaultEarlyTolerance = time.Minute
)

// Check is a heartbeat monitor: a job that should ping on a schedule. Its
// settings are the first block of fields; the rest is state that only the
// heartbeat state machine changes.
type Check struct {
	ID        string   `json:"id"`
	ProjectID string   `json:"project_id"`
	Name      string   `json:"name"`
	Slug      string   `json:"slug"`
	Tags      []string `json:"tags"`
	Desc      string   `json:"desc"`
	Service   string   `json:"service"`

	Kind     string        `json:"kind"`
	Timeout  time.Duration `json:"timeout"`
	Grace    time.Duration `json:"grace"`
	Schedule string        `json:"schedule"`
	TZ       string        `json:"tz"`
	// EarlyTolerance lets a ping that arrives a little before its cron
	// slot count for that slot, instead of for the slot before it.
	EarlyTolerance time.Duration `json:"early_tolerance"`
	// MaxRuntime bounds a run started with /start; zero means the grace
	// period does, as in Healthchecks.
	MaxRuntime time.Duration `json:"max_runtime"`
	// MinRuntime makes a run that finishes faster than this a failure.
	MinRuntime time.Duration `json:"min_runtime"`
	// FailureThreshold is how many failures in a row it takes to go down.
	FailureThreshold int `json:"failure_threshold"`
	// RealertInterval repeats the alert while the check stays down.
	RealertInterval time.Duration `json:"realert_interval"`
	// Methods is "" for any method or "POST" for POST-only.
	Methods      string   `json:"methods"`
	ManualResume bool     `json:"manual_resume"`
	MetricRules  []string `json:"metric_rules"`
	// Channels are the ids of the channels the check's alerts go to; nil
	// means all of the project's channels, as Healthchecks' "*".
	Channels []string `json:"channels"`
	// FilterBody classifies plain pings by keywords in their body, as
	// Healthchecks does; the keyword lists are comma-separated.
	FilterBody      bool   `json:"filter_body"`
	StartKeywords   string `json:"start_kw"`
	SuccessKeywords string `json:"success_kw"`
	FailureKeywords string `json:"failure_kw"`
	// FilterHTTPBody classifies every ping by keywords in its body, with
	// Healthchecks' rules (its current setting of that name).
	FilterHTTPBody bool `json:"filter_http_body"`
	// FilterDefaultFail makes a filtered ping that contains none of the
	// keywords a failure rather than ignored.
	FilterDefaultFail bool `json:"filter_default_fail"`
	// BadgeKey names the check's public status badge; it is random so a
	// badge URL does not give the ping URL away.
	BadgeKey string `json:"badge_key"`

	State     CheckState `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CheckState is what the heartbeat state machine keeps about a check between
// pings and deadlines.
type CheckState struct {
	Status   string    `json:"status"`
	NPings   int64     `json:"n_pings"`
	LastPing time.Time `json:"last_ping,omitzero"`
	// LastStart and LastStartRID describe the run in progress, if any.
	LastStart    time.Time     `json:"last_start,omitzero"`
	LastStartRID string        `json:"last_start_rid,omitempty"`
	LastDuration time.Duration `json:"last_duration"`
	// ExpectedAt is when the next ping is due; zero when none is.
	ExpectedAt time.Time `json:"expected_at,omitzero"`
	// NextDeadline is when the engine must look at the check again; the
	// due-check scan reads only this indexed column.
	NextDeadline        time.Time          `json:"next_deadline,omitzero"`
	ConsecutiveFailures int                `json:"consecutive_failures"`
	LastAlertAt         time.Time          `json:"last_alert_at,omitzero"`
	LastMetrics         map[string]float64 `json:"last_metrics,omitempty"`
	// Since is when the check entered its status, and Reason why: the time
	// and reason of its last recorded status change (its creation, for a
	// check that never changed). Editing a check's settings moves neither.
	Since  time.Time `json:"since,omitzero"`
	Reason string    `json:"reason,omitempty"`
	// Settled is the status of the last recorded change. It differs from
	// Status only during a routine run of a check that was up (up → started
	// → up), so the end of a run is routine exactly when it began from up;
	// "" (a check saved before this was kept) counts as up.
	Settled string `json:"-"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9_-]{1,100}$`)

// ValidSlug reports whether s may be a check's slug: lowercase letters,
// digits, hyphens and underscores, as Healthchecks allows.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Slugify turns a name into a slug the way Healthchecks does: lowercase,
// runs of other characters become one hyphen.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// NewCheck returns a check with Nightjar's defaults filled in.
func NewCheck(projectID, name string) *Check {
	return &Check{
		ProjectID:        projectID,
		Name:             name,
		Slug:             Slugify(name),
		Tags:             []string{},
		Kind:             KindSimple,
		Timeout:          DefaultTimeout,
		Grace:            DefaultGrace,
		TZ:               "UTC",
		EarlyTolerance:   DefaultEarlyTolerance,
		FailureThreshold: 1,
		MetricRules:      []string{},
		State:            CheckState{Status: StatusNew},
	}
}

// Validate returns every problem with the check's settings at once, joined,
// the first one's field reported as the field at fault.
func (c *Check) Validate() error {
	var errs []*Error
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError(field, format, args...))
	}
	text := func(field, s string, max int) {
		if e := checkText(field, s, max); e != nil {
			errs = append(errs, e)
		}
	}
	text("name", c.Name, MaxNameLength)
	if c.Slug != "" && !ValidSlug(c.Slug) {
		add("slug", "must be 1-100 characters of a-z, 0-9, - and _")
	}
	text("desc", c.Desc, MaxDescLength)
	text("service", c.Service, MaxServiceLength)
	if len(c.Tags) > MaxTags {
		add("tags", "must be at most %d tags", MaxTags)
	}
	if !allValidText(c.Tags) {
		errs = append(errs, TextFieldError("tags"))
	}
	for _, t := range c.Tags {
		if t == "" || strings.ContainsAny(t, " \t\n") || utf8.RuneCountInString(t) > MaxTagLength {
			add("tags", "each tag must be 1-%d characters without spaces", MaxTagLength)
			break
		}
	}
	// The schedule's length is the parser's to judge; the zone is a name
	// in the zone database, but a simple check keeps one too.
	if !ValidText(c.Schedule) {
		errs = append(errs, TextFieldError("schedule"))
	}
	text("tz", c.TZ, 100)
	switch c.Kind {
	case KindSimple:
		if c.Timeout < MinTimeout || c.Timeout > MaxTimeout {
			add("timeout", "must be between %d and %d seconds", int(MinTimeout.Seconds()), int(MaxTimeout.Seconds()))
		}
	case KindCron, KindOnCalendar:
		if _, err := c.parseSchedule(); err != nil && ValidText(c.Schedule) {
			add("schedule", "%v", err)
		}
		if _, err := LoadLocation(c.TZ); err != nil && ValidText(c.TZ) {
			add("tz", "must be an IANA time zone name such as Europe/Berlin")
		}
	default:
		add("kind", "must be simple, cron or oncalendar")
	}
	if c.Grace < MinGrace || c.Grace > MaxGrace {
		add("grace", "must be between %d and %d seconds", int(MinGrace.Seconds()), int(MaxGrace.Seconds()))
	}
	if c.EarlyTolerance < 0 || c.EarlyTolerance > 24*time.Hour {
		add("early_tolerance", "must be between 0 and 86400 seconds")
	}
	if c.MaxRuntime < 0 || c.MaxRuntime > MaxTimeout {
		add("max_runtime", "must be between 0 and %d seconds", int(MaxTimeout.Seconds()))
	}
	if c.MinRuntime < 0 || c.MinRuntime > MaxTimeout {
		add("min_runtime", "must be between 0 and %d seconds", int(MaxTimeout.Seconds()))
	}
	if c.MaxRuntime > 0 && c.MinRuntime >= c.MaxRuntime {
		add("min_runtime", "must be less than max_runtime")
	}
	if c.FailureThreshold < 1 || c.FailureThreshold > 1000 {
		add("failure_threshold", "must be between 1 and 1000")
	}
	if c.RealertInterval != 0 && (c.RealertInterval < time.Minute || c.RealertInterval > 30*24*time.Hour) {
		add("realert_interval", "must be 0 (off) or between 60 and 2592000 seconds")
	}
	if c.Methods != "" && c.Methods != "POST" {
		add("methods", `must be "" (any method) or "POST"`)
	}
	text("start_kw", c.StartKeywords, MaxKeywordsLength)
	text("success_kw", c.SuccessKeywords, MaxKeywordsLength)
	text("failure_kw", c.FailureKeywords, MaxKeywordsLength)
	if len(c.Channels) > 100 {
		add("channels", "must list at most 100 channels")
	} else if !allValidText(c.Channels) {
		errs = append(errs, TextFieldError("channels"))
	}
	switch {
	case len(c.MetricRules) > 20:
		add("metric_rules", "must have at most 20 rules")
	case !allValidText(c.MetricRules):
		errs = append(errs, TextFieldError("metric_rules"))
	default:
		if _, err := metricrule.ParseRules(c.MetricRules); err != nil {
			add("metric_rules", "%v", err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return &Error{Code: EINVALID, Field: errs[0].Field, Message: strings.Join(msgs, "; ")}
}

// parseSchedule parses the check's schedule in the syntax of its kind.
func (c *Check) parseSchedule() (schedule.Schedule, error) {
	if ScheduleKind(c.Schedule) != c.Kind {
		if c.Kind == KindCron {
			return nil, fmt.Errorf("is not a 5-field cron expression; OnCalendar expressions make the check's kind oncalendar")
		}
		return nil, fmt.Errorf("is a cron expression; it makes the check's kind cron")
	}
	return schedule.Parse(c.Schedule)
}

// ValidateAt validates the check as Validate does and, for a check with a
// schedule, that the schedule runs within ScheduleHorizonYears of now.
// Every way a check is created or changed goes through it.
func (c *Check) ValidateAt(now time.Time) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Kind == KindSimple {
		return nil
	}
	s, err := c.parseSchedule()
	if err != nil {
		return FieldError("schedule", "%v", err)
	}
	if _, ok := schedule.FirstRunWithin(s, now, c.Location(), ScheduleHorizonYears); !ok {
		return FieldError("schedule", "never runs within %d years of now (%s in %s), so the check could never be late; expected a schedule that recurs",
			ScheduleHorizonYears, now.In(c.Location()).Format("2006-01-02"), c.TZ)
	}
	return nil
}

// Keywords splits a comma-separated keyword list, dropping empty entries.
func Keywords(list string) []string {
	var out []string
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Location returns the check's time zone, UTC when it has none.
func (c *Check) Location() *time.Location {
	loc, err := LoadLocation(c.TZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LoadLocation loads an IANA time zone, refusing the empty name and "Local"
// so a check never depends on the server's own zone. Zones are loaded from
// the system's database once and then shared: time.LoadLocation reads and
// parses a file on every call, and every ping of a cron check needs its
// zone. Only valid names are kept, so the cache is as small as the zone
// database.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// locations caches LoadLocation's zones by name.
var locations sync.Map

// Ping kinds, as Healthchecks names them in its API.
const (
	PingStart   = "start"
	PingSuccess = "success"
	PingFail    = "fail"
	PingLog     = "log"
	PingIgnored = "ign"
)

// Ping is one recorded request to a check's ping URL.
type Ping struct {
	CheckID    string        `json:"check_id"`
	N          int64         `json:"n"`
	Kind       string        `json:"type"`
	CreatedAt  time.Time     `json:"date"`
	Scheme     string        `json:"scheme"`
	RemoteAddr string        `json:"remote_addr"`
	Method     string        `json:"method"`
	UA         string        `json:"ua"`
	RID        string        `json:"rid,omitempty"`
	ExitStatus *int          `json:"exitstatus,omitempty"`
	Duration   time.Duration `json:"duration"`
	Body       []byte        `json:"-"`
	// BodySize is the stored body's length, known even when Body was not loaded.
	BodySize int64 `json:"-"`
	// BodyPreview is the body's beginning, in lists that do not load it.
	BodyPreview string             `json:"-"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	// Note says why a ping was classified as it was when that is not
	// obvious, e.g. a success turned into a failure by a metric rule.
	Note string `json:"note,omitempty"`
}

// Flip is a recorded change of a check's status.
type Flip struct {
	CheckID   string    `json:"check_id"`
	CreatedAt time.Time `json:"timestamp"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Reason    string    `json:"reason"`
}
