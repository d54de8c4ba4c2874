-- Two card numbers: refused with the policy's code, enhanced code and text.
dofile(dir .. "/common.lua")
local conn = begin("alice@example.com", "bob@partner.org")
content(conn, "Invoice", "Cards " .. card1 .. " and " .. card2 .. " on file.\r\n")
if mt.getreply(conn) ~= SMFIR_REPLYCODE then
	fail("message with card numbers not refused")
end
-- The policy text says "100%": Sendmail reads replies as format strings,
-- so it must arrive as "100%%".
if not mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.0", "refused: payment card data, 100%% blocked (policy Cards) incident INC-MT") then
	fail("reply is not 554 5.7.0 with the policy's text")
end
if mt.eom_check(conn, MT_HDRADD) then
	fail("refused message got headers")
end
mt.disconnect(conn)
mt.echo("block ok")
