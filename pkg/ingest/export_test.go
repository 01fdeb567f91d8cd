package ingest

// RowWriter lets tests wrap the streamer's writer (a store that fails).
type RowWriter = rowWriter

// WrapWriter replaces in's writer by wrap(writer); call it before Run.
func WrapWriter(in *Ingester, wrap func(RowWriter) RowWriter) { in.writer = wrap(in.writer) }
