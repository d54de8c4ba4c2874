package sessionid

import "testing"

func TestNew(t *testing.T) {
	a, b := New(), New()
	if len(a) != 12 || a == b {
		t.Errorf("New() = %q, %q: want two different 12-digit ids", a, b)
	}
	if got := Txn("abc", 2); got != "abc.2" {
		t.Errorf("Txn = %q", got)
	}
}
