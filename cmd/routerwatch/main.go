// SPDX-License-Identifier: Apache-2.0

// Command routerwatch checks small-office/home-office routers for known
// vulnerabilities, risky exposure and DNS hijacking.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/routerwatch/routerwatch/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
