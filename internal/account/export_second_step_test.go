package account

import "github.com/go-webauthn/webauthn/webauthn"

// SetSixDigits replaces the source of six-digit codes until the returned
// function restores it.
func SetSixDigits(f func() (string, error)) (restore func()) {
	old := sixDigits
	sixDigits = f
	return func() { sixDigits = old }
}

// RelyingPartyOf exposes the relying party of passkeys for a base URL.
func RelyingPartyOf(base string) (*webauthn.WebAuthn, error) { return relyingPartyOf(base) }

// SetStepBarrier makes every attempt at the second step call f before its
// transaction, until the returned function restores the default.
func SetStepBarrier(f func()) (restore func()) {
	stepBarrier = f
	return func() { stepBarrier = nil }
}
