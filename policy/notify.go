package policy

import (
	"net/netip"
	"strings"

	"github.com/maildlp/maildlp/config"
)

// notifyMode is [notify] notify_sender.
type notifyMode int

const (
	notifyVerified notifyMode = iota // authenticated_or_internal
	notifyAlways
	notifyNever
)

// senderNotices decides whether a notice may go to the envelope sender.
// The sender of a message is whatever the client wrote in MAIL FROM: a
// notice to it sent through the organisation's relay is backscatter,
// and with the message's subject in it, a way to make the relay carry a
// sender's text to any address.
type senderNotices struct {
	mode    notifyMode
	trusted []config.Network
}

func newSenderNotices(n config.Notify) senderNotices {
	s := senderNotices{}
	switch n.NotifySender {
	case config.NotifyAlways:
		s.mode = notifyAlways
	case config.NotifyNever:
		s.mode = notifyNever
	}
	s.trusted = n.TrustedNetworks
	if s.trusted == nil {
		s.trusted = config.DefaultTrustedNetworks
	}
	return s
}

// verified reports whether the envelope sender is believed: the client
// authenticated (SMTP AUTH), or the sender's domain is internal and the
// client is in trusted_networks. "always" believes every sender, "never"
// none.
func (s senderNotices) verified(env Envelope, internal []string) bool {
	switch s.mode {
	case notifyNever:
		return false
	case notifyAlways:
		// Every sender is notified, but only an authenticated or internal
		// one is believed enough to be sent the subject.
	}
	if env.AuthUser != "" {
		return true
	}
	return isInternal(internal, env.MailFrom) && s.trustedClient(env.ClientAddr)
}

func (s senderNotices) trustedClient(addr string) bool {
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	if len(addr) > 5 && strings.EqualFold(addr[:5], "ipv6:") {
		addr = addr[5:] // Sendmail's and XFORWARD's spelling of an IPv6 address
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	return config.ContainsAddr(s.trusted, ip)
}
