// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckNewPassword(t *testing.T) {
	tests := []struct {
		name     string
		login    string
		password string
		want     error // nil: accepted
		wantText string
	}{
		{name: "passphrase_ok", login: "alice", password: "correct horse battery"},
		{name: "exactly_12_ok", login: "alice", password: "abcdefghijkl"},
		{name: "11_refused", login: "alice", password: "abcdefghijk", want: ErrPasswordTooShort, wantText: "at least 12 characters"},
		{name: "empty_refused", login: "alice", password: "", want: ErrPasswordTooShort},
		{name: "12_characters_in_more_bytes_ok", login: "alice", password: "ééééééééééé1"},
		{name: "11_characters_in_22_bytes_refused", login: "alice", password: "ééééééééééé", want: ErrPasswordTooShort},
		{name: "1024_bytes_ok", login: "alice", password: strings.Repeat("a", 1024)},
		{name: "1025_bytes_refused", login: "alice", password: strings.Repeat("a", 1025), want: ErrPasswordTooLong, wantText: "at most 1024 bytes"},
		{name: "login_name_refused", login: "administrator", password: "administrator", want: ErrPasswordIsLogin},
		{name: "login_name_other_case_refused", login: "Administrator", password: "ADMINISTRATOR", want: ErrPasswordIsLogin},
		{name: "login_name_with_spaces_refused", login: "administrator", password: " administrator ", want: ErrPasswordIsLogin},
		{name: "containing_login_ok", login: "alice", password: "alice likes long passphrases"},
		{name: "invalid_utf8_refused", login: "alice", password: "abcdefghijkl\xff", want: ErrPasswordNotUTF8},
		{name: "control_character_refused", login: "alice", password: "abcdefghijkl\n", want: ErrPasswordHasCtrl},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNewPassword(tc.login, tc.password)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not say %q", err, tc.wantText)
			}
			if len(tc.password) >= 4 && strings.Contains(err.Error(), tc.password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}
