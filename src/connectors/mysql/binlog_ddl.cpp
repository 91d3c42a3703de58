#include "connectors/mysql/binlog_ddl.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

namespace ferry::mysql {

namespace {

struct Token {
  enum Kind { Word, Quoted, String, Punct } kind = Word;
  std::string text;  // Word: upper-cased copy in `upper`; Quoted: without backticks
  std::string upper;
};

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::toupper((unsigned char)x) == std::toupper((unsigned char)y); });
}

// Tokens of the statement up to its end (or the first top-level ';'), without comments.
std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0, n = s.size();
  int executable = 0;  // open /*! ... */ comments, whose content is code
  auto is_word = [](char c) { return std::isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80; };
  while (i < n) {
    char c = s[i];
    if (std::isspace((unsigned char)c)) { ++i; continue; }
    if (c == '#' || (c == '-' && i + 1 < n && s[i + 1] == '-' && (i + 2 == n || std::isspace((unsigned char)s[i + 2])))) {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t j = i + 2;
      if (j < n && s[j] == 'M' && j + 1 < n && s[j + 1] == '!') ++j;
      if (j < n && s[j] == '!') {  // executable: /*!50100 code */
        ++j;
        while (j < n && std::isdigit((unsigned char)s[j])) ++j;
        ++executable;
        i = j;
        continue;
      }
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
      continue;
    }
    if (c == '*' && executable > 0 && i + 1 < n && s[i + 1] == '/') {
      --executable;
      i += 2;
      continue;
    }
    if (c == ';') break;
    Token t;
    if (c == '`') {
      t.kind = Token::Quoted;
      ++i;
      while (i < n) {
        if (s[i] == '`') {
          if (i + 1 < n && s[i + 1] == '`') { t.text += '`'; i += 2; continue; }
          ++i;
          break;
        }
        t.text += s[i++];
      }
    } else if (c == '\'' || c == '"') {
      t.kind = Token::String;
      char q = c;
      ++i;
      while (i < n) {
        if (s[i] == '\\' && i + 1 < n) { t.text += s[i + 1]; i += 2; continue; }
        if (s[i] == q) {
          if (i + 1 < n && s[i + 1] == q) { t.text += q; i += 2; continue; }
          ++i;
          break;
        }
        t.text += s[i++];
      }
    } else if (is_word(c)) {
      while (i < n && is_word(s[i])) t.text += s[i++];
    } else {
      t.kind = Token::Punct;
      t.text = std::string(1, c);
      ++i;
    }
    t.upper = t.text;
    if (t.kind == Token::Word)
      for (char& ch : t.upper) ch = char(std::toupper((unsigned char)ch));
    out.push_back(std::move(t));
  }
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view database, const std::vector<std::string>& tables)
      : t_(std::move(tokens)), database_(database), tables_(tables) {}

  bool at_end() const { return pos_ >= t_.size(); }
  // The next token is the keyword `kw`: consumes it.
  bool accept(std::string_view kw) {
    if (at_end() || t_[pos_].kind != Token::Word || t_[pos_].upper != kw) return false;
    ++pos_;
    return true;
  }
  bool accept_punct(char c) {
    if (at_end() || t_[pos_].kind != Token::Punct || t_[pos_].text[0] != c) return false;
    ++pos_;
    return true;
  }
  bool peek(std::string_view kw) const { return !at_end() && t_[pos_].kind == Token::Word && t_[pos_].upper == kw; }
  std::optional<std::string> identifier() {
    if (at_end() || (t_[pos_].kind != Token::Word && t_[pos_].kind != Token::Quoted)) return std::nullopt;
    return t_[pos_++].text;
  }
  // [db.]table, the database defaulting to the statement's.
  std::optional<std::pair<std::string, std::string>> table_name() {
    auto first = identifier();
    if (!first) return std::nullopt;
    if (accept_punct('.')) {
      auto second = identifier();
      if (!second) return std::nullopt;
      return std::make_pair(*first, *second);
    }
    return std::make_pair(std::string(database_), *first);
  }
  // The pipe table named db.table, as the pipe spells it.
  std::optional<std::string> pipe_table(const std::pair<std::string, std::string>& name) const {
    for (const auto& t : tables_) {
      size_t dot = t.find('.');
      if (dot == std::string::npos) continue;
      if (ieq(std::string_view(t).substr(0, dot), name.first) && ieq(std::string_view(t).substr(dot + 1), name.second))
        return t;
    }
    return std::nullopt;
  }
  // Skips to the next top-level ',' (consumed) or the end; false at the end.
  bool next_clause() {
    int depth = 0;
    while (!at_end()) {
      const Token& tok = t_[pos_++];
      if (tok.kind != Token::Punct) continue;
      if (tok.text[0] == '(') ++depth;
      else if (tok.text[0] == ')') --depth;
      else if (tok.text[0] == ',' && depth <= 0) return true;
    }
    return false;
  }
  std::string word_or_name() {
    auto id = identifier();
    return id ? *id : "?";
  }

  DdlEffect classify();

 private:
  DdlEffect alter_table();
  DdlEffect drop();
  DdlEffect rename_tables();

  std::vector<Token> t_;
  size_t pos_ = 0;
  std::string_view database_;
  const std::vector<std::string>& tables_;
};

DdlEffect breaking(const std::string& table, std::string reason) {
  return {DdlEffect::Breaking, table, std::move(reason)};
}

DdlEffect Parser::alter_table() {
  accept("IF") && accept("EXISTS");
  auto name = table_name();
  if (!name) return {};
  auto table = pipe_table(*name);
  if (!table) return {};
  DdlEffect effect{DdlEffect::Unrelated, *table, ""};
  do {
    if (accept("ADD")) {
      if (accept("CONSTRAINT") && !peek("PRIMARY") && !peek("UNIQUE") && !peek("FOREIGN") && !peek("CHECK"))
        identifier();  // the constraint's name
      if (accept("PRIMARY")) return breaking(*table, fmt::format("adds a primary key to {}", *table));
      if (peek("INDEX") || peek("KEY") || peek("UNIQUE") || peek("FULLTEXT") || peek("SPATIAL") || peek("FOREIGN") ||
          peek("CONSTRAINT") || peek("CHECK") || peek("PARTITION") || peek("PERIOD") || peek("SYSTEM"))
        continue;
      effect.kind = DdlEffect::AddColumn;
    } else if (accept("DROP")) {
      if (accept("PRIMARY")) return breaking(*table, fmt::format("drops the primary key of {}", *table));
      if (peek("INDEX") || peek("KEY") || peek("FOREIGN") || peek("CONSTRAINT") || peek("CHECK") ||
          peek("PARTITION") || peek("PERIOD") || peek("SYSTEM"))
        continue;
      accept("COLUMN");
      accept("IF") && accept("EXISTS");
      return breaking(*table, fmt::format("drops column {} of {}", word_or_name(), *table));
    } else if (accept("CHANGE")) {
      accept("COLUMN");
      accept("IF") && accept("EXISTS");
      return breaking(*table, fmt::format("changes column {} of {}", word_or_name(), *table));
    } else if (accept("MODIFY")) {
      accept("COLUMN");
      accept("IF") && accept("EXISTS");
      return breaking(*table, fmt::format("modifies column {} of {}", word_or_name(), *table));
    } else if (accept("RENAME")) {
      if (accept("COLUMN")) return breaking(*table, fmt::format("renames column {} of {}", word_or_name(), *table));
      if (peek("INDEX") || peek("KEY")) continue;
      return breaking(*table, fmt::format("renames table {}", *table));
    }
    // ALTER COLUMN .. SET/DROP DEFAULT, ENGINE=, COMMENT=, FORCE, ALGORITHM=, ...: rows read the same.
  } while (next_clause());
  return effect;
}

DdlEffect Parser::drop() {
  if (accept("DATABASE") || accept("SCHEMA")) {
    accept("IF") && accept("EXISTS");
    auto db = identifier();
    if (!db) return {};
    for (const auto& t : tables_)
      if (ieq(std::string_view(t).substr(0, t.find('.')), *db))
        return breaking(t, fmt::format("drops database {} with table {}", *db, t));
    return {};
  }
  if (accept("TEMPORARY")) return {};  // a session's temporary table is not a pipe table
  if (!accept("TABLE") && !accept("TABLES")) return {};
  accept("IF") && accept("EXISTS");
  do {
    auto name = table_name();
    if (!name) return {};
    if (auto table = pipe_table(*name)) return breaking(*table, fmt::format("drops table {}", *table));
  } while (accept_punct(','));
  return {};
}

DdlEffect Parser::rename_tables() {
  if (!accept("TABLE") && !accept("TABLES")) return {};
  do {
    auto from = table_name();
    if (!from) return {};
    accept("WAIT") || accept("NOWAIT");
    if (!accept("TO")) return {};
    auto to = table_name();
    if (!to) return {};
    if (auto table = pipe_table(*from)) return breaking(*table, fmt::format("renames table {}", *table));
    if (auto table = pipe_table(*to)) return breaking(*table, fmt::format("replaces table {} by a renamed one", *table));
  } while (accept_punct(','));
  return {};
}

DdlEffect Parser::classify() {
  if (accept("ALTER")) {
    accept("ONLINE");
    accept("IGNORE");
    if (!accept("TABLE")) return {};
    return alter_table();
  }
  if (accept("DROP")) return drop();
  if (accept("RENAME")) return rename_tables();
  if (accept("TRUNCATE")) {
    accept("TABLE");
    auto name = table_name();
    if (!name) return {};
    if (auto table = pipe_table(*name)) return {DdlEffect::Truncate, *table, ""};
    return {};
  }
  // Row changes logged as statements (binlog_format STATEMENT or MIXED in some session):
  // the stream would miss them.
  std::optional<std::pair<std::string, std::string>> dml;
  if (accept("INSERT") || accept("REPLACE")) {
    while (accept("LOW_PRIORITY") || accept("DELAYED") || accept("HIGH_PRIORITY") || accept("IGNORE")) {
    }
    accept("INTO");
    dml = table_name();
  } else if (accept("UPDATE")) {
    while (accept("LOW_PRIORITY") || accept("IGNORE")) {
    }
    dml = table_name();
  } else if (accept("DELETE")) {
    while (accept("LOW_PRIORITY") || accept("QUICK") || accept("IGNORE")) {
    }
    if (accept("FROM")) dml = table_name();
  }
  if (dml) {
    if (auto table = pipe_table(*dml))
      return breaking(*table, fmt::format("changes rows of {} in statement form, which a change stream cannot read "
                                          "(set binlog_format=ROW, also for every session)",
                                          *table));
    return {};
  }
  if (accept("CREATE")) {
    bool replace = accept("OR") && accept("REPLACE");
    if (accept("TEMPORARY") || !accept("TABLE")) return {};
    accept("IF") && accept("NOT") && accept("EXISTS");
    auto name = table_name();
    if (!name) return {};
    if (auto table = pipe_table(*name); table && replace)
      return breaking(*table, fmt::format("replaces table {}", *table));
    return {};
  }
  return {};
}

}  // namespace

DdlEffect classify_ddl(std::string_view sql, std::string_view database, const std::vector<std::string>& tables) {
  Parser p(tokenize(sql), database, tables);
  return p.classify();
}

}  // namespace ferry::mysql
