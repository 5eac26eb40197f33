// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package alert

import (
	"context"
	"errors"
	"net"
)

// defaultLocalSocket is empty: this system has no syslog socket.
var defaultLocalSocket = ""

func dialLocal(context.Context, string) (net.Conn, bool, error) {
	return nil, false, errors.New("syslog: this system has no local syslog socket; set network udp or tcp")
}
