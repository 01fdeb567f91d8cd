package broker

import (
	"context"
	"log/slog"
)

// quietHandler demotes mochi's Info records ("attached listener", "added hook", "mochi mqtt
// starting", ...) to Debug: they are start-up chatter, not events an operator needs.
// Warnings and errors pass through unchanged.
type quietHandler struct{ h slog.Handler }

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return q.h.Enabled(ctx, demote(l))
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if l := demote(r.Level); l != r.Level {
		if !q.h.Enabled(ctx, l) {
			return nil
		}
		r.Level = l
	}
	return q.h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{q.h.WithAttrs(as)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.h.WithGroup(name)}
}

func demote(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}
