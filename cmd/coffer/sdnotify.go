package main

import (
	"net"
)

// sdNotify sends state to the service manager when the process runs under
// systemd with Type=notify (NOTIFY_SOCKET names a datagram socket), and
// does nothing otherwise: the sd_notify protocol, without cgo or a
// library. An abstract socket is named with a leading @.
func sdNotify(socket, state string) error {
	if socket == "" {
		return nil
	}
	if socket[0] == '@' {
		socket = "\x00" + socket[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}
