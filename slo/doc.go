// Package slo is the evaluation stage for service level objectives measured
// from real requests: it says which requests an objective counts and which
// of them are good, adds them up per minute, turns the sums into an error
// budget, and decides whether the budget burns fast enough to page someone
// or to open a ticket.
//
// It sits between the signals and the alerts in Nightjar's data flow. Ingest
// classifies each span or event with [Objective.Matches] and [Objective.Good]
// and adds it to a per-minute [Bucket]; the store keeps the buckets as
// additive counters; an engine module loads them into a [Series] and asks
// [Objective.Evaluate] for a [Decision] each minute, whose alert changes go
// to the alert stage. Like the other evaluation packages it is pure: time is
// passed in, nothing is read from a clock, stored or sent.
//
// # Objectives
//
// An objective is a target ratio of good requests to all counted requests
// (99.9 per cent, say) over a window: a rolling one (the last 28 or 30
// days) or a calendar one (this month or this quarter in an IANA time
// zone). An availability objective counts a request as good unless it
// failed: its span status is ERROR (or the event says it failed), or its
// HTTP status is at least 500 or one of a listed few. A latency objective
// counts a request as good when it took at most the threshold.
//
// # Error budget
//
// The error budget is the share of requests allowed to be bad: 0.1 per cent
// of them for 99.9. Over the window so far, consumed is bad requests over
// allowed bad requests, and remaining is one minus that (below zero when
// the objective is already missed). A calendar window's budget counts the
// requests of the period so far, as dashboards show it, so early in a
// month a few bad requests consume much of it.
//
// The burn rate over a stretch of time is that stretch's bad ratio over the
// budget ratio: at a burn rate of one the budget lasts exactly the window,
// at 1000 (every request failing against 99.9) a 30-day budget lasts 43.2
// minutes. Time to exhaustion at a burn rate B is the remaining fraction of
// the budget times the window's length over B.
//
// # Alerts
//
// Alerts follow the multi-window, multi-burn-rate scheme of the SRE
// Workbook ("Alerting on SLOs"). Each rule has a long window, a short window
// and a threshold, and fires while the burn rate over both windows exceeds
// the threshold: the long window makes it significant, the short one makes
// it stop soon after the errors stop. The defaults, for a 30-day window,
// are the Workbook's: page when 2 per cent of the budget burns in an hour
// (1h and 5m at 14.4) or 5 per cent in six hours (6h and 30m at 6); open a
// ticket when 10 per cent burns in a day (1d and 2h at 3) or in three days
// (3d and 6h at 1).
//
// A rule names the share of the budget it is about rather than a fixed
// threshold, as Sloth does, so the thresholds follow the window's length:
// threshold = share × window / long window, which gives 14.4 for 2 per cent
// of 30 days in an hour and 13.44 for 28 days. A rule may give a fixed burn
// rate instead (OpenSLO's alert conditions do).
//
// # The minimum-traffic guard
//
// Burn rates are ratios, and a ratio of tiny numbers says little: three
// failed requests out of five at 4 a.m. burn at 600. So a rule fires only
// when, besides both burn rates being above its threshold,
//
//   - its long window counted at least MinEvents requests (100 unless
//     configured), and
//   - the bad requests of its long window really are the share of the
//     error budget the rule is about, the budget being computed from the
//     traffic of the last full window (or, when there is less history, from
//     the history there is, scaled to the window's length).
//
// Under steady traffic the second condition is the same as the long
// window's burn rate exceeding the threshold, so the Workbook's detection
// times and budget figures hold; it only holds a rule back when a quiet
// hour's few failures are a small share of what the objective allows over
// its window. Three failures at 4 a.m. page nobody unless they are, by
// themselves, 2 per cent of the month's budget.
//
// # Minutes
//
// Buckets are whole UTC minutes. An evaluation at an instant uses the
// minutes that ended by then: a one-hour window evaluated at 12:00:30 is
// 11:00 to 12:00, because the minute in progress is not complete yet.
package slo
