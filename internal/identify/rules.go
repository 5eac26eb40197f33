// SPDX-License-Identifier: Apache-2.0

package identify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/routerwatch/routerwatch/internal/finding"
	"github.com/routerwatch/routerwatch/internal/probe"
)

//go:embed rules.yaml
var builtinRules []byte

// RuleFile is the schema of a rule file (rules.yaml documents it).
type RuleFile struct {
	Version int        `yaml:"version"`
	Rules   []RuleSpec `yaml:"rules"`
}

// RuleSpec is one rule as written.
type RuleSpec struct {
	ID         string        `yaml:"id"`
	Field      string        `yaml:"field"`
	Pattern    string        `yaml:"pattern"`
	Exclude    string        `yaml:"exclude,omitempty"`
	When       *WhenSpec     `yaml:"when,omitempty"`
	Set        Values        `yaml:"set"`
	Confidence string        `yaml:"confidence"`
	Source     string        `yaml:"source"`
	Examples   []ExampleSpec `yaml:"examples"`
}

// WhenSpec is a condition on another value of the same evidence group.
type WhenSpec struct {
	Field   string `yaml:"field"`
	Pattern string `yaml:"pattern"`
}

// Values are identity fields; in a rule, templates with ${N} groups.
type Values struct {
	Vendor   string `yaml:"vendor,omitempty" json:"vendor,omitempty"`
	Model    string `yaml:"model,omitempty" json:"model,omitempty"`
	HWRev    string `yaml:"hw_rev,omitempty" json:"hw_rev,omitempty"`
	Firmware string `yaml:"firmware,omitempty" json:"firmware,omitempty"`
	Region   string `yaml:"region,omitempty" json:"region,omitempty"`
	OS       string `yaml:"os,omitempty" json:"os,omitempty"`
}

// ExampleSpec is a value a rule must accept and what it must set.
type ExampleSpec struct {
	Value string `yaml:"value"`
	Want  Values `yaml:"want"`
}

// rule is a compiled rule.
type rule struct {
	spec    RuleSpec
	re      *regexp.Regexp
	exclude *regexp.Regexp
	when    *regexp.Regexp
	conf    finding.Confidence
}

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$`)

// Rules is a validated rule set.
type Rules struct {
	rules []*rule
}

// Len returns the number of rules.
func (rs *Rules) Len() int { return len(rs.rules) }

// BuiltinRules returns the embedded rule set (rules.yaml).
func BuiltinRules() (*Rules, error) { return ParseRules(builtinRules) }

// ParseRules decodes a rule file strictly and validates every rule: IDs
// unique, fields known, patterns compiling, templates naming existing
// groups, and each example producing what it says.
func ParseRules(b []byte) (*Rules, error) {
	var f RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField(), yaml.Strict())
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("identify: rules: %s", strings.TrimSpace(yaml.FormatError(err, false, false)))
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("identify: rules: version %d, want 1", f.Version)
	}
	if len(f.Rules) == 0 {
		return nil, errors.New("identify: rules: no rules")
	}
	seen := map[string]bool{}
	var out []*rule
	for i, s := range f.Rules {
		r, err := compileRule(s)
		if err != nil {
			return nil, fmt.Errorf("identify: rule %d (%s): %w", i, s.ID, err)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("identify: rule %d: duplicate id %q", i, s.ID)
		}
		seen[s.ID] = true
		out = append(out, r)
	}
	return &Rules{rules: out}, nil
}

func compileRule(s RuleSpec) (*rule, error) {
	if !ruleID.MatchString(s.ID) {
		return nil, fmt.Errorf("id %q is not lowercase and dotted", s.ID)
	}
	if !probe.KnownField(s.Field) {
		return nil, fmt.Errorf("unknown evidence field %q (known: %s)", s.Field, strings.Join(probe.Fields(), ", "))
	}
	if strings.TrimSpace(s.Source) == "" {
		return nil, errors.New("no source: every rule names where its fact comes from")
	}
	r := &rule{spec: s}
	var err error
	if r.conf, err = parseConfidence(s.Confidence); err != nil {
		return nil, err
	}
	if r.re, err = regexp.Compile(s.Pattern); err != nil || s.Pattern == "" {
		return nil, fmt.Errorf("pattern %q: %v", s.Pattern, err)
	}
	if s.Exclude != "" {
		if r.exclude, err = regexp.Compile(s.Exclude); err != nil {
			return nil, fmt.Errorf("exclude %q: %w", s.Exclude, err)
		}
	}
	if s.When != nil {
		if !probe.KnownField(s.When.Field) {
			return nil, fmt.Errorf("when: unknown evidence field %q", s.When.Field)
		}
		if r.when, err = regexp.Compile(s.When.Pattern); err != nil {
			return nil, fmt.Errorf("when pattern %q: %w", s.When.Pattern, err)
		}
	}
	if s.Set == (Values{}) {
		return nil, errors.New("set is empty")
	}
	for _, tmpl := range []string{s.Set.Vendor, s.Set.Model, s.Set.HWRev, s.Set.Firmware, s.Set.Region, s.Set.OS} {
		for _, m := range groupRef.FindAllStringSubmatch(tmpl, -1) {
			n := 0
			fmt.Sscanf(m[1], "%d", &n)
			if n < 1 || n > r.re.NumSubexp() {
				return nil, fmt.Errorf("template %q names group %s; the pattern has %d", tmpl, m[1], r.re.NumSubexp())
			}
		}
		if strings.Contains(groupRef.ReplaceAllString(tmpl, ""), "$") {
			return nil, fmt.Errorf("template %q: write groups as ${N}", tmpl)
		}
	}
	if len(s.Examples) == 0 {
		return nil, errors.New("no examples")
	}
	for _, ex := range s.Examples {
		got, ok := r.apply(ex.Value)
		if !ok {
			return nil, fmt.Errorf("example %q does not match", ex.Value)
		}
		if got != ex.Want {
			return nil, fmt.Errorf("example %q sets %+v, want %+v", ex.Value, got, ex.Want)
		}
	}
	return r, nil
}

var groupRef = regexp.MustCompile(`\$\{([0-9]+)\}`)

func parseConfidence(s string) (finding.Confidence, error) {
	switch s {
	case "low":
		return finding.ConfidenceLow, nil
	case "medium":
		return finding.ConfidenceMedium, nil
	case "high":
		return finding.ConfidenceHigh, nil
	}
	return 0, fmt.Errorf("confidence %q is not low, medium or high", s)
}

// apply matches value and expands the templates, normalized.
func (r *rule) apply(value string) (Values, bool) {
	sub := r.re.FindStringSubmatchIndex(value)
	if sub == nil || (r.exclude != nil && r.exclude.MatchString(value)) {
		return Values{}, false
	}
	exp := func(tmpl string) string {
		if tmpl == "" {
			return ""
		}
		return string(r.re.ExpandString(nil, tmpl, value, sub))
	}
	v := Values{
		Vendor:   exp(r.spec.Set.Vendor),
		Model:    exp(r.spec.Set.Model),
		HWRev:    exp(r.spec.Set.HWRev),
		Firmware: exp(r.spec.Set.Firmware),
		Region:   exp(r.spec.Set.Region),
		OS:       exp(r.spec.Set.OS),
	}
	return normalize(v), true
}
