// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"context"
	"fmt"
	"log/slog"
)

// Role is what a user or API token may do. The zero value is no role: it
// passes no [Require] (agents have it).
type Role string

// The roles, weakest first.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// rank orders the roles; an unknown role ranks 0 and is allowed nothing.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r may do everything min may. An invalid r is
// never enough; an invalid min is never met.
func (r Role) AtLeast(min Role) bool {
	return r.Valid() && min.Valid() && r.rank() >= min.rank()
}

// ParseRole returns the role named s, or an error naming the three roles.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q: want admin, operator or viewer", s)
	}
	return r, nil
}

// Kind says what a principal is.
type Kind string

// The kinds of principal.
const (
	// KindUser is a person logged in through a browser session.
	KindUser Kind = "user"
	// KindToken is an API token (scripts, integrations).
	KindToken Kind = "token"
	// KindAgent is an agent token: bound to one site, no role.
	KindAgent Kind = "agent"
)

// Principal is who a request runs as. Handlers read it with
// [PrincipalFrom] and filter every data access by OrgID.
type Principal struct {
	// OrgID is the organisation; never empty for an authenticated request
	// unless the store uses "" for its default organisation.
	OrgID string
	Kind  Kind
	// ID is the user's or the token's ID (never the token itself).
	ID string
	// Name is the login name or the token's label, for display and the
	// audit log.
	Name string
	// Role is empty for agents.
	Role Role
	// SiteID is the agent's site; empty for users and API tokens.
	SiteID string
}

// LogValue keeps log lines to the fields that identify the principal.
func (p Principal) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("org", p.OrgID),
		slog.String("kind", string(p.Kind)),
		slog.String("id", p.ID),
		slog.String("role", string(p.Role)),
	)
}

// Action is something a principal may be allowed to do; see the table in
// the package documentation.
type Action string

// The actions of the role table.
const (
	ActionView             Action = "view"
	ActionAccountPassword  Action = "account.password"
	ActionAuditRun         Action = "audit.run"
	ActionAlertAck         Action = "alert.ack"
	ActionSiteEdit         Action = "site.edit"
	ActionSiteDelete       Action = "site.delete"
	ActionAgentTokenManage Action = "agent_token.manage"
	ActionTokenManage      Action = "token.manage"
	ActionUserManage       Action = "user.manage"
	ActionRangeScopeManage Action = "range_scope.manage"
	ActionAdvisoryManage   Action = "advisory.manage"
	ActionAuditLogView     Action = "auditlog.view"
)

// minRole is the role table: the weakest role allowed each action.
var minRole = map[Action]Role{
	ActionView:             RoleViewer,
	ActionAccountPassword:  RoleViewer,
	ActionAuditRun:         RoleOperator,
	ActionAlertAck:         RoleOperator,
	ActionSiteEdit:         RoleOperator,
	ActionSiteDelete:       RoleAdmin,
	ActionAgentTokenManage: RoleAdmin,
	ActionTokenManage:      RoleAdmin,
	ActionUserManage:       RoleAdmin,
	ActionRangeScopeManage: RoleAdmin,
	ActionAdvisoryManage:   RoleAdmin,
	ActionAuditLogView:     RoleAdmin,
}

// MinRole returns the weakest role allowed to do a, and false for an
// action that is not in the table (allowed to nobody).
func MinRole(a Action) (Role, bool) {
	r, ok := minRole[a]
	return r, ok
}

// Can reports whether p may do a. Agents may do none of the table's
// actions: their routes use [RequireAgent].
func Can(p Principal, a Action) bool {
	min, ok := minRole[a]
	if !ok || p.Kind == KindAgent {
		return false
	}
	return p.Role.AtLeast(min)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p. Only the authentication
// middleware and tests call it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, and false when the
// request was not authenticated.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
