#!/usr/bin/env bash
# The agentcredit tool as a user runs it. One case per meson test:
#   test_cli.sh CASE AGENTCREDIT TESTDATA_DIR HEADER
# HEADER is include/agentcredit.h: the audit keys and the methods the tool
# must know are read from it, so that a key or a method added to the
# library and forgotten by the tool fails here.
set -euo pipefail

case_name=${1:?usage: test_cli.sh CASE AGENTCREDIT TESTDATA_DIR HEADER}
ac=${2:?}
data=${3:?}
header=${4:?}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err

fail() {
    echo "FAIL ($case_name): $*" >&2
    echo "--- stdout" >&2; cat "$out" >&2 2>/dev/null || true
    echo "--- stderr" >&2; cat "$err" >&2 2>/dev/null || true
    exit 1
}
# run EXPECTED_STATUS ARGS...: runs the tool, checks its exit status
run() {
    local want=$1; shift
    local got=0
    "$ac" "$@" >"$out" 2>"$err" || got=$?
    echo "\$ agentcredit $* -> exit $got"
    case $want in
        0) [ "$got" -eq 0 ] || fail "expected success, got exit $got" ;;
        nonzero) [ "$got" -ne 0 ] || fail "expected failure, got exit 0" ;;
        *) [ "$got" -eq "$want" ] || fail "expected exit $want, got $got" ;;
    esac
    return 0
}
stdout_has() { grep -q -e "$1" "$out" || fail "stdout lacks '$1'"; }
stderr_has() { grep -q -e "$1" "$err" || fail "stderr lacks '$1'"; }
stdout_empty() { [ ! -s "$out" ] || fail "nothing belongs on stdout"; }
stderr_empty() { [ ! -s "$err" ] || fail "nothing belongs on stderr"; }
# shared_data: $wwdir and $taudir, the published Who&When and tau-bench
# data under $AC_SHARED_DATA; the case is skipped (exit 77) without them
shared_data() {
    local shared=${AC_SHARED_DATA:-}
    wwdir=$shared/who_and_when/Algorithm-Generated
    taudir=$shared/agentrx_tau
    if [ -z "$shared" ] || [ ! -d "$wwdir" ] || [ ! -f "$taudir/tau_dataset_full.json" ]; then
        echo "no shared data at '$shared' (set AC_SHARED_DATA): skipped"
        exit 77
    fi
}
# export_fixtures: python3 as $py (the case is skipped without it) and
# the fixtures of tests/data/exports: $exp, $eps, $sig, $repair, $cands
export_fixtures() {
    py=$(command -v python3 || true)
    [ -n "$py" ] || { echo "no python3: skipped"; exit 77; }
    exp=$(cd "$(dirname "$header")/.." && pwd)/tests/data/exports
    eps=$exp/episodes.jsonl
    sig=$exp/signals.jsonl
    repair=$exp/signals-repair.jsonl
    cands=$exp/candidates.json
}
# header_names TYPE PREFIX: the enumerators the header defines for the enum
# TYPE, lower case, without PREFIX (AC_ESTIMATOR_AUDIT_DROPPED -> dropped)
header_names() {
    sed -n "/typedef enum $1 {/,/} $1;/p" "$header" |
        grep -oE "\\b$2[A-Z0-9_]+[[:space:]]*=" |
        sed -E "s/^$2//; s/[[:space:]]*=\$//" | tr '[:upper:]' '[:lower:]'
}
# Read once, at the top level, so that set -e stops the script when the
# header cannot be read: a parse that found nothing would make every check
# below vacuous.
audit_keys=$(header_names ac_estimator_audit_key AC_ESTIMATOR_AUDIT_) || true
methods=$(header_names ac_method AC_METHOD_) || true
grep -qx dropped <<<"$audit_keys" || { echo "no audit keys read from $header" >&2; exit 1; }
grep -qx oddshap <<<"$methods" || { echo "no methods read from $header" >&2; exit 1; }
# the demo's and shapley's options, as their help must name them
demo_options="--seed --repeats --json --help"
shapley_options="--method --budget --seed --repeats --batch --noisy --target-se --no-known --json --max-bytes --max-memory --max-exact-work --strict --help"
# the credit column (4th-from-last field) of a demo row, by role
demo_credit() { awk -v role="$1" '$1 ~ /^[0-9]+$/ && $2 == role { print $(NF - 2); exit }' "$out"; }

case $case_name in
version)
    run 0 --version
    stdout_has '^agentcredit [0-9][0-9.]* (library [0-9][0-9.]*, ABI [0-9]*)$'
    ;;
help)
    for args in --help -h help; do
        # shellcheck disable=SC2086 # the words of $args are the arguments
        run 0 $args
        stderr_empty
        stdout_has '^Usage: agentcredit COMMAND'
        for word in demo shapley $demo_options $shapley_options --version 'Exit status'; do
            stdout_has "$word"
        done
        for method in $methods; do
            stdout_has "[ |]$method\\b"
        done
    done
    run 2                      # no command: what is wrong, and the usage, on stderr
    stdout_empty
    stderr_has 'no command given'
    stderr_has 'Usage: agentcredit'
    ;;
help_commands)
    for args in "demo --help" "demo -h" "help demo" "demo --seed 3 --help"; do
        # shellcheck disable=SC2086 # the words of $args are the arguments
        run 0 $args
        stderr_empty
        stdout_has '^Usage: agentcredit demo'
        stdout_has 'Exit status'
        for word in $demo_options; do stdout_has "$word"; done
        ! grep -q -e 'shapley' "$out" || fail "the demo's help names another command"
    done
    for args in "shapley --help" "shapley -h" "help shapley" "--help shapley" \
                "shapley $data/glove3.json --json --help"; do
        # shellcheck disable=SC2086 # the words of $args are the arguments
        run 0 $args
        stderr_empty
        stdout_has '^Usage: agentcredit shapley GAME.json'
        stdout_has 'Exit status'
        for word in $shapley_options; do stdout_has "$word"; done
        for method in $methods; do stdout_has "[ |]$method\\b"; done
        ! grep -q -e 'demo' "$out" || fail "the shapley help names another command"
    done
    run 2 help frobnicate
    stdout_empty
    stderr_has "unknown command 'frobnicate'"
    run 2 help demo shapley
    stderr_has 'one command at most'
    run 2 demo --frobnicate
    stdout_empty
    stderr_has "unknown option '--frobnicate'"
    stderr_has 'agentcredit demo --help'
    run 2 demo stray
    stderr_has "unknown argument 'stray'"
    ;;
demo)
    run 0 demo
    stdout_has '^conservation: sum of credits = '
    stdout_has '^audit: method exact'
    cat "$out"
    # the conservation difference is tiny
    awk '/^conservation:/ {
            d = $NF; if (d < 0) d = -d
            if (d > 1e-9) { print "conservation difference " $NF; exit 1 }
         }' "$out" || fail "credits do not add up to v(all) - v(empty)"
    # bit-identical when run again with the same seed
    cp "$out" "$tmp/first"
    run 0 demo
    cmp -s "$out" "$tmp/first" || fail "two runs with the same seed differ"
    ;;
demo_json)
    # the demo's two episodes through the pipeline: one signals line each,
    # the same figures as the tables, the same bytes for the same seed
    run 0 demo --json --seed 4
    stderr_empty
    cp "$out" "$tmp/json"
    run 0 demo --seed 4
    cp "$out" "$tmp/tables"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$tmp/json" "$tmp/tables" <<'PY' || fail "the demo's signals are not as documented"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
tables = open(sys.argv[2]).read().splitlines()
assert [r["id"] for r in rows] == ["demo-success", "demo-failure"], rows
for r in rows:
    assert r["format"] == "agentcredit.signals/1"
    total = sum(a["credit"] for a in r["agents"])
    assert abs(total - r["total"]) <= 1e-12, (total, r["total"])
    assert abs(r["total"] - (r["outcome"] - r["reference"])) <= 1e-15
    for a in r["agents"]:
        got = sum(m["reward"] for m in r["messages"] if m["from"] == a["name"])
        assert abs(got - a["credit"]) <= 1e-12, (a, got)
ok, bad = rows
# the tables' figures: the credits (4 decimals) and the messages' rewards
def block(header, count):
    start = next(k for k, l in enumerate(tables) if l.startswith(header))
    return [l.split() for l in tables[start + 1:start + 1 + count]]
credit = {w[1]: float(w[-3]) for w in block("agent  role", 4)}
for a in ok["agents"]:
    assert round(a["credit"], 4) == credit[a["name"]], (a, credit)
reward = [float(w[5]) for w in block("step agent", 10)]
assert [round(m["reward"], 4) for m in ok["messages"]] == reward, reward
assert ok["audit"]["success"] and ok["audit"]["labels"] == "scorer"
assert ok["messages"][7]["flags"] == ["redundant"]
assert bad["first_error"] == {"message": 3, "agent": "saboteur",
                              "probability": 1.0}
assert bad["pair"]["kind"] == "repair" and bad["pair"]["chosen"] == 1
fail_credit = {w[0]: float(w[2]) for w in block("failure is judged", 4)}
for a in bad["agents"]:
    assert round(a["credit"], 6) == fail_credit[a["name"]], (a, fail_credit)
PY
    run 0 demo --json --seed 4
    cmp -s "$out" "$tmp/json" || fail "two runs with the same seed differ"
    run 0 demo --json --seed 5
    cmp -s "$out" "$tmp/json" && fail "another seed gave the same signals"
    run 2 demo --json=yes
    stderr_has "--json takes no value"
    ;;
demo_roles)
    for seed in 1 2 3; do
        run 0 demo --seed "$seed"
        carrier=$(demo_credit carrier); helper=$(demo_credit helper)
        redundant=$(demo_credit redundant); saboteur=$(demo_credit saboteur)
        echo "seed $seed: carrier $carrier helper $helper redundant $redundant saboteur $saboteur"
        awk -v c="$carrier" -v h="$helper" -v r="$redundant" -v s="$saboteur" 'BEGIN {
                ok = (c > h) && (h > r) && (h > 0) && (s < 0) && (r < 0.06) && (r > -0.06)
                exit ok ? 0 : 1 }' ||
            fail "roles do not get sensible credits (carrier > helper > redundant ~ 0 > saboteur)"
    done
    run 2 demo --repeats nope
    stderr_has '--repeats'
    ;;
demo_refiner)
    for seed in 1 2 3; do
        run 0 demo --seed "$seed"
        stdout_has '^Message rewards: each agent'
        stdout_has '^Per agent, the rewards add up to the credit:'
        sed -n '/^Message rewards/,$p' "$out"
        # the message table: step agent role judge label reward flags text
        awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && NF >= 8 {
                n++; l = $5 + 0; r = $6 + 0
                if ((l < 0 && r > 0) || (l > 0 && r < 0)) { print "sign: step " $1; bad = 1 }
                if (r > 0.5 || r < -0.5) { print "bound: step " $1; bad = 1 }
                lab[n] = l; rew[n] = r; who[n] = $2
                if ($7 == "redundant") red = red " " $1
             }
             END {
                for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
                    if (who[i] == who[j] && lab[i] < lab[j] && rew[i] > rew[j]) {
                        print "monotone: rows " i ", " j; bad = 1 }
                if (n != 10) { print n " message rows"; bad = 1 }
                if (red != " 7") { print "redundant:" red; bad = 1 }
                exit bad }' "$out" ||
            fail "the message rewards break a property (seed $seed)"
        # the per-agent check: sum of rewards == credit, nothing relaxed
        awk '/^Per agent/ { on = 1; next }
             on && /^(carrier|helper|redundant|saboteur) / {
                n++; d = $5 + 0; if (d < 0) d = -d
                e = $4 - $3; if (e < 0) e = -e
                if (d > 1e-9 || e > 1e-9 || $6 != "none") bad = 1 }
             END { exit (n == 4 && !bad) ? 0 : 1 }' "$out" ||
            fail "the rewards do not add up to the credits (seed $seed)"
    done
    ;;
demo_failure)
    run 0 demo
    stdout_has "^first error: message 3 by agent 3 (saboteur), probability 1.00"
    stdout_has '^3    saboteur   FIRST ERROR'
    stdout_has '^5    helper     corrective'
    stdout_has 'rejected: message 3:'
    stdout_has 'chosen:   candidate 1:'
    # the blame rewards add up to each agent's credit
    awk '/^Per agent \(credit from the team game/ { on = 1; next }
         on && $2 == "credit" { n++; d = $3 - $7; if (d < 0) d = -d; if (d > 1e-6) bad = 1 }
         on && /^$/ { on = 0 }
         END { exit (n == 4 && !bad) ? 0 : 1 }' "$out" ||
        fail "the failure rewards do not add up to the credits"
    # the error's reward is the lowest of the saboteur's messages
    awk '$1 == "3" && $2 == "saboteur" { e = $5 } $1 == "7" && $2 == "saboteur" { l = $5 }
         END { exit (e < l) ? 0 : 1 }' "$out" || fail "the first error is not blamed most"
    ;;
shapley_exact)
    run 0 shapley "$data/glove3.json" --method exact
    cat "$out"
    stdout_has '^conservation:'
    stdout_has '^audit: method exact'
    awk '/^error against exact:/ { sub(/,.*/, "", $0); v = $NF; if (v < 0) v = -v; if (v > 1e-12) exit 1; found = 1 }
         END { exit found ? 0 : 1 }' "$out" || fail "exact method does not match the game's exact values"
    run 0 shapley "$data/team6.json"
    cat "$out"
    stdout_has 'error against exact'
    ;;
shapley_json)
    run 0 shapley "$data/team6.json" --method=exact --json
    cat "$out"
    [ "$(wc -l < "$out")" -eq 1 ] || fail "--json must print one line"
    for key in '"credits":' '"se":' '"exact":' '"max_abs_error":' '"audit":' '"outcome":"complete"' '"method":"exact"'; do
        stdout_has "$key"
    done
    ;;
shapley_interactions)
    # the glove game: the left glove complements each right one (+0.5),
    # the two right gloves are redundant (-0.5)
    run 0 shapley "$data/glove3.json" --interactions
    cat "$out"
    stdout_has '^interactions (negative: redundant, positive: complementary)'
    stdout_has '^0-1  *+0.500000000  *0$'
    stdout_has '^1-2  *-0.500000000  *0$'
    run 0 shapley "$data/glove3.json" --interactions --json
    stdout_has '"interactions":\[{"players":\[0,1\],"index":0.5,"se":0.0},{"players":\[0,2\],"index":0.5,"se":0.0},{"players":\[1,2\],"index":-0.5,"se":0.0}\]'
    run 0 shapley "$data/glove3.json" --json
    grep -q interactions "$out" && fail "interactions printed without --interactions"
    # a noisy game through the adaptive method: every pair has an error
    run 0 shapley "$data/team6_noisy.json" --method adaptive --budget 1000 --interactions --json
    [ "$(grep -o '"players":' "$out" | wc -l)" -eq 15 ] || fail "not the 15 pairs of 6 players"
    grep -q '"se":0.0}' "$out" && fail "a noisy game's interaction has a standard error of 0"
    # declared noisy, evaluated once, values not 0/1: the noise cannot be
    # seen, so every standard error is infinite (null), as the credits' are
    run 0 shapley "$data/team6.json" --method exact --noisy 1 --interactions --json
    stdout_has '"players":\[0,1\],"index":[^,]*,"se":null}'
    run 0 shapley "$data/team6.json" --method exact --noisy 1 --interactions
    stdout_has '^0-1  *[-+][0-9.]*  *inf$'
    # a budget that cannot pay for the table is refused before any evaluation
    run 1 shapley "$data/team6.json" --method kernelshap --budget 20 --interactions
    stderr_has 'AC_E_BUDGET'
    stderr_has 'interactions (AC_ESTIMATOR_PARAM_INTERACTIONS) need every coalition'
    stderr_has 'evaluations 0,'
    run 2 shapley "$data/glove3.json" --interactions=1
    ;;
shapley_sampled)
    for method in permutation kernelshap auto; do
        run 0 shapley "$data/team6.json" --method "$method" --budget 40 --seed 7 --batch 5
        stdout_has '^conservation:'
        stdout_has "^audit: method"
        awk '/^conservation:/ { d = $NF; if (d < 0) d = -d; if (d > 1e-9) exit 1 }' "$out" ||
            fail "$method does not conserve credit"
        awk '/^audit:/ { for (i = 1; i <= NF; i++) if ($i == "evaluations") { v = $(i + 1); sub(/,/, "", v); if (v + 0 > 40) exit 1 } }' "$out" ||
            fail "$method spent more than the budget"
        cp "$out" "$tmp/$method"
        run 0 shapley "$data/team6.json" --method "$method" --budget 40 --seed 7 --batch 5
        cmp -s "$out" "$tmp/$method" || fail "$method: same seed, different output"
    done
    ;;
shapley_noisy)
    run 0 shapley "$data/team6_noisy.json" --method exact --repeats 8 --budget 1000 --seed 3
    cat "$out"
    stdout_has '^conservation:'
    awk '/^audit:/ { for (i = 1; i <= NF; i++) if ($i == "repeats") { v = $(i + 1); sub(/,/, "", v); if (v + 0 <= 0) exit 1 } }' "$out" ||
        fail "repeats not reported in the audit"
    run 0 shapley "$data/team6_noisy.json" --method permutation --budget 300 --target-se 0.5 --json
    stdout_has '"outcome":'
    ;;
shapley_audit)
    keys=$audit_keys
    echo "audit keys in the header: ${keys//$'\n'/ }"
    run 0 shapley "$data/team6.json" --method exact --json
    # the audit object: every key of the header, and nothing else
    jaudit=$(sed -n 's/.*"audit":{\([^}]*\)}.*/\1/p' "$out")
    [ -n "$jaudit" ] || fail "no audit object in the JSON"
    for key in $keys; do
        grep -q -e "\"$key\":" <<<"$jaudit" || fail "the JSON audit lacks \"$key\""
    done
    [ "$(grep -o '"[a-z_]*":' <<<"$jaudit" | wc -l)" -eq "$(wc -w <<<"$keys")" ] ||
        fail "the JSON audit has keys the header does not define: $jaudit"
    grep -q -e '"dropped":0' <<<"$jaudit" || fail "dropped is not 0 for an exact run"
    grep -q -e '"method":"exact"' <<<"$jaudit" || fail "the method is not named"
    # the text: "name value" per key, an underscore printed as a space
    for args in "shapley $data/team6.json --method exact" "demo"; do
        # shellcheck disable=SC2086 # the words of $args are the arguments
        run 0 $args
        line=$(grep '^audit: ' "$out") || fail "no audit line"
        for key in $keys; do
            grep -q -e "[:,] ${key//_/ } [^ ,]" <<<"$line" || fail "the audit line lacks '${key//_/ }'"
        done
        ! grep -q unavailable <<<"$line" || fail "an audit figure is unavailable: $line"
    done
    ;;
shapley_methods)
    # every method of the header is accepted by name and reported by name
    for method in $methods; do
        run 0 shapley "$data/glove3.json" --method "$method" --budget 100 --seed 1
        stdout_has '^conservation:'
        if [ "$method" != auto ]; then
            stdout_has "^audit: method $method,"
        fi
    done
    ;;
bad_file)
    run nonzero shapley "$tmp/does-not-exist.json"
    stderr_has 'does-not-exist.json'
    stderr_has 'cannot load game'
    stdout_empty
    ;;
bad_dir)
    # a directory is named as one (it was "read error")
    run 2 shapley "$tmp"
    stdout_empty
    stderr_has "cannot load game '$tmp': is a directory"
    # other I/O failures: the system's reason
    run 2 shapley "$tmp/none.json"
    stderr_has 'No such file or directory'
    if [ -r /dev/zero ]; then
        # no JSON text holds a NUL byte: the first one ends the read (it
        # was read for 45 s and 2.1 GB)
        run 2 shapley /dev/zero
        stdout_empty
        stderr_has '0x00'
    fi
    ;;
shapley_limits)
    # the defaults in the help are the library's
    run 0 shapley --help
    stdout_has '--max-bytes N .*file'
    stdout_has '(default 16M)'
    stdout_has '(default 64M)'
    stdout_has '(default 128M)'
    # past a limit: refused, naming the option that raises it
    run 2 shapley "$data/glove3.json" --max-bytes 10
    stdout_empty
    stderr_has 'more than max_bytes = 10 bytes; raise it with --max-bytes N'
    run 0 shapley "$data/glove3.json" --max-bytes 1K --max-memory=1M --max-exact-work 1G
    stdout_has 'error against exact'
    # 200,000 empty terms of a 65536-player game (4.8 MB): it took 1.6 GB
    awk 'BEGIN { printf "{\"n\":65536,\"terms\":["
                 for (i = 0; i < 200000; i++) printf "%s{\"coef\":0,\"members\":[]}", i ? "," : ""
                 printf "]}" }' > "$tmp/terms.json"
    run 2 shapley "$tmp/terms.json"
    stdout_empty
    stderr_has 'max_memory'
    stderr_has 'raise it with --max-memory N'
    # 56 voting players, weights summing to 10^6 (387 bytes): the exact
    # values for the error column took 885 MB and 23 s; now they are left
    # out with a note, and the estimate is printed
    awk 'BEGIN { printf "{\"n\":56,\"type\":\"voting\",\"weights\":["
                 for (i = 0; i < 56; i++) printf "%s%d", i ? "," : "", i < 55 ? 17857 : 1000000 - 55 * 17857
                 printf "],\"quota\":500001}" }' > "$tmp/voting.json"
    run 0 shapley "$tmp/voting.json" --method permutation --budget 300
    stdout_has '^conservation:'
    ! grep -q 'error against exact' "$out" || fail "an exact column past max_exact_work"
    stderr_has 'note: .*max_exact_work'
    stderr_has 'raise it with --max-exact-work N'
    # a limit is a positive integer, K/M/G/T allowed
    for bad in 0 -5 12Q 1.5M '' 99999999999999999999 17179869184T; do
        run 2 shapley "$data/glove3.json" --max-memory "$bad"
        stderr_has "--max-memory expects a positive integer"
    done
    ;;
shapley_nonfinite)
    # the tool never prints a value that is not a finite number as a
    # result (it printed NaN credits and "max |error| nan", exit 0, and
    # "credits": [null, ...] in JSON): a figure that is not finite is an
    # error, exit 1, nothing on stdout
    printf '{"n": 2, "values": [0, 1, 1, 2], "exact": [1e200, -1e200]}' > "$tmp/badexact.json"
    for json in "" --json; do
        run 1 shapley "$tmp/badexact.json" $json
        stdout_empty
        stderr_has 'not finite: the mean squared error against the exact values is inf'
    done
    # v(all) - v(empty) beyond a double: refused (by the library or the tool)
    printf '{"n": 1, "values": [-1e308, 1e308]}' > "$tmp/span.json"
    for json in "" --json; do
        run 1 shapley "$tmp/span.json" $json
        stdout_empty
    done
    # the issue's additive game, v(S) = 1e154 |S| on 12 players: finite
    # credits of 1e154 each, or a clear refusal; never NaN
    awk 'BEGIN { printf "{\"n\":12,\"terms\":["
                 for (i = 0; i < 12; i++) printf "%s{\"coef\":1e154,\"members\":[%d]}", i ? "," : "", i
                 printf "]}" }' > "$tmp/additive.json"
    for json in "" --json; do
        got=0
        "$ac" shapley "$tmp/additive.json" $json >"$out" 2>"$err" || got=$?
        echo "\$ agentcredit shapley additive.json $json -> exit $got"
        ! grep -qi -e 'nan' -e 'inf' -e 'null' "$out" || fail "a value that is not finite on stdout"
        if [ "$got" -eq 0 ]; then
            # each credit within 1% of 1e154 (a sampled method estimates)
            { sed -n 's/.*"credits":\[\([^]]*\)\].*/\1/p' "$out" | tr ',' '\n'
              awk '$1 ~ /^[0-9]+$/ && NF >= 3 { print $2 }' "$out"; } |
                awk '{ n++; if (!($1 > 0.99e154 && $1 < 1.01e154)) bad = 1 }
                     END { exit (n == 12 && !bad) ? 0 : 1 }' ||
                fail "credits of 1e154 expected"
        else
            stdout_empty
            [ -s "$err" ] || fail "a failure without a message"
        fi
    done
    ;;
bad_json)
    run nonzero shapley "$data/truncated.json"
    stderr_has 'truncated.json'
    stderr_has 'cannot load game'
    run nonzero shapley "$data/unknown_key.json" --strict
    stderr_has 'unknown_key.json'
    stderr_has 'colour'
    ;;
shapley_unknown_keys)
    # an unknown key: a warning naming its path, the same credits as
    # without it; under --strict an error (exit 2)
    run 0 shapley "$data/unknown_key.json" --json
    stderr_has "unknown_key.json: warning: game.colour: unknown key, ignored"
    grep -o '"credits":\[[^]]*\]' "$out" >"$tmp/with"
    printf '{"n": 2, "values": [0, 1, 1, 2]}' >"$tmp/plain.json"
    "$ac" shapley "$tmp/plain.json" --json 2>/dev/null |
        grep -o '"credits":\[[^]]*\]' >"$tmp/without" || fail "plain game"
    cmp -s "$tmp/with" "$tmp/without" || fail "an ignored key changed the credits"
    run 2 shapley "$data/unknown_key.json" --strict
    stdout_empty
    stderr_has 'unknown key "colour" (AC_JSON_STRICT)'
    # a file's seed: a warning saying the run's seed is --seed's; nested
    # keys named by their path
    printf '{"n": 2, "seed": 7, "terms": [{"coef": 1, "members": [0], "colour": 1}], "noise": {"kind": "gaussian", "sd": 0.5, "note": "x"}}' >"$tmp/seed.json"
    run 0 shapley "$tmp/seed.json" --seed 3
    stderr_has "warning: game.seed: unknown key, ignored (the run's seed is --seed N)"
    stderr_has 'warning: terms\[0\].colour: unknown key, ignored'
    stderr_has 'warning: noise.note: unknown key, ignored'
    # a key of another kind of game: an error without --strict too
    printf '{"n": 2, "type": "airport", "costs": [1, 2], "weights": [1, 1]}' >"$tmp/mixed.json"
    run 2 shapley "$tmp/mixed.json"
    stderr_has 'key "weights" belongs to a voting game, not to this airport game'
    ;;
bad_option)
    run 2 shapley "$data/glove3.json" --frobnicate
    stdout_empty
    stderr_has "unknown option '--frobnicate'"
    stderr_has 'agentcredit shapley --help'
    run 2 shapley "$data/glove3.json" --method magic
    stderr_has "--method expects one of .*; got 'magic'"
    for method in $methods; do stderr_has "$method"; done
    run 2 shapley "$data/glove3.json" --json=yes
    stderr_has "--json takes no value"
    run 2 shapley "$data/glove3.json" --budget
    stderr_has '--budget needs a value'
    run 2 shapley
    stderr_has 'no game file'
    run 2 shapley "$data/glove3.json" "$data/team6.json"
    stderr_has 'one game file only'
    ;;
bad_value)
    run 2 shapley "$data/glove3.json" --budget abc
    stderr_has "--budget expects an integer, got 'abc'"
    run 2 shapley "$data/glove3.json" --budget -5
    stderr_has '--budget -5: out of bounds'
    run 2 shapley "$data/glove3.json" --repeats 0
    stderr_has '--repeats 0: out of bounds'
    run 2 shapley "$data/glove3.json" --target-se nan
    stderr_has '--target-se'
    ;;
bad_command)
    run 2 frobnicate
    stderr_has "unknown command 'frobnicate'"
    run 2 --frobnicate
    stderr_has "unknown option '--frobnicate'"
    ;;
signals_interactions)
    # the ok-success episode of episodes.jsonl: v(planner) 0.2, v(coder)
    # 0.5, v(both) 1, v(none) 0: I = 1 - 0.2 - 0.5 + 0 = 0.3, named by agent
    head -n 1 "$data/episodes.jsonl" >"$tmp/one.jsonl"
    run 0 signals --interactions "$tmp/one.jsonl"
    stdout_has '"interactions":\[{"agents":\["planner","coder"\],"index":0.2999999999999999[0-9]*,"se":0.0}\]'
    run 0 signals "$tmp/one.jsonl"
    grep -q interactions "$out" && fail "interactions written without --interactions"
    run 2 signals --interactions=1 "$tmp/one.jsonl"
    ;;
signals)
    # episodes.jsonl: two episodes whose values are all known (a success;
    # a failure with a human first-error label), a blank line, a broken
    # line, an episode that needs an oracle, one with an unknown key
    eps=$data/episodes.jsonl
    run 1 signals --verifier annotations "$eps"
    [ "$(wc -l <"$out")" -eq 3 ] || fail "3 signals lines expected"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$out" <<'PY' || fail "the signals lines are not as documented"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["id"] for r in rows] == ["ok-success", "ok-failure", "unknown-key"]
for r in rows:
    assert r["format"] == "agentcredit.signals/1"
    total = sum(a["credit"] for a in r["agents"])
    assert abs(total - r["total"]) <= 1e-12, r
    assert abs(r["total"] - (r["outcome"] - r["reference"])) <= 1e-15
    for m in r["messages"]:
        if m["from"] == "pytest":
            assert m["reward"] == 0.0 and m["label"] is None
            assert m["flags"] == ["non_player"]
ok = rows[0]
assert ok["audit"]["success"] and ok["total"] == 0.5
fail = rows[1]
assert fail["first_error"] == {"message": 2, "agent": "coder",
                               "probability": 1.0}
assert fail["total"] < 0 and fail["audit"]["labels"] == "blame"
PY
    stderr_has 'episodes.jsonl:4: line 1, column 34'
    stderr_has 'episodes.jsonl:5: .*credit: no oracle'
    stderr_has 'episodes.jsonl:6: warning: episode.colour: unknown key'
    stderr_has 'signals: 5 episodes, 3 written, 2 failed, 1 warnings'
    # --strict turns the warning into a failure; -q keeps stderr to errors
    run 1 signals --strict -q "$eps"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "2 signals lines expected"
    stderr_has 'episodes.jsonl:6: .*unknown key "colour" (AC_JSON_STRICT)'
    grep -q 'written' "$err" && fail "-q prints no summary"
    # the good lines alone: exit 0, to a file, from stdin
    head -n 2 "$eps" >"$tmp/good.jsonl"
    run 0 signals -o "$tmp/signals.jsonl" "$tmp/good.jsonl"
    stdout_empty
    [ "$(wc -l <"$tmp/signals.jsonl")" -eq 2 ] || fail "-o wrote no 2 lines"
    "$ac" signals - <"$tmp/good.jsonl" >"$tmp/stdin.jsonl" 2>/dev/null ||
        fail "signals from stdin"
    cmp -s "$tmp/stdin.jsonl" "$tmp/signals.jsonl" || fail "stdin differs"
    # without --verifier the failure is not localized
    run 0 signals -q "$tmp/good.jsonl"
    stdout_has '"first_error":null'
    ;;
signals_jobs)
    # 600 episodes (a success, a failure, a broken line in turn) on 1 and
    # 4 threads: the same lines, messages and summary, in input order
    good=$(sed -n 1p "$data/episodes.jsonl")
    bad=$(sed -n 2p "$data/episodes.jsonl")
    for _ in $(seq 200); do
        echo "$good"; echo "$bad"; echo '{"broken": '
    done >"$tmp/many.jsonl"
    run 1 signals --verifier annotations "$tmp/many.jsonl"
    cp "$out" "$tmp/one.out"; cp "$err" "$tmp/one.err"
    run 1 signals -j 4 --verifier annotations "$tmp/many.jsonl"
    cmp -s "$out" "$tmp/one.out" || fail "-j 4 wrote other signals"
    cmp -s "$err" "$tmp/one.err" || fail "-j 4 wrote other messages"
    [ "$(wc -l <"$out")" -eq 400 ] || fail "400 signals lines expected"
    stderr_has 'many.jsonl:600: '
    stderr_has 'signals: 600 episodes, 400 written, 200 failed'
    run 2 signals -j 0 "$tmp/many.jsonl"
    stderr_has '-j: 0 is outside'
    # progress on a terminal only (script(1) gives the tool one)
    if command -v script >/dev/null 2>&1; then
        script -qc "'$ac' signals '$tmp/many.jsonl' >/dev/null" /dev/null \
            >"$tmp/tty.txt" 2>&1 || true
        grep -q 'signals: 600 episodes, 200 failed\.\.\.' "$tmp/tty.txt" ||
            fail "no progress line on a terminal"
        grep -q 'failed\.\.\.' "$err" && fail "progress when not a terminal"
    fi
    ;;
signals_errors)
    run 2 signals
    stderr_has 'no episodes file'
    run 2 signals --verifier oracle "$data/episodes.jsonl"
    stderr_has "'oracle' is not annotations or none"
    run 2 signals --budget
    stderr_has '--budget needs a value'
    run 2 signals --bound -1 "$data/episodes.jsonl"
    stderr_has 'signals: '
    run 2 signals --frobnicate x
    stderr_has "unknown option '--frobnicate'"
    run 1 signals "$tmp/missing.jsonl"
    stderr_has 'missing.jsonl: No such file'
    run 0 signals --help
    stdout_has 'agentcredit signals'
    # a line over --max-bytes is refused without being held, the others run
    { sed -n 1p "$data/episodes.jsonl"
      printf '{"id": "%s"}\n' "$(head -c 5000 /dev/zero | tr '\0' x)"
      sed -n 2p "$data/episodes.jsonl"; } >"$tmp/long.jsonl"
    run 1 signals --max-bytes 1K -q "$tmp/long.jsonl"
    stderr_has 'long.jsonl:2: the line is longer than --max-bytes (1024 bytes)'
    [ "$(wc -l <"$out")" -eq 2 ] || fail "the two other lines must run"
    ;;
signals_external)
    # external programs (--oracle-cmd ...) lose nothing: the signals of the
    # episodes without their values, baseline and annotations, served by
    # test_external_program from the table, are those of the episodes with
    # them inline, bit for bit but for the oracle's count in the audit
    prog=${AC_EXTERNAL_PROGRAM:?}
    tab=$data/external.jsonl
    serve="$prog $tab"
    "$prog" --strip values,baseline,annotations <"$tab" >"$tmp/bare.jsonl"
    run 0 signals --verifier annotations "$tab"
    [ "$(grep -c '"oracle_evaluations":0' "$out")" -eq 3 ] || fail "inline values cost no evaluation"
    sed -E 's/"oracle_evaluations":[0-9]+/"oracle_evaluations":N/' "$out" >"$tmp/inline"
    cp "$out" "$tmp/inline.raw"
    run 0 signals --oracle-cmd "$serve" --verifier-cmd "$serve" "$tmp/bare.jsonl"
    [ "$(grep -c '"oracle_evaluations":7' "$out")" -eq 3 ] || fail "7 coalitions asked of the oracle"
    sed -E 's/"oracle_evaluations":[0-9]+/"oracle_evaluations":N/' "$out" >"$tmp/external"
    cmp -s "$tmp/inline" "$tmp/external" || fail "the programs' signals differ from the inline ones"
    stdout_has '"first_error":{"message":4,"agent":"critic","probability":1.0}'
    # values inline cost the oracle nothing: the program is never started
    run 0 signals --verifier annotations --oracle-cmd "$serve die ext-failure" "$tab"
    cmp -s "$out" "$tmp/inline.raw" || fail "an oracle changed inline values"
    # the scorer's labels are the inline labels: the same rewards (inline
    # labels are flagged label_fixed, the audit names the source)
    "$prog" --strip label <"$tab" >"$tmp/unlabelled.jsonl"
    run 0 signals --verifier annotations --scorer-cmd "$serve" "$tmp/unlabelled.jsonl"
    norm() {
        sed -E 's/"flags":\["label_fixed"\]/"flags":[]/g;
                s/"labels":"(given|neutral)"/"labels":"scorer"/;
                s/"scorer_evaluations":[0-9]+/"scorer_evaluations":N/' "$1"
    }
    cmp -s <(norm "$out") <(norm "$tmp/inline.raw") || fail "the scorer's labels gave other signals"
    grep -q '"labels":"scorer"' "$out" || fail "the scorer was not asked"
    # the repair program's candidates: 41, 42, 43 for message 4, 42 verified
    run 0 signals --verifier annotations --repair-cmd "$serve" "$tab"
    stdout_has '"pair":{"kind":"repair","agent":"critic","step":4,"prompt_end":4,"chosen":42,"candidates":3,"verified":1,"confidence":0.9'
    run 0 signals --oracle-cmd "$serve" --verifier-cmd "$serve" --scorer-cmd "$serve" --repair-cmd "$serve" "$tmp/bare.jsonl"
    stdout_has '"chosen":42,'
    # the options
    run 0 signals --help
    for word in --oracle-cmd --verifier-cmd --scorer-cmd --repair-cmd --cmd-timeout agentcredit.work/1; do
        stdout_has "$word"
    done
    run 2 signals --verifier annotations --verifier-cmd "$serve" "$tab"
    stderr_has '--verifier and --verifier-cmd: give one'
    run 2 signals --oracle-cmd '' "$tab"
    stderr_has '--oracle-cmd: the command is empty'
    run 2 signals --cmd-timeout 0 --oracle-cmd "$serve" "$tab"
    stderr_has '--cmd-timeout: 0 is outside'
    run 2 signals --repair-cmd
    stderr_has '--repair-cmd needs a value'
    ;;
signals_external_jobs)
    # -j 2 (each thread with its own programs) writes what -j 1 does, with
    # a program that dies on one episode of three and is started again
    prog=${AC_EXTERNAL_PROGRAM:?}
    tab=$data/external.jsonl
    "$prog" --strip values,baseline,annotations <"$tab" >"$tmp/bare.jsonl"
    for _ in $(seq 20); do cat "$tmp/bare.jsonl"; done >"$tmp/many.jsonl"
    for mode in "" "die ext-failure"; do
        want=0; [ -z "$mode" ] || want=1
        run $want signals --verifier-cmd "$prog $tab" --oracle-cmd "$prog $tab $mode" "$tmp/many.jsonl"
        cp "$out" "$tmp/one.out"; cp "$err" "$tmp/one.err"
        run $want signals -j 2 --verifier-cmd "$prog $tab" --oracle-cmd "$prog $tab $mode" "$tmp/many.jsonl"
        cmp -s "$out" "$tmp/one.out" || fail "-j 2 wrote other signals ($mode)"
        cmp -s "$err" "$tmp/one.err" || fail "-j 2 wrote other messages ($mode)"
    done
    stderr_has 'signals: 60 episodes, 40 written, 20 failed'
    [ "$(grep -c 'exited with status 3 before its values reply' "$err")" -eq 20 ] ||
        fail "every ext-failure fails, and the program is started again each time"
    ;;
signals_external_errors)
    # every way a program can fail: the episode fails with a message naming
    # the option, the command, the episode and what went wrong; the run goes
    # on with the next episode (a killed program is started again)
    prog=${AC_EXTERNAL_PROGRAM:?}
    cp "$data/external.jsonl" "$tmp/table.jsonl" # its path marks our processes
    tab=$tmp/table.jsonl
    "$prog" --strip values,baseline,annotations <"$tab" >"$tmp/bare.jsonl"
    "$prog" --strip annotations <"$tab" >"$tmp/unannotated.jsonl"
    "$prog" --strip label <"$tab" >"$tmp/unlabelled.jsonl"
    # expect LINE WHAT ARGS...: episode LINE of 3 fails with WHAT, the others run
    expect() {
        local line=$1 what=$2; shift 2
        run 1 signals "$@"
        [ "$(wc -l <"$out")" -eq 2 ] || fail "the two other episodes must run"
        stderr_has ":$line: $what"
        stderr_has 'signals: 3 episodes, 2 written, 1 failed'
    }
    o="--oracle-cmd '$prog $tab"
    expect 2 "$o die ext-failure': the program exited with status 3 before its values reply" \
        --oracle-cmd "$prog $tab die ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o garbage ext-failure': reply to request 2 (values): not JSON: column 4: .* (killed)" \
        --oracle-cmd "$prog $tab garbage ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o count ext-failure': reply to request 2 (values): \"answers\" has 8 entries, the request asked for 7 (killed)" \
        --oracle-cmd "$prog $tab count ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o nan ext-failure': reply to request 2 (values): NaN and Infinity are not JSON numbers (write null for a failed answer) (killed)" \
        --oracle-cmd "$prog $tab nan ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o hang ext-failure': no values reply within --cmd-timeout 1 s (killed)" \
        --cmd-timeout 1 --oracle-cmd "$prog $tab hang ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o close ext-failure': the program closed its stdout before its values reply" \
        --oracle-cmd "$prog $tab close ext-failure" "$tmp/bare.jsonl"
    expect 2 "$o error ext-failure': refused the values request: no rollouts for this task" \
        --oracle-cmd "$prog $tab error ext-failure" "$tmp/bare.jsonl"
    # failed answers (null) are asked again, then the library gives up
    expect 2 "oracle evaluations failed beyond the allowed retries: credit: the oracle failed on coalition" \
        --oracle-cmd "$prog $tab null ext-failure" "$tmp/bare.jsonl"
    expect 2 "--verifier-cmd '$prog $tab range ext-failure': reply to request 1 (verdicts): answers\\[0\\] = 2.5 is outside \\[0, 1\\] (killed)" \
        --verifier-cmd "$prog $tab range ext-failure" "$tmp/unannotated.jsonl"
    expect 2 "--verifier-cmd '$prog $tab twice ext-failure': reply to request 1 (verdicts): more than one line (killed)" \
        --verifier-cmd "$prog $tab twice ext-failure" "$tmp/unannotated.jsonl"
    expect 3 "--scorer-cmd '$prog $tab range ext-labelled': reply to request 3 (labels): answers\\[0\\] = 2.5 is outside \\[-1, 1\\] (killed)" \
        --scorer-cmd "$prog $tab range ext-labelled" "$tmp/unlabelled.jsonl"
    expect 2 "--repair-cmd '$prog $tab count ext-failure': reply to request 1 (repair): candidates\\[3\\] is not an integer id" \
        --verifier annotations --repair-cmd "$prog $tab count ext-failure" "$tab"
    # a command that does not exist: the shell's status 127, every episode
    run 1 signals --oracle-cmd "$tmp/no-such-program" "$tmp/bare.jsonl"
    [ "$(grep -c "'$tmp/no-such-program': the program exited with status 127 before" "$err")" -eq 3 ] ||
        fail "each episode reports the missing program"
    stderr_has 'signals: 3 episodes, 0 written, 3 failed'
    # no program is left behind: the killed and the finished are reaped
    sleep 0.2
    if ps -eo args 2>/dev/null | grep -F "$tab" | grep -v grep; then
        fail "a program outlived the tool"
    fi
    ;;
signals_oracle_example)
    # docs/examples/oracle_counterfactual.py, the stand-in oracle for
    # imported logs: the shipped Who&When excerpts get signals, each failure
    # blamed on the agent of its labelled mistake
    py=$(command -v python3 || true)
    [ -n "$py" ] || { echo "no python3: skipped"; exit 77; }
    src=$(cd "$(dirname "$header")/.." && pwd)
    oracle="$py $src/docs/examples/oracle_counterfactual.py"
    "$ac" import --from who-and-when "$src"/tests/data/who_and_when/*.json \
        >"$tmp/ww.jsonl" 2>/dev/null || fail "import"
    run 0 signals --verifier annotations --oracle-cmd "$oracle" "$tmp/ww.jsonl"
    "$py" - "$out" <<'PY' || fail "the stand-in oracle's signals are not as documented"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 6, len(rows)
for r in rows:
    credit = {a["name"]: a["credit"] for a in r["agents"]}
    assert abs(sum(credit.values()) - r["total"]) <= 1e-12
    erring = r["first_error"]["agent"]
    n = len(credit)   # every agent spoke in these excerpts
    # (R - success)/n + (R - reference - (R - baseline))/n with R = 0,
    # success 1, baseline 0, reference 0.5; one agent alone: all of R - ref
    want = -0.5 if n == 1 else -1.0 / n - 0.5 / n
    assert abs(credit[erring] - want) <= 1e-12, r["id"]
    assert all(credit[a] > credit[erring] for a in credit if a != erring)
PY
    # a success: the agents that spoke share R - baseline equally
    prog=${AC_EXTERNAL_PROGRAM:?}
    "$prog" --strip values,baseline <"$data/external.jsonl" | head -n 1 >"$tmp/success.jsonl"
    run 0 signals --oracle-cmd "$oracle" "$tmp/success.jsonl"
    stdout_has '"agents":\[{"name":"planner","credit":0.13333333333333333,"se":0.0,"flags":\[\]},{"name":"coder","credit":0.13333333333333333,'
    # it serves values only
    run 1 signals --oracle-cmd "$oracle" --verifier-cmd "$oracle" "$tmp/ww.jsonl"
    stderr_has "refused the verdicts request: this oracle serves values only, not verdicts"
    ;;
readme_signals)
    # the README's three lines on the shipped data, as a user types them
    # from the checkout after 'make' (build/ is the build directory)
    command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
    src=$(cd "$(dirname "$header")/.." && pwd)
    awk '/<!-- test_cli.sh readme_signals -->/ { armed = 1; next }
         armed && !inside && /^```sh[ \t]*$/ { inside = 1; next }
         inside && /^```[ \t]*$/ { exit }
         inside { print }' "$src/README.md" >"$tmp/lines.sh"
    [ "$(wc -l <"$tmp/lines.sh")" -eq 3 ] || fail "no three lines after the marker in README.md"
    # a checkout's layout, with this build's tool as build/bindings/cli/agentcredit
    mkdir -p "$tmp/co/build/bindings/cli"
    ln -s "$(cd "$(dirname "$ac")" && pwd)/$(basename "$ac")" \
        "$tmp/co/build/bindings/cli/agentcredit"
    ln -s "$src/tests" "$tmp/co/tests"
    ln -s "$src/docs" "$tmp/co/docs"
    (cd "$tmp/co" && bash -e "$tmp/lines.sh") >"$out" 2>"$err" </dev/null ||
        fail "the README's lines failed"
    [ "$(wc -l <"$tmp/co/signals.jsonl")" -eq 6 ] || fail "6 signals lines expected"
    stdout_has '^{"format":"agentcredit.signals/1","id":"102.json"'
    ;;
import_who_and_when)
    # three Who&When files (testdata/import/README.md): two Algorithm-Generated
    # (the author in "name"; 59's label points at the terminal, a tool) and
    # one Hand-Crafted (the author folded into "role")
    src=$data/import
    files=("$src/algorithm-generated-47.json" "$src/algorithm-generated-59.json"
           "$src/hand-crafted-6.json")
    run 0 import --from who-and-when "${files[@]}"
    [ "$(wc -l <"$out")" -eq 3 ] || fail "3 episode lines expected"
    stderr_has 'algorithm-generated-59.json: warning: mistake_step: message 1 is by "Computer_terminal", a tool, not an agent; no first-error annotation'
    stderr_has 'import: 3 files, 3 episodes written, 0 failed, 1 warnings'
    cp "$out" "$tmp/ww.jsonl"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$out" "${files[@]}" <<'PY' || fail "the episodes are not the files'"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["id"] for r in rows] == [os.path.basename(f) for f in sys.argv[2:]]
for r, path in zip(rows, sys.argv[2:]):
    src = json.load(open(path))
    assert r["format"] == "agentcredit.episode/1"
    assert r["outcome"] == 0.0 and r["threshold"] == 0.5  # a failure
    kinds = {p["name"]: p["kind"] for p in r["participants"]}
    h = src["history"]
    assert len(r["messages"]) == len(h)
    for m, s in zip(r["messages"], h):
        author = s.get("name") or s["role"].split(" (")[0]
        assert m["from"] == author and m["role"] == s["role"]
        assert m.get("text") == s["content"]
        want = {"Computer_terminal": "tool", "human": "user"}.get(author, "agent")
        assert kinds[author] == want, (author, kinds[author])
    assert set(kinds) == {s.get("name") or s["role"].split(" (")[0] for s in h}
    step = int(src["mistake_step"])
    if kinds[r["messages"][step]["from"]] == "agent":
        assert r["annotations"] == {"first_error": step}, r.get("annotations")
    else:
        assert "annotations" not in r
by = {r["id"]: r for r in rows}
assert by["algorithm-generated-47.json"]["annotations"]["first_error"] == 1
assert "annotations" not in by["algorithm-generated-59.json"]
assert by["algorithm-generated-59.json"]["participants"][1] == {
    "name": "Computer_terminal", "kind": "tool"}
hc = by["hand-crafted-6.json"]
assert hc["participants"][0] == {"name": "human", "kind": "user"}
assert hc["annotations"] == {"first_error": 5}
# "Orchestrator (-> WebSurfer)" is the parent of WebSurfer's next message
for t, m in enumerate(hc["messages"]):
    if m["role"] == "Orchestrator (-> WebSurfer)":
        nxt = next(u for u in range(t + 1, len(hc["messages"]))
                   if hc["messages"][u]["from"] == "WebSurfer")
        assert hc["messages"][nxt]["parent"] == t
PY
    # the label as an integer (the format allows both) gives the same
    sed 's/"mistake_step": "1"/"mistake_step": 1/' "${files[0]}" >"$tmp/47.json"
    grep -q '"mistake_step": 1,' "$tmp/47.json" || fail "no integer mistake_step"
    run 0 import -q --from who-and-when "$tmp/47.json"
    stderr_empty
    stdout_has '"annotations":{"first_error":1}'
    # -o writes the same lines
    run 0 import -q --from who-and-when -o "$tmp/ww-o.jsonl" "${files[@]}"
    stdout_empty
    cmp -s "$tmp/ww-o.jsonl" "$tmp/ww.jsonl" || fail "-o differs from stdout"
    # the episodes load (strictly) and go on to signals, which has no
    # oracle for values the episodes do not give: each one fails on its line
    run 1 signals --strict --verifier annotations "$tmp/ww.jsonl"
    stdout_empty
    for n in 1 2 3; do stderr_has "ww.jsonl:$n: .*credit: no oracle"; done
    stderr_has 'signals: 3 episodes, 0 written, 3 failed, 0 warnings'
    ;;
import_tau)
    # three tau-bench runs (10 succeeded; 12 and 59 failed) and the labels
    # of 12, 59 (its decisive step is a user message) and 104 (no such run)
    src=$data/import
    run 0 import --from tau-bench --labels "$src/tau_labels.json" "$src/tau_runs.json"
    [ "$(wc -l <"$out")" -eq 3 ] || fail "3 episode lines expected"
    stderr_has 'tau_runs.json: record 2: warning: label of run 59 (step_number 14): message 13 is by "user", a user, not an agent; no first-error annotation'
    stderr_has 'tau_labels.json: warning: \[2\]: no run has task_id 104; not used'
    stderr_has 'import: 1 files, 3 episodes written, 0 failed, 2 warnings'
    cp "$out" "$tmp/tau.jsonl"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$out" "$src/tau_runs.json" "$src/tau_labels.json" <<'PY' || fail "the episodes are not the runs'"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs = json.load(open(sys.argv[2]))
labels = {e["trajectory_id"]: e for e in json.load(open(sys.argv[3]))}
assert len(rows) == len(runs) == 3
for r, run in zip(rows, runs):
    assert r["format"] == "agentcredit.episode/1"
    assert r["id"] == "%d:%d" % (run["task_id"], run["trial"])
    assert r["outcome"] == run["reward"] and r["threshold"] == 0.5
    kinds = {p["name"]: p["kind"] for p in r["participants"]}
    assert [n for n, k in kinds.items() if k == "agent"] == ["assistant"]
    assert kinds["system"] == "system" and kinds["user"] == "user"
    assert all(k == "tool" for n, k in kinds.items() if n.startswith("tool:"))
    assert len(r["messages"]) == len(run["traj"])
    calls = {}
    for t, (m, s) in enumerate(zip(r["messages"], run["traj"])):
        assert m["role"] == s["role"]
        if s["role"] == "tool":
            assert m["from"] == "tool:" + s["name"]
            assert m["parent"] == calls[s["tool_call_id"]]
            assert m.get("text") == s["content"]
        else:
            assert m["from"] == s["role"]
        if s.get("tool_calls"):
            lines = ["%s(%s)" % (c["function"]["name"], c["function"]["arguments"])
                     for c in s["tool_calls"]]
            assert m["text"] == "\n".join(([s["content"]] if s["content"] else []) + lines)
            calls.update({c["id"]: t for c in s["tool_calls"]})
            # the calls kept as given: arguments strings, byte for byte
            assert m["tool_calls"] == [
                {"id": c["id"], "type": "function", "function": c["function"]}
                for c in s["tool_calls"]]
        elif s["role"] != "tool":
            assert m.get("text") == s["content"]
        if s["role"] == "tool":
            assert (m["tool_call_id"], m["name"]) == (s["tool_call_id"], s["name"])
        else:
            assert "tool_call_id" not in m and "name" not in m
        if not s.get("tool_calls"):
            assert "tool_calls" not in m
    label = labels.get(run["task_id"])
    if label is None or run["reward"] >= 0.5:
        assert "annotations" not in r, r["id"]
        continue
    root = label["root_cause"]["failure_id"]
    step = [f for f in label["failures"] if f["failure_id"] == root][0]["step_number"] - 1
    if r["messages"][step]["from"] == "assistant":
        assert r["annotations"] == {"first_error": step}
    else:
        assert "annotations" not in r
assert rows[1]["annotations"] == {"first_error": 18}  # run 12, step 19
assert "annotations" not in rows[2]                   # run 59: the user's
PY
    # without labels: no annotation and no warning
    run 0 import --from tau-bench "$src/tau_runs.json"
    ! grep -q '"annotations"' "$out" || fail "an annotation without labels"
    ! grep -q ': warning: ' "$err" || fail "a warning without labels"
    # signals: each episode fails on its own line (no values, no oracle)
    run 1 signals --strict --verifier annotations "$tmp/tau.jsonl"
    stdout_empty
    for n in 1 2 3; do stderr_has "tau.jsonl:$n: .*credit: no oracle"; done
    stderr_has 'signals: 3 episodes, 0 written, 3 failed, 0 warnings'
    ;;
import_errors)
    src=$data/import
    ww=$src/algorithm-generated-47.json
    run 2 import "$ww"
    stderr_has 'import: no --from'
    run 2 import --from langchain "$ww"
    stderr_has "'langchain' is not who-and-when, tau-bench, openai-chat or ag2"
    run 2 import --from who-and-when
    stderr_has 'no input file'
    run 2 import --from who-and-when --labels "$src/tau_labels.json" "$ww"
    stderr_has '--labels is for --from tau-bench'
    run 2 import --from who-and-when --max-bytes 0 "$ww"
    stderr_has '--max-bytes expects a positive integer'
    run 2 import --from who-and-when --frobnicate "$ww"
    stderr_has "unknown option '--frobnicate'"
    run 0 import --help
    stdout_has 'agentcredit import --from FORMAT'
    # a missing file, a directory, malformed JSON, JSON that is not
    # Who&When: each reported with its name, the good file still imported
    printf '{"history": [' >"$tmp/broken.json"
    printf '[1, 2]' >"$tmp/array.json"
    printf '{"history": [{"content": "hi"}], "is_correct": false}' >"$tmp/noauthor.json"
    run 1 import --from who-and-when "$tmp/missing.json" "$tmp" "$tmp/broken.json" \
        "$tmp/array.json" "$tmp/noauthor.json" "$ww"
    [ "$(wc -l <"$out")" -eq 1 ] || fail "the good file's episode expected"
    stdout_has '"id":"algorithm-generated-47.json"'
    stderr_has 'missing.json: No such file or directory'
    stderr_has "$tmp: is a directory"
    stderr_has 'broken.json: line 1, column 13: '
    stderr_has 'array.json: not a JSON object'
    stderr_has 'noauthor.json: history\[0\]: no author'
    stderr_has 'import: 6 files, 1 episodes written, 5 failed, 0 warnings'
    # tau: a bad run is named by its record, the others are written
    printf '%s' '[{"task_id": 1, "trial": 0, "reward": 1, "traj": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Looking.", "tool_calls": [{"id": "c1",
         "type": "function", "function": {"name": "find", "arguments": {"q": 1}}}]},
        {"role": "tool", "name": "find", "tool_call_id": "c1", "content": "none"}]},
      {"task_id": 2, "traj": [{"role": "user", "content": "x"}]},
      {"task_id": 3, "reward": 0, "traj": [{"role": "wizard", "content": "x"}]},
      "a string",
      {"task_id": "five", "reward": 0.0, "traj": [{"role": "assistant", "content": null}]}]' \
        >"$tmp/runs.json"
    run 1 import --from tau-bench "$tmp/runs.json" "$tmp/broken.json"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "2 episode lines expected"
    stdout_has '"id":"1:0"'
    stdout_has '"text":"Looking.\\nfind({\\"q\\":1})"'
    stdout_has '"from":"tool:find","role":"tool","text":"none","tool_call_id":"c1","name":"find","parent":1'
    stdout_has '"tool_calls":\[{"id":"c1","type":"function","function":{"name":"find","arguments":{"q":1}}}\]'
    stdout_has '"id":"five"'
    stderr_has 'runs.json: record 1: reward: missing'
    stderr_has 'runs.json: record 2: traj\[0\].role: "wizard" is not system, user, assistant or tool'
    stderr_has 'runs.json: record 3: not an object'
    stderr_has 'broken.json: line 1, column 13: '
    stderr_has 'import: 2 files, 2 episodes written, 4 failed, 0 warnings'
    # a file over --max-bytes, known by its size or found while reading
    run 1 import --from who-and-when --max-bytes 1K "$ww"
    stdout_empty
    stderr_has 'algorithm-generated-47.json: 6535 bytes, more than --max-bytes 1024; raise it with --max-bytes N'
    run 1 import --from who-and-when --max-bytes 1K <(cat "$ww")
    stdout_empty
    stderr_has '/dev/fd/[0-9]*: more than --max-bytes 1024 bytes; raise it'
    run 0 import -q --from who-and-when --max-bytes 7K "$ww"
    # labels that cannot be read: nothing is imported
    run 1 import --from tau-bench --labels "$tmp/none.json" "$src/tau_runs.json"
    stdout_empty
    stderr_has 'none.json: No such file or directory'
    stderr_has 'no labels, nothing imported'
    run 1 import --from tau-bench --labels "$tmp/broken.json" "$src/tau_runs.json"
    stdout_empty
    stderr_has 'broken.json: line 1, column 13'
    ;;
import_openai_chat)
    # openai_chat.jsonl: a team of three agents (planner, coder, reviewer)
    # with tool calls and a reward; a conversation with a developer
    # message, content parts, a legacy function_call and TRL's label
    src=$data/import
    run 0 import --from openai-chat "$src/openai_chat.jsonl"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "2 episode lines expected"
    stderr_has 'import: 1 files, 2 episodes written, 0 failed, 0 warnings'
    cp "$out" "$tmp/chat.jsonl"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$out" "$src/openai_chat.jsonl" <<'PY' || fail "the episodes are not the conversations'"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
convs = [json.loads(l) for l in open(sys.argv[2])]
assert [r["id"] for r in rows] == ["bugfix-0412", "openai_chat.jsonl:2"]
for r, c in zip(rows, convs):
    assert r["format"] == "agentcredit.episode/1" and r["threshold"] == 0.5
    kinds = {p["name"]: p["kind"] for p in r["participants"]}
    assert len(r["messages"]) == len(c["messages"])
    calls = {}
    for t, (m, s) in enumerate(zip(r["messages"], c["messages"])):
        assert m["role"] == s["role"]
        role = s["role"]
        if role == "assistant":
            assert m["from"] == s.get("name", "assistant")
            assert kinds[m["from"]] == "agent"
        elif role in ("tool", "function"):
            assert kinds[m["from"]] == "tool" and m["from"].startswith("tool:")
        else:
            assert m["from"] == role
            assert kinds[role] == {"user": "user"}.get(role, "system")
        content = s["content"]
        if isinstance(content, list):
            content = "\n".join(p["text"] if p["type"] == "text" else "[%s]" % p["type"]
                                for p in content)
        lines = [content] if content is not None else []
        kept = []
        for call in s.get("tool_calls", []):
            lines.append("%s(%s)" % (call["function"]["name"], call["function"]["arguments"]))
            calls[call["id"]] = (t, call["function"]["name"])
            kept.append({"id": call["id"], "type": "function", "function": call["function"]})
        if "function_call" in s:
            fc = s["function_call"]
            lines.append("%s(%s)" % (fc["name"], fc["arguments"]))
            calls[fc["name"]] = (t, fc["name"])
            kept.append({"type": "function", "function": fc})  # no id
        assert m.get("tool_calls") == (kept or None)
        if role in ("tool", "function"):
            key = s["tool_call_id"] if role == "tool" else s["name"]
            assert m["parent"] == calls[key][0]
            assert m["from"] == "tool:" + calls[key][1]
            assert m.get("tool_call_id") == s.get("tool_call_id")
            assert m["name"] == calls[key][1]
        else:
            assert "parent" not in m
            assert "tool_call_id" not in m and "name" not in m
        assert m.get("text") == "\n".join(lines)
team = rows[0]
assert [p["name"] for p in team["participants"] if p["kind"] == "agent"] == [
    "planner", "coder", "reviewer"]
assert team["outcome"] == 0.0 and "annotations" not in team
assert [m["parent"] for m in team["messages"] if "parent" in m] == [3, 3, 6, 9]
assert rows[1]["outcome"] == 1.0  # "label": true
PY
    # one conversation as a JSON object, or an array of them, gives the same
    sed -n 1p "$src/openai_chat.jsonl" >"$tmp/one.json"
    run 0 import -q --from openai-chat "$tmp/one.json"
    stderr_empty
    cmp -s "$out" <(sed -n 1p "$tmp/chat.jsonl") || fail "one object differs"
    { echo '['; sed -n 1p "$src/openai_chat.jsonl"; echo ','
      sed -n 2p "$src/openai_chat.jsonl"; echo ']'; } >"$tmp/array.json"
    run 0 import -q --from openai-chat "$tmp/array.json"
    stdout_has '"id":"bugfix-0412"'
    stdout_has '"id":"array.json:1"'
    # TRL's prompt-completion: the prompt's messages, then the completion's
    printf '%s\n' '{"prompt": [{"role": "user", "content": "2+2?"}], "completion": [{"role": "assistant", "content": "4"}], "score": 0.75}' >"$tmp/trl.json"
    run 0 import -q --from openai-chat "$tmp/trl.json"
    stdout_has '"messages":\[{"from":"user","role":"user","text":"2+2?"},{"from":"assistant","role":"assistant","text":"4"}\],"outcome":0.75'
    # the episodes load (strictly) and go on to signals, which fails each on
    # its line for want of values (no oracle)
    run 1 signals --strict --verifier annotations "$tmp/chat.jsonl"
    stdout_empty
    for n in 1 2; do stderr_has "chat.jsonl:$n: .*credit: no oracle"; done
    stderr_has 'signals: 2 episodes, 0 written, 2 failed, 0 warnings'
    # progress on a terminal only (script(1) gives the tool one)
    if command -v script >/dev/null 2>&1; then
        script -qc "'$ac' import --from openai-chat '$src/openai_chat.jsonl' '$tmp/one.json' >/dev/null" \
            /dev/null >"$tmp/tty.txt" 2>&1 || true
        grep -q 'import: 1/2 files, 2 episodes\.\.\.' "$tmp/tty.txt" ||
            fail "no progress line on a terminal"
        grep -q 'import: 2/2 files, 3 episodes\.\.\.' "$tmp/tty.txt" ||
            fail "the progress line does not count the second file"
        script -qc "'$ac' import -q --from openai-chat '$src/openai_chat.jsonl' >/dev/null" \
            /dev/null >"$tmp/tty-q.txt" 2>&1 || true
        grep -q 'episodes\.\.\.' "$tmp/tty-q.txt" && fail "progress under -q"
        run 0 import --from openai-chat "$src/openai_chat.jsonl"
        grep -q 'episodes\.\.\.' "$err" && fail "progress when not a terminal"
    fi
    ;;
import_ag2)
    # ag2_groupchat.json: the ChatResult of a group chat (User_proxy, the
    # tool executor, and Planner, Engineer, Critic); ag2_two_agents.json:
    # a two-agent chat_history whose tool call has no name
    src=$data/import
    run 0 import --from ag2 "$src/ag2_groupchat.json" "$src/ag2_two_agents.json"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "2 episode lines expected"
    stderr_has 'import: 2 files, 2 episodes written, 0 failed, 0 warnings'
    cp "$out" "$tmp/ag2.jsonl"
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the lines' contents are not checked"
    [ -z "$py" ] || "$py" - "$out" "$src/ag2_groupchat.json" "$src/ag2_two_agents.json" <<'PY' || fail "the episodes are not the chats'"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
group = json.load(open(sys.argv[2]))
two = json.load(open(sys.argv[3]))
g, t = rows
assert g["id"] == "3" and g["outcome"] == 1.0  # chat_id, reward
assert t["id"] == "ag2_two_agents.json" and "outcome" not in t
assert g["participants"] == [
    {"name": "User_proxy", "kind": "user"}, {"name": "Planner", "kind": "agent"},
    {"name": "Engineer", "kind": "agent"}, {"name": "tool:get_fx_rate", "kind": "tool"},
    {"name": "tool:calculator", "kind": "tool"}, {"name": "Critic", "kind": "agent"}]
for r, hist in ((g, group["chat_history"]), (t, two)):
    assert len(r["messages"]) == len(hist)
    for m, s in zip(r["messages"], hist):
        assert m["role"] == s["role"]
        if s["role"] == "tool":
            call = s["tool_responses"][0]["tool_call_id"]
            p = r["messages"][m["parent"]]
            caller = [c for c in hist[m["parent"]]["tool_calls"] if c["id"] == call][0]
            assert m["from"] == "tool:" + caller["function"]["name"]
            assert m["text"] == s["content"]
            # the tool keys: the call answered, the function (not the
            # executor's name)
            assert m["tool_call_id"] == call
            assert m["name"] == caller["function"]["name"]
            assert "tool_calls" not in m
        else:
            assert m["from"] == s.get("name", "assistant")
            assert "parent" not in m
            assert "tool_call_id" not in m and "name" not in m
            assert m.get("tool_calls") == ([
                {**({"id": c["id"]} if "id" in c else {}), "type": "function",
                 "function": {"name": c["function"]["name"],
                              "arguments": c["function"].get("arguments", "{}")}}
                for c in s["tool_calls"]] if s.get("tool_calls") else None)
# the nameless tool call is the one agent's; the user proxy is a user
assert [p["kind"] for p in t["participants"]] == ["user", "agent", "tool"]
assert t["messages"][1]["from"] == "assistant"
assert t["messages"][1]["text"] == 'multiply({"a": 4260, "b": 0.17})'
assert t["messages"][2]["parent"] == 1
PY
    # --non-player replaces the default rule: User_proxy becomes an agent,
    # Critic a tool
    run 0 import -q --from ag2 --non-player Critic=tool --non-player nobody "$src/ag2_groupchat.json"
    stdout_has '{"name":"User_proxy","kind":"agent"}'
    stdout_has '{"name":"Critic","kind":"tool"}'
    stdout_has '{"name":"Planner","kind":"agent"}'
    # a bare list, an object with "messages", JSON Lines: the same messages
    run 0 import -q --from ag2 "$src/ag2_two_agents.json"
    cp "$out" "$tmp/bare.jsonl"
    python3 -c 'import json,sys; print(json.dumps({"messages": json.load(open(sys.argv[1]))}))' \
        "$src/ag2_two_agents.json" >"$tmp/wrapped.json" 2>/dev/null ||
        { printf '{"messages": '; cat "$src/ag2_two_agents.json"; printf '}'; } >"$tmp/wrapped.json"
    run 0 import -q --from ag2 "$tmp/wrapped.json"
    sed 's/"id":"wrapped.json"/"id":"ag2_two_agents.json"/' "$out" >"$tmp/wrapped.out"
    cmp -s "$tmp/wrapped.out" "$tmp/bare.jsonl" || fail "{\"messages\": [...]} differs from the bare list"
    # signals reads them back: the group chat fails for want of values, the
    # two-agent chat for want of an outcome
    run 1 signals --strict "$tmp/ag2.jsonl"
    stdout_empty
    stderr_has 'ag2.jsonl:1: .*credit: no oracle'
    stderr_has 'ag2.jsonl:2: .*the episode has no outcome'
    stderr_has 'signals: 2 episodes, 0 written, 2 failed, 0 warnings'
    ;;
import_chat_errors)
    # openai-chat and ag2: each bad record named by its file, record (or
    # line) and field; the good records still imported
    run 2 import --from openai-chat --non-player x "$data/import/openai_chat.jsonl"
    stderr_has '--non-player is for --from ag2'
    run 2 import --from ag2 --non-player x=robot "$data/import/ag2_two_agents.json"
    stderr_has "--non-player x=robot: 'robot' is not user, tool, environment or system"
    run 2 import --from ag2 --non-player =tool "$data/import/ag2_two_agents.json"
    stderr_has "no name"
    run 0 import --help
    stdout_has 'openai-chat'
    stdout_has '--non-player NAME\[=KIND\]'
    good='{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'
    {
        echo "$good"
        echo '{"messages": [{"role": "wizard", "content": "x"}]}'
        echo '{"messages": [{"role": "user", "content": 5}]}'
        echo '{"messages": [{"role": "user", "content": "x"}], "reward": "high"}'
        echo '{"messages": [{"role": "user", "content": "x"}], "reward": 1, "score": 0}'
        echo '{"messages": [{"role": "user", "content": "x"}], "reward": 1e999}'
        echo '{"messages": []}'
        echo ''
        echo '{"messages": [{"role": "user", "content": "x"}'
        echo '{"messages": [{"role": "assistant", "name": "user", "content": "x"}, {"role": "user", "content": "y"}]}'
        echo '{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "function": {}}]}]}'
        echo '{"messages": [{"role": "user", "content": [{"type": "text"}]}]}'
        echo '{"id": "", "messages": [{"role": "user", "content": "x"}]}'
        echo '"a string"'
        echo "$good"
    } >"$tmp/chats.jsonl"
    run 1 import --from openai-chat "$tmp/chats.jsonl"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "the 2 good lines' episodes expected"
    stdout_has '"id":"chats.jsonl:1"'
    stdout_has '"id":"chats.jsonl:15"'
    stderr_has 'chats.jsonl: line 2: messages\[0\].role: "wizard" is not system, developer, user, assistant, tool or function'
    stderr_has 'chats.jsonl: line 3: messages\[0\].content: not a string, null or a list of parts'
    stderr_has 'chats.jsonl: line 4: reward: not a finite number, true or false'
    stderr_has 'chats.jsonl: line 5: both reward and score: give one outcome'
    stderr_has 'chats.jsonl: line 6: column [0-9]*: real number overflow'
    stderr_has 'chats.jsonl: line 7: messages: no message'
    stderr_has 'chats.jsonl: line 9: column [0-9]*: '
    stderr_has 'chats.jsonl: line 10: messages\[1\]: participant "user" is named as two kinds of participant (user here, agent before)'
    stderr_has 'chats.jsonl: line 11: messages\[0\].tool_calls\[0\]: no function.name'
    stderr_has 'chats.jsonl: line 12: messages\[0\].content\[0\].text: not a string'
    stderr_has 'chats.jsonl: line 13: id: not an integer or a non-empty string'
    stderr_has "chats.jsonl: line 14: column 10: '\[' or '{' expected"
    stderr_has 'import: 1 files, 2 episodes written, 12 failed, 0 warnings'
    # an array of conversations: the bad one named by its record
    printf '[%s, {"prompt": "2+2?"}, %s]' "$good" "$good" >"$tmp/array.json"
    run 1 import --from openai-chat "$tmp/array.json"
    [ "$(wc -l <"$out")" -eq 2 ] || fail "2 episode lines expected"
    stderr_has 'array.json: record 1: prompt: not a list'
    # a non-UTF-8 name is refused by jansson, a broken file by its line
    printf '{"messages": [{"role": "assistant", "name": "\xff", "content": "x"}]}' >"$tmp/utf8.json"
    run 1 import --from openai-chat "$tmp/utf8.json"
    stderr_has 'utf8.json: line 1, column [0-9]*: unable to decode byte 0xff'
    # ag2: a message without a name when the chat names two agents
    printf '%s' '[{"content": "go", "role": "assistant", "name": "Planner"},
      {"content": "ok", "role": "user", "name": "Engineer"},
      {"content": null, "role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]' >"$tmp/nameless.json"
    printf '%s' '{"chat_history": [{"content": "x", "name": "a"}], "messages": []}' >"$tmp/both.json"
    printf '%s' '{"chat_history": [{"content": "x", "role": "user"}]}' >"$tmp/noname.json"
    printf '%s' '{"chat_history": [{"content": "x", "name": "a", "tool_calls": 3}]}' >"$tmp/calls.json"
    run 1 import --from ag2 "$tmp/nameless.json" "$tmp/both.json" "$tmp/noname.json" \
        "$tmp/calls.json" "$data/import/ag2_two_agents.json"
    [ "$(wc -l <"$out")" -eq 1 ] || fail "the good file's episode expected"
    stderr_has 'nameless.json: \[2\]: no name, and more than one agent the conversation names to take it'
    stderr_has 'both.json: both chat_history and messages: give one'
    stderr_has 'noname.json: chat_history\[0\]: no name, and no agent the conversation names to take it'
    stderr_has 'calls.json: chat_history\[0\].tool_calls: not a list or null'
    stderr_has 'import: 5 files, 1 episodes written, 4 failed, 0 warnings'
    # an empty list of messages is no episode; a tool call the episode
    # cannot keep (an empty function name) fails its conversation
    printf '%s\n' '[]' '[{"role": "user", "content": "x"}]' >"$tmp/empty.jsonl"
    printf '%s' '{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "", "arguments": "{}"}}]}]}' >"$tmp/emptyname.json"
    run 1 import --from openai-chat "$tmp/empty.jsonl" "$tmp/emptyname.json"
    [ "$(wc -l <"$out")" -eq 1 ] || fail "one episode expected"
    stderr_has 'empty.jsonl: line 1: no message'
    stderr_has "emptyname.json: messages\[0\].tool_calls: invalid argument: tool_calls\[0\].function.name: the function's name is empty"
    ;;
import_shared_data)
    # every episode of the published data sets, when $AC_SHARED_DATA names
    # a copy (who_and_when/Algorithm-Generated/*.json and
    # agentrx_tau/tau_*.json): 126 Who&When files, 100 tau-bench runs
    shared_data
    run 0 import --from who-and-when -o "$tmp/ww.jsonl" "$wwdir"/*.json
    stderr_has 'import: 126 files, 126 episodes written, 0 failed, '
    [ "$(wc -l <"$tmp/ww.jsonl")" -eq 126 ] || fail "126 Who&When episodes expected"
    run 0 import --from tau-bench -o "$tmp/tau.jsonl" \
        --labels "$taudir/tau_ground_truth.json" "$taudir/tau_dataset_full.json"
    stderr_has 'import: 1 files, 100 episodes written, 0 failed, '
    [ "$(wc -l <"$tmp/tau.jsonl")" -eq 100 ] || fail "100 tau-bench episodes expected"
    # every line loads strictly: signals fails each on the values alone
    for f in ww tau; do
        run 1 signals --strict -q "$tmp/$f.jsonl"
        n=$(wc -l <"$tmp/$f.jsonl")
        [ "$(grep -c 'credit: no oracle' "$err")" -eq "$n" ] ||
            fail "$f: not every episode loads (and fails on the values alone)"
    done
    py=$(command -v python3 || true)
    [ -n "$py" ] || echo "no python3: the annotations are not checked"
    [ -z "$py" ] || "$py" - "$tmp/ww.jsonl" "$wwdir" "$tmp/tau.jsonl" "$taudir" <<'PY' || fail "the annotations are not the labels'"
import json, os, sys
ww = [json.loads(l) for l in open(sys.argv[1])]
annotated = 0
for r in ww:
    src = json.load(open(os.path.join(sys.argv[2], r["id"])))
    h = src["history"]
    step = int(src["mistake_step"])
    valid = 0 <= step < len(h) and h[step]["name"] != "Computer_terminal"
    assert r.get("annotations") == ({"first_error": step} if valid else None), r["id"]
    assert r["outcome"] == 0.0 and len(r["messages"]) == len(h)
    annotated += valid
print("Who&When: %d episodes, %d annotated" % (len(ww), annotated))
assert len(ww) == 126 and annotated == 124
tau = [json.loads(l) for l in open(sys.argv[3])]
runs = json.load(open(os.path.join(sys.argv[4], "tau_dataset_full.json")))
labels = {e["trajectory_id"]: e
          for e in json.load(open(os.path.join(sys.argv[4], "tau_ground_truth.json")))}
annotated = failed = 0
for r, run in zip(tau, runs):
    assert r["id"] == "%d:%d" % (run["task_id"], run["trial"])
    assert r["outcome"] == run["reward"]
    failed += run["reward"] < 0.5
    want = None
    e = labels.get(run["task_id"])
    if e is not None and run["reward"] < 0.5:
        root = str(e["root_cause"]["failure_id"])
        f = [f for f in e["failures"] if str(f["failure_id"]) == root][0]
        step = f["step_number"] - 1
        if run["traj"][step]["role"] == "assistant":
            want = {"first_error": step}
    assert r.get("annotations") == want, r["id"]
    annotated += want is not None
print("tau-bench: %d episodes, %d failed, %d annotated" % (len(tau), failed, annotated))
assert len(tau) == 100 and failed == 27 and annotated == 18
PY
    ;;
export_trl)
    # the TRL formats on tests/data/exports (its README's checks): what the
    # library writes reaches stdout, its skips the summary and --report
    export_fixtures
    run 0 export --to trl-dpo --episodes "$eps" --candidates "$cands" \
        --report "$tmp/dpo-report.jsonl" "$repair"
    stderr_has '^agentcredit: export: 5 signals lines, 3 records, 0 failed; skipped: empty_prompt 1, no_pair 1$'
    cp "$out" "$tmp/dpo.jsonl"
    run 0 export --to trl-dpo --episodes "$eps" --candidates "$cands" \
        --empty-prompt 'system:You answer arithmetic questions.' "$repair"
    stderr_has ' 4 records, 0 failed; skipped: no_pair 1$'
    cp "$out" "$tmp/dpo-system.jsonl"
    # no pair in signals.jsonl; no candidate text without --candidates
    run 0 export --to trl-dpo --episodes "$eps" --candidates "$cands" "$exp/signals.jsonl"
    stdout_empty
    stderr_has ' 0 records, 0 failed; skipped: no_pair 5$'
    run 0 export --to trl-dpo --episodes "$eps" "$repair"
    stderr_has ' 0 records, 0 failed; skipped: empty_prompt 1, no_pair 1, no_candidate_text 3$'
    run 0 export --to trl-dpo-standard --episodes "$eps" --candidates "$cands" "$repair"
    stderr_has ' 4 records, 0 failed; skipped: no_pair 1$'
    cp "$out" "$tmp/standard.jsonl"
    run 0 export --to trl-reward --episodes "$eps" --candidates "$cands" "$repair"
    stderr_has ' 4 records, 0 failed; skipped: no_pair 1$'
    cp "$out" "$tmp/reward.jsonl"
    run 0 export --to trl-kto --episodes "$eps" --report "$tmp/kto-report.jsonl" "$exp/signals.jsonl"
    stderr_has ' 16 records, 0 failed; skipped: empty_prompt 1, zero_reward 3$'
    grep '"id":"team:3"' "$exp/signals.jsonl" >"$tmp/team3.jsonl"
    "$ac" export --to trl-kto --episodes "$eps" - <"$tmp/team3.jsonl" \
        >"$tmp/kto-team3.jsonl" 2>"$err" || fail "trl-kto from stdin"
    stderr_has ' 6 records, 0 failed; skipped: zero_reward 1; 4 episodes without a signals line$'
    run 0 export --to trl-prm --episodes "$eps" "$exp/signals.jsonl"
    stderr_has ' 5 records, 0 failed$'
    cp "$out" "$tmp/prm.jsonl"
    run 0 export --to trl-prm --agent critic --episodes "$eps" "$exp/signals.jsonl"
    stderr_has ' 2 records, 0 failed; skipped: not_trained_agent 3$'
    cp "$out" "$tmp/prm-critic.jsonl"
    "$py" - "$tmp" "$exp" <<'PY' || fail "the TRL records are not as tests/data/exports/README.md says"
import json, os, sys
tmp, exp = sys.argv[1:]
def lines(name):
    # NaN and Infinity are no JSON: refused
    return [json.loads(l, parse_constant=lambda c: 1 / 0)
            for l in open(os.path.join(tmp, name))]
report = lines("dpo-report.jsonl")
assert report == [
    {"id": "step0:0", "format": "trl-dpo", "reason": "empty_prompt",
     "message": 0, "agent": "solver"},
    {"id": "team:4", "format": "trl-dpo", "reason": "no_pair",
     "message": None, "agent": None}], report
step1, tau, team3 = lines("dpo.jsonl")
assert step1 == {
    "prompt": [{"role": "system", "content": "Answer with one number."},
               {"role": "user", "content": "Which is larger, 9.8 or 9.11?"}],
    "chosen": [{"role": "assistant", "content": "9.8"}],
    "rejected": [{"role": "assistant", "content": "9.11"}]}, step1
p = tau["prompt"]
assert len(p) == 4 and p[2]["role"] == "assistant" and p[2]["content"] == ""
assert p[2]["tool_calls"][0]["function"]["arguments"] == {"order_id": "#W123"}
assert p[3]["role"] == "tool" and p[3]["name"] == "get_order_details"
assert p[3]["tool_call_id"] == "call_1"
args = lambda side: side[0]["tool_calls"][0]["function"]["arguments"]
assert args(tau["rejected"]) == {"order_id": "#W124", "reason": "no longer needed"}
assert args(tau["chosen"]) == {"order_id": "#W123", "reason": "no longer needed"}
assert [(m["role"], m.get("name")) for m in team3["prompt"]] == [
    ("user", None), ("user", "planner"), ("user", "coder"), ("tool", "pytest")]
assert team3["prompt"][1]["content"] == "planner: Plan: group by key, then sum."
assert team3["rejected"] == [{"role": "assistant",
                              "content": "Cast amounts to int, it is faster."}]
# --empty-prompt system:TEXT: step0:0 is written, its prompt that message
first = lines("dpo-system.jsonl")[0]
assert first["prompt"] == [{"role": "system",
                            "content": "You answer arithmetic questions."}]
assert first["chosen"][0]["content"] == "9.8 is larger: 9.8 = 9.80 > 9.11."
std = lines("standard.jsonl")
assert std[0]["prompt"] == "" and std[0]["rejected"] == "The answer is 9.11 because 11 > 8."
assert all(r["prompt"].endswith("\n\n") for r in std[1:])
assert std[2]["rejected"] == 'cancel_pending_order({"order_id": "#W124", "reason": "no longer needed"})'
assert "\n\nget_order_details({\"order_id\": \"#W123\"})\n\n" in std[2]["prompt"]
rw = lines("reward.jsonl")
assert len(rw[0]["chosen"]) == 1 and len(rw[0]["rejected"]) == 1
assert all(type(r["margin"]) is float and r["margin"] == 0.9 for r in rw)
assert rw[1]["chosen"][:-1] == rw[1]["rejected"][:-1] == step1["prompt"]
kto = lines("kto-team3.jsonl")
assert [r["label"] for r in kto] == [True, True, False, False, False, False]
assert all(type(r["label"]) is bool for r in lines("kto-team3.jsonl"))
assert [r["completion"][0]["content"] for r in kto][2:4] == [
    "Cast amounts to int, it is faster.", "Applied the cast."]
assert {(r["id"], r["reason"], r["message"]) for r in lines("kto-report.jsonl")} >= {
    ("step0:0", "empty_prompt", 0), ("team:3", "zero_reward", 7)}
prm = lines("prm.jsonl")
step0, team = prm[0], prm[3]
assert step0 == {"prompt": "", "completions": [
    "solver: The answer is 9.11 because 11 > 8.", "checker: Checked: 9.11 > 9.8.",
    "solver: Final answer: 9.11."], "labels": [0, 0, -100]}, step0
assert team["prompt"] == "Sum the amounts per key.\n"
assert len(team["completions"]) == 9
assert team["labels"] == [1, 1, -100, 0, 0, -100, -100, 0, 0]
critic = lines("prm-critic.jsonl")[0]
assert critic["completions"] == team["completions"]
assert critic["labels"] == [-100, -100, -100, 0, -100, -100, -100, -100, -100]
assert all(type(l) is int for r in prm for l in r["labels"])
PY
    ;;
export_rl)
    # the RL trainers' formats on tests/data/exports (its README's checks),
    # with the options that reach them: --placement, --turn-discount,
    # --group-sep, --data-source, --agent
    export_fixtures
    run 0 export --to verl --episodes "$eps" "$sig"
    stderr_has '^agentcredit: export: 5 signals lines, 19 records, 0 failed; skipped: empty_prompt 1$'
    cp "$out" "$tmp/verl.jsonl"
    run 0 export --to verl --group-sep - --data-source retail --agent assistant --episodes "$eps" "$sig"
    stderr_has ' 3 records, 0 failed; skipped: not_trained_agent 4$'
    cp "$out" "$tmp/verl-options.jsonl"
    for placement in last spread; do
        run 0 export --to verl-tokens --placement "$placement" --agent critic \
            --report "$tmp/tokens-report.jsonl" --episodes "$eps" "$sig"
        stderr_has ' 2 records, 0 failed; skipped: not_trained_agent 3$'
        cp "$out" "$tmp/verl-tokens-$placement.jsonl"
    done
    run 0 export --to verl-tokens --episodes "$eps" --report "$tmp/tokens-report.jsonl" "$sig"
    stderr_has ' 6 records, 0 failed; skipped: no_tokens 5$'
    run 0 export --to skyrl --agent critic --episodes "$eps" "$sig"
    cp "$out" "$tmp/skyrl.jsonl"
    run 0 export --to openrlhf --episodes "$eps" "$sig"
    stderr_has ' 19 records, 0 failed; skipped: empty_prompt 1$'
    cp "$out" "$tmp/openrlhf.jsonl"
    for g in 1.0 0.9; do
        run 0 export --to areal --turn-discount "$g" --episodes "$eps" "$sig"
        stderr_has ' 11 records, 0 failed$'
        cp "$out" "$tmp/areal-$g.jsonl"
    done
    run 0 export --to areal --episodes "$eps" "$sig"
    cmp -s "$out" "$tmp/areal-1.0.jsonl" || fail "--turn-discount 1.0 is not the default"
    run 0 export --to prime-rl --episodes "$eps" "$sig"
    cp "$out" "$tmp/prime-rl.jsonl"
    run 0 export --to rllm --episodes "$eps" "$sig"
    stderr_has ' 5 records, 0 failed$'
    cp "$out" "$tmp/rllm.jsonl"
    "$py" - "$tmp" "$sig" <<'PY' || fail "the RL records are not as tests/data/exports/README.md says"
import json, math, os, sys
tmp, sig = sys.argv[1:]
signals = {r["id"]: r for r in map(json.loads, open(sig))}
credit = {(i, a["name"]): a["credit"] for i, r in signals.items() for a in r["agents"]}
def lines(name):
    return [json.loads(l, parse_constant=lambda c: 1 / 0)
            for l in open(os.path.join(tmp, name))]
verl = lines("verl.jsonl")
for row in verl:
    info = row["extra_info"]["agentcredit"]
    assert row["data_source"] == "agentcredit" and row["ability"] == "agentcredit"
    assert isinstance(row["reward_model"]["ground_truth"], str) and row["prompt"]
    assert info["reward"] == signals[info["episode"]]["messages"][info["message"]]["reward"]
    assert info["credit"] == credit[info["episode"], info["agent"]]
    assert all(isinstance(f, str) for f in info["flags"] + info["step_flags"])
keys = [r["extra_info"]["agentcredit"]["key"] for r in verl
        if r["extra_info"]["agentcredit"]["episode"] == "team:3"
        and r["extra_info"]["agentcredit"]["agent"] == "critic"]
assert keys == ["team:critic:0", "team:critic:1"], keys
by_msg = {(r["extra_info"]["agentcredit"]["episode"], r["extra_info"]["agentcredit"]["message"]): r
          for r in verl}
assert by_msg["team:3", 8]["extra_info"]["agentcredit"]["flags"] == ["redundant"]
assert by_msg["team:3", 4]["reward_model"]["ground_truth"] == "Cast amounts to int, it is faster."
assert ("step0:0", 0) not in by_msg  # empty_prompt
opt = lines("verl-options.jsonl")
assert [r["extra_info"]["agentcredit"]["key"] for r in opt] == [
    "tau:assistant:0", "tau:assistant:1", "tau:assistant:2"]
assert all(r["data_source"] == "retail" and
           r["extra_info"]["agentcredit"]["group"] == "tau" for r in opt)
# verl-tokens and skyrl: team:3's critic, placement last and spread
mask = [0] * 65
for b, e in ((21, 30), (40, 49)):
    mask[b:e] = [1] * (e - b)
last, spread = (lines("verl-tokens-%s.jsonl" % p)[0] for p in ("last", "spread"))
for rec in (last, spread):
    assert list(rec) == ["episode", "group", "agent", "key", "begin", "length",
                         "token_rewards", "response_mask", "spans", "credit"], list(rec)
    assert (rec["episode"], rec["group"], rec["agent"], rec["key"]) == (
        "team:3", "team", "critic", "team:critic")
    assert rec["begin"] == 6 and rec["length"] == 65 and rec["response_mask"] == mask
    assert rec["spans"] == [[21, 30], [40, 49]] and rec["credit"] == -0.25
    assert abs(sum(rec["token_rewards"]) - rec["credit"]) <= 1e-12
want = [0.0] * 65
want[29] = -0.25
assert last["token_rewards"] == want
assert all(abs(spread["token_rewards"][i] - (-0.25 / 9 if 21 <= i < 30 else 0.0)) <= 1e-15
           for i in range(65))
report = lines("tokens-report.jsonl")
assert {"id": "tau-cancel:0", "format": "verl-tokens", "reason": "no_tokens",
        "message": None, "agent": "assistant"} in report
sky = lines("skyrl.jsonl")[0]
assert list(sky) == ["episode", "group", "agent", "begin", "length", "rewards",
                     "loss_mask", "spans", "credit"], list(sky)
assert sky["rewards"] == last["token_rewards"] and sky["loss_mask"] == mask
# openrlhf: input and a label that is the row's object as text
sums = {}
for row in lines("openrlhf.jsonl"):
    assert list(row) == ["input", "label"] and isinstance(row["label"], str)
    label = json.loads(row["label"])
    key = (label["episode"], label["agent"])
    sums[key] = sums.get(key, 0.0) + label["reward"]
    assert isinstance(label["response"], str) and row["input"]
for key, total in sums.items():
    if key[0].startswith("team:"):
        assert abs(total - credit[key]) <= 1e-12, (key, total)
# areal: tau-cancel:0; AReaL's backward pass R = s + g R_next gives back
# the rewards
for g in (1.0, 0.9):
    rec = [r for r in lines("areal-%s.jsonl" % g) if r["episode"] == "tau-cancel:0"][0]
    assert rec["messages"] == [2, 4, 6] and rec["turn_discount"] == g
    assert [round(r, 12) for r in rec["rewards"]] == [0.075, -0.475, -0.1]
    back, acc = [], 0.0
    for s in reversed(rec["set_rewards"]):
        acc = s + g * acc
        back.insert(0, acc)
    assert all(abs(a - b) <= 1e-12 for a, b in zip(back, rec["rewards"])), back
    want = ([0.55, -0.375, -0.1] if g == 1.0 else
            [0.075 + 0.9 * 0.475, -0.475 + 0.9 * 0.1, -0.1])
    assert all(abs(a - b) <= 1e-12 for a, b in zip(rec["set_rewards"], want)), rec
# prime-rl: the credit as the trace's reward, the turn rewards in info
team3 = [r for r in lines("prime-rl.jsonl") if r["info"]["agentcredit"]["episode"] == "team:3"]
assert [r["agent"]["name"] for r in team3] == ["planner", "coder", "critic"]
for r in team3:
    assert r["rewards"]["agentcredit"] == {
        "score": credit["team:3", r["agent"]["name"]], "weight": 1.0}
assert team3[2]["info"]["agentcredit"]["turn_rewards"] == [-0.25, 0.0]
# rllm: the group before the first ':', one trajectory per agent
rllm = {r["id"]: r for r in lines("rllm.jsonl")}
t3 = rllm["team:3"]
assert t3["id"].split(":")[0] == "team" and t3["is_correct"] is False
assert rllm["team:4"]["is_correct"] is True
assert [t["name"] for t in t3["trajectories"]] == ["planner", "coder", "critic"]
for t in t3["trajectories"]:
    assert t["reward"] == credit["team:3", t["name"]]
    assert abs(sum(s["reward"] for s in t["steps"]) - t["reward"]) <= 1e-12
PY
    ;;
export_options)
    # the options that shape every format: --agent, --no-speaker-prefix,
    # --tools, --empty-prompt, -o, --report, -q, '-' for stdin
    export_fixtures
    run 0 export --to areal --agent critic --agent coder --episodes "$eps" "$exp/signals.jsonl"
    stderr_has ' 4 records, 0 failed; skipped: not_trained_agent 3$'
    [ "$(grep -c '"agent":"coder"' "$out")" -eq 2 ] || fail "coder's two records"
    [ "$(grep -c '"agent":"critic"' "$out")" -eq 2 ] || fail "critic's two records"
    run 0 export --to trl-dpo --no-speaker-prefix --episodes "$eps" --candidates "$cands" "$repair"
    stdout_has '{"role":"user","content":"Plan: group by key, then sum.","name":"planner"}'
    stdout_has '{"role":"tool","content":"tests: 3 passed","name":"pytest"}'
    run 0 export --to trl-dpo-standard --no-speaker-prefix --episodes "$eps" --candidates "$cands" "$repair"
    stdout_has '"prompt":"Sum the amounts per key.\\n\\nPlan: group by key, then sum.\\n\\n'
    # --tools: the schemas in the records with a prompt (TRL's, verl's)
    printf '[{"type": "function", "function": {"name": "cancel_pending_order",\n "parameters": {"type": "object"}}}]\n' >"$tmp/tools.json"
    for to in trl-dpo trl-reward areal; do
        run 0 export --to "$to" --tools "$tmp/tools.json" --episodes "$eps" --candidates "$cands" "$repair"
        cp "$out" "$tmp/tools-$to.jsonl"
    done
    "$py" - "$tmp" <<'PY' || fail "--tools"
import json, os, sys
tools = json.load(open(os.path.join(sys.argv[1], "tools.json")))
rows = lambda f: [json.loads(l) for l in open(os.path.join(sys.argv[1], "tools-%s.jsonl" % f))]
assert all(r["tools"] == tools for f in ("trl-dpo", "trl-reward") for r in rows(f))
assert len(rows("trl-dpo")) == 3 and len(rows("trl-reward")) == 4
assert not any("tools" in r for r in rows("areal"))
PY
    # --empty-prompt: a system message for an empty prompt; else a usage error
    run 0 export --to trl-kto --empty-prompt 'system:Add the numbers.' --episodes "$eps" "$exp/signals.jsonl"
    stderr_has ' 17 records, 0 failed; skipped: zero_reward 3$'
    stdout_has '^{"prompt":\[{"role":"system","content":"Add the numbers."}\],"completion":\[{"role":"assistant","content":"The answer is 9.11 because 11 > 8."}\],"label":false}$'
    for bad in system: ask 'System:x'; do
        run 2 export --to trl-kto --empty-prompt "$bad" --episodes "$eps" "$exp/signals.jsonl"
        stdout_empty
        stderr_has "--empty-prompt: 'skip' or 'system:TEXT', not '$bad'"
    done
    run 0 export --to trl-kto --empty-prompt skip --episodes "$eps" "$exp/signals.jsonl"
    stderr_has ' 16 records, 0 failed; skipped: empty_prompt 1, zero_reward 3$'
    # -o and --report write files; -q leaves stderr empty; '-' is stdin
    run 0 export --to trl-kto --episodes "$eps" "$exp/signals.jsonl"
    cp "$out" "$tmp/kto.jsonl"
    run 0 export -q --to trl-kto --episodes "$eps" -o "$tmp/kto-o.jsonl" \
        --report "$tmp/report.jsonl" - <"$exp/signals.jsonl"
    stdout_empty
    stderr_empty
    cmp -s "$tmp/kto-o.jsonl" "$tmp/kto.jsonl" || fail "-o and stdin differ from stdout"
    "$py" - "$tmp/report.jsonl" <<'PY' || fail "--report"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["id"], r["reason"], r["message"], r["agent"]) for r in rows] == [
    ("step0:0", "empty_prompt", 0, "solver"), ("step0:0", "zero_reward", 2, "solver"),
    ("step0:1", "zero_reward", 4, "solver"), ("team:3", "zero_reward", 7, "critic")], rows
assert all(list(r) == ["id", "format", "reason", "message", "agent"] and
           r["format"] == "trl-kto" for r in rows)
PY
    # the summary: records and skips of every file, episodes not joined
    head -n 2 "$repair" >"$tmp/two.jsonl"
    run 0 export --to trl-dpo --episodes "$eps" --candidates "$cands" "$tmp/two.jsonl"
    stderr_has '^agentcredit: export: 2 signals lines, 1 records, 0 failed; skipped: empty_prompt 1; 3 episodes without a signals line$'
    cp "$out" "$tmp/first.jsonl"
    run 0 export --to trl-dpo --episodes "$eps" --candidates "$cands" \
        "$tmp/two.jsonl" - <<<"$(tail -n 3 "$repair")"
    stderr_has '^agentcredit: export: 5 signals lines, 3 records, 0 failed; skipped: empty_prompt 1, no_pair 1$'
    head -n 1 "$out" | cmp -s - "$tmp/first.jsonl" || fail "the records in the files' order"
    ;;
export_errors)
    export_fixtures
    # the command line (exit 2, nothing read)
    run 2 export --episodes "$eps" "$sig"
    stderr_has 'export: no --to FORMAT'
    run 2 export --to trl-sft --episodes "$eps" "$sig"
    stderr_has "export: --to: no format 'trl-sft'"
    run 2 export --to verl "$sig"
    stderr_has 'export: no --episodes FILE'
    run 2 export --to verl --episodes "$eps"
    stderr_has 'export: no signals file'
    run 2 export --to verl --episodes "$eps" "$sig" -q
    stdout_empty
    stderr_has "export: '-q' after the signals files: options come before them"
    run 2 export --to verl --frobnicate --episodes "$eps" "$sig"
    stderr_has "export: unknown option '--frobnicate'"
    run 2 export --to verl --episodes
    stderr_has '--episodes needs a value'
    run 2 export --to verl --placement first --episodes "$eps" "$sig"
    stderr_has "--placement: 'last' or 'spread', not 'first'"
    run 2 export --to areal --turn-discount 1.5 --episodes "$eps" "$sig"
    stderr_has 'export: --turn-discount: .* 1.5 is outside \[0, 1\]'
    run 2 export --to areal --turn-discount nan --episodes "$eps" "$sig"
    stderr_has '--turn-discount'
    run 2 export --to verl --quiet=yes --episodes "$eps" "$sig"
    stderr_has '--quiet takes no value'
    run 0 export --help
    stdout_has '^Usage: agentcredit export --to FORMAT --episodes EPISODES.jsonl'
    stdout_has 'options come before the files'
    # --tools and --candidates files: not what they need (exit 2, named),
    # or missing (exit 1)
    printf '{"name": "cancel"}\n' >"$tmp/tools.json"
    run 2 export --to trl-dpo --tools "$tmp/tools.json" --episodes "$eps" "$sig"
    stdout_empty
    stderr_has "export: --tools $tmp/tools.json: .*a JSON array of tool schemas is needed"
    # a NUL byte would cut the text short where the library reads it
    printf '[]\0junk' >"$tmp/tools.json"
    run 2 export --to trl-dpo --tools "$tmp/tools.json" --episodes "$eps" "$sig"
    stdout_empty
    stderr_has "export: --tools $tmp/tools.json: a NUL byte"
    printf '{"team:3": {"7": {"role": "assistant", "tool_calls": {}}}}' >"$tmp/cands.json"
    run 2 export --to trl-dpo --candidates "$tmp/cands.json" --episodes "$eps" "$sig"
    stderr_has "export: --candidates $tmp/cands.json: \"team:3\".\"7\": tool_calls: an array is needed"
    printf '{"team:3": {"seven": "x"}}' >"$tmp/cands.json"
    run 2 export --to trl-dpo --candidates "$tmp/cands.json" --episodes "$eps" "$sig"
    stderr_has '"team:3"."seven": a candidate id is the decimal digits'
    printf '{"team:3": ' >"$tmp/cands.json"
    run 2 export --to trl-dpo --candidates "$tmp/cands.json" --episodes "$eps" "$sig"
    stderr_has "cands.json: line 1, column 11: "
    run 1 export --to trl-dpo --candidates "$tmp/none.json" --episodes "$eps" "$sig"
    stdout_empty
    stderr_has "none.json: No such file or directory"
    run 1 export --to trl-dpo --tools "$tmp" --episodes "$eps" "$sig"
    stderr_has "$tmp: is a directory"
    run 1 export --to trl-dpo --candidates "$exp/candidates.json" --max-bytes 100 --episodes "$eps" "$sig"
    stderr_has 'candidates.json: [0-9]* bytes, more than --max-bytes 100'
    # missing files: the episodes (nothing runs), a signals file (the
    # others run)
    run 1 export --to verl --episodes "$tmp/none.jsonl" "$sig"
    stdout_empty
    stderr_has 'none.jsonl: No such file or directory'
    run 1 export --to rllm --episodes "$eps" "$tmp/none.jsonl" "$sig"
    [ "$(wc -l <"$out")" -eq 5 ] || fail "the other file's 5 records"
    stderr_has 'none.jsonl: No such file or directory'
    stderr_has 'export: 5 signals lines, 5 records, 1 failed$'
    # the join: an episode without id, an id on two lines, a broken line,
    # a signals line without its episode, a malformed one, one without id,
    # one too long; each named by FILE:LINE, the other lines written
    { sed -n 1p "$eps"
      sed -n 2p "$eps" | sed 's/"id":"step0:1",//'
      sed -n 3p "$eps"
      echo '{"format": "agentcredit.episode/1", "id": '
      echo
      sed -n 4,5p "$eps"
      sed -n 3p "$eps"; } >"$tmp/eps.jsonl"
    { cat "$sig"
      sed -n 4p "$sig" | sed 's/"id":"team:3"/"id":"team:9"/'
      echo '{"format": "agentcredit.signals/2"}'
      sed -n 4p "$sig" | sed 's/"id":"team:3",//'
      printf '{"id": "%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' x)"; } >"$tmp/sig.jsonl"
    run 1 export --to rllm --max-bytes 2K --episodes "$tmp/eps.jsonl" "$tmp/sig.jsonl"
    [ "$(wc -l <"$out")" -eq 3 ] || fail "the 3 joined lines"
    stdout_has '^{"id":"step0:0",'
    stdout_has '^{"id":"team:3",'
    stdout_has '^{"id":"team:4",'
    stderr_has "eps.jsonl:2: the episode has no \"id\", which the join needs"
    stderr_has "eps.jsonl:4: line 1, column "
    stderr_has "eps.jsonl:8: id \"tau-cancel:0\" is also on line 3; signals with it cannot be joined"
    stderr_has "sig.jsonl:2: no episode with id \"step0:1\" in $tmp/eps.jsonl"
    stderr_has "sig.jsonl:3: $tmp/eps.jsonl has more than one episode with id \"tau-cancel:0\""
    stderr_has "sig.jsonl:6: no episode with id \"team:9\""
    stderr_has 'sig.jsonl:7: format: '
    stderr_has 'sig.jsonl:8: the signals have no "id", which the join needs'
    stderr_has 'sig.jsonl:9: the line is longer than --max-bytes (2048 bytes)'
    stderr_has '^agentcredit: export: 9 signals lines, 3 records, 6 failed; 3 episode lines failed$'
    # an episode's signals twice: its records once
    run 1 export --to rllm --episodes "$eps" "$sig" - <"$sig"
    [ "$(wc -l <"$out")" -eq 5 ] || fail "each episode's record once"
    stderr_has "<stdin>:4: the signals of \"team:3\" were exported from $sig:4 already"
    stderr_has '^agentcredit: export: 10 signals lines, 5 records, 5 failed$'
    # signals of another episode under the same id
    sed -n 5p "$sig" | sed 's/"id":"team:4"/"id":"team:3"/' >"$tmp/other.jsonl"
    run 1 export --to rllm --episodes "$eps" "$tmp/other.jsonl"
    stderr_has "other.jsonl:1: the signals are not the episode's: "
    ;;
export_docs)
    # the blocks of docs/cli.md and docs/trainers.md that run agentcredit
    # export, as a user types them in tests/data/exports (here a copy):
    # each command succeeds and writes records; the signals they compute
    # are the fixture's
    src=$(cd "$(dirname "$header")/.." && pwd)
    mkdir "$tmp/bin" "$tmp/run"
    ln -s "$(cd "$(dirname "$ac")" && pwd)/$(basename "$ac")" "$tmp/bin/agentcredit"
    cp "$src"/tests/data/exports/*.json "$src"/tests/data/exports/*.jsonl "$tmp/run/"
    cp "$tmp/run/signals.jsonl" "$tmp/signals.fixture"
    for doc in cli trainers; do
        awk '/^```sh[ \t]*$/ { inside = 1; block = ""; next }
             inside && /^```[ \t]*$/ { inside = 0
                                       if (block ~ /agentcredit export/) printf "%s", block
                                       next }
             inside { block = block $0 "\n" }' "$src/docs/$doc.md" >"$tmp/$doc.sh"
        n=$(grep -c '^agentcredit export\|agentcredit export --to' "$tmp/$doc.sh" || true)
        echo "docs/$doc.md: $n export commands"
        [ "$n" -ge 6 ] || fail "docs/$doc.md: too few export commands found ($n)"
        (cd "$tmp/run" && PATH="$tmp/bin:$PATH" bash -e -o pipefail "$tmp/$doc.sh") \
            >"$out" 2>"$err" </dev/null || fail "docs/$doc.md: a command failed"
        ! grep -q ' 0 records' "$err" || fail "docs/$doc.md: a command wrote no record"
    done
    cmp -s "$tmp/run/signals.jsonl" "$tmp/signals.fixture" ||
        fail "tests/data/exports/signals.jsonl is not what signals writes now"
    for f in "$tmp"/run/*.jsonl; do
        [ -s "$f" ] || fail "$(basename "$f"): empty"
    done
    ;;
export_shared_data)
    # the published data sets, when $AC_SHARED_DATA names a copy: imported,
    # their signals (values from docs/examples/oracle_counterfactual.py, a
    # stand-in oracle; the human labels as the verifier; a repair program
    # proposing candidate 7 for each first error, checked at 0.9), and
    # every format exported from them
    shared_data
    py=$(command -v python3 || true)
    [ -n "$py" ] || { echo "no python3: skipped"; exit 77; }
    src=$(cd "$(dirname "$header")/.." && pwd)
    cat >"$tmp/repair.py" <<'PY'
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    if req["request"] == "repair":
        print(json.dumps({"candidates": [7]}), flush=True)
    else:
        print(json.dumps({"answers": [0.9] * len(req["candidates"])}), flush=True)
PY
    run 0 import -q --from who-and-when -o "$tmp/ww.jsonl" "$wwdir"/*.json
    run 0 import -q --from tau-bench -o "$tmp/tau.jsonl" \
        --labels "$taudir/tau_ground_truth.json" "$taudir/tau_dataset_full.json"
    formats="trl-dpo trl-dpo-standard trl-reward trl-kto trl-prm verl verl-tokens openrlhf areal prime-rl rllm skyrl"
    for set in ww tau; do
        run 0 signals --verifier annotations \
            --oracle-cmd "$py $src/docs/examples/oracle_counterfactual.py" \
            --repair-cmd "$py $tmp/repair.py" -o "$tmp/$set.sig" "$tmp/$set.jsonl"
        # the chosen side of each repair pair
        "$py" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({r["id"]: {"7": "The corrected step."} for r in rows
           if r["pair"]["kind"] == "repair"}, sys.stdout)' "$tmp/$set.sig" >"$tmp/$set.cands"
        for f in $formats; do
            run 0 export --to "$f" --episodes "$tmp/$set.jsonl" --candidates "$tmp/$set.cands" \
                --report "$tmp/$set-$f.skips" -o "$tmp/$set-$f.out" "$tmp/$set.sig"
            stderr_has "^agentcredit: export: $(wc -l <"$tmp/$set.sig") signals lines, [0-9]* records, 0 failed"
        done
        run 0 export --to trl-dpo --empty-prompt 'system:Solve the task with your team.' \
            --episodes "$tmp/$set.jsonl" --candidates "$tmp/$set.cands" \
            --report "$tmp/$set-system.skips" -o "$tmp/$set-system.out" "$tmp/$set.sig"
    done
    "$py" - "$tmp" "$formats" <<'PY' || fail "the exports of the published data"
import json, os, sys
tmp, formats = sys.argv[1], sys.argv[2].split()
def lines(name):
    return [json.loads(l, parse_constant=lambda c: 1 / 0)
            for l in open(os.path.join(tmp, name))]
CHAT = {"trl-dpo": "prompt", "trl-kto": "prompt", "verl": "prompt",
        "openrlhf": "input", "trl-reward": "chosen"}
for s in ("ww", "tau"):
    sig = lines(s + ".sig")
    at0 = {r["id"] for r in sig if (r["first_error"] or {}).get("message") == 0}
    pairs = sum(r["pair"]["kind"] == "repair" for r in sig)
    counts = {}
    for f in formats:
        recs, skips = lines("%s-%s.out" % (s, f)), lines("%s-%s.skips" % (s, f))
        counts[f] = (len(recs), len(skips))
        key = CHAT.get(f)
        for r in recs:
            if key is not None:
                assert isinstance(r[key], list) and r[key], (s, f, r)
                assert all(m["content"] or m.get("tool_calls") or m["role"] == "tool"
                           for m in r[key][:1]), (s, f, r)
        assert not any(k["reason"] == "arguments_not_json" for k in skips), (s, f)
    dpo = lines(s + "-trl-dpo.skips")
    empty = {k["id"] for k in dpo if k["reason"] == "empty_prompt"}
    assert empty == at0, (s, sorted(empty ^ at0))
    assert len(lines(s + "-trl-dpo.out")) == pairs - len(at0)
    assert not any(k["reason"] == "empty_prompt" for k in lines(s + "-system.skips"))
    assert len(lines(s + "-system.out")) == pairs
    print("%s: %d episodes, %d pairs, %d first errors at message 0; records, skips: %s"
          % (s, len(sig), pairs, len(at0), counts))
    if s == "ww":
        assert len(sig) == 126 and pairs == 124 and len(at0) == 20
PY
    ;;
plan)
    # the hand-computed case: 2 agents, ends known, sd 1, target 0.1:
    # sd^2 / B = 0.01 times 1.05, plus the retry margin 2
    run 0 plan --agents 2 --sd 1 --target-se 0.1 --known-ends
    stderr_empty
    stdout_has '^107 evaluations: 2 agents, sd 1'
    run 0 plan --agents 3 --rollouts --target-se 0.05 --known-ends --json
    stdout_has '"evaluations":212,'
    stdout_has '"noise":"rollouts","success_rate":0.5,'
    # the worst case is the default rate; a rate away from it costs less
    worst=$(sed -n 's/.*"evaluations":\([0-9]*\).*/\1/p' "$out")
    run 0 plan --agents 3 --success-rate 0.1 --target-se 0.05 --known-ends --json
    less=$(sed -n 's/.*"evaluations":\([0-9]*\).*/\1/p' "$out")
    [ "$less" -lt "$worst" ] || fail "rate 0.1 plans $less, the worst case $worst"
    run 0 plan --agents 2 --sd 1 --target-se 0.1 --known-ends --help
    stdout_has '^Usage: agentcredit plan'
    for word in --agents --rollouts --success-rate --sd --target-se --known-ends --json; do
        stdout_has "$word"
    done
    # refusals: exit 2, what was wrong on stderr, nothing on stdout
    run 2 plan --agents 3 --target-se 0.1
    stdout_empty
    stderr_has 'no noise model given'
    run 2 plan --agents 3 --rollouts --sd 1 --target-se 0.1
    stderr_has 'one noise model only'
    run 2 plan --rollouts --target-se 0.1
    stderr_has '--agents N is required'
    run 2 plan --agents 21 --rollouts --target-se 0.1
    stdout_empty
    stderr_has 'at most 20 players'
    run 2 plan --agents 3 --success-rate 1 --target-se 0.1
    stderr_has 'success rate'
    run 2 plan --agents 3 --sd 1 --target-se 0
    stderr_has 'target_se'
    run 2 plan --agents 20 --sd 1 --target-se 1e-9
    stderr_has 'AC_ESTIMATOR_PARAM_BUDGET'
    run 2 plan --agents 3 --sd 1 --target-se 0.1 extra
    stderr_has "unknown argument 'extra'"
    ;;
*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac
echo "ok: $case_name"
