package roster

import (
	"context"
	"time"
)

// ConsoleTx holds the queries of the admin console's own state: the list
// filters each user saves.
type ConsoleTx interface {
	// SavedFilter returns the saved filter of userID for list, "" when none.
	SavedFilter(ctx context.Context, tenantID, userID int64, list string) (string, error)
	// SaveFilter stores (or replaces) the filter of userID for list.
	SaveFilter(ctx context.Context, tenantID, userID int64, list, query string, at time.Time) error
	// DeleteSavedFilter forgets it; deleting a filter that is not there is fine.
	DeleteSavedFilter(ctx context.Context, tenantID, userID int64, list string) error
}
