// Package oncall answers the questions an on-call schedule is asked: who is
// on call at an instant, which shifts fall in a range, when the next
// handoffs come, and what a person's or a schedule's shifts look like in a
// calendar program (iCalendar, RFC 5545).
//
// It sits in the incident stage of Nightjar's data flow: escalation asks it
// whom a schedule step pages, and the API, the console and the YAML
// configuration describe schedules with its [Definition]. Like the other
// evaluation packages it is pure: definitions and instants go in, answers
// come out; it reads no clock, stores nothing and does no I/O, so a
// compiled [Schedule] may be shared between goroutines.
//
// # Model
//
// A schedule has an IANA time zone and one or more layers. Each layer is a
// rotation: participants (user ids, in order, a user may appear more than
// once) take turns of one shift length each, starting with the first
// participant at the layer's start. Before its start a layer has nobody.
// Restrictions, when a layer has any, are local time-of-day windows per
// weekday outside which the layer has nobody; the rotation keeps turning
// through them, as in PagerDuty, so a restricted turn is simply shorter.
//
// Later layers take precedence over earlier ones wherever they have
// someone on call, as in PagerDuty: at any instant the schedule's rotation
// pick is the person of the last layer that has one, and earlier layers
// show through the gaps of later ones.
//
// Overrides then change that pick for a time range, as GoAlert's user
// overrides do. An override that names only a user to add puts that user
// on call beside whoever is; one that names only a user to remove takes
// that user off; one that names both replaces the removed user with the
// added one, and does nothing while the removed user is not on call.
// Overrides apply in the order they are listed, each to the result of the
// ones before it.
//
// Who is on call is an ordered list without repeats: the rotation pick
// first, then the people overrides put on call, in the order of those
// overrides. Every person in the list has exactly one source, the layer or
// the override that put them there, and a [Shift] names it. Shifts are
// merged while the same person stays on call from the same source, so a
// participant listed twice in a row has one long shift, while a person who
// stays on call but through another layer or an override starts a new
// shift.
//
// # Time and daylight saving
//
// A layer's start, restriction windows and override times without an
// offset are local wall-clock times in the schedule's zone. A wall-clock
// time is turned into an instant by one rule everywhere: it is the first
// instant at which the zone's clock shows that time or a later one. So a
// time that a forward change skips (02:30 on the night Berlin goes from
// 02:00 to 03:00) happens at the first instant after the gap (03:00), and a
// time that a backward change repeats happens at its first occurrence.
//
// Shift lengths given in days or weeks (daily, weekly, 3d, 2w) are
// calendar lengths: handoffs happen at the start's local time every n days,
// so a daily shift across a change lasts 23 or 25 hours. Lengths given in
// hours (hourly, 12h, 36h) are absolute: every shift lasts exactly that
// long, so across a change the handoffs move by the change in local time.
// A team that wants 12-hour shifts handed off at 09:00 and 21:00 local time
// all year uses two daily layers restricted to 09:00-21:00 and 21:00-09:00.
//
// Restriction windows are local wall-clock windows resolved with the same
// rule: a window from 22:00 to 06:00 lasts nine hours on the night clocks go
// back and seven on the night they go forward, and a window that lies
// wholly inside a skipped interval does not happen that day. Zones that
// skipped a whole day (Pacific/Apia on 30 December 2011) follow the same
// rule: a daily handoff due on the missing day happens when the next day
// begins, and a turn that the gap swallows whole has no shift.
//
// Instants are handled to the second. Offsets are assumed to change at most
// once in any 36 hours, which holds for every zone in the time zone
// database since 1970 (no zone has changed twice within a week), and the
// zone's own rules are followed beyond the years the database lists.
// Schedules are evaluated up to the end of the year 9999.
package oncall
