// A CopyStream over chunks of COPY text held in memory, for tests of destinations.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "connectors/api/copy_stream.h"

namespace ferry::test {

class ChunksStream : public CopyStream {
 public:
  explicit ChunksStream(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  bool next_chunk(std::string& out) override {
    if (i_ >= chunks_.size()) return false;
    out += chunks_[i_++];
    return true;
  }

 private:
  std::vector<std::string> chunks_;
  size_t i_ = 0;
};

}  // namespace ferry::test
