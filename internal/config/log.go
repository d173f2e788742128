package config

import (
	"fmt"
	"io"
	"log/slog"
	"unicode/utf8"
)

// ParseLevel reads a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger returns the process logger the configuration asks for. Every
// line is bounded: a string or error value over MaxLogValueBytes is cut
// (callbacks carry values of any size, and a log line is no place for
// them).
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	level, _ := ParseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: boundAttr}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// MaxLogValueBytes bounds one logged value.
const MaxLogValueBytes = 1024

func boundAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		if s := v.String(); len(s) > MaxLogValueBytes {
			a.Value = slog.StringValue(truncate(s))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(truncate(err.Error()))
		}
	}
	return a
}

func truncate(s string) string {
	if len(s) <= MaxLogValueBytes {
		return s
	}
	cut := MaxLogValueBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d bytes cut)", len(s)-cut)
}
