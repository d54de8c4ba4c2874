-- A clean message is accepted with the pass header and nothing else.
dofile(dir .. "/common.lua")
local conn = begin("alice@example.com", "bob@partner.org")
content(conn, "Quarterly figures", "Revenue 1234 5678 grew 12%.\r\n")
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	fail("clean message not accepted")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Filter-Loop") then
	fail("no pass header added")
end
if mt.getheader(conn, "X-Filter-Loop", 0) ~= " Reflected" then
	fail("pass header value: " .. tostring(mt.getheader(conn, "X-Filter-Loop", 0)))
end
if mt.eom_check(conn, MT_QUARANTINE) or mt.eom_check(conn, MT_HDRCHANGE) or mt.eom_check(conn, MT_RCPTDELETE, "<bob@partner.org>") then
	fail("clean message modified")
end
mt.disconnect(conn)
mt.echo("pass ok")
