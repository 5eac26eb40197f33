// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The password policy for new passwords (NIST SP 800-63B §3.1.1.2: length
// over composition rules; long passphrases allowed).
const (
	// MinPasswordLen is in characters (Unicode code points), as a person
	// counts them.
	MinPasswordLen = 12
	// MaxPasswordLen is in bytes: enough for any passphrase, and it
	// bounds the work argon2 does on attacker input before hashing.
	MaxPasswordLen = 1024
)

// The reasons a new password is refused; CheckNewPassword wraps one of
// them in an error a person can read.
var (
	ErrPasswordTooShort  = errors.New("password too short")
	ErrPasswordTooLong   = errors.New("password too long")
	ErrPasswordIsLogin   = errors.New("password is the login name")
	ErrPasswordNotUTF8   = errors.New("password is not valid UTF-8")
	ErrPasswordHasCtrl   = errors.New("password contains control characters")
	ErrPasswordUnchanged = errors.New("new password is the current one")
)

// CheckNewPassword applies the policy to a password a user chooses for
// login: at least MinPasswordLen characters, at most MaxPasswordLen
// bytes, valid UTF-8 without control characters (they cannot be typed
// the same way twice), and not the login name in any letter case. The
// error never contains the password.
func CheckNewPassword(login, password string) error {
	switch {
	case !utf8.ValidString(password):
		return ErrPasswordNotUTF8
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d bytes", ErrPasswordTooLong, MaxPasswordLen)
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters", ErrPasswordTooShort, MinPasswordLen)
	case strings.IndexFunc(password, isControl) >= 0:
		return ErrPasswordHasCtrl
	case strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(login)):
		return ErrPasswordIsLogin
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
