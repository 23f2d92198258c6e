package roster

import (
	"fmt"
	"strings"
)

// batchDuplicates records the rows of a batch that repeat an earlier row's
// email or username, on the field repeated ("is also in invitation 1"),
// A username that is only the row's email (none was given) is reported
// once, on the email.
func batchDuplicates(rows []UserInput, v *Validation) {
	emails, usernames := map[string]int{}, map[string]int{}
	for i, in := range rows {
		prefix := fmt.Sprintf("invitations[%d].", i)
		email := strings.ToLower(strings.TrimSpace(in.Email.V))
		username := strings.ToLower(strings.TrimSpace(in.Username.V))
		if first, ok := emails[email]; ok && email != "" {
			v.Add(prefix+"email", "is also in invitation %d of this batch: each person is invited once", first+1)
		} else if email != "" {
			emails[email] = i
		}
		if first, ok := usernames[username]; ok && username != "" {
			if username != email {
				v.Add(prefix+"username", "is also in invitation %d of this batch: usernames are unique", first+1)
			}
		} else if username != "" {
			usernames[username] = i
		}
	}
}

// batchGroupIDs are the groups the rows name, each once.
func batchGroupIDs(rows []UserInput) []int64 {
	seen := map[int64]bool{}
	var ids []int64
	for _, in := range rows {
		for _, id := range groupIDsOf(in) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}
