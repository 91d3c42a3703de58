// libFuzzer target for the ClickHouse TabSeparated answer decoder (tsv_answer.h): the input
// is an answer body. Contract: nothing is thrown (the functions throw no errors), and each
// decoded row has the field count split_tsv_line gives its line; the sanitizers catch every
// read outside the input.
//   scripts/fuzz tsv_answer_fuzz    (corpus: tests/fuzz/corpus/tsv_answer_fuzz)
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/clickhouse/tsv_answer.h"
#include "fuzz_contract.h"

using namespace ferry;
using namespace ferry::clickhouse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<char> copy(data, data + size);
  std::string_view answer(copy.data(), copy.size());
  std::vector<std::vector<std::string>> rows = tsv_rows(answer);
  size_t line_start = 0, row = 0;
  while (line_start < answer.size() && row < rows.size()) {
    size_t end = answer.find('\n', line_start);
    if (end == std::string_view::npos) end = answer.size();
    std::string_view line = answer.substr(line_start, end - line_start);
    if (split_tsv_line(line).size() != rows[row].size()) fuzz::violated("field count of a row");
    line_start = end + 1;
    ++row;
  }
  for (std::string_view field : split_tsv_line(answer)) unescape_tsv_field(field);
  answer_value(std::string(answer));
  return 0;
}
