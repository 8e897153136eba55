// A C++17 host driving agentcredit from a std::thread pool: the pattern of
// docs/threading.md ("A C++ thread pool").
//
// Twelve episodes, one task each, run by a pool of six std::threads
// started together. Each task owns its handles (an
// ac_estimator, an ac_refiner and an ac_localizer, held by unique_ptr with
// custom deleters) and its callbacks' state (given through the user
// pointer), so the tasks share nothing mutable and need no locking. The
// callbacks (the estimator's oracle, the refiner's scorer, the localizer's
// verifier) run on the pool thread that called run, which the test
// checks, and they never let a C++ exception reach the library.
//
// Checks:
//  - every result of the pool (credits, standard errors, audit, message
//    rewards and labels, first error, its agent and probability, the
//    posterior, the blame labels) is bit-identical to a single-threaded
//    run of the same episodes;
//  - credits add up to v(all) - v(empty), each agent's message rewards to
//    its credit;
//  - one more task, started first, runs an estimator that another thread
//    cancels while it runs (ac_estimator_cancel is the one call that may
//    cross threads): AC_E_CANCELLED, stop reason AC_ESTIMATOR_OUTCOME_CANCELLED, and the
//    other episodes are unaffected. Then the same handle, reset, runs again
//    and gives the result of a fresh estimator.
#include <agentcredit.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---------------------------------------------------------------------
// RAII: the handles as unique_ptr with deleters calling ac_*_free.

struct EstimatorFree {
    void operator()(ac_estimator *p) const noexcept { ac_estimator_free(p); }
};
struct RefinerFree {
    void operator()(ac_refiner *p) const noexcept { ac_refiner_free(p); }
};
struct LocalizerFree {
    void operator()(ac_localizer *p) const noexcept { ac_localizer_free(p); }
};
using Estimator = std::unique_ptr<ac_estimator, EstimatorFree>;
using Refiner = std::unique_ptr<ac_refiner, RefinerFree>;
using Localizer = std::unique_ptr<ac_localizer, LocalizerFree>;

// Errors become exceptions on the C++ side of the boundary, never inside a
// callback.
[[noreturn]] void raise(const char *what, int rc, const char *detail)
{
    throw std::runtime_error(std::string(what) + ": " + ac_status_name(rc) +
                             " (" + (detail ? detail : "") + ")");
}
void check(int rc, const char *what, const ac_estimator *e)
{
    if (rc != AC_OK)
        raise(what, rc, ac_estimator_last_error(e));
}
void check(int rc, const char *what, const ac_refiner *r)
{
    if (rc != AC_OK)
        raise(what, rc, ac_refiner_last_error(r));
}
void check(int rc, const char *what, const ac_localizer *l)
{
    if (rc != AC_OK)
        raise(what, rc, ac_localizer_last_error(l));
}

Estimator make_estimator(uint32_t n)
{
    ac_estimator *raw = nullptr;
    int rc = ac_estimator_create(&raw, n, nullptr);
    if (rc != AC_OK)
        raise("ac_estimator_create", rc, "");
    return Estimator(raw);
}
Refiner make_refiner(uint32_t agents, uint32_t messages)
{
    ac_refiner *raw = nullptr;
    int rc = ac_refiner_create(&raw, agents, messages, nullptr);
    if (rc != AC_OK)
        raise("ac_refiner_create", rc, "");
    return Refiner(raw);
}
Localizer make_localizer(uint32_t messages)
{
    ac_localizer *raw = nullptr;
    int rc = ac_localizer_create(&raw, messages, nullptr);
    if (rc != AC_OK)
        raise("ac_localizer_create", rc, "");
    return Localizer(raw);
}

// ---------------------------------------------------------------------
// Deterministic randomness (splitmix64): every draw depends on a seed and
// on the order of the calls on one handle, never on the thread.

uint64_t splitmix(uint64_t &state)
{
    uint64_t z = (state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
double uniform(uint64_t &state)
{
    return static_cast<double>(splitmix(state) >> 11) * 0x1.0p-53;
}
bool member(const uint64_t *s, uint32_t i)
{
    return ((s[i / 64] >> (i % 64)) & 1u) != 0;
}

// ---------------------------------------------------------------------
// The episodes.

struct Spec {
    uint32_t id;
    uint32_t players;
    ac_method method;
    int64_t budget, repeats, seed, batch;
    uint32_t messages;
    uint32_t error_at;   // messages: the verifier accepts every prefix
    bool noisy_verifier; // AC_NOISE_INDEPENDENT, right 85% of the time
    bool scorer;         // labels from the scorer callback, else an array
};

std::vector<Spec> make_specs(uint32_t count)
{
    const ac_method methods[4] = {AC_METHOD_EXACT, AC_METHOD_PERMUTATION,
                                  AC_METHOD_KERNELSHAP, AC_METHOD_AUTO};
    std::vector<Spec> specs;
    for (uint32_t id = 0; id < count; id++) {
        Spec s{};
        s.id = id;
        s.method = methods[id % 4];
        // Exact sees every coalition; the samplers get more players than
        // their budget can enumerate.
        s.players = (s.method == AC_METHOD_EXACT ? 5 : 10) + id % 5;
        s.repeats = 1 + id % 3;
        s.budget = s.method == AC_METHOD_EXACT
                       ? ((int64_t{1} << s.players) - 2) * s.repeats + 16
                       : 600 + 100 * int64_t{id};
        s.seed = 1000 + id;
        s.batch = 8 + 8 * (id % 3);
        s.messages = 3 * s.players + id % 4;
        s.error_at = id == 5 ? s.messages : (id * 7 + 3) % s.messages;
        s.noisy_verifier = id % 2 == 1;
        s.scorer = id % 3 != 0;
        specs.push_back(s);
    }
    return specs;
}

// The oracle's state, reached through the user pointer: a team game whose
// value v(S) is a success probability, evaluated by one 0/1 rollout
// (a Bernoulli draw) per coalition.
struct Game {
    explicit Game(const Spec &spec) : rng(UINT64_C(0x5EED) + spec.id)
    {
        uint64_t s = UINT64_C(77) * spec.id + 1;
        for (uint32_t i = 0; i < spec.players; i++)
            weight.push_back(-0.15 + 0.5 * uniform(s));
    }
    double p(const uint64_t *coalition) const
    {
        double v = 0.05;
        for (uint32_t i = 0; i < weight.size(); i++)
            v += member(coalition, i) ? weight[i] : 0.0;
        if (member(coalition, 0) && member(coalition, 1))
            v += 0.25;
        return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }
    uint64_t rng;
    std::vector<double> weight;
    std::thread::id runner; // the thread that calls run
    long calls = 0;
    bool foreign_thread = false;
};

int game_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                uint32_t count, double *values, int32_t *status) noexcept
{
    try {
        auto *g = static_cast<Game *>(user);
        g->calls++;
        if (std::this_thread::get_id() != g->runner)
            g->foreign_thread = true;
        for (uint32_t k = 0; k < count; k++) {
            values[k] = uniform(g->rng) < g->p(coalitions + size_t{k} * words) ? 1.0 : 0.0;
            status[k] = 0;
        }
        return 0;
    } catch (...) { // nothing may unwind through the library
        return 1;
    }
}

// The scorer: a judge's label per message, deterministic per message.
struct Judge {
    uint32_t id;
    std::thread::id runner;
    long calls = 0;
    bool foreign_thread = false;
};

double judge_label(uint32_t id, uint32_t message)
{
    uint64_t s = (uint64_t{id} << 32) | message;
    double u = uniform(s);
    return u < 0.2 ? 0.0 : 2.0 * u - 1.0;
}

int judge_scorer(void *user, const uint32_t *messages, uint32_t count,
                 double *labels, int32_t *status) noexcept
{
    try {
        auto *j = static_cast<Judge *>(user);
        j->calls++;
        if (std::this_thread::get_id() != j->runner)
            j->foreign_thread = true;
        for (uint32_t k = 0; k < count; k++) {
            labels[k] = judge_label(j->id, messages[k]);
            status[k] = 0;
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

// The verifier: prefix t on track iff t < error_at; the noisy one is right
// with probability 0.85, independently at every call.
struct Verifier {
    uint32_t error_at;
    bool noisy;
    uint64_t rng;
    std::thread::id runner;
    long calls = 0;
    bool foreign_thread = false;
};

int verifier(void *user, const uint32_t *prefixes, uint32_t count,
             double *p_on_track, int32_t *status) noexcept
{
    try {
        auto *v = static_cast<Verifier *>(user);
        v->calls++;
        if (std::this_thread::get_id() != v->runner)
            v->foreign_thread = true;
        for (uint32_t k = 0; k < count; k++) {
            bool on = prefixes[k] < v->error_at;
            if (v->noisy && uniform(v->rng) >= 0.85)
                on = !on;
            p_on_track[k] = on ? 1.0 : 0.0;
            status[k] = 0;
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

struct Result {
    double outcome = 0.0;
    std::vector<double> phi, se, rewards, labels, posterior, blame;
    std::vector<int64_t> audit;
    int64_t step = -2;
    uint32_t agent = 0;
    double probability = 0.0;
    std::thread::id thread;
    std::string error;
};

// One episode, start to end, on the calling thread. Throws on any failure.
Result run_episode(const Spec &spec)
{
    Result r;
    r.thread = std::this_thread::get_id();
    const uint32_t n = spec.players, words = ac_coalition_words(n);

    // 1. Shapley credit over the agents.
    Game game(spec);
    game.runner = std::this_thread::get_id();
    uint64_t outcome_rng = UINT64_C(0xC0FFEE) + spec.id;
    std::vector<uint64_t> all(words, 0), none(words, 0);
    for (uint32_t i = 0; i < n; i++)
        all[i / 64] |= uint64_t{1} << (i % 64);
    r.outcome = uniform(outcome_rng) < game.p(all.data()) ? 1.0 : 0.0;

    Estimator est = make_estimator(n);
    ac_estimator *e = est.get();
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, spec.method), "method", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, spec.budget), "budget", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, spec.repeats), "repeats", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, spec.seed), "seed", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, spec.batch), "batch", e);
    check(ac_estimator_set_value(e, all.data(), words, r.outcome), "v(all)", e);
    check(ac_estimator_set_value(e, none.data(), words, 0.0), "v(empty)", e);
    check(ac_estimator_set_oracle(e, game_oracle, &game), "set_oracle", e);
    check(ac_estimator_run(e), "ac_estimator_run", e);
    r.phi.resize(n);
    r.se.resize(n);
    check(ac_estimator_result(e, r.phi.data(), r.se.data(), n), "result", e);
    for (ac_estimator_audit_key key : {AC_ESTIMATOR_AUDIT_METHOD, AC_ESTIMATOR_AUDIT_EVALUATIONS, AC_ESTIMATOR_AUDIT_COALITIONS,
                             AC_ESTIMATOR_AUDIT_ROUNDS, AC_ESTIMATOR_AUDIT_SAMPLES, AC_ESTIMATOR_AUDIT_OUTCOME}) {
        int64_t value = -1;
        check(ac_estimator_audit(e, key, &value), "audit", e);
        r.audit.push_back(value);
    }
    if (game.calls == 0 || game.foreign_thread)
        throw std::runtime_error("the oracle did not run on the thread that called run");

    // 2. Message rewards that add up to each agent's credit.
    const uint32_t T = spec.messages;
    std::vector<uint32_t> author(T);
    for (uint32_t t = 0; t < T; t++)
        author[t] = t % n;
    Refiner ref = make_refiner(n, T);
    ac_refiner *rf = ref.get();
    check(ac_refiner_set_authors(rf, author.data(), T), "authors", rf);
    check(ac_refiner_set_credits(rf, r.phi.data(), n), "credits", rf);
    Judge judge{spec.id, std::this_thread::get_id()};
    if (spec.scorer) {
        check(ac_refiner_set_int(rf, AC_REFINER_PARAM_BATCH, 5), "refiner batch", rf);
        check(ac_refiner_set_scorer(rf, judge_scorer, &judge), "set_scorer", rf);
    } else {
        std::vector<double> labels(T);
        for (uint32_t t = 0; t < T; t++)
            labels[t] = judge_label(spec.id, t);
        check(ac_refiner_set_labels(rf, labels.data(), T), "labels", rf);
    }
    check(ac_refiner_run(rf), "ac_refiner_run", rf);
    if (spec.scorer && (judge.calls == 0 || judge.foreign_thread))
        throw std::runtime_error("the scorer did not run on the thread that called run");
    r.rewards.resize(T);
    r.labels.resize(T);
    check(ac_refiner_rewards(rf, r.rewards.data(), T), "rewards", rf);
    check(ac_refiner_labels(rf, r.labels.data(), T), "labels", rf);
    int64_t scored = -1;
    check(ac_refiner_audit(rf, AC_REFINER_AUDIT_EVALUATIONS, &scored), "refiner audit", rf);
    if (scored != (spec.scorer ? int64_t{T} : 0))
        throw std::runtime_error("the refiner's audit counts " + std::to_string(scored) +
                                 " scorer evaluations");
    r.audit.push_back(scored);

    // 3. The first error, its posterior and the blame labels.
    Localizer loc = make_localizer(T);
    ac_localizer *l = loc.get();
    Verifier ver{spec.error_at, spec.noisy_verifier, UINT64_C(0xBADC0DE) + spec.id,
                 std::this_thread::get_id()};
    check(ac_localizer_set_authors(l, author.data(), T), "loc authors", l);
    if (spec.noisy_verifier) {
        check(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_NOISE, AC_NOISE_INDEPENDENT), "noise", l);
        check(ac_localizer_set_f64(l, AC_LOCALIZER_PARAM_ACCURACY, 0.85), "accuracy", l);
        check(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BUDGET, 200), "loc budget", l);
    }
    check(ac_localizer_set_int(l, AC_LOCALIZER_PARAM_BATCH, 1 + spec.id % 3), "loc batch", l);
    check(ac_localizer_set_verifier(l, verifier, &ver), "set_verifier", l);
    check(ac_localizer_run(l), "ac_localizer_run", l);
    check(ac_localizer_result(l, &r.step, &r.agent, &r.probability), "loc result", l);
    r.posterior.resize(T + 1);
    r.blame.resize(T);
    check(ac_localizer_posterior(l, r.posterior.data(), T + 1), "posterior", l);
    check(ac_localizer_blame_labels(l, r.blame.data(), T), "blame", l);
    int64_t calls = -1;
    check(ac_localizer_audit(l, AC_LOCALIZER_AUDIT_EVALUATIONS, &calls), "loc audit", l);
    r.audit.push_back(calls);
    if (ver.calls == 0 || ver.foreign_thread)
        throw std::runtime_error("the verifier did not run on the thread that called run");
    if (!spec.noisy_verifier &&
        r.step != (spec.error_at == T ? -1 : static_cast<int64_t>(spec.error_at)))
        throw std::runtime_error("an exact verifier's first error was missed");
    return r;
}

// ---------------------------------------------------------------------
// The cancelled estimator: its oracle holds the first call until another
// thread has called ac_estimator_cancel, so the cancellation lands during
// the run, deterministically.

constexpr uint32_t kVictimPlayers = 12;

struct Victim {
    std::mutex m;
    std::condition_variable cv;
    bool started = false, cancel_sent = false; // guarded by m
    bool hold = true; // only the running thread touches it after start
    long calls = 0;   // likewise
};

double victim_value(const uint64_t *s)
{
    double v = 0.0;
    for (uint32_t i = 0; i < kVictimPlayers; i++)
        v += member(s, i) ? 0.02 * (i + 1) : 0.0;
    return v + ((member(s, 0) && member(s, 1)) ? 0.3 : 0.0);
}

int victim_oracle(void *user, const uint64_t *coalitions, uint32_t words,
                  uint32_t count, double *values, int32_t *status) noexcept
{
    try {
        auto *v = static_cast<Victim *>(user);
        v->calls++;
        if (v->hold) {
            v->hold = false;
            std::unique_lock<std::mutex> lock(v->m);
            v->started = true;
            v->cv.notify_all();
            if (!v->cv.wait_for(lock, std::chrono::seconds(20),
                                [v] { return v->cancel_sent; }))
                return 2; // the canceller never came: fail loudly
        }
        for (uint32_t k = 0; k < count; k++) {
            values[k] = victim_value(coalitions + size_t{k} * words);
            status[k] = 0;
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

Estimator make_victim(Victim *state)
{
    Estimator est = make_estimator(kVictimPlayers);
    ac_estimator *e = est.get();
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_PERMUTATION), "method", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET, 4000), "budget", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BATCH, 32), "batch", e);
    check(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_SEED, 7), "seed", e);
    check(ac_estimator_set_oracle(e, victim_oracle, state), "set_oracle", e);
    return est;
}

// ---------------------------------------------------------------------

int failures = 0;

void expect(bool ok, const std::string &what)
{
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        failures++;
    }
}

template <typename T>
bool same_bits(const std::vector<T> &a, const std::vector<T> &b)
{
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_result(const Result &a, const Result &b)
{
    return std::memcmp(&a.outcome, &b.outcome, sizeof a.outcome) == 0 &&
           same_bits(a.phi, b.phi) && same_bits(a.se, b.se) &&
           same_bits(a.rewards, b.rewards) && same_bits(a.labels, b.labels) &&
           same_bits(a.posterior, b.posterior) && same_bits(a.blame, b.blame) &&
           a.audit == b.audit && a.step == b.step && a.agent == b.agent &&
           std::memcmp(&a.probability, &b.probability, sizeof a.probability) == 0;
}

void check_conservation(const Spec &spec, const Result &r)
{
    const std::string ep = "episode " + std::to_string(spec.id) + ": ";
    double sum = 0.0, mass = 0.0;
    for (double phi : r.phi) {
        sum += phi;
        mass += std::fabs(phi);
    }
    expect(std::fabs(sum - r.outcome) <= 1e-12 * (1.0 + mass),
           ep + "credits add up to v(all) - v(empty)");
    for (uint32_t i = 0; i < spec.players; i++) {
        double rewards = 0.0;
        for (uint32_t t = i; t < spec.messages; t += spec.players)
            rewards += r.rewards[t];
        expect(std::fabs(rewards - r.phi[i]) <= 1e-12 * (1.0 + std::fabs(r.phi[i])),
               ep + "agent " + std::to_string(i) + "'s rewards add up to its credit");
    }
}

} // namespace

int main()
{
    constexpr uint32_t kEpisodes = 12;
    constexpr unsigned kWorkers = 6;
    const std::vector<Spec> specs = make_specs(kEpisodes);
    const auto t0 = std::chrono::steady_clock::now();

    // The reference: every episode on this thread, one after the other; and
    // a fresh, uncancelled run of the victim's estimator.
    std::vector<Result> serial;
    for (const Spec &spec : specs) {
        try {
            serial.push_back(run_episode(spec));
        } catch (const std::exception &ex) {
            expect(false, "serial episode " + std::to_string(spec.id) + ": " + ex.what());
            return 1;
        }
        check_conservation(spec, serial.back());
    }
    std::vector<double> fresh_phi(kVictimPlayers);
    {
        Victim fresh_state;
        fresh_state.hold = false;
        Estimator fresh = make_victim(&fresh_state);
        expect(ac_estimator_run(fresh.get()) == AC_OK, "fresh victim run");
        expect(ac_estimator_result(fresh.get(), fresh_phi.data(), nullptr,
                                   kVictimPlayers) == AC_OK,
               "fresh victim result");
    }
    const auto t1 = std::chrono::steady_clock::now();

    // The pool. Task 0 is the victim, taken first so that it runs beside the
    // episodes; its handle is created here and used on a pool thread (a
    // handle may move between threads), and cancelled from a third thread.
    Victim victim;
    Estimator victim_est = make_victim(&victim);
    int victim_rc = AC_OK, rerun_rc = AC_E_STATE;
    int64_t victim_stop = -1;
    long victim_calls = 0;
    std::string victim_error;
    std::vector<double> rerun_phi(kVictimPlayers);

    std::thread canceller([&victim, e = victim_est.get()] {
        std::unique_lock<std::mutex> lock(victim.m);
        if (!victim.cv.wait_for(lock, std::chrono::seconds(20),
                                [&victim] { return victim.started; }))
            return;
        ac_estimator_cancel(e); // the one call that may cross threads
        victim.cancel_sent = true;
        victim.cv.notify_all();
    });

    // Worker w takes tasks w, w + kWorkers, ...: every worker gets work
    // (a shared counter would do as well, but then a fast first thread may
    // take every task before the others start). The gate starts them
    // together, so the episodes really overlap.
    std::vector<Result> pooled(kEpisodes);
    std::atomic<bool> gate{false};
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < kWorkers; w++) {
        pool.emplace_back([&, w] {
            while (!gate.load())
                std::this_thread::yield();
            for (uint32_t task = w; task <= kEpisodes; task += kWorkers) {
                if (task == 0) {
                    ac_estimator *e = victim_est.get();
                    victim_rc = ac_estimator_run(e);
                    if (ac_estimator_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME,
                                           &victim_stop) != AC_OK)
                        victim_stop = -1;
                    victim_error = ac_estimator_last_error(e);
                    victim_calls = victim.calls;
                    // Reset the session: the handle runs again, uncancelled.
                    if (ac_estimator_reset(e, AC_RESET_SESSION) == AC_OK)
                        rerun_rc = ac_estimator_run(e);
                    if (rerun_rc == AC_OK)
                        rerun_rc = ac_estimator_result(e, rerun_phi.data(), nullptr,
                                                       kVictimPlayers);
                    continue;
                }
                Result &out = pooled[task - 1]; // this task's slot only
                try {
                    out = run_episode(specs[task - 1]);
                } catch (const std::exception &ex) {
                    out.error = ex.what();
                }
            }
        });
    }
    gate.store(true);
    for (std::thread &t : pool)
        t.join();
    canceller.join();
    const auto t2 = std::chrono::steady_clock::now();

    std::set<std::thread::id> threads;
    for (uint32_t i = 0; i < kEpisodes; i++) {
        const std::string ep = "episode " + std::to_string(i);
        expect(pooled[i].error.empty(), ep + " in the pool: " + pooled[i].error);
        if (!pooled[i].error.empty())
            continue;
        threads.insert(pooled[i].thread);
        check_conservation(specs[i], pooled[i]);
        expect(same_result(serial[i], pooled[i]),
               ep + ": the pool's results are bit-identical to the serial run's");
    }
    expect(threads.size() == kWorkers, "the episodes ran on every pool thread");
    expect(victim_rc == AC_E_CANCELLED,
           std::string("cancelled run returns AC_E_CANCELLED, got ") + ac_status_name(victim_rc));
    expect(victim_stop == AC_ESTIMATOR_OUTCOME_CANCELLED, "stop reason AC_ESTIMATOR_OUTCOME_CANCELLED");
    expect(victim_error.find("cancel") != std::string::npos,
           "last_error names the cancellation: " + victim_error);
    expect(rerun_rc == AC_OK, std::string("rerun after reset: ") + ac_status_name(rerun_rc));
    expect(same_bits(rerun_phi, fresh_phi),
           "the reset handle's rerun equals a fresh estimator's run");

    using ms = std::chrono::duration<double, std::milli>;
    std::printf("serial: %u episodes in %.1f ms; pool of %u threads: %.1f ms, "
                "episodes ran on %zu distinct threads\n",
                kEpisodes, ms(t1 - t0).count(), kWorkers, ms(t2 - t1).count(),
                threads.size());
    std::printf("cancelled estimator: %s after %ld oracle call(s), rerun after "
                "reset equals a fresh run\n",
                ac_status_name(victim_rc), victim_calls);
    if (failures == 0)
        std::puts("ok: every pooled result bit-identical to the serial run, "
                  "credits and rewards conserve, cancel isolated");
    return failures == 0 ? 0 : 1;
}
