// Package schedule parses cron expressions and predicts when a cron daemon
// will run them, and does the same for systemd OnCalendar expressions (see
// [OnCalendar]), the other schedule syntax Healthchecks accepts; [Parse]
// tells the two apart.
//
// The package sits in the evaluation stage of Nightjar's data flow: heartbeat
// checks declared with a cron schedule use it to compute when the next ping is
// expected, so that a late or missing ping can be told apart from a job that
// simply was not due. A prediction that disagrees with the daemon on the
// user's server produces false alerts, so the rules here follow Vixie-derived
// cron (Debian cron, cronie) rather than any idealised calendar, including the
// daemon's special handling of daylight-saving changes.
//
// The package is pure: it performs no I/O and keeps no mutable state, so a
// parsed [Cron] may be shared freely between goroutines.
//
// # Syntax
//
// An expression has five whitespace-separated fields: minute (0-59), hour
// (0-23), day of month (1-31), month (1-12 or JAN-DEC) and day of week (0-7 or
// SUN-SAT, where both 0 and 7 mean Sunday). Each field is a comma-separated
// list of elements; an element is a number or name, a range "a-b", a wildcard
// "*", or any of these followed by a step "/n". A stepped single value "a/n"
// means "a-max/n". Names are case-insensitive.
//
// The macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly stand for their usual five-field expansions. @reboot is rejected
// because it has no schedule that could be predicted.
//
// The following extensions, also understood by Healthchecks, are accepted:
//
//   - day of month "L": the last day of the month;
//   - day of month "LW": the last weekday (Monday to Friday) of the month;
//   - day of month "nW": the weekday nearest to day n, never crossing into
//     another month (1W on a Saturday the 1st is Monday the 3rd); in months
//     shorter than n days it does not fire;
//   - day of week "nL": the last weekday n of the month (5L is the last Friday);
//   - day of week "n#k": the k-th weekday n of the month, k from 1 to 5
//     (MON#2 is the second Monday).
//
// Offsets from the last day ("L-3") are not supported, because the cron
// implementation that Healthchecks uses does not accept them either.
//
// As in Vixie cron, when either the day-of-month or the day-of-week field
// starts with "*", a day must match both fields; otherwise a day matching
// either field is enough. So "0 0 1,15 * MON" runs on the 1st, the 15th and
// every Monday, while "0 0 */2 * MON" runs only on odd-numbered Mondays.
//
// # Daylight-saving time
//
// Vixie cron evaluates expressions against the local wall clock, once a
// minute, and treats jobs in two classes. A job is fixed-time when neither its
// minute nor its hour field starts with "*" ("30 2 * * *", "0 1-5 * * *");
// every other job is a wildcard job ("*/15 * * * *", "30 * * * *",
// "0 */2 * * *").
//
// Wildcard jobs follow the clock: they run at every instant whose local wall
// clock matches. When clocks go back they therefore run in both copies of the
// repeated interval, and when clocks go forward the skipped wall-clock times
// simply do not happen.
//
// Fixed-time jobs get the daemon's special treatment of clock changes of less
// than three hours. A run whose wall-clock time is skipped by a forward change
// happens at the instant of the change (for example at 03:00 CEST for a
// 02:30 job on the day Berlin moves from 02:00 to 03:00). A run whose
// wall-clock time occurs twice because of a backward change happens once, at
// the first occurrence.
//
// Larger changes, such as a zone moving across the date line, are treated by
// the daemon as the clock having jumped: fixed-time runs inside a skipped
// interval of three hours or more are lost, and fixed-time runs inside a
// repeated interval longer than three hours and one minute happen in both
// copies. Forward changes of less than five minutes, which only occur in
// historical data, make the daemon catch up on every skipped minute, so
// wildcard runs inside such a gap also happen at the instant of the change.
// See [Cron.Next] for the exact thresholds.
package schedule
