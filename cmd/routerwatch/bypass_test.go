// SPDX-License-Identifier: Apache-2.0

package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// networkCalls are the ways Go code can reach the network on its own.
// Outside the packages in mayDial, none may appear: every probe goes
// through internal/netx, which enforces the scope (PRODUCT.md safety
// contract: "one scope-enforcing dialer is the only way code reaches the
// network").
var networkCalls = map[string][]string{
	"net":                      {"Dial", "DialTimeout", "DialTCP", "DialUDP", "DialIP", "DialUnix", "Listen", "ListenPacket", "ListenUDP", "ListenTCP", "ListenIP", "ListenMulticastUDP", "LookupHost", "LookupIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupTXT", "LookupSRV", "Dialer", "Resolver", "DefaultResolver"},
	"net/http":                 {"Get", "Head", "Post", "PostForm", "DefaultClient", "DefaultTransport", "Transport", "Client"},
	"crypto/tls":               {"Dial", "DialWithDialer", "Dialer"},
	"github.com/miekg/dns":     {"Exchange", "ExchangeContext", "Dial", "DialTimeout", "DialWithTLS", "DialTimeoutWithTLS", "Client"},
	"github.com/gosnmp/gosnmp": {"Default"},
	"golang.org/x/net/icmp":    {"ListenPacket"},
	"syscall":                  {"Socket", "Connect", "Sendto"},
	"golang.org/x/sys/unix":    {"Socket", "Connect", "Sendto", "Sendmsg", "SendmsgN"},
}

// mayDial lists the packages allowed to use them, each with the reason.
var mayDial = map[string]string{
	"internal/netx":            "it is the scope-enforcing dialer, and holds the sweep's raw SYN socket (SYNConn checks each destination like Dial)",
	"internal/lab":             "it runs the lab's own daemons and checks inside the namespaces it created",
	"internal/advisory/feed":   "advisories update downloads feeds the user named; it is not a probe",
	"internal/alert":           "alerts go to the webhook, syslog and SMTP endpoints the user configured; they are not probes of a device",
	"internal/agent":           "the agent talks to the routerwatch server the user named (--server); its audits go through the engines and netx",
	"internal/probe/dhcpprobe": "DHCP and router solicitations need raw/broadcast sockets; it checks each destination with netx.Dialer.Check",
}

// TestNoProbeBypassesTheDialer parses every non-test Go file of the
// module and fails on any network call outside mayDial.
func TestNoProbeBypassesTheDialer(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		// Test-support packages (…test, imported only from _test.go
		// files, which TestLayering enforces) run loopback fakes.
		if strings.HasSuffix(filepath.Base(rel), "test") {
			return nil
		}
		for pkg := range mayDial {
			if rel == pkg || strings.HasPrefix(rel, pkg+"/") {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, c := range networkCallsIn(fset, f) {
			t.Errorf("%s reaches the network without internal/netx", c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no files checked")
	}
}

// networkCallsIn returns "file:line: pkg.Name" for each watched call.
func networkCallsIn(fset *token.FileSet, f *ast.File) []string {
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if _, watched := networkCalls[p]; !watched {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		p, ok := names[id.Name]
		if !ok {
			return true
		}
		for _, bad := range networkCalls[p] {
			if sel.Sel.Name == bad {
				out = append(out, fset.Position(sel.Pos()).String()+": "+p+"."+bad)
			}
		}
		return true
	})
	return out
}

// TestBypassDetectorWorks feeds the detector a file that dials directly,
// so the test above cannot pass by accident.
func TestBypassDetectorWorks(t *testing.T) {
	src := `package p
import (
	"net"
	h "net/http"
	"fmt"
)
func f() { net.Dial("tcp", "192.0.2.1:80"); h.Get("http://192.0.2.1/"); fmt.Println() }`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := networkCallsIn(fset, f); len(got) != 2 {
		t.Errorf("detector found %q, want net.Dial and net/http.Get", got)
	}
}
