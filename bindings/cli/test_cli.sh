#!/usr/bin/env bash
# The agentcredit tool as a user runs it. One case per meson test:
#   test_cli.sh CASE AGENTCREDIT TESTDATA_DIR
set -euo pipefail

case_name=${1:?usage: test_cli.sh CASE AGENTCREDIT TESTDATA_DIR}
ac=${2:?}
data=${3:?}

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
# the credit column (4th-from-last field) of a demo row, by role
demo_credit() { awk -v role="$1" '$1 ~ /^[0-9]+$/ && $2 == role { print $(NF - 2); exit }' "$out"; }

case $case_name in
version)
    run 0 --version
    stdout_has '^agentcredit [0-9][0-9.]* (library [0-9][0-9.]*, ABI [0-9]*)$'
    ;;
help)
    run 0 --help
    for word in demo shapley --method --budget --seed --repeats --batch --target-se --json; do
        stdout_has "$word"
    done
    run 2                      # no command: usage on stderr
    stderr_has 'Usage: agentcredit'
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
    for key in '"credits":' '"se":' '"exact":' '"max_abs_error":' '"audit":' '"stop_reason":"complete"' '"method":"exact"'; do
        stdout_has "$key"
    done
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
    stdout_has '"stop_reason":'
    ;;
bad_file)
    run nonzero shapley "$tmp/does-not-exist.json"
    stderr_has 'does-not-exist.json'
    stderr_has 'cannot load game'
    [ ! -s "$out" ] || fail "nothing belongs on stdout"
    ;;
bad_json)
    run nonzero shapley "$data/truncated.json"
    stderr_has 'truncated.json'
    stderr_has 'cannot load game'
    run nonzero shapley "$data/unknown_key.json"
    stderr_has 'unknown_key.json'
    stderr_has 'colour'
    ;;
bad_option)
    run 2 shapley "$data/glove3.json" --frobnicate
    stderr_has "unknown option '--frobnicate'"
    run 2 shapley "$data/glove3.json" --method magic
    stderr_has '--method'
    stderr_has magic
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
*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac
echo "ok: $case_name"
