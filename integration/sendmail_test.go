package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// miltertestScript renders a miltertest(8) Lua script that plays one
// Sendmail transaction (connect, helo, envelope, headers, body, EOM) with
// the macros Sendmail sends, then runs the checks (Lua statements that call
// error() on failure).
func miltertestScript(sock, id string, rcpts []string, subject, body string, checks string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `mt.set_timeout(30)
function trim(v) if v == nil then return nil end return (string.gsub(v, "^%%s+", "")) end
conn = mt.connect(%q, 20, 0.25)
if conn == nil then error("cannot connect to the milter") end
mt.macro(conn, SMFIC_CONNECT, "j", "mta.test.example", "_", "client.test.example [127.0.0.1]", "{daemon_name}", "MTA", "{client_addr}", "127.0.0.1", "{client_name}", "client.test.example")
if mt.conninfo(conn, "client.test.example", "127.0.0.1") ~= nil then error("conninfo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("conninfo: unexpected reply") end
if mt.helo(conn, "client.test.example") ~= nil then error("helo failed") end
mt.macro(conn, SMFIC_MAIL, "i", "4AB12C3D4E", "{mail_addr}", %q, "{auth_authen}", "alice")
if mt.mailfrom(conn, %q) ~= nil then error("mailfrom failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mailfrom: unexpected reply") end
`, sock, sender, "<"+sender+">")
	for _, r := range rcpts {
		fmt.Fprintf(&b, `mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", %q)
if mt.rcptto(conn, %q) ~= nil then error("rcptto failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcptto: unexpected reply") end
`, r, "<"+r+">")
	}
	fmt.Fprintf(&b, `if mt.data(conn) ~= nil then error("data failed") end
`)
	for _, h := range [][2]string{{"From", "<" + sender + ">"}, {"To", "<" + strings.Join(rcpts, ">, <") + ">"}, {"Subject", subject}, {"Message-ID", "<" + id + ">"}} {
		fmt.Fprintf(&b, "if mt.header(conn, %q, %q) ~= nil then error(\"header failed\") end\n", h[0], h[1])
	}
	fmt.Fprintf(&b, `if mt.eoh(conn) ~= nil then error("eoh failed") end
if mt.bodystring(conn, %q) ~= nil then error("body failed") end
if mt.eom(conn) ~= nil then error("eom failed") end
reply = mt.getreply(conn)
%s
mt.disconnect(conn)
mt.echo("script ok")
`, strings.ReplaceAll(body, "\n", "\r\n"), checks)
	return b.String()
}

// TestSendmailMiltertest drives maildlp with miltertest, the libmilter
// test tool, speaking the protocol as Sendmail does, and checks the
// actions requested at end of message.
func TestSendmailMiltertest(t *testing.T) {
	mt := needTool(t, "miltertest")
	needMaildlp(t)
	dlp := NewMaildlp(t, DLPConfig{Milter: true, Policies: testPolicies})
	sockets := map[string]string{
		"inet": "inet:" + strconv.Itoa(dlp.MilterPort) + "@127.0.0.1",
		"unix": "unix:" + dlp.MilterSock,
	}
	body := "Hello,\nthe order 4711 ships on 2026-12-01.\n"
	cases := []struct {
		name, extra, subject string
		rcpts                []string
		checks               string
	}{
		{"clean", "", "Figures", []string{recipient}, `
if reply ~= SMFIR_ACCEPT and reply ~= SMFIR_CONTINUE then error("clean: EOM reply " .. reply) end
if not (mt.eom_check(conn, MT_HDRADD, "X-Filter-Loop") or mt.eom_check(conn, MT_HDRINSERT, "X-Filter-Loop")) then error("clean: pass header not added") end
if trim(mt.getheader(conn, "X-Filter-Loop", 0)) ~= "Reflected" then error("clean: pass header value " .. tostring(mt.getheader(conn, "X-Filter-Loop", 0))) end
if mt.eom_check(conn, MT_HDRCHANGE) then error("clean: header changed") end
if mt.eom_check(conn, MT_QUARANTINE) then error("clean: quarantined") end
if mt.eom_check(conn, MT_RCPTDELETE, "<bob@ext.example>") then error("clean: recipient deleted") end`},
		{"block", wordBlock, "Figures", []string{recipient}, `
if reply ~= SMFIR_REPLYCODE then error("block: EOM reply " .. reply .. ", want SMFIR_REPLYCODE") end`},
		{"tempfail", wordTempfail, "Figures", []string{recipient}, `
if reply ~= SMFIR_REPLYCODE and reply ~= SMFIR_TEMPFAIL then error("tempfail: EOM reply " .. reply) end`},
		{"modify", wordModify, "Figures", []string{recipient}, `
if reply ~= SMFIR_ACCEPT and reply ~= SMFIR_CONTINUE then error("modify: EOM reply " .. reply) end
if not (mt.eom_check(conn, MT_HDRADD, "X-CFilter") or mt.eom_check(conn, MT_HDRINSERT, "X-CFilter")) then error("modify: X-CFilter not added") end
if trim(mt.getheader(conn, "X-CFilter", 0)) ~= "Encrypt" then error("modify: X-CFilter value " .. tostring(mt.getheader(conn, "X-CFilter", 0))) end
if not (mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [DLP checked] Figures") or mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[DLP checked] Figures")) then error("modify: Subject not changed to the tagged subject") end`},
		{"redirect", wordRedirect, "Figures", []string{recipient, "carol@ext.example"}, `
if reply ~= SMFIR_ACCEPT and reply ~= SMFIR_CONTINUE then error("redirect: EOM reply " .. reply) end
if not mt.eom_check(conn, MT_RCPTDELETE, "<bob@ext.example>") then error("redirect: bob not deleted") end
if not mt.eom_check(conn, MT_RCPTDELETE, "<carol@ext.example>") then error("redirect: carol not deleted") end
if not mt.eom_check(conn, MT_RCPTADD, "<review@review.example>") and not mt.eom_check(conn, MT_RCPTADD, "review@review.example") then error("redirect: review address not added") end`},
		{"quarantine", wordQuarantine, "Figures", []string{recipient}, `
if not mt.eom_check(conn, MT_QUARANTINE) then error("quarantine: not requested") end`},
	}
	dir := tempDir(t, "maildlp-miltertest-")
	for transport, sock := range sockets {
		for _, c := range cases {
			t.Run(transport+"/"+c.name, func(t *testing.T) {
				b := body
				if c.extra != "" {
					b += "Code word " + c.extra + "\n"
				}
				script := miltertestScript(sock, newID("mt-"+c.name), c.rcpts, c.subject, b, c.checks)
				path := filepath.Join(dir, transport+"-"+c.name+".lua")
				if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(mt, "-s", path)
				done := make(chan error, 1)
				var out []byte
				go func() {
					var err error
					out, err = cmd.CombinedOutput()
					done <- err
				}()
				select {
				case err := <-done:
					if err != nil || !strings.Contains(string(out), "script ok") {
						t.Errorf("miltertest %s: %v\n%s\nscript:\n%s", c.name, err, out, script)
					}
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					<-done
					t.Fatalf("miltertest %s timed out", c.name)
				}
			})
		}
	}
}
