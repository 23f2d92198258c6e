package roster

// ContactCentreTx holds the queries of properties, skills, profiles and
// coaching plans.
type ContactCentreTx interface {
}
