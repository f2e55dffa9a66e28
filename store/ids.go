package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// NewID returns a new random identifier (a lowercase UUID, as Healthchecks
// uses for checks).
func NewID() string { return uuid.NewString() }

// NewKey returns 32 random hex digits: an unguessable public name, such as
// a check's badge key.
func NewKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// NewSecret returns n random bytes as lowercase base32 text without
// padding, for generated passwords and tokens: URL-safe and easy to copy.
func NewSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashSecret returns the stored form of a long random secret (an API key,
// a session or invitation token): its SHA-256 in hex. Such secrets cannot
// be guessed, so a fast hash is enough and lets a lookup find the row by
// it; a slow KDF is for passwords, which people choose.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
