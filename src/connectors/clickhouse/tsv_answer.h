// Reading ClickHouse's TabSeparated answers: the one decoder of the escapes ClickHouse
// writes into a TSV field. Pure functions, thread-safe, no errors thrown.
//
// ClickHouse escapes \b \f \n \r \t, NUL as \0, the backslash as \\ and the single quote
// as \' (writeEscapedString); NULL is the whole field \N. These are NOT PostgreSQL COPY
// escapes: "\012" is NUL followed by "12", never an octal byte.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ferry::clickhouse {

// True when a still escaped field is NULL.
inline bool is_tsv_null(std::string_view field) { return field == "\\N"; }

// Decodes one escaped field into `out` (cleared first). Besides the escapes above, \a, \v
// and \e are decoded as ClickHouse's parser does; any other escaped character stands for
// itself, and a lone backslash at the end is kept. A NULL field decodes to "N": test
// is_tsv_null first.
void unescape_tsv_field(std::string_view field, std::string& out);
std::string unescape_tsv_field(std::string_view field);

// The still escaped fields of one line (without its '\n'), split at its tabs.
std::vector<std::string_view> split_tsv_line(std::string_view line);

// A TabSeparated answer as rows of decoded fields; a NULL field stays "\N" (so a row can
// say NULL where callers expect text). Every line, also an empty one, is a row; the final
// line end ends the last row.
std::vector<std::vector<std::string>> tsv_rows(std::string_view answer);

// A one-value answer without its line end.
std::string answer_value(std::string answer);

}  // namespace ferry::clickhouse
