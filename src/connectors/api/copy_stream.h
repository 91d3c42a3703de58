// A pull stream of rows in PostgreSQL COPY text framing: fields separated by
// '\t', rows ended by '\n', NULL as \N, backslash escapes (\t \n \r \\ \b \f
// \v and octal/hex). Values inside are the source's canonical text rendering.
// It is the bulk wire between any source and any destination.
// One thread at a time; must not outlive the SnapshotPoint it reads at (if any).
#pragma once
#include <string>
#include <string_view>

namespace ferry {

class CopyStream {
 public:
  virtual ~CopyStream() = default;
  // Appends one or more complete rows to `out` (never a partial row).
  // Returns false at the end of the stream (nothing appended). Throws ferry::Error.
  virtual bool next_chunk(std::string& out) = 0;
};

// Appends `value` with the COPY text escapes of a CopyStream row (\\ \t \n \r).
void append_copy_escaped(std::string& out, std::string_view value);

inline bool is_octal(char c) { return c >= '0' && c <= '7'; }
// 0..15 for a hex digit, -1 otherwise.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The COPY escape at raw[i] == '\\': returns the byte and advances i past it.
// Handles \b \f \n \r \t \v, octal \NNN, hex \xHH, and \c = c.
char decode_copy_escape(std::string_view raw, size_t& i);

// Decodes the COPY text escapes of one field into `out` (cleared first).
void unescape_copy_field(std::string_view raw, std::string& out);

// The field is COPY's NULL marker \N.
inline bool is_copy_null(std::string_view raw) { return raw.size() == 2 && raw[0] == '\\' && raw[1] == 'N'; }

}  // namespace ferry
