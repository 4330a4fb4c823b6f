package audit

import "github.com/kandidat/kandidat/internal/access"

// Track is one layer of the trail, with its own chain and retention.
type Track string

// The tracks. The application/system log is slog's, outside the database.
const (
	// History is user activity on candidates and positions, shown in the UI.
	History Track = "history"
	// Business is the business log: what changed in the company's data.
	Business Track = "business"
	// Security is sign-ins, sessions, credentials, exports and alerts.
	Security Track = "security"
	// GDPR is processing of personal data: access, export, erasure.
	GDPR Track = "gdpr"
	// Consent is consents granted, refused and withdrawn; kept ten years.
	Consent Track = "consent"
	// Admin is company-user administration: users, roles, the company's sign-in name.
	Admin Track = "admin"
)

// Tracks lists every track.
var Tracks = []Track{History, Business, Security, GDPR, Consent, Admin}

// Action names what happened, as "object.verb".
type Action string

// The catalogue of actions. A module adds its actions here, each with its
// track and the details it may carry.
const (
	SignInSucceeded   Action = "auth.sign_in_succeeded"
	SignInFailed      Action = "auth.sign_in_failed"
	SignedOut         Action = "auth.signed_out"
	PasswordChanged   Action = "auth.password_changed"
	TenantCreated     Action = "tenant.created"
	ModulesChanged    Action = "tenant.modules_changed"
	UserCreated       Action = "user.created"
	UserDisabled      Action = "user.disabled"
	UserEnabled       Action = "user.enabled"
	ProfileChanged    Action = "user.profile_changed"
	AuditExported     Action = "audit.exported"
	AuditPruned       Action = "audit.pruned"
	AlertRaised       Action = "alert.raised"
	AlertAcknowledged Action = "alert.acknowledged"
	// TenantSettingsChanged: a company's settings, e.g. its password profile;
	// a save on the settings page lists what it changed ("fields").
	TenantSettingsChanged Action = "tenant.settings_changed"
	// AccountLocked: repeated failures locked password sign-in for an account.
	AccountLocked Action = "auth.account_locked"
	// AccountUnlocked: the lock was lifted before it expired.
	AccountUnlocked Action = "auth.account_unlocked"
	// PasswordResetRequested: a reset link was emailed to the account's owner.
	PasswordResetRequested Action = "auth.password_reset_requested"
	// PasswordReset: the password was set through a reset link.
	PasswordReset Action = "auth.password_reset"
	// MFAEnabled, MFADisabled: a second factor was turned on or off.
	MFAEnabled  Action = "auth.mfa_enabled"
	MFADisabled Action = "auth.mfa_disabled"
	// MFASucceeded, MFAFailed: the second step of a sign-in.
	MFASucceeded Action = "auth.mfa_succeeded"
	MFAFailed    Action = "auth.mfa_failed"
	// APITokenCreated, APITokenRevoked: an API token was made or stopped.
	APITokenCreated Action = "api_token.created"
	APITokenRevoked Action = "api_token.revoked"
	// UserInvited, InvitationAccepted: a colleague was invited by email and joined.
	UserInvited        Action = "user.invited"
	InvitationAccepted Action = "user.invitation_accepted"
	// Reauthenticated: a user proved their password again for a sensitive setting.
	Reauthenticated Action = "auth.reauthenticated"
	// UserRoleChanged: a user was given another role (e.g. the administrator right).
	UserRoleChanged Action = "user.role_changed"
	// SessionRevoked: a user ended sessions of theirs from another.
	SessionRevoked Action = "auth.session_revoked"
	// RoleCreated, RoleChanged, RoleDeleted: a company's custom roles.
	RoleCreated Action = "role.created"
	RoleChanged Action = "role.changed"
	RoleDeleted Action = "role.deleted"
	// UserRightsChanged: an HR manager's optional rights were changed.
	UserRightsChanged Action = "user.rights_changed"
	// AccessDecided: an authorization decision on sensitive data (reading a
	// candidate's application, and every denial on a position or application).
	AccessDecided Action = "access.decided"
	// CreditsGranted, CreditsSpent, CreditsRefunded: the company's credit ledger.
	CreditsGranted  Action = "credits.granted"
	CreditsSpent    Action = "credits.spent"
	CreditsRefunded Action = "credits.refunded"
	// CreditLimitSet: the credit administration set (or lifted) how many
	// credits a user may spend in a month.
	CreditLimitSet Action = "credits.limit_set"
	// PositionCreated, PositionChanged, PositionShared, PositionPublished,
	// PositionClosed: a position's life.
	PositionCreated   Action = "position.created"
	PositionChanged   Action = "position.changed"
	PositionShared    Action = "position.shared"
	PositionPublished Action = "position.published"
	PositionClosed    Action = "position.closed"
	// ApplicationCreated, StageChanged, ApplicationCommented: an application's life.
	ApplicationCreated   Action = "application.created"
	StageChanged         Action = "application.stage_changed"
	ApplicationCommented Action = "application.commented"
	// ConsentRecorded: a candidate's choice on a consent, with the version of its text.
	ConsentRecorded Action = "consent.recorded"
	// CandidateErased: a candidate's data erased for good (the tombstone:
	// the candidate's id and the reason, nothing of the person).
	CandidateErased Action = "candidate.erased"
	// ConsentRequested: a consent ticked on the career page, waiting for the
	// candidate to confirm it through the emailed link (not yet granted).
	ConsentRequested Action = "consent.requested"
	// ApplicationResubmitted: the career page received another submission to
	// a position the candidate had applied to; its documents stay apart.
	ApplicationResubmitted Action = "application.resubmitted"
	// CandidateChangeProposed, CandidateChangeAccepted, CandidateChangeDismissed:
	// a name or phone given on the career page for a known candidate, and a
	// colleague's decision on it.
	CandidateChangeProposed  Action = "candidate.change_proposed"
	CandidateChangeAccepted  Action = "candidate.change_accepted"
	CandidateChangeDismissed Action = "candidate.change_dismissed"
	// CandidateProfileChanged: fields of a candidate's profile changed (the
	// values are in the profile's own history, never in the trail).
	CandidateProfileChanged Action = "candidate.profile_changed"
	// CandidateInvitedToApply: a candidate of the pool was emailed an
	// invitation to apply to a position they match.
	CandidateInvitedToApply Action = "candidate.invited_to_apply"
	// InterviewScheduled, InterviewAnswered: an invitation to an interview and the candidate's answer.
	InterviewScheduled Action = "interview.scheduled"
	InterviewAnswered  Action = "interview.answered"
	// ApplicationRated, ApplicationLabeled: a colleague's rating; a label added or removed.
	ApplicationRated   Action = "application.rated"
	ApplicationLabeled Action = "application.labeled"
	// TemplateChanged: a company changed (or reset) the wording of an email to candidates.
	TemplateChanged Action = "template.changed"
	// TaskChanged: a task on an application was added, done or reopened.
	TaskChanged Action = "task.changed"
	// NoteAdded: a colleague kept a private note on an application (the
	// record says that one was written, never what).
	NoteAdded Action = "application.note_added"
	// ConsentTextSaved: a company saved a new version of its consent text
	// in one language (versions are never changed, only added).
	ConsentTextSaved Action = "consent.text_saved"
	// ConsentLogExported: the consent log was downloaded (CSV) for the
	// company's privacy contact; "count" entries.
	ConsentLogExported Action = "consent_log.exported"
	// ConsentLogPruned: entries older than the ten years the consent log
	// keeps them were deleted.
	ConsentLogPruned Action = "consent_log.pruned"
	// SubjectLinkRequested: someone asked on a company's privacy page for
	// the self-service link (the record names the candidate only when the
	// address is theirs; the page answers the same either way).
	SubjectLinkRequested Action = "subject.link_requested"
	// SubjectRequested: a data subject's request (access, export,
	// rectification, withdrawal, erasure) entered the register, answered at
	// once (status done) or waiting for the company (open).
	SubjectRequested Action = "subject.requested"
	// SubjectRequestAnswered: the company approved or refused a waiting request.
	SubjectRequestAnswered Action = "subject.request_answered"
	// CandidateExported: a copy of everything held about a candidate (Art.
	// 15/20) was downloaded, by the candidate or a colleague.
	CandidateExported Action = "candidate.exported"
	// CandidateRectified: the candidate corrected their contact details
	// through the self-service page (the fields, never the values).
	CandidateRectified Action = "candidate.rectified"
	// BreachRecorded, BreachChanged, BreachNotified: the breach register
	// (Art. 33/34): an incident recorded (by hand or from a security
	// alert), its record changed (which fields), and the notification of
	// the supervisory authority or of the data subjects recorded.
	BreachRecorded Action = "breach.recorded"
	BreachChanged  Action = "breach.changed"
	BreachNotified Action = "breach.notified"
	// ImportStarted, ImportFinished: an import of candidates from another
	// system (a file) started or continued, and ended (counts only).
	ImportStarted  Action = "import.started"
	ImportFinished Action = "import.finished"
	// ImportMappingSaved: a company saved a named column mapping for imports.
	ImportMappingSaved Action = "import.mapping_saved"
	// WebhookCreated, WebhookChanged, WebhookDeleted, WebhookSecretRotated,
	// WebhookReplayed: a company's webhook subscriptions (the URL is never
	// in the trail: the record names the subscription and what changed),
	// and a delivery sent again by hand ("delivery" names it).
	WebhookCreated       Action = "webhook.created"
	WebhookChanged       Action = "webhook.changed"
	WebhookDeleted       Action = "webhook.deleted"
	WebhookSecretRotated Action = "webhook.secret_rotated"
	WebhookReplayed      Action = "webhook.replayed"
	// DocumentAdded: a colleague added a document to an application (the
	// API's upload); its kind and type, never its name or content.
	DocumentAdded Action = "document.added"

	// The whistleblowing channel (internal/whistle). The reporter's side
	// writes no record (no trace of when a reporter acted); what handlers
	// do with a case is recorded, each time by case id only.
	// ChannelCreated, ChannelChanged: a reporting channel's settings.
	ChannelCreated Action = "case_channel.created"
	ChannelChanged Action = "case_channel.changed"
	// CaseSettingsChanged: the company's whistleblowing settings ("setting" names which).
	CaseSettingsChanged Action = "case_settings.changed"
	// CaseKeyEnrolled, CaseKeyUnlocked, CaseKeyUnlockFailed, CaseKeyRecovered,
	// CaseKeyRecoveryRenewed: a handler's case key ("via" the password, the
	// recovery key or the escrow's shares).
	CaseKeyEnrolled        Action = "case_key.enrolled"
	CaseKeyUnlocked        Action = "case_key.unlocked"
	CaseKeyUnlockFailed    Action = "case_key.unlock_failed"
	CaseKeyRecovered       Action = "case_key.recovered"
	CaseKeyRecoveryRenewed Action = "case_key.recovery_renewed"
	// CaseEscrowSetUp: the company's key escrow split among custodians.
	CaseEscrowSetUp Action = "case_escrow.set_up"
	// CaseOpened: a handler opened a case (read its content).
	CaseOpened Action = "case.opened"
	// CaseAcknowledged: the report's receipt was acknowledged.
	CaseAcknowledged    Action = "case.acknowledged"
	CaseMessageSent     Action = "case.message_sent"
	CaseNoteAdded       Action = "case.note_added"
	CaseStatusChanged   Action = "case.status_changed"
	CaseLegalHold       Action = "case.legal_hold"
	CaseAssigned        Action = "case.assigned"
	CaseHandlerExcluded Action = "case.handler_excluded"
	// CaseRedacted: a redacted copy of an entry was made (how many places masked).
	CaseRedacted   Action = "case.redacted"
	CaseFileOpened Action = "case.file_opened"
	// CaseDeleted: the retention ran out; rows, keys and files deleted.
	CaseDeleted Action = "case.deleted"
	// CaseArchived, CaseArchiveExported: the archive bundle made, and fetched by the archive system.
	CaseArchived        Action = "case.archived"
	CaseArchiveExported Action = "case.archive_exported"
)

// DetailKind is the type of a detail value. There is deliberately no free
// text kind: details must never carry names, emails or other personal content.
type DetailKind int

// Detail kinds.
const (
	// Enum is one of a fixed list of values.
	Enum DetailKind = iota + 1
	// EnumList is a comma-separated list of values of a fixed list.
	EnumList
	// Int is a decimal integer.
	Int
	// ID is an identifier: letters, digits and . _ : - (no spaces), at most 100.
	ID
	// Bool is true or false.
	Bool
	// IP is an IP address (security track only).
	IP
)

// Detail declares a detail an action may carry.
type Detail struct {
	Name   string
	Kind   DetailKind
	Values []string // for Enum and EnumList
}

// Spec describes an action.
type Spec struct {
	Track   Track
	Details []Detail
	// Mass marks exports and erasures whose "count" detail the mass-activity alert watches.
	Mass bool
}

var (
	ipDetail       = Detail{Name: "ip", Kind: IP}
	languageValues = []string{"", "en", "sv", "nb", "sk", "cs"}
	moduleValues   = []string{"recruitment", "whistleblowing", "statistics", "api"}
	trackValues    = []string{"history", "business", "security", "gdpr", "consent", "admin"}
)

// Details of password attempts and locks.
var (
	// deviceDetail: the attempt came from a browser its user had signed in
	// with before (a valid device cookie), whose failures count apart.
	deviceDetail = Detail{Name: "device", Kind: Bool}
	// lockScopeDetail: what a lock holds, the account (for browsers not
	// signed in with before) or one such browser.
	lockScopeDetail = Detail{Name: "scope", Kind: Enum, Values: []string{"account", "device"}}
)

// Catalogue maps each action to its spec.
var Catalogue = map[Action]Spec{
	SignInSucceeded: {Track: Security, Details: []Detail{ipDetail, {Name: "method", Kind: Enum, Values: []string{"password", "unlock_link"}},
		deviceDetail}},
	SignInFailed: {Track: Security, Details: []Detail{ipDetail,
		{Name: "reason", Kind: Enum, Values: []string{"unknown_login", "wrong_password", "disabled_account", "locked", "throttled", "service_user"}},
		{Name: "via", Kind: Enum, Values: []string{"sign_in", "reauthentication", "password_change", "unlock_link"}}, deviceDetail}},
	SignedOut:       {Track: Security, Details: []Detail{ipDetail}},
	PasswordChanged: {Track: Security, Details: []Detail{ipDetail, {Name: "forced", Kind: Bool}}},
	TenantCreated: {Track: Admin, Details: []Detail{{Name: "via", Kind: Enum, Values: []string{"setup", "cli", "demo", "seed"}},
		{Name: "modules", Kind: EnumList, Values: moduleValues}, {Name: "language", Kind: Enum, Values: languageValues}}},
	ModulesChanged: {Track: Admin, Details: []Detail{{Name: "modules", Kind: EnumList, Values: moduleValues}}},
	TenantSettingsChanged: {Track: Admin, Details: []Detail{{Name: "password_profile", Kind: Enum, Values: []string{"standard", "strict"}}, {Name: "require_mfa", Kind: Bool}, {Name: "fields", Kind: EnumList, Values: []string{"name", "default_language", "password_profile", "require_mfa", "require_mfa_roles", "free_publications", "publication_cost", "session_idle", "session_absolute", "alerts", "retention", "time_zone", "privacy_contact", "career_colour", "career_logo",
		"purpose_months", "consent_months", "erase_on_archive", "erasure_approval", "registration_number", "processors", "transfers"}}}},
	AccountLocked:          {Track: Security, Details: []Detail{ipDetail, {Name: "failures", Kind: Int}, {Name: "until", Kind: ID}, lockScopeDetail}},
	AccountUnlocked:        {Track: Security, Details: []Detail{ipDetail, {Name: "via", Kind: Enum, Values: []string{"email_link", "operator"}}}},
	PasswordResetRequested: {Track: Security, Details: []Detail{ipDetail}},
	Reauthenticated:        {Track: Security, Details: []Detail{ipDetail}},
	APITokenCreated:        {Track: Security, Details: []Detail{permissionsDetail, {Name: "expires", Kind: Bool}}},
	APITokenRevoked:        {Track: Security},
	UserInvited:            {Track: Admin, Details: []Detail{{Name: "role", Kind: ID}, candidateAccessDetail}},
	UserRoleChanged:        {Track: Admin, Details: []Detail{{Name: "role", Kind: ID}, {Name: "previous_role", Kind: ID}, candidateAccessDetail}},
	InvitationAccepted:     {Track: Admin, Details: []Detail{{Name: "role", Kind: ID}}},
	MFAEnabled:             {Track: Security, Details: []Detail{ipDetail, {Name: "method", Kind: Enum, Values: []string{"totp", "email", "webauthn", "sms"}}}},
	MFADisabled:            {Track: Security, Details: []Detail{ipDetail, {Name: "method", Kind: Enum, Values: []string{"totp", "email", "sms"}}}},
	MFASucceeded:           {Track: Security, Details: []Detail{ipDetail, {Name: "method", Kind: Enum, Values: []string{"totp", "recovery_code", "email", "webauthn", "sms"}}}},
	MFAFailed:              {Track: Security, Details: []Detail{ipDetail, {Name: "failures", Kind: Int}, {Name: "reason", Kind: Enum, Values: []string{"invalid", "locked"}}}},
	PasswordReset:          {Track: Security, Details: []Detail{ipDetail}},
	SessionRevoked:         {Track: Security, Details: []Detail{ipDetail, {Name: "scope", Kind: Enum, Values: []string{"one", "others"}}}},
	UserCreated: {Track: Admin, Details: []Detail{{Name: "role", Kind: ID}, {Name: "must_change_password", Kind: Bool},
		{Name: "via", Kind: Enum, Values: []string{"setup", "cli", "demo", "web", "seed"}}, {Name: "service", Kind: Bool},
		candidateAccessDetail}},
	UserDisabled:   {Track: Admin},
	UserEnabled:    {Track: Admin},
	ProfileChanged: {Track: Business, Details: []Detail{{Name: "language", Kind: Enum, Values: languageValues}}},
	AuditExported: {Track: Security, Mass: true, Details: []Detail{{Name: "format", Kind: Enum, Values: []string{"csv", "json"}},
		{Name: "count", Kind: Int}, {Name: "track", Kind: Enum, Values: append([]string{""}, trackValues...)}}},
	AuditPruned: {Track: Business, Details: []Detail{{Name: "track", Kind: Enum, Values: trackValues}, {Name: "count", Kind: Int},
		{Name: "through_seq", Kind: Int}}},
	AlertRaised:       {Track: Security, Details: []Detail{{Name: "rule", Kind: Enum, Values: ruleNames()}, {Name: "count", Kind: Int}}},
	AlertAcknowledged: {Track: Security, Details: []Detail{{Name: "rule", Kind: Enum, Values: ruleNames()}}},
	RoleCreated:       {Track: Admin, Details: []Detail{permissionsDetail}},
	RoleChanged:       {Track: Admin, Details: []Detail{permissionsDetail, candidateAccessDetail}},
	RoleDeleted:       {Track: Admin},
	UserRightsChanged: {Track: Admin, Details: []Detail{{Name: "rights", Kind: EnumList, Values: access.Names()}, candidateAccessDetail}},
	AccessDecided: {Track: Security, Details: []Detail{{Name: "permission", Kind: Enum, Values: access.Names()},
		{Name: "decision", Kind: Enum, Values: []string{"allow", "forbidden", "hidden"}}}},
	CreditsGranted:    {Track: Business, Details: creditDetails},
	CreditsSpent:      {Track: Business, Details: creditDetails},
	CreditsRefunded:   {Track: Business, Details: creditDetails},
	CreditLimitSet:    {Track: Business, Details: []Detail{{Name: "limit", Kind: Int}, {Name: "unlimited", Kind: Bool}}},
	PositionCreated:   {Track: History},
	PositionChanged:   {Track: History},
	PositionShared:    {Track: History, Details: []Detail{{Name: "members", Kind: Int}}},
	PositionPublished: {Track: History, Details: []Detail{{Name: "credits", Kind: Int}, {Name: "first", Kind: Bool}}},
	PositionClosed:    {Track: History},
	ApplicationCreated: {Track: History, Details: []Detail{{Name: "via", Kind: Enum, Values: []string{"staff", "career_page", "demo", "match", "import"}},
		{Name: "stage", Kind: Enum, Values: stageValues}}},
	StageChanged: {Track: History, Details: []Detail{{Name: "stage", Kind: Enum, Values: stageValues}, {Name: "previous_stage", Kind: Enum, Values: stageValues},
		{Name: "reason", Kind: ID}}},
	ApplicationRated:   {Track: History, Details: []Detail{{Name: "rating", Kind: Enum, Values: []string{"invite", "not_suitable", "later"}}}},
	ApplicationLabeled: {Track: History, Details: []Detail{{Name: "added", Kind: Bool}}},
	TaskChanged:        {Track: History, Details: []Detail{{Name: "done", Kind: Bool}}},
	NoteAdded:          {Track: History},
	TemplateChanged: {Track: Admin, Details: []Detail{{Name: "kind", Kind: Enum, Values: []string{"acknowledgement", "rejection", "invitation"}},
		{Name: "language", Kind: Enum, Values: languageValues}, {Name: "reset", Kind: Bool}}},
	ApplicationCommented: {Track: History},
	InterviewScheduled:   {Track: History, Details: []Detail{{Name: "minutes", Kind: Int}, {Name: "participants", Kind: Int}}},
	InterviewAnswered:    {Track: History, Details: []Detail{{Name: "answer", Kind: Enum, Values: []string{"accepted", "declined", "new_time_requested"}}}},
	ConsentRecorded: {Track: Consent, Details: []Detail{{Name: "purpose", Kind: Enum, Values: []string{"talent_pool"}},
		{Name: "granted", Kind: Bool}, {Name: "event", Kind: Enum, Values: []string{"granted", "refused", "withdrawn"}}, {Name: "text_version", Kind: ID},
		{Name: "via", Kind: Enum, Values: []string{"career_page", "email_link", "request", "renewal", "manual", "self_service", "import"}}}},
	CandidateErased: {Track: GDPR, Mass: true, Details: []Detail{{Name: "reason", Kind: Enum, Values: []string{"manual", "position_archived", "purpose_ended", "consent_ended", "subject_request"}},
		{Name: "count", Kind: Int}}},
	ConsentRequested: {Track: Consent, Details: []Detail{{Name: "purpose", Kind: Enum, Values: []string{"talent_pool"}},
		{Name: "text_version", Kind: ID}, {Name: "kind", Kind: Enum, Values: []string{"request", "renewal"}}}},
	ConsentTextSaved: {Track: Consent, Details: []Detail{{Name: "purpose", Kind: Enum, Values: []string{"talent_pool"}},
		{Name: "language", Kind: Enum, Values: languageValues}, {Name: "text_version", Kind: ID}}},
	ConsentLogExported:       {Track: GDPR, Mass: true, Details: []Detail{{Name: "format", Kind: Enum, Values: []string{"csv"}}, {Name: "count", Kind: Int}}},
	ConsentLogPruned:         {Track: GDPR, Details: []Detail{{Name: "count", Kind: Int}}},
	CandidateInvitedToApply:  {Track: History},
	ApplicationResubmitted:   {Track: History, Details: []Detail{{Name: "via", Kind: Enum, Values: []string{"career_page"}}}},
	CandidateChangeProposed:  {Track: History, Details: []Detail{candidateFields}},
	CandidateChangeAccepted:  {Track: History, Details: []Detail{candidateFields}},
	CandidateChangeDismissed: {Track: History, Details: []Detail{candidateFields}},
	SubjectLinkRequested:     {Track: GDPR},
	SubjectRequested: {Track: GDPR, Details: []Detail{subjectRequestKind, {Name: "status", Kind: Enum, Values: []string{"open", "done"}},
		candidateFields, {Name: "via", Kind: Enum, Values: []string{"self_service"}}}},
	SubjectRequestAnswered: {Track: GDPR, Details: []Detail{subjectRequestKind, {Name: "status", Kind: Enum, Values: []string{"done", "refused"}}}},
	CandidateExported: {Track: GDPR, Mass: true, Details: []Detail{{Name: "via", Kind: Enum, Values: []string{"self_service", "staff"}},
		{Name: "count", Kind: Int}, {Name: "files", Kind: Int}}},
	CandidateRectified: {Track: History, Details: []Detail{candidateFields}},
	CandidateProfileChanged: {Track: History, Details: []Detail{{Name: "fields", Kind: EnumList, Values: []string{"title", "employer", "city", "country",
		"skills", "languages", "linkedin", "portfolio", "notice", "salary", "phone"}}, {Name: "via", Kind: Enum, Values: []string{"staff", "career_page", "import"}}}},
	BreachRecorded: {Track: GDPR, Details: []Detail{{Name: "via", Kind: Enum, Values: []string{"manual", "alert"}}}},
	BreachChanged: {Track: GDPR, Details: []Detail{{Name: "fields", Kind: EnumList, Values: breachFields},
		{Name: "status", Kind: Enum, Values: []string{"open", "contained", "closed"}}}},
	BreachNotified: {Track: GDPR, Details: []Detail{{Name: "recipient", Kind: Enum, Values: []string{"authority", "subjects"}},
		{Name: "late", Kind: Bool}}},
	ImportStarted: {Track: Business, Details: []Detail{{Name: "format", Kind: Enum, Values: []string{"csv", "jsonl"}}, {Name: "rows", Kind: Int},
		{Name: "resumed", Kind: Bool}}},
	ImportFinished: {Track: Business, Details: []Detail{{Name: "status", Kind: Enum, Values: []string{"done", "failed"}}, {Name: "created", Kind: Int},
		{Name: "merged", Kind: Int}, {Name: "skipped", Kind: Int}, {Name: "problems", Kind: Int}}},
	ImportMappingSaved:   {Track: Admin},
	WebhookCreated:       {Track: Admin, Details: []Detail{webhookEvents, {Name: "active", Kind: Bool}}},
	WebhookChanged:       {Track: Admin, Details: []Detail{{Name: "fields", Kind: EnumList, Values: []string{"url", "description", "events", "active"}}, webhookEvents, {Name: "active", Kind: Bool}}},
	WebhookDeleted:       {Track: Admin},
	WebhookSecretRotated: {Track: Admin},
	WebhookReplayed:      {Track: Admin, Details: []Detail{{Name: "delivery", Kind: ID}, {Name: "event", Kind: Enum, Values: WebhookEventTypes}}},
	DocumentAdded: {Track: History, Details: []Detail{{Name: "kind", Kind: Enum, Values: []string{"cv", "attachment"}},
		{Name: "type", Kind: Enum, Values: []string{"pdf", "docx", "odt", "txt", "jpeg", "png"}}}},
	ChannelCreated:         {Track: Admin, Details: []Detail{{Name: "active", Kind: Bool}}},
	ChannelChanged:         {Track: Admin, Details: []Detail{{Name: "active", Kind: Bool}}},
	CaseSettingsChanged:    {Track: Admin, Details: []Detail{{Name: "setting", Kind: Enum, Values: []string{"archive_recipient"}}}},
	CaseKeyEnrolled:        {Track: Security, Details: []Detail{{Name: "replaced", Kind: Bool}}},
	CaseKeyUnlocked:        {Track: Security, Details: []Detail{caseKeyVia}},
	CaseKeyUnlockFailed:    {Track: Security, Details: []Detail{caseKeyVia}},
	CaseKeyRecovered:       {Track: Security, Details: []Detail{caseKeyVia}},
	CaseKeyRecoveryRenewed: {Track: Security},
	CaseEscrowSetUp:        {Track: Security, Details: []Detail{{Name: "shares", Kind: Int}, {Name: "threshold", Kind: Int}}},
	CaseOpened:             {Track: Business},
	CaseAcknowledged:       {Track: Business, Details: []Detail{{Name: "channel", Kind: ID}}},
	CaseMessageSent:        {Track: Business, Details: []Detail{{Name: "feedback", Kind: Bool}, {Name: "files", Kind: Int}}},
	CaseNoteAdded:          {Track: Business},
	CaseStatusChanged: {Track: Business, Details: []Detail{{Name: "status", Kind: Enum, Values: []string{"acknowledged", "investigating", "concluded", "closed"}},
		{Name: "outcome", Kind: Enum, Values: []string{"", "substantiated", "partly_substantiated", "not_substantiated", "no_action", "referred", "withdrawn"}}}},
	CaseLegalHold:       {Track: Business, Details: []Detail{{Name: "hold", Kind: Bool}}},
	CaseAssigned:        {Track: Business, Details: []Detail{{Name: "user", Kind: ID}}},
	CaseHandlerExcluded: {Track: Business, Details: []Detail{{Name: "user", Kind: ID}}},
	CaseRedacted:        {Track: Business, Details: []Detail{{Name: "entry", Kind: Int}, {Name: "masked", Kind: Int}}},
	CaseFileOpened:      {Track: Business, Details: []Detail{{Name: "file", Kind: ID}}},
	CaseDeleted:         {Track: Business},
	CaseArchived:        {Track: Business},
	CaseArchiveExported: {Track: Business},
}

var caseKeyVia = Detail{Name: "via", Kind: Enum, Values: []string{"password", "recovery", "escrow"}}

// candidateAccessDetail: the change opened candidate data to someone who
// did not have it (access.GivesCandidateAccess); it raises an alert.
var candidateAccessDetail = Detail{Name: "candidate_access", Kind: Bool}

var (
	permissionsDetail = Detail{Name: "permissions", Kind: EnumList, Values: access.Names()}
	creditDetails     = []Detail{{Name: "amount", Kind: Int}, {Name: "balance", Kind: Int},
		{Name: "reason", Kind: Enum, Values: []string{"purchase", "correction", "publication", "refund"}}}
	stageValues = func() []string {
		out := make([]string, len(access.StageKinds))
		for i, k := range access.StageKinds {
			out[i] = string(k)
		}
		return out
	}()
)

// WebhookEventTypes are the business events a webhook may subscribe to
// (internal/webhook's catalogue; declared here so the trail's details stay
// a closed set).
var WebhookEventTypes = []string{"application.created", "application.stage_changed", "application.rejected", "candidate.erased",
	"consent.expiring", "case.acknowledged"}

var webhookEvents = Detail{Name: "events", Kind: EnumList, Values: WebhookEventTypes}

// breachFields names the fields of a breach record a change touches.
var breachFields = []string{"title", "description", "occurred_at", "discovered_at", "subject_categories", "data_categories",
	"subjects_count", "records_count", "consequences", "measures", "contact", "status", "authority_notified_at", "authority_how",
	"authority_reason", "delay_reason", "subjects_decision", "subjects_reason", "subjects_notified_at"}

// subjectRequestKind is the kind of a data subject's request.
var subjectRequestKind = Detail{Name: "kind", Kind: Enum, Values: []string{"access", "export", "rectify", "withdraw", "erasure"}}

// candidateFields names the contact details a proposed change touches.
var candidateFields = Detail{Name: "fields", Kind: EnumList, Values: []string{"name", "phone"}}

// ActorKind says what kind of actor acted.
type ActorKind string

// Actor kinds.
const (
	ActorUser      ActorKind = "user"
	ActorAPIToken  ActorKind = "api_token"
	ActorCandidate ActorKind = "candidate"
	ActorReporter  ActorKind = "reporter"
	ActorSystem    ActorKind = "system"
	ActorOperator  ActorKind = "operator"
	// ActorAnonymous is someone not identified, e.g. a sign-in with an unknown login.
	ActorAnonymous ActorKind = "anonymous"
)

// ActorKinds lists every actor kind.
var ActorKinds = []ActorKind{ActorUser, ActorAPIToken, ActorCandidate, ActorReporter, ActorSystem, ActorOperator, ActorAnonymous}

// ObjectKinds are the kinds of object a record may refer to. A closed list:
// the trail finds an object's records by (kind, id), and a search by id
// alone looks in each kind.
var ObjectKinds = []string{"alert", "api_token", "application", "audit_record", "breach", "candidate", "case", "channel", "comment", "credit_entry", "document",
	"import", "interview", "note", "position", "role", "session", "subject_request", "task", "tenant", "user", "webhook"}
