package pingclient

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// Target names the check a ping is about. The ping API accepts two ways of
// naming a check, and a Target holds exactly one of them:
//
//   - UUID: the check's immutable identifier, as in {base}/{uuid}.
//   - PingKey and Slug: a project's ping key plus a human-chosen slug, as in
//     {base}/{ping-key}/{slug}; this form is the only one that can create a
//     check on first use.
type Target struct {
	// UUID is the check's identifier. Any letter case is accepted; URLs use
	// the canonical lower-case form because servers route on it.
	UUID string
	// PingKey is the project's ping key for the slug form.
	PingKey string
	// Slug is the check's slug within the project named by PingKey.
	Slug string
}

// ParseTarget reads a check reference as a user types it on a command line:
// either a check UUID or "ping-key/slug". Surrounding white space is ignored
// because values pasted from files and environment variables often carry a
// trailing newline. The result has passed Validate.
func ParseTarget(arg string) (Target, error) {
	s := strings.TrimSpace(arg)
	if s == "" {
		return Target{}, errors.New("parse check reference: empty")
	}
	var t Target
	if key, slug, ok := strings.Cut(s, "/"); ok {
		t = Target{PingKey: key, Slug: slug}
	} else {
		if !isUUID(s) {
			return Target{}, fmt.Errorf("parse check reference %q: neither a check uuid nor ping-key/slug", s)
		}
		t = Target{UUID: strings.ToLower(s)}
	}
	if err := t.Validate(); err != nil {
		return Target{}, fmt.Errorf("parse check reference %q: %w", s, err)
	}
	return t, nil
}

// Validate reports whether the target can be put in a ping URL, so that a
// mistake in configuration shows up as a clear error before any request is
// sent rather than as a 404 from the server.
func (t Target) Validate() error {
	hasUUID := t.UUID != ""
	hasSlug := t.PingKey != "" || t.Slug != ""
	switch {
	case hasUUID && hasSlug:
		return errors.New("check target has both a uuid and a ping key or slug; use exactly one form")
	case hasUUID:
		if !isUUID(t.UUID) {
			return fmt.Errorf("check uuid %q is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", t.UUID)
		}
		return nil
	case hasSlug:
		if t.PingKey == "" {
			return fmt.Errorf("check slug %q needs a ping key", t.Slug)
		}
		if t.Slug == "" {
			return errors.New("ping key given without a check slug")
		}
		if err := validSegment("ping key", t.PingKey); err != nil {
			return err
		}
		return validSegment("slug", t.Slug)
	default:
		return errors.New("check target is empty; give a check uuid or a ping key and slug")
	}
}

// String returns the target in the form ParseTarget reads, so a target can
// be shown to a user and typed back.
func (t Target) String() string {
	if t.UUID != "" {
		return t.UUID
	}
	return t.PingKey + "/" + t.Slug
}

// pathSegments returns the unescaped URL path segments naming the check.
func (t Target) pathSegments() []string {
	if t.UUID != "" {
		return []string{strings.ToLower(t.UUID)}
	}
	return []string{t.PingKey, t.Slug}
}

// validSegment rejects values that escaping cannot make safe: a slash would
// change the route, dot segments are rewritten by proxies and servers that
// clean paths, and control characters are almost always a copy-paste slip.
func validSegment(what, s string) error {
	if s == "." || s == ".." {
		return fmt.Errorf("%s %q is a path dot segment", what, s)
	}
	for _, r := range s {
		if r == '/' {
			return fmt.Errorf("%s %q contains a slash", what, s)
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %q contains a control character", what, s)
		}
	}
	return nil
}

// isUUID accepts only the hyphenated 36-character form, which is the one the
// ping API routes on; uuid.Parse alone would also take URN and braced forms.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Kind says what a ping reports. The zero value reports success, matching
// the bare {base}/{uuid} route.
type Kind string

// The ping kinds the API knows by name; exit statuses come from ExitStatus.
const (
	// KindSuccess reports that the job finished well.
	KindSuccess Kind = ""
	// KindStart reports that the job began, so the server can measure its
	// duration and notice a job that never finishes.
	KindStart Kind = "start"
	// KindFail reports that the job failed, for failures without an exit
	// status such as a command that could not be started.
	KindFail Kind = "fail"
	// KindLog attaches a message to the check without changing its state.
	KindLog Kind = "log"
)

// ExitStatus returns the kind for a process exit status, which the server
// reads as success for 0 and failure otherwise. The API accepts 0 to 255;
// other values make Ping return an error.
func ExitStatus(code int) Kind {
	return Kind(strconv.Itoa(code))
}

// Validate reports whether the kind is one the ping API routes, so a bad
// kind fails before a request is made.
func (k Kind) Validate() error {
	switch k {
	case KindSuccess, KindStart, KindFail, KindLog:
		return nil
	}
	n, err := strconv.Atoi(string(k))
	if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != string(k) {
		return fmt.Errorf("ping kind %q is not start, fail, log, success or an exit status 0-255", string(k))
	}
	return nil
}

// String names the kind for logs and error messages, where the empty
// success kind would otherwise be invisible.
func (k Kind) String() string {
	if k == KindSuccess {
		return "success"
	}
	return string(k)
}
