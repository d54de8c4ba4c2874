-- Subject tag and X-CFilter header; on Sendmail the Subject is changed in
-- place even when it is the first field.
dofile(dir .. "/common.lua")
local conn = begin("alice@example.com", "bob@partner.org")
content(conn, "Kestrel update", "Kestrel notes.\r\n")
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	fail("modified message not accepted")
end
if not mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [ENCRYPT] Kestrel update") then
	fail("subject not changed")
end
if not mt.eom_check(conn, MT_HDRADD, "X-CFilter", " Encrypt") then
	fail("X-CFilter not added")
end
mt.disconnect(conn)
mt.echo("modify ok")
