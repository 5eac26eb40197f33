// SPDX-License-Identifier: Apache-2.0

package dnsaudit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNewPlanUsageErrors: every bad option is a *UsageError that names
// the problem, found without sending anything.
func TestNewPlanUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	badInd := filepath.Join(dir, "ind.json")
	if err := os.WriteFile(badInd, []byte(`{"schema_version":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "resolver_name", o: Options{Resolvers: []string{"dns.example.net"}}, want: "host names are never resolved"},
		{name: "doh_http", o: Options{TrustedDoH: []string{"http://192.0.2.53/dns-query"}}, want: "scheme must be https"},
		{name: "doh_name", o: Options{TrustedDoH: []string{"https://resolver.example.net/dns-query"}}, want: "IP address"},
		{name: "dot_name", o: Options{TrustedDoT: []string{"resolver.example.net"}}, want: "--trusted-dot"},
		{name: "canary_one_label", o: Options{Canaries: []string{"localhost"}}, want: "two labels"},
		{name: "dnssec_name", o: Options{DNSSECNames: []string{"not a name!"}}, want: "not a name"},
		{name: "nx_parent", o: Options{NXParent: "bad name!"}, want: "bad name"},
		{name: "ca_missing", o: Options{TrustCA: []string{filepath.Join(dir, "nope.pem")}}, want: "--trust-ca"},
		{name: "ca_not_pem", o: Options{TrustCA: []string{notPEM}}, want: "no PEM certificate"},
		{name: "ca_directory", o: Options{TrustCA: []string{dir}}, want: "not a regular file"},
		{name: "indicators_missing", o: Options{Indicators: filepath.Join(dir, "nope.json")}, want: "--indicators"},
		{name: "indicators_bad", o: Options{Indicators: badInd}, want: "schema_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPlan(tt.o)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("NewPlan = %v, want a *UsageError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// TestNewPlanRefusesFIFO: a FIFO named as an indicator list or a CA file
// is refused at once (issue 8 §5.7: it used to block forever waiting for
// a writer).
func TestNewPlanRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{name: "indicators", o: Options{Indicators: fifo}},
		{name: "trust_ca", o: Options{TrustCA: []string{fifo}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := NewPlan(tt.o)
				done <- err
			}()
			select {
			case err := <-done:
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "FIFO") {
					t.Errorf("NewPlan = %v, want a usage error naming the FIFO", err)
				}
			case <-time.After(5 * time.Second):
				// Unblock the reader so the goroutine ends.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				t.Fatal("NewPlan blocked on a FIFO")
			}
		})
	}
}

// TestNewPlanDefaults: no trusted resolver named means the defaults;
// naming one replaces them all.
func TestNewPlanDefaults(t *testing.T) {
	p, err := NewPlan(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Trusted() {
		got = append(got, s.String())
	}
	want := "https://1.1.1.1/dns-query https://9.9.9.9/dns-query tls://1.1.1.1:853#cloudflare-dns.com"
	if strings.Join(got, " ") != want {
		t.Errorf("default trusted %v, want %s", got, want)
	}
	p, err = NewPlan(Options{TrustedDoT: []string{"192.0.2.53"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Trusted()); n != 1 {
		t.Errorf("%d trusted resolvers, want the one named", n)
	}
}
