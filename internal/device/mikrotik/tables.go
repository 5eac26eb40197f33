// SPDX-License-Identifier: Apache-2.0

package mikrotik

import (
	"fmt"
	"strconv"
	"strings"
)

// tables is what the mapping reads: the rows of each menu, from an export
// or from print commands. Menus are keyed canonically
// ("ip/dhcp-server/network").
type tables struct {
	adapter string
	// export: properties a row does not show take their documented
	// default (compact exports omit defaults). For print replies, which
	// show every property, a missing property is unknown.
	export bool
	// whole: the export holds the whole configuration, so a menu it does
	// not name has only default rows. Ignored unless export.
	whole bool
	// version is the RouterOS version ("6.49.6"), or empty.
	version string
	menus   map[string]*menuRows
}

// menuRows is one menu's rows.
type menuRows struct {
	rows []*row
	// damaged: a line of this menu did not parse, so a value it does not
	// show may have been on that line: no defaults.
	damaged bool
	// byName and byFind index the rows an export's set lines address,
	// so that a long export stays linear.
	byName map[string]*row
	byFind map[string]*row
	// removed counts rows marked removed, dropped at the end.
	removed int
}

// row is one item of a menu (or the single item of a settings menu such
// as /ip dns).
type row struct {
	props map[string]string
	// loc is where the row was read ("line 47", ".id *1"), per property
	// when set by several lines.
	loc     string
	propLoc map[string]string
	// index is the position in the menu's built-in list for "set 0";
	// -1 if none.
	index   int
	removed bool
}

func newRow(loc string) *row {
	return &row{props: map[string]string{}, propLoc: map[string]string{}, loc: loc, index: -1}
}

// get returns a property; a nil row has none.
func (r *row) get(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	v, ok := r.props[name]
	return v, ok
}

// where says where a property of the row was read.
func (r *row) where(name string) string {
	if l, ok := r.propLoc[name]; ok {
		return l
	}
	return r.loc
}

func (t *tables) menu(key string) *menuRows {
	m := t.menus[key]
	if m == nil {
		m = &menuRows{byName: map[string]*row{}, byFind: map[string]*row{}}
		t.menus[key] = m
	}
	return m
}

// rowsOf returns a menu's rows and whether the menu's rows are known. For
// a whole export, a menu it does not name is known and empty (only
// default rows, which the mapping supplies).
func (t *tables) rowsOf(key string) ([]*row, bool) {
	if m, ok := t.menus[key]; ok {
		return m.rows, true
	}
	return nil, t.export && t.whole
}

// defaultsOK reports whether a property missing from a row of menu key
// may take its documented default.
func (t *tables) defaultsOK(key string) bool {
	if !t.export {
		return false
	}
	if m, ok := t.menus[key]; ok {
		return !m.damaged
	}
	return t.whole
}

// major returns the RouterOS major version, or 0.
func (t *tables) major() int {
	v, _, _ := strings.Cut(t.version, ".")
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// tablesFromExport turns an export's commands into rows.
func tablesFromExport(e *Export) *tables {
	t := &tables{adapter: AdapterExport, export: true, version: e.Version, menus: map[string]*menuRows{}}
	roots := map[string]bool{}
	for _, c := range e.Commands {
		root, _, _ := strings.Cut(c.Menu, "/")
		roots[root] = true
		m := t.menu(c.Menu)
		loc := fmt.Sprintf("line %d", c.Line)
		switch c.Verb {
		case "add":
			r := newRow(loc)
			setProps(r, c.Props, loc)
			m.rows = append(m.rows, r)
			if n, ok := r.props["name"]; ok {
				if _, dup := m.byName[n]; !dup {
					m.byName[n] = r
				}
			}
		case "set", "disable", "enable", "unset", "reset":
			for _, r := range m.address(c, loc) {
				switch c.Verb {
				case "set":
					setProps(r, c.Props, loc)
				case "disable", "enable":
					r.props["disabled"] = strconv.FormatBool(c.Verb == "disable")
					r.propLoc["disabled"] = loc
				case "unset", "reset":
					for _, p := range c.Props {
						delete(r.props, p.Name)
					}
				}
			}
		case "remove":
			for _, r := range m.address(c, loc) {
				if !r.removed {
					r.removed = true
					m.removed++
				}
			}
		default:
			// print, export, … change nothing.
		}
	}
	for _, m := range t.menus {
		if m.removed > 0 {
			kept := m.rows[:0]
			for _, r := range m.rows {
				if !r.removed {
					kept = append(kept, r)
				}
			}
			m.rows = kept
		}
	}
	for k := range e.Damaged {
		t.menu(k).damaged = true
	}
	t.whole = len(roots) >= 2
	return t
}

func setProps(r *row, ps []Prop, loc string) {
	for _, p := range ps {
		if p.Unset {
			// "!name" in a verbose export: the property has no value.
			r.props[p.Name] = ""
		} else {
			r.props[p.Name] = p.Value
		}
		r.propLoc[p.Name] = loc
	}
}

// address returns the rows a set/remove line names, creating them when
// the line names a built-in item the export never added ("set telnet …",
// "set [ find default=yes ] …", "set 0 …").
func (m *menuRows) address(c Command, loc string) []*row {
	switch {
	case c.HasFind && len(c.Find) == 0:
		// "[ find ]": every row; a built-in single row if none.
		if len(m.rows) == 0 {
			m.rows = append(m.rows, newRow(loc))
		}
		return m.rows
	case c.HasFind:
		var k strings.Builder
		for _, p := range c.Find {
			k.WriteString(p.Name + "\x00" + p.Value + "\x00")
		}
		if r, ok := m.byFind[k.String()]; ok {
			return []*row{r}
		}
		r := newRow(loc)
		for _, p := range c.Find {
			r.props[p.Name] = p.Value
			r.propLoc[p.Name] = loc
		}
		m.rows = append(m.rows, r)
		m.byFind[k.String()] = r
		return []*row{r}
	case c.Target == "":
		// A settings menu (/ip dns): one row.
		if len(m.rows) == 0 {
			m.rows = append(m.rows, newRow(loc))
		}
		return m.rows[:1]
	}
	var out []*row
	for _, name := range strings.Split(c.Target, ",") {
		out = append(out, m.byTarget(name, loc))
	}
	return out
}

// byTarget finds or creates the row a bare target names: a number is an
// index into the menu's built-in rows ("set 0" in /system logging), "*N"
// an internal id, anything else a name.
func (m *menuRows) byTarget(name, loc string) *row {
	if r, ok := m.byName[name]; ok {
		return r
	}
	r := newRow(loc)
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		r.index = n
	} else if !strings.HasPrefix(name, "*") {
		r.props["name"] = name
		r.propLoc["name"] = loc
	}
	m.rows = append(m.rows, r)
	m.byName[name] = r
	return r
}

// cleanVersion turns "6.49.6 (stable)" into "6.49.6".
func cleanVersion(v string) string {
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	return v
}
