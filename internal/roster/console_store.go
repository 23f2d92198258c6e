package roster

import (
	"context"
	"time"
)

// ConsoleReader and ConsoleTx hold the queries of the admin console's own
// state: the list filters each user saves.
type ConsoleReader interface {
	// SavedFilter returns the saved filter of userID for list, "" when none.
	SavedFilter(ctx context.Context, tenantID, userID int64, list string) (string, error)
}

// ConsoleTx holds the writes; a transaction has both.
type ConsoleTx interface {
	// SaveFilter stores (or replaces) the filter of userID for list.
	SaveFilter(ctx context.Context, tenantID, userID int64, list, query string, at time.Time) error
	// DeleteSavedFilter forgets it; deleting a filter that is not there is fine.
	DeleteSavedFilter(ctx context.Context, tenantID, userID int64, list string) error
}
