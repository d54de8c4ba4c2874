package app

import (
	"errors"
	"net"
	"os"
)

// notifier sends sd_notify state lines to the service manager.
type notifier struct {
	socket string // "" when not run by systemd with Type=notify
}

func newNotifier(socket string) notifier {
	if socket == "" {
		socket = os.Getenv("NOTIFY_SOCKET")
	}
	return notifier{socket: socket}
}

// notify sends state (e.g. "READY=1") as one datagram on $NOTIFY_SOCKET.
// Without a socket it does nothing. "@name" is an abstract socket.
func (n notifier) notify(state string) error {
	if n.socket == "" {
		return nil
	}
	name := n.socket
	if name[0] == '@' {
		name = "\x00" + name[1:]
	} else if name[0] != '/' {
		return errors.New("sd_notify: NOTIFY_SOCKET is neither a path nor an abstract socket")
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}
