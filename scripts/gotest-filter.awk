# gotest-filter.awk turns `go test -json` into the short output of plain
# `go test` and counts the tests.
#
# It prints package lines ("ok", "FAIL", "?"), build errors, anything that is
# not JSON, and the whole output of every test that fails (including its
# panics); the output of passing and skipped tests is dropped. With
# -v countfile=PATH it writes "PASSED FAILED SKIPPED" (tests and subtests)
# to PATH at the end.
#
# Plain POSIX awk (Debian's mawk is enough): one JSON event per line, with the
# fields in the fixed order cmd/test2json writes them.

function field(line, name,    re, s) {
	re = "\"" name "\":\"([^\"\\\\]|\\\\.)*\""
	if (!match(line, re))
		return ""
	s = substr(line, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
	return s
}

function unescape(s) {
	gsub(/\\\\/, "\001", s)
	gsub(/\\n/, "\n", s)
	gsub(/\\t/, "\t", s)
	gsub(/\\r/, "\r", s)
	gsub(/\\"/, "\"", s)
	gsub(/\\\//, "/", s)
	gsub(/\\u003c/, "<", s)
	gsub(/\\u003e/, ">", s)
	gsub(/\\u0026/, "\\&", s)
	gsub(/\\u001b/, "\033", s)
	gsub(/\\ufffd/, "?", s)
	gsub(/\001/, "\\", s)
	return s
}

function out(s) {
	printf "%s", s
	fflush()
}

# flush_package prints the output of tests of pkg that started but never
# ended (the test binary crashed or timed out), so it is not lost.
function flush_package(pkg,    k, p) {
	for (k in buf) {
		p = index(k, SUBSEP)
		if (substr(k, 1, p - 1) == pkg) {
			out(buf[k])
			delete buf[k]
		}
	}
}

BEGIN {
	passed = 0; failed = 0; skipped = 0
}

# Not JSON: go command messages on stderr, a crashed converter. Keep it.
!/^\{/ {
	out($0 "\n")
	next
}

{
	action = field($0, "Action")
	test = field($0, "Test")
	pkg = field($0, "Package")
	key = pkg SUBSEP test

	if (action == "build-output") {
		out(unescape(field($0, "Output")))
		next
	}
	if (action == "output") {
		o = unescape(field($0, "Output"))
		if (test != "")
			buf[key] = buf[key] o
		else if (o != "PASS\n" && o != "testing: warning: no tests to run\n")
			out(o)
		next
	}
	if (test != "") {
		if (action == "pass") { passed++; delete buf[key] }
		else if (action == "skip") { skipped++; delete buf[key] }
		else if (action == "fail") { failed++; out(buf[key]); delete buf[key] }
		next
	}
	if (action == "fail" || action == "pass" || action == "skip")
		flush_package(pkg)
}

END {
	for (k in buf)
		out(buf[k])
	if (countfile != "")
		printf "%d %d %d\n", passed, failed, skipped > countfile
}
