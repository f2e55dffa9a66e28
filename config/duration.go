package config

import (
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as "90s", "1h30m", "2d" or a
// plain number of seconds: whatever the console's forms take.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 90s or 1h", n.Line)
	}
	v, err := nightjar.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration in Go's notation.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }
