// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/routerwatch/routerwatch/internal/alert"
	"github.com/routerwatch/routerwatch/internal/lab"
	"github.com/routerwatch/routerwatch/internal/lab/labtest"
)

// receivers are the three alert channels' peers: a webhook receiver and
// an SMTP server listening inside the client's namespace (where watch
// runs), and a real syslog socket (a Unix datagram socket is reached by
// its path, whatever the network namespace).
type receivers struct {
	mu      sync.Mutex
	hooks   []alert.Event
	mails   []string
	syslogs []string

	hookURL, smtpHost string
	smtpPort          int
	syslogPath        string
}

func (r *receivers) counts() (int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hooks), len(r.mails), len(r.syslogs)
}

type smtpSession struct{ r *receivers }

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, string(b))
	s.r.mu.Unlock()
	return nil
}

func startReceivers(t *testing.T, l *lab.Lab) *receivers {
	t.Helper()
	r := &receivers{}
	var hookLn, smtpLn net.Listener
	if err := l.Do(lab.Client, func() (err error) {
		if hookLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		smtpLn, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev alert.Event
		if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.hooks = append(r.hooks, ev)
		r.mu.Unlock()
	})}
	go hook.Serve(hookLn)
	t.Cleanup(func() { hook.Close() })
	r.hookURL = "http://" + hookLn.Addr().String() + "/routerwatch"

	ms := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{r}, nil }))
	ms.Domain = "relay.test"
	ms.ReadTimeout, ms.WriteTimeout = 10*time.Second, 10*time.Second
	go ms.Serve(smtpLn)
	t.Cleanup(func() { ms.Close() })
	host, port, _ := net.SplitHostPort(smtpLn.Addr().String())
	r.smtpHost, r.smtpPort = host, atoi(port)

	r.syslogPath = filepath.Join(t.TempDir(), "log.sock")
	sl, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: r.syslogPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sl.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := sl.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.syslogs = append(r.syslogs, string(buf[:n]))
			r.mu.Unlock()
		}
	}()
	return r
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// watchDaemon is routerwatch watch running in the client namespace.
type watchDaemon struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	cycles int
	log    bytes.Buffer
	stdout bytes.Buffer
	done   chan error
}

func (d *watchDaemon) cyclesDone() int { d.mu.Lock(); defer d.mu.Unlock(); return d.cycles }

// waitCycles waits until n more cycles have ended.
func (d *watchDaemon) waitCycles(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	want := d.cyclesDone() + n
	for deadline := time.Now().Add(limit); d.cyclesDone() < want; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.mu.Lock()
			defer d.mu.Unlock()
			t.Fatalf("waited %v for %d cycle(s); the daemon said:\n%s", limit, n, d.log.String())
		}
	}
}

// TestWatchDNSChanger is issue 9's demonstration in the lab: watch runs
// as a daemon in the client of dns-changer, reading the router's settings
// and running the DNS audit every cycle, with a webhook, a real syslog
// socket and an SMTP server as channels. The DNS changer's edit, made in
// the middle of the run the way the published code does it, raises
// exactly one alert on each channel within one interval, naming the
// change and the DNS verdict; switching the DNS back raises exactly one
// "resolved" on each. The router's password is in no process's command
// line, no log, no alert and nowhere in the store.
func TestWatchDNSChanger(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "dns-changer")
	rcv := startReceivers(t, l)
	user, password := l.RouterLogin()
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.yaml")
	if err := os.WriteFile(creds, fmt.Appendf(nil, "routers:\n  - user: %s\n    password: %q\n", user, password), 0o600); err != nil {
		t.Fatal(err)
	}
	router := l.Addr("router.lan")
	cfg := filepath.Join(dir, "config.yaml")
	config := fmt.Sprintf(`data_dir: %s
credentials_file: %s
watch:
  interval: 10s
  jitter: 0
  routers:
    - {id: home, address: %s, adapter: tplink-legacy, label: lab router}
alerts:
  webhook: {url: %q}
  syslog: {network: unix, address: %q}
  smtp: {host: %s, port: %d, from: routerwatch@lab.test, to: [owner@lab.test], tls: none}
`, filepath.Join(dir, "data"), creds, router, rcv.hookURL, rcv.syslogPath, rcv.smtpHost, rcv.smtpPort)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	// Alerts at critical only: this router's remote management is open
	// (high) until the DNS changer's second request closes it, and that
	// would be a second alert of its own in the interval under test.
	args := append([]string{"--config", cfg, "watch", "--alert-on", "critical"}, trustedDNS(l)...)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	d := &watchDaemon{cmd: l.Command(ctx, lab.Client, labtest.Executable(t), args...), done: make(chan error, 1)}
	d.cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1")
	d.cmd.Stdout = &d.stdout
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "watch: cycle done") {
				d.cycles++
			}
			d.mu.Unlock()
		}
		d.done <- d.cmd.Wait()
	}()
	defer d.cmd.Process.Kill()

	const interval = 10 * time.Second
	d.waitCycles(t, 1, 40*time.Second)
	if h, m, s := rcv.counts(); h+m+s != 0 {
		t.Fatalf("the clean router raised alerts: webhook %d, mail %d, syslog %d", h, m, s)
	}
	// No process holds the password on its command line.
	checkCmdlines(t, password)

	// The attack, in the middle of the run.
	attacker := l.Addr("attacker.resolver")
	if err := l.DNSChanger(ctx, attacker); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	for h, _, _ := rcv.counts(); h == 0; h, _, _ = rcv.counts() {
		if time.Since(changed) > 2*interval+30*time.Second {
			t.Fatalf("no alert within an interval of the change; the daemon said:\n%s", d.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.waitCycles(t, 1, 60*time.Second) // one more cycle: nothing new
	rcv.mu.Lock()
	hooks, mails, logs := append([]alert.Event(nil), rcv.hooks...), append([]string(nil), rcv.mails...), append([]string(nil), rcv.syslogs...)
	rcv.mu.Unlock()
	if len(hooks) != 1 || len(mails) != 1 || len(logs) != 1 {
		t.Fatalf("after the attack: webhook %d, mail %d, syslog %d alerts; want exactly one each\n%+v", len(hooks), len(mails), len(logs), hooks)
	}
	ev := hooks[0]
	wantChange := "DHCP DNS primary changed from " + router.String() + " to " + attacker.String()
	if ev.Kind != "raised" || ev.CheckID != "watch.dns_hijacked" || !strings.Contains(ev.Detail, wantChange) ||
		!strings.Contains(ev.Detail, "DNS audit: ") || !strings.Contains(ev.Detail, attacker.String()) {
		t.Errorf("webhook alert %s %s: %q; want raised watch.dns_hijacked naming %q and the DNS verdict", ev.Kind, ev.CheckID, ev.Detail, wantChange)
	}
	if !strings.Contains(mails[0], attacker.String()) || !strings.Contains(logs[0], "watch.dns_hijacked") {
		t.Errorf("mail or syslog do not name the problem:\nmail: %s\nsyslog: %s", mails[0], logs[0])
	}

	// The owner puts the DNS back: exactly one "resolved" on each channel.
	if err := l.SetDHCPDNS(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for h, _, _ := rcv.counts(); h < 2; h, _, _ = rcv.counts() {
		if time.Since(back) > 2*interval+30*time.Second {
			t.Fatalf("no resolved within an interval; the daemon said:\n%s", d.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.waitCycles(t, 1, 60*time.Second)
	rcv.mu.Lock()
	hooks, mails, logs = append([]alert.Event(nil), rcv.hooks...), append([]string(nil), rcv.mails...), append([]string(nil), rcv.syslogs...)
	rcv.mu.Unlock()
	if len(hooks) != 2 || len(mails) != 2 || len(logs) != 2 || hooks[1].Kind != "resolved" || hooks[1].CheckID != "watch.dns_hijacked" {
		t.Fatalf("after switching back: webhook %d (%+v), mail %d, syslog %d; want one resolved more on each", len(hooks), hooks, len(mails), len(logs))
	}

	// SIGTERM stops it cleanly.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("watch after SIGTERM: %v\n%s", err, d.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not stop on SIGTERM")
	}
	if !strings.Contains(d.log.String(), "watch: stopped") {
		t.Errorf("no clean stop in the log:\n%s", d.log.String())
	}

	// The password is in no log, no alert, no file of the data directory.
	for name, b := range map[string][]byte{"stderr": d.log.Bytes(), "stdout": d.stdout.Bytes(),
		"alerts": []byte(fmt.Sprint(hooks, mails, logs))} {
		if bytes.Contains(b, []byte(password)) {
			t.Errorf("the router's password is in %s", name)
		}
	}
	grepTree(t, filepath.Join(dir, "data"), password)
}

// checkCmdlines fails when a process's command line holds secret.
func checkCmdlines(t *testing.T, secret string) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("process %s holds the router's password on its command line: %q", e.Name(), b)
		}
	}
}

// grepTree fails when a file under dir holds secret.
func grepTree(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the router's password", p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no file in %s: nothing was stored", dir)
	}
}

// TestFixDNSChanger: after the DNS changer's edit, `routerwatch fix
// --apply` run on the client puts the router's DHCP DNS back: the
// client's next lease hands out the router again and `routerwatch dns`
// finds no hijack; the store and the backup hold no password.
func TestFixDNSChanger(t *testing.T) {
	t.Parallel()
	l := labtest.Up(t, "dns-changer")
	user, password := l.RouterLogin()
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.yaml")
	if err := os.WriteFile(creds, fmt.Appendf(nil, "routers:\n  - user: %s\n    password: %q\n", user, password), 0o600); err != nil {
		t.Fatal(err)
	}
	router := l.Addr("router.lan")
	attacker := l.Addr("attacker.resolver")
	if err := l.DNSChanger(t.Context(), attacker); err != nil {
		t.Fatal(err)
	}
	if lease, err := l.DHCP(t.Context()); err != nil || len(lease.DNS) == 0 || lease.DNS[0] != attacker {
		t.Fatalf("after the attack the lease hands out %v (%v), want %s first", lease.DNS, err, attacker)
	}
	data := filepath.Join(dir, "data")
	dry := routerwatch(t, l, lab.Client, "--data-dir", data, "fix", router.String(), "--dns", "router", "--credentials", creds)
	if dry.code != 0 || !strings.Contains(string(dry.stdout), "DHCP DNS: "+attacker.String()+" → the router itself") ||
		!strings.Contains(string(dry.stdout), "Dry run") {
		t.Fatalf("dry run: exit %d\n%s\n%s", dry.code, dry.stdout, dry.stderr)
	}
	if lease, err := l.DHCP(t.Context()); err != nil || lease.DNS[0] != attacker {
		t.Fatalf("the dry run changed the router: lease %v (%v)", lease.DNS, err)
	}
	fix := routerwatch(t, l, lab.Client, "--data-dir", data, "fix", router.String(), "--dns", "router", "--credentials", creds, "--apply")
	if fix.code != 0 || !strings.Contains(string(fix.stdout), "Done: 1 change(s) made and read back") {
		t.Fatalf("fix --apply: exit %d\n%s\n%s", fix.code, fix.stdout, fix.stderr)
	}
	lease, err := l.DHCP(t.Context())
	if err != nil || len(lease.DNS) != 1 || lease.DNS[0] != l.Addr("router.dns") {
		t.Fatalf("after the fix the lease hands out %v (%v), want only the router", lease.DNS, err)
	}
	r := routerwatch(t, l, lab.Client, append([]string{"dns", "--format", "json"}, trustedDNS(l)...)...)
	rep := parseReport(t, r)
	for _, s := range rep.Subjects {
		if s.Kind == "resolver" && s.Verdict != "clean" {
			t.Errorf("after the fix, resolver %s is %s", s.ID, s.Verdict)
		}
	}
	if r.code != 0 {
		t.Errorf("dns after the fix: exit %d\n%s", r.code, r.stdout)
	}
	for _, out := range [][]byte{dry.stdout, dry.stderr, fix.stdout, fix.stderr} {
		if bytes.Contains(out, []byte(password)) {
			t.Error("fix printed the router's password")
		}
	}
	grepTree(t, data, password)
	_ = netip.Addr{}
}
