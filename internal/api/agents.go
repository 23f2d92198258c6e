package api

// agentsRoutes: interactions, agent IDs, moves, queue state, decision API.
func (s *Server) agentsRoutes() []route {
	return nil
}
