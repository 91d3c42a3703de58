// Binlog positions and MariaDB GTID states (src/connectors/mysql/binlog_position.*).
#include <gtest/gtest.h>

#include "connectors/mysql/binlog_position.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::mysql;

TEST(BinlogPosition, TextRoundTripAndBadInput) {
  BinlogPosition p = BinlogPosition::parse("binlog.000042:1234");
  EXPECT_EQ(p.file, "binlog.000042");
  EXPECT_EQ(p.offset, 1234u);
  EXPECT_EQ(p.to_string(), "binlog.000042:1234");
  EXPECT_EQ(BinlogPosition::parse("my.host-bin.000001:4").file, "my.host-bin.000001");
  for (const char* bad : {"", "binlog.000042", ":12", "binlog.000042:", "binlog.000042:x", "binlog:12",
                          "binlog.00a:12", "binlog.000042:-1"}) {
    EXPECT_THROW(BinlogPosition::parse(bad), Error) << bad;
  }
}

// Versions grow in binlog order, also across a rotation to the next file, where the
// offset starts small again.
TEST(BinlogPosition, VersionsGrowAcrossRotation) {
  BinlogPosition end_of_first{"binlog.000007", 1073741000};
  BinlogPosition start_of_next{"binlog.000008", 4};
  EXPECT_LT(end_of_first, start_of_next);
  EXPECT_LT(end_of_first.version(), start_of_next.version());
  EXPECT_LT((BinlogPosition{"binlog.000008", 4}).version(), (BinlogPosition{"binlog.000008", 5}).version());
  EXPECT_LT((BinlogPosition{"binlog.999999", 4}), (BinlogPosition{"binlog.1000000", 4}));  // the suffix grows a digit
  EXPECT_EQ((BinlogPosition{"binlog.000001", 256}).version(), (uint64_t(1) << 32) | 256);
  EXPECT_THROW((BinlogPosition{"binlog.000001", uint64_t(1) << 33}).version(), Error);
}

TEST(GtidState, UpdateKeepsOnePerDomainSorted) {
  GtidState s = GtidState::parse("1-2-7,0-1-1500");
  EXPECT_EQ(s.to_string(), "0-1-1500,1-2-7");
  s.update({0, 3, 1501});
  s.update({5, 1, 1});
  EXPECT_EQ(s.to_string(), "0-3-1501,1-2-7,5-1-1");
  EXPECT_EQ(GtidState::parse("").to_string(), "");
  for (const char* bad : {"0-1", "0-1-x", "0-1-2,", ",0-1-2", "0-1-2,0-3-4", "a-b-c", "0--2"})
    EXPECT_THROW(GtidState::parse(bad), Error) << bad;
}
