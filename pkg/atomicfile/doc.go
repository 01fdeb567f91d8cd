// Package atomicfile replaces a file so that a crash or power loss leaves either the old
// content or the new one, never a mix: write a temporary file beside it, fsync it, rename it
// over the target, fsync the directory (without the last step the rename itself can be lost).
// Every file the daemon rewrites in place goes through here.
package atomicfile
