package web

import (
	"net/http"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/account"
	"github.com/kandidat/kandidat/internal/tenant"
)

// router is a ServeMux that remembers its patterns, so tests can walk
// every route (the tenant-isolation test fails on a route it does not know).
type router struct {
	*http.ServeMux
	patterns []string
}

func (r *router) Handle(pattern string, h http.Handler) {
	r.patterns = append(r.patterns, pattern)
	r.ServeMux.Handle(pattern, h)
}

func (r *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	r.Handle(pattern, http.HandlerFunc(h))
}

// RoutePatterns lists the pattern of every route, in registration order.
func (s *Server) RoutePatterns() []string { return s.routes().patterns }

// apiRoutes registers every API operation, resource by resource.
func (s *Server) apiRoutes(a *apiRouter) {
	s.apiPositions(a)
	s.apiDocuments(a)
	s.apiPrivacy(a)
	s.apiAudit(a)
	s.apiUsers(a)
	s.apiWebhooks(a)
	s.apiApplications(a)
	s.apiCandidates(a)
	s.apiCases(a)
}

// routes lists every route of the application in one place.
func (s *Server) routes() *router {
	mux := &router{ServeMux: http.NewServeMux()}

	// Operations.
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.requireMetricsToken(s.metricsHandler()))
	// The installation's backups, for the operator: here only to bearers
	// of the metrics token (the admin address serves it as /backups).
	mux.Handle("GET /operator/backups", s.requireMetricsToken(http.HandlerFunc(s.handleBackups)))
	mux.Handle("GET /static/", s.handleStatic())

	// First run.
	mux.HandleFunc("GET /setup/{token}", s.handleSetupForm)
	mux.HandleFunc("POST /setup/{token}", s.handleSetup)

	// Language of a visitor who has not signed in.
	mux.HandleFunc("GET /language/{lang}", s.handleLanguage)

	// Sign-in.
	mux.HandleFunc("GET /{$}", s.handleRoot)
	mux.HandleFunc("GET /signin", s.handleSignInForm)
	mux.HandleFunc("POST /signin", s.handleSignIn)
	mux.Handle("POST /signout", s.signedIn(s.handleSignOut))
	mux.Handle("GET /signin/mfa", s.signedIn(s.handleMFAForm))
	mux.Handle("POST /signin/mfa", s.signedIn(s.handleMFA))
	mux.Handle("POST /signin/mfa/webauthn/begin", s.signedIn(s.handlePasskeySignInBegin))
	mux.Handle("POST /signin/mfa/webauthn/finish", s.signedIn(s.handlePasskeySignInFinish))
	mux.HandleFunc("GET /password/forgot", s.handleForgotForm)
	mux.HandleFunc("POST /password/forgot", s.handleForgot)
	mux.HandleFunc("GET /password/reset/{token}", s.handleResetForm)
	mux.HandleFunc("POST /password/reset/{token}", s.handleReset)
	mux.HandleFunc("GET /unlock/{token}", s.handleUnlockForm)
	mux.HandleFunc("POST /unlock/{token}", s.handleUnlock)
	mux.Handle("GET /password", s.signedIn(s.handlePasswordForm))
	mux.Handle("POST /password", s.signedIn(s.handlePasswordChange))

	// Staff application.
	mux.Handle("GET /dashboard", s.staff(s.handleDashboard))
	mux.Handle("GET /profile", s.staff(s.handleProfileForm))
	mux.Handle("POST /profile", s.staff(s.handleProfile))
	mux.Handle("GET /account/security", s.staff(s.handleSecurity))
	// Sensitive settings ask for the password again after ten minutes.
	mux.Handle("GET /reauth", s.staff(s.handleReauthForm))
	mux.Handle("POST /reauth", s.staff(s.handleReauth))
	mux.Handle("GET /account/mfa", s.recentAuth("/account/mfa", s.handleMFASettings))
	mux.Handle("POST /account/mfa/totp", s.recentAuth("/account/mfa", s.handleTOTPBegin))
	mux.Handle("POST /account/mfa/totp/confirm", s.recentAuth("/account/mfa", s.handleTOTPConfirm))
	mux.Handle("POST /account/mfa/totp/disable", s.recentAuth("/account/mfa", s.handleTOTPDisable))
	mux.Handle("POST /account/mfa/email", s.recentAuth("/account/mfa", s.handleEmailMFABegin))
	mux.Handle("POST /account/mfa/sms", s.recentAuth("/account/mfa", s.handleSMSMFABegin))
	mux.Handle("POST /account/mfa/sms/confirm", s.recentAuth("/account/mfa", s.handleCodeFactorConfirm(s.Accounts.ConfirmSMSMFA, mfaData{SMSSent: true})))
	mux.Handle("POST /account/mfa/sms/disable", s.recentAuth("/account/mfa", s.handleCodeFactorDisable(s.Accounts.DisableSMSMFA)))
	mux.Handle("POST /account/mfa/webauthn/begin", s.recentAuth("/account/mfa", s.handlePasskeyRegisterBegin))
	mux.Handle("POST /account/mfa/webauthn/finish", s.recentAuth("/account/mfa", s.handlePasskeyRegisterFinish))
	mux.Handle("POST /account/mfa/email/confirm", s.recentAuth("/account/mfa", s.handleCodeFactorConfirm(s.Accounts.ConfirmEmailMFA, mfaData{EmailSent: true})))
	mux.Handle("POST /account/mfa/email/disable", s.recentAuth("/account/mfa", s.handleCodeFactorDisable(s.Accounts.DisableEmailMFA)))
	mux.Handle("POST /account/sessions/{id}/revoke", s.staff(s.handleSessionRevoke))
	mux.Handle("POST /account/sessions/revoke-others", s.staff(s.handleSessionsRevokeOthers))

	// Users of the company and invitations.
	mux.Handle("GET /users", s.permitted(access.ManageUsers, s.handleUsers))
	mux.Handle("POST /users/invite", s.permitted(access.ManageUsers, s.handleInvite))
	mux.Handle("POST /users/{id}/disable", s.permitted(access.ManageUsers, s.handleUserStatus(account.Disabled)))
	mux.Handle("POST /users/{id}/enable", s.permitted(access.ManageUsers, s.handleUserStatus(account.Active)))
	mux.Handle("POST /users/{id}/role", s.permitted(access.ManageUsers, s.handleUserRole))
	mux.Handle("POST /users/{id}/rights", s.permitted(access.ManageUsers, s.handleUserRights))
	mux.HandleFunc("GET /invite/{token}", s.handleInviteForm)
	mux.HandleFunc("POST /invite/{token}", s.handleInviteAccept)

	// Custom roles and the permission matrix.
	mux.Handle("GET /roles", s.permitted(access.ManageRoles, s.handleRoles))
	mux.Handle("POST /roles", s.permitted(access.ManageRoles, s.handleRoleSave))
	mux.Handle("GET /roles/{id}", s.permitted(access.ManageRoles, s.handleRole))
	mux.Handle("POST /roles/{id}", s.permitted(access.ManageRoles, s.handleRoleSave))
	mux.Handle("POST /roles/{id}/delete", s.permitted(access.ManageRoles, s.handleRoleDelete))

	// The company's settings: its profile (name, language, time zone,
	// privacy contact, career page colour) for company.profile; sign-in
	// security, session timeouts, alerts, retention and the publication
	// allowance for company.settings, after a recent password.
	mux.Handle("GET /settings", s.settingsAccess(s.handleSettings))
	mux.Handle("POST /settings", s.companySettings(s.handleSecuritySave))
	mux.Handle("POST /settings/profile", s.permitted(access.CompanyProfile, s.handleProfileSave))
	mux.Handle("POST /settings/logo", s.permitted(access.CompanyProfile, s.handleLogoSave))

	// Credits.
	mux.Handle("GET /credits", s.permitted(access.ManageCredits, s.handleCredits))
	// How many credits a user may spend in a month. (Credits are added and
	// spendings refunded by the operator, `kandidat credits add|refund`,
	// never from the company's side.)
	mux.Handle("POST /users/{id}/credit-limit", s.permitted(access.ManageCredits, s.handleCreditLimit))

	// Recruitment: positions, applications, the shared pool. The recruit
	// service decides on every object; the pages exist only when the
	// company has the recruitment module.
	module := func(h http.HandlerFunc) http.HandlerFunc { return s.requireModule(tenant.Recruitment, h).ServeHTTP }
	recruitment := func(h http.HandlerFunc) http.Handler { return s.staff(module(h)) }
	recruitmentFor := func(p access.Permission, h http.HandlerFunc) http.Handler { return s.permitted(p, module(h)) }
	mux.Handle("GET /positions", recruitmentFor(access.ViewPositions, s.handlePositions))
	mux.Handle("POST /positions", recruitmentFor(access.CreatePositions, s.handlePositionCreate))
	mux.Handle("GET /positions/{id}", recruitment(s.handlePosition))
	mux.Handle("POST /positions/{id}", recruitment(s.handlePositionEdit))
	mux.Handle("POST /positions/{id}/share", recruitment(s.handlePositionShare))
	mux.Handle("POST /positions/{id}/stages", recruitment(s.handlePositionStages))
	mux.Handle("POST /positions/{id}/publish", recruitment(s.handlePositionPublish))
	mux.Handle("POST /positions/{id}/close", recruitment(s.handlePositionStatus(s.Recruit.Close)))
	mux.Handle("POST /positions/{id}/archive", recruitment(s.handlePositionStatus(s.Recruit.Archive)))
	mux.Handle("POST /positions/{id}/applications", recruitment(s.handleCandidateAdd))
	// The pool ranked for a position, and actions on a selection of it.
	mux.Handle("GET /positions/{id}/matches", recruitment(s.handleMatches))
	mux.Handle("POST /positions/{id}/matches", recruitment(s.handleMatchesAction))
	mux.Handle("GET /applications/{id}", recruitment(s.handleApplication))
	// Everything held about the application's candidate, as a zip (Art. 15/20).
	mux.Handle("GET /applications/{id}/export", recruitment(s.handleCandidateExport))
	mux.Handle("POST /applications/{id}/stage", recruitment(s.handleStageMove))
	mux.Handle("POST /applications/{id}/comments", recruitment(s.handleComment))
	mux.Handle("GET /pool", recruitmentFor(access.ViewSharedPool, s.handlePool))
	mux.Handle("GET /candidates", recruitment(s.handleCandidates))
	mux.Handle("POST /candidates/searches", recruitment(s.handleSavedSearchSave))
	mux.Handle("POST /candidates/searches/{id}/delete", recruitment(s.handleSavedSearchDelete))
	mux.Handle("GET /settings/templates", recruitmentFor(access.CompanyProfile, s.handleTemplates))
	mux.Handle("POST /settings/templates", recruitmentFor(access.CompanyProfile, s.handleTemplateSave))
	mux.Handle("GET /settings/stages", recruitmentFor(access.CompanyProfile, s.handleStageTemplate))
	mux.Handle("GET /settings/reasons", recruitmentFor(access.CompanyProfile, s.handleReasons))
	mux.Handle("POST /settings/reasons", recruitmentFor(access.CompanyProfile, s.handleReasonsSave))
	mux.Handle("POST /settings/stages", recruitmentFor(access.CompanyProfile, s.handleStageTemplateSave))

	// Webhooks (api module, api.tokens): subscriptions, their signing
	// secrets shown once, the delivery log and replays.
	webhooks := func(h http.HandlerFunc) http.Handler {
		return s.permitted(access.ManageAPITokens, s.requireModule(tenant.API, h).ServeHTTP)
	}
	mux.Handle("GET /settings/webhooks", webhooks(s.handleWebhooks))
	mux.Handle("POST /settings/webhooks", webhooks(s.handleWebhookCreate))
	mux.Handle("GET /settings/webhooks/{id}", webhooks(s.handleWebhook))
	mux.Handle("POST /settings/webhooks/{id}", webhooks(s.handleWebhookSave))
	mux.Handle("POST /settings/webhooks/{id}/delete", webhooks(s.handleWebhookDelete))
	mux.Handle("POST /settings/webhooks/{id}/rotate", webhooks(s.handleWebhookRotate))
	mux.Handle("POST /settings/webhooks/deliveries/{id}/replay", webhooks(s.handleWebhookReplay))
	// API tokens (api module, api.tokens): the list and revocation; a new
	// token (its secret shown once) and a service user after a recent
	// password (ui_tokens.go).
	mux.Handle("GET /settings/api-tokens", webhooks(s.handleTokens))
	mux.Handle("GET /settings/api-tokens/new", webhooks(s.freshAuth("/settings/api-tokens/new", s.handleTokenNew)))
	mux.Handle("POST /settings/api-tokens", webhooks(s.freshAuth("/settings/api-tokens/new", s.handleTokenCreate)))
	mux.Handle("POST /settings/api-tokens/{id}/revoke", webhooks(s.handleTokenRevoke))
	mux.Handle("POST /settings/api-tokens/service-users", webhooks(s.freshAuth("/settings/api-tokens", s.handleServiceUserCreate)))
	mux.Handle("POST /candidates/bulk", recruitmentFor(access.MoveStage, s.handleBulk))
	mux.Handle("POST /candidates/erase", recruitmentFor(access.EraseCandidates, s.handleEraseSelection))
	mux.Handle("GET /applications/{id}/erase", recruitmentFor(access.EraseCandidates, s.handleEraseForm))
	mux.Handle("POST /applications/{id}/erase", recruitmentFor(access.EraseCandidates, s.handleErase))
	// Import from another ATS (every position and adding candidates: an
	// HR manager): upload, map and dry run, start, and the progress.
	importing := func(h http.HandlerFunc) http.Handler {
		return recruitmentFor(access.AllPositions, func(w http.ResponseWriter, r *http.Request) {
			if !stateOf(r).principal.Can(access.AddCandidates) {
				s.renderError(w, r, http.StatusForbidden)
				return
			}
			h(w, r)
		})
	}
	mux.Handle("GET /imports", importing(s.handleImports))
	mux.Handle("POST /imports", importing(s.handleImportUpload))
	mux.Handle("GET /imports/{id}", importing(s.handleImport))
	mux.Handle("POST /imports/{id}/check", importing(s.handleImportCheck))
	mux.Handle("POST /imports/{id}/start", importing(s.handleImportStart))
	mux.Handle("GET /imports/{id}/progress", importing(s.handleImportProgress))
	// Candidates whose processing bases end within the notice period
	// (privacy.settings or applications.view; each sees whom they may).
	mux.Handle("GET /privacy/expiring", recruitment(s.handlePrivacyExpiring))

	// The public career page of each company.
	mux.HandleFunc("GET /careers/{company}", s.handleCareers)
	mux.HandleFunc("GET /careers/{company}/theme.css", s.handleCareerTheme)
	mux.HandleFunc("GET /careers/{company}/logo", s.handleCareerLogo)
	// The company's privacy notice (controller, purposes, retention, rights).
	mux.HandleFunc("GET /careers/{company}/privacy-notice", s.handlePrivacyNotice)
	// A candidate asks here for the link to their data (the same answer
	// whether the address is known); the link's button starts a short
	// self-service session (its own cookie) under /my-data.
	mux.HandleFunc("GET /careers/{company}/privacy", s.handleSubjectAsk)
	mux.HandleFunc("POST /careers/{company}/privacy", s.handleSubjectAskPost)
	mux.HandleFunc("GET /my-data/{token}", s.handleSubjectLink)
	mux.HandleFunc("POST /my-data/{token}", s.handleSubjectStart)
	mux.HandleFunc("GET /my-data", s.handleSubjectData)
	mux.HandleFunc("GET /my-data/export", s.handleSubjectExport)
	mux.HandleFunc("GET /my-data/erased", s.handleSubjectErased)
	mux.HandleFunc("POST /my-data/contact", s.handleSubjectContact)
	mux.HandleFunc("POST /my-data/withdraw", s.handleSubjectWithdraw)
	mux.HandleFunc("POST /my-data/erase", s.handleSubjectErase)
	mux.HandleFunc("POST /my-data/signout", s.handleSubjectSignOut)
	mux.HandleFunc("GET /careers/{company}/{position}", s.handleCareerPosition)
	mux.HandleFunc("POST /careers/{company}/{position}", s.handleApply)
	mux.HandleFunc("GET /careers/{company}/{position}/thanks", s.handleApplyThanks)
	// A talent-pool consent given on the career page counts once the
	// candidate confirms it through the emailed link.
	mux.HandleFunc("GET /consent/{token}", s.handleConsentForm)
	mux.HandleFunc("POST /consent/{token}", s.handleConsentConfirm)
	// A recruiter's request for consent (or its renewal), answered by the
	// candidate through the emailed link: the text and grant or refuse.
	mux.HandleFunc("GET /consent/r/{token}", s.handleConsentRequestForm)
	mux.HandleFunc("POST /consent/r/{token}", s.handleConsentRequestAnswer)
	// Consent on the card: entered by hand (given elsewhere) or withdrawn;
	// requests go through POST /privacy/consent-requests.
	mux.Handle("POST /applications/{id}/consent", recruitment(s.handleManualConsent))
	mux.Handle("POST /applications/{id}/consent/withdraw", recruitment(s.handleConsentWithdraw))
	// Requests for consent to the selected candidates (the card, the expiry
	// list): applications.move or privacy.settings; the service decides per candidate.
	mux.Handle("POST /privacy/consent-requests", s.staff(s.handleConsentRequests))
	// Contact details the career page proposed for a known candidate: accept or dismiss.
	mux.Handle("POST /applications/{id}/proposals", recruitment(s.handleProposal))
	mux.Handle("GET /documents/{id}", recruitment(s.handleDocument))
	mux.Handle("GET /documents/{id}/preview", recruitment(s.handleDocumentPreview))
	mux.Handle("GET /documents/{id}/text", recruitment(s.handleDocumentText))
	mux.Handle("POST /applications/{id}/interviews", recruitment(s.handleInterviewInvite))
	mux.Handle("POST /applications/{id}/rating", recruitment(s.handleRate))
	mux.Handle("POST /applications/{id}/labels", recruitment(s.handleLabel))
	mux.Handle("POST /applications/{id}/notes", recruitment(s.handleNote))
	mux.Handle("POST /applications/{id}/profile", recruitment(s.handleCandidateProfile))
	mux.Handle("POST /applications/{id}/tasks", recruitment(s.handleTaskAdd))
	mux.Handle("POST /tasks/{id}/done", recruitment(s.handleTaskDone))
	// A candidate's answer to an invitation, through the emailed link.
	mux.HandleFunc("GET /interview/{token}", s.handleInterviewAnswerForm)
	mux.HandleFunc("POST /interview/{token}", s.handleInterviewAnswer)

	// The whistleblowing channel's public side (ui_report.go): no account,
	// no JavaScript, no trace of the reporter (the middleware treats
	// /report/ apart). A report is filed with the channel's form and
	// answered with its receipt; with the receipt the reporter opens the
	// case (its own cookie), reads, answers and asks for a meeting.
	mux.HandleFunc("GET /report/{company}", s.handleReportIndex)
	mux.HandleFunc("GET /report/{company}/follow-up", s.handleFollowUpForm)
	mux.HandleFunc("POST /report/{company}/follow-up", s.handleFollowUp)
	mux.HandleFunc("POST /report/{company}/receipt.txt", s.handleReceiptDownload)
	mux.HandleFunc("GET /report/{company}/case", s.handleReportCase)
	mux.HandleFunc("POST /report/{company}/case", s.handleReportReply)
	mux.HandleFunc("POST /report/{company}/case/meeting", s.handleReportMeeting)
	mux.HandleFunc("POST /report/{company}/case/leave", s.handleReportLeave)
	mux.HandleFunc("GET /report/{company}/case/files/{id}", s.handleReportFile)
	mux.HandleFunc("GET /report/{company}/{channel}", s.handleReportForm)
	mux.HandleFunc("POST /report/{company}/{channel}", s.handleReportSubmit)

	// Audit trail and alerts.
	mux.Handle("GET /audit", s.permitted(access.ViewAudit, s.handleAudit))
	mux.Handle("GET /audit/security", s.permitted(access.ViewAudit, s.handleSecurityLog))
	mux.Handle("GET /audit/export/{format}", s.permitted(access.ViewAudit, s.handleAuditExport))
	mux.Handle("POST /alerts/{id}/acknowledge", s.permitted(access.ViewAudit, s.handleAlertAcknowledge))
	// A security alert may be a personal data breach: it opens a record of
	// the breach register (privacy.settings).
	mux.Handle("POST /alerts/{id}/breach", s.permitted(access.PrivacySettings, s.handleAlertBreach))

	// Privacy (privacy.settings): the hub of the privacy sections, the
	// company's policy, the records of processing (Art. 30) and the breach
	// register (Art. 33/34) with its notification texts.
	mux.Handle("GET /privacy", s.permitted(access.PrivacySettings, s.handlePrivacy))
	mux.Handle("GET /privacy/settings", s.permitted(access.PrivacySettings, s.handlePrivacySettings))
	// The company's consent texts (versioned per language), and the consent
	// log with its CSV export for the privacy contact.
	mux.Handle("GET /privacy/consent-texts", s.permitted(access.PrivacySettings, s.handleConsentTexts))
	mux.Handle("POST /privacy/consent-texts", s.permitted(access.PrivacySettings, s.handleConsentTextSave))
	mux.Handle("GET /privacy/consent-log", s.permitted(access.PrivacySettings, s.handleConsentLog))
	mux.Handle("GET /privacy/consent-log/export", s.permitted(access.PrivacySettings, s.handleConsentLogExport))
	mux.Handle("POST /privacy/settings", s.permitted(access.PrivacySettings, s.handlePrivacySettingsSave))
	mux.Handle("GET /privacy/records", s.permitted(access.PrivacySettings, s.handlePrivacyRecords))
	// The register of data subjects' requests; a waiting erasure is approved or refused here.
	mux.Handle("GET /privacy/requests", s.permitted(access.PrivacySettings, s.handlePrivacyRequests))
	mux.Handle("POST /privacy/requests/{id}/approve", s.permitted(access.PrivacySettings, s.handlePrivacyRequestAnswer(true)))
	mux.Handle("POST /privacy/requests/{id}/refuse", s.permitted(access.PrivacySettings, s.handlePrivacyRequestAnswer(false)))
	mux.Handle("GET /privacy/breaches", s.permitted(access.PrivacySettings, s.handleBreaches))
	mux.Handle("POST /privacy/breaches", s.permitted(access.PrivacySettings, s.handleBreachCreate))
	mux.Handle("GET /privacy/breaches/new", s.permitted(access.PrivacySettings, s.handleBreachNew))
	mux.Handle("GET /privacy/breaches/{id}", s.permitted(access.PrivacySettings, s.handleBreach))
	mux.Handle("POST /privacy/breaches/{id}", s.permitted(access.PrivacySettings, s.handleBreachSave))
	mux.Handle("GET /privacy/breaches/{id}/notice", s.permitted(access.PrivacySettings, s.handleBreachNotice))

	// Whistleblowing cases (cases.handle, whistleblowing module;
	// ui_cases.go, ui_case_keys.go): the list (metadata only), the key page
	// (enrol, unlock, lock, recover, a new recovery key, replace), a case
	// opened with the unlocked key, its forms (POST /cases/{id}/{action}:
	// acknowledge, reply, note, status, hold, assign, exclude, redact; see
	// caseActions) and its downloads.
	cases := func(h http.HandlerFunc) http.Handler {
		return s.permitted(access.HandleCases, s.requireModule(tenant.Whistleblowing, h).ServeHTTP)
	}
	mux.Handle("GET /cases", cases(s.handleCases))
	mux.Handle("GET /cases/key", cases(s.handleCaseKey))
	mux.Handle("POST /cases/key/enrol", cases(s.handleCaseKeyEnrol))
	mux.Handle("POST /cases/key/unlock", cases(s.handleCaseKeyUnlock))
	mux.Handle("POST /cases/key/lock", cases(s.handleCaseKeyLock))
	mux.Handle("POST /cases/key/recover", cases(s.handleCaseKeyRecover))
	mux.Handle("POST /cases/key/shares", cases(s.handleCaseKeyShares))
	mux.Handle("POST /cases/key/recovery", cases(s.handleCaseKeyRecovery))
	mux.Handle("POST /cases/key/replace", cases(s.handleCaseKeyReplace))
	mux.Handle("GET /cases/{id}", cases(s.handleCase))
	mux.Handle("POST /cases/{id}/{action}", cases(s.handleCaseAction))
	mux.Handle("GET /cases/{id}/redactions/{seq}", cases(s.handleCaseRedaction))
	mux.Handle("GET /cases/{id}/files/{file}", cases(s.handleCaseFile))
	// The statistics per channel (counts and times; ui_case_admin.go).
	mux.Handle("GET /cases/stats", cases(s.handleCaseStats))
	// The company's whistleblowing configuration (company.settings,
	// whistleblowing module; ui_case_channels.go, ui_case_admin.go): the
	// reporting channels, the key escrow and the archive recipient (both
	// after a recent password). It is the administrator's, who reads no
	// case: a handler who could route cases, archives or the escrow to
	// themselves could get round an exclusion.
	whistleAdmin := func(h http.HandlerFunc) http.Handler {
		return s.permitted(access.CompanySettings, s.requireModule(tenant.Whistleblowing, h).ServeHTTP)
	}
	mux.Handle("GET /settings/whistleblowing", whistleAdmin(s.handleCaseSettings))
	mux.Handle("POST /settings/whistleblowing/escrow", whistleAdmin(s.freshAuth("/settings/whistleblowing", s.handleCaseEscrow)))
	mux.Handle("POST /settings/whistleblowing/archive", whistleAdmin(s.freshAuth("/settings/whistleblowing", s.handleCaseArchiveRecipient)))
	mux.Handle("GET /settings/whistleblowing/channels", whistleAdmin(s.handleCaseChannels))
	mux.Handle("GET /settings/whistleblowing/channels/new", whistleAdmin(s.handleCaseChannelNew))
	mux.Handle("POST /settings/whistleblowing/channels", whistleAdmin(s.handleCaseChannelSave))
	mux.Handle("GET /settings/whistleblowing/channels/{id}", whistleAdmin(s.handleCaseChannel))
	mux.Handle("POST /settings/whistleblowing/channels/{id}", whistleAdmin(s.handleCaseChannelSave))

	// The REST API (api.go): every operation is declared in its resource's
	// file and registered here through apiRouter, which also makes the
	// OpenAPI document. The document and the reference page need no token.
	mux.HandleFunc("GET "+apiPrefix+"/openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /api/docs", s.handleAPIReference)
	s.apiRoutes(&apiRouter{s: s, mux: mux})
	mux.HandleFunc(apiPrefix+"/", s.apiNotFound)

	// Development: the emails that would have been sent (--dev only, loopback only).
	mux.HandleFunc("GET /dev/outbox", s.handleDevOutbox)

	// Everything else: a translated 404.
	mux.HandleFunc("/", s.handleNotFound)
	return mux
}
