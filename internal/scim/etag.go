package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// cloneDoc deep-copies a document, numbers kept as json.Number like bodies.
func cloneDoc(doc map[string]any) map[string]any {
	b, _ := json.Marshal(doc)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	_ = dec.Decode(&out)
	return out
}

func versionOf(doc map[string]any) string {
	meta, _ := doc["meta"].(map[string]any)
	v, _ := meta["version"].(string)
	return v
}

// etagListed reports whether header (If-Match / If-None-Match) names etag;
// the comparison is weak (RFC 9110 §8.8.3.2), "*" matches anything.
func etagListed(header, etag string) bool {
	bare := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == bare {
			return true
		}
	}
	return false
}

// notModified answers 304 when If-None-Match names the current version.
func notModified(w http.ResponseWriter, r *http.Request, doc map[string]any) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" || !etagListed(h, versionOf(doc)) {
		return false
	}
	w.Header().Set("ETag", versionOf(doc))
	w.WriteHeader(http.StatusNotModified)
	return true
}

// ifMatch answers 412 when If-Match names another version than the current.
func ifMatch(w http.ResponseWriter, r *http.Request, doc map[string]any) bool {
	h := r.Header.Get("If-Match")
	if h == "" || etagListed(h, versionOf(doc)) {
		return true
	}
	writeError(w, &scimError{status: http.StatusPreconditionFailed,
		detail: "the resource changed since version " + h + "; its version is now " + versionOf(doc)})
	return false
}
