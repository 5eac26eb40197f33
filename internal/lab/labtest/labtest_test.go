// SPDX-License-Identifier: Apache-2.0

package labtest

import "testing"

func TestRunPattern(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "top_level", in: "TestAPT28", want: "^TestAPT28$"},
		{name: "subtest", in: "TestScenarioExpectations/apt28/answers", want: "^TestScenarioExpectations$/^apt28$/^answers$"},
		{name: "metacharacters", in: "TestX/a.b(c)", want: `^TestX$/^a\.b\(c\)$`},
		{name: "spaces_as_t_name_writes_them", in: "TestX/two words", want: "^TestX$/^two_words$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunPattern(tt.in); got != tt.want {
				t.Errorf("RunPattern(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
