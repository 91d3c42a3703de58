// The pure steps of ferry compare: which buckets differ, and which keys within a bucket.
#include <gtest/gtest.h>

#include "core/error.h"
#include "pipe/compare.h"

using namespace ferry;

TEST(Compare, DifferingBucketsAreUnequalOrOneSided) {
  std::vector<BucketDigest> s{{0, 10, 5}, {1, 10, 6}, {2, 3, 7}, {4, 1, 1}};
  std::vector<BucketDigest> d{{0, 10, 5}, {1, 10, 9}, {2, 4, 7}, {3, 1, 1}};
  EXPECT_EQ(differing_buckets(s, d), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(differing_buckets(s, s).empty());
  EXPECT_TRUE(differing_buckets({}, {}).empty());
}

TEST(Compare, KeyDifferencesNameMissingExtraAndChangedKeys) {
  std::vector<std::string> names{"a", "b"};
  std::vector<KeyDigest> s{{{"1", "x"}, 10}, {{"2", std::nullopt}, 20}, {{"3", "z"}, 30}};
  std::vector<KeyDigest> d{{{"1", "x"}, 10}, {{"2", std::nullopt}, 21}, {{"4", "w"}, 40}};
  EXPECT_EQ(key_differences(names, s, d),
            (std::vector<KeyDifference>{{"changed", "a=2, b=NULL"}, {"missing", "a=3, b=z"}, {"extra", "a=4, b=w"}}));
  EXPECT_TRUE(key_differences(names, s, s).empty());
}

TEST(Compare, LevelsParseAndBadOnesAreNamed) {
  EXPECT_EQ(parse_compare_level("objects"), CompareLevel::Objects);
  EXPECT_EQ(parse_compare_level("count"), CompareLevel::Count);
  EXPECT_EQ(parse_compare_level("content"), CompareLevel::Content);
  try {
    parse_compare_level("rows");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("'rows'"), std::string::npos);
  }
}
