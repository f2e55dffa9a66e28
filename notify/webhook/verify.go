package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Verify. Receivers can tell them apart with errors.Is,
// for example to log replays separately from forgeries.
var (
	// ErrNoSecret means Verify was called without a secret; verifying
	// against an empty key would accept forgeries.
	ErrNoSecret = errors.New("webhook verification needs a secret")
	// ErrBadTimestamp means the timestamp header is missing or is not a
	// decimal number of seconds.
	ErrBadTimestamp = errors.New("webhook timestamp header missing or malformed")
	// ErrNoSignature means the signature header is missing or carries no
	// v1 signature.
	ErrNoSignature = errors.New("webhook signature header missing or without a v1 signature")
	// ErrSignatureMismatch means no v1 signature matches the body and
	// timestamp: the request was not signed with this secret or was
	// altered on the way.
	ErrSignatureMismatch = errors.New("webhook signature does not match")
	// ErrStaleTimestamp means the signature is valid but the timestamp is
	// too far from the receiver's clock, as with a replayed request.
	ErrStaleTimestamp = errors.New("webhook timestamp outside the allowed tolerance")
)

// maxSignatures bounds how many comma-separated signatures Verify looks at,
// so an oversized header cannot make it do unbounded work.
const maxSignatures = 8

// Verify checks that a webhook request was signed with secret and is
// fresh: one of the "v1=" signatures in the X-Nightjar-Signature header must
// equal the HMAC-SHA256 of "<timestamp>.<body>", and the timestamp must be
// within tolerance of now (DefaultTolerance when tolerance is not
// positive). body must be the raw request body, before any JSON decoding.
// Several signatures may be present, comma-separated or in repeated
// headers, so a receiver keeps working while a secret is rotated; unknown
// schemes are ignored. Comparisons take constant time.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return ErrNoSecret
	}
	ts := strings.TrimSpace(header.Get(HeaderTimestamp))
	if !isDigits(ts) || len(ts) > 18 { // 18 digits cannot overflow int64
		return ErrBadTimestamp
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}

	want := mac(secret, ts, body)
	seen, matched := 0, false
scan:
	for _, line := range header.Values(HeaderSignature) {
		for part := range strings.SplitSeq(line, ",") {
			scheme, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || scheme != "v1" {
				continue
			}
			if seen++; seen > maxSignatures {
				break scan
			}
			got, err := hex.DecodeString(value)
			if err != nil || len(got) != sha256.Size {
				continue
			}
			if hmac.Equal(got, want) {
				matched = true
			}
		}
	}
	switch {
	case seen == 0:
		return ErrNoSignature
	case !matched:
		return ErrSignatureMismatch
	}

	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrStaleTimestamp,
			time.Unix(unix, 0).UTC().Format(time.RFC3339), age.Round(time.Second))
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
