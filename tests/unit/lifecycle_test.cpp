#include <gtest/gtest.h>

#include <map>
#include <set>

#include "pipe/lifecycle.h"

using namespace ferry;
using S = PipeState;
using A = PipeAction;

namespace {
// DESIGN.md section 2, written out independently of the implementation.
const std::map<A, std::set<S>> kAllowedFrom = {
    {A::Pause, {S::Running, S::Snapshot}},
    {A::Resume, {S::Paused, S::Failed}},
    {A::Resync, {S::Running, S::Paused, S::Completed, S::Failed}},
    {A::Reset, {S::Paused, S::Failed}},
    {A::AddTables, {S::Running, S::Paused}},
    {A::RemoveTables, {S::Running, S::Paused}},
    {A::Delete, {S::Provisioning, S::Setup, S::Snapshot, S::Running, S::Pausing, S::Paused, S::Modifying,
                 S::Resync, S::Completed, S::Failed}},
};

const std::map<A, std::optional<S>> kNextState = {
    {A::Pause, S::Pausing},         {A::Resync, S::Snapshot},      {A::Reset, S::Setup},
    {A::AddTables, S::Snapshot},    {A::RemoveTables, S::Modifying}, {A::Delete, std::nullopt},
};

struct Pair {
  S state;
  A action;
};
void PrintTo(const Pair& p, std::ostream* os) { *os << to_string(p.state) << "/" << to_string(p.action); }
std::vector<Pair> all_pairs() {
  std::vector<Pair> v;
  for (S s : kAllStates)
    for (A a : kAllActions) v.push_back({s, a});
  return v;
}
}  // namespace

class EveryStateActionPair : public ::testing::TestWithParam<Pair> {};

TEST_P(EveryStateActionPair, AcceptedOrRefusedAsTheDesignSays) {
  auto [state, action] = GetParam();
  bool expected = kAllowedFrom.at(action).count(state) > 0;
  EXPECT_EQ(action_allowed(action, state), expected);
  for (PipeMode mode : {PipeMode::Snapshot, PipeMode::Cdc, PipeMode::SnapshotCdc, PipeMode::Incremental}) {
    ActionOutcome out = apply_action(action, state, mode);
    if (expected) {
      ASSERT_TRUE(std::holds_alternative<Accepted>(out)) << std::get<Refusal>(out).message;
      auto next = std::get<Accepted>(out).next;
      if (action == A::Resume) {
        EXPECT_EQ(next, mode == PipeMode::Snapshot ? S::Snapshot : S::Running);
      } else {
        EXPECT_EQ(next, kNextState.at(action));
      }
    } else {
      ASSERT_TRUE(std::holds_alternative<Refusal>(out));
      const std::string& msg = std::get<Refusal>(out).message;
      EXPECT_NE(msg.find(to_string(state)), std::string::npos) << msg;
      EXPECT_NE(msg.find(to_string(action)), std::string::npos) << msg;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, EveryStateActionPair, ::testing::ValuesIn(all_pairs()),
                         [](const ::testing::TestParamInfo<Pair>& info) {
                           std::string n = std::string(to_string(info.param.state)) + "_" + to_string(info.param.action);
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Lifecycle, StateNamesRoundTrip) {
  for (S s : kAllStates) EXPECT_EQ(pipe_state_from_string(to_string(s)), s);
  EXPECT_FALSE(pipe_state_from_string("running"));  // names are exact
  for (A a : kAllActions) EXPECT_EQ(pipe_action_from_string(to_string(a)), a);
  EXPECT_FALSE(pipe_action_from_string("explode"));
}

TEST(Lifecycle, RefusalNamesStateAndAlternatives) {
  auto out = apply_action(A::Reset, S::Running, PipeMode::SnapshotCdc);
  ASSERT_TRUE(std::holds_alternative<Refusal>(out));
  EXPECT_EQ(std::get<Refusal>(out).message,
            "cannot reset a pipe in state Running; reset is allowed from: Paused, Failed");
}

TEST(Lifecycle, SnapshotPipeProgression) {
  auto m = PipeMode::Snapshot;
  EXPECT_EQ(apply_event(PipeEvent::Provisioned, S::Provisioning, m), S::Setup);
  EXPECT_EQ(apply_event(PipeEvent::SetupDone, S::Setup, m), S::Snapshot);
  EXPECT_EQ(apply_event(PipeEvent::SnapshotDone, S::Snapshot, m), S::Completed);
}

TEST(Lifecycle, SnapshotCdcPipeProgression) {
  auto m = PipeMode::SnapshotCdc;
  EXPECT_EQ(apply_event(PipeEvent::SetupDone, S::Setup, m), S::Snapshot);
  EXPECT_EQ(apply_event(PipeEvent::SnapshotDone, S::Snapshot, m), S::Running);
}

TEST(Lifecycle, CdcAndIncrementalSkipSnapshot) {
  EXPECT_EQ(apply_event(PipeEvent::SetupDone, S::Setup, PipeMode::Cdc), S::Running);
  EXPECT_EQ(apply_event(PipeEvent::SetupDone, S::Setup, PipeMode::Incremental), S::Running);
}

TEST(Lifecycle, PauseResyncModifyEvents) {
  auto m = PipeMode::SnapshotCdc;
  EXPECT_EQ(apply_event(PipeEvent::Paused, S::Pausing, m), S::Paused);
  EXPECT_EQ(apply_event(PipeEvent::Paused, S::Running, m), std::nullopt);
  EXPECT_EQ(apply_event(PipeEvent::ResyncLoadDone, S::Snapshot, m), S::Resync);
  EXPECT_EQ(apply_event(PipeEvent::SwapDone, S::Resync, m), S::Running);
  EXPECT_EQ(apply_event(PipeEvent::SwapDone, S::Resync, PipeMode::Snapshot), S::Completed);
  EXPECT_EQ(apply_event(PipeEvent::ModifyDone, S::Modifying, m, S::Paused), S::Paused);
  EXPECT_EQ(apply_event(PipeEvent::ModifyDone, S::Modifying, m, S::Running), S::Running);
  EXPECT_EQ(apply_event(PipeEvent::ModifyDone, S::Modifying, m, S::Failed), std::nullopt);
}

TEST(Lifecycle, FailureFromWorkingStatesOnly) {
  for (S s : kAllStates) {
    auto next = apply_event(PipeEvent::Failed, s, PipeMode::SnapshotCdc);
    if (s == S::Failed || s == S::Completed || s == S::Paused) EXPECT_FALSE(next) << to_string(s);
    else EXPECT_EQ(next, S::Failed) << to_string(s);
  }
}

TEST(Lifecycle, EventsOutOfOrderAreRejected) {
  EXPECT_FALSE(apply_event(PipeEvent::SnapshotDone, S::Setup, PipeMode::Snapshot));
  EXPECT_FALSE(apply_event(PipeEvent::SetupDone, S::Running, PipeMode::Cdc));
  EXPECT_FALSE(apply_event(PipeEvent::Provisioned, S::Setup, PipeMode::Cdc));
}

TEST(Lifecycle, ResumeTarget) {
  EXPECT_EQ(state_after_resume(PipeMode::Snapshot, false), S::Snapshot);
  EXPECT_EQ(state_after_resume(PipeMode::Snapshot, true), S::Completed);
  EXPECT_EQ(state_after_resume(PipeMode::SnapshotCdc, false), S::Snapshot);
  EXPECT_EQ(state_after_resume(PipeMode::SnapshotCdc, true), S::Running);
  EXPECT_EQ(state_after_resume(PipeMode::Cdc, false), S::Running);
}
