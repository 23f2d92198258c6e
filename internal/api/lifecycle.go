package api

// lifecycleRoutes: invitations, sessions, passwords, one-time codes, outbox.
func (s *Server) lifecycleRoutes() []route {
	return nil
}
