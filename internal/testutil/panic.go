package testutil

import "strings"

// PanicLogged reports how a JSON log recorded a recovered panic: errLine
// when an ERROR line "recovered panic" names the panic value (text) and
// holds no stack (stackMarker, a line of the stack the test provoked),
// stackDebug when the stack is on a DEBUG line.
func PanicLogged(log, text, stackMarker string) (errLine, stackDebug bool) {
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.Contains(l, `"msg":"recovered panic"`):
			errLine = strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, text) && !strings.Contains(l, stackMarker)
		case strings.Contains(l, stackMarker):
			stackDebug = strings.Contains(l, `"level":"DEBUG"`)
		}
	}
	return errLine, stackDebug
}
