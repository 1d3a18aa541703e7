#!/bin/sh
# node-metaverse bots against gridlab load viewers: the same gridlab serve, the same arrivals
# (N at R/s, each staying S seconds), one after the other; CPU and memory of each client process
# from /usr/bin/time -v (docs/BENCHMARKS.md, issue 8).
#
#   cp -r ../shared/peers/node-metaverse /tmp/nmv && (cd /tmp/nmv && npm ci)
#   go build -o /tmp/gridlab ./cmd/gridlab
#   NMV_DIR=/tmp/nmv GRIDLAB=/tmp/gridlab sh lab/loadtest/testdata/side-by-side/side.sh
set -u
N=${N:-200}; R=${R:-20}; S=${S:-20}; PORT=${PORT:-29700}
NMV_DIR=${NMV_DIR:?an npm ci-ed copy of node-metaverse}; GRIDLAB=${GRIDLAB:?the gridlab binary}
HERE=$(cd "$(dirname "$0")" && pwd)
D=${OUT:-/tmp/side-by-side}; rm -rf "$D"; mkdir -p "$D"
ulimit -n 20000 2>/dev/null
/usr/bin/time -v -o "$D/serve.time" "$GRIDLAB" serve --login 127.0.0.1:$PORT --users $N 2>"$D/serve.log" &
SERVE=$!
sleep 2
cp "$HERE/multibot.js" "$NMV_DIR/multibot.js"
(cd "$NMV_DIR" && LOGIN_URI=http://127.0.0.1:$PORT/ N=$N RATE=$R STAY_MS=${S}000 /usr/bin/time -v -o "$D/nmv.time" node multibot.js > "$D/nmv.out" 2>"$D/nmv.err")
sleep 3
/usr/bin/time -v -o "$D/load.time" "$GRIDLAB" load --login-uri http://127.0.0.1:$PORT/ --viewers $N --rate $R/s --stay ${S}s --quiet --json --out "$D/load" > "$D/load.out" 2>"$D/load.err"
kill -INT $(pgrep -P $SERVE) $SERVE 2>/dev/null; wait $SERVE
grep -H -E "Maximum resident|User time|System time" "$D"/*.time
cat "$D/nmv.out"
