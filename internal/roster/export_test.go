package roster

import "context"

// VerifySSOIDToken runs the ID token check of a sign-in on
// raw, as a provider with issuer and clientID whose flow had nonce.
func (s *Service) VerifySSOIDToken(ctx context.Context, issuer, clientID, raw, nonce string) error {
	p := &SSOProvider{Name: "the IdP", Issuer: issuer, ClientID: clientID}
	op, err := s.discover(ctx, issuer)
	if err != nil {
		return err
	}
	_, err = s.verifyIDToken(s.ssoContext(ctx), p, op, raw, nonce, nil)
	return err
}
