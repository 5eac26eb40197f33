// SPDX-License-Identifier: Apache-2.0

// Package config loads the routerwatch configuration file.
//
// The contract: a file is decoded strictly (unknown keys and duplicate keys
// are errors, reported with line and column), defaults come from Default,
// and Validate runs once at load time so that nothing downstream re-checks
// a value. A missing file at the default path is not an error; a missing
// file the user named is.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/routerwatch/routerwatch/internal/inputfile"
)

// Config is the whole configuration file. Every field is optional; zero
// values are replaced by Default's.
type Config struct {
	// DataDir holds imported and downloaded advisory data. Empty means the
	// user's data directory ($XDG_DATA_HOME/routerwatch or
	// ~/.local/share/routerwatch).
	DataDir string `yaml:"data_dir"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `yaml:"log_level"`
	// Format is the default output format: text or json.
	Format string `yaml:"format"`
	// FailOn is the lowest severity of a failing finding that makes the
	// exit code 1: info, low, medium, high or critical.
	FailOn string `yaml:"fail_on"`
	// Advisories configures `advisories update`.
	Advisories Advisories `yaml:"advisories"`
	// Policy is what the owner allows on their routers.
	Policy Policy `yaml:"policy"`
	// CredentialsFile names the router credentials file (mode 0600; see
	// LoadCredentials); --credentials replaces it.
	CredentialsFile string `yaml:"credentials_file"`
	// Watch configures `routerwatch watch`.
	Watch Watch `yaml:"watch"`
	// Database names the fleet's database for `routerwatch worker` (and
	// the server): a postgres:// URL, or a SQLite store file. Empty means
	// the store in the data directory. A password in it is a secret:
	// prefer ROUTERWATCH_DB or a password file (PGPASSFILE).
	Database string `yaml:"database"`
	// Alerts is the alerts: block, kept as YAML: its schema and its
	// validation live with the channels (package alert), which the CLI
	// applies at load.
	Alerts RawYAML `yaml:"alerts"`
}

// Policy is what the owner allows on their routers.
type Policy struct {
	// AllowedResolvers are the resolvers the owner uses on purpose (IP
	// addresses): a router handing out or using another is a finding.
	AllowedResolvers []string `yaml:"allowed_resolvers"`
}

// MinWatchInterval is the shortest interval between watch cycles: a
// lab or a test may poll often; a real router, whose legacy web UI allows
// one admin session, should be read rarely (the default is 15m).
const MinWatchInterval = 10 * time.Second

// Watch configures `routerwatch watch`.
type Watch struct {
	// Interval between cycles ("15m"); empty means the default.
	Interval string `yaml:"interval"`
	// Jitter spreads cycles by up to this fraction of the interval
	// (0.1 = ±10%), so that many watchers do not poll in step.
	Jitter *float64 `yaml:"jitter"`
	// DNS runs the DNS audit of this machine's network every cycle
	// (default true).
	DNS *bool `yaml:"dns"`
	// Routers are read with their credentials every cycle.
	Routers []WatchRouter `yaml:"routers"`
}

// WatchRouter is one router watch reads.
type WatchRouter struct {
	// ID names it in the store and in alerts; empty means its address.
	ID      string `yaml:"id"`
	Address string `yaml:"address"`
	// Adapter names the adapter; empty means automatic detection.
	Adapter string `yaml:"adapter"`
	Port    int    `yaml:"port"`
	TLS     bool   `yaml:"tls"`
	Label   string `yaml:"label"`
}

// RawYAML keeps a block of the file as YAML, for a package that owns its
// schema (alerts) to decode strictly.
type RawYAML []byte

// UnmarshalYAML keeps the block's bytes.
func (r *RawYAML) UnmarshalYAML(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Advisories configures where `advisories update` downloads from.
type Advisories struct {
	// Sources are the feeds `advisories update` fetches when no --source
	// flag is given. Each is an https URL of a CSAF provider-metadata.json,
	// a ROLIE feed, a single CSAF document or the CISA KEV JSON feed.
	Sources []string `yaml:"sources"`
}

// DefaultSources are the public feeds `advisories update` reads by default.
var DefaultSources = []string{
	"https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
}

// Default returns the configuration used when no file sets a value.
func Default() Config {
	return Config{
		LogLevel: "warn",
		Format:   "text",
		FailOn:   "high",
		Advisories: Advisories{
			Sources: append([]string(nil), DefaultSources...),
		},
	}
}

// ErrNotFound reports that a configuration file named by the user does not
// exist.
var ErrNotFound = errors.New("config: file not found")

// DefaultPath returns the configuration file looked for when --config is not
// given: $XDG_CONFIG_HOME/routerwatch/config.yaml, else
// ~/.config/routerwatch/config.yaml. getenv is os.Getenv in production.
func DefaultPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "routerwatch", "config.yaml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "routerwatch", "config.yaml")
	}
	return ""
}

// DefaultDataDir returns $XDG_DATA_HOME/routerwatch, else
// ~/.local/share/routerwatch.
func DefaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "routerwatch")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "routerwatch")
	}
	return filepath.Join(os.TempDir(), "routerwatch-data")
}

// Load reads the file at path. When mustExist is false a missing file
// yields Default().
func Load(path string, mustExist bool) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	// A FIFO named as the config would block the read forever, and a
	// device would never end: regular files only, bounded.
	data, err := inputfile.ReadAll(path, MaxYAMLBytes)
	if errors.Is(err, fs.ErrNotExist) {
		if mustExist {
			return Config{}, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return Default(), nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates one configuration document.
func Parse(data []byte) (Config, error) {
	c := Default()
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	if err := DecodeStrict(data, &c); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// DecodeStrict decodes one YAML document into v: unknown fields and
// duplicate keys are errors, reported with line and column; a second
// document ("---" then more) is an error naming its line. Before the YAML
// library sees data, its size, nesting depth and alias expansion are
// bounded (MaxYAMLBytes, MaxYAMLDepth; errors wrap ErrYAMLShape), so that
// no file can make routerwatch run out of memory or time. The YAML
// library has panicked on some malformed input (found by fuzzing: a tag
// on a sequence item); that is turned into an error here so that no
// user-written file can crash routerwatch.
func DecodeStrict(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML (the parser failed: %v)", r)
		}
	}()
	if err := checkShape(data); err != nil {
		return err
	}
	if err := checkDocuments(data); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField(), yaml.Strict())
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimSpace(yaml.FormatError(err, false, false)))
	}
	return nil
}

// Levels of severity accepted by FailOn, lowest first.
var severities = []string{"info", "low", "medium", "high", "critical"}

// Validate checks every field and reports the first invalid one by its key.
func (c *Config) Validate() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.Format {
	case "text", "json":
	default:
		return fmt.Errorf("format: %q is not one of text, json", c.Format)
	}
	if !contains(severities, c.FailOn) {
		return fmt.Errorf("fail_on: %q is not one of %s", c.FailOn, strings.Join(severities, ", "))
	}
	if c.DataDir != "" {
		if err := ValidateDataDir(c.DataDir); err != nil {
			return fmt.Errorf("data_dir: %w", err)
		}
	}
	for i, s := range c.Advisories.Sources {
		if err := ValidateSourceURL(s); err != nil {
			return fmt.Errorf("advisories.sources[%d]: %w", i, err)
		}
	}
	for i, a := range c.Policy.AllowedResolvers {
		if _, err := netip.ParseAddr(a); err != nil {
			return fmt.Errorf("policy.allowed_resolvers[%d]: %q is not an IP address", i, a)
		}
	}
	if c.CredentialsFile != "" && !filepath.IsAbs(c.CredentialsFile) {
		return fmt.Errorf("credentials_file: %q must be an absolute path", c.CredentialsFile)
	}
	return c.Watch.validate()
}

// validate checks the watch: block.
func (w *Watch) validate() error {
	if w.Interval != "" {
		d, err := time.ParseDuration(w.Interval)
		if err != nil || d < MinWatchInterval || d > 7*24*time.Hour {
			return fmt.Errorf("watch.interval: %q: want a duration between 10s and 168h", w.Interval)
		}
	}
	if w.Jitter != nil && (*w.Jitter < 0 || *w.Jitter > 0.5 || *w.Jitter != *w.Jitter) {
		return fmt.Errorf("watch.jitter: want a fraction between 0 and 0.5")
	}
	ids := map[string]bool{}
	for i, r := range w.Routers {
		a, err := netip.ParseAddr(r.Address)
		if err != nil {
			return fmt.Errorf("watch.routers[%d].address: %q is not an IP address", i, r.Address)
		}
		id := r.ID
		if id == "" {
			id = a.String()
		}
		if ids[id] {
			return fmt.Errorf("watch.routers[%d]: the id %q is used twice", i, id)
		}
		ids[id] = true
		if r.Port < 0 || r.Port > 65535 {
			return fmt.Errorf("watch.routers[%d].port: %d is not 1-65535", i, r.Port)
		}
		for _, ch := range id + r.Label + r.Adapter {
			if ch < 0x20 || ch == 0x7f {
				return fmt.Errorf("watch.routers[%d]: a control character in its id, label or adapter", i)
			}
		}
	}
	return nil
}

// ValidateDataDir checks a data directory named in the file or with
// --data-dir: an absolute path (a relative one would depend on where
// routerwatch happens to run) without control characters (a NUL cuts the
// path short at the system call; the others are typing accidents).
func ValidateDataDir(dir string) error {
	for _, r := range dir {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds the control character %U", dir, r)
		}
	}
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("%q must be an absolute path", dir)
	}
	return nil
}

// ValidateSourceURL accepts https URLs, and http URLs only for loopback
// hosts (tests and local mirrors). Its errors name the URL by RedactURL:
// a source may carry credentials.
func ValidateSourceURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole URL, credentials included
		}
		return fmt.Errorf("%q is not a URL: %w", RedactURL(s), err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q: plain http is only allowed for loopback mirrors; use https", RedactURL(s))
	default:
		return fmt.Errorf("%q: want an https URL", RedactURL(s))
	}
}

// Redacted stands for a credential RedactURL removed.
const Redacted = "REDACTED"

// RedactURL returns s fit to print, log or store: the user information
// (user:password@, or a token as the user name) becomes REDACTED, and so
// does the value of every query parameter whose name looks like a
// credential (token, key, password, secret, signature, auth, …). The rest
// of the URL is kept. A string that does not parse as a URL but holds an
// "@" or a "?", where credentials go, keeps only its scheme.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if !strings.ContainsAny(s, "@?") {
			return s
		}
		scheme, _, ok := strings.Cut(s, "://")
		if !ok || strings.ContainsAny(scheme, "@?") {
			scheme = "?"
		}
		return scheme + "://" + Redacted + "…"
	}
	changed := false
	if u.User != nil && u.User.String() != Redacted {
		u.User, changed = url.User(Redacted), true
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, v, hasValue := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if hasValue && v != Redacted && secretParam(name) {
				parts[i], changed = k+"="+Redacted, true
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if !changed {
		return s // as the user wrote it
	}
	return u.String()
}

// secretParam reports whether a query parameter name looks like it
// carries a credential (api_key, access_token, X-Amz-Signature, sig, …).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "key", "pass", "pwd", "secret", "sig", "auth", "credential", "session", "cookie"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Secret holds a credential. It never prints, logs or marshals its value.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the plaintext; call it only where the value is used.
func (s Secret) Reveal() string { return s.v }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "<secret>"
}

// GoString keeps %#v from revealing the value.
func (s Secret) GoString() string { return s.String() }

// MarshalText keeps every text encoder (JSON, YAML) from revealing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a plaintext secret from a configuration file.
func (s *Secret) UnmarshalText(b []byte) error { s.v = string(b); return nil }
