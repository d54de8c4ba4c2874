package app

import (
	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/reinject"
)

// holdOption gives the hop the hold mark key when quarantined mail is to
// be held at the downstream Postfix (quarantine_action "hold").
func holdOption(cfg *config.Config) (reinject.Option, error) {
	if cfg.Reinject.QuarantineAction != "hold" {
		return reinject.WithHoldKey(nil), nil
	}
	key, err := cfg.Quarantine.HoldKey()
	if err != nil {
		return nil, err
	}
	return reinject.WithHoldKey(key), nil
}
