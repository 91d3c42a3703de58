// plan_pipe_config (pipe/config_change.h): what a changed config asks of an
// existing pipe, decided from its catalog record alone.
#include "pipe/config_change.h"

#include <gtest/gtest.h>

#include "pipe/spec_json.h"
#include "../shared/pipe_spec.h"

namespace ferry {
namespace {

PipeSpec pipe_with(std::vector<std::string> tables, PipeMode mode = PipeMode::SnapshotCdc) {
  return test::pipe_spec("p", mode, tables);
}

PipeRecord record_of(const PipeSpec& spec, PipeState state) {
  PipeRecord r;
  r.name = spec.name;
  r.spec_json = pipe_spec_to_json(spec);
  r.state = state;
  return r;
}

TEST(ConfigChange, NewPipeIsCreatedAndTheSameSpecIsUnchanged) {
  PipeSpec spec = pipe_with({"public.a"});
  EXPECT_EQ(plan_pipe_config(std::nullopt, spec).kind, ConfigChangePlan::Create);
  EXPECT_EQ(plan_pipe_config(record_of(spec, PipeState::Running), spec).kind, ConfigChangePlan::Unchanged);
}

TEST(ConfigChange, SettingsOnlyUpdateTheSpecInAnyState) {
  PipeSpec old_spec = pipe_with({"public.a"});
  PipeSpec new_spec = old_spec;
  new_spec.settings.batch_size = 5;
  for (PipeState s : {PipeState::Running, PipeState::Snapshot, PipeState::Failed, PipeState::Completed})
    EXPECT_EQ(plan_pipe_config(record_of(old_spec, s), new_spec).kind, ConfigChangePlan::UpdateSpec) << to_string(s);
}

TEST(ConfigChange, TableChangesNameTheTablesWhereTheStateAllowsThem) {
  PipeSpec old_spec = pipe_with({"public.a", "public.b"});
  PipeSpec new_spec = pipe_with({"public.a", "public.c"});
  for (PipeState s : {PipeState::Running, PipeState::Paused}) {
    ConfigChangePlan plan = plan_pipe_config(record_of(old_spec, s), new_spec);
    EXPECT_EQ(plan.kind, ConfigChangePlan::ChangeTables) << to_string(s);
    EXPECT_EQ(plan.tables.added, std::vector<std::string>{"public.c"});
    EXPECT_EQ(plan.tables.removed, std::vector<std::string>{"public.b"});
  }
}

TEST(ConfigChange, TableChangesAreRefusedInOtherStatesNamingTheState) {
  PipeSpec old_spec = pipe_with({"public.a"});
  PipeSpec added = pipe_with({"public.a", "public.b"});
  ConfigChangePlan plan = plan_pipe_config(record_of(old_spec, PipeState::Snapshot), added);
  EXPECT_EQ(plan.kind, ConfigChangePlan::Refuse);
  EXPECT_NE(plan.refusal.find("Snapshot"), std::string::npos) << plan.refusal;
  // Removing only is the other action, checked the same way.
  plan = plan_pipe_config(record_of(added, PipeState::Resync), old_spec);
  EXPECT_EQ(plan.kind, ConfigChangePlan::Refuse);
  EXPECT_NE(plan.refusal.find("Resync"), std::string::npos) << plan.refusal;
}

}  // namespace
}  // namespace ferry
