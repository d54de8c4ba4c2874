package corpus

import (
	"fmt"
	"strings"
	"time"
)

var fuzzTargets = []string{"xml_parser_fuzzer", "libpng_read_fuzzer", "json_fuzzer", "sqlite3_fuzz", "curl_fuzzer_http", "ffmpeg_AV_CODEC_ID_H264_fuzzer", "regexp_fuzzer"}

func commitID(r *Rand) string {
	return r.Hex(40)
}

func commitDigestDoc(r *Rand) Doc {
	var lines []string
	lines = append(lines, "Commits pushed to main in the last 24 hours:", "")
	for range 10 {
		lines = append(lines, fmt.Sprintf("%s %s (%s, %s)", r.Hex(7), r.Pick("fix race in scheduler", "bump deps", "add retries to uploader", "refactor config loader", "docs: typo"),
			person(r), date(r).Format("2006-01-02 15:04:05 -0700")))
	}
	lines = append(lines, "", "Full ids:")
	for range 4 {
		lines = append(lines, "  commit "+commitID(r))
	}
	lines = append(lines, fmt.Sprintf("Merged pull request #%d from feature/%d-upload-retries", 1000+r.IntN(90000), r.IntN(10000)),
		fmt.Sprintf("Build %d.%d.%d+%d (pipeline %d, job %d) passed.", 1+r.IntN(3), r.IntN(30), r.IntN(20), 20260000+r.IntN(10000), 100000000+r.IntN(9e8), 1000000000+r.IntN(9e8)),
		"Artifact sha256:"+r.Hex(64), "Image digest sha1:"+r.Hex(40))
	return Doc{Subject: "[git] daily digest", Body: strings.Join(lines, "\n"), Name: "digest"}
}

func releaseNotes(r *Rand) Doc {
	v := fmt.Sprintf("%d.%d.%d", 1+r.IntN(5), r.IntN(40), r.IntN(20))
	body := fmt.Sprintf(`Release %s (build %s, %s)

Changes since %d.%d:
- Fixed crash when importing files larger than 2 GiB (bug %d, #%d).
- Bumped golang.org/x/net to v0.%d.0; go.sum hash h1:%s=
- Windows installer version %s.%d, product code {%s}.
- Android versionCode %d; iOS build %d.%d.%d (%d).
- Docker image sha256:%s
- Requires glibc >= 2.%d, kernel 5.%d.%d-%d-amd64.
- Downloads: https://downloads.example.com/releases/%s/%d/app-%s-linux-x86_64.tar.gz`,
		v, CardLike(r), date(r).Format("2006-01-02"), 1+r.IntN(5), r.IntN(40), 1000000+r.IntN(9000000), r.IntN(50000),
		30+r.IntN(40), r.From(alnum+"+/", 43), v, r.IntN(10000), strings.ToUpper(UUID(r)),
		100000000+r.IntN(9e8), r.IntN(20), r.IntN(10), r.IntN(10), 20000+r.IntN(9000), r.Hex(64),
		28+r.IntN(10), r.IntN(20), r.IntN(200), 1+r.IntN(30), v, r.Int64N(1e16)+1e15, v)
	return Doc{Subject: "Release notes " + v, Body: body, Name: "release-notes"}
}

func securityAdvisory(r *Rand) Doc {
	var lines []string
	lines = append(lines, "Security advisory summary", "")
	for range 6 {
		lines = append(lines, fmt.Sprintf("CVE-%d-%d (CVSS %d.%d): %s, fixed in %d.%d.%d; GHSA-%s-%s-%s",
			2020+r.IntN(7), 1000+r.IntN(99000), r.IntN(10), r.IntN(10),
			r.Pick("heap overflow in parser", "SSRF in webhook handler", "path traversal in archive extraction", "integer overflow in decoder"),
			r.IntN(5), r.IntN(30), r.IntN(20), r.From("23456789cfghjmpqrvwx", 4), r.From("23456789cfghjmpqrvwx", 4), r.From("23456789cfghjmpqrvwx", 4)))
	}
	lines = append(lines, "",
		fmt.Sprintf("Affected hosts: %s, %s, %s, %s", IPv4(r), IPv4(r), IPv6(r), IPv4(r)),
		fmt.Sprintf("Indicators: sha256 %s, md5 %s, sha1 %s", r.Hex(64), r.Hex(32), r.Hex(40)),
		fmt.Sprintf("Bug tracker: https://bugs.chromium.org/p/chromium/issues/detail?id=%d and https://bugzilla.redhat.com/show_bug.cgi?id=%d", 1000000+r.IntN(9e6), 2000000+r.IntN(1e6)),
		fmt.Sprintf("Suricata SID %d, rev %d; Snort GID 1, SID %d.", 2030000+r.IntN(10000), 1+r.IntN(9), 50000+r.IntN(9000)))
	return Doc{Subject: "Security advisory digest", Body: strings.Join(lines, "\n"), Name: "advisory"}
}

func fuzzerReport(r *Rand) Doc {
	id := FuzzerID(r)
	target := fuzzTargets[r.IntN(len(fuzzTargets))]
	body := fmt.Sprintf(`ClusterFuzz testcase %s is verified as fixed in https://oss-fuzz.com/revisions?job=libfuzzer_asan_%s&range=%d:%d

Detailed Report: https://oss-fuzz.com/testcase?key=%s

Project: %s
Fuzzing Engine: libFuzzer
Fuzz Target: %s
Job Type: libfuzzer_asan_%s
Platform Id: linux

Crash Type: Heap-buffer-overflow READ %d
Crash Address: 0x%s
Crash State:
  parse_element
  xmlParseChunk
  LLVMFuzzerTestOneInput

Reproducer Testcase: https://oss-fuzz.com/download?testcase_id=%s
Minimized testcase: testcase-minimized-%s-%s
Issue filed automatically: https://bugs.chromium.org/p/oss-fuzz/issues/detail?id=%d
See https://oss-fuzz.com/testcase-detail/%s for details.`,
		id, target, 202601010000+r.IntN(10000), 202602010000+r.IntN(10000), id,
		strings.Split(target, "_")[0], target, target, 1+r.IntN(8), r.Hex(12), id, target, id, 50000+r.IntN(20000), id)
	return Doc{Subject: fmt.Sprintf("Issue %d: %s: Heap-buffer-overflow in parse_element", 50000+r.IntN(20000), strings.Split(target, "_")[0]), Body: body, Name: "clusterfuzz-testcase-minimized-" + target + "-" + id}
}

func fuzzerDigest(r *Rand) Doc {
	t := [][]string{{"Testcase", "Target", "Crash type", "Regressed", "Link"}}
	for range 10 {
		id := FuzzerID(r)
		target := fuzzTargets[r.IntN(len(fuzzTargets))]
		t = append(t, []string{id, target, r.Pick("Heap-buffer-overflow", "Use-of-uninitialized-value", "Timeout", "Out-of-memory"),
			fmt.Sprintf("%d:%d", 202601010000+r.IntN(10000), 202601020000+r.IntN(10000)), "https://oss-fuzz.com/testcase-detail/" + id})
	}
	var lines []string
	for range 4 {
		id := FuzzerID(r)
		lines = append(lines, fmt.Sprintf("  crash-%s  clusterfuzz-testcase-%s-%s  /tmp/fuzz/testcase_%s.bin  oom-%s",
			r.Hex(40), fuzzTargets[r.IntN(len(fuzzTargets))], id, FuzzerID(r), FuzzerID(r)))
	}
	return Doc{Subject: "Weekly fuzzing digest", Body: "Open crashes this week, with test-case ids:\n\n" + strings.Join(lines, "\n"), Table: t, Name: "fuzz-digest"}
}

func logExcerpt(r *Rand) Doc {
	var lines []string
	t := time.Unix(Epoch(r), 0).UTC()
	for range 18 {
		t = t.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		switch r.IntN(6) {
		case 0:
			lines = append(lines, fmt.Sprintf("%s INFO  [main] request_id=%s user=%d ip=%s latency_ms=%d", t.Format("2006-01-02T15:04:05.000Z"), UUID(r), r.IntN(1e7), IPv4(r), r.IntN(2000)))
		case 1:
			lines = append(lines, fmt.Sprintf("%s postfix/smtpd[%d]: %s: client=mail.example.org[%s]", t.Format("Jan  2 15:04:05"), 1000+r.IntN(60000), r.From(upper+digits, 10), IPv4(r)))
		case 2:
			lines = append(lines, fmt.Sprintf("%d.%06d kernel: [%d.%06d] eth0: link up, 1000Mbps, full-duplex, lpa 0x%s", t.Unix(), r.IntN(1e6), r.IntN(100000), r.IntN(1e6), r.Hex(4)))
		case 3:
			lines = append(lines, fmt.Sprintf("%s WARN  job=%d attempt=%d offset=%d partition=%d ts=%d", t.Format(time.RFC3339), r.IntN(1e9), 1+r.IntN(5), r.Int64N(1e15), r.IntN(64), t.UnixMilli()))
		case 4:
			lines = append(lines, fmt.Sprintf(`%s - - [%s] "GET /api/v2/orders/%s/items?page=%d HTTP/1.1" 200 %d`, IPv4(r), t.Format("02/Jan/2006:15:04:05 -0700"), CardLike(r), 1+r.IntN(9), r.IntN(1e6)))
		default:
			lines = append(lines, fmt.Sprintf("%s ERROR upload failed: object s3://backups/%d/%s.tar.zst etag %s", t.Format("2006-01-02 15:04:05,000"), t.Unix(), CardLike(r), r.Hex(32)))
		}
	}
	return Doc{Subject: "Logs from the outage", Body: "Excerpt from the logs around the outage:\n\n" + strings.Join(lines, "\n"), Name: "outage-log"}
}

func traceLog(r *Rand) Doc {
	var lines []string
	for range 12 {
		lines = append(lines, fmt.Sprintf("dd.trace_id=%s dd.span_id=%s span=%s.%s duration=%dus",
			TraceID(r), TraceID(r), r.Pick("http", "db", "cache"), r.Pick("request", "query", "get"), r.IntN(100000)))
	}
	lines = append(lines, "", "Snowflake ids: "+fmt.Sprintf("%d %d %d", 1700000000000000000+r.Int64N(1e17), 1700000000000000000+r.Int64N(1e17), 1700000000000000000+r.Int64N(1e17)))
	return Doc{Subject: "Slow traces", Body: "The slowest traces from yesterday:\n\n" + strings.Join(lines, "\n"), Name: "traces"}
}

func numericURLs(r *Rand) Doc {
	lines := []string{
		"Links from the review:",
		"https://www.example-shop.com/orders/" + CardLike(r) + "/invoice.pdf",
		"https://cdn.example.net/media/" + CardLike(r) + "/" + CardLike(r) + "_1080p.mp4",
		"https://twitter.com/example/status/" + fmt.Sprint(1700000000000000000+r.Int64N(1e17)),
		"https://www.linkedin.com/feed/update/urn:li:activity:" + fmt.Sprint(7000000000000000000+r.Int64N(1e17)),
		"https://drive.example.com/file/d/" + r.From(alnum+"-_", 33) + "/view",
		"https://maps.example.com/?ll=" + fmt.Sprintf("52.%06d,4.%06d", r.IntN(1e6), r.IntN(1e6)),
		"https://example.atlassian.net/browse/OPS-" + fmt.Sprint(r.IntN(100000)),
		"https://github.com/example/repo/commit/" + r.Hex(40),
		"https://github.com/example/repo/actions/runs/" + fmt.Sprint(10000000000+r.Int64N(9e9)) + "/job/" + fmt.Sprint(30000000000+r.Int64N(9e9)),
		"https://s3.eu-west-1.amazonaws.com/bucket/exports/" + CardLike(r) + ".csv",
		"https://example.com/track?n=" + strings.ReplaceAll(USPS22(r), " ", "") + "&ref=" + CardLike(r),
		"https://example.com/a/" + Group(CardLike(r), "/", 4, 4, 4, 4) + "/b",
		"file:///home/build/out/" + CardLike(r) + "-" + CardLike(r) + ".log",
		"C:\\Users\\build\\AppData\\Local\\Temp\\" + CardLike(r) + ".tmp",
		"/var/lib/docker/overlay2/" + r.Hex(64) + "/diff",
	}
	return Doc{Subject: "Links", Body: strings.Join(lines, "\n"), Name: "links"}
}

func sensorData(r *Rand) Doc {
	t := [][]string{{"timestamp_ms", "sensor", "temperature", "humidity", "pressure", "counter"}}
	ms := Epoch(r) * 1000
	for range 25 {
		ms += int64(r.IntN(60000))
		t = append(t, []string{fmt.Sprint(ms), fmt.Sprintf("S-%04d", r.IntN(10000)), fmt.Sprintf("%d.%d", 15+r.IntN(15), r.IntN(10)),
			fmt.Sprintf("%d.%d", 30+r.IntN(50), r.IntN(10)), fmt.Sprintf("%d.%02d", 990+r.IntN(40), r.IntN(100)), fmt.Sprint(r.Int64N(1e16))})
	}
	return Doc{Subject: "Sensor export", Body: "Raw export from the building sensors (timestamps in epoch milliseconds).", Table: t, Name: "sensors"}
}

func salesFigures(r *Rand) Doc {
	t := [][]string{{"Region", "Q1", "Q2", "Q3", "Q4", "Total", "Account"}}
	for _, reg := range []string{"North", "South", "East", "West", "Benelux", "DACH", "Nordics", "Iberia"} {
		var sum int
		row := []string{reg}
		for range 4 {
			v := r.IntN(9000000)
			sum += v
			row = append(row, fmt.Sprint(v))
		}
		row = append(row, fmt.Sprint(sum), fmt.Sprint(r.Int64N(1e15)))
		t = append(t, row)
	}
	return Doc{Subject: "Sales figures", Body: "Quarterly revenue per region (EUR), as discussed.", Table: t, Name: "sales"}
}

func unlabelledTwelveDigits(r *Rand) Doc {
	var lines []string
	lines = append(lines, "Numbers from the reconciliation run:", "")
	for range 10 {
		lines = append(lines, fmt.Sprintf("%s  %s  %d", Aadhaar(r), Group(Aadhaar(r), " ", 4, 4, 4), r.IntN(1000)))
	}
	return Doc{Subject: "Reconciliation", Body: strings.Join(lines, "\n"), Name: "reconciliation"}
}
