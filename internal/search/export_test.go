package search

// HostileQueries gives the external tests the queries that try the parser
// and the engines' syntax.
func HostileQueries() []string { return hostile }
