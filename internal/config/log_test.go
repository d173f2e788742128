package config

import (
	"errors"
	"strings"
	"testing"
)

// A log line stays bounded whatever a value holds: callbacks carry values
// of any size.
func TestLoggerBoundsValues(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf strings.Builder
		cfg := Default()
		cfg.LogFormat = format
		log := cfg.NewLogger(&buf)
		huge := strings.Repeat("é", 40_000)
		log.Warn("refused", "call_id", huge, "err", errors.New(huge))
		if n := buf.Len(); n > 3*MaxLogValueBytes {
			t.Errorf("%s: a line with two 80 KB values is %d bytes", format, n)
		}
		if !strings.Contains(buf.String(), "bytes cut") {
			t.Errorf("%s: the cut is not marked: %.200s", format, buf.String())
		}
	}
}
