#!/usr/bin/env bash
# The main job on a sample: start local services, forge a 64 MiB evidence image with an
# answer key, submit it, print the job summary and how it compares with the key.
source "$(dirname "$0")/common.sh"
"$REPO/deploy/local-up.sh"
SAMPLE_DIR="$QUARRY_HOME/sample"
mkdir -p "$SAMPLE_DIR"
IMAGE="$SAMPLE_DIR/sample.img"
QUARRY="$VENV/bin/quarry"
[ -f "$IMAGE" ] || "$QUARRY" forge "$IMAGE" --size 64MiB --seed 1
start=$(date +%s.%N)
"$QUARRY" submit --case sample "$IMAGE" | tee "$SAMPLE_DIR/last-summary.txt"
end=$(date +%s.%N)
"$VENV/bin/python" - "$IMAGE.key.json" "$SAMPLE_DIR/last-summary.txt" <<'PY'
import json, re, sys
key = json.load(open(sys.argv[1]))
summary = open(sys.argv[2]).read()
ok = True
print("\nanswer key check (complete carves vs intact planted files):")
for kind in ("jpeg", "png", "pdf", "zip"):
    want = key["counts"].get(kind, {}).get("intact", 0)
    m = re.search(rf"^\s+{kind}\s+complete (\d+)", summary, re.M)
    got = int(m.group(1)) if m else 0
    ok &= got == want
    print(f"  {kind:5} planted intact {want:4}  carved complete {got:4}  {'ok' if got == want else 'MISMATCH'}")
print("  all counts match the answer key" if ok else "  counts differ from the answer key")
sys.exit(0 if ok else 1)
PY
printf '\nsubmit took %.1f s (including Ray start-up of the job manager on first use)\n' "$(echo "$end - $start" | bc 2>/dev/null || python3 -c "print($end-$start)")"
sha=$("$VENV/bin/python" -c "import json,sys; k=json.load(open(sys.argv[1])); print(next(i['sha256'] for i in k['items'] if i['kind']=='jpeg' and i['status']=='intact'))" "$IMAGE.key.json")
job=$(awk 'NR==1 {print $2}' "$SAMPLE_DIR/last-summary.txt")
printf '\nwhere the first planted JPEG was found in this job (quarry find --digest ... --case sample --job %s):\n' "$job"
"$QUARRY" find --digest "$sha" --case sample --job "$job"
cat <<NEXT

What to try next (the services keep running; stop them with deploy/local-down.sh):
  $QUARRY jobs                                  # every job with state and progress
  $QUARRY find --case sample --type pdf --status complete   # every complete PDF carved in the case
  $QUARRY get $sha --out /tmp/   # the JPEG, its digests re-verified, with its provenance
  $QUARRY report $job --out /tmp/sample-report-$job   # HTML, DFXML, CASE/UCO, hashdeep, feature files
  curl -s 127.0.0.1:${QUARRY_METRICS_PORT:-9464}/metrics | grep ^quarry_   # what Prometheus scrapes (UI: http://127.0.0.1:9090)
  $QUARRY forge my.img --size 256MiB --seed 7 && $QUARRY submit --case training my.img
NEXT
