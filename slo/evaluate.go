package slo

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Source gives an objective's counts over windows of whole minutes. A
// [Series] is one; the engine may also answer from the store.
type Source interface {
	// Sum returns the counts of the minutes that start in [from, to).
	Sum(from, to time.Time) Counts
	// Start returns the start of the oldest minute there are counts for,
	// or the zero time when there are none.
	Start() time.Time
}

// Budget is the error budget of the window so far.
type Budget struct {
	// Start and End bound the window: for a rolling window the last
	// length up to the evaluation's minute, for a calendar window the
	// whole period (End is in the future).
	Start, End time.Time
	// Counts are the window's counts so far.
	Counts Counts
	// Allowed is how many bad requests the objective allows among those
	// counted so far.
	Allowed float64
	// Consumed is the share of the budget spent: bad requests over
	// allowed ones. It is zero without traffic and more than one once the
	// objective is missed.
	Consumed float64
	// Remaining is one less Consumed; negative once the objective is
	// missed.
	Remaining float64
}

// RuleStatus is one rule's view of the evaluated minute.
type RuleStatus struct {
	Severity                nightjar.Severity
	LongWindow, ShortWindow time.Duration
	// Threshold is the burn rate both windows must exceed, scaled to the
	// window's length.
	Threshold float64
	// LongBurn and ShortBurn are the burn rates over the two windows.
	LongBurn, ShortBurn float64
	// Long and Short are the counts of the two windows.
	Long, Short Counts
	// BudgetShare is the share of the error budget that the long window's
	// bad requests are, the budget being estimated from the traffic of
	// the last full window; Required is the share the rule is about.
	BudgetShare, Required float64
	// Firing is whether the rule fires.
	Firing bool
	// Held says why a rule whose burn rates exceed the threshold does not
	// fire: "min_events" (too few requests in the long window) or
	// "budget_share" (its bad requests are too small a share of the
	// budget); empty otherwise.
	Held string
}

// Decision is the evaluation of one objective at one minute: its budget,
// its burn and each rule's verdict.
type Decision struct {
	// At is the evaluated minute's end: the evaluation's instant truncated
	// to the minute.
	At time.Time
	// Length is the window's length (a calendar period's full length).
	Length time.Duration
	Budget Budget
	// BurnRate is the burn rate over the last hour, the current rate that
	// TimeToExhaustion assumes.
	BurnRate float64
	// TimeToExhaustion is how long the remaining budget lasts at BurnRate:
	// zero once it is spent, and meaningful only when Exhausts is true
	// (the burn rate is above zero).
	TimeToExhaustion time.Duration
	Exhausts         bool
	Rules            []RuleStatus
}

// Firing reports whether any rule of the severity fires.
func (d *Decision) Firing(sev nightjar.Severity) bool {
	return d.firingRule(sev) >= 0
}

// firingRule returns the index of the firing rule of the severity that
// burns fastest over its long window, or -1.
func (d *Decision) firingRule(sev nightjar.Severity) int {
	best := -1
	for i := range d.Rules {
		r := &d.Rules[i]
		if r.Severity == sev && r.Firing && (best < 0 || r.LongBurn > d.Rules[best].LongBurn) {
			best = i
		}
	}
	return best
}

// burn returns the burn rate of counts: their bad ratio over the budget
// ratio, zero without requests.
func (o *Objective) burn(c Counts) float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(c.Bad()) / float64(c.Total) / o.budget
}

// BurnRate returns the burn rate over [from, to).
func (o *Objective) BurnRate(src Source, from, to time.Time) float64 {
	return o.burn(src.Sum(from, to))
}

// Budget returns the error budget of the window at now.
func (o *Objective) Budget(src Source, now time.Time) Budget {
	start, end := o.Period(now)
	c := src.Sum(start, now.Truncate(time.Minute))
	b := Budget{Start: start, End: end, Counts: c, Allowed: o.budget * float64(c.Total), Remaining: 1}
	if c.Total > 0 {
		b.Consumed = float64(c.Bad()) / b.Allowed
		b.Remaining = 1 - b.Consumed
	}
	return b
}

// Exhaustion returns how long the remaining share of a window's budget
// lasts at a burn rate: remaining × length / burn, zero once nothing
// remains, and false when the budget is not being spent (burn zero).
func Exhaustion(remaining float64, length time.Duration, burn float64) (time.Duration, bool) {
	switch {
	case remaining <= 0:
		return 0, true
	case burn <= 0:
		return 0, false
	}
	return time.Duration(remaining * float64(length) / burn), true
}

// Evaluate decides the objective's alerts at now from its counts.
func (o *Objective) Evaluate(src Source, now time.Time) Decision {
	at := now.Truncate(time.Minute)
	length := o.Length(now)
	d := Decision{At: at, Length: length, Budget: o.Budget(src, now)}
	d.BurnRate = o.BurnRate(src, at.Add(-time.Hour), at)
	d.TimeToExhaustion, d.Exhausts = Exhaustion(d.Budget.Remaining, length, d.BurnRate)

	// The budget the guard measures shares against: the traffic of the
	// last full window, or of the history there is, scaled to a window.
	history := length
	if first := src.Start(); first.IsZero() {
		history = 0
	} else if h := at.Sub(first); h < history {
		history = h
	}
	var budgetEvents float64
	if history > 0 {
		trailing := src.Sum(at.Add(-history), at)
		budgetEvents = o.budget * float64(trailing.Total) * float64(length) / float64(history)
	}

	d.Rules = make([]RuleStatus, len(o.rules))
	for i := range o.rules {
		r := &o.rules[i]
		st := RuleStatus{Severity: r.severity, LongWindow: r.long, ShortWindow: r.short, Threshold: r.threshold(length)}
		st.Long = src.Sum(at.Add(-r.long), at)
		st.Short = src.Sum(at.Add(-r.short), at)
		st.LongBurn, st.ShortBurn = o.burn(st.Long), o.burn(st.Short)
		st.Required = st.Threshold * float64(r.long) / float64(length)
		if budgetEvents > 0 {
			st.BudgetShare = float64(st.Long.Bad()) / budgetEvents
		}
		// Thresholds such as 6 over a 6h window are met exactly by steady
		// ratios; a relative tolerance keeps rounding from deciding.
		if above(st.LongBurn, st.Threshold) && above(st.ShortBurn, st.Threshold) {
			switch {
			case int64(st.Long.Total) < o.minEvents:
				st.Held = "min_events"
			case above(st.Required, st.BudgetShare):
				st.Held = "budget_share"
			default:
				st.Firing = true
			}
		}
		d.Rules[i] = st
	}
	return d
}

// above reports whether a exceeds b by more than rounding.
func above(a, b float64) bool { return a > b*(1+1e-9) }

// State is what an objective's evaluation remembers from one minute to the
// next: since when each severity has been firing. The engine stores it
// beside the objective.
type State struct {
	Firing map[nightjar.Severity]time.Time `json:"firing,omitempty"`
}

// DedupKey is the alert dedup key of an objective's alerts of a severity.
func DedupKey(service, name string, sev nightjar.Severity) string {
	return "slo:" + service + "/" + name + ":" + string(sev)
}

// Apply moves the state to the decision and returns the alert changes:
// a firing alert for each severity that started firing, a resolved one for
// each that stopped. A severity that keeps firing changes nothing, so the
// alert stage sees one alert per episode.
func (o *Objective) Apply(s *State, d *Decision) []nightjar.Alert {
	var out []nightjar.Alert
	for _, sev := range []nightjar.Severity{nightjar.SeverityPage, nightjar.SeverityTicket} {
		since, was := s.Firing[sev]
		now := d.Firing(sev)
		switch {
		case now && !was:
			if s.Firing == nil {
				s.Firing = map[nightjar.Severity]time.Time{}
			}
			s.Firing[sev] = d.At
			out = append(out, o.alert(d, sev, nightjar.AlertFiring, d.At))
		case !now && was:
			delete(s.Firing, sev)
			out = append(out, o.alert(d, sev, nightjar.AlertResolved, since))
		}
	}
	return out
}

// alert builds the alert of a severity, its details carrying the budget
// figures an engineer reads before opening a dashboard.
func (o *Objective) alert(d *Decision, sev nightjar.Severity, status nightjar.AlertStatus, since time.Time) nightjar.Alert {
	def := &o.def
	a := nightjar.Alert{
		DedupKey: DedupKey(def.Service, def.Name, sev),
		Source:   "slo",
		SourceID: def.Service + "/" + def.Name,
		Service:  def.Service,
		Severity: sev,
		Status:   status,
		StartsAt: since,
		Details: map[string]string{
			"objective":         strconv.FormatFloat(def.Objective, 'f', -1, 64) + "%",
			"window":            o.windowString(),
			"budget_consumed":   percent(d.Budget.Consumed),
			"budget_remaining":  percent(d.Budget.Remaining),
			"burn_rate_1h":      rate(d.BurnRate),
			"requests":          strconv.FormatUint(d.Budget.Counts.Total, 10),
			"bad_requests":      strconv.FormatUint(d.Budget.Counts.Bad(), 10),
			"time_to_exhausted": "never at the current rate",
		},
	}
	if d.Exhausts {
		a.Details["time_to_exhausted"] = d.TimeToExhaustion.Round(time.Minute).String()
	}
	if status == nightjar.AlertResolved {
		a.EndsAt = d.At
		a.Summary = fmt.Sprintf("SLO %s of %s no longer burns its error budget fast enough for a %s", def.Name, def.Service, sev)
		return a
	}
	r := &d.Rules[d.firingRule(sev)]
	a.Details["rule"] = fmt.Sprintf("%s over %s and %s above %s", sev, lengthString(r.LongWindow), lengthString(r.ShortWindow), rate(r.Threshold))
	a.Details["burn_rate_long"] = rate(r.LongBurn)
	a.Details["burn_rate_short"] = rate(r.ShortBurn)
	a.Details["budget_burnt_in_long_window"] = percent(r.BudgetShare)
	a.Summary = fmt.Sprintf("SLO %s of %s burns its error budget %s as fast as it may over %s (%s of the budget in that time; %s left)",
		def.Name, def.Service, rate(r.LongBurn), lengthString(r.LongWindow), percent(r.BudgetShare), percent(d.Budget.Remaining))
	return a
}

func (o *Objective) windowString() string {
	if o.rolling > 0 {
		return "rolling " + lengthString(o.rolling)
	}
	return "calendar " + o.calendar + " in " + o.loc.String()
}

func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*10000)/100, 'f', -1, 64) + "%"
}

func rate(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + "×" }
