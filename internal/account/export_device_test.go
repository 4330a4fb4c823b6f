package account

// SetAfterVerify makes every password check of s call f after the password
// was hashed and before the attempt is decided, so a test can hold one
// attempt there while others run.
func SetAfterVerify(s *Service, f func(userID string, ok bool)) { s.afterVerify = f }
