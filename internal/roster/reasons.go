package roster

// Reasons are the stable, machine-readable names of refusals (Error.Reason),
// shown by the API as problem+json "code" and listed in docs/api.md.
// Callers may act on them, so their spelling never changes. A refusal
// without a reason is named by its code (EInvalid, ENotFound, ...).
const (
	ReasonStale = "stale" // EStale: changed since the caller read it

	// Conflicts with another thing (EConflict).
	ReasonUsernameTaken    = "username_taken"     // another user has the username
	ReasonEmailTaken       = "email_taken"        // another user has the email address
	ReasonAgentNumberTaken = "agent_number_taken" // another user has the agent number
	ReasonAgentIDHeld      = "agent_id_held"      // the agent ID belongs to another user
	ReasonGroupNameTaken   = "group_name_taken"   // a sibling group has the name
	ReasonRoleKeyTaken     = "role_key_taken"
	ReasonRoleNameTaken    = "role_name_taken"
	ReasonSkillNameTaken   = "skill_name_taken"
	ReasonProfileNameTaken = "profile_name_taken"
	ReasonPropertyKeyTaken = "property_key_taken"
	ReasonSlugTaken        = "slug_taken"
	ReasonDuplicate        = "duplicate" // a uniqueness rule the store caught

	// Conflicts with the current state (EConflict).
	ReasonUserOnQueue        = "user_on_queue"        // logged on to a queue: log them off first
	ReasonUserNotActive      = "user_not_active"      // invited or deactivated
	ReasonUserDeactivated    = "user_deactivated"     // deactivated already
	ReasonUserNotDeactivated = "user_not_deactivated" // reactivating someone active
	ReasonUserNotInvited     = "user_not_invited"     // an invitation for someone no longer invited
	ReasonSelf               = "self"                 // acting on oneself in a way that is refused
	ReasonGroupNotEmpty      = "group_not_empty"      // subgroups or users left
	ReasonRoleInUse          = "role_in_use"          // held by users or tokens
	ReasonSkillInUse         = "skill_in_use"         // used in profiles
	ReasonBuiltin            = "builtin"              // built-in roles and properties stay
	ReasonTokenRevoked       = "token_revoked"        // revoked already
	ReasonInvitationClosed   = "invitation_closed"    // accepted or cancelled
	ReasonInvitationUsed     = "invitation_used"      // the link was used already

	// Idempotency keys.
	ReasonIdempotencyKeyReused = "idempotency_key_reused" // EReused: the key came with another request
	ReasonIdempotencyKeyInUse  = "idempotency_key_in_use" // the first request with the key still runs

	// Refusals for want of rights (EForbidden).
	ReasonPermissionMissing  = "permission_missing"   // the actor lacks the endpoint's permission
	ReasonRoleNotGrantable   = "role_not_grantable"   // the grant rule: a role with rights the actor lacks
	ReasonTargetMorePowerful = "target_more_powerful" // the grant rule: someone with rights the actor lacks
	ReasonReadOnly           = "read_only"            // viewing as another user
)
