#!/usr/bin/env bash
# report.html: a short run on the embedded target (two load phases, a broker
# down, a drain, an ETL into Redis), its page rendered by headless Chromium.
# From the DOM after the page's script ran: every chart drawn with lines,
# phases as bands, chaos markers with tooltips, a row per expectation. The
# file must reference nothing on the network, and `report DIR` must recreate
# it byte for byte. Broken copies (script removed, a table row removed) must
# fail the same DOM check, so the check can fail.
set -uo pipefail
ENGINE=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"

chrome=$(command -v chromium-headless-shell || true)
check "chromium-headless-shell is installed (scripts/install-deps)" test -n "$chrome"
[ -n "$chrome" ] || { finish; exit 1; }

"$ENGINE" run "$SRC/tests/integration/fixtures/html-report.yaml" --results "$work/results" --quiet >"$work/run.out" 2>"$work/run.err"
rc=$?
cat "$work/run.out"
dir=$(dirname "$(ls "$work"/results/*/summary.json 2>/dev/null | head -1)")
check "the run finished with a verdict (exit 0 or 1)" test "$rc" = 0 -o "$rc" = 1
check "report.html written" test -s "$dir/report.html"
[ -s "$dir/report.html" ] || { cat "$work/run.err"; finish; exit 1; }

# dump_dom HTML OUT: the DOM after the page's script ran (virtual time lets
# it finish before the dump).
dump_dom() {
  "$chrome" --headless --no-sandbox --disable-gpu --user-data-dir="$work/chrome" --virtual-time-budget=5000 \
    --dump-dom "file://$1" >"$2" 2>>"$work/chrome.err"
}

# check_dom DOM: what a reader sees; prints each problem, exits 1 on any.
cat >"$work/check_dom.py" <<'EOF'
import csv, json, sys
from html.parser import HTMLParser

dom_file, results = sys.argv[1], sys.argv[2]
summary = json.load(open(results + "/summary.json"))
rows = list(csv.DictReader(open(results + "/timeseries.csv")))

class Dom(HTMLParser):
    """Collects the elements the checks need, with the chart each is in."""
    def __init__(self):
        super().__init__()
        self.body = {}
        self.charts = {}      # id -> {"polylines": [...], "phases": [...], "markers": [...], "attrs": {...}}
        self.omitted = set()
        self.chart = None
        self.in_title = None  # the marker whose <title> is open
        self.in_expectations = self.in_tbody = False
        self.expect_rows = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        elif tag == "svg" and "chart" in cls:
            self.chart = {"polylines": [], "phases": [], "markers": [], "attrs": a}
            self.charts[a.get("data-chart")] = self.chart
        elif self.chart is not None and tag == "polyline":
            self.chart["polylines"].append((a.get("data-series"), a.get("points", "")))
        elif self.chart is not None and tag == "rect" and "phase" in cls:
            self.chart["phases"].append(a.get("data-phase"))
        elif self.chart is not None and tag == "g" and "marker" in cls:
            self.chart["markers"].append({"kind": cls[1] if len(cls) > 1 else "", "title": ""})
        elif self.chart is not None and tag == "title" and self.chart["markers"]:
            self.in_title = self.chart["markers"][-1]
        elif tag == "p" and "data-omitted" in a:
            self.omitted.add(a["data-omitted"])
        elif tag == "table" and a.get("id") == "expectations":
            self.in_expectations = True
        elif tag == "tbody" and self.in_expectations:
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.expect_rows.append(a.get("class"))
    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None
        elif tag == "title":
            self.in_title = None
        elif tag == "tbody":
            self.in_tbody = self.in_expectations = False
    def handle_data(self, data):
        if self.in_title is not None:
            self.in_title["title"] += data

dom = Dom()
dom.feed(open(dom_file).read())
problems = []
def need(ok, what):
    if not ok:
        problems.append(what)

def points(p):
    try:
        return [tuple(float(v) for v in xy.split(",")) for xy in p.split()]
    except ValueError:
        return []

need(dom.body.get("data-rendered") == "ok", "body data-rendered is %r, not 'ok'" % dom.body.get("data-rendered"))
ran = [p["name"] for p in summary["phases"] if p["end_s"] > p["start_s"]]
expected = ["throughput", "latency", "errors", "lag", "cluster"]
# The engine's own gauges: drawn when timeseries.csv has them, else a note says so.
for chart, column in (("cpu", "engine_cpu_percent"), ("memory", "engine_rss_bytes")):
    if any(r.get(column) for r in rows):
        expected.append(chart)
    else:
        need(chart in dom.omitted and chart not in dom.charts, "%s: no data, but no note saying it was omitted" % chart)
for name in expected:
    c = dom.charts.get(name)
    if c is None:
        problems.append("%s: no <svg class=chart> for it" % name)
        continue
    lines = [points(p) for _, p in c["polylines"]]
    need(c["attrs"].get("data-drawn") == "yes", "%s: not marked drawn" % name)
    need(any(len(l) >= 2 for l in lines), "%s: no line with at least two points (%d polylines)" % (name, len(lines)))
    need(c["phases"] == ran, "%s: phase bands %r, phases that ran %r" % (name, c["phases"], ran))
    inject = [m for m in c["markers"] if m["kind"] == "chaos_inject"]
    need(any("broker-down" in m["title"] for m in inject), "%s: no chaos marker titled with the broker-down step" % name)
    need(any(m["kind"] == "chaos_undo" for m in c["markers"]), "%s: no undo marker" % name)
# The run has an ETL: its series are drawn next to the producer's.
def series(chart):
    return {s for s, _ in dom.charts.get(chart, {}).get("polylines", [])}
need({"acked", "ETL written"} <= series("throughput"), "throughput: acked or ETL written missing: %r" % series("throughput"))
need({"in flight", "ETL consumer lag"} <= series("lag"), "lag: in flight or ETL consumer lag missing: %r" % series("lag"))
want = ["pass" if e["pass"] else ("no-data" if e.get("measured", 0) is None else "fail") for e in summary["expectations"]]
need(dom.expect_rows == want, "expectations table rows %r, summary.json says %r" % (dom.expect_rows, want))
for p in problems:
    print("  DOM: " + p)
sys.exit(1 if problems else 0)
EOF

html="$dir/report.html"
dump_dom "$html" "$work/dom.html"
check "Chromium rendered the page and every chart, band, marker and table row is in the DOM" \
  /usr/bin/python3 "$work/check_dom.py" "$work/dom.html" "$dir"
check "the static file draws nothing by itself (the DOM check needs the script to run)" \
  test "$(grep -c '<polyline' "$html")" = 0
check "no network references (self-contained)" test "$(grep -Eci 'https?://|src=|@import' "$html")" = 0

# The check must be able to fail: the same page without its script, and
# with one expectation row missing.
mkdir -p "$work/broken"
/usr/bin/python3 - "$html" "$work/broken" <<'EOF'
import re, sys
html = open(sys.argv[1]).read()
no_js = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
assert no_js != html
open(sys.argv[2] + "/no-js.html", "w").write(no_js)
one_row_less = re.sub(r'<tr class="(pass|fail|no-data)">.*?</tr>\n', "", html, count=1)
assert one_row_less != html
open(sys.argv[2] + "/row-missing.html", "w").write(one_row_less)
EOF
for broken in no-js row-missing; do
  dump_dom "$work/broken/$broken.html" "$work/broken/$broken.dom"
  check "the DOM check fails for a broken copy ($broken)" \
    bash -c '! /usr/bin/python3 "$1" "$2" "$3" >/dev/null' _ "$work/check_dom.py" "$work/broken/$broken.dom" "$dir"
done

# `report DIR` re-renders the page from the directory's files alone.
mv "$html" "$work/report.orig.html"
"$ENGINE" report "$dir" >"$work/report.out" 2>"$work/report.err"
check "report exits with the run's code" test $? = "$rc"
check "report says where the page is" grep -qF "report: $dir/report.html" "$work/report.out"
check "report recreates report.html byte for byte" cmp "$work/report.orig.html" "$html"

[ "$failed" -eq 0 ] || { echo "--- engine stderr"; tail -20 "$work/run.err"; echo "--- chromium stderr"; grep -v dbus "$work/chrome.err" | tail -5; }
finish
