// SPDX-License-Identifier: Apache-2.0

// Package pgtest starts a real PostgreSQL server for tests: Debian's
// postgresql package (initdb and postgres from /usr/lib/postgresql/<v>/bin),
// run as the postgres user on a free loopback port with its socket in a
// temporary directory, one server per test binary, and a fresh database per
// test. It is imported only from _test.go files.
//
// The server listens on 127.0.0.1 only, with fsync off (a test's data need
// not survive a power cut) and trust authentication (only local test
// processes can reach it). When PostgreSQL is not installed or the test is
// not root, tests skip, except in CI (CI=true), where they fail: CI installs
// the package and runs as root.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Server is a running PostgreSQL.
type Server struct {
	// Port is its TCP port on 127.0.0.1; Dir its data directory.
	Port int
	Dir  string
	bin  string
	cmd  *exec.Cmd
	uid  uint32
	gid  uint32
}

var (
	once    sync.Once
	shared  *Server
	initErr error
)

// binDir finds the newest installed PostgreSQL's programs.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (apt-get install postgresql)")
}

// skip skips t, or fails it in CI.
func skip(tb testing.TB, why error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest: %v", why)
	}
	tb.Skipf("pgtest: %v", why)
}

// Start returns the test binary's server, starting it on first use; it
// stops when the test binary's TestMain calls Stop (or at exit, as the
// process dies with its children's parent gone: postgres notices).
func Start(tb testing.TB) *Server {
	tb.Helper()
	once.Do(func() { shared, initErr = start() })
	if initErr != nil {
		skip(tb, initErr)
	}
	return shared
}

// Stop stops the shared server, if one was started. Call it from
// TestMain after m.Run.
func Stop() {
	if shared != nil {
		shared.stop()
	}
}

func start() (*Server, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: cannot run postgres as the postgres user")
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "rw-pgtest-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin, uid: uint32(uid), gid: uint32(gid)}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if s.Port, err = freePort(); err != nil {
		return nil, err
	}
	s.cmd = s.run("postgres", "-D", data, "-p", strconv.Itoa(s.Port), "-k", dir, "-h", "127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group, so that a test's Ctrl-C does not reach it
	// first and Stop can end it.
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", s.DSN("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("postgres did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run is a command of PostgreSQL's run as the postgres user.
func (s *Server) run(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: s.uid, Gid: s.gid}}
	cmd.Dir = s.Dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	return cmd
}

func (s *Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		// SIGINT: PostgreSQL's fast shutdown.
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
		}
	}
	os.RemoveAll(s.Dir)
}

// Restart stops the server (fast shutdown) and starts it again on the
// same port and data: a fault a client must survive.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	_ = s.cmd.Wait()
	data := filepath.Join(s.Dir, "data")
	s.cmd = s.run("postgres", "-D", data, "-p", strconv.Itoa(s.Port), "-k", s.Dir, "-h", "127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		db, err := sql.Open("pgx", s.DSN("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgtest: restart: %v", err)
		}
	}
}

// DSN is the connection string of database db as the postgres user.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database for one test, dropped when the
// test ends, and returns its DSN.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", s.DSN("postgres"))
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return s.DSN(name)
}

// Pool opens a pgx pool on a fresh database for one test.
func (s *Server) Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), s.NewDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
