// Package clientip finds the address of the client behind trusted reverse
// proxies, and whether it came over https.
//
// The TCP peer is the client unless it lies in a trusted range. A request
// from a trusted proxy is believed about where it came from: the proxy's
// X-Forwarded-For, or without one its RFC 7239 Forwarded header, is walked
// from the right (the entry the nearest proxy added) past the addresses of
// trusted proxies, and the first address that is not one is the client.
// Entries to its left were written by the client itself and are never
// believed. A malformed entry (or "unknown", or an obfuscated name) ends the
// walk at the proxy that reported it.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted reverse proxies. The nil *Proxies trusts nobody.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads a comma-separated list of CIDR ranges ("10.0.0.0/8,
// fd00::/8"); a bare address is a range of one. An empty list trusts nobody.
func Parse(list string) (*Proxies, error) {
	p := &Proxies{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR range (10.0.0.0/8) nor an IP address", item)
			}
			a = a.Unmap()
			p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR range such as 10.0.0.0/8 or fd00::/8", item)
		}
		if pr.Addr().Is4In6() {
			pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
		}
		p.nets = append(p.nets, pr.Masked())
	}
	return p, nil
}

// String lists the trusted ranges.
func (p *Proxies) String() string {
	if p == nil {
		return ""
	}
	parts := make([]string, len(p.nets))
	for i, n := range p.nets {
		parts[i] = n.String()
	}
	return strings.Join(parts, ",")
}

func (p *Proxies) trusts(a netip.Addr) bool {
	if p == nil {
		return false
	}
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the TCP peer's address.
func peer(r *http.Request) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap(), err == nil
}

// FromTrusted reports whether the request's TCP peer is a trusted proxy,
// whose headers about the request (X-Request-Id too) may be believed.
func (p *Proxies) FromTrusted(r *http.Request) bool { return p.fromTrusted(r) }

// fromTrusted reports whether the request's TCP peer is a trusted proxy.
func (p *Proxies) fromTrusted(r *http.Request) bool {
	a, ok := peer(r)
	return ok && p.trusts(a)
}

// ClientIP returns the address of the client that made r.
func (p *Proxies) ClientIP(r *http.Request) string {
	a, ok := peer(r)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if !p.trusts(a) {
		return a.String()
	}
	var hops []string
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, line := range xff {
			hops = append(hops, strings.Split(line, ",")...)
		}
	} else {
		for _, el := range forwardedElements(r.Header.Values("Forwarded")) {
			hops = append(hops, el["for"])
		}
	}
	client := a
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break // what the proxy that wrote this said cannot be read: it is the client we know
		}
		client = hop
		if !p.trusts(hop) {
			break
		}
	}
	return client.String()
}

// Secure reports whether the client reached Roster over https: the
// connection is TLS, or a trusted proxy says so in X-Forwarded-Proto or in a
// Forwarded proto= parameter. Any https among a trusted proxy's values
// counts, so a chain of proxies that terminates TLS at its edge is secure.
func (p *Proxies) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !p.fromTrusted(r) {
		return false
	}
	for _, line := range r.Header.Values("X-Forwarded-Proto") {
		for _, v := range strings.Split(line, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "https") {
				return true
			}
		}
	}
	for _, el := range forwardedElements(r.Header.Values("Forwarded")) {
		if strings.EqualFold(el["proto"], "https") {
			return true
		}
	}
	return false
}

// parseHop reads one address of X-Forwarded-For or a Forwarded for= value:
// "192.0.2.1", "192.0.2.1:4711", "2001:db8::1", "[2001:db8::1]:4711".
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// forwardedElements parses RFC 7239 Forwarded header lines into their
// elements (one per proxy, in order), each a map of lower-case parameter
// names to values, quotes removed. A malformed element becomes an empty map,
// which has no for= and so ends a walk there.
func forwardedElements(lines []string) []map[string]string {
	var out []map[string]string
	for _, line := range lines {
		for _, el := range splitQuoted(line, ',') {
			m := map[string]string{}
			for _, pair := range splitQuoted(el, ';') {
				pair = strings.TrimSpace(pair)
				if pair == "" {
					continue
				}
				k, v, ok := strings.Cut(pair, "=")
				if !ok {
					m = map[string]string{}
					break
				}
				v = strings.TrimSpace(v)
				if strings.HasPrefix(v, `"`) {
					if len(v) < 2 || !strings.HasSuffix(v, `"`) {
						m = map[string]string{}
						break
					}
					v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
				}
				m[strings.ToLower(strings.TrimSpace(k))] = v
			}
			out = append(out, m)
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	inQuotes, escaped, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case c == '\\' && inQuotes:
			escaped = true
		case c == '"':
			inQuotes = !inQuotes
		case c == sep && !inQuotes:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
