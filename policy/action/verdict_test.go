package action

import (
	"encoding/json"
	"testing"
)

func TestParseActionRoundTrip(t *testing.T) {
	for a := Pass; a <= Block; a++ {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v, want %v", a.String(), got, err, a)
		}
	}
	if _, err := ParseAction("drop"); err == nil {
		t.Error("ParseAction(\"drop\") succeeded, want error")
	}
}

func TestPrecedence(t *testing.T) {
	order := []Action{Pass, Notify, Modify, Redirect, Quarantine, TempFail, Block}
	for i := 1; i < len(order); i++ {
		if !(order[i] > order[i-1]) {
			t.Errorf("%v does not outrank %v", order[i], order[i-1])
		}
	}
	for _, a := range []Action{Pass, Notify} {
		if a.Enforces() {
			t.Errorf("%v.Enforces() = true, want false", a)
		}
	}
	for _, a := range []Action{Modify, Redirect, Quarantine, TempFail, Block} {
		if !a.Enforces() {
			t.Errorf("%v.Enforces() = false, want true", a)
		}
	}
}

func TestActionJSON(t *testing.T) {
	b, err := json.Marshal(Verdict{Action: Quarantine, Policies: []PolicyHit{{Name: "PCI", Action: Block}}})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Action   string `json:"action"`
		Policies []struct {
			Action string `json:"action"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Action != "quarantine" || back.Policies[0].Action != "block" {
		t.Errorf("json = %s, want action quarantine and policy action block", b)
	}
	var a Action
	if err := a.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText(nope) succeeded")
	}
}
