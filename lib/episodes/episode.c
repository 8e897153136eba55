/* The episode: participants, messages, the outcome and what the host
 * knows. Data only; the pipeline (pipeline.c) computes from it. */
#include "episodes/episode_internal.h"

#include <math.h>
#include <string.h>

#include "common/coalition.h"

int ac_episode_create(ac_episode **out, const ac_allocator *alloc)
{
    if (out == NULL)
        return AC_E_INVALID_ARG;
    ac__mem mem;
    int rc;
    ac_episode *ep = ac__mem_new_handle(alloc, sizeof *ep, &mem, &rc);
    if (ep == NULL)
        return rc;
    ep->mem = mem;
    ep->threshold = 0.5;
    ep->first_error = AC__NO_MESSAGE;
    *out = ep;
    return AC_OK;
}

void ac_episode_free(ac_episode *ep)
{
    if (ep == NULL)
        return;
    const ac__mem *m = &ep->mem;
    for (uint32_t i = 0; i < ep->n_part; i++)
        ac__mem_free(m, ep->part[i].name);
    for (uint32_t t = 0; t < ep->n_msg; t++) {
        ac__mem_free(m, ep->msg[t].role);
        ac__mem_free(m, ep->msg[t].text);
        ac__mem_free(m, ep->msg[t].tool_calls);
        ac__mem_free(m, ep->msg[t].tool_call_id);
        ac__mem_free(m, ep->msg[t].name);
    }
    ac__mem_free(m, ep->part);
    ac__mem_free(m, ep->msg);
    ac__mem_free(m, ep->known_key);
    ac__mem_free(m, ep->known_value);
    ac__mem_free(m, ep->known_slots);
    ac__mem_free(m, ep->id);
    ac__mem mem = ep->mem;
    ac__mem_free(&mem, ep);
}

const char *ac_episode_last_error(const ac_episode *ep)
{
    return ep == NULL ? "" : ep->err;
}

/* The length of the well-formed UTF-8 prefix of s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF): all of it when s is
 * UTF-8. JSON holds only UTF-8, so an episode holds only UTF-8 too. */
size_t ac__utf8_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
                                : (c & 0xF0) == 0xE0 ? 3
                                : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i + n > len)
            return i;
        uint32_t cp = n == 1 ? c : c & (0x7Fu >> n);
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return i;
}

/* A copy of s in the episode's memory; *copy NULL for s NULL. */
static int copy_string(ac_episode *ep, const char *s, char **copy)
{
    *copy = NULL;
    if (s == NULL)
        return AC_OK;
    size_t len = strlen(s);
    size_t good = ac__utf8_prefix((const unsigned char *)s, len);
    if (good != len)
        return ac__fail(ep->err, AC_E_INVALID_ARG, "a string is not UTF-8 "
                        "(byte %zu of %zu: 0x%02x)", good, len,
                        (unsigned)(unsigned char)s[good]);
    *copy = ac__mem_alloc(&ep->mem, len + 1, 1);
    if (*copy == NULL)
        return ac__fail(ep->err, AC_E_NO_MEMORY, "out of memory copying a "
                        "string of %zu bytes", len);
    memcpy(*copy, s, len + 1);
    return AC_OK;
}

int ac_episode_set_id(ac_episode *ep, const char *id)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    char *copy;
    int rc = copy_string(ep, id, &copy);
    if (rc != AC_OK)
        return rc;
    ac__mem_free(&ep->mem, ep->id);
    ep->id = copy;
    return AC_OK;
}

const char *ac_episode_id(const ac_episode *ep)
{
    return ep == NULL ? NULL : ep->id;
}

static int find_participant(const ac_episode *ep, const char *name)
{
    for (uint32_t i = 0; i < ep->n_part; i++)
        if (strcmp(ep->part[i].name, name) == 0)
            return 1;
    return 0;
}

static int check_new_participant(ac_episode *ep, const char *name,
                                 int32_t kind)
{
    if (name == NULL || name[0] == '\0')
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "a participant needs a non-empty name");
    if (kind < AC_PARTICIPANT_KIND_AGENT || kind > AC_PARTICIPANT_KIND_SYSTEM)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "participant \"%s\": unknown kind %d", name,
                        (int)kind);
    if (find_participant(ep, name))
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "participant \"%s\" is there already", name);
    if (ep->n_part >= AC_EPISODE_MAX_PARTICIPANTS)
        return ac__fail(ep->err, AC_E_TOO_LARGE,
                        "an episode has at most %u participants",
                        AC_EPISODE_MAX_PARTICIPANTS);
    if (kind == AC_PARTICIPANT_KIND_AGENT && ep->n_agents >= AC_MAX_PLAYERS)
        return ac__fail(ep->err, AC_E_TOO_LARGE,
                        "an episode has at most %u agents", AC_MAX_PLAYERS);
    if (kind == AC_PARTICIPANT_KIND_AGENT && ep->n_known > 0)
        return ac__fail(ep->err, AC_E_STATE,
                        "agent \"%s\" comes after known coalition values: "
                        "add every agent first", name);
    return AC_OK;
}

int ac_episode_add_participant(ac_episode *ep, const char *name, int32_t kind,
                               uint32_t *index)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = check_new_participant(ep, name, kind);
    if (rc != AC_OK)
        return rc;
    rc = ac__mem_reserve(&ep->mem, (void **)&ep->part, ep->n_part,
                         &ep->cap_part, 8, sizeof *ep->part);
    if (rc != AC_OK)
        return ac__fail(ep->err, rc, "out of memory adding a participant");
    ac__participant *p = &ep->part[ep->n_part];
    if ((rc = copy_string(ep, name, &p->name)) != AC_OK)
        return rc;
    p->kind = kind;
    p->agent = kind == AC_PARTICIPANT_KIND_AGENT ? ep->n_agents++ : AC__NO_AGENT;
    if (index != NULL)
        *index = ep->n_part;
    ep->n_part++;
    return AC_OK;
}

int ac_episode_add_message(ac_episode *ep, uint32_t participant,
                           const char *role, const char *text,
                           uint32_t *index)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    if (participant >= ep->n_part)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "message %u: no participant %u (%u given)",
                        ep->n_msg, participant, ep->n_part);
    if (ep->n_msg >= AC_EPISODE_MAX_MESSAGES)
        return ac__fail(ep->err, AC_E_TOO_LARGE,
                        "an episode has at most %u messages",
                        AC_EPISODE_MAX_MESSAGES);
    int rc = ac__mem_reserve(&ep->mem, (void **)&ep->msg, ep->n_msg,
                             &ep->cap_msg, 32, sizeof *ep->msg);
    if (rc != AC_OK)
        return ac__fail(ep->err, rc, "out of memory adding a message");
    ac__message m = {participant, AC__NO_MESSAGE, AC__NO_TOKEN, AC__NO_TOKEN,
                     NULL, NULL, NAN, NULL, NULL, NULL};
    if ((rc = copy_string(ep, role, &m.role)) != AC_OK ||
        (rc = copy_string(ep, text, &m.text)) != AC_OK) {
        ac__mem_free(&ep->mem, m.role);
        return rc;
    }
    ep->msg[ep->n_msg] = m;
    if (index != NULL)
        *index = ep->n_msg;
    ep->n_msg++;
    return AC_OK;
}

int ac__episode_check_message(ac_episode *ep, uint32_t message,
                              const char *what)
{
    if (message >= ep->n_msg)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "%s: no message %u (%u given)", what, message,
                        ep->n_msg);
    return AC_OK;
}

int ac_episode_set_parent(ac_episode *ep, uint32_t message, uint32_t parent)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__episode_check_message(ep, message, "parent");
    if (rc != AC_OK)
        return rc;
    if (parent != AC__NO_MESSAGE && parent >= message)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "message %u cannot depend on message %u: a parent "
                        "comes before its message", message, parent);
    ep->msg[message].parent = parent;
    return AC_OK;
}

int ac_episode_set_token_span(ac_episode *ep, uint32_t message,
                              uint64_t begin, uint64_t end)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__episode_check_message(ep, message, "token span");
    if (rc != AC_OK)
        return rc;
    int none = begin == AC__NO_TOKEN && end == AC__NO_TOKEN;
    /* JSON integers are signed 64-bit: a span must be writable */
    if (!none && (begin > end || end > (uint64_t)INT64_MAX))
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "message %u: token span [%llu, %llu) is not a span",
                        message, (unsigned long long)begin,
                        (unsigned long long)end);
    ep->msg[message].token_begin = begin;
    ep->msg[message].token_end = end;
    return AC_OK;
}

/* A message's tool_call_id (is_name 0) or name (1): a non-empty UTF-8
 * copy replaces it, NULL removes it. */
static int set_message_string(ac_episode *ep, uint32_t message,
                              const char *what, const char *value,
                              int is_name)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = ac__episode_check_message(ep, message, what);
    if (rc != AC_OK)
        return rc;
    if (value != NULL && value[0] == '\0')
        return ac__fail(ep->err, AC_E_INVALID_ARG, "message %u: the %s is "
                        "empty (NULL removes it)", message, what);
    char *copy;
    if ((rc = copy_string(ep, value, &copy)) != AC_OK)
        return rc;
    ac__message *m = &ep->msg[message];
    char **field = is_name ? &m->name : &m->tool_call_id;
    ac__mem_free(&ep->mem, *field);
    *field = copy;
    return AC_OK;
}

int ac_episode_set_tool_call_id(ac_episode *ep, uint32_t message,
                                const char *tool_call_id)
{
    return set_message_string(ep, message, "tool_call_id", tool_call_id,
                              0);
}

int ac_episode_set_message_name(ac_episode *ep, uint32_t message,
                                const char *name)
{
    return set_message_string(ep, message, "name", name, 1);
}

/* The four outcome fields share one setter. */
static int set_field(ac_episode *ep, double *field, int *is_set,
                     const char *name, double value)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    if (!isfinite(value))
        return ac__fail(ep->err, AC_E_INVALID_ARG, "the %s is %g: it must "
                        "be finite", name, value);
    *field = value;
    if (is_set != NULL)
        *is_set = 1;
    return AC_OK;
}

int ac_episode_set_outcome(ac_episode *ep, double outcome)
{
    return set_field(ep, ep ? &ep->outcome : NULL,
                     ep ? &ep->has_outcome : NULL, "outcome", outcome);
}

int ac_episode_set_threshold(ac_episode *ep, double threshold)
{
    return set_field(ep, ep ? &ep->threshold : NULL, NULL, "threshold",
                     threshold);
}

int ac_episode_set_reference(ac_episode *ep, double reference)
{
    return set_field(ep, ep ? &ep->reference : NULL,
                     ep ? &ep->has_reference : NULL, "reference", reference);
}

int ac_episode_set_baseline(ac_episode *ep, double baseline)
{
    return set_field(ep, ep ? &ep->baseline : NULL,
                     ep ? &ep->has_baseline : NULL, "baseline", baseline);
}

void ac_episode_clear_reference(ac_episode *ep)
{
    if (ep != NULL)
        ep->has_reference = 0;
}

void ac_episode_clear_baseline(ac_episode *ep)
{
    if (ep != NULL)
        ep->has_baseline = 0;
}

static int check_coalition(ac_episode *ep, const uint64_t *coalition,
                           uint32_t words)
{
    if (ep->n_agents == 0)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "a coalition value needs the agents first");
    uint32_t want = ac_coalition_words(ep->n_agents);
    if (coalition == NULL || words != want)
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "a coalition of %u agents is %u words, not %u",
                        ep->n_agents, want, words);
    if (!ac__coalition_valid(coalition, words, ep->n_agents))
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "the coalition names an agent past the %u agents",
                        ep->n_agents);
    return AC_OK;
}

/* Known values are found through an open-addressing index (slots hold
 * index + 1, 0 when empty; at most half full): a file of many values
 * stays linear. */
static uint32_t *known_slot(const ac_episode *ep, const uint64_t *coalition,
                            uint32_t *slots, uint32_t cap)
{
    uint32_t words = ep->known_words, mask = cap - 1;
    uint32_t h = (uint32_t)ac__coalition_hash(coalition, words) & mask;
    while (slots[h] != 0 &&
           memcmp(ep->known_key + (size_t)(slots[h] - 1) * words, coalition,
                  words * sizeof *coalition) != 0)
        h = (h + 1) & mask;
    return &slots[h];
}

/* Room in the index for one more value; AC_E_NO_MEMORY changes nothing. */
static int known_index_room(ac_episode *ep)
{
    if (2 * ((uint64_t)ep->n_known + 1) <= ep->slot_cap)
        return AC_OK;
    uint64_t cap64 = ep->slot_cap ? 2 * (uint64_t)ep->slot_cap : 32;
    if (cap64 > UINT32_MAX)
        return AC_E_TOO_LARGE;
    uint32_t cap = (uint32_t)cap64;
    uint32_t *slots = ac__mem_calloc(&ep->mem, cap, sizeof *slots);
    if (slots == NULL)
        return AC_E_NO_MEMORY;
    for (uint32_t k = 0; k < ep->n_known; k++)
        *known_slot(ep, ep->known_key + (size_t)k * ep->known_words, slots,
                    cap) = k + 1;
    ac__mem_free(&ep->mem, ep->known_slots);
    ep->known_slots = slots;
    ep->slot_cap = cap;
    return AC_OK;
}

int ac_episode_set_value(ac_episode *ep, const uint64_t *coalition,
                         uint32_t words, double value)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = check_coalition(ep, coalition, words);
    if (rc != AC_OK)
        return rc;
    if (!isfinite(value))
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "a coalition value is %g: it must be finite", value);
    ep->known_words = words;
    uint32_t *slot = ep->slot_cap ? known_slot(ep, coalition, ep->known_slots,
                                               ep->slot_cap)
                                  : NULL;
    if (slot != NULL && *slot != 0) {
        ep->known_value[*slot - 1] = value;
        return AC_OK;
    }
    uint32_t cap = ep->cap_known;
    rc = ac__mem_reserve(&ep->mem, (void **)&ep->known_value, ep->n_known,
                         &cap, 16, sizeof *ep->known_value);
    if (rc == AC_OK && cap != ep->cap_known)
        rc = ac__mem_grow(&ep->mem, (void **)&ep->known_key,
                          (size_t)ep->n_known * words, (size_t)cap * words,
                          sizeof *ep->known_key);
    if (rc == AC_OK)
        ep->cap_known = cap;
    if (rc == AC_OK)
        rc = known_index_room(ep);
    if (rc != AC_OK)
        return ac__fail(ep->err, rc, "%s adding a known value",
                        rc == AC_E_NO_MEMORY ? "out of memory"
                                             : "too many values");
    memcpy(ep->known_key + (size_t)ep->n_known * words, coalition,
           words * sizeof *coalition);
    ep->known_value[ep->n_known] = value;
    ep->n_known++;
    *known_slot(ep, coalition, ep->known_slots, ep->slot_cap) = ep->n_known;
    return AC_OK;
}

static int check_agent_message(ac_episode *ep, uint32_t message,
                               const char *what)
{
    int rc = ac__episode_check_message(ep, message, what);
    if (rc == AC_OK && ac__episode_author(ep, message) == AC__NO_AGENT)
        rc = ac__fail(ep->err, AC_E_INVALID_ARG,
                      "%s: message %u is by \"%s\", not an agent", what,
                      message, ep->part[ep->msg[message].participant].name);
    return rc;
}

int ac_episode_set_label(ac_episode *ep, uint32_t message, double label)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    int rc = check_agent_message(ep, message, "label");
    if (rc != AC_OK)
        return rc;
    if (!(label >= -1.0 && label <= 1.0))
        return ac__fail(ep->err, AC_E_INVALID_ARG,
                        "message %u: label %g is outside [-1, 1]", message,
                        label);
    ep->msg[message].label = label;
    return AC_OK;
}

int ac_episode_set_first_error_label(ac_episode *ep, uint32_t message)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    if (message != AC__NO_MESSAGE) {
        int rc = check_agent_message(ep, message, "first-error label");
        if (rc != AC_OK)
            return rc;
    }
    ep->first_error = message;
    return AC_OK;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int ac_episode_counts(const ac_episode *ep, uint32_t *participants,
                      uint32_t *agents, uint32_t *messages)
{
    if (ep == NULL)
        return AC_E_INVALID_ARG;
    if (participants != NULL)
        *participants = ep->n_part;
    if (agents != NULL)
        *agents = ep->n_agents;
    if (messages != NULL)
        *messages = ep->n_msg;
    return AC_OK;
}

int ac_episode_participant(const ac_episode *ep, uint32_t index,
                           const char **name, int32_t *kind)
{
    if (ep == NULL || index >= ep->n_part)
        return AC_E_INVALID_ARG;
    if (name != NULL)
        *name = ep->part[index].name;
    if (kind != NULL)
        *kind = ep->part[index].kind;
    return AC_OK;
}

int ac_episode_agent_of(const ac_episode *ep, uint32_t participant,
                        uint32_t *agent)
{
    if (ep == NULL || participant >= ep->n_part ||
        ep->part[participant].agent == AC__NO_AGENT)
        return AC_E_INVALID_ARG;
    if (agent != NULL)
        *agent = ep->part[participant].agent;
    return AC_OK;
}

int ac_episode_message(const ac_episode *ep, uint32_t index,
                       uint32_t *participant, const char **role,
                       const char **text)
{
    if (ep == NULL || index >= ep->n_msg)
        return AC_E_INVALID_ARG;
    const ac__message *m = &ep->msg[index];
    if (participant != NULL)
        *participant = m->participant;
    if (role != NULL)
        *role = m->role;
    if (text != NULL)
        *text = m->text;
    return AC_OK;
}

int ac_episode_message_links(const ac_episode *ep, uint32_t index,
                             uint32_t *parent, uint64_t *token_begin,
                             uint64_t *token_end)
{
    if (ep == NULL || index >= ep->n_msg)
        return AC_E_INVALID_ARG;
    const ac__message *m = &ep->msg[index];
    if (parent != NULL)
        *parent = m->parent;
    if (token_begin != NULL)
        *token_begin = m->token_begin;
    if (token_end != NULL)
        *token_end = m->token_end;
    return AC_OK;
}

int ac_episode_message_tools(const ac_episode *ep, uint32_t index,
                             const char **tool_calls,
                             const char **tool_call_id, const char **name)
{
    if (ep == NULL || index >= ep->n_msg)
        return AC_E_INVALID_ARG;
    const ac__message *m = &ep->msg[index];
    if (tool_calls != NULL)
        *tool_calls = m->tool_calls;
    if (tool_call_id != NULL)
        *tool_call_id = m->tool_call_id;
    if (name != NULL)
        *name = m->name;
    return AC_OK;
}

int ac_episode_get_f64(const ac_episode *ep, int32_t field, double *value,
                       int *is_set)
{
    if (ep == NULL || value == NULL)
        return AC_E_INVALID_ARG;
    int set;
    switch (field) {
    case AC_EPISODE_FIELD_OUTCOME:
        *value = ep->outcome, set = ep->has_outcome;
        break;
    case AC_EPISODE_FIELD_THRESHOLD:
        *value = ep->threshold, set = 1;
        break;
    case AC_EPISODE_FIELD_REFERENCE:
        *value = ep->reference, set = ep->has_reference;
        break;
    case AC_EPISODE_FIELD_BASELINE:
        *value = ep->baseline, set = ep->has_baseline;
        break;
    default:
        return AC_E_INVALID_ARG;
    }
    if (!set)
        *value = NAN;
    if (is_set != NULL)
        *is_set = set;
    return AC_OK;
}

int ac_episode_labels(const ac_episode *ep, double *labels, uint32_t n)
{
    if (ep == NULL || labels == NULL || n != ep->n_msg)
        return AC_E_INVALID_ARG;
    for (uint32_t t = 0; t < n; t++)
        labels[t] = ep->msg[t].label;
    return AC_OK;
}

int ac_episode_first_error_label(const ac_episode *ep, uint32_t *message)
{
    if (ep == NULL || message == NULL)
        return AC_E_INVALID_ARG;
    *message = ep->first_error;
    return AC_OK;
}

int ac_episode_known_count(const ac_episode *ep, uint32_t *count)
{
    if (ep == NULL || count == NULL)
        return AC_E_INVALID_ARG;
    *count = ep->n_known;
    return AC_OK;
}

int ac_episode_known_value(const ac_episode *ep, uint32_t k,
                           uint64_t *coalition, uint32_t words, double *value)
{
    if (ep == NULL || k >= ep->n_known || words != ep->known_words)
        return AC_E_INVALID_ARG;
    if (coalition != NULL)
        memcpy(coalition, ep->known_key + (size_t)k * words,
               words * sizeof *coalition);
    if (value != NULL)
        *value = ep->known_value[k];
    return AC_OK;
}
