package app

import (
	"io"
	"log/slog"

	"github.com/maildlp/maildlp/config"
)

// NewLogger builds the process logger from [log]: JSON (default) or text
// lines on w at the configured level.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: c.Level.Slog()}
	if c.Format == config.LogText {
		return slog.New(slog.NewTextHandler(w, o))
	}
	return slog.New(slog.NewJSONHandler(w, o))
}
