// pipe/capability_check.h: modes asked from connector capabilities, per connector type.
#include "pipe/capability_check.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(CapabilityCheck, StreamingModesNeedAChangeStream) {
  SourceCapabilities snapshot_only{.incremental = true};
  DestinationCapabilities applies{.apply_changes = true};
  for (PipeMode m : {PipeMode::Cdc, PipeMode::SnapshotCdc})
    EXPECT_EQ(source_mode_problem(m, snapshot_only, PeerType::SQLite), "streams changes, which a sqlite source cannot");
  EXPECT_EQ(source_mode_problem(PipeMode::Snapshot, snapshot_only, PeerType::SQLite), "");
  EXPECT_EQ(source_mode_problem(PipeMode::Incremental, snapshot_only, PeerType::SQLite), "");
  EXPECT_EQ(source_mode_problem(PipeMode::Incremental, SourceCapabilities{}, PeerType::Postgres),
            "copies incrementally, which a postgres source cannot");
  EXPECT_EQ(destination_mode_problem(PipeMode::Cdc, applies, PeerType::ClickHouse), "");
  EXPECT_EQ(destination_mode_problem(PipeMode::SnapshotCdc, DestinationCapabilities{}, PeerType::Postgres),
            "applies changes, which a postgres destination cannot");
  EXPECT_EQ(destination_mode_problem(PipeMode::Snapshot, DestinationCapabilities{}, PeerType::Postgres), "");
}

// The per-type table the config check uses agrees with what the connectors report.
TEST(CapabilityCheck, PerTypeCapabilitiesMatchTheConnectors) {
  auto pg = source_capabilities(PeerType::Postgres);
  ASSERT_TRUE(pg);
  EXPECT_TRUE(pg->change_stream && pg->incremental && pg->positions && pg->column_ranges);
  auto lite = source_capabilities(PeerType::SQLite);
  ASSERT_TRUE(lite);
  EXPECT_FALSE(lite->change_stream);
  EXPECT_TRUE(lite->incremental);
  auto ch_src = source_capabilities(PeerType::ClickHouse);
  ASSERT_TRUE(ch_src);
  EXPECT_FALSE(ch_src->change_stream);
  auto ch = destination_capabilities(PeerType::ClickHouse);
  ASSERT_TRUE(ch);
  EXPECT_TRUE(ch->apply_changes && ch->stale_rows && ch->table_admin);
  EXPECT_FALSE(destination_capabilities(PeerType::SQLite));

  PeerSpec lite_peer;
  lite_peer.name = "lite";
  lite_peer.type = PeerType::SQLite;
  lite_peer.dsn = "/nonexistent.db";  // not opened: capabilities ask no server
  EXPECT_FALSE(make_source(lite_peer)->capabilities().change_stream);
}

}  // namespace
}  // namespace ferry
