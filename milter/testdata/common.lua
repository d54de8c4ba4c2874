-- Shared steps for the maildlp miltertest scripts. The Go test passes
-- port (the milter's TCP port) with -D. Each script loads this file with
-- dofile() and calls begin() to get a connection with the envelope sent.

-- fail prints the reason (miltertest does not show a script's error)
-- and stops the script with a non-zero exit status.
function fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg)
end

function check(err, what)
	if err ~= nil then
		fail(what .. " failed: " .. err)
	end
end

function begin(from, rcpt)
	local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 20, 0.1)
	if conn == nil then
		fail("cannot connect to the milter on port " .. port)
	end
	-- Sendmail's own macros: MTA version (not Postfix), queue id.
	check(mt.macro(conn, SMFIC_CONNECT, "j", "mx.example.com", "v", "8.17.1", "{daemon_name}", "MTA"), "macro connect")
	check(mt.conninfo(conn, "client.example.net", "192.0.2.10"), "conninfo")
	check(mt.helo(conn, "client.example.net"), "helo")
	check(mt.macro(conn, SMFIC_MAIL, "i", "4XyZ1A2B3C", "{auth_authen}", "alice"), "macro mail")
	check(mt.mailfrom(conn, "<" .. from .. ">"), "mailfrom")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		fail("MAIL FROM not continued")
	end
	check(mt.rcptto(conn, "<" .. rcpt .. ">"), "rcptto")
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		fail("RCPT TO not continued")
	end
	return conn
end

function content(conn, subject, body)
	check(mt.data(conn), "data")
	check(mt.header(conn, "From", "Alice <alice@example.com>"), "header From")
	check(mt.header(conn, "To", "bob@partner.org"), "header To")
	check(mt.header(conn, "Subject", subject), "header Subject")
	check(mt.eoh(conn), "eoh")
	check(mt.bodystring(conn, body), "body")
	check(mt.eom(conn), "eom")
end
