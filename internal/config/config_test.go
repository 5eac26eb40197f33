// SPDX-License-Identifier: Apache-2.0

package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadInvalid: one testdata file per invalid case, with the error it
// must give (blackbox_exporter's pattern).
func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"invalid-unknown-key.yml", `unknown field "fail_onn"`},
		{"invalid-log-level.yml", `log_level: "loud" is not one of debug, info, warn, error`},
		{"invalid-format.yml", `format: "xml" is not one of text, json`},
		{"invalid-fail-on.yml", `fail_on: "severe" is not one of info, low, medium, high, critical`},
		{"invalid-data-dir.yml", `data_dir: "data" must be an absolute path`},
		{"invalid-source-http.yml", `advisories.sources[0]: "http://198.51.100.1/feed.json": plain http is only allowed for loopback mirrors; use https`},
		{"invalid-duplicate-key.yml", `duplicate`},
		{"invalid-type.yml", `[1:12]`},
		{"invalid-allowed-resolver.yml", `policy.allowed_resolvers[0]: "router.lan" is not an IP address`},
		{"invalid-watch-interval.yml", `watch.interval: "5s": want a duration between 10s and 168h`},
		{"invalid-watch-duplicate.yml", `watch.routers[1]: the id "192.168.0.1" is used twice`},
		{"invalid-credentials-file.yml", `credentials_file: "creds.yaml" must be an absolute path`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tc.file), true)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadValid(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "valid.yml"), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != "json" || c.FailOn != "critical" || c.LogLevel != "warn" || len(c.Advisories.Sources) != 2 {
		t.Errorf("config %+v", c)
	}
	if len(c.Policy.AllowedResolvers) != 2 || c.Watch.Interval != "15m" || len(c.Watch.Routers) != 1 || c.Watch.Routers[0].Label != "living room" {
		t.Errorf("policy/watch %+v %+v", c.Policy, c.Watch)
	}
	if !strings.Contains(string(c.Alerts), "url: https://hooks.example.net/routerwatch") {
		t.Errorf("alerts block kept as %q", c.Alerts)
	}
}

func TestLoadMissing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none.yaml")
	if c, err := Load(p, false); err != nil || c.Format != "text" {
		t.Errorf("optional missing file: %+v %v", c, err)
	}
	if _, err := Load(p, true); err == nil {
		t.Error("named missing file accepted")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2")
	for _, out := range []string{s.String(), fmt.Sprintf("%v %+v %#v %s", s, s, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %q", out)
		}
	}
	b, _ := s.MarshalText()
	if string(b) != "<secret>" || s.Reveal() != "hunter2" {
		t.Errorf("MarshalText %q, Reveal %q", b, s.Reveal())
	}
}

func TestDefaultPaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := DefaultPath(env(map[string]string{"XDG_CONFIG_HOME": "/x"})); got != "/x/routerwatch/config.yaml" {
		t.Errorf("DefaultPath = %s", got)
	}
	if got := DefaultDataDir(env(map[string]string{"HOME": "/h"})); got != "/h/.local/share/routerwatch" {
		t.Errorf("DefaultDataDir = %s", got)
	}
}

// FuzzParse: a config file is user input; no content may crash routerwatch.
func FuzzParse(f *testing.F) {
	f.Add([]byte("format: json\nfail_on: critical\n"))
	f.Add([]byte("advisories:\n  sources: [https://example.org/feed.json]\n"))
	// Found by fuzzing the lab scenarios: it made the YAML library panic.
	f.Add([]byte("description: 0\nservices:\n isp: !0000000000000000000000000000000000000\n0000000:0000000000000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted a config that does not validate: %v", verr)
			}
		}
	})
}

func TestDecodeStrictRecoversFromParserPanic(t *testing.T) {
	var v struct {
		Services map[string][]string `yaml:"services"`
	}
	err := DecodeStrict([]byte("services:\n isp: !0000000000000000000000000000000000000\n0000000:0000000000000000"), &v)
	if err == nil {
		t.Fatal("malformed YAML accepted")
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no credentials", "https://www.cisa.gov/feeds/kev.json", "https://www.cisa.gov/feeds/kev.json"},
		{"user and password", "https://user:pa%3Ass@mirror.example.org/pm.json", "https://REDACTED@mirror.example.org/pm.json"},
		{"token as the user name", "https://ghp_abc123@mirror.example.org/pm.json", "https://REDACTED@mirror.example.org/pm.json"},
		{"token parameters", "https://mirror.example.org/kev.json?access_token=abc&page=2&API-Key=k&sig=s&X-Amz-Signature=z",
			"https://mirror.example.org/kev.json?access_token=REDACTED&page=2&API-Key=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED"},
		{"password parameter", "http://127.0.0.1:8080/f.json?user=u&password=p", "http://127.0.0.1:8080/f.json?user=u&password=REDACTED"},
		{"unparseable with credentials", "https://user:pass@host:port/x", "https://REDACTED…"},
		{"unparseable without credentials", "https://host:port/x", "https://host:port/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestValidateSourceURLHidesCredentials: the errors of a source URL
// never repeat its credentials.
func TestValidateSourceURLHidesCredentials(t *testing.T) {
	for _, s := range []string{
		"http://user:s3cret@198.51.100.1/feed.json",
		"ftp://user:s3cret@198.51.100.1/feed.json",
		"https://user:s3cret@198.51.100.1:port/feed.json",
		"https://user:s3cret@[::1/feed.json",
		"http://198.51.100.1/feed.json?token=s3cret",
	} {
		err := ValidateSourceURL(s)
		if err == nil {
			t.Errorf("ValidateSourceURL(%q) accepted it", s)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ValidateSourceURL(%q) = %q: shows the credential", s, err)
		}
	}
}

// FuzzRedactURL: whatever the source string, the redacted form carries no
// user information but the REDACTED placeholder, and redacting is stable.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x?token=t", "http://127.0.0.1/f.json", "https://h/x?a=1&api_key=k&b", "https://u@[::1/x", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactURL(s)
		if again := RedactURL(out); again != out {
			t.Fatalf("RedactURL(%q) = %q, but RedactURL of that = %q", s, out, again)
		}
		u, err := url.Parse(out)
		if err != nil || u.User == nil {
			return
		}
		if _, hasPassword := u.User.Password(); hasPassword || u.User.Username() != Redacted {
			t.Fatalf("RedactURL(%q) = %q keeps user information", s, out)
		}
	})
}
