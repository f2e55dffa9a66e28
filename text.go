package nightjar

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Text. PostgreSQL refuses a string with a NUL byte or invalid UTF-8 (and
// SQLite would store it and hand it back to clients that choke on it), so
// every text field is held to that rule on both databases, here, before
// anything reaches the store. Lengths count characters, as Healthchecks
// counts them, so a name in Cyrillic gets as many letters as one in ASCII.

// ValidText reports whether s is valid UTF-8 without NUL bytes: text that
// every database Nightjar runs on stores as it is.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// allValidText reports whether every string of list is valid text.
func allValidText(list []string) bool {
	for _, s := range list {
		if !ValidText(s) {
			return false
		}
	}
	return true
}

// TextFieldError is the error for a field whose value is not valid text,
// the same from every front door.
func TextFieldError(field string) *Error {
	return FieldError(field, "must be valid UTF-8 text without NUL bytes")
}

// checkText returns the error for a text field that is not valid text or
// is longer than max characters, or nil.
func checkText(field, s string, max int) *Error {
	if !ValidText(s) {
		return TextFieldError(field)
	}
	if utf8.RuneCountInString(s) > max {
		return FieldError(field, "must be at most %d characters", max)
	}
	return nil
}

// CleanText makes s storable: invalid UTF-8 sequences and NUL bytes become
// U+FFFD, and it is cut to at most max characters. It is for what Nightjar
// records but does not control, such as a ping's user agent or a
// receiving server's error message: that is kept, slightly changed, rather
// than refused, so a ping is never lost over its metadata.
func CleanText(s string, max int) string {
	if !ValidText(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// Seconds returns n seconds as a duration. Past the range of
// time.Duration (about 292 years) it gives the largest or smallest
// duration instead of wrapping around, so a huge number of seconds fails
// validation as out of range rather than passing as a small one.
func Seconds(n int64) time.Duration {
	switch {
	case n > math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case n < math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return time.Duration(n) * time.Second
}

// ResolveChannels turns references to a project's channels, by id or by
// name, into their ids, in order and without repeats. The APIs and the
// console resolve through it, so a check can only ever name channels of
// its own project.
func ResolveChannels(refs []string, channels []*Channel) ([]string, error) {
	ids := []string{}
	for _, ref := range refs {
		found := ""
		for _, ch := range channels {
			if ch.ID == ref || ch.Name == ref {
				found = ch.ID
				break
			}
		}
		if found == "" {
			return nil, FieldError("channels", "no channel with id or name %.100q in this project", ref)
		}
		if !slices.Contains(ids, found) {
			ids = append(ids, found)
		}
	}
	return ids, nil
}
