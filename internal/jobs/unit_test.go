// SPDX-License-Identifier: Apache-2.0

package jobs_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/routerwatch/routerwatch/internal/jobs"
)

func TestChunks(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name    string
		in      []netip.Prefix
		want    []netip.Prefix
		wantN   int
		wantErr bool
	}{
		{name: "small_prefix_is_one_chunk", in: pp("198.51.100.64/26"), want: pp("198.51.100.64/26")},
		{name: "a_slash24_is_one_chunk", in: pp("198.51.100.0/24"), want: pp("198.51.100.0/24")},
		{name: "a_slash22_is_four", in: pp("198.51.100.0/22"), want: pp("198.51.100.0/24", "198.51.101.0/24", "198.51.102.0/24", "198.51.103.0/24")},
		{name: "unmasked_and_inside_another_merge", in: pp("203.0.113.7/24", "203.0.113.128/25", "203.0.113.9/32"), want: pp("203.0.113.0/24")},
		{name: "sorted", in: pp("203.0.113.0/30", "198.51.100.0/30"), want: pp("198.51.100.0/30", "203.0.113.0/30")},
		{name: "ipv6_into_slash120", in: pp("2001:db8::/119"), want: pp("2001:db8::/120", "2001:db8::100/120")},
		{name: "a_slash8_is_65536", in: pp("10.0.0.0/8"), wantN: 65536},
		{name: "more_than_a_slash8_refused", in: pp("10.0.0.0/7"), wantErr: true},
		{name: "two_slash8s_refused", in: pp("10.0.0.0/8", "11.0.0.0/8"), wantErr: true},
		{name: "an_ipv6_slash64_refused", in: pp("2001:db8::/64"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jobs.Chunks(tt.in)
			if tt.wantErr {
				if !errors.Is(err, jobs.ErrInvalid) {
					t.Fatalf("err %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.wantN != 0 && len(got) != tt.wantN {
				t.Errorf("%d chunks, want %d", len(got), tt.wantN)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"url_password", "postgres://rw:s3cret@db.example:5432/rw?sslmode=require", "postgres://rw:xxxxx@db.example:5432/rw?sslmode=require"},
		{"query_password", "postgresql://rw@db.example/rw?password=s3cret", "postgresql://rw@db.example/rw?password=xxxxx"},
		{"no_password", "postgres://rw@db.example/rw", "postgres://rw@db.example/rw"},
		{"sqlite_path", "/var/lib/routerwatch/store.db.jobs", "/var/lib/routerwatch/store.db.jobs"},
		{"unparsable", "postgres://rw:s3cret@db.example:port/%zz", "postgres://(unparsable)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobs.RedactDSN(tt.in); got != tt.want {
				t.Errorf("RedactDSN = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOpenErrorsHideThePassword: a server that is not there, and a DSN
// that does not parse, give errors without the password; the first is
// ErrUnavailable.
func TestOpenErrorsHideThePassword(t *testing.T) {
	tests := []struct {
		name, dsn   string
		unavailable bool
	}{
		{"refused", "postgres://rw:Sup3rS3cret@127.0.0.1:1/rw?sslmode=disable&connect_timeout=2", true},
		{"unparsable", "postgres://rw:Sup3rS3cret@127.0.0.1:99999999/rw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jobs.Open(t.Context(), jobs.Config{DSN: tt.dsn})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "Sup3rS3cret") {
				t.Errorf("error quotes the password: %v", err)
			}
			if errors.Is(err, jobs.ErrUnavailable) != tt.unavailable {
				t.Errorf("errors.Is(ErrUnavailable) = %v, want %v: %v", !tt.unavailable, tt.unavailable, err)
			}
		})
	}
}

func TestConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		cfg  jobs.Config
	}{
		{"no_dsn", jobs.Config{}},
		{"workers_without_index", jobs.Config{DSN: "x", Workers: 1}},
		{"too_many_workers", jobs.Config{DSN: "x", Workers: jobs.MaxWorkers + 1}},
		{"unknown_queue", jobs.Config{DSN: "x", Queues: []string{"mail"}}},
		{"rescue_before_timeout", jobs.Config{DSN: "x", ChunkTimeout: 10e9, RescueAfter: 5e9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := jobs.Open(t.Context(), tt.cfg); !errors.Is(err, jobs.ErrInvalid) {
				t.Errorf("err %v, want ErrInvalid", err)
			}
		})
	}
}
