package roster

import (
	"context"
	"sort"
	"strings"
)

// Per-domain routing (docs/sso.md): a provider lists email domains, and the
// sign-in page sends a person whose email has one of them to that
// provider. Domains are unique within a tenant, not across tenants: nobody
// proves they own a domain, so a global claim would let one tenant catch
// another's people. The organisation is therefore always known first
// (typed, or remembered by the browser).

const maxSSODomains = 50

// checkEmailDomains returns the domains normalised (lower case, no
// leading "@"), adding what is wrong to v.
func checkEmailDomains(in []string, v *Validation) []string {
	if len(in) > maxSSODomains {
		v.Add("email_domains", "at most %d domains", maxSSODomains)
		return nil
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, d := range in {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		switch {
		case !validDomain(d):
			v.Add("email_domains", "%q is not a domain name such as acme.com", clientText(d, 60))
		case seen[d]:
			v.Add("email_domains", "%q is listed twice", d)
		default:
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out) // as the store lists them
	return out
}

func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// SSORoute finds the enabled provider of the organisation tenantSlug that
// an email (or a bare domain) is routed to. ENotFound when there is none:
// the person signs in another way.
func (s *Service) SSORoute(ctx context.Context, tenantSlug, email string) (*SSOSignInOption, error) {
	email = strings.TrimSpace(email)
	if len(email) > 320 || len(tenantSlug) > 100 {
		return nil, badField("email", "is too long")
	}
	domain := strings.ToLower(email[strings.LastIndex(email, "@")+1:])
	if !validDomain(domain) {
		return nil, badField("email", "must be an email address such as anna@acme.com")
	}
	none := Errorf(ENotFound, "%s has no single sign-on for %s; sign in with your password", clientText(tenantSlug, 100), domain)
	id, err := s.tenantIDBySlug(ctx, strings.TrimSpace(tenantSlug))
	if ErrorCode(err) == ENotFound {
		return nil, none
	}
	if err != nil {
		return nil, err
	}
	p, err := s.store.Read().SSOProviderByDomain(ctx, id, domain)
	if ErrorCode(err) == ENotFound || (err == nil && !p.Enabled) {
		return nil, none
	}
	if err != nil {
		return nil, err
	}
	return &SSOSignInOption{ID: p.ID, Name: p.Name}, nil
}
