-- A sender refused by an envelope-only policy at MAIL FROM.
dofile(dir .. "/common.lua")
local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 20, 0.1)
check(mt.conninfo(conn, "client.example.net", "192.0.2.10"), "conninfo")
check(mt.mailfrom(conn, "<mallory@example.com>"), "mailfrom")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then
	fail("blocked sender not refused at MAIL FROM")
end
mt.disconnect(conn)
mt.echo("early ok")
