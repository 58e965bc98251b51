/*
 * One direction of a link, as a pipeline (DESIGN.md §4, notes/link-models.md):
 *
 *   scripted faults -> duplicate -> loss -> corrupt -> size limit ->
 *   queue limit -> token-bucket shaper -> serialization at line rate ->
 *   propagation delay + jitter -> delivery
 *
 * Random draws: when a frame enters, every enabled impairment draws its fixed
 * number of values from its own stream, whatever happens to the frame later
 * (even if the link is down or a fault drops it). The fate of the n-th frame
 * under one impairment therefore depends only on n and the seed, and turning
 * another impairment on or off never shifts it. Duplicate copies draw from a
 * separate stream (and the loss model judges them without changing its
 * state), so duplication does not move which originals are lost.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/sim_internal.h"

#define NS_PER_SEC 1000000000ull

/* Up and captured at neither end: what sim_linkdir.quiet says. */
static bool link_quiet(const sim_link *l) {
    return l->up && !l->capture[0] && !l->capture[1];
}

/* The link of a direction, and the direction's side (0 = a->b, the sender a): read only when the
 * direction is not quiet (sim_linkdir). */
static sim_link *link_of(sim *s, const sim_linkdir *ld) {
    return &s->links[ld->target >> 1];
}

static uint32_t dir_of(const sim_linkdir *ld) {
    return ld->target & 1u;
}

void sim_link_watched(sim_link *l) {
    l->d[0].quiet = l->d[1].quiet = link_quiet(l);
}

void sim_linkdir_init(sim *s, sim_link *l, uint32_t dir) {
    sim_linkdir *ld = &l->d[dir];
    ld->target = (l->id << 1) | dir;
    ld->to_node = l->node[1 - dir];
    ld->to_port = l->port[1 - dir];
    sim_loss_init_none(&ld->loss);
    ld->wake_at = SIM_NEVER;
    sim_rng_seed(&ld->rng_duplicate, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_DUPLICATE));
    sim_rng_seed(&ld->rng_loss, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_LOSS));
    sim_rng_seed(&ld->rng_corrupt, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_CORRUPT));
    sim_rng_seed(&ld->rng_jitter, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_JITTER));
    sim_rng_seed(&ld->rng_reorder, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_REORDER));
    sim_rng_seed(&ld->rng_fault, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_FAULT));
    sim_rng_seed(&ld->rng_copy, s->seed, sim_stream_id(l->id, dir, SIM_STREAM_COPY));
    sim_linkdir_configured(ld);
    ld->quiet = link_quiet(l);
}

/* Whether a frame entering ld meets no impairment: nothing to draw (duplicate, loss, corrupt,
 * jitter, reorder), no scripted fault, no size limit, and no queue (no shaper, no line rate). */
static bool is_plain(const sim_linkdir *ld) {
    return !ld->duplicate && ld->loss.kind == SIM_LOSS_NONE && !ld->corrupt && !ld->jitter_ns &&
           !ld->reorder && !ld->nfaults && !ld->size_limit && !ld->has_tbf && !ld->rate_bps;
}

void sim_linkdir_configured(sim_linkdir *ld) {
    ld->plain = is_plain(ld);
}

void sim_linkdir_destroy(sim *s, sim_linkdir *ld) {
    while (ld->dq_head) {
        sim_frame *next = ld->dq_head->next;
        sim_frame_free(s, ld->dq_head);
        ld->dq_head = next;
    }
    ld->dq_tail = NULL;
    while (ld->q_head) {
        sim_frame *next = ld->q_head->next;
        sim_frame_free(s, ld->q_head);
        ld->q_head = next;
    }
    for (uint32_t i = 0; i < ld->nfaults; i++) {
        sim_fault_free(&ld->faults[i]);
    }
    free(ld->faults);
    ld->faults = NULL;
    ld->nfaults = 0;
}

static sim_frame *or_die(sim_frame *f, size_t len) {
    if (!f) {
        /* A frame silently vanishing would be a lie in the counters. */
        fprintf(stderr, "tern sim: out of memory for a %zu-byte frame\n", len);
        abort();
    }
    return f;
}

/* Frames the queue holds before dropping: configured, or sized from the rate and delay. */
static uint64_t queue_limit(const sim_linkdir *ld) {
    if (ld->queue_limit) {
        return ld->queue_limit;
    }
    unsigned __int128 bytes_per_sec = ld->rate_bps / 8;
    if (ld->has_tbf && (bytes_per_sec == 0 || (uint64_t)ld->tbf.rate < bytes_per_sec)) {
        bytes_per_sec = (uint64_t)ld->tbf.rate;
    }
    unsigned __int128 bdp = bytes_per_sec * (ld->delay_ns + ld->jitter_ns) / NS_PER_SEC;
    unsigned __int128 frames = 2 * bdp / 1514;
    return frames > 1000 ? (uint64_t)(frames > UINT32_MAX ? UINT32_MAX : frames) : 1000;
}

static void wake(sim *s, sim_linkdir *ld, uint64_t at) {
    if (ld->wake_at == at) {
        return;
    }
    ld->wake_at = at;
    sim_schedule(s, at, EV_LINK_SERVICE, ld->target, 0, NULL);
}

/* The frame's last bit leaves at t_done; it arrives after the propagation delay. */
static void transmit(sim *s, sim_linkdir *ld, sim_frame *f, uint64_t t_done) {
    uint64_t arrival;
    if (f->reorder) {
        ld->c.reordered++;
        arrival = t_done;
    } else {
        arrival = t_done + (uint64_t)((int64_t)ld->delay_ns + f->jitter);
        /* Jitter alone never reorders in Tern (unlike netem): a frame leaves
         * no earlier than the one before it, unless reordering is asked for. */
        if (!ld->jitter_reorders && arrival < ld->last_arrival) {
            arrival = ld->last_arrival;
        }
        ld->last_arrival = arrival;
    }
    /* A scripted delay may be overtaken by later frames: that is its purpose. */
    arrival += f->extra_delay;
    sim_schedule_delivery(s, ld, f, arrival);
}

static uint64_t serialization_ns(const sim_linkdir *ld, uint32_t len) {
    if (!ld->rate_bps) {
        return 0;
    }
    unsigned __int128 bits_ns = (unsigned __int128)len * 8 * NS_PER_SEC;
    return (uint64_t)((bits_ns + ld->rate_bps - 1) / ld->rate_bps);
}

void sim_linkdir_service(sim *s, sim_linkdir *ld) {
    while (ld->q_head) {
        uint64_t now = s->now;
        if (ld->wire_free > now) {
            wake(s, ld, ld->wire_free);
            return;
        }
        sim_frame *f = ld->q_head;
        if (ld->has_tbf) {
            uint64_t wait = sim_tbf_try_send(&ld->tbf, now, f->len);
            if (wait) {
                if (!f->shaper_counted) {
                    f->shaper_counted = true;
                    ld->c.shaper_delayed++;
                }
                wake(s, ld, now + wait);
                return;
            }
        }
        ld->q_head = f->next;
        if (!ld->q_head) {
            ld->q_tail = NULL;
        }
        ld->q_len--;
        f->next = NULL;
        uint64_t ser = serialization_ns(ld, f->len);
        ld->wire_free = now + ser;
        transmit(s, ld, f, now + ser);
    }
}

/* Size limit, queue limit and shaper admission, then the queue (or straight on). */
/* Note in the sender's capture what happened to frame f (if it was captured there). */
static void note(sim *s, sim_linkdir *ld, const sim_frame *f, const char *what) {
    sim_capture_note(s, link_of(s, ld), dir_of(ld), f->cap_no, what);
}

static void admit(sim *s, sim_linkdir *ld, sim_frame *f) {
    if (ld->size_limit && f->len > ld->size_limit) {
        ld->c.dropped_size++;
        note(s, ld, f, "dropped size-limit");
        sim_frame_free(s, f);
        return;
    }
    if (!ld->has_tbf && !ld->rate_bps) {
        transmit(s, ld, f, s->now); /* an unlimited line never queues */
        return;
    }
    if (ld->q_len >= queue_limit(ld)) {
        ld->c.dropped_queue++;
        note(s, ld, f, "dropped queue-full");
        sim_frame_free(s, f);
        return;
    }
    if (ld->has_tbf) {
        sim_tbf_verdict v = sim_tbf_admit(&ld->tbf, f->len);
        if (v != SIM_TBF_ADMITTED) {
            if (v == SIM_TBF_OVERSIZE) {
                ld->c.dropped_shaper_oversize++;
                note(s, ld, f, "dropped shaper-oversize");
            } else {
                ld->c.dropped_shaper_limit++;
                note(s, ld, f, "dropped shaper-limit");
            }
            sim_frame_free(s, f);
            return;
        }
    }
    if (ld->q_tail) {
        ld->q_tail->next = f;
    } else {
        ld->q_head = f;
    }
    ld->q_tail = f;
    ld->q_len++;
    if (ld->q_len > ld->c.queue_max) {
        ld->c.queue_max = ld->q_len;
    }
    if (ld->wake_at == SIM_NEVER) {
        sim_linkdir_service(s, ld);
    }
}

/* The per-frame draws of the random impairments (fixed count per enabled impairment). */
typedef struct frame_fate {
    bool lost;
    bool corrupt;
    uint64_t corrupt_bit;
    int64_t jitter;
    bool reorder;
} frame_fate;

static void draw_fate(sim_linkdir *ld, size_t len, sim_rng *corrupt_rng, sim_rng *jitter_rng,
                      sim_rng *reorder_rng, frame_fate *fate) {
    if (ld->corrupt) {
        fate->corrupt = sim_prob_hit(ld->corrupt, sim_rng_u32(corrupt_rng));
        fate->corrupt_bit = sim_rng_below(corrupt_rng, (uint64_t)len * 8);
    }
    if (ld->jitter_ns) {
        fate->jitter =
            (int64_t)sim_rng_below(jitter_rng, 2 * ld->jitter_ns + 1) - (int64_t)ld->jitter_ns;
    }
    if (ld->reorder) {
        fate->reorder = sim_prob_hit(ld->reorder, sim_rng_u32(reorder_rng));
    }
}

static void apply_fate(sim *s, sim_linkdir *ld, sim_frame *f, const frame_fate *fate) {
    if (fate->lost) {
        ld->c.dropped_loss++;
        note(s, ld, f, "dropped loss");
        sim_frame_free(s, f);
        return;
    }
    if (fate->corrupt) {
        /* Shared bytes are never changed: another receiver reads them too. */
        f = or_die(sim_frame_private(s, f), f->len);
        f->bytes[fate->corrupt_bit / 8] ^= (uint8_t)(1u << (fate->corrupt_bit % 8));
        ld->c.corrupted++;
        note(s, ld, f, "corrupted");
    }
    f->jitter = fate->jitter;
    f->reorder = fate->reorder;
    admit(s, ld, f);
}

void sim_linkdir_enter(sim *s, sim_linkdir *ld, sim_frame *f) {
    sim_link *l = link_of(s, ld); /* its lines are read only when the direction is not quiet */
    uint32_t dir = dir_of(ld);
    size_t len = f->len;
    sim_linkdir_count(&ld->n.frames_in, &ld->c.frames_in, 1);
    sim_linkdir_count(&ld->n.bytes_in, &ld->c.bytes_in, (uint32_t)len);
#ifdef SIM_PLAIN_CHECK
    if (ld->plain != is_plain(ld)) {
        /* A setter forgot sim_linkdir_configured: frames would skip an impairment (or draw). */
        fprintf(stderr, "tern sim: link %u direction %u: kept plain=%d, configuration says %d\n",
                l->id, dir, ld->plain, is_plain(ld));
        abort();
    }
    if (ld->quiet != link_quiet(l)) {
        /* A change of up or of a capture without sim_link_watched: frames would skip it. */
        fprintf(stderr, "tern sim: link %u direction %u: kept quiet=%d, the link says %d\n", l->id,
                dir, ld->quiet, link_quiet(l));
        abort();
    }
#endif
    /* The sender's end sees the frame as it leaves; the direction is also the sender's side. */
    uint64_t cap_no =
        !ld->quiet && l->capture[dir] ? sim_capture_write(s, l, dir, s->now, f->bytes, len) : 0;
    if (ld->plain && (ld->quiet || l->up)) {
        /* Nothing to draw, fault, limit or queue: what the pipeline below does with such a frame
         * (apply_fate with an empty fate, admit on an unlimited line), without asking each
         * impairment. */
        f->cap_no = cap_no;
        f->jitter = 0;
        f->reorder = false;
        transmit(s, ld, f, s->now);
        return;
    }

    bool duplicate = ld->duplicate && sim_prob_hit(ld->duplicate, sim_rng_u32(&ld->rng_duplicate));
    frame_fate fate = {0};
    fate.lost = ld->loss.kind != SIM_LOSS_NONE && sim_loss_decide(&ld->loss, &ld->rng_loss);
    draw_fate(ld, len, &ld->rng_corrupt, &ld->rng_jitter, &ld->rng_reorder, &fate);

    if (!l->up) {
        ld->c.dropped_down++;
        sim_capture_note(s, l, dir, cap_no, "dropped link-down");
        sim_frame_free(s, f);
        return;
    }
    f->cap_no = cap_no;
    /* This frame's number, from 1 (the faults select by it). */
    uint64_t index = ld->c.frames_in + ld->n.frames_in;
    bool fault_duplicate = false;
    uint64_t fault_corrupted = ld->c.fault_corrupted;
    if (ld->nfaults) {
        /* A fault may corrupt the bytes: they must be this link's own. */
        f = or_die(sim_frame_private(s, f), len);
    }
    if (ld->nfaults &&
        !sim_faults_apply(s, ld, index, f->bytes, len, &fault_duplicate, &f->extra_delay)) {
        ld->c.dropped_fault++;
        note(s, ld, f, "dropped fault");
        sim_frame_free(s, f);
        return;
    }
    if (ld->c.fault_corrupted != fault_corrupted) {
        note(s, ld, f, "corrupted fault");
    }
    if (f->extra_delay) {
        note(s, ld, f, "delayed fault");
    }
    sim_frame *copy = NULL;
    if (duplicate || fault_duplicate) {
        copy = or_die(sim_frame_share(s, f), len); /* private again if corrupted */
        copy->extra_delay = f->extra_delay;
        copy->cap_no = cap_no;
        note(s, ld, f, duplicate ? "duplicated" : "duplicated fault");
        if (duplicate) {
            ld->c.duplicated++;
        }
    }
    apply_fate(s, ld, f, &fate);
    if (copy) {
        /* The copy goes through the rest of the pipeline on its own, with
         * duplication off for it and draws from the copy stream. */
        frame_fate cf = {0};
        cf.lost = sim_loss_judge_copy(&ld->loss, &ld->rng_copy);
        draw_fate(ld, len, &ld->rng_copy, &ld->rng_copy, &ld->rng_copy, &cf);
        apply_fate(s, ld, copy, &cf);
    }
}

void sim_linkdir_deliver(sim *s, sim_linkdir *ld, sim_frame *f) {
    sim_link *l = link_of(s, ld); /* its lines are read only when the direction is not quiet */
    if (!ld->quiet && !l->up) {
        ld->c.dropped_down++;
        note(s, ld, f, "dropped link-down");
        sim_frame_free(s, f);
        return;
    }
    sim_linkdir_count(&ld->n.delivered, &ld->c.delivered, 1);
    sim_linkdir_count(&ld->n.bytes_delivered, &ld->c.bytes_delivered, (uint32_t)f->len);
    /* The receiver's end sees it as it arrives. */
    if (!ld->quiet && l->capture[1u - dir_of(ld)]) {
        (void)sim_capture_write(s, l, 1u - dir_of(ld), s->now, f->bytes, f->len);
    }
    sim_node_id to = ld->to_node;
    sim_node *n = &s->nodes[to];
    n->progressed = true;
    n->c.rx_frames++;
    n->c.rx_bytes += f->len;
    bool moved = false;
    if (n->ops.input) {
        /* A node sending these very bytes on shares them, or takes f itself on
         * (sim_node_send). */
        sim_frame *outer = s->delivering;
        bool outer_moved = s->delivering_moved;
        s->delivering = f;
        s->delivering_moved = false;
        sim_node_prefetch_out(s, n);
        n->ops.input(n->state, s->now, ld->to_port, f->bytes, f->len);
        moved = s->delivering_moved;
        s->delivering = outer;
        s->delivering_moved = outer_moved;
    }
    if (!moved) {
        sim_frame_free(s, f);
    }
    /* The node may have added nodes or links (moving the arrays): look it up again. */
    sim_node_reschedule(s, &s->nodes[to]);
}
