// SPDX-License-Identifier: Apache-2.0

package bannerprobe_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/routerwatch/routerwatch/internal/probe/bannerprobe"
)

func TestTelnetFeed(t *testing.T) {
	tests := []struct {
		name      string
		chunks    []string
		wantText  string
		wantReply string
		wantOpts  []string
	}{
		{name: "busybox", chunks: []string{"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03Login: "},
			wantText: "Login: ", wantReply: "\xff\xfc\x01\xff\xfc\x1f\xff\xfe\x01\xff\xfe\x03",
			wantOpts: []string{"DO 1", "DO 31", "WILL 1", "WILL 3"}},
		{name: "split_across_reads", chunks: []string{"a\xff", "\xfd", "\x18b"},
			wantText: "ab", wantReply: "\xff\xfc\x18", wantOpts: []string{"DO 24"}},
		{name: "escaped_iac", chunks: []string{"x\xff\xffy"}, wantText: "x\xffy"},
		{name: "subnegotiation_skipped", chunks: []string{"\xff\xfa\x18\x01\xff\xf0ok"}, wantText: "ok"},
		{name: "dont_and_wont_not_answered", chunks: []string{"\xff\xfe\x01\xff\xfc\x03."}, wantText: ".",
			wantOpts: []string{"DONT 1", "WONT 3"}},
		{name: "nop", chunks: []string{"\xff\xf1z"}, wantText: "z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tel := bannerprobe.NewTelnet(1024)
			var reply []byte
			for _, c := range tc.chunks {
				reply = append(reply, tel.Feed([]byte(c))...)
			}
			if string(tel.Text()) != tc.wantText || string(reply) != tc.wantReply {
				t.Errorf("text %q reply %q; want %q %q", tel.Text(), reply, tc.wantText, tc.wantReply)
			}
			if diff := cmp.Diff(tc.wantOpts, tel.Options()); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTelnetRepliesBounded(t *testing.T) {
	tel := bannerprobe.NewTelnet(16)
	reply := tel.Feed(bytes.Repeat([]byte("\xff\xfd\x01"), 1000))
	if len(reply) > 32*3 || len(tel.Options()) > 32 {
		t.Errorf("%d reply bytes, %d options for 1000 DOs; want at most 96 and 32", len(reply), len(tel.Options()))
	}
}

func TestParseSSH(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    bannerprobe.SSHIdent
		wantOK  bool
		wantErr bool
	}{
		{name: "dropbear", in: "SSH-2.0-dropbear_2022.83\r\n", want: bannerprobe.SSHIdent{Proto: "2.0", Software: "dropbear_2022.83"}, wantOK: true},
		{name: "lf_only", in: "SSH-1.99-Cisco-1.25\n", want: bannerprobe.SSHIdent{Proto: "1.99", Software: "Cisco-1.25"}, wantOK: true},
		{name: "incomplete", in: "SSH-2.0-drop"},
		{name: "no_dash", in: "SSH-2.0\r\n", wantErr: true},
		{name: "too_long", in: "SSH-2.0-" + strings.Repeat("a", 300), wantErr: true},
		{name: "preamble_only", in: "hello\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := bannerprobe.ParseSSH([]byte(tc.in))
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("ParseSSH(%q) ok=%v err=%v", tc.in, ok, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseSSH (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFTP(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    bannerprobe.FTPGreeting
		wantOK  bool
		wantErr bool
	}{
		{name: "one_line", in: "220 Welcome to TP-LINK FTP server\r\n", want: bannerprobe.FTPGreeting{Code: 220, Lines: []string{"Welcome to TP-LINK FTP server"}}, wantOK: true},
		{name: "multi", in: "220-a\r\n220-b\r\n220 c\r\n", want: bannerprobe.FTPGreeting{Code: 220, Lines: []string{"a", "b", "c"}}, wantOK: true},
		{name: "refused", in: "421 Too many connections\r\n", want: bannerprobe.FTPGreeting{Code: 421, Lines: []string{"Too many connections"}}, wantOK: true},
		{name: "bare_code", in: "220\r\n", want: bannerprobe.FTPGreeting{Code: 220, Lines: []string{""}}, wantOK: true},
		{name: "partial", in: "220-a\r\n", want: bannerprobe.FTPGreeting{Code: 220, Lines: []string{"a"}}},
		{name: "not_ftp", in: "HTTP/1.1 400\r\n", wantErr: true},
		{name: "not_ftp_no_newline", in: "garbage", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := bannerprobe.ParseFTP([]byte(tc.in))
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("ParseFTP(%q) ok=%v err=%v", tc.in, ok, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseFTP (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzTelnet(f *testing.F) {
	f.Add([]byte("\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03Login: "), 7)
	f.Add([]byte("\xff\xfa\x18\x01\xff\xf0ok\xff\xff"), 3)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		tel := bannerprobe.NewTelnet(256)
		if split < 0 || split > len(b) {
			split = len(b) / 2
		}
		reply := append(tel.Feed(b[:split]), tel.Feed(b[split:])...)
		if len(tel.Text()) > 256 || len(reply) > 96 || len(tel.Options()) > 32 {
			t.Fatalf("bounds: text %d reply %d options %d", len(tel.Text()), len(reply), len(tel.Options()))
		}
		_ = bannerprobe.Prompt(string(tel.Text()))
	})
}

func FuzzParseSSH(f *testing.F) {
	f.Add([]byte("SSH-2.0-dropbear_2022.83\r\n"))
	f.Add([]byte("x\r\nSSH-2.0-ROSSSH\r\n"))
	f.Add([]byte("SSH-\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok, err := bannerprobe.ParseSSH(b)
		if ok && err != nil {
			t.Fatal("ok with an error")
		}
		if !utf8.ValidString(id.Software) || len(id.Software) > 255 {
			t.Fatalf("software %q", id.Software)
		}
	})
}

func FuzzParseFTP(f *testing.F) {
	f.Add([]byte("220 Welcome to TP-LINK FTP server\r\n"))
	f.Add([]byte("220-a\r\n b\r\n220 c\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, ok, err := bannerprobe.ParseFTP(b)
		if ok && err != nil {
			t.Fatal("ok with an error")
		}
		if len(g.Lines) > 32 {
			t.Fatalf("%d lines", len(g.Lines))
		}
	})
}

func BenchmarkTelnetFeed(b *testing.B) {
	in := []byte("\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03" + strings.Repeat("banner line\r\n", 20) + "Login: ")
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		bannerprobe.NewTelnet(4096).Feed(in)
	}
}
