// Resync (DESIGN.md section 2): destination tables rebuilt from the source into
// `<table>_resync` and swapped in atomically, while the pipe keeps streaming.
//
// Steps, and where a restart continues (the plan is pipe meta "resync"):
//  1. action (PipeRunner::resync): plan recorded, load statistics of its tables
//     cleared, state Snapshot.
//  2. load (Snapshot): `_resync` tables created from the current source schema
//     and pipe settings, loaded from a fresh snapshot (partitions checkpointed as
//     in any load). Streaming pipes keep applying changes to the old tables
//     meanwhile, but confirm the source only up to `replay_from`, so that the
//     changes from there can be read again.
//  3. load finished: the stream stops at its checkpoint (`stream_until`), state Resync.
//  4. Resync: changes replay_from..stream_until replayed into the `_resync` tables
//     (catch-up; replays are idempotent), rows soft-deleted in the old tables and
//     absent from the new ones carried over, every table swapped in by one
//     statement, old tables dropped; streaming continues from stream_until.
// A replication slot that is gone (pipe Failed) is recreated by a whole-pipe
// resync: the load then reads at the new slot's exported snapshot.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api/destination.h"
#include "core/test_hooks.h"
#include "core/spec.h"

namespace ferry {

// Also records tables being added to a streaming pipe (pipe meta kAddingMeta):
// `tables` and `replay_from` (changes from there are replayed into them after their load).
inline constexpr const char* kAddingMeta = "adding";

struct ResyncPlan {
  std::vector<std::string> tables;  // source tables being rebuilt
  std::string replay_from;          // stream position the catch-up starts at ("" : no stream)
  std::string stream_until;         // where the stream stopped when the load finished
  bool new_stream = false;          // the stream was lost: a new one starts with the load
  // The destination republishes (a log): the snapshot goes into the targets themselves
  // while streaming goes on into them; no `_resync` tables, catch-up or swap.
  bool in_place = false;
  // EXCHANGE swaps: target -> identity of its rebuilt table, recorded before exchanging,
  // so that a restart can tell whether the exchange happened.
  std::map<std::string, std::string> rebuilt_identity;
};

std::string resync_plan_to_json(const ResyncPlan& plan);
// nullopt for "" (no resync in progress); throws Permanent for text that is not a plan.
std::optional<ResyncPlan> resync_plan_from_json(const std::string& text);

// `<target>_resync`
std::string resync_table_name(const std::string& target);

// The source tables of `pipe` that `table` names: a source table ("public.orders"),
// its name without schema ("orders") or a destination table; every table when
// `table` is empty. Throws Config naming the pipe's tables when none matches.
std::vector<std::string> resync_tables(const PipeSpec& pipe, const std::string& table);

// Whether `target`'s rebuilt copy still waits to be swapped in. First finishes or
// undoes a rename swap a crash interrupted (the target always exists afterwards
// when either copy does).
bool resync_swap_pending(Destination& dest, const std::string& target, const ResyncPlan& plan);

// Swaps the rebuilt copies of `targets` in (all pending) and drops the old tables:
// with EXCHANGE TABLES where the destination has it (identities recorded in
// `plan` and saved through `save` first), else with one multi-table RENAME
// (target -> ferry_old_<target>, target_resync -> target). Readers never find
// a target missing. `hooks` (may be null): crash point "resync-swapped" after the swap.
void swap_in_resync_tables(Destination& dest, const std::vector<std::string>& targets, ResyncPlan& plan,
                           const std::function<void(const ResyncPlan&)>& save, const TestHooks* hooks = nullptr);

// Drops what a resync of `target` may have left: ferry_old_<target> after an
// interrupted rename swap (restoring the target first), and `<target>_resync`.
void remove_resync_leftovers(Destination& dest, const std::string& target);

}  // namespace ferry
