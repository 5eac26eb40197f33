// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoleAtLeast(t *testing.T) {
	tests := []struct {
		name     string
		r, min   Role
		expected bool
	}{
		{name: "admin_meets_viewer", r: RoleAdmin, min: RoleViewer, expected: true},
		{name: "admin_meets_admin", r: RoleAdmin, min: RoleAdmin, expected: true},
		{name: "operator_meets_viewer", r: RoleOperator, min: RoleViewer, expected: true},
		{name: "operator_not_admin", r: RoleOperator, min: RoleAdmin, expected: false},
		{name: "viewer_not_operator", r: RoleViewer, min: RoleOperator, expected: false},
		{name: "empty_role_nothing", r: "", min: RoleViewer, expected: false},
		{name: "unknown_role_nothing", r: "root", min: RoleViewer, expected: false},
		{name: "unknown_minimum_never_met", r: RoleAdmin, min: "superadmin", expected: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.AtLeast(tc.min); got != tc.expected {
				t.Errorf("%q.AtLeast(%q) = %v, want %v", tc.r, tc.min, got, tc.expected)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"admin", "operator", "viewer"} {
		if r, err := ParseRole(s); err != nil || string(r) != s {
			t.Errorf("ParseRole(%q) = %q, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "Admin", "root", "agent"} {
		if _, err := ParseRole(s); err == nil || !strings.Contains(err.Error(), "admin, operator or viewer") {
			t.Errorf("ParseRole(%q) error = %v, want one naming the roles", s, err)
		}
	}
}

func TestCan(t *testing.T) {
	viewer := Principal{Kind: KindUser, Role: RoleViewer}
	operator := Principal{Kind: KindToken, Role: RoleOperator}
	admin := Principal{Kind: KindUser, Role: RoleAdmin}
	// An agent whose token row wrongly carries a role still gets nothing.
	agent := Principal{Kind: KindAgent, Role: RoleAdmin, SiteID: "s1"}
	tests := []struct {
		name     string
		p        Principal
		a        Action
		expected bool
	}{
		{name: "viewer_views", p: viewer, a: ActionView, expected: true},
		{name: "viewer_changes_own_password", p: viewer, a: ActionAccountPassword, expected: true},
		{name: "viewer_cannot_ack", p: viewer, a: ActionAlertAck, expected: false},
		{name: "viewer_cannot_run_audit", p: viewer, a: ActionAuditRun, expected: false},
		{name: "operator_acks", p: operator, a: ActionAlertAck, expected: true},
		{name: "operator_edits_sites", p: operator, a: ActionSiteEdit, expected: true},
		{name: "operator_cannot_delete_sites", p: operator, a: ActionSiteDelete, expected: false},
		{name: "operator_cannot_issue_tokens", p: operator, a: ActionTokenManage, expected: false},
		{name: "operator_cannot_authorise_ranges", p: operator, a: ActionRangeScopeManage, expected: false},
		{name: "admin_manages_users", p: admin, a: ActionUserManage, expected: true},
		{name: "admin_reads_audit_log", p: admin, a: ActionAuditLogView, expected: true},
		{name: "agent_cannot_view", p: agent, a: ActionView, expected: false},
		{name: "unknown_action_nobody", p: admin, a: "everything", expected: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Can(tc.p, tc.a); got != tc.expected {
				t.Errorf("Can(%v, %q) = %v, want %v", tc.p, tc.a, got, tc.expected)
			}
		})
	}
}

// TestRoleTableMatchesDoc holds the package documentation's table and the
// code's table together: a change to one without the other fails.
func TestRoleTableMatchesDoc(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := map[Action]Role{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(strings.TrimPrefix(line, "//"))
		if !strings.HasPrefix(line, "|") || strings.Contains(line, "---") || strings.Contains(line, "Action") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Fatalf("table row with %d cells: %q", len(cells), line)
		}
		a := Action(strings.TrimSpace(cells[0]))
		var min Role
		for i, r := range []Role{RoleViewer, RoleOperator, RoleAdmin} {
			yes := strings.TrimSpace(cells[2+i]) == "yes"
			if yes && min == "" {
				min = r
			}
			if !yes && min != "" {
				t.Errorf("%s: %s may not but a weaker role may", a, r)
			}
		}
		doc[a] = min
	}
	if diff := cmp.Diff(minRole, doc); diff != "" {
		t.Errorf("doc.go's role table differs from minRole (-code +doc):\n%s", diff)
	}
}
