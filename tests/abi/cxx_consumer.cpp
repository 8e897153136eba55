// The public header from C++17 (-Wall -Wextra -Werror): extern "C" linkage,
// no C-only constructs, and an estimator driven through both paths.
#include <agentcredit.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace {

struct EstimatorDeleter {
    void operator()(ac_estimator *est) const noexcept { ac_estimator_free(est); }
};
using Estimator = std::unique_ptr<ac_estimator, EstimatorDeleter>;

// Glove game: player 0 holds a left glove, players 1 and 2 right gloves;
// v(S) = 1 when S holds a pair. Shapley values (2/3, 1/6, 1/6).
double glove(uint64_t s)
{
    return ((s & 1u) != 0 && (s & 6u) != 0) ? 1.0 : 0.0;
}

struct Counter {
    int calls = 0;
};

int glove_oracle(void *user, const uint64_t *coalitions,
                            uint32_t words, uint32_t count, double *values,
                            int32_t *status)
{
    static_cast<Counter *>(user)->calls++;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = glove(coalitions[static_cast<size_t>(k) * words]);
        status[k] = 0;
    }
    return 0;
}

int failures = 0;

void expect(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

bool near(double a, double b) { return std::fabs(a - b) < 1e-9; }

} // namespace

int main()
{
    expect(ac_version_number() == AC_VERSION_NUMBER, "version number");
    expect(std::strcmp(ac_strerror(AC_E_BUSY), "") != 0, "strerror");

    const double want[3] = {2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0};

    // 1. callback path
    {
        ac_estimator *raw = nullptr;
        expect(ac_estimator_create(&raw, 3, nullptr) == AC_OK, "create");
        Estimator est(raw);
        Counter counter;
        expect(ac_estimator_set_int(est.get(), AC_ESTIMATOR_PARAM_METHOD, AC_METHOD_EXACT) == AC_OK,
               "set method");
        expect(ac_estimator_set_oracle(est.get(), glove_oracle, &counter) == AC_OK,
               "set oracle");
        expect(ac_estimator_run(est.get()) == AC_OK, "run");
        std::vector<double> phi(3), se(3);
        expect(ac_estimator_result(est.get(), phi.data(), se.data(), 3) == AC_OK, "result");
        for (int i = 0; i < 3; i++)
            expect(near(phi[i], want[i]), "callback phi");
        expect(counter.calls > 0, "oracle called");
    }

    // 2. ask/tell path, with v(all) and v(empty) known
    {
        ac_estimator *raw = nullptr;
        expect(ac_estimator_create(&raw, 3, nullptr) == AC_OK, "create");
        Estimator est(raw);
        const uint32_t words = ac_coalition_words(3);
        std::vector<uint64_t> all(words, 7u), none(words, 0u);
        expect(ac_estimator_set_value(est.get(), all.data(), words, 1.0) == AC_OK, "v(all)");
        expect(ac_estimator_set_value(est.get(), none.data(), words, 0.0) == AC_OK, "v(empty)");
        std::vector<uint64_t> tickets(8), coalitions(8 * words);
        std::vector<double> values(8);
        for (int round = 0; round < 100; round++) {
            uint32_t got = 0;
            expect(ac_estimator_ask(est.get(), 8, tickets.data(), coalitions.data(), &got) == AC_OK,
                   "ask");
            for (uint32_t k = 0; k < got; k++)
                values[k] = glove(coalitions[k * words]);
            if (got > 0)
                expect(ac_estimator_tell(est.get(), got, tickets.data(), values.data(), nullptr) ==
                           AC_OK,
                       "tell");
            int32_t done = 0;
            expect(ac_estimator_progress(est.get(), &done, nullptr) == AC_OK, "progress");
            if (done || got == 0)
                break;
        }
        std::vector<double> phi(3);
        expect(ac_estimator_result(est.get(), phi.data(), nullptr, 3) == AC_OK, "result");
        for (int i = 0; i < 3; i++)
            expect(near(phi[i], want[i]), "ask/tell phi");
        int64_t known = -1;
        expect(ac_estimator_audit(est.get(), AC_ESTIMATOR_AUDIT_KNOWN, &known) == AC_OK, "audit");
        expect(known == 2, "two known values");
    }

    if (failures == 0)
        std::puts("ok: agentcredit.h from C++17, callback and ask/tell");
    return failures == 0 ? 0 : 1;
}
