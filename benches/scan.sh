#!/usr/bin/env bash
# Free-form scan speed: `keyless scan` against `grep -rcE 'AKIA[A-Z2-7]{16}'`
# on the same generated tree, side by side, in the same run, warm cache.
#
# The tree is 10,000 text files (about 200 MB) in 100 directories, generated
# deterministically (a fixed-seed generator in awk, so every machine gets the
# same bytes), with a few keys planted at known places. The script checks
# that keyless finds every planted key (and ignores the documented example
# key), then prints MB/s, files/s and the ratio keyless / grep.
#
# Usage: benches/scan.sh [--files N] [--rounds N] [--keep]
#   KEYLESS=path/to/keyless to use a given binary (default: a release build).
#   BENCH_DIR=dir for the tree (default: target/scan-bench).
# Both tools run with LC_ALL=C (grep's fastest mode).
set -euo pipefail

FILES=10000
ROUNDS=5
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --files) FILES="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "scan.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/target/scan-bench}
TREE=$BENCH_DIR/tree-$FILES
export LC_ALL=C

if [ -z "${KEYLESS:-}" ]; then
    (cd "$ROOT" && cargo build --release --quiet)
    KEYLESS=$ROOT/target/release/keyless
fi
[ -x "$KEYLESS" ] || { echo "scan.sh: no keyless binary at $KEYLESS" >&2; exit 2; }

# Planted keys: file index, then the line put in the middle of that file.
# AKIA keys are counted by grep too; ASIA keys only by keyless; the
# documented example must be counted by grep and ignored by keyless.
PLANTS=(
    "17|aws_access_key_id = AKIA2E3RX7TBDLQ6WMPZ"
    "1234|export AWS_ACCESS_KEY_ID=AKIAQNZGKIQY56JQ7WML"
    "2500|{\"AccessKeyId\": \"AKIARZPUZDIKGB2VALC4\", \"SecretAccessKey\": \"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\"}"
    "3333|    key: AKIA5KXQ7RZP3MWEVN2T # old"
    "5001|AKIAW7N2XZQ4R5T6Y3UP"
    "6789|creds = ('AKIAZ4P6M2Q7R3T5V2XW', secret)"
    "8080|AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A"
    "9000|aws_access_key_id=AKIAX3M5Q7T2V4Z6B3NP aws_secret_access_key=Tn8Yc3Hs6Jd1Fg5Ae0Ui7Okp7Rz+Kq2Wm9Xv4Lb/"
    "9500|session: ASIAQNZGKIQY56JQ7WML"
    "9998|doc example AKIAIOSFODNN7EXAMPLE"
)
# What the plants that fit in the tree should produce.
EXPECTED_KEYS=""
EXPECTED_GREP_MATCHES=0
for plant in "${PLANTS[@]}"; do
    [ "${plant%%|*}" -lt "$FILES" ] || continue
    text=${plant#*|}
    for key in $(printf '%s\n' "$text" | grep -oE '(AKIA|ASIA)[A-Z2-7]{16}' || true); do
        case "$key" in *EXAMPLE) ;; *) EXPECTED_KEYS="$EXPECTED_KEYS $key" ;; esac
    done
    if printf '%s\n' "$text" | grep -qE 'AKIA[A-Z2-7]{16}'; then
        EXPECTED_GREP_MATCHES=$((EXPECTED_GREP_MATCHES + 1))
    fi
done

generate() {
    local tmp="$TREE.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    local d
    for ((d = 0; d < (FILES + 99) / 100; d++)); do mkdir -p "$(printf '%s/d%02d' "$tmp" "$d")"; done
    local plants
    plants=$(printf '%s\n' "${PLANTS[@]}")
    awk -v root="$tmp" -v nfiles="$FILES" -v plants="$plants" '
    function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
    BEGIN {
        seed = 20261128
        nw = split("the of and to in is for on that with as by this be are from at or an it " \
            "not which have has config value return error result request response client server " \
            "profile region account role session token expires credential process default user " \
            "string int bool let mut fn impl struct enum match self None Some Ok Err use pub mod " \
            "API AWS ARN ACCESS ASSERT ALLOW AUTH ACTION AGENT ALPHA ABI ACL ALB AMI ASG AZ " \
            "http https url path file line json yaml toml ini env export echo if then else fi", W, " ")
        split("txt md py rs json yaml sh conf", EXT, " ")
        n = split(plants, P, "\n")
        for (i = 1; i <= n; i++) { split(P[i], kv, "|"); plant[kv[1] + 0] = substr(P[i], length(kv[1]) + 2) }
        for (f = 0; f < nfiles; f++) {
            path = sprintf("%s/d%02d/f%05d.%s", root, int(f / 100), f, EXT[(f % 8) + 1])
            target = 1024 + rnd(40000)
            half = int(target / 2); planted = !(f in plant)
            size = 0; buf = ""
            while (size < target) {
                words = 4 + rnd(12)
                line = ""
                for (k = 0; k < words; k++) {
                    r = rnd(100)
                    if (r < 4) w = sprintf("%d", rnd(1000000))
                    else if (r < 6) w = sprintf("0x%08x", rnd(2147483647))
                    else w = W[rnd(nw) + 1]
                    line = (k == 0) ? w : line " " w
                }
                if (rnd(10) == 0) line = "    " line
                buf = buf line "\n"
                size += length(line) + 1
                if (!planted && size >= half) { buf = buf plant[f] "\n"; size += length(plant[f]) + 1; planted = 1 }
            }
            printf "%s", buf > path
            close(path)
        }
    }'
    mv "$tmp" "$TREE"
}

if [ ! -d "$TREE" ]; then
    echo "generating $FILES files in $TREE ..." >&2
    generate
fi

BYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
NFILES=$(find "$TREE" -type f | wc -l | tr -d ' ')

run_grep() { grep -rcE 'AKIA[A-Z2-7]{16}' "$TREE" > "$BENCH_DIR/grep.out" || true; }
run_keyless() {
    local code=0
    "$KEYLESS" scan --no-env --no-aws-files --format json "$TREE" > "$BENCH_DIR/keyless.json" || code=$?
    # 1: long-lived keys found (expected). Anything else is a failure.
    [ "$code" -eq 1 ] || { echo "scan.sh: keyless exited $code" >&2; exit 1; }
}
seconds() { # run a function, print its wall time in seconds
    local start=$EPOCHREALTIME
    "$@"
    local end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f", e - s }'
}

# Warm the page cache with both tools, then alternate.
run_grep; run_keyless
GREP_TIMES=(); KEYLESS_TIMES=()
for ((r = 0; r < ROUNDS; r++)); do
    GREP_TIMES+=("$(seconds run_grep)")
    KEYLESS_TIMES+=("$(seconds run_keyless)")
done

# Correctness: every planted key found by keyless, the example ignored;
# grep saw the AKIA ones.
missing=0
for key in $EXPECTED_KEYS; do
    if ! grep -q "\"key_id\": \"$key\"" "$BENCH_DIR/keyless.json"; then
        echo "MISSING: keyless did not report planted key $key" >&2
        missing=1
    fi
done
if grep -q 'EXAMPLE' "$BENCH_DIR/keyless.json"; then
    echo "WRONG: keyless reported the documented example key" >&2
    missing=1
fi
reported=$(grep -c '"key_id": "A' "$BENCH_DIR/keyless.json" || true)
expected=$(wc -w <<< "$EXPECTED_KEYS" | tr -d ' ')
if [ "$reported" -ne "$expected" ]; then
    echo "WRONG: keyless reported $reported keys, $expected were planted" >&2
    missing=1
fi
grep_matches=$(awk -F: '{ s += $NF } END { print s + 0 }' "$BENCH_DIR/grep.out")
[ "$grep_matches" -eq "$EXPECTED_GREP_MATCHES" ] || {
    echo "WRONG: grep counted $grep_matches matching lines, expected $EXPECTED_GREP_MATCHES" >&2
    missing=1
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
G=$(median "${GREP_TIMES[@]}")
K=$(median "${KEYLESS_TIMES[@]}")

awk -v bytes="$BYTES" -v files="$NFILES" -v g="$G" -v k="$K" -v rounds="$ROUNDS" \
    -v gall="${GREP_TIMES[*]}" -v kall="${KEYLESS_TIMES[*]}" -v reported="$reported" \
    -v cores="$(nproc 2>/dev/null || echo '?')" 'BEGIN {
    mb = bytes / 1e6
    printf "tree: %d files, %.1f MB, %s cores, median of %d warm runs\n", files, mb, cores, rounds
    printf "%-8s %9s %10s %12s   runs (s)\n", "tool", "time (s)", "MB/s", "files/s"
    printf "%-8s %9.3f %10.0f %12.0f   %s\n", "grep", g, mb / g, files / g, gall
    printf "%-8s %9.3f %10.0f %12.0f   %s\n", "keyless", k, mb / k, files / k, kall
    printf "ratio keyless/grep: %.2f (goal: at most 2.00)\n", k / g
    printf "keys reported by keyless: %d (all planted)\n", reported
}'

[ "$KEEP" -eq 1 ] || rm -f "$BENCH_DIR/grep.out"
if [ "$missing" -ne 0 ]; then
    echo "FAIL: planted keys check" >&2
    exit 1
fi
echo "ok: every planted key found"
