#include "pipe/config_change.h"

#include <variant>

#include "pipe/lifecycle.h"
#include "pipe/runner.h"
#include "pipe/spec_json.h"

namespace ferry {

ConfigChangePlan plan_pipe_config(const std::optional<PipeRecord>& current, const PipeSpec& new_spec) {
  ConfigChangePlan plan;
  if (!current) {
    plan.kind = ConfigChangePlan::Create;
    return plan;
  }
  if (current->spec_json == pipe_spec_to_json(new_spec)) {
    plan.kind = ConfigChangePlan::Unchanged;
    return plan;
  }
  PipeSpec old_spec = pipe_spec_from_json(current->spec_json);
  plan.tables = table_list_change(old_spec, new_spec);
  if (plan.tables.empty()) {
    plan.kind = ConfigChangePlan::UpdateSpec;
    return plan;
  }
  PipeAction action = plan.tables.added.empty() ? PipeAction::RemoveTables : PipeAction::AddTables;
  ActionOutcome allowed = apply_action(action, current->state, new_spec.mode);
  if (auto* r = std::get_if<Refusal>(&allowed)) {
    plan.kind = ConfigChangePlan::Refuse;
    plan.refusal = r->message;
    return plan;
  }
  plan.kind = ConfigChangePlan::ChangeTables;
  return plan;
}

namespace {

ConfigChangeOutcome refused(ConfigChangeOutcome::Step step, std::string message) {
  ConfigChangeOutcome out;
  out.result = ConfigChangeOutcome::Refused;
  out.refused_by = step;
  out.message = std::move(message);
  return out;
}

}  // namespace

ConfigChangeOutcome apply_pipe_config(Catalog& catalog, const PipeSpec& new_spec, const PeerSpec& source,
                                      const PeerSpec& destination, const ConfigChangeOptions& options) {
  std::optional<PipeRecord> current = catalog.get_pipe(new_spec.name);
  ConfigChangePlan plan = plan_pipe_config(current, new_spec);
  const std::string json = pipe_spec_to_json(new_spec);
  ConfigChangeOutcome out;

  if (plan.kind == ConfigChangePlan::Unchanged) return out;
  if (plan.kind == ConfigChangePlan::Create) {
    PrecheckReport report = run_precheck(new_spec, source, destination, /*new_pipe=*/true);
    if (!report.ok(options.confirm)) {
      out = refused(ConfigChangeOutcome::Precheck, report.failed() ? "the pre-check failed"
                                                                   : "the pre-check has warnings");
      out.precheck = std::move(report);
      return out;
    }
    catalog.create_pipe(new_spec.name, json, options.created_reason);
    out.result = ConfigChangeOutcome::Created;
    return out;
  }

  // A changed setting the destination cannot honour is refused before anything changes.
  std::string problem = destination_settings_problem(new_spec, source, destination);
  if (!problem.empty()) return refused(ConfigChangeOutcome::DestinationSettings, problem);
  if (plan.kind == ConfigChangePlan::Refuse) return refused(ConfigChangeOutcome::TableChange, plan.refusal);

  if (plan.kind == ConfigChangePlan::ChangeTables && options.before_table_change) options.before_table_change();
  catalog.update_pipe_spec(new_spec.name, json);
  out.result = ConfigChangeOutcome::Updated;
  if (plan.kind == ConfigChangePlan::UpdateSpec) return out;

  PipeRunner runner(catalog, new_spec, source, destination);
  ActionOutcome changed = runner.change_tables(plan.tables.added, plan.tables.removed);
  if (auto* r = std::get_if<Refusal>(&changed)) {
    catalog.update_pipe_spec(new_spec.name, current->spec_json);  // refused before it changed anything
    return refused(ConfigChangeOutcome::TableChange, r->message);
  }
  out.tables_changed = true;
  return out;
}

}  // namespace ferry
