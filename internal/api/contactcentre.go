package api

// contactCentreRoutes: properties, skills, profiles, coaching plans, My Team.
func (s *Server) contactCentreRoutes() []route {
	return nil
}
