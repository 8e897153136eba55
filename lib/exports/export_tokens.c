/* Per-token rewards from the messages' token spans (verl-tokens, SkyRL):
 * the response begins at the first agent message's first token; an
 * agent's reward goes to its message's last token or spreads over its
 * tokens, and the mask keeps the agent's own tokens only (not the other
 * agents', the tools' or the gaps'). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "episodes/json_io.h"
#include "exports/export_internal.h"

typedef struct response {
    uint64_t begin, length;
    double *reward;
    uint8_t *mask;
} response;

static const ac__message *msg(const ac__xrun *r, uint32_t k)
{
    return &r->ep->msg[k];
}

static int has_span(const ac__xrun *r, uint32_t k)
{
    return msg(r, k)->token_begin != AC__NO_TOKEN;
}

/* Where the response lies: from the first agent message's first token to
 * the last span's end. A skip (NO_TOKENS) when that message or one of
 * agent a's has no span. */
static int locate(ac__xrun *r, uint32_t a, response *resp)
{
    uint32_t n = r->s->n_msg, first = 0;
    while (first < n && ac__xrun_author(r, first) == AC__NO_AGENT)
        first++;
    if (first == n || !has_span(r, first))
        return AC_EXPORT_SKIP_REASON_NO_TOKENS;
    for (uint32_t k = first; k < n; k++)
        if (ac__xrun_author(r, k) == a && !has_span(r, k))
            return AC_EXPORT_SKIP_REASON_NO_TOKENS;
    resp->begin = msg(r, first)->token_begin;
    uint64_t end = resp->begin;
    for (uint32_t k = first; k < n; k++) {
        if (!has_span(r, k))
            continue;
        if (msg(r, k)->token_begin < resp->begin && ac__xrun_author(r, k) == a)
            return ac__fail(r->x->err, AC_E_INVALID_ARG, "message %u's "
                            "tokens begin at %llu, before the response (the "
                            "first agent message's, at %llu)", k,
                            (unsigned long long)msg(r, k)->token_begin,
                            (unsigned long long)resp->begin);
        if (msg(r, k)->token_end > end)
            end = msg(r, k)->token_end;
    }
    resp->length = end - resp->begin;
    if (resp->length == 0) /* no token to put a reward on or to train */
        return AC_EXPORT_SKIP_REASON_NO_TOKENS;
    if (resp->length > (uint64_t)r->x->p.max_tokens)
        return ac__fail(r->x->err, AC_E_TOO_LARGE, "the response spans %llu "
                        "tokens, more than AC_EXPORT_PARAM_MAX_TOKENS = %lld",
                        (unsigned long long)resp->length,
                        (long long)r->x->p.max_tokens);
    return AC_OK;
}

/* Agent a's rewards and mask over the response. */
static int place(ac__xrun *r, uint32_t a, response *resp)
{
    size_t T = (size_t)resp->length;
    resp->reward = ac__mem_calloc(&r->x->mem, T == 0 ? 1 : T, sizeof(double));
    resp->mask = ac__mem_calloc(&r->x->mem, T == 0 ? 1 : T, 1);
    if (resp->reward == NULL || resp->mask == NULL)
        return ac__export_oom(r, "per-token rewards");
    int spread = r->x->p.placement == AC_TOKEN_PLACEMENT_SPREAD;
    for (uint32_t k = 0; k < r->s->n_msg; k++) {
        if (ac__xrun_author(r, k) != a)
            continue;
        uint64_t b = msg(r, k)->token_begin - resp->begin,
                 e = msg(r, k)->token_end - resp->begin;
        double rk = r->s->reward[k];
        if (b == e && rk != 0)
            return ac__fail(r->x->err, AC_E_INVALID_ARG, "message %u has "
                            "reward %g and no token (an empty span at %llu)",
                            k, rk, (unsigned long long)msg(r, k)->token_begin);
        memset(resp->mask + b, 1, (size_t)(e - b));
        if (!spread && e > b)
            resp->reward[e - 1] += rk;
        for (uint64_t i = b; spread && i < e; i++)
            resp->reward[i] += rk / (double)(e - b);
    }
    return AC_OK;
}

/* A double as jansson writes it at JSON_REAL_PRECISION(17): "%.17g", ".0"
 * when it would read back as an integer, the exponent without '+' or
 * leading zeros, and '.' whatever the locale's decimal point: the bytes
 * jansson would write, at a fraction of the cost of a tree of reals. */
static size_t real_text(double v, char buf[40])
{
    if (v == 0 && !signbit(v)) {
        memcpy(buf, "0.0", 4);
        return 3;
    }
    snprintf(buf, 32, "%.17g", v);
    int point = 0;
    for (char *c = buf; *c != '\0'; c++) {
        if ((*c < '0' || *c > '9') && *c != '-' && *c != '+' && *c != 'e') {
            *c = '.';
            point = 1;
        }
    }
    char *start = strchr(buf, 'e');
    if (start == NULL && !point)
        strcat(buf, ".0");
    if (start != NULL) {
        char *end = ++start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start)
            memmove(start, end, strlen(end) + 1);
    }
    return strlen(buf);
}

static int add_reals(const ac__mem *m, ac__text *t, const double *v, size_t n)
{
    char buf[40];
    int rc = ac__text_add(m, t, "[", 1);
    for (size_t i = 0; rc == AC_OK && i < n; i++) {
        if (i > 0)
            rc = ac__text_add(m, t, ",", 1);
        if (rc == AC_OK)
            rc = ac__text_add(m, t, buf, real_text(v[i], buf));
    }
    return rc == AC_OK ? ac__text_add(m, t, "]", 1) : rc;
}

static int add_flags(const ac__mem *m, ac__text *t, const uint8_t *v, size_t n)
{
    int rc = ac__text_add(m, t, "[", 1);
    for (size_t i = 0; rc == AC_OK && i < n; i++)
        rc = ac__text_add(m, t, i == 0 ? (v[i] ? "1" : "0")
                                       : (v[i] ? ",1" : ",0"), i == 0 ? 1 : 2);
    return rc == AC_OK ? ac__text_add(m, t, "]", 1) : rc;
}

/* The agent's spans, relative to the response. */
static json_t *spans(const ac__xrun *r, uint32_t a, const response *resp)
{
    json_t *arr = json_array();
    int ok = arr != NULL;
    for (uint32_t k = 0; ok && k < r->s->n_msg; k++)
        if (ac__xrun_author(r, k) == a) {
            json_t *span = json_array();
            ok = span != NULL;
            if (ok) {
                push(span, json_integer((json_int_t)(msg(r, k)->token_begin -
                                                     resp->begin)), &ok);
                push(span, json_integer((json_int_t)(msg(r, k)->token_end -
                                                     resp->begin)), &ok);
            }
            push(arr, span, &ok);
        }
    if (!ok)
        json_decref(arr);
    return ok ? arr : NULL;
}

/* The record with nulls where its vectors go. */
static json_t *token_record(ac__xrun *r, uint32_t a, const response *resp)
{
    int skyrl = r->x->format == AC_EXPORT_FORMAT_SKYRL;
    json_t *rec = json_object();
    int ok = rec != NULL;
    if (!ok)
        return NULL;
    put(rec, "episode", json_string(r->id), &ok);
    put(rec, "group", ac__xrun_group(r), &ok);
    put(rec, "agent", json_string(ac__xrun_agent_name(r, a)), &ok);
    if (!skyrl)
        put(rec, "key", ac__xrun_key(r, a, -1), &ok);
    put(rec, "begin", json_integer((json_int_t)resp->begin), &ok);
    put(rec, "length", json_integer((json_int_t)resp->length), &ok);
    put(rec, skyrl ? "rewards" : "token_rewards", json_null(), &ok);
    put(rec, skyrl ? "loss_mask" : "response_mask", json_null(), &ok);
    put(rec, "spans", spans(r, a, resp), &ok);
    put(rec, "credit", json_real(r->s->credit[a]), &ok);
    if (!ok)
        json_decref(rec);
    return ok ? rec : NULL;
}

static int write_record(ac__xrun *r, uint32_t a, const response *resp)
{
    int skyrl = r->x->format == AC_EXPORT_FORMAT_SKYRL;
    const char *keys[2] = {skyrl ? "rewards" : "token_rewards",
                           skyrl ? "loss_mask" : "response_mask"};
    const ac__mem *m = &r->x->mem;
    ac__text rewards = {0}, mask = {0};
    size_t T = (size_t)resp->length;
    int rc = add_reals(m, &rewards, resp->reward, T) == AC_OK &&
                     add_flags(m, &mask, resp->mask, T) == AC_OK
                 ? ac__export_emit_spliced(r, token_record(r, a, resp), 2, keys,
                                           (const ac__text *const[]){&rewards,
                                                                     &mask})
                 : ac__export_oom(r, "a per-token record");
    ac__text_free(m, &rewards);
    ac__text_free(m, &mask);
    return rc;
}

/* Rewards of spans that share a token add up there, and may pass a
 * double: a vector with an infinity is no record. */
static int sums_finite(ac__xrun *r, const response *resp)
{
    for (uint64_t i = 0; i < resp->length; i++)
        if (!isfinite(resp->reward[i]))
            return ac__fail(r->x->err, AC_E_TOO_LARGE, "the rewards on "
                            "token %llu of the response add up beyond a "
                            "double", (unsigned long long)i);
    return AC_OK;
}

static int token_agent(ac__xrun *r, uint32_t a)
{
    response resp = {0, 0, NULL, NULL};
    int rc = locate(r, a, &resp);
    if (rc == AC_OK)
        rc = place(r, a, &resp);
    if (rc == AC_OK)
        rc = sums_finite(r, &resp);
    if (rc == AC_OK)
        rc = write_record(r, a, &resp);
    ac__mem_free(&r->x->mem, resp.reward);
    ac__mem_free(&r->x->mem, resp.mask);
    return rc;
}

int ac__export_tokens(ac__xrun *r)
{
    int rc = AC_OK;
    for (uint32_t a = 0; rc == AC_OK && a < r->s->n_agents; a++)
        if (r->trained[a])
            rc = ac__export_settle(r, token_agent(r, a), -1, a);
    return rc;
}
