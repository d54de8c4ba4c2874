-- A codename in the subject: held with a reason naming the policy.
dofile(dir .. "/common.lua")
local conn = begin("alice@example.com", "bob@partner.org")
content(conn, "Nightingale plans", "About Nightingale.\r\n")
if mt.getreply(conn) ~= SMFIR_ACCEPT then
	fail("quarantined message not accepted into the quarantine")
end
if not mt.eom_check(conn, MT_QUARANTINE, "codename in subject (policy Codename Nightingale) incident INC-MT") then
	fail("no quarantine with the policy's reason and the incident id")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Filter-Loop") then
	fail("no pass header added")
end
mt.disconnect(conn)
mt.echo("quarantine ok")
