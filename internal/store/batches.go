package store

import (
	"errors"
	"strings"
)

// Building blocks of bulk SQL: IN lists in chunks the databases accept, and
// multi-row VALUES.

// inChunk is how many ids go into one IN list.
const inChunk = 500

// chunked calls fn with successive parts of ids of at most n.
func chunked[T any](ids []T, n int, fn func(part []T) error) error {
	for len(ids) > 0 {
		part := ids[:min(n, len(ids))]
		ids = ids[len(part):]
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

func anyArgs[T any](prefix []any, vals []T) []any {
	out := make([]any, 0, len(prefix)+len(vals))
	out = append(out, prefix...)
	for _, v := range vals {
		out = append(out, v)
	}
	return out
}

// inList renders "col IN (?, ?)" with its args, or a false condition for none.
func inList[T any](col string, vals []T) (string, []any) {
	if len(vals) == 0 {
		return "1 = 0", nil
	}
	return col + " IN (" + placeholders(len(vals)) + ")", anyArgs(nil, vals)
}

// valueRows renders n rows of k placeholders: (?, ?), (?, ?).
func valueRows(n, k int) string {
	row := "(" + placeholders(k) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

// errStop ends a chunked loop early.
var errStop = errors.New("stop")
